#pragma once
// diffusers' DDIMScheduler (Song et al. 2020): deterministic for eta = 0 (the pipelines'
// default); eta > 0 adds eta * sigma_t of fresh noise per step.

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class DDIMScheduler : public Scheduler {
 public:
  // Class defaults: leading spacing, set_alpha_to_one true, clip_sample true.
  explicit DDIMScheduler(SchedulerConfig config);
  SchedulerKind kind() const override { return SchedulerKind::DDIM; }

  // The pipelines' `eta` (0 = DDIM, 1 = DDPM-like variance). Throws outside [0, 1].
  void set_eta(double eta);
  double eta() const { return eta_; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  float final_alpha_cumprod_;
  bool clip_sample_;
  double eta_ = 0.0;
};

}  // namespace kiln::schedulers
