#pragma once
// Kiln's leaf layers: Conv2d, Linear, GroupNorm, LayerNorm and Embedding with the parameter names,
// shapes, registration order, random initialisation (the same calls on the same generator) and
// forward of torch::nn's, taking torch::nn's option structs, plus one thing torch::nn cannot do:
// skip the random initialisation.
//
// Why: torch::nn's constructors always fill every weight with kaiming_uniform_, a serial
// generator loop. Loading SD 1.5 builds 1.07 billion parameters only to overwrite them with the
// file's values; the random fill was most of a model load (4.8 s with it, 1.3 s without, here). While a
// SkipParameterInit guard lives on the thread, these layers allocate their parameters without
// filling them. The loader uses it only when every parameter will be written (load_weights
// refuses a file with missing keys before copying anything, and the half-built module is
// discarded on any error).

#include <cstdint>
#include <utility>

#include <torch/torch.h>

namespace kiln::models {

// While alive, layers constructed on this thread leave their parameters uninitialised. Nests.
class SkipParameterInit {
 public:
  SkipParameterInit();
  ~SkipParameterInit();
  SkipParameterInit(const SkipParameterInit&) = delete;
  SkipParameterInit& operator=(const SkipParameterInit&) = delete;
};

// True while a SkipParameterInit lives on this thread.
bool parameter_init_skipped();

// Constructs a module (holder) whose every parameter the caller is about to load from a file.
template <typename Holder, typename... Args>
Holder make_unfilled(Args&&... args) {
  SkipParameterInit skip;
  return Holder(std::forward<Args>(args)...);
}

// Gives every parameter fresh, uninitialised storage with `options` (dtype, device): for a module
// made unfilled that is about to be loaded, instead of converting its uninitialised fp32 memory
// (a bf16 load converted 4.3 GB of nothing first). Buffers are left alone.
void reallocate_parameters(torch::nn::Module& module, const torch::TensorOptions& options);

// Stores every 4-D parameter (convolution weights) channels-last. The convolutions then run in
// oneDNN's native NHWC layout without reordering their input and output on each call, and their
// outputs stay channels-last through norms, activations and upsampling: the 512x512 VAE decode
// takes 11 % less time in fp32 and 18 % less in bf16 here (docs/performance.md). Values are unchanged.
void use_channels_last(torch::nn::Module& module);

// torch::nn::Conv2d with zero padding given as numbers (the only mode Kiln's models use).
class Conv2dImpl : public torch::nn::Cloneable<Conv2dImpl> {
 public:
  explicit Conv2dImpl(torch::nn::Conv2dOptions options);
  void reset() override;
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  torch::nn::Conv2dOptions options;
  torch::Tensor weight;  // [out, in / groups, kh, kw]
  torch::Tensor bias;    // [out] or undefined
};
TORCH_MODULE(Conv2d);

class LinearImpl : public torch::nn::Cloneable<LinearImpl> {
 public:
  explicit LinearImpl(torch::nn::LinearOptions options);
  LinearImpl(std::int64_t in_features, std::int64_t out_features)
      : LinearImpl(torch::nn::LinearOptions(in_features, out_features)) {}
  void reset() override;
  void reset_parameters();
  // Uses the `weight` member (LoRA merging assigns it), not the registered parameter.
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  torch::nn::LinearOptions options;
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined
};
TORCH_MODULE(Linear);

class GroupNormImpl : public torch::nn::Cloneable<GroupNormImpl> {
 public:
  explicit GroupNormImpl(torch::nn::GroupNormOptions options);
  void reset() override;
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  torch::nn::GroupNormOptions options;
  torch::Tensor weight, bias;  // [channels] each when affine
};
TORCH_MODULE(GroupNorm);

class LayerNormImpl : public torch::nn::Cloneable<LayerNormImpl> {
 public:
  explicit LayerNormImpl(torch::nn::LayerNormOptions options);
  void reset() override;
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  torch::nn::LayerNormOptions options;
  torch::Tensor weight, bias;  // normalized_shape each when elementwise_affine
};
TORCH_MODULE(LayerNorm);

class EmbeddingImpl : public torch::nn::Cloneable<EmbeddingImpl> {
 public:
  EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim);
  void reset() override;
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& indices);
  void pretty_print(std::ostream& stream) const override;

  std::int64_t num_embeddings;
  std::int64_t embedding_dim;
  torch::Tensor weight;  // [num_embeddings, embedding_dim]
};
TORCH_MODULE(Embedding);

}  // namespace kiln::models
