#pragma once
// diffusers' KDPM2DiscreteScheduler and KDPM2AncestralDiscreteScheduler (k-diffusion's
// sample_dpm_2 / sample_dpm_2_ancestral), AUTOMATIC1111's "DPM2" and "DPM2 a". Every step but the
// last evaluates the model twice: an even index k moves to the log-midpoint of the interval (first
// order), the odd index after it evaluates the model there and redoes the whole interval from the
// stored sample with that slope (2N - 1 model calls, timesteps interleaved with the midpoints'
// fractional timesteps). DPM2 a steps to sigma_down and adds fresh noise of sigma_up at the odd
// calls only.

#include <vector>

#include "schedulers/k_sigma_scheduler.h"

namespace kiln::schedulers {

class KDPM2DiscreteScheduler : public KSigmaScheduler {
 public:
  // Class default: linspace spacing. `karras`: Karras sigmas between the smallest and largest
  // schedule sigma (timesteps rounded, the midpoints' not; float64). `ancestral`: DPM2 a.
  // Epsilon and v_prediction.
  KDPM2DiscreteScheduler(SchedulerConfig config, bool karras, bool ancestral);
  SchedulerKind kind() const override;
  // diffusers' `order`: img2img starts at t_start * 2.
  std::int64_t order() const override { return 2; }

  // The expanded per-call arrays diffusers keeps (2N + 2 entries): the interval midpoints, and for
  // DPM2 a the ancestral up/down sigmas. Empty before set_timesteps.
  const std::vector<float>& sigmas_interpol() const { return interpol_; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  // The sigma the model input is scaled with at index k.
  float input_sigma(std::int64_t k) const override;

  bool karras_;
  bool ancestral_;
  std::vector<float> interpol_, up_, down_;
  torch::Tensor stored_sample_;  // set by an even (first-order) call, used by the next odd one
};

}  // namespace kiln::schedulers
