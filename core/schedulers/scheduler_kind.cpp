#include "schedulers/scheduler_kind.h"

#include <cctype>

#include "base/error.h"

namespace kiln::schedulers {

namespace {

struct KindNames {
  SchedulerKind kind;
  std::string_view id;
  std::string_view display;
  std::string_view diffusers_class;
};

constexpr KindNames kNames[] = {
    {SchedulerKind::DDPM, "ddpm", "DDPM", "DDPMScheduler"},
    {SchedulerKind::DDIM, "ddim", "DDIM", "DDIMScheduler"},
    {SchedulerKind::PNDM, "pndm", "PLMS", "PNDMScheduler"},
    {SchedulerKind::LMS, "lms", "LMS", "LMSDiscreteScheduler"},
    {SchedulerKind::Euler, "euler", "Euler", "EulerDiscreteScheduler"},
    {SchedulerKind::EulerAncestral, "euler_a", "Euler a", "EulerAncestralDiscreteScheduler"},
    {SchedulerKind::DPMPP2M, "dpmpp_2m", "DPM++ 2M", "DPMSolverMultistepScheduler"},
    {SchedulerKind::DPMPP2MKarras, "dpmpp_2m_karras", "DPM++ 2M Karras", ""},
    {SchedulerKind::UniPC, "unipc", "UniPC", "UniPCMultistepScheduler"},
    {SchedulerKind::EulerTrailing, "euler_trailing", "Euler Trailing", ""},
    {SchedulerKind::EulerAncestralTrailing, "euler_a_trailing", "Euler a Trailing", ""},
    {SchedulerKind::Heun, "heun", "Heun", "HeunDiscreteScheduler"},
    {SchedulerKind::HeunKarras, "heun_karras", "Heun Karras", ""},
    {SchedulerKind::DPM2, "dpm2", "DPM2", "KDPM2DiscreteScheduler"},
    {SchedulerKind::DPM2Karras, "dpm2_karras", "DPM2 Karras", ""},
    {SchedulerKind::DPM2Ancestral, "dpm2_a", "DPM2 a", "KDPM2AncestralDiscreteScheduler"},
    {SchedulerKind::DPM2AncestralKarras, "dpm2_a_karras", "DPM2 a Karras", ""},
    {SchedulerKind::DPMPP2MSDE, "dpmpp_2m_sde", "DPM++ 2M SDE", ""},
    {SchedulerKind::DPMPP2MSDEKarras, "dpmpp_2m_sde_karras", "DPM++ 2M SDE Karras", ""},
    {SchedulerKind::DPMPP2S, "dpmpp_2s", "DPM++ 2S", "DPMSolverSinglestepScheduler"},
    {SchedulerKind::DPMPP2SKarras, "dpmpp_2s_karras", "DPM++ 2S Karras", ""},
    {SchedulerKind::DPMPP2SSDE, "dpmpp_2s_sde", "DPM++ 2S SDE", ""},
    {SchedulerKind::DEIS, "deis", "DEIS", "DEISMultistepScheduler"},
    {SchedulerKind::DEISKarras, "deis_karras", "DEIS Karras", ""},
    {SchedulerKind::LCM, "lcm", "LCM", "LCMScheduler"},
    {SchedulerKind::TCD, "tcd", "TCD", "TCDScheduler"},
};

const KindNames& names(SchedulerKind kind) {
  for (const auto& n : kNames) {
    if (n.kind == kind) return n;
  }
  return kNames[0];  // unreachable: every enumerator has a row
}

// Lower case, "++" -> "pp", separators ('-', ' ', '_') -> '_', runs collapsed, ends trimmed.
std::string normalize(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '+' && i + 1 < name.size() && name[i + 1] == '+') {
      out += "pp";
      ++i;
    } else if (c == '-' || c == '_' || c == ' ') {
      if (!out.empty() && out.back() != '_') out += '_';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

std::string_view id(SchedulerKind kind) { return names(kind).id; }

std::string_view display_name(SchedulerKind kind) { return names(kind).display; }

int evaluations_per_step(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::Heun:
    case SchedulerKind::HeunKarras:
    case SchedulerKind::DPM2:
    case SchedulerKind::DPM2Karras:
    case SchedulerKind::DPM2Ancestral:
    case SchedulerKind::DPM2AncestralKarras:
      return 2;
    default:
      return 1;
  }
}

SchedulerKind parse_scheduler_name(std::string_view name) {
  const std::string key = normalize(name);
  if (key == "plms") return SchedulerKind::PNDM;
  // diffusers' variant names of the k-diffusion DPM2 samplers ("kdpm2_a_karras").
  const std::string alias = key.rfind("kdpm2", 0) == 0 ? key.substr(1) : key;
  for (const auto& n : kNames) {
    for (const std::string& k : {key, alias}) {
      if (k == n.id || k == normalize(n.display) || (!n.diffusers_class.empty() && k == normalize(n.diffusers_class))) {
        return n.kind;
      }
    }
  }
  std::string ids;
  std::string displays;
  for (const auto& n : kNames) {
    ids += (ids.empty() ? "" : ", ") + std::string(n.id);
    if (n.kind == SchedulerKind::PNDM) ids += " (plms)";
    displays += (displays.empty() ? "\"" : ", \"") + std::string(n.display) + "\"";
  }
  throw InvalidRequestError("scheduler: unknown name \"" + std::string(name) + "\"",
                            "accepted: " + ids + " or " + displays);
}

}  // namespace kiln::schedulers
