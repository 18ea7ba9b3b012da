#include "schedulers/lcm_scheduler.h"

#include <cmath>
#include <string>

#include "base/error.h"
#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

namespace {

constexpr std::int64_t kDefaultOriginalSteps = 50;

// x0 and eps from the model output at alphas_cumprod a (float32 scalars).
struct Prediction {
  torch::Tensor x0;
  torch::Tensor eps;
};

Prediction predict(PredictionType type, const torch::Tensor& model_output, const torch::Tensor& sample, float a) {
  const float sa = std::sqrt(a);
  const float sb = std::sqrt(1.0f - a);
  switch (type) {
    case PredictionType::Epsilon:
      return {(sample - sb * model_output) / sa, model_output};
    case PredictionType::Sample:
      return {model_output, (sample - sa * model_output) / sb};
    case PredictionType::VPrediction:
      return {sa * sample - sb * model_output, sa * model_output + sb * sample};
  }
  return {};
}

}  // namespace

LCMScheduler::LCMScheduler(SchedulerConfig config) : Scheduler(std::move(config), TimestepSpacing::Leading) {}

std::int64_t LCMScheduler::original_inference_steps() const {
  return original_override_.value_or(config_.original_inference_steps.value_or(kDefaultOriginalSteps));
}

Scheduler::Schedule LCMScheduler::make_schedule(std::int64_t steps) {
  const std::vector<std::int64_t> t =
      noise::lcm_timesteps(config_.num_train_timesteps, original_inference_steps(), steps);
  return {torch::tensor(t, torch::kLong), torch::Tensor()};
}

StepOutput LCMScheduler::do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample_in,
                                 at::Generator* generator) {
  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const std::int64_t t = int_timestep(k);
  const bool last = k + 1 == num_timesteps();
  // The last step "renoises" to its own timestep, which is never used.
  const std::int64_t prev_t = last ? t : int_timestep(k + 1);
  const float a_t = alpha_cumprod_at(t);
  const float a_prev = alpha_cumprod_at(prev_t);
  // Consistency-model boundary condition (sigma_data 0.5), float32 as diffusers.
  const float scaled = static_cast<float>(t) * static_cast<float>(config_.timestep_scaling);
  const float c_skip = 0.25f / (scaled * scaled + 0.25f);
  const float c_out = scaled / std::sqrt(scaled * scaled + 0.25f);
  const Prediction p = predict(config_.prediction_type, model_output.to(torch::kFloat), sample, a_t);
  const torch::Tensor denoised = c_out * p.x0 + c_skip * sample;
  torch::Tensor prev = denoised;
  if (!last) {
    const torch::Tensor z = randn_like(denoised, generator);
    prev = std::sqrt(a_prev) * denoised + std::sqrt(1.0f - a_prev) * z;
  }
  return {prev.to(model_output.scalar_type()), denoised};
}

TCDScheduler::TCDScheduler(SchedulerConfig config, double gamma)
    : Scheduler(std::move(config), TimestepSpacing::Leading), gamma_(gamma) {
  if (!(gamma >= 0 && gamma <= 1)) {
    throw InvalidRequestError("TCD gamma " + std::to_string(gamma) + " is out of range 0..1");
  }
}

Scheduler::Schedule TCDScheduler::make_schedule(std::int64_t steps) {
  const std::vector<std::int64_t> t = noise::lcm_timesteps(
      config_.num_train_timesteps, config_.original_inference_steps.value_or(kDefaultOriginalSteps), steps);
  return {torch::tensor(t, torch::kLong), torch::Tensor()};
}

StepOutput TCDScheduler::do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample_in,
                                 at::Generator* generator) {
  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const std::int64_t t = int_timestep(k);
  const bool last = k + 1 == num_timesteps();
  const std::int64_t prev_t = last ? 0 : int_timestep(k + 1);
  // (1 - gamma) * prev_t in float32 (a Python float times an int64 tensor), floored.
  const auto s = static_cast<std::int64_t>(std::floor(static_cast<float>(1.0 - gamma_) * static_cast<float>(prev_t)));
  const float a_t = alpha_cumprod_at(t);
  const float a_prev = alpha_cumprod_at(prev_t);
  const float a_s = alpha_cumprod_at(s);
  const Prediction p = predict(config_.prediction_type, model_output.to(torch::kFloat), sample, a_t);
  const torch::Tensor x_s = std::sqrt(a_s) * p.x0 + std::sqrt(1.0f - a_s) * p.eps;
  torch::Tensor prev = x_s;
  if (gamma_ > 0 && !last) {
    const torch::Tensor z = randn_like(x_s, generator);
    const float ratio = a_prev / a_s;
    prev = std::sqrt(ratio) * x_s + std::sqrt(1.0f - ratio) * z;
  }
  return {prev.to(model_output.scalar_type()), p.x0};
}

}  // namespace kiln::schedulers
