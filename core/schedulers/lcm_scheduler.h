#pragma once
// diffusers' LCMScheduler (Latent Consistency Models, LCM-LoRA) and TCDScheduler (Trajectory
// Consistency Distillation). Both sample a few timesteps of the distillation schedule
// (original_inference_steps, 50 by default: 4 steps 999, 759, 499, 259), ignore the config's
// timestep spacing and leave the UNet input unscaled (init_noise_sigma 1).
//
// LCM: each step forms the consistency estimate c_out x0 + c_skip x and, but at the last step,
// renoises it to the next timestep with fresh noise (one draw per step but the last).
// TCD: each step moves to x_s at s = floor((1 - gamma) prev_t) and, with gamma > 0 and but at the
// last step, renoises from s to prev_t with fresh noise; gamma 0 is deterministic.

#include <optional>

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class LCMScheduler : public Scheduler {
 public:
  // Epsilon, v_prediction and sample. original_inference_steps: the config's (default 50).
  explicit LCMScheduler(SchedulerConfig config);
  SchedulerKind kind() const override { return SchedulerKind::LCM; }

  // set_timesteps' `original_inference_steps` argument (LatentConsistencyModelPipeline passes its
  // own): used by the next set_timesteps instead of the config's; nullopt = the config's.
  void set_original_inference_steps(std::optional<std::int64_t> steps) { original_override_ = steps; }
  // The value the schedule was (or will be) built with.
  std::int64_t original_inference_steps() const;

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  // StepOutput::pred_original_sample is diffusers' `denoised` (the consistency estimate).
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  std::optional<std::int64_t> original_override_;
};

class TCDScheduler : public Scheduler {
 public:
  // gamma: TCD's stochasticity, step()'s `eta` in diffusers (its default there 0.3, the value the
  // TCD authors recommend; StableDiffusionPipeline passes its own eta, 0 unless given).
  explicit TCDScheduler(SchedulerConfig config, double gamma = 0.3);
  SchedulerKind kind() const override { return SchedulerKind::TCD; }
  double gamma() const { return gamma_; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  // StepOutput::pred_original_sample is the x0 estimate; the returned sample at the last step is
  // x_0 = sqrt(acp[0]) x0 + sqrt(1 - acp[0]) eps, not x0 (as diffusers).
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  double gamma_;
};

}  // namespace kiln::schedulers
