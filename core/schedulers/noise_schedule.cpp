#include "schedulers/noise_schedule.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "base/error.h"

namespace kiln::schedulers::noise {

namespace {

// diffusers' betas_for_alpha_bar (cosine): Python floats, then torch.float32.
torch::Tensor cosine_betas(std::int64_t n) {
  const double pi = 3.141592653589793;
  const auto alpha_bar = [pi](double t) {
    const double c = std::cos((t + 0.008) / 1.008 * pi / 2);
    return c * c;
  };
  std::vector<float> betas(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double t1 = static_cast<double>(i) / static_cast<double>(n);
    const double t2 = static_cast<double>(i + 1) / static_cast<double>(n);
    betas[static_cast<std::size_t>(i)] = static_cast<float>(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
  }
  return torch::tensor(betas, torch::kFloat);
}

}  // namespace

torch::Tensor betas(const SchedulerConfig& config) {
  const std::int64_t n = config.num_train_timesteps;
  switch (config.beta_schedule) {
    case BetaSchedule::Linear:
      return torch::linspace(config.beta_start, config.beta_end, n, torch::kFloat);
    case BetaSchedule::ScaledLinear:
      // The latent-diffusion schedule: linear in sqrt(beta), squared in float32.
      return torch::linspace(std::sqrt(config.beta_start), std::sqrt(config.beta_end), n, torch::kFloat).pow(2);
    case BetaSchedule::SquaredCosCapV2:
      return cosine_betas(n);
  }
  return {};
}

torch::Tensor alphas_cumprod(const torch::Tensor& betas) { return torch::cumprod(1.0 - betas, 0); }

torch::Tensor train_sigmas(const torch::Tensor& alphas_cumprod) {
  return ((1 - alphas_cumprod) / alphas_cumprod).pow(0.5);
}

std::vector<double> linspace(double start, double stop, std::int64_t num) {
  std::vector<double> y(static_cast<std::size_t>(std::max<std::int64_t>(num, 0)));
  if (num == 1) {
    y[0] = start;
  } else if (num > 1) {
    const double step = (stop - start) / static_cast<double>(num - 1);
    for (std::int64_t i = 0; i < num; ++i) y[static_cast<std::size_t>(i)] = static_cast<double>(i) * step + start;
    y.back() = stop;
  }
  return y;
}

std::vector<double> arange(double start, double stop, double step) {
  const double count = std::ceil((stop - start) / step);
  std::vector<double> y;
  if (!(count > 0)) return y;
  y.resize(static_cast<std::size_t>(count));
  y[0] = start;
  if (y.size() > 1) {
    y[1] = start + step;
    const double delta = y[1] - y[0];
    for (std::size_t i = 2; i < y.size(); ++i) y[i] = start + static_cast<double>(i) * delta;
  }
  return y;
}

double round_half_even(double x) {
  // nearbyint rounds in the current mode; the default (and the only one Kiln uses) is to-nearest-even.
  return std::nearbyint(x);
}

double interp(double x, const std::vector<double>& fp) {
  const auto n = static_cast<std::int64_t>(fp.size());
  if (x <= 0) return fp.front();
  if (x >= static_cast<double>(n - 1)) return fp.back();
  const auto j = static_cast<std::int64_t>(std::floor(x));
  const auto uj = static_cast<std::size_t>(j);
  // numpy: slope = (fp[j+1] - fp[j]) / (xp[j+1] - xp[j]); slope * (x - xp[j]) + fp[j]
  const double slope = (fp[uj + 1] - fp[uj]) / 1.0;
  return slope * (x - static_cast<double>(j)) + fp[uj];
}

namespace {

std::vector<std::int64_t> to_int64(const std::vector<double>& v) {
  std::vector<std::int64_t> out;
  out.reserve(v.size());
  for (const double x : v) out.push_back(static_cast<std::int64_t>(x));
  return out;
}

// round(arange(N, 0, -N/S)) - 1: the "trailing" grid, descending.
std::vector<double> trailing(std::int64_t train_steps, std::int64_t steps) {
  const double ratio = static_cast<double>(train_steps) / static_cast<double>(steps);
  std::vector<double> t = arange(static_cast<double>(train_steps), 0.0, -ratio);
  for (double& x : t) x = round_half_even(x) - 1;
  return t;
}

}  // namespace

std::vector<std::int64_t> step_timesteps(TimestepSpacing spacing, std::int64_t train_steps, std::int64_t steps,
                                         std::int64_t steps_offset) {
  std::vector<double> t;
  switch (spacing) {
    case TimestepSpacing::Linspace:
      t = linspace(0, static_cast<double>(train_steps - 1), steps);
      for (double& x : t) x = round_half_even(x);
      std::reverse(t.begin(), t.end());
      break;
    case TimestepSpacing::Leading: {
      const std::int64_t ratio = train_steps / steps;
      for (std::int64_t i = steps - 1; i >= 0; --i) t.push_back(static_cast<double>(i * ratio + steps_offset));
      break;
    }
    case TimestepSpacing::Trailing:
      t = trailing(train_steps, steps);
      break;
  }
  return to_int64(t);
}

std::vector<std::int64_t> solver_timesteps(TimestepSpacing spacing, std::int64_t train_steps, std::int64_t steps,
                                           std::int64_t steps_offset) {
  std::vector<double> t;
  switch (spacing) {
    case TimestepSpacing::Linspace:
      t = linspace(0, static_cast<double>(train_steps - 1), steps + 1);
      for (double& x : t) x = round_half_even(x);
      std::reverse(t.begin(), t.end());
      t.pop_back();
      break;
    case TimestepSpacing::Leading: {
      const std::int64_t ratio = train_steps / (steps + 1);
      for (std::int64_t i = steps; i >= 1; --i) t.push_back(static_cast<double>(i * ratio + steps_offset));
      break;
    }
    case TimestepSpacing::Trailing:
      t = trailing(train_steps, steps);
      break;
  }
  return to_int64(t);
}

std::vector<float> sigma_timesteps(TimestepSpacing spacing, std::int64_t train_steps, std::int64_t steps,
                                   std::int64_t steps_offset) {
  std::vector<double> t;
  switch (spacing) {
    case TimestepSpacing::Linspace:
      t = linspace(0, static_cast<double>(train_steps - 1), steps);
      std::reverse(t.begin(), t.end());
      break;
    case TimestepSpacing::Leading: {
      const std::int64_t ratio = train_steps / steps;
      for (std::int64_t i = steps - 1; i >= 0; --i) t.push_back(static_cast<double>(i * ratio));
      break;
    }
    case TimestepSpacing::Trailing:
      t = trailing(train_steps, steps);
      break;
  }
  std::vector<float> out;
  out.reserve(t.size());
  for (const double x : t) out.push_back(static_cast<float>(x));
  // diffusers adds the offset after the cast to float32 (leading only).
  if (spacing == TimestepSpacing::Leading) {
    for (float& x : out) x += static_cast<float>(steps_offset);
  }
  return out;
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, std::int64_t steps) {
  const double rho = 7.0;
  const std::vector<double> ramp = linspace(0, 1, steps);
  const double min_inv_rho = std::pow(sigma_min, 1 / rho);
  const double max_inv_rho = std::pow(sigma_max, 1 / rho);
  std::vector<double> sigmas;
  sigmas.reserve(ramp.size());
  for (const double r : ramp) sigmas.push_back(std::pow(max_inv_rho + r * (min_inv_rho - max_inv_rho), rho));
  return sigmas;
}

double sigma_to_t(double sigma, const std::vector<float>& log_sigmas) {
  const double log_sigma = std::log(std::max(sigma, 1e-10));
  // low_idx: the last index whose log sigma is <= log_sigma (cumsum(dists >= 0).argmax), at most n - 2.
  const auto n = static_cast<std::int64_t>(log_sigmas.size());
  std::int64_t count = 0;
  std::int64_t low_idx = 0;
  std::int64_t best = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    if (log_sigma - static_cast<double>(log_sigmas[static_cast<std::size_t>(i)]) >= 0) ++count;
    if (count > best) {
      best = count;
      low_idx = i;
    }
  }
  low_idx = std::min(low_idx, n - 2);
  const std::int64_t high_idx = low_idx + 1;
  const float low = log_sigmas[static_cast<std::size_t>(low_idx)];
  const float high = log_sigmas[static_cast<std::size_t>(high_idx)];
  // (low - log_sigma) is float64; (low - high) is a float32 difference, as in numpy.
  double w = (static_cast<double>(low) - log_sigma) / static_cast<double>(low - high);
  w = std::clamp(w, 0.0, 1.0);
  return (1 - w) * static_cast<double>(low_idx) + w * static_cast<double>(high_idx);
}

std::vector<float> log_sigmas(const torch::Tensor& train_sigmas) {
  const std::vector<double> train = to_doubles(train_sigmas);
  std::vector<float> out;
  out.reserve(train.size());
  for (const double s : train) out.push_back(static_cast<float>(std::log(s)));
  return out;
}

SolverKarras solver_karras(const torch::Tensor& train_sigmas, std::int64_t steps) {
  const std::vector<double> train = to_doubles(train_sigmas);
  const std::vector<float> logs = log_sigmas(train_sigmas);
  SolverKarras out;
  for (const double s : karras_sigmas(train.front(), train.back(), steps)) {
    out.timesteps.push_back(static_cast<std::int64_t>(round_half_even(sigma_to_t(s, logs))));
    out.sigmas.push_back(static_cast<float>(s));
  }
  return out;
}

KSchedule k_schedule(const SchedulerConfig& config, TimestepSpacing spacing, const torch::Tensor& alphas_cumprod,
                     std::int64_t steps, bool karras, bool round_karras) {
  const torch::Tensor train_sigmas = noise::train_sigmas(alphas_cumprod);
  const std::vector<double> fp = to_doubles(train_sigmas);
  KSchedule out;
  for (const float t : sigma_timesteps(spacing, config.num_train_timesteps, steps, config.steps_offset)) {
    out.timesteps.push_back(t);
    out.sigmas.push_back(interp(t, fp));
  }
  if (karras) {
    const std::vector<float> logs = log_sigmas(train_sigmas);
    out.sigmas = karras_sigmas(out.sigmas.back(), out.sigmas.front(), steps);
    out.timesteps.clear();
    for (const double s : out.sigmas) {
      const double t = sigma_to_t(s, logs);
      out.timesteps.push_back(round_karras ? round_half_even(t) : t);
    }
  }
  return out;
}

std::vector<std::int64_t> lcm_timesteps(std::int64_t train_steps, std::int64_t original_steps, std::int64_t steps) {
  if (original_steps < 1 || original_steps > train_steps) {
    throw InvalidRequestError("original_inference_steps " + std::to_string(original_steps) + " is out of range 1.." +
                              std::to_string(train_steps));
  }
  if (steps > original_steps) {
    throw InvalidRequestError("steps " + std::to_string(steps) + " exceed the model's original_inference_steps " +
                                  std::to_string(original_steps),
                              "LCM and TCD take at most that many steps; 4 to 8 are typical");
  }
  const std::int64_t k = train_steps / original_steps;
  std::vector<std::int64_t> origin;
  for (std::int64_t i = original_steps; i >= 1; --i) origin.push_back(i * k - 1);
  const double step = static_cast<double>(original_steps) / static_cast<double>(steps);
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < steps; ++i) {
    out.push_back(origin[static_cast<std::size_t>(std::floor(static_cast<double>(i) * step))]);
  }
  return out;
}

torch::Tensor interp_sigmas(const std::vector<double>& timesteps, const torch::Tensor& train_sigmas, double last) {
  const std::vector<double> fp = to_doubles(train_sigmas);
  std::vector<float> out;
  out.reserve(timesteps.size() + 1);
  for (const double t : timesteps) out.push_back(static_cast<float>(interp(t, fp)));
  out.push_back(static_cast<float>(last));
  return torch::tensor(out, torch::kFloat);
}

double euler_init_noise_sigma(const torch::Tensor& sigmas, TimestepSpacing spacing) {
  const float max_sigma = sigmas.max().item<float>();
  if (spacing == TimestepSpacing::Leading) return std::sqrt(max_sigma * max_sigma + 1.0f);
  return max_sigma;
}

AlphaSigma alpha_sigma(float sigma_k) {
  const float alpha = 1 / std::sqrt(sigma_k * sigma_k + 1);
  const float sigma = sigma_k * alpha;
  return {alpha, sigma, torch_log(alpha) - torch_log(sigma), static_cast<double>(sigma / alpha)};
}

torch::Tensor predicted_x0(const torch::Tensor& model_output, const torch::Tensor& sample, const AlphaSigma& s,
                           PredictionType type) {
  switch (type) {
    case PredictionType::Epsilon:
      return (sample - s.sigma * model_output) / s.alpha;
    case PredictionType::Sample:
      return model_output;
    case PredictionType::VPrediction:
      return s.alpha * sample - s.sigma * model_output;
  }
  throw std::logic_error("predicted_x0: unknown prediction type");
}

float torch_log(float x) { return at::log(at::scalar_tensor(x, at::kFloat)).item<float>(); }
float torch_exp(float x) { return at::exp(at::scalar_tensor(x, at::kFloat)).item<float>(); }
float torch_expm1(float x) { return at::expm1(at::scalar_tensor(x, at::kFloat)).item<float>(); }

std::vector<double> to_doubles(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kDouble).contiguous().reshape({-1});
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace kiln::schedulers::noise
