#pragma once
// AdamW and gradient clipping exactly as torch.optim.AdamW (single-tensor path, decoupled weight
// decay) and torch.nn.utils.clip_grad_norm_ compute them, with the state exposed by name so that a
// training checkpoint can hold it and a resumed run continues bit for bit.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace kiln::training {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double weight_decay = 1e-2;
  double eps = 1e-8;
};

using NamedParameters = std::vector<std::pair<std::string, torch::Tensor>>;

// What the trainer steps: AdamW here, the memory savers of memory_optimizers.h.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update with learning rate `lr` of every parameter that has a gradient.
  virtual void step(double lr) = 0;
  void zero_grad();
  virtual std::int64_t steps() const = 0;
  virtual const NamedParameters& parameters() const = 0;
  // The state as named tensors (a checkpoint holds them); the step count travels separately.
  virtual NamedParameters state() const = 0;
  // Restores what state() returned. Throws FormatError (naming `source`) for a missing or
  // mis-shaped entry.
  virtual void load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) = 0;
  // Bytes of the state tensors.
  std::int64_t state_bytes() const;
};

class AdamW : public Optimizer {
 public:
  AdamW(NamedParameters parameters, AdamWOptions options = {});

  // One update with learning rate `lr` of every parameter that has a gradient:
  //   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
  //   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  void step(double lr) override;

  std::int64_t steps() const override { return steps_; }
  const NamedParameters& parameters() const override { return parameters_; }
  const AdamWOptions& options() const { return options_; }

  // "exp_avg.<name>", "exp_avg_sq.<name>" (fp32, on the parameters' device) for every parameter
  // that has state.
  NamedParameters state() const override;
  void load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) override;

 private:
  NamedParameters parameters_;
  AdamWOptions options_;
  std::vector<torch::Tensor> exp_avg_;
  std::vector<torch::Tensor> exp_avg_sq_;
  std::int64_t steps_ = 0;
};

// torch.nn.utils.clip_grad_norm_(parameters, max_norm) with norm_type 2: returns the total norm
// of all gradients before clipping and scales them by min(1, max_norm / (norm + 1e-6)).
// max_norm <= 0 only measures.
double clip_grad_norm(const NamedParameters& parameters, double max_norm);

}  // namespace kiln::training
