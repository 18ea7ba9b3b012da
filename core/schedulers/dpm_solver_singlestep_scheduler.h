#pragma once
// diffusers' DPMSolverSinglestepScheduler, solver_order 2, midpoint, final_sigmas_type zero:
// "DPM++ 2S" (dpmsolver++, deterministic; not AUTOMATIC1111's ancestral "DPM++ 2S a") and with
// `sde` sde-dpmsolver++ ("DPM++ 2S SDE", fresh noise drawn at every call). Calls alternate
// between order 1 (from the current latents; the latents are saved) and order 2 (a second-order
// step over two intervals from the saved latents, using the model at the middle sigma):
// orders [1, 2] * (N/2 - 1) + [1, 1] for even N, [1, 2] * (N // 2) + [1] for odd N.

#include <vector>

#include "schedulers/scheduler.h"

namespace kiln::schedulers {

class DPMSolverSinglestepScheduler : public Scheduler {
 public:
  // Timesteps are always linspace(0, N - 1, steps + 1) rounded, the last dropped (the class has no
  // spacing option); `karras`: Karras sigmas over the train range, timesteps mapped back.
  DPMSolverSinglestepScheduler(SchedulerConfig config, bool karras, bool sde);
  SchedulerKind kind() const override;

  // The order of each call (the last forced to 1). Empty before set_timesteps.
  const std::vector<int>& order_list() const { return orders_; }

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;
  torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const override;

 private:
  bool karras_;
  bool sde_;
  std::vector<int> orders_;
  torch::Tensor model_outputs_[2];  // x0 predictions, newest last
  torch::Tensor saved_sample_;      // the latents of the last order-1 call
};

}  // namespace kiln::schedulers
