#pragma once
// diffusers' DDPMScheduler (ancestral sampling of Ho et al. 2020): the model's training
// scheduler, and a sampler that draws fresh noise at every step with t > 0.

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class DDPMScheduler : public Scheduler {
 public:
  // Class defaults: leading spacing, clip_sample true.
  explicit DDPMScheduler(SchedulerConfig config);
  SchedulerKind kind() const override { return SchedulerKind::DDPM; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  bool clip_sample_;
};

}  // namespace kiln::schedulers
