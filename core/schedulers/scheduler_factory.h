#pragma once
// Builds the scheduler of a kind for a model's noise schedule.

#include <memory>

#include "schedulers/scheduler.h"
#include "schedulers/scheduler_config.h"
#include "schedulers/scheduler_kind.h"

namespace kiln::schedulers {

// Throws kiln::InvalidRequestError when the algorithm cannot run the config's prediction type
// (PLMS and Euler a have no "sample" prediction, as in diffusers).
std::unique_ptr<Scheduler> make_scheduler(SchedulerKind kind, const SchedulerConfig& config);

}  // namespace kiln::schedulers
