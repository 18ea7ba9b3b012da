#include "schedulers/dpm_solver_singlestep_scheduler.h"

#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

DPMSolverSinglestepScheduler::DPMSolverSinglestepScheduler(SchedulerConfig config, bool karras, bool sde)
    : Scheduler(std::move(config), TimestepSpacing::Linspace), karras_(karras), sde_(sde) {}

SchedulerKind DPMSolverSinglestepScheduler::kind() const {
  if (sde_) return SchedulerKind::DPMPP2SSDE;
  return karras_ ? SchedulerKind::DPMPP2SKarras : SchedulerKind::DPMPP2S;
}

Scheduler::Schedule DPMSolverSinglestepScheduler::make_schedule(std::int64_t steps) {
  for (auto& m : model_outputs_) m = torch::Tensor();
  saved_sample_ = torch::Tensor();
  // final_sigmas_type "zero" makes set_timesteps switch lower_order_final on.
  orders_.clear();
  if (steps % 2 == 0) {
    for (std::int64_t i = 0; i < steps / 2 - 1; ++i) orders_.insert(orders_.end(), {1, 2});
    orders_.insert(orders_.end(), {1, 1});
  } else {
    for (std::int64_t i = 0; i < steps / 2; ++i) orders_.insert(orders_.end(), {1, 2});
    orders_.push_back(1);
  }
  orders_.back() = 1;
  const torch::Tensor train_sigmas = noise::train_sigmas(alphas_cumprod());
  if (!karras_) {
    const std::vector<std::int64_t> t =
        noise::solver_timesteps(TimestepSpacing::Linspace, config_.num_train_timesteps, steps, config_.steps_offset);
    return {torch::tensor(t, torch::kLong),
            noise::interp_sigmas(std::vector<double>(t.begin(), t.end()), train_sigmas, 0.0)};
  }
  noise::SolverKarras k = noise::solver_karras(train_sigmas, steps);
  k.sigmas.push_back(0.0f);
  return {torch::tensor(k.timesteps, torch::kLong), torch::tensor(k.sigmas, torch::kFloat)};
}

StepOutput DPMSolverSinglestepScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                                 const torch::Tensor& sample_in, at::Generator* generator) {
  const noise::AlphaSigma s0 = noise::alpha_sigma(sigma_at(k));
  const torch::Tensor x0 = noise::predicted_x0(model_output, sample_in, s0, config_.prediction_type);
  model_outputs_[0] = model_outputs_[1];
  model_outputs_[1] = x0;
  torch::Tensor z;
  if (sde_) z = randn_like(model_output, generator);

  int order = orders_[static_cast<std::size_t>(k)];
  // img2img may start on an order-2 call: without a previous output it runs as order 1.
  if (order == 2 && !model_outputs_[0].defined()) order = 1;
  if (order == 1) saved_sample_ = sample_in.to(torch::kFloat);

  const noise::AlphaSigma t = noise::alpha_sigma(sigma_at(k + 1));
  // Order 1 integrates from sigmas[k], order 2 from sigmas[k - 1] (the saved latents).
  const noise::AlphaSigma from = order == 1 ? s0 : noise::alpha_sigma(sigma_at(k - 1));
  const float h = t.lambda - from.lambda;
  torch::Tensor d = x0;
  if (order == 2) {
    const float r0 = (s0.lambda - from.lambda) / h;
    const torch::Tensor& m0 = model_outputs_[1];
    const torch::Tensor& m1 = model_outputs_[0];
    // D0 + 0.5 D1 with D0 = m1, D1 = (m0 - m1) / r0 (midpoint).
    const torch::Tensor d1 = (1.0f / r0) * (m0 - m1);
    d = m1 + 0.5f * d1;
  }
  torch::Tensor prev;
  if (!sde_) {
    const float phi = t.alpha * (noise::torch_exp(-h) - 1.0f);
    prev = (t.sigma / from.sigma) * saved_sample_ - phi * d;
  } else {
    const float e = noise::torch_exp(-h);
    const float e2 = noise::torch_exp(-2.0f * h);
    prev =
        (t.sigma / from.sigma * e) * saved_sample_ + (t.alpha * (1.0f - e2)) * d + (t.sigma * std::sqrt(1.0f - e2)) * z;
  }
  return {prev.to(model_output.scalar_type()), x0};
}

torch::Tensor DPMSolverSinglestepScheduler::do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                                         const torch::Tensor& timesteps) const {
  return sigma_add_noise(original, noise, timesteps, true);
}

}  // namespace kiln::schedulers
