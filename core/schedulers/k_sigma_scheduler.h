#pragma once
// The common part of the k-diffusion-style algorithms (Euler, Euler a, LMS, Heun, DPM2, DPM2 a):
// the UNet sees latents / sqrt(sigma^2 + 1), the first noise is scaled by sigma_max (or
// sqrt(sigma_max^2 + 1) with leading spacing), and img2img noises x0 + sigma noise.

#include "schedulers/noise_schedule.h"
#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class KSigmaScheduler : public Scheduler {
 protected:
  using Scheduler::Scheduler;

  // The sigma of the UNet input at index k (DPM2 scales its second-order calls by an
  // interpolated sigma).
  virtual float input_sigma(std::int64_t k) const { return sigma_at(k); }

  double compute_init_noise_sigma() const override {
    return noise::euler_init_noise_sigma(sigmas(), timestep_spacing());
  }
  torch::Tensor do_scale_model_input(const torch::Tensor& sample, std::int64_t k) const override {
    return sample / noise::input_divisor(input_sigma(k));
  }
  double do_model_input_scale(std::int64_t k) const override { return 1.0 / noise::input_divisor(input_sigma(k)); }
  torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const override {
    return sigma_add_noise(original, noise, timesteps, false);
  }
};

}  // namespace kiln::schedulers
