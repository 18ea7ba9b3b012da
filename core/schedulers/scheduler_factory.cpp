#include "schedulers/scheduler_factory.h"

#include "schedulers/ddim_scheduler.h"
#include "schedulers/ddpm_scheduler.h"
#include "schedulers/dpm_solver_multistep_scheduler.h"
#include "schedulers/euler_ancestral_discrete_scheduler.h"
#include "schedulers/euler_discrete_scheduler.h"
#include "schedulers/lms_discrete_scheduler.h"
#include "schedulers/pndm_scheduler.h"
#include "schedulers/unipc_multistep_scheduler.h"

namespace kiln::schedulers {

std::unique_ptr<Scheduler> make_scheduler(SchedulerKind kind, const SchedulerConfig& config) {
  switch (kind) {
    case SchedulerKind::DDPM:
      return std::make_unique<DDPMScheduler>(config);
    case SchedulerKind::DDIM:
      return std::make_unique<DDIMScheduler>(config);
    case SchedulerKind::PNDM:
      return std::make_unique<PNDMScheduler>(config);
    case SchedulerKind::LMS:
      return std::make_unique<LMSDiscreteScheduler>(config);
    case SchedulerKind::Euler:
      return std::make_unique<EulerDiscreteScheduler>(config);
    case SchedulerKind::EulerAncestral:
      return std::make_unique<EulerAncestralDiscreteScheduler>(config);
    case SchedulerKind::DPMPP2M:
      return std::make_unique<DPMSolverMultistepScheduler>(config, false);
    case SchedulerKind::DPMPP2MKarras:
      return std::make_unique<DPMSolverMultistepScheduler>(config, true);
    case SchedulerKind::UniPC:
      return std::make_unique<UniPCMultistepScheduler>(config);
  }
  return nullptr;
}

}  // namespace kiln::schedulers
