#pragma once
// diffusers' UniPCMultistepScheduler (Zhao et al. 2023) as AUTOMATIC1111's "UniPC": solver_type
// bh2, predict_x0, solver_order 2, lower_order_final, final_sigmas_type zero. Each step first
// corrects the previous prediction with the new model output (UniC; not on the first step), then
// predicts the next sample (UniP).

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class UniPCMultistepScheduler : public Scheduler {
 public:
  // Class default: linspace spacing rounded to integers.
  explicit UniPCMultistepScheduler(SchedulerConfig config);
  SchedulerKind kind() const override { return SchedulerKind::UniPC; }

  static constexpr std::int64_t kSolverOrder = 2;

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;
  torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const override;

 private:
  torch::Tensor predict(const torch::Tensor& sample, std::int64_t k, std::int64_t order) const;
  torch::Tensor correct(const torch::Tensor& this_model_output, const torch::Tensor& last_sample, std::int64_t k,
                        std::int64_t order) const;

  torch::Tensor model_outputs_[kSolverOrder];  // converted x0 predictions, newest last
  std::int64_t lower_order_nums_ = 0;
  std::int64_t this_order_ = 0;  // the order of the last prediction (used by the next correction)
  torch::Tensor last_sample_;    // the sample the last prediction started from
};

}  // namespace kiln::schedulers
