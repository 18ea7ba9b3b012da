#include "schedulers/deis_multistep_scheduler.h"

#include <cmath>
#include <string>

#include "base/error.h"
#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

namespace {

// Integral of the Lagrange basis in log(rho): (log t - log c) / (log b - log c).
double ind2(double t, double b, double c) { return t * (-std::log(c) + std::log(t) - 1) / (std::log(b) - std::log(c)); }

// The same with two nodes: (log t - log c)(log t - log d) / ((log b - log c)(log b - log d)).
double ind3(double t, double b, double c, double d) {
  const double lt = std::log(t), lc = std::log(c), ld = std::log(d), lb = std::log(b);
  const double numerator = t * (lc * (ld - lt + 1) - ld * lt + ld + lt * lt - 2 * lt + 2);
  return numerator / ((lb - lc) * (lb - ld));
}

}  // namespace

DEISMultistepScheduler::DEISMultistepScheduler(SchedulerConfig config, bool karras, int solver_order)
    : Scheduler(std::move(config), TimestepSpacing::Linspace), karras_(karras), solver_order_(solver_order) {
  if (solver_order < 1 || solver_order > 3) {
    throw InvalidRequestError("DEIS solver order " + std::to_string(solver_order) + " is out of range 1..3");
  }
}

Scheduler::Schedule DEISMultistepScheduler::make_schedule(std::int64_t steps) {
  for (auto& m : model_outputs_) m = torch::Tensor();
  lower_order_nums_ = 0;
  const torch::Tensor train_sigmas = noise::train_sigmas(alphas_cumprod());
  if (karras_) {
    noise::SolverKarras k = noise::solver_karras(train_sigmas, steps);
    k.sigmas.push_back(k.sigmas.back());
    return {torch::tensor(k.timesteps, torch::kLong), torch::tensor(k.sigmas, torch::kFloat)};
  }
  const std::vector<std::int64_t> t =
      noise::solver_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  // The last sigma: ((1 - acp[0]) / acp[0]) ** 0.5 in float32.
  const float a0 = alpha_cumprod_at(0);
  const float last = std::sqrt((1.0f - a0) / a0);
  return {torch::tensor(t, torch::kLong),
          noise::interp_sigmas(std::vector<double>(t.begin(), t.end()), train_sigmas, last)};
}

StepOutput DEISMultistepScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                           const torch::Tensor& sample_in, at::Generator* /*generator*/) {
  const std::int64_t n = num_timesteps();
  const bool lower_final = k == n - 1 && n < 15;
  const bool lower_second = k == n - 2 && n < 15;

  const noise::AlphaSigma s0 = noise::alpha_sigma(sigma_at(k));
  const torch::Tensor x0 = noise::predicted_x0(model_output, sample_in, s0, config_.prediction_type);
  // DEIS integrates the noise prediction.
  const torch::Tensor eps = (sample_in - s0.alpha * x0) / s0.sigma;
  model_outputs_[0] = model_outputs_[1];
  model_outputs_[1] = model_outputs_[2];
  model_outputs_[2] = eps;

  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const noise::AlphaSigma t = noise::alpha_sigma(sigma_at(k + 1));
  torch::Tensor prev;
  if (solver_order_ == 1 || lower_order_nums_ < 1 || lower_final) {
    const float h = t.lambda - s0.lambda;
    prev = (t.alpha / s0.alpha) * sample - (t.sigma * (noise::torch_exp(h) - 1.0f)) * eps;
  } else if (solver_order_ == 2 || lower_order_nums_ < 2 || lower_second) {
    const noise::AlphaSigma s1 = noise::alpha_sigma(sigma_at(k - 1));
    const double c1 = ind2(t.rho, s0.rho, s1.rho) - ind2(s0.rho, s0.rho, s1.rho);
    const double c2 = ind2(t.rho, s1.rho, s0.rho) - ind2(s0.rho, s1.rho, s0.rho);
    prev = t.alpha * (sample / s0.alpha + static_cast<float>(c1) * model_outputs_[2] +
                      static_cast<float>(c2) * model_outputs_[1]);
  } else {
    const noise::AlphaSigma s1 = noise::alpha_sigma(sigma_at(k - 1));
    const noise::AlphaSigma s2 = noise::alpha_sigma(sigma_at(k - 2));
    const double c1 = ind3(t.rho, s0.rho, s1.rho, s2.rho) - ind3(s0.rho, s0.rho, s1.rho, s2.rho);
    const double c2 = ind3(t.rho, s1.rho, s2.rho, s0.rho) - ind3(s0.rho, s1.rho, s2.rho, s0.rho);
    const double c3 = ind3(t.rho, s2.rho, s0.rho, s1.rho) - ind3(s0.rho, s2.rho, s0.rho, s1.rho);
    prev = t.alpha * (sample / s0.alpha + static_cast<float>(c1) * model_outputs_[2] +
                      static_cast<float>(c2) * model_outputs_[1] + static_cast<float>(c3) * model_outputs_[0]);
  }
  if (lower_order_nums_ < solver_order_) ++lower_order_nums_;
  return {prev.to(model_output.scalar_type()), x0};
}

torch::Tensor DEISMultistepScheduler::do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                                   const torch::Tensor& timesteps) const {
  return sigma_add_noise(original, noise, timesteps, true);
}

}  // namespace kiln::schedulers
