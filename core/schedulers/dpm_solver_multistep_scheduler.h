#pragma once
// diffusers' DPMSolverMultistepScheduler as AUTOMATIC1111's "DPM++ 2M" (and "DPM++ 2M Karras"):
// algorithm_type dpmsolver++, solver_order 2, solver_type midpoint, lower_order_final,
// final_sigmas_type zero (the last step returns the denoised estimate).

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class DPMSolverMultistepScheduler : public Scheduler {
 public:
  // Class default: linspace spacing rounded to integers (999, 949, ..., 50 for 20 steps).
  // `karras`: Karras et al. sigmas (rho 7) between the train sigma range, timesteps mapped back.
  DPMSolverMultistepScheduler(SchedulerConfig config, bool karras);
  SchedulerKind kind() const override { return karras_ ? SchedulerKind::DPMPP2MKarras : SchedulerKind::DPMPP2M; }

  static constexpr std::int64_t kSolverOrder = 2;

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;
  torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const override;

 private:
  bool karras_;
  torch::Tensor model_outputs_[kSolverOrder];  // converted x0 predictions, newest last
  std::int64_t lower_order_nums_ = 0;          // steps taken, capped at the solver order
};

}  // namespace kiln::schedulers
