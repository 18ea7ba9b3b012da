#pragma once
// diffusers' PNDMScheduler with skip_prk_steps (PLMS, Liu et al. 2022): a linear multistep method
// on the model outputs. The second timestep is repeated (steps + 1 model calls): the first two
// calls make one second-order (Heun-like) step.

#include <vector>

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class PNDMScheduler : public Scheduler {
 public:
  // Class defaults: leading spacing, set_alpha_to_one false. Epsilon and v_prediction only.
  explicit PNDMScheduler(SchedulerConfig config);
  SchedulerKind kind() const override { return SchedulerKind::PNDM; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  torch::Tensor prev_sample(const torch::Tensor& sample, std::int64_t t, std::int64_t prev_t,
                            const torch::Tensor& model_output) const;

  float final_alpha_cumprod_;
  std::vector<torch::Tensor> ets_;  // the last (up to 4) model outputs
  std::int64_t counter_ = 0;        // steps taken since set_timesteps
  torch::Tensor cur_sample_;        // the sample before the first (repeated-timestep) step
};

}  // namespace kiln::schedulers
