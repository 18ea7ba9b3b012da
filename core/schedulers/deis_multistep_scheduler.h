#pragma once
// diffusers' DEISMultistepScheduler (algorithm deis, solver_type logrho, lower_order_final):
// a multistep exponential integrator on the noise prediction, order 2 by default (3 possible),
// first order at the start and, below 15 steps, lowered again at the end. The final sigma is the
// smallest training sigma (0.0292 for SD), not 0; with Karras sigmas the last one is repeated, so
// the last step returns its input.

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class DEISMultistepScheduler : public Scheduler {
 public:
  // Class default: linspace spacing rounded to integers. `karras`: Karras sigmas over the train
  // range, timesteps mapped back. solver_order 1..3.
  DEISMultistepScheduler(SchedulerConfig config, bool karras, int solver_order = 2);
  SchedulerKind kind() const override { return karras_ ? SchedulerKind::DEISKarras : SchedulerKind::DEIS; }
  int solver_order() const { return solver_order_; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;
  torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const override;

 private:
  bool karras_;
  int solver_order_;
  torch::Tensor model_outputs_[3];  // noise predictions, newest last
  int lower_order_nums_ = 0;
};

}  // namespace kiln::schedulers
