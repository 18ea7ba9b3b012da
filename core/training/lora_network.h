#pragma once
// LoRA adapters for training: a low-rank update W = W0 + (alpha / rank) * up @ down on chosen
// Linear layers of a model, with W0 frozen. The adapter is applied by re-parametrisation: before
// each forward pass apply() sets every adapted layer's weight to the sum (a tensor in the autograd
// graph of up/down), so the models' own forward code needs no LoRA branch; detach() puts the
// original parameters back. Tensors are named as kohya's sd-scripts and AUTOMATIC1111 name them:
// `lora_unet_<module path with _>.lora_down.weight` / `.lora_up.weight` / `.alpha`.
// Initialisation as kohya: down ~ kaiming_uniform(a = sqrt 5) = U(-1/sqrt(in), 1/sqrt(in)), up = 0,
// so a new adapter leaves the model unchanged.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "io/safetensors.h"
#include "training/optimizer.h"

namespace kiln::training {

// `lora_unet` + `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q` ->
// `lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`.
std::string kohya_module_name(std::string_view prefix, std::string_view module_path);

// The layers diffusers' LoRA examples adapt: the UNet's attention projections
// (to_q, to_k, to_v, to_out.0) and the text encoder's (q_proj, k_proj, v_proj, out_proj).
const std::vector<std::string>& unet_lora_targets();
const std::vector<std::string>& text_encoder_lora_targets();

class LoRANetwork {
 public:
  LoRANetwork();
  // Adapts every Linear (models/layers.h) of `root` whose path ends with one of `targets` (a whole path
  // segment). Throws InvalidRequestError when none matches.
  LoRANetwork(torch::nn::Module& root, std::string prefix, const std::vector<std::string>& targets, int rank,
              double alpha, at::Generator& generator);
  ~LoRANetwork();
  LoRANetwork(LoRANetwork&&) noexcept;
  LoRANetwork& operator=(LoRANetwork&&) noexcept;

  bool empty() const { return layers_.empty(); }
  std::size_t size() const { return layers_.size(); }
  int rank() const { return rank_; }
  double alpha() const { return alpha_; }

  // Sets each adapted weight to W0 + scale * up @ down (in the graph unless under NoGradGuard).
  void apply();
  // Restores the original parameters (the model without the adapter).
  void detach();
  // Trainable tensors named `<kohya name>.lora_down.weight` / `.lora_up.weight`.
  NamedParameters parameters() const;
  void set_requires_grad(bool on);
  // parameters() plus `<kohya name>.alpha` scalars, converted to `dtype`: the kohya file content.
  io::NamedTensors export_tensors(torch::Dtype dtype) const;
  // Copies values from tensors named as parameters() (a checkpoint or an exported file). Throws
  // FormatError naming `source` for a missing or mis-shaped tensor.
  void load(const io::NamedTensors& tensors, const std::string& source);

 private:
  struct Layer;
  std::vector<std::unique_ptr<Layer>> layers_;
  int rank_ = 0;
  double alpha_ = 0;
};

}  // namespace kiln::training
