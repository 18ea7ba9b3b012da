#pragma once
// The building blocks of diffusers' UNet2DConditionModel (diffusers 0.32 names): ResnetBlock2D with a
// time embedding, Transformer2DModel + BasicTransformerBlock, Downsample2D / Upsample2D with conv,
// the cross-attention and plain down/up blocks, the cross-attention mid block and the sinusoidal
// timestep embedding. Registered names are diffusers' state_dict key segments.

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "models/layers.h"

namespace kiln::models {

// diffusers' get_timestep_embedding: timesteps [N] (any numeric dtype, taken as-is) -> [N, dim] fp32
// sinusoids, exponent -ln(10000) * i / (dim/2 - freq_shift); [cos, sin] with flip_sin_to_cos.
torch::Tensor timestep_embedding(const torch::Tensor& timesteps, std::int64_t dim, bool flip_sin_to_cos,
                                 double freq_shift);

// TimestepEmbedding: linear_1 -> silu -> linear_2.
class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(std::int64_t in_channels, std::int64_t time_embed_dim);
  torch::Tensor forward(const torch::Tensor& x);

  Linear linear_1{nullptr};
  Linear linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

// ResnetBlock2D (time_embedding_norm "default", output_scale_factor 1).
class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  ResnetBlock2DImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t temb_channels,
                    std::int64_t groups, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb);

  GroupNorm norm1{nullptr};
  Conv2d conv1{nullptr};
  Linear time_emb_proj{nullptr};
  GroupNorm norm2{nullptr};
  Conv2d conv2{nullptr};
  Conv2d conv_shortcut{nullptr};  // 1x1, only when the channel count changes
};
TORCH_MODULE(ResnetBlock2D);

// diffusers' Attention with AttnProcessor: to_q/to_k/to_v without bias, to_out[0] with bias.
// Self-attention when forward gets no context.
class CrossAttentionImpl : public torch::nn::Module {
 public:
  CrossAttentionImpl(std::int64_t query_dim, std::int64_t context_dim, std::int64_t heads, std::int64_t head_dim,
                     bool upcast_attention);
  // x [B, N, query_dim], context [B, M, context_dim] (undefined: self-attention) -> [B, N, query_dim]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

  Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
  torch::nn::ModuleList to_out{nullptr};  // [0] = Linear (diffusers' [1] is a Dropout)

 private:
  std::int64_t heads_;
  std::int64_t head_dim_;
  bool upcast_;
};
TORCH_MODULE(CrossAttention);

// GEGLU: proj -> (hidden, gate) halves -> hidden * gelu(gate).
class GEGLUImpl : public torch::nn::Module {
 public:
  GEGLUImpl(std::int64_t dim_in, std::int64_t dim_out);
  torch::Tensor forward(const torch::Tensor& x);

  Linear proj{nullptr};
};
TORCH_MODULE(GEGLU);

// FeedForward: net[0] = GEGLU(dim, 4 dim), net[1] = Dropout (identity in eval), net[2] = Linear(4 dim, dim).
class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(std::int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList net{nullptr};
};
TORCH_MODULE(FeedForward);

// BasicTransformerBlock: self-attention, cross-attention, GEGLU feed-forward, each pre-LayerNorm
// with a residual.
class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  BasicTransformerBlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t head_dim, std::int64_t context_dim,
                            bool upcast_attention);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

  LayerNorm norm1{nullptr};
  CrossAttention attn1{nullptr};
  LayerNorm norm2{nullptr};
  CrossAttention attn2{nullptr};
  LayerNorm norm3{nullptr};
  FeedForward ff{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

struct TransformerOptions {
  std::int64_t heads = 8;
  std::int64_t layers = 1;
  std::int64_t context_dim = 768;
  std::int64_t groups = 32;
  bool use_linear_projection = false;
  bool upcast_attention = false;
};

// Transformer2DModel (continuous input): GroupNorm (eps 1e-6), proj_in (1x1 conv or Linear),
// transformer_blocks, proj_out, residual.
class Transformer2DModelImpl : public torch::nn::Module {
 public:
  Transformer2DModelImpl(std::int64_t channels, const TransformerOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

  GroupNorm norm{nullptr};
  torch::nn::ModuleList transformer_blocks{nullptr};

  Conv2d proj_in_conv{nullptr}, proj_out_conv{nullptr};  // registered as proj_in / proj_out
  Linear proj_in_linear{nullptr}, proj_out_linear{nullptr};

 private:
  bool linear_;
};
TORCH_MODULE(Transformer2DModel);

// Downsample2D with conv: 3x3 stride 2 padding 1.
class Downsample2DImpl : public torch::nn::Module {
 public:
  explicit Downsample2DImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  Conv2d conv{nullptr};
};
TORCH_MODULE(Downsample2D);

// Upsample2D with conv: nearest x2 (or to `size`), then 3x3 conv padding 1.
class Upsample2DImpl : public torch::nn::Module {
 public:
  explicit Upsample2DImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x, std::optional<std::vector<std::int64_t>> size = std::nullopt);

  Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

struct UNetBlockOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t prev_output_channels = 0;  // up blocks only
  std::int64_t temb_channels = 0;
  std::int64_t layers = 1;
  std::int64_t groups = 32;
  double resnet_eps = 1e-5;
  bool cross_attention = false;  // CrossAttn*Block2D vs Down/UpBlock2D
  bool add_sampler = true;       // downsamplers[0] / upsamplers[0]
  TransformerOptions transformer;
};

// CrossAttnDownBlock2D (attentions + resnets) or DownBlock2D (resnets only), optional downsamplers.
class UNetDownBlockImpl : public torch::nn::Module {
 public:
  explicit UNetDownBlockImpl(const UNetBlockOptions& options);
  // Returns the block's output; appends every resnet(+attention) output and the downsampled
  // output to `skips`.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb, const torch::Tensor& context,
                        std::vector<torch::Tensor>& skips);

  torch::nn::ModuleList attentions{nullptr};  // Transformer2DModel; only for CrossAttnDownBlock2D
  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList downsamplers{nullptr};

  // Training: each resnet and attention call under checkpointed() (models/checkpointing.h) while
  // grad mode is on. A plain member, not part of the state dict.
  bool gradient_checkpointing = false;
};
TORCH_MODULE(UNetDownBlock);

// CrossAttnUpBlock2D / UpBlock2D: layers+1 resnets, each fed cat(h, skip).
class UNetUpBlockImpl : public torch::nn::Module {
 public:
  explicit UNetUpBlockImpl(const UNetBlockOptions& options);
  // Consumes resnets->size() tensors from the back of `skips`. `upsample_size`: the spatial size
  // of the next skip (nearest interpolation to it).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb, const torch::Tensor& context,
                        std::vector<torch::Tensor>& skips,
                        std::optional<std::vector<std::int64_t>> upsample_size = std::nullopt);

  torch::nn::ModuleList attentions{nullptr};
  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList upsamplers{nullptr};

  bool gradient_checkpointing = false;  // as UNetDownBlockImpl's
};
TORCH_MODULE(UNetUpBlock);

// UNetMidBlock2DCrossAttn: resnets[0], then attentions[0], resnets[1].
class UNetMidBlock2DCrossAttnImpl : public torch::nn::Module {
 public:
  explicit UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb, const torch::Tensor& context);

  torch::nn::ModuleList attentions{nullptr};
  torch::nn::ModuleList resnets{nullptr};

  bool gradient_checkpointing = false;  // as UNetDownBlockImpl's
};
TORCH_MODULE(UNetMidBlock2DCrossAttn);

}  // namespace kiln::models
