#pragma once
// diffusers' EulerDiscreteScheduler (Algorithm 2 of Karras et al. 2022 with s_churn = 0): the
// Euler method on the probability-flow ODE in sigma. Deterministic.

#include "schedulers/k_sigma_scheduler.h"

namespace kiln::schedulers {

class EulerDiscreteScheduler : public KSigmaScheduler {
 public:
  // Class default: linspace spacing (float timesteps 999.0 ... 0.0).
  // `trailing`: timestep_spacing "trailing" whatever the config says (SD-Turbo: 1-4 steps from t 999).
  explicit EulerDiscreteScheduler(SchedulerConfig config, bool trailing = false);
  SchedulerKind kind() const override { return trailing_ ? SchedulerKind::EulerTrailing : SchedulerKind::Euler; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  bool trailing_;
};

}  // namespace kiln::schedulers
