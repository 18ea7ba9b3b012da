#include "training/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "base/error.h"

namespace kiln::training {

std::string_view to_string(LRScheduleKind kind) {
  switch (kind) {
    case LRScheduleKind::Constant: return "constant";
    case LRScheduleKind::ConstantWithWarmup: return "constant_with_warmup";
    case LRScheduleKind::Linear: return "linear";
    case LRScheduleKind::Cosine: return "cosine";
  }
  return "linear";
}

LRScheduleKind parse_lr_schedule(std::string_view name) {
  for (auto kind : {LRScheduleKind::Constant, LRScheduleKind::ConstantWithWarmup, LRScheduleKind::Linear,
                    LRScheduleKind::Cosine}) {
    if (name == to_string(kind)) return kind;
  }
  throw InvalidRequestError("unknown learning-rate schedule '" + std::string(name) +
                            "'; accepted: constant, constant_with_warmup, linear, cosine");
}

double LRSchedule::factor(std::int64_t step) const {
  const auto s = static_cast<double>(step);
  const auto warmup = static_cast<double>(warmup_steps);
  const auto total = static_cast<double>(total_steps);
  if (kind == LRScheduleKind::Constant) return 1.0;
  if (step < warmup_steps) return s / std::max(1.0, warmup);
  switch (kind) {
    case LRScheduleKind::ConstantWithWarmup: return 1.0;
    case LRScheduleKind::Linear: return std::max(0.0, (total - s) / std::max(1.0, total - warmup));
    case LRScheduleKind::Cosine: {
      // transformers' get_cosine_schedule_with_warmup with num_cycles 0.5.
      const double progress = (s - warmup) / std::max(1.0, total - warmup);
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
    }
    case LRScheduleKind::Constant: break;
  }
  return 1.0;
}

}  // namespace kiln::training
