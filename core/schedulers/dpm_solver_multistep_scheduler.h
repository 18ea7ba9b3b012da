#pragma once
// diffusers' DPMSolverMultistepScheduler as AUTOMATIC1111's "DPM++ 2M" (and "DPM++ 2M Karras"):
// algorithm_type dpmsolver++, solver_order 2, solver_type midpoint, lower_order_final,
// final_sigmas_type zero (the last step returns the denoised estimate). With `sde`,
// algorithm_type sde-dpmsolver++ ("DPM++ 2M SDE"): the same orders plus fresh noise of
// sigma_t sqrt(1 - e^-2h), drawn on every step (the last one included, where it is multiplied by 0)
// before the order is chosen, as diffusers draws it (not k-diffusion's Brownian tree).

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class DPMSolverMultistepScheduler : public Scheduler {
 public:
  // Class default: linspace spacing rounded to integers (999, 949, ..., 50 for 20 steps).
  // `karras`: Karras et al. sigmas (rho 7) between the train sigma range, timesteps mapped back.
  DPMSolverMultistepScheduler(SchedulerConfig config, bool karras, bool sde = false);
  SchedulerKind kind() const override;

  static constexpr std::int64_t kSolverOrder = 2;

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;
  torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const override;

 private:
  bool karras_;
  bool sde_;
  torch::Tensor model_outputs_[kSolverOrder];  // converted x0 predictions, newest last
  std::int64_t lower_order_nums_ = 0;          // steps taken, capped at the solver order
};

}  // namespace kiln::schedulers
