#pragma once
// diffusers' LMSDiscreteScheduler (k-diffusion's sample_lms): a linear multistep method of order
// up to 4 on the ODE derivatives, coefficients integrated over each sigma interval.

#include <deque>

#include "schedulers/k_sigma_scheduler.h"

namespace kiln::schedulers {

class LMSDiscreteScheduler : public KSigmaScheduler {
 public:
  // Class default: linspace spacing.
  explicit LMSDiscreteScheduler(SchedulerConfig config);
  SchedulerKind kind() const override { return SchedulerKind::LMS; }

  // diffusers' default `order` argument of step().
  static constexpr std::int64_t kLmsOrder = 4;

 protected:
  Schedule make_schedule(std::int64_t steps) override;
  StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                     at::Generator* generator) override;

 private:
  // The integral over [sigma_k, sigma_{k+1}] of the Lagrange basis polynomial of node
  // sigma_{k - current} among sigma_k ... sigma_{k - order + 1}.
  double lms_coefficient(std::int64_t order, std::int64_t k, std::int64_t current) const;

  std::deque<torch::Tensor> derivatives_;  // oldest first, at most kLmsOrder
};

}  // namespace kiln::schedulers
