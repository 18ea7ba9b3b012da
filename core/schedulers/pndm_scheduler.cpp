#include "schedulers/pndm_scheduler.h"

#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

PNDMScheduler::PNDMScheduler(SchedulerConfig config)
    : Scheduler(std::move(config), TimestepSpacing::Leading),
      final_alpha_cumprod_(config_.set_alpha_to_one.value_or(false) ? 1.0f : alpha_cumprod_at(0)) {
  require_prediction(config_.prediction_type != PredictionType::Sample, "PLMS (PNDM)");
}

Scheduler::Schedule PNDMScheduler::make_schedule(std::int64_t steps) {
  ets_.clear();
  counter_ = 0;
  cur_sample_ = torch::Tensor();
  // Ascending grid t_0 < ... < t_{S-1}; PLMS runs t_{S-1}, t_{S-2}, t_{S-2}, t_{S-3}, ..., t_0.
  std::vector<std::int64_t> grid =
      noise::step_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  std::reverse(grid.begin(), grid.end());
  std::vector<std::int64_t> plms(grid.begin(), grid.end() - 1);
  if (grid.size() >= 2) plms.push_back(grid[grid.size() - 2]);
  plms.push_back(grid.back());
  std::reverse(plms.begin(), plms.end());
  return {torch::tensor(plms, torch::kLong), {}};
}

StepOutput PNDMScheduler::do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                                  at::Generator* /*generator*/) {
  const std::int64_t ratio = config_.num_train_timesteps / num_inference_steps();
  std::int64_t t = int_timestep(k);
  std::int64_t prev_t = t - ratio;
  if (counter_ != 1) {
    if (ets_.size() > 3) ets_.erase(ets_.begin(), ets_.end() - 3);
    ets_.push_back(model_output);
  } else {
    // The repeated timestep: redo the first step from t with the averaged output.
    prev_t = t;
    t = t + ratio;
  }

  torch::Tensor combined;
  torch::Tensor x = sample;
  const std::size_t n = ets_.size();
  if (n == 1 && counter_ == 0) {
    combined = model_output;
    cur_sample_ = sample;
  } else if (n == 1 && counter_ == 1) {
    combined = (model_output + ets_[n - 1]) / 2;
    x = cur_sample_;
    cur_sample_ = torch::Tensor();
  } else if (n == 2) {
    combined = (3 * ets_[n - 1] - ets_[n - 2]) / 2;
  } else if (n == 3) {
    combined = (23 * ets_[n - 1] - 16 * ets_[n - 2] + 5 * ets_[n - 3]) / 12;
  } else {
    combined = (1.0 / 24) * (55 * ets_[n - 1] - 59 * ets_[n - 2] + 37 * ets_[n - 3] - 9 * ets_[n - 4]);
  }
  torch::Tensor prev = prev_sample(x, t, prev_t, combined);
  ++counter_;
  return {prev, {}};
}

// Formula (9) of the PNDM paper; scalars in float32 as diffusers.
torch::Tensor PNDMScheduler::prev_sample(const torch::Tensor& sample, std::int64_t t, std::int64_t prev_t,
                                         const torch::Tensor& model_output) const {
  const float alpha_prod_t = alpha_cumprod_at(t);
  const float alpha_prod_t_prev = prev_t >= 0 ? alpha_cumprod_at(prev_t) : final_alpha_cumprod_;
  const float beta_prod_t = 1 - alpha_prod_t;
  const float beta_prod_t_prev = 1 - alpha_prod_t_prev;
  torch::Tensor eps = model_output;
  if (config_.prediction_type == PredictionType::VPrediction) {
    eps = std::sqrt(alpha_prod_t) * model_output + std::sqrt(beta_prod_t) * sample;
  }
  const float sample_coeff = std::sqrt(alpha_prod_t_prev / alpha_prod_t);
  const float denom =
      alpha_prod_t * std::sqrt(beta_prod_t_prev) + std::sqrt(alpha_prod_t * beta_prod_t * alpha_prod_t_prev);
  return sample_coeff * sample - (alpha_prod_t_prev - alpha_prod_t) * eps / denom;
}

}  // namespace kiln::schedulers
