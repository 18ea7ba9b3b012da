#include "schedulers/dpm_solver_multistep_scheduler.h"

#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

DPMSolverMultistepScheduler::DPMSolverMultistepScheduler(SchedulerConfig config, bool karras, bool sde)
    : Scheduler(std::move(config), TimestepSpacing::Linspace), karras_(karras), sde_(sde) {}

SchedulerKind DPMSolverMultistepScheduler::kind() const {
  if (sde_) return karras_ ? SchedulerKind::DPMPP2MSDEKarras : SchedulerKind::DPMPP2MSDE;
  return karras_ ? SchedulerKind::DPMPP2MKarras : SchedulerKind::DPMPP2M;
}

Scheduler::Schedule DPMSolverMultistepScheduler::make_schedule(std::int64_t steps) {
  for (auto& m : model_outputs_) m = torch::Tensor();
  lower_order_nums_ = 0;
  // lambda_min_clipped is -inf for these configs, so the grid spans all train timesteps.
  const torch::Tensor train_sigmas = noise::train_sigmas(alphas_cumprod());
  if (!karras_) {
    const std::vector<std::int64_t> t =
        noise::solver_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
    return {torch::tensor(t, torch::kLong),
            noise::interp_sigmas(std::vector<double>(t.begin(), t.end()), train_sigmas, 0.0)};
  }
  noise::SolverKarras k = noise::solver_karras(train_sigmas, steps);
  std::vector<float> sigmas32 = std::move(k.sigmas);
  const std::vector<std::int64_t> t = std::move(k.timesteps);
  sigmas32.push_back(0.0f);
  return {torch::tensor(t, torch::kLong), torch::tensor(sigmas32, torch::kFloat)};
}

StepOutput DPMSolverMultistepScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                                const torch::Tensor& sample_in, at::Generator* generator) {
  const std::int64_t n = num_timesteps();
  // With final_sigmas_type "zero" the last step is always first order; lower_order_final would
  // also lower a third-order solver's second-to-last step (not reached with order 2).
  const bool lower_order_final = k == n - 1;

  // Data prediction (DPM-Solver++ integrates x0).
  const noise::AlphaSigma s0 = noise::alpha_sigma(sigma_at(k));
  const torch::Tensor x0 = noise::predicted_x0(model_output, sample_in, s0, config_.prediction_type);
  model_outputs_[0] = model_outputs_[1];
  model_outputs_[1] = x0;

  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const noise::AlphaSigma t = noise::alpha_sigma(sigma_at(k + 1));
  const float h = t.lambda - s0.lambda;
  const float phi = t.alpha * (noise::torch_exp(-h) - 1.0f);
  torch::Tensor prev;
  const bool first_order = lower_order_nums_ < 1 || lower_order_final;
  if (sde_) {
    const torch::Tensor z = randn_like(model_output.to(torch::kFloat), generator);
    // At sigma 0 h is +inf: e^-h = 0, the result is x0 (the noise term is 0 * z).
    const float e = noise::torch_exp(-h);
    const float e2 = noise::torch_exp(-2.0f * h);
    const float c_x = t.sigma / s0.sigma * e;
    const float c_d = t.alpha * (1.0f - e2);
    const float c_z = t.sigma * std::sqrt(1.0f - e2);
    if (first_order) {
      prev = c_x * sample + c_d * x0 + c_z * z;
    } else {
      const noise::AlphaSigma s1 = noise::alpha_sigma(sigma_at(k - 1));
      const float r0 = (s0.lambda - s1.lambda) / h;
      const torch::Tensor d1 = (1.0f / r0) * (model_outputs_[1] - model_outputs_[0]);
      prev = c_x * sample + c_d * model_outputs_[1] + (0.5f * c_d) * d1 + c_z * z;
    }
  } else if (first_order) {
    // First order: DDIM in the data-prediction form.
    prev = (t.sigma / s0.sigma) * sample - phi * x0;
  } else {
    const noise::AlphaSigma s1 = noise::alpha_sigma(sigma_at(k - 1));
    const float h_0 = s0.lambda - s1.lambda;
    const float r0 = h_0 / h;
    const torch::Tensor& m0 = model_outputs_[1];
    const torch::Tensor& m1 = model_outputs_[0];
    const torch::Tensor d1 = (1.0f / r0) * (m0 - m1);
    // Midpoint second-order update (DPM-Solver++(2M)).
    prev = (t.sigma / s0.sigma) * sample - phi * m0 - (0.5f * phi) * d1;
  }
  if (lower_order_nums_ < kSolverOrder) ++lower_order_nums_;
  return {prev.to(model_output.scalar_type()), x0};
}

torch::Tensor DPMSolverMultistepScheduler::do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                                        const torch::Tensor& timesteps) const {
  return sigma_add_noise(original, noise, timesteps, true);
}

}  // namespace kiln::schedulers
