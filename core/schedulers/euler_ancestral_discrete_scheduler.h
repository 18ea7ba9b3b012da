#pragma once
// diffusers' EulerAncestralDiscreteScheduler (k-diffusion's sample_euler_ancestral, eta 1): an
// Euler step down to sigma_down, then fresh noise of sigma_up, drawn at every step.

#include "schedulers/k_sigma_scheduler.h"

namespace kiln::schedulers {

class EulerAncestralDiscreteScheduler : public KSigmaScheduler {
 public:
  // Class default: linspace spacing. Epsilon and v_prediction only.
  // `trailing`: timestep_spacing "trailing" whatever the config says (SD-Turbo: 1-4 steps from t 999).
  explicit EulerAncestralDiscreteScheduler(SchedulerConfig config, bool trailing = false);
  SchedulerKind kind() const override {
    return trailing_ ? SchedulerKind::EulerAncestralTrailing : SchedulerKind::EulerAncestral;
  }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  bool trailing_;
};

}  // namespace kiln::schedulers
