#pragma once
// The sampling algorithms Kiln offers, with their ids (diffusers-like, used in settings and on the
// command line) and AUTOMATIC1111 display names (used in PNG parameters). Torch-free.

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::schedulers {

enum class SchedulerKind : std::uint8_t {
  DDPM,            // DDPMScheduler
  DDIM,            // DDIMScheduler
  PNDM,            // PNDMScheduler with skip_prk_steps: PLMS
  LMS,             // LMSDiscreteScheduler
  Euler,           // EulerDiscreteScheduler
  EulerAncestral,  // EulerAncestralDiscreteScheduler
  DPMPP2M,         // DPMSolverMultistepScheduler: dpmsolver++, order 2, midpoint
  DPMPP2MKarras,   // the same with use_karras_sigmas
  UniPC,           // UniPCMultistepScheduler: bh2, predict_x0, order 2
};

inline constexpr SchedulerKind kAllSchedulerKinds[] = {
    SchedulerKind::DDPM,    SchedulerKind::DDIM,          SchedulerKind::PNDM,
    SchedulerKind::LMS,     SchedulerKind::Euler,         SchedulerKind::EulerAncestral,
    SchedulerKind::DPMPP2M, SchedulerKind::DPMPP2MKarras, SchedulerKind::UniPC,
};

// "ddpm", "ddim", "pndm", "lms", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "unipc".
std::string_view id(SchedulerKind kind);
// AUTOMATIC1111's spelling: "DDPM", "DDIM", "PLMS", "LMS", "Euler", "Euler a", "DPM++ 2M",
// "DPM++ 2M Karras", "UniPC".
std::string_view display_name(SchedulerKind kind);

// Accepts every id (and "plms"), every display name and diffusers' class names
// ("EulerDiscreteScheduler", ...; DPMSolverMultistepScheduler means DPM++ 2M), ignoring case,
// with '-', '_' or ' ' as separators and "++" spelled "pp" or not. Throws
// kiln::InvalidRequestError listing the accepted names.
SchedulerKind parse_scheduler_name(std::string_view name);

}  // namespace kiln::schedulers
