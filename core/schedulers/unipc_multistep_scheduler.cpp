#include "schedulers/unipc_multistep_scheduler.h"

#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

namespace {

// The B(h) quantities shared by UniP and UniC for predict_x0 and bh2: hh = -h,
// h_phi_1 = expm1(hh), B_h = expm1(hh), b_i = h_phi_i * i! / B_h for i = 1..order.
struct BhTerms {
  float h_phi_1;
  float b_h;
  float b[2];
};

BhTerms bh_terms(float h, std::int64_t order) {
  const float hh = -h;
  BhTerms r{};
  r.h_phi_1 = noise::torch_expm1(hh);
  r.b_h = noise::torch_expm1(hh);
  float h_phi_k = r.h_phi_1 / hh - 1;
  float factorial = 1;
  for (std::int64_t i = 1; i <= order && i <= 2; ++i) {
    r.b[i - 1] = h_phi_k * factorial / r.b_h;
    factorial *= static_cast<float>(i + 1);
    h_phi_k = h_phi_k / hh - 1 / factorial;
  }
  return r;
}

}  // namespace

UniPCMultistepScheduler::UniPCMultistepScheduler(SchedulerConfig config)
    : Scheduler(std::move(config), TimestepSpacing::Linspace) {}

Scheduler::Schedule UniPCMultistepScheduler::make_schedule(std::int64_t steps) {
  for (auto& m : model_outputs_) m = torch::Tensor();
  lower_order_nums_ = 0;
  this_order_ = 0;
  last_sample_ = torch::Tensor();
  const std::vector<std::int64_t> t =
      noise::solver_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  return {torch::tensor(t, torch::kLong),
          noise::interp_sigmas(std::vector<double>(t.begin(), t.end()), noise::train_sigmas(alphas_cumprod()), 0.0)};
}

// UniP-p (B(h) version) from sigma_k to sigma_{k+1}, using model_outputs_ (newest = this step's).
torch::Tensor UniPCMultistepScheduler::predict(const torch::Tensor& x, std::int64_t k, std::int64_t order) const {
  const torch::Tensor& m0 = model_outputs_[1];
  const noise::AlphaSigma t = noise::alpha_sigma(sigma_at(k + 1));
  const noise::AlphaSigma s0 = noise::alpha_sigma(sigma_at(k));
  const float h = t.lambda - s0.lambda;
  const BhTerms bh = bh_terms(h, order);
  torch::Tensor x_t = (t.sigma / s0.sigma) * x - (t.alpha * bh.h_phi_1) * m0;
  if (order >= 2) {
    const noise::AlphaSigma s1 = noise::alpha_sigma(sigma_at(k - 1));
    const float rk = (s1.lambda - s0.lambda) / h;
    const torch::Tensor d1 = (model_outputs_[0] - m0) / rk;
    // For order 2 diffusers fixes rho_p = 0.5 instead of solving.
    const torch::Tensor pred_res = 0.5f * d1;
    x_t = x_t - (t.alpha * bh.b_h) * pred_res;
  }
  return x_t;
}

// UniC-p: recomputes the sample at sigma_k from x = last_sample (at sigma_{k-1}) with the model
// output at sigma_k. model_outputs_ still holds the previous outputs (newest = step k - 1).
torch::Tensor UniPCMultistepScheduler::correct(const torch::Tensor& model_t, const torch::Tensor& x, std::int64_t k,
                                               std::int64_t order) const {
  const torch::Tensor& m0 = model_outputs_[1];
  const noise::AlphaSigma t = noise::alpha_sigma(sigma_at(k));
  const noise::AlphaSigma s0 = noise::alpha_sigma(sigma_at(k - 1));
  const float h = t.lambda - s0.lambda;
  const BhTerms bh = bh_terms(h, order);
  const torch::Tensor x_t_ = (t.sigma / s0.sigma) * x - (t.alpha * bh.h_phi_1) * m0;
  const torch::Tensor d1_t = model_t - m0;
  if (order == 1) {
    // rho_c = 0.5 for order 1.
    return x_t_ - (t.alpha * bh.b_h) * (0.5f * d1_t);
  }
  const noise::AlphaSigma s1 = noise::alpha_sigma(sigma_at(k - 2));
  const float rk = (s1.lambda - s0.lambda) / h;
  const torch::Tensor d1 = (model_outputs_[0] - m0) / rk;
  // rho_c = solve(R, b), R = [[1, 1], [rk, 1]], in float32 as diffusers' torch.linalg.solve.
  const torch::Tensor r = torch::tensor({1.0f, 1.0f, rk, 1.0f}, torch::kFloat).reshape({2, 2});
  const torch::Tensor b = torch::tensor({bh.b[0], bh.b[1]}, torch::kFloat);
  const torch::Tensor rhos = torch::linalg_solve(r, b);
  const float rho0 = rhos[0].item<float>();
  const float rho1 = rhos[1].item<float>();
  const torch::Tensor corr_res = rho0 * d1;
  return x_t_ - (t.alpha * bh.b_h) * (corr_res + rho1 * d1_t);
}

StepOutput UniPCMultistepScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                            const torch::Tensor& sample_in, at::Generator* /*generator*/) {
  const bool use_corrector = k > 0 && last_sample_.defined();

  const noise::AlphaSigma s0 = noise::alpha_sigma(sigma_at(k));
  const torch::Tensor x0 = noise::predicted_x0(model_output, sample_in, s0, config_.prediction_type);

  torch::Tensor sample = sample_in;
  if (use_corrector) sample = correct(x0, last_sample_, k, this_order_);

  model_outputs_[0] = model_outputs_[1];
  model_outputs_[1] = x0;

  // lower_order_final: order 1 on the last step; warm-up: at most one more than the steps taken.
  const std::int64_t order = std::min(kSolverOrder, num_timesteps() - k);
  this_order_ = std::min(order, lower_order_nums_ + 1);
  last_sample_ = sample;
  const torch::Tensor prev = predict(sample, k, this_order_);
  if (lower_order_nums_ < kSolverOrder) ++lower_order_nums_;
  return {prev.to(sample_in.scalar_type()), x0};
}

torch::Tensor UniPCMultistepScheduler::do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                                    const torch::Tensor& timesteps) const {
  return sigma_add_noise(original, noise, timesteps, true);
}

}  // namespace kiln::schedulers
