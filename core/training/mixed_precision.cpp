#include "training/mixed_precision.h"

#include <ATen/autocast_mode.h>

#include "base/error.h"

namespace kiln::training {

namespace {

void set_cuda_autocast(bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
  if (!enabled) at::autocast::clear_cache();
}
}  // namespace

MixedPrecisionContext::MixedPrecisionContext(MixedPrecision precision, const torch::Device& device)
    : precision_(precision) {
  if (precision == MixedPrecision::No) return;
  if (!device.is_cuda()) {
    throw InvalidRequestError("mixed precision (fp16/bf16) needs a CUDA device; on the CPU training runs in fp32");
  }
  active_ = true;
  if (precision == MixedPrecision::F16) scale_ = 65536.0;
}

MixedPrecisionContext::Scope::Scope(bool enabled, at::ScalarType dtype) : enabled_(enabled) {
  if (enabled_) set_cuda_autocast(true, dtype);
}

MixedPrecisionContext::Scope::~Scope() {
  if (enabled_) set_cuda_autocast(false, at::kHalf);
}

std::unique_ptr<MixedPrecisionContext::Scope> MixedPrecisionContext::autocast() const {
  return std::make_unique<Scope>(active_, precision_ == MixedPrecision::BF16 ? at::kBFloat16 : at::kHalf);
}

void MixedPrecisionContext::backward(const torch::Tensor& loss) const {
  if (precision_ == MixedPrecision::F16) {
    (loss.to(torch::kFloat) * scale_).backward();
  } else {
    loss.backward();
  }
}

bool MixedPrecisionContext::unscale(const NamedParameters& parameters) const {
  if (precision_ != MixedPrecision::F16) return true;
  torch::NoGradGuard no_grad;
  bool finite = true;
  for (const auto& [name, p] : parameters) {
    if (!p.grad().defined()) continue;
    p.grad().div_(scale_);
    finite = finite && p.grad().isfinite().all().item<bool>();
  }
  return finite;
}

void MixedPrecisionContext::update(bool ok) {
  if (precision_ != MixedPrecision::F16) return;
  if (!ok) {
    scale_ = std::max(1.0, scale_ / 2);
    good_steps_ = 0;
  } else if (++good_steps_ >= 2000) {
    scale_ *= 2;
    good_steps_ = 0;
  }
}

}  // namespace kiln::training
