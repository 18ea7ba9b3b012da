#pragma once
// Optimizers that keep less state than fp32 AdamW's 8 bytes a parameter, for big models on one
// card, written in LibTorch ops (they run wherever the parameters are):
//
// AdamW8bit: bitsandbytes' block-wise 8-bit AdamW (Dettmers et al., "8-bit Optimizers via
//   Block-wise Quantization"). Both moments are stored as 8-bit codes of bitsandbytes' dynamic
//   quantization maps (signed for m, unsigned for v) relative to the absolute maximum of each
//   block of 256 values (its current kernels' block size). A step dequantizes the moments,
//   updates them and the parameter in fp32 exactly as AdamW does, then re-quantizes each block
//   to the nearest code under its new maximum. Tensors under 4096 values keep fp32 moments, as
//   bitsandbytes' min_8bit_size does. State: 2 bytes + 8/256 a parameter.
// Adafactor: Shazeer & Stern's, as transformers.optimization.Adafactor computes it with an
//   explicit learning rate (relative_step=False, scale_parameter=False, warmup_init=False,
//   beta1=None, clip_threshold=1, decay_rate=-0.8, eps1=1e-30; eps2 only matters with
//   scale_parameter): the second moment of a matrix (and of a conv kernel, over its last two dimensions) factored
//   into row and column averages, the update's RMS clipped to 1, decoupled weight decay. State:
//   rows + columns a matrix, the size of a vector.

#include <memory>

#include "training/optimizer.h"
#include "training/training_settings.h"

namespace kiln::training {

class AdamW8bit : public Optimizer {
 public:
  static constexpr std::int64_t kBlock = 256;
  static constexpr std::int64_t kMinQuantized = 4096;

  AdamW8bit(NamedParameters parameters, AdamWOptions options = {});
  void step(double lr) override;
  std::int64_t steps() const override { return steps_; }
  const NamedParameters& parameters() const override { return parameters_; }
  // Quantized tensors: "exp_avg_q.<name>" / "exp_avg_sq_q.<name>" (uint8 codes, flat, padded to
  // whole blocks) and "exp_avg_absmax.<name>" / "exp_avg_sq_absmax.<name>" (fp32 per block);
  // small ones "exp_avg.<name>" / "exp_avg_sq.<name>" (fp32) as AdamW.
  NamedParameters state() const override;
  void load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) override;

  // bitsandbytes' create_dynamic_map(signed, max_exponent_bits=7, total_bits=8): 256 sorted values.
  static torch::Tensor dynamic_map(bool is_signed);

 private:
  struct Moments {
    torch::Tensor m, v;                   // fp32 (small tensors)
    torch::Tensor m_q, v_q;               // uint8 codes
    torch::Tensor m_absmax, v_absmax;     // fp32 per block
  };
  NamedParameters parameters_;
  AdamWOptions options_;
  std::vector<Moments> state_;
  torch::Tensor map_signed_, map_unsigned_;
  std::int64_t steps_ = 0;
};

struct AdafactorOptions {
  double weight_decay = 0.0;
  double eps1 = 1e-30;          // added to g^2
  double clip_threshold = 1.0;  // the update's RMS is clipped to this
  double decay_rate = -0.8;     // beta2_t = 1 - t^decay_rate
};

class Adafactor : public Optimizer {
 public:
  Adafactor(NamedParameters parameters, AdafactorOptions options = {});
  void step(double lr) override;
  std::int64_t steps() const override { return steps_; }
  const NamedParameters& parameters() const override { return parameters_; }
  // "exp_avg_sq_row.<name>" and "exp_avg_sq_col.<name>" for tensors of 2 or more dimensions,
  // "exp_avg_sq.<name>" for the others (fp32).
  NamedParameters state() const override;
  void load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) override;

 private:
  struct Moments {
    torch::Tensor row, col, v;
  };
  NamedParameters parameters_;
  AdafactorOptions options_;
  std::vector<Moments> state_;
  std::int64_t steps_ = 0;
};

// The optimizer a session asks for; Adam's betas and eps are AdamW's and AdamW8bit's,
// weight_decay every one's.
std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, NamedParameters parameters, const AdamWOptions& adam);

}  // namespace kiln::training
