#pragma once
// Learning-rate schedules as diffusers' get_scheduler (transformers' LambdaLR factors): the rate
// of optimizer step k (0-based) is base_lr * factor(k), so the first step runs at the base rate
// (or 0 with a warm-up), and linear decay reaches 0 after `total` steps.

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::training {

enum class LRScheduleKind { Constant, ConstantWithWarmup, Linear, Cosine };

std::string_view to_string(LRScheduleKind kind);  // "constant", "constant_with_warmup", "linear", "cosine"
// Throws InvalidRequestError listing the accepted names.
LRScheduleKind parse_lr_schedule(std::string_view name);

struct LRSchedule {
  LRScheduleKind kind = LRScheduleKind::Linear;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;

  double factor(std::int64_t step) const;
};

}  // namespace kiln::training
