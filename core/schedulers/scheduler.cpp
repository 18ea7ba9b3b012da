#include "schedulers/scheduler.h"

#include <string>

#include "base/error.h"
#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

Scheduler::Scheduler(SchedulerConfig config, TimestepSpacing default_spacing)
    : config_(std::move(config)), spacing_(config_.timestep_spacing.value_or(default_spacing)) {
  if (config_.num_train_timesteps < 2) {
    throw InvalidRequestError("num_train_timesteps " + std::to_string(config_.num_train_timesteps) +
                              " is out of range (at least 2)");
  }
  betas_ = noise::betas(config_);
  alphas_cumprod_ = noise::alphas_cumprod(betas_);
  const torch::Tensor acp = alphas_cumprod_.contiguous();
  acp_.assign(acp.data_ptr<float>(), acp.data_ptr<float>() + acp.numel());
}

void Scheduler::set_timesteps(std::int64_t steps) {
  const std::int64_t n = config_.num_train_timesteps;
  if (steps < 1 || steps > n) {
    throw InvalidRequestError("steps " + std::to_string(steps) + " is out of range 1.." + std::to_string(n));
  }
  num_inference_steps_ = 0;  // no schedule until this one is complete
  begin_index_.reset();
  step_index_.reset();
  Schedule s = make_schedule(steps);
  std::vector<double> values = noise::to_doubles(s.timesteps);
  for (const double t : values) {
    // e.g. leading spacing with steps = num_train_timesteps and steps_offset 1 reaches t = N.
    if (!(t >= 0 && t <= static_cast<double>(n - 1))) {
      throw InvalidRequestError("steps " + std::to_string(steps) + " with " + to_string(spacing_) +
                                    " spacing and steps_offset " + std::to_string(config_.steps_offset) +
                                    " gives timestep " + c10::str(t) + ", outside 0.." + std::to_string(n - 1),
                                "use fewer steps or another timestep spacing");
    }
  }
  timesteps_ = std::move(s.timesteps);
  timestep_values_ = std::move(values);
  sigmas_ = std::move(s.sigmas);
  sigma_values_.clear();
  if (sigmas_.defined()) {
    const torch::Tensor c = sigmas_.contiguous();
    sigma_values_.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  num_inference_steps_ = steps;
  init_noise_sigma_ = compute_init_noise_sigma();
}

void Scheduler::require_timesteps(const char* what) const {
  if (!has_timesteps()) {
    throw InvalidRequestError(std::string("scheduler: ") + what + " before set_timesteps",
                              "call set_timesteps(steps) first");
  }
}

void Scheduler::check_index(std::int64_t k, const char* what) const {
  require_timesteps(what);
  if (k < 0 || k >= num_timesteps()) {
    throw InvalidRequestError(std::string("scheduler: ") + what + " index " + std::to_string(k) +
                              " is out of range 0.." + std::to_string(num_timesteps() - 1));
  }
}

std::int64_t Scheduler::num_timesteps() const { return static_cast<std::int64_t>(timestep_values_.size()); }

const torch::Tensor& Scheduler::timesteps() const {
  require_timesteps("timesteps()");
  return timesteps_;
}

std::vector<double> Scheduler::timestep_values() const {
  require_timesteps("timestep_values()");
  return timestep_values_;
}

double Scheduler::timestep(std::int64_t k) const {
  check_index(k, "timestep");
  return timestep_values_[static_cast<std::size_t>(k)];
}

std::int64_t Scheduler::int_timestep(std::int64_t k) const {
  return static_cast<std::int64_t>(timestep_values_[static_cast<std::size_t>(k)]);
}

const torch::Tensor& Scheduler::sigmas() const {
  require_timesteps("sigmas()");
  return sigmas_;
}

double Scheduler::init_noise_sigma() const {
  require_timesteps("init_noise_sigma()");
  return init_noise_sigma_;
}

void Scheduler::set_begin_index(std::int64_t k) {
  check_index(k, "set_begin_index");
  if (step_index_) {
    throw InvalidRequestError("scheduler: set_begin_index after the first step",
                              "call set_timesteps again to start a new run");
  }
  begin_index_ = k;
}

torch::Tensor Scheduler::scale_model_input(const torch::Tensor& sample, std::int64_t k) const {
  check_index(k, "scale_model_input");
  return do_scale_model_input(sample, k);
}

double Scheduler::model_input_scale(std::int64_t k) const {
  check_index(k, "model_input_scale");
  return do_model_input_scale(k);
}

StepOutput Scheduler::step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                           at::Generator* generator) {
  check_index(k, "step");
  if (!step_index_) {
    if (begin_index_ && *begin_index_ != k) {
      throw InvalidRequestError("scheduler: the first step is at index " + std::to_string(k) +
                                " but the begin index is " + std::to_string(*begin_index_));
    }
  } else if (*step_index_ != k) {
    throw InvalidRequestError(
        "scheduler: step index " + std::to_string(k) + " out of order, expected " + std::to_string(*step_index_),
        "steps run in order; call set_timesteps again to restart");
  }
  if (model_output.sizes() != sample.sizes()) {
    throw InvalidRequestError("scheduler: model output shape " + c10::str(model_output.sizes()) +
                              " differs from the sample shape " + c10::str(sample.sizes()));
  }
  step_index_ = k;
  StepOutput out = do_step(model_output, k, sample, generator);
  step_index_ = k + 1;
  return out;
}

torch::Tensor Scheduler::randn_like(const torch::Tensor& like, at::Generator* generator) {
  const c10::optional<at::Generator> gen = generator ? c10::optional<at::Generator>(*generator) : c10::nullopt;
  return at::randn(like.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat))
      .to(like.device(), like.scalar_type());
}

std::int64_t Scheduler::index_for_timestep(double value) const {
  std::vector<std::int64_t> found;
  for (std::size_t i = 0; i < timestep_values_.size(); ++i) {
    if (timestep_values_[i] == value) found.push_back(static_cast<std::int64_t>(i));
  }
  if (found.empty()) {
    throw InvalidRequestError("scheduler: timestep " + c10::str(value) + " is not in this schedule",
                              "pass a value of timesteps(), or set_begin_index");
  }
  // diffusers takes the second of duplicates so that a start part-way never skips a sigma.
  return found.size() > 1 ? found[1] : found[0];
}

std::vector<std::int64_t> Scheduler::noise_indices(const torch::Tensor& timesteps) const {
  require_timesteps("add_noise");
  const std::vector<double> values = noise::to_doubles(timesteps);
  std::vector<std::int64_t> indices;
  for (const double v : values) {
    if (!begin_index_) {
      indices.push_back(index_for_timestep(v));
    } else if (step_index_) {
      indices.push_back(*step_index_);  // after a step (inpainting): the current level
    } else {
      indices.push_back(*begin_index_);  // before the first step (img2img)
    }
  }
  return indices;
}

torch::Tensor Scheduler::sigma_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                         const torch::Tensor& timesteps, bool variance_preserving) const {
  const std::vector<std::int64_t> indices = noise_indices(timesteps);
  const torch::Tensor sigma = per_item(
      sigmas_.index_select(0, torch::tensor(indices, torch::kLong)).to(original.device(), original.scalar_type()),
      original);
  if (!variance_preserving) return original + noise * sigma;
  const torch::Tensor alpha_t = 1 / (sigma.pow(2) + 1).pow(0.5);
  const torch::Tensor sigma_t = sigma * alpha_t;
  return alpha_t * original + sigma_t * noise;
}

torch::Tensor Scheduler::per_item(const torch::Tensor& values, const torch::Tensor& like) {
  torch::Tensor v = values.flatten();
  while (v.dim() < like.dim()) v = v.unsqueeze(-1);
  return v;
}

void Scheduler::require_prediction(bool supported, const char* algorithm) const {
  if (!supported) {
    throw InvalidRequestError(std::string(algorithm) + " does not support prediction_type \"" +
                              to_string(config_.prediction_type) + "\"");
  }
}

torch::Tensor Scheduler::training_alphas(const torch::Tensor& timesteps, const torch::Tensor& like) const {
  torch::Tensor t = timesteps.to(torch::kCPU);
  if (t.is_floating_point()) {
    if (!torch::equal(t, t.round())) {
      throw InvalidRequestError("scheduler: training timesteps must be whole numbers");
    }
  }
  t = t.to(torch::kLong).flatten();
  if (t.numel() > 0 &&
      (t.min().item<std::int64_t>() < 0 || t.max().item<std::int64_t>() >= config_.num_train_timesteps)) {
    throw InvalidRequestError("scheduler: training timesteps must be in 0.." +
                              std::to_string(config_.num_train_timesteps - 1));
  }
  return alphas_cumprod_.to(like.device(), like.scalar_type()).index_select(0, t.to(like.device()));
}

torch::Tensor Scheduler::do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                      const torch::Tensor& timesteps) const {
  const torch::Tensor acp = training_alphas(timesteps, original);
  const torch::Tensor sqrt_alpha = per_item(acp.pow(0.5), original);
  const torch::Tensor sqrt_one_minus_alpha = per_item((1 - acp).pow(0.5), original);
  return sqrt_alpha * original + sqrt_one_minus_alpha * noise;
}

torch::Tensor Scheduler::add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                   const torch::Tensor& timesteps) const {
  if (original.sizes() != noise.sizes()) {
    throw InvalidRequestError("add_noise: noise shape " + c10::str(noise.sizes()) + " differs from the sample shape " +
                              c10::str(original.sizes()));
  }
  return do_add_noise(original, noise, timesteps);
}

torch::Tensor Scheduler::get_velocity(const torch::Tensor& sample, const torch::Tensor& noise,
                                      const torch::Tensor& timesteps) const {
  if (sample.sizes() != noise.sizes()) {
    throw InvalidRequestError("get_velocity: noise shape " + c10::str(noise.sizes()) +
                              " differs from the sample shape " + c10::str(sample.sizes()));
  }
  const torch::Tensor acp = training_alphas(timesteps, sample);
  const torch::Tensor sqrt_alpha = per_item(acp.pow(0.5), sample);
  const torch::Tensor sqrt_one_minus_alpha = per_item((1 - acp).pow(0.5), sample);
  return sqrt_alpha * noise - sqrt_one_minus_alpha * sample;
}

}  // namespace kiln::schedulers
