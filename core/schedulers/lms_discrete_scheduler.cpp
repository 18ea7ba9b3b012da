#include "schedulers/lms_discrete_scheduler.h"

#include <algorithm>
#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

LMSDiscreteScheduler::LMSDiscreteScheduler(SchedulerConfig config)
    : KSigmaScheduler(std::move(config), TimestepSpacing::Linspace) {}

Scheduler::Schedule LMSDiscreteScheduler::make_schedule(std::int64_t steps) {
  derivatives_.clear();
  const std::vector<float> t =
      noise::sigma_timesteps(timestep_spacing(), config_.num_train_timesteps, steps, config_.steps_offset);
  const std::vector<double> td(t.begin(), t.end());
  return {torch::tensor(t, torch::kFloat), noise::interp_sigmas(td, noise::train_sigmas(alphas_cumprod()), 0.0)};
}

namespace {

// QUADPACK's 21-point Gauss-Kronrod rule (dqk21): Kronrod nodes (odd positions 1, 3, ... are
// the 10-point Gauss nodes) and weights, and the Gauss weights.
constexpr double kXgk[11] = {0.995657163025808080735527280689003,
                             0.973906528517171720077964012084452,
                             0.930157491355708226001207180059508,
                             0.865063366688984510732096688423493,
                             0.780817726586416897063717578345042,
                             0.679409568299024406234327365114874,
                             0.562757134668604683339000099272694,
                             0.433395394129247190799265943165784,
                             0.294392862701460198131126603103866,
                             0.148874338981631210884826001129720,
                             0.0};
constexpr double kWgk[11] = {
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390, 0.054755896574351996031381300244580,
    0.075039674810919952767043140916190, 0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077208067829140, 0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
    0.147739104901338491374841515972068, 0.149445554002916905664936468389821};

// The 21-point Kronrod estimate, summed in QUADPACK's order. scipy's quad (epsrel 1e-4) stops
// after this first rule for the polynomial integrands here: its G10/K21 error estimate is far
// below the tolerance.
template <typename F>
double kronrod21(const F& f, double a, double b) {
  const double centr = 0.5 * (a + b);
  const double hlgth = 0.5 * (b - a);
  double resk = kWgk[10] * f(centr);
  for (int j = 1; j < 10; j += 2) {  // the Gauss nodes first
    const double absc = hlgth * kXgk[j];
    resk += kWgk[j] * (f(centr - absc) + f(centr + absc));
  }
  for (int j = 0; j < 10; j += 2) {
    const double absc = hlgth * kXgk[j];
    resk += kWgk[j] * (f(centr - absc) + f(centr + absc));
  }
  return resk * hlgth;
}

}  // namespace

// diffusers integrates the Lagrange basis polynomial with scipy.integrate.quad; its integrand
// mixes the Python float tau with 0-dim float32 sigma tensors, so each factor is float32.
double LMSDiscreteScheduler::lms_coefficient(std::int64_t order, std::int64_t k, std::int64_t current) const {
  const auto basis = [&](double tau) -> double {
    if (order == 1) return 1.0;  // no factor: the Python float 1.0
    float prod = 1.0f;
    for (std::int64_t j = 0; j < order; ++j) {
      if (j == current) continue;
      const float s_j = sigma_at(k - j);
      prod *= (static_cast<float>(tau) - s_j) / (sigma_at(k - current) - s_j);
    }
    return prod;
  };
  return kronrod21(basis, sigma_at(k), sigma_at(k + 1));
}

StepOutput LMSDiscreteScheduler::do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                                         at::Generator* /*generator*/) {
  const float sigma = sigma_at(k);
  torch::Tensor x0;
  switch (config_.prediction_type) {
    case PredictionType::Epsilon:
      x0 = sample - sigma * model_output;
      break;
    case PredictionType::Sample:
      x0 = model_output;
      break;
    case PredictionType::VPrediction:
      x0 = model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + (sample / (sigma * sigma + 1));
      break;
  }
  derivatives_.push_back((sample - x0) / sigma);
  if (static_cast<std::int64_t>(derivatives_.size()) > kLmsOrder) derivatives_.pop_front();

  // As diffusers: the order follows the step index, and pairs with the newest derivatives (fewer
  // than `order` after a start part-way).
  const std::int64_t order = std::min(k + 1, kLmsOrder);
  torch::Tensor sum;
  auto d = derivatives_.rbegin();
  for (std::int64_t j = 0; j < order && d != derivatives_.rend(); ++j, ++d) {
    const torch::Tensor term = lms_coefficient(order, k, j) * *d;
    sum = sum.defined() ? sum + term : term;
  }
  return {sample + sum, x0};
}

}  // namespace kiln::schedulers
