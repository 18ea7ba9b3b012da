#include "schedulers/ddpm_scheduler.h"

#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

DDPMScheduler::DDPMScheduler(SchedulerConfig config)
    : Scheduler(std::move(config), TimestepSpacing::Leading), clip_sample_(config_.clip_sample.value_or(true)) {}

Scheduler::Schedule DDPMScheduler::make_schedule(std::int64_t steps) {
  const auto t = noise::step_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  return {torch::tensor(t, torch::kLong), {}};
}

// Scalars are float32 as diffusers computes them (0-dim tensors of alphas_cumprod).
StepOutput DDPMScheduler::do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                                  at::Generator* generator) {
  const std::int64_t t = int_timestep(k);
  const std::int64_t prev_t = t - config_.num_train_timesteps / num_inference_steps();
  const float alpha_prod_t = alpha_cumprod_at(t);
  const float alpha_prod_t_prev = prev_t >= 0 ? alpha_cumprod_at(prev_t) : 1.0f;
  const float beta_prod_t = 1 - alpha_prod_t;
  const float beta_prod_t_prev = 1 - alpha_prod_t_prev;
  const float current_alpha_t = alpha_prod_t / alpha_prod_t_prev;
  const float current_beta_t = 1 - current_alpha_t;

  torch::Tensor x0;
  switch (config_.prediction_type) {
    case PredictionType::Epsilon:
      x0 = (sample - std::sqrt(beta_prod_t) * model_output) / std::sqrt(alpha_prod_t);
      break;
    case PredictionType::Sample:
      x0 = model_output;
      break;
    case PredictionType::VPrediction:
      x0 = std::sqrt(alpha_prod_t) * sample - std::sqrt(beta_prod_t) * model_output;
      break;
  }
  if (clip_sample_) x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);

  // Posterior mean, formula (7) of the DDPM paper.
  const float x0_coeff = (std::sqrt(alpha_prod_t_prev) * current_beta_t) / beta_prod_t;
  const float sample_coeff = std::sqrt(current_alpha_t) * beta_prod_t_prev / beta_prod_t;
  torch::Tensor prev = x0_coeff * x0 + sample_coeff * sample;

  if (t > 0) {
    const torch::Tensor noise = randn_like(model_output, generator);
    // Posterior variance, formula (6); clamped so that its log stays finite.
    const float variance = std::max((1 - alpha_prod_t_prev) / (1 - alpha_prod_t) * current_beta_t, 1e-20f);
    float scale = 0;
    switch (config_.variance_type) {
      case VarianceType::FixedSmall:
        scale = std::sqrt(variance);
        break;
      case VarianceType::FixedSmallLog:
        scale = noise::torch_exp(0.5f * noise::torch_log(variance));
        break;
      case VarianceType::FixedLarge:
        scale = std::sqrt(current_beta_t);
        break;
    }
    prev = prev + scale * noise;
  }
  return {prev, x0};
}

}  // namespace kiln::schedulers
