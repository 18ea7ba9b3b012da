#include "schedulers/ddim_scheduler.h"

#include <cmath>
#include <string>

#include "base/error.h"
#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

DDIMScheduler::DDIMScheduler(SchedulerConfig config)
    : Scheduler(std::move(config), TimestepSpacing::Leading),
      // The "previous" alpha of the last step: 1, or (SD's configs) alphas_cumprod[0].
      final_alpha_cumprod_(config_.set_alpha_to_one.value_or(true) ? 1.0f : alpha_cumprod_at(0)),
      clip_sample_(config_.clip_sample.value_or(true)) {}

void DDIMScheduler::set_eta(double eta) {
  if (!(eta >= 0.0 && eta <= 1.0)) {
    throw InvalidRequestError("eta " + std::to_string(eta) + " is out of range 0..1");
  }
  eta_ = eta;
}

Scheduler::Schedule DDIMScheduler::make_schedule(std::int64_t steps) {
  const auto t = noise::step_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  return {torch::tensor(t, torch::kLong), {}};
}

// Formula (12) of the DDIM paper; scalars in float32 as diffusers.
StepOutput DDIMScheduler::do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                                  at::Generator* generator) {
  const std::int64_t t = int_timestep(k);
  const std::int64_t prev_t = t - config_.num_train_timesteps / num_inference_steps();
  const float alpha_prod_t = alpha_cumprod_at(t);
  const float alpha_prod_t_prev = prev_t >= 0 ? alpha_cumprod_at(prev_t) : final_alpha_cumprod_;
  const float beta_prod_t = 1 - alpha_prod_t;

  torch::Tensor x0;
  torch::Tensor pred_epsilon;
  switch (config_.prediction_type) {
    case PredictionType::Epsilon:
      x0 = (sample - std::sqrt(beta_prod_t) * model_output) / std::sqrt(alpha_prod_t);
      pred_epsilon = model_output;
      break;
    case PredictionType::Sample:
      x0 = model_output;
      pred_epsilon = (sample - std::sqrt(alpha_prod_t) * x0) / std::sqrt(beta_prod_t);
      break;
    case PredictionType::VPrediction:
      x0 = std::sqrt(alpha_prod_t) * sample - std::sqrt(beta_prod_t) * model_output;
      pred_epsilon = std::sqrt(alpha_prod_t) * model_output + std::sqrt(beta_prod_t) * sample;
      break;
  }
  if (clip_sample_) x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);

  const float beta_prod_t_prev = 1 - alpha_prod_t_prev;
  const float variance = (beta_prod_t_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_t_prev);
  const float std_dev_t = static_cast<float>(eta_) * std::sqrt(variance);
  const torch::Tensor direction = std::sqrt(1 - alpha_prod_t_prev - std_dev_t * std_dev_t) * pred_epsilon;
  torch::Tensor prev = std::sqrt(alpha_prod_t_prev) * x0 + direction;
  if (eta_ > 0) prev = prev + std_dev_t * randn_like(model_output, generator);
  return {prev, x0};
}

}  // namespace kiln::schedulers
