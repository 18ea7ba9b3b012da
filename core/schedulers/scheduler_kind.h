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
  // Few-step and AUTOMATIC1111 samplers (issue 23).
  EulerTrailing,           // EulerDiscreteScheduler, timestep_spacing trailing (the sd-turbo scheduler file)
  EulerAncestralTrailing,  // EulerAncestralDiscreteScheduler, trailing: SD-Turbo / SDXL-Turbo
  Heun,                    // HeunDiscreteScheduler (2 model calls per step but the last)
  HeunKarras,              // the same with use_karras_sigmas
  DPM2,                    // KDPM2DiscreteScheduler (2 model calls per step but the last)
  DPM2Karras,              // the same with use_karras_sigmas
  DPM2Ancestral,           // KDPM2AncestralDiscreteScheduler
  DPM2AncestralKarras,     // the same with use_karras_sigmas
  DPMPP2MSDE,              // DPMSolverMultistepScheduler: sde-dpmsolver++, order 2, midpoint
  DPMPP2MSDEKarras,        // the same with use_karras_sigmas
  DPMPP2S,                 // DPMSolverSinglestepScheduler: dpmsolver++, order 2 (deterministic)
  DPMPP2SKarras,           // the same with use_karras_sigmas
  DPMPP2SSDE,              // DPMSolverSinglestepScheduler: sde-dpmsolver++, order 2
  DEIS,                    // DEISMultistepScheduler: logrho, order 2
  DEISKarras,              // the same with use_karras_sigmas
  LCM,                     // LCMScheduler (LCM, LCM-LoRA)
  TCD,                     // TCDScheduler, gamma 0.3
};

// In the order of the sampler lists (GUI, API): AUTOMATIC1111's order first, then the few-step ones.
inline constexpr SchedulerKind kAllSchedulerKinds[] = {
    SchedulerKind::DPMPP2M,
    SchedulerKind::DPMPP2MKarras,
    SchedulerKind::DPMPP2MSDE,
    SchedulerKind::DPMPP2MSDEKarras,
    SchedulerKind::DPMPP2S,
    SchedulerKind::DPMPP2SKarras,
    SchedulerKind::DPMPP2SSDE,
    SchedulerKind::Euler,
    SchedulerKind::EulerAncestral,
    SchedulerKind::LMS,
    SchedulerKind::Heun,
    SchedulerKind::HeunKarras,
    SchedulerKind::DPM2,
    SchedulerKind::DPM2Karras,
    SchedulerKind::DPM2Ancestral,
    SchedulerKind::DPM2AncestralKarras,
    SchedulerKind::DDIM,
    SchedulerKind::PNDM,
    SchedulerKind::UniPC,
    SchedulerKind::DEIS,
    SchedulerKind::DEISKarras,
    SchedulerKind::DDPM,
    SchedulerKind::LCM,
    SchedulerKind::TCD,
    SchedulerKind::EulerAncestralTrailing,
    SchedulerKind::EulerTrailing,
};

// "ddpm", "ddim", "pndm", "lms", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "unipc",
// "euler_trailing", "euler_a_trailing", "heun", "heun_karras", "dpm2", "dpm2_karras", "dpm2_a",
// "dpm2_a_karras", "dpmpp_2m_sde", "dpmpp_2m_sde_karras", "dpmpp_2s", "dpmpp_2s_karras",
// "dpmpp_2s_sde", "deis", "deis_karras", "lcm", "tcd".
std::string_view id(SchedulerKind kind);
// AUTOMATIC1111's spelling: "DDPM", "DDIM", "PLMS", "LMS", "Euler", "Euler a", "DPM++ 2M",
// "DPM++ 2M Karras", "UniPC", "Heun", "DPM2", "DPM2 Karras", "DPM2 a", "DPM2 a Karras",
// "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "DEIS", "LCM", "TCD"; Kiln's names where A1111 has none:
// "Euler Trailing", "Euler a Trailing" (SD-Turbo), "Heun Karras", "DPM++ 2S" (diffusers'
// deterministic single-step solver, not A1111's "DPM++ 2S a"), "DPM++ 2S Karras", "DPM++ 2S SDE",
// "DEIS Karras".
std::string_view display_name(SchedulerKind kind);
// Model evaluations per step: 2 for Heun, DPM2 and DPM2 a (all steps but the last), else 1.
// diffusers' scheduler `order` of those classes.
int evaluations_per_step(SchedulerKind kind);

// Accepts every id (and "plms"; diffusers' "kdpm2", "kdpm2_a" spellings), every display name and diffusers' class names
// ("EulerDiscreteScheduler", ...; DPMSolverMultistepScheduler means DPM++ 2M), ignoring case,
// with '-', '_' or ' ' as separators and "++" spelled "pp" or not. Throws
// kiln::InvalidRequestError listing the accepted names.
SchedulerKind parse_scheduler_name(std::string_view name);

}  // namespace kiln::schedulers
