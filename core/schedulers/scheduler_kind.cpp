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

SchedulerKind parse_scheduler_name(std::string_view name) {
  const std::string key = normalize(name);
  if (key == "plms") return SchedulerKind::PNDM;
  for (const auto& n : kNames) {
    if (key == n.id || key == normalize(n.display) ||
        (!n.diffusers_class.empty() && key == normalize(n.diffusers_class))) {
      return n.kind;
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
