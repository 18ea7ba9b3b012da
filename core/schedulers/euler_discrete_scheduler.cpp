#include "schedulers/euler_discrete_scheduler.h"

#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

EulerDiscreteScheduler::EulerDiscreteScheduler(SchedulerConfig config, bool trailing)
    : KSigmaScheduler(with_spacing(std::move(config), trailing), TimestepSpacing::Linspace), trailing_(trailing) {}

Scheduler::Schedule EulerDiscreteScheduler::make_schedule(std::int64_t steps) {
  const std::vector<float> t =
      noise::sigma_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  const std::vector<double> td(t.begin(), t.end());
  return {torch::tensor(t, torch::kFloat), noise::interp_sigmas(td, noise::train_sigmas(alphas_cumprod()), 0.0)};
}

// Scalars are float32 (0-dim tensors of sigmas in diffusers); the sample is upcast to float32.
StepOutput EulerDiscreteScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                           const torch::Tensor& sample_in, at::Generator* /*generator*/) {
  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const float sigma = sigma_at(k);
  const float sigma_hat = sigma;  // s_churn = 0: gamma = 0
  torch::Tensor x0;
  switch (config_.prediction_type) {
    case PredictionType::Epsilon:
      x0 = sample - sigma_hat * model_output;
      break;
    case PredictionType::Sample:
      x0 = model_output;
      break;
    case PredictionType::VPrediction:
      // c_out = -sigma / sqrt(sigma^2 + 1), c_skip = 1 / (sigma^2 + 1)
      x0 = model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + (sample / (sigma * sigma + 1));
      break;
  }
  const torch::Tensor derivative = (sample - x0) / sigma_hat;
  const float dt = sigma_at(k + 1) - sigma_hat;
  const torch::Tensor prev = sample + derivative * dt;
  return {prev.to(model_output.scalar_type()), x0};
}

}  // namespace kiln::schedulers
