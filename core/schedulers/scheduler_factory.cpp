#include "schedulers/scheduler_factory.h"

#include "schedulers/ddim_scheduler.h"
#include "schedulers/ddpm_scheduler.h"
#include "schedulers/deis_multistep_scheduler.h"
#include "schedulers/dpm_solver_multistep_scheduler.h"
#include "schedulers/dpm_solver_singlestep_scheduler.h"
#include "schedulers/euler_ancestral_discrete_scheduler.h"
#include "schedulers/euler_discrete_scheduler.h"
#include "schedulers/heun_discrete_scheduler.h"
#include "schedulers/kdpm2_discrete_scheduler.h"
#include "schedulers/lcm_scheduler.h"
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
    case SchedulerKind::EulerTrailing:
      return std::make_unique<EulerDiscreteScheduler>(config, true);
    case SchedulerKind::EulerAncestralTrailing:
      return std::make_unique<EulerAncestralDiscreteScheduler>(config, true);
    case SchedulerKind::Heun:
    case SchedulerKind::HeunKarras:
      return std::make_unique<HeunDiscreteScheduler>(config, kind == SchedulerKind::HeunKarras);
    case SchedulerKind::DPM2:
    case SchedulerKind::DPM2Karras:
      return std::make_unique<KDPM2DiscreteScheduler>(config, kind == SchedulerKind::DPM2Karras, false);
    case SchedulerKind::DPM2Ancestral:
    case SchedulerKind::DPM2AncestralKarras:
      return std::make_unique<KDPM2DiscreteScheduler>(config, kind == SchedulerKind::DPM2AncestralKarras, true);
    case SchedulerKind::DPMPP2MSDE:
    case SchedulerKind::DPMPP2MSDEKarras:
      return std::make_unique<DPMSolverMultistepScheduler>(config, kind == SchedulerKind::DPMPP2MSDEKarras, true);
    case SchedulerKind::DPMPP2S:
    case SchedulerKind::DPMPP2SKarras:
      return std::make_unique<DPMSolverSinglestepScheduler>(config, kind == SchedulerKind::DPMPP2SKarras, false);
    case SchedulerKind::DPMPP2SSDE:
      return std::make_unique<DPMSolverSinglestepScheduler>(config, false, true);
    case SchedulerKind::DEIS:
    case SchedulerKind::DEISKarras:
      return std::make_unique<DEISMultistepScheduler>(config, kind == SchedulerKind::DEISKarras);
    case SchedulerKind::LCM:
      return std::make_unique<LCMScheduler>(config);
    case SchedulerKind::TCD:
      return std::make_unique<TCDScheduler>(config);
  }
  return nullptr;
}

}  // namespace kiln::schedulers
