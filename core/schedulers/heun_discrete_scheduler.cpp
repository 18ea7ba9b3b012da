#include "schedulers/heun_discrete_scheduler.h"

#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

namespace {

// x0 from the model output at `sigma` (float32 scalars, as diffusers' 0-dim sigma tensors).
torch::Tensor k_x0(PredictionType type, const torch::Tensor& model_output, const torch::Tensor& sample, float sigma) {
  if (type == PredictionType::VPrediction)
    return model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + (sample / (sigma * sigma + 1));
  return sample - sigma * model_output;
}

}  // namespace

HeunDiscreteScheduler::HeunDiscreteScheduler(SchedulerConfig config, bool karras)
    : KSigmaScheduler(std::move(config), TimestepSpacing::Linspace), karras_(karras) {
  require_prediction(config_.prediction_type != PredictionType::Sample, "Heun");
}

Scheduler::Schedule HeunDiscreteScheduler::make_schedule(std::int64_t steps) {
  prev_derivative_ = torch::Tensor();
  prev_sample_ = torch::Tensor();
  dt_ = 0;
  first_order_ = true;
  const noise::KSchedule ks =
      noise::k_schedule(config_, timestep_spacing(), alphas_cumprod(), steps, karras_, /*round_karras=*/false);
  std::vector<double> t{ks.timesteps.front()};
  std::vector<float> sigmas{static_cast<float>(ks.sigmas.front())};
  for (std::size_t i = 1; i < ks.timesteps.size(); ++i) {
    t.insert(t.end(), 2, ks.timesteps[i]);
    sigmas.insert(sigmas.end(), 2, static_cast<float>(ks.sigmas[i]));
  }
  sigmas.push_back(0.0f);
  // Karras timesteps stay float64 in diffusers; the others are float32 values.
  return {torch::tensor(t, torch::kDouble).to(karras_ ? torch::kDouble : torch::kFloat),
          torch::tensor(sigmas, torch::kFloat)};
}

StepOutput HeunDiscreteScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                          const torch::Tensor& sample_in, at::Generator* /*generator*/) {
  const torch::Tensor sample = sample_in.to(torch::kFloat);
  torch::Tensor x0;
  torch::Tensor prev;
  if (first_order_) {
    const float sigma = sigma_at(k);
    const float sigma_next = sigma_at(k + 1);
    x0 = k_x0(config_.prediction_type, model_output, sample, sigma);
    prev_derivative_ = (sample - x0) / sigma;
    dt_ = sigma_next - sigma;
    prev_sample_ = sample;
    prev = sample + prev_derivative_ * dt_;
    first_order_ = false;
  } else {
    // The model was evaluated on the predictor, at sigmas[k] (the step's target sigma).
    const float sigma_next = sigma_at(k);
    x0 = k_x0(config_.prediction_type, model_output, sample, sigma_next);
    const torch::Tensor derivative = ((sample - x0) / sigma_next + prev_derivative_) / 2;
    prev = prev_sample_ + derivative * dt_;
    prev_derivative_ = torch::Tensor();
    prev_sample_ = torch::Tensor();
    first_order_ = true;
  }
  return {prev.to(model_output.scalar_type()), x0};
}

}  // namespace kiln::schedulers
