#pragma once
// diffusers' HeunDiscreteScheduler (k-diffusion's sample_heun, s_churn 0), AUTOMATIC1111's "Heun":
// every step but the last evaluates the model twice. The schedule is doubled
// (timesteps [t0, t1, t1, ..., t_{N-1}, t_{N-1}], 2N - 1 model calls): an even index k makes the
// Euler predictor to the next sigma, the odd index after it evaluates the model there and
// corrects with the mean of both slopes. The last call is a plain Euler step to sigma 0.

#include "schedulers/k_sigma_scheduler.h"

namespace kiln::schedulers {

class HeunDiscreteScheduler : public KSigmaScheduler {
 public:
  // Class default: linspace spacing. `karras`: Karras sigmas between the smallest and largest
  // schedule sigma, with fractional (float64, not rounded) timesteps. Epsilon and v_prediction.
  HeunDiscreteScheduler(SchedulerConfig config, bool karras);
  SchedulerKind kind() const override { return karras_ ? SchedulerKind::HeunKarras : SchedulerKind::Heun; }
  // diffusers' `order`: img2img starts at t_start * 2.
  std::int64_t order() const override { return 2; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  bool karras_;
  // The predictor step's state (set at even indices, used by the next odd one).
  torch::Tensor prev_derivative_;
  torch::Tensor prev_sample_;
  float dt_ = 0;
  bool first_order_ = true;
};

}  // namespace kiln::schedulers
