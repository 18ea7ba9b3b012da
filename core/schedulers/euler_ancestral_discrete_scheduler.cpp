#include "schedulers/euler_ancestral_discrete_scheduler.h"

#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

EulerAncestralDiscreteScheduler::EulerAncestralDiscreteScheduler(SchedulerConfig config, bool trailing)
    : KSigmaScheduler(with_spacing(std::move(config), trailing), TimestepSpacing::Linspace), trailing_(trailing) {
  require_prediction(config_.prediction_type != PredictionType::Sample, "Euler a");
}

Scheduler::Schedule EulerAncestralDiscreteScheduler::make_schedule(std::int64_t steps) {
  const std::vector<float> t =
      noise::sigma_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  const std::vector<double> td(t.begin(), t.end());
  return {torch::tensor(t, torch::kFloat), noise::interp_sigmas(td, noise::train_sigmas(alphas_cumprod()), 0.0)};
}

// Scalars are float32 (0-dim tensors of sigmas in diffusers); the sample is upcast to float32.
StepOutput EulerAncestralDiscreteScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                                    const torch::Tensor& sample_in, at::Generator* generator) {
  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const float sigma = sigma_at(k);
  torch::Tensor x0;
  if (config_.prediction_type == PredictionType::VPrediction) {
    x0 = model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + (sample / (sigma * sigma + 1));
  } else {
    x0 = sample - sigma * model_output;
  }
  const float sigma_from = sigma;
  const float sigma_to = sigma_at(k + 1);
  const float sigma_up =
      std::sqrt(sigma_to * sigma_to * (sigma_from * sigma_from - sigma_to * sigma_to) / (sigma_from * sigma_from));
  const float sigma_down = std::sqrt(sigma_to * sigma_to - sigma_up * sigma_up);
  const torch::Tensor derivative = (sample - x0) / sigma;
  const float dt = sigma_down - sigma;
  torch::Tensor prev = sample + derivative * dt;
  // diffusers draws on every step, the last one (sigma_up = 0) included.
  const torch::Tensor noise = randn_like(model_output, generator);
  prev = prev + noise * sigma_up;
  return {prev.to(model_output.scalar_type()), x0};
}

}  // namespace kiln::schedulers
