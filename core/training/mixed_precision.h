#pragma once
// fp16/bf16 mixed precision for CUDA training: the weights stay fp32 (the "master" copy the
// optimizer updates), the forward pass runs under LibTorch's CUDA autocast, and with fp16 the loss
// is scaled dynamically (torch.cuda.amp.GradScaler's rule: start at 2^16, halve and skip the step
// when a gradient overflows, double after 2000 good steps). MixedPrecision::No is a no-op.

#include <memory>

#include <torch/torch.h>

#include "training/optimizer.h"
#include "training/training_settings.h"

namespace kiln::training {

class MixedPrecisionContext {
 public:
  MixedPrecisionContext(MixedPrecision precision, const torch::Device& device);

  // RAII: autocast on for the forward pass (nothing for No).
  class Scope {
   public:
    explicit Scope(bool enabled, at::ScalarType dtype);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    bool enabled_;
  };
  std::unique_ptr<Scope> autocast() const;

  // loss.backward(), scaled with fp16.
  void backward(const torch::Tensor& loss) const;
  // Divides the gradients by the scale; false when one is not finite (the step must be skipped).
  bool unscale(const NamedParameters& parameters) const;
  // Adjusts the scale after a step (ok = the step was taken).
  void update(bool ok);

  double scale() const { return scale_; }

 private:
  MixedPrecision precision_;
  bool active_ = false;
  double scale_ = 1.0;
  int good_steps_ = 0;
};

}  // namespace kiln::training
