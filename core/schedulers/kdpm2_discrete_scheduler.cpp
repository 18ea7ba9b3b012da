#include "schedulers/kdpm2_discrete_scheduler.h"

#include <cmath>

#include "schedulers/noise_schedule.h"

namespace kiln::schedulers {

namespace {

torch::Tensor k_x0(PredictionType type, const torch::Tensor& model_output, const torch::Tensor& sample, float sigma) {
  if (type == PredictionType::VPrediction)
    return model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + (sample / (sigma * sigma + 1));
  return sample - sigma * model_output;
}

// diffusers' torch.cat([x[:1], x[1:].repeat_interleave(2), x[-1:]]).
std::vector<float> expand(const torch::Tensor& x) {
  const torch::Tensor c = x.contiguous();
  const float* p = c.data_ptr<float>();
  const auto n = static_cast<std::size_t>(c.numel());
  std::vector<float> out{p[0]};
  for (std::size_t i = 1; i < n; ++i) out.insert(out.end(), 2, p[i]);
  out.push_back(p[n - 1]);
  return out;
}

// The midpoint timesteps: sigma_to_t in diffusers runs on float32 tensors here, so the values are
// float32-rounded (then cast to the timesteps' dtype).
std::vector<double> interpol_timesteps(const torch::Tensor& sigmas_interpol, const std::vector<float>& log_sigmas) {
  std::vector<double> out;
  for (const double s : noise::to_doubles(sigmas_interpol)) {
    out.push_back(std::isnan(s) ? s : static_cast<float>(noise::sigma_to_t(s, log_sigmas)));
  }
  return out;
}

}  // namespace

KDPM2DiscreteScheduler::KDPM2DiscreteScheduler(SchedulerConfig config, bool karras, bool ancestral)
    : KSigmaScheduler(std::move(config), TimestepSpacing::Linspace), karras_(karras), ancestral_(ancestral) {
  require_prediction(config_.prediction_type != PredictionType::Sample, ancestral ? "DPM2 a" : "DPM2");
}

SchedulerKind KDPM2DiscreteScheduler::kind() const {
  if (ancestral_) return karras_ ? SchedulerKind::DPM2AncestralKarras : SchedulerKind::DPM2Ancestral;
  return karras_ ? SchedulerKind::DPM2Karras : SchedulerKind::DPM2;
}

Scheduler::Schedule KDPM2DiscreteScheduler::make_schedule(std::int64_t steps) {
  stored_sample_ = torch::Tensor();
  const noise::KSchedule ks =
      noise::k_schedule(config_, timestep_spacing(), alphas_cumprod(), steps, karras_, /*round_karras=*/true);
  const std::vector<float> log_sigmas = noise::log_sigmas(noise::train_sigmas(alphas_cumprod()));
  std::vector<float> s32;
  for (const double s : ks.sigmas) s32.push_back(static_cast<float>(s));
  s32.push_back(0.0f);
  // float32 tensor arithmetic, as diffusers.
  const torch::Tensor sigmas = torch::tensor(s32, torch::kFloat);
  torch::Tensor interpol;
  std::vector<double> t{ks.timesteps.front()};
  if (!ancestral_) {
    interpol = sigmas.log().lerp(sigmas.roll(1).log(), 0.5).exp();
    const std::vector<double> tm = interpol_timesteps(interpol, log_sigmas);
    // [t0, tm_1, t1, tm_2, t2, ..., tm_{N-1}, t_{N-1}]
    for (std::size_t i = 1; i < ks.timesteps.size(); ++i) {
      t.push_back(tm[i]);
      t.push_back(ks.timesteps[i]);
    }
    up_.clear();
    down_.clear();
  } else {
    torch::Tensor next = sigmas.roll(-1);
    next[-1] = 0.0f;
    const torch::Tensor up = (next.pow(2) * (sigmas.pow(2) - next.pow(2)) / sigmas.pow(2)).pow(0.5);
    torch::Tensor down = (next.pow(2) - up.pow(2)).pow(0.5);
    down[-1] = 0.0f;
    interpol = sigmas.log().lerp(down.log(), 0.5).exp();
    interpol.narrow(0, interpol.size(0) - 2, 2).fill_(0.0f);
    const std::vector<double> tm = interpol_timesteps(interpol, log_sigmas);
    // [t0, tm_0, t1, tm_1, ..., tm_{N-2}, t_{N-1}]
    for (std::size_t i = 1; i < ks.timesteps.size(); ++i) {
      t.push_back(tm[i - 1]);
      t.push_back(ks.timesteps[i]);
    }
    up_ = expand(up);
    down_ = expand(down);
  }
  interpol_ = expand(interpol);
  const std::vector<float> expanded = expand(sigmas);
  return {torch::tensor(t, torch::kDouble).to(karras_ ? torch::kDouble : torch::kFloat),
          torch::tensor(expanded, torch::kFloat)};
}

float KDPM2DiscreteScheduler::input_sigma(std::int64_t k) const {
  // Runs start at an even index (img2img: t_start * 2), so odd indices are the second-order calls.
  if (k % 2 == 0) return sigma_at(k);
  return interpol_[static_cast<std::size_t>(ancestral_ ? k - 1 : k)];
}

StepOutput KDPM2DiscreteScheduler::do_step(const torch::Tensor& model_output, std::int64_t k,
                                           const torch::Tensor& sample_in, at::Generator* generator) {
  const torch::Tensor sample = sample_in.to(torch::kFloat);
  const auto at = [](const std::vector<float>& v, std::int64_t i) { return v[static_cast<std::size_t>(i)]; };
  torch::Tensor x0;
  torch::Tensor prev;
  if (!stored_sample_.defined()) {
    // First order: to the interval's midpoint.
    const float sigma = sigma_at(k);
    const float mid = ancestral_ ? at(interpol_, k) : at(interpol_, k + 1);
    x0 = k_x0(config_.prediction_type, model_output, sample, sigma);
    stored_sample_ = sample;
    prev = sample + (sample - x0) / sigma * (mid - sigma);
  } else {
    // Second order: the whole interval from the stored sample with the midpoint's slope.
    const float sigma = sigma_at(k - 1);
    const float mid = ancestral_ ? at(interpol_, k - 1) : at(interpol_, k);
    x0 = k_x0(config_.prediction_type, model_output, sample, mid);
    const torch::Tensor derivative = (sample - x0) / mid;
    const float dt = (ancestral_ ? at(down_, k - 1) : sigma_at(k)) - sigma;
    prev = stored_sample_ + derivative * dt;
    stored_sample_ = torch::Tensor();
    if (ancestral_) prev = prev + randn_like(model_output, generator) * at(up_, k - 1);
  }
  return {prev.to(model_output.scalar_type()), x0};
}

}  // namespace kiln::schedulers
