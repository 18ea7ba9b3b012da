#include "models/unet_blocks.h"

#include "models/attention.h"
#include "models/checkpointing.h"

#include <cmath>
#include <memory>
#include <vector>

namespace kiln::models {

namespace {

constexpr double kTransformerNormEps = 1e-6;  // Transformer2DModel GroupNorm
constexpr double kLayerNormEps = 1e-5;        // BasicTransformerBlock LayerNorms

Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1) {
  return Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

GroupNorm group_norm(std::int64_t groups, std::int64_t channels, double eps) {
  return GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(eps));
}

LayerNorm layer_norm(std::int64_t dim) {
  return LayerNorm(torch::nn::LayerNormOptions({dim}).eps(kLayerNormEps));
}

Linear linear(std::int64_t in, std::int64_t out, bool bias = true) {
  return Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// module->forward(x, y) (a ResnetBlock2D with temb, a Transformer2DModel with the context), under
// checkpointed() when the block checkpoints and grad mode is on.
template <typename ModuleImpl>
torch::Tensor run(const std::shared_ptr<ModuleImpl>& module, const torch::Tensor& x, const torch::Tensor& y,
                  bool checkpoint) {
  if (!checkpoint || !torch::GradMode::is_enabled()) return module->forward(x, y);
  return checkpointed([module](const std::vector<torch::Tensor>& in) { return module->forward(in[0], in[1]); }, {x, y},
                      module->parameters());
}

}  // namespace

torch::Tensor timestep_embedding(const torch::Tensor& timesteps, std::int64_t dim, bool flip_sin_to_cos,
                                 double freq_shift) {
  TORCH_CHECK(timesteps.dim() == 1, "timestep_embedding expects a 1-d tensor of timesteps");
  const std::int64_t half = dim / 2;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(timesteps.device());
  torch::Tensor exponent = -std::log(10000.0) * torch::arange(0, half, opts);
  exponent = exponent / (static_cast<double>(half) - freq_shift);
  const torch::Tensor freqs = torch::exp(exponent);                                          // [half]
  const torch::Tensor args = timesteps.unsqueeze(1).to(torch::kFloat) * freqs.unsqueeze(0);  // [N, half]
  torch::Tensor emb = flip_sin_to_cos ? torch::cat({torch::cos(args), torch::sin(args)}, -1)
                                      : torch::cat({torch::sin(args), torch::cos(args)}, -1);
  if (dim % 2 == 1) emb = torch::nn::functional::pad(emb, torch::nn::functional::PadFuncOptions({0, 1}));
  return emb;  // [N, dim]
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(std::int64_t in_channels, std::int64_t time_embed_dim) {
  linear_1 = register_module("linear_1", linear(in_channels, time_embed_dim));
  linear_2 = register_module("linear_2", linear(time_embed_dim, time_embed_dim));
}

torch::Tensor TimestepEmbeddingImpl::forward(const torch::Tensor& x) {
  return linear_2(torch::silu(linear_1(x)));  // [N, in] -> [N, time_embed_dim]
}

ResnetBlock2DImpl::ResnetBlock2DImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t temb_channels,
                                     std::int64_t groups, double eps) {
  norm1 = register_module("norm1", group_norm(groups, in_channels, eps));
  conv1 = register_module("conv1", conv(in_channels, out_channels, 3));
  time_emb_proj = register_module("time_emb_proj", linear(temb_channels, out_channels));
  norm2 = register_module("norm2", group_norm(groups, out_channels, eps));
  conv2 = register_module("conv2", conv(out_channels, out_channels, 3));
  if (in_channels != out_channels) conv_shortcut = register_module("conv_shortcut", conv(in_channels, out_channels, 1));
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  torch::Tensor h = conv1(torch::silu(norm1(x)));                        // [B, out, H, W]
  h = h + time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1);  // + [B, out, 1, 1]
  h = conv2(torch::silu(norm2(h)));                                      // dropout: identity in eval
  return (conv_shortcut ? conv_shortcut(x) : x) + h;                     // output_scale_factor 1
}

CrossAttentionImpl::CrossAttentionImpl(std::int64_t query_dim, std::int64_t context_dim, std::int64_t heads,
                                       std::int64_t head_dim, bool upcast_attention)
    : heads_(heads), head_dim_(head_dim), upcast_(upcast_attention) {
  const std::int64_t inner = heads * head_dim;
  to_q = register_module("to_q", linear(query_dim, inner, false));
  to_k = register_module("to_k", linear(context_dim, inner, false));
  to_v = register_module("to_v", linear(context_dim, inner, false));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out->push_back(linear(inner, query_dim));
}

torch::Tensor CrossAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  const torch::Tensor& ctx = context.defined() ? context : x;
  const std::int64_t b = x.size(0);
  // [B, N, inner] -> [B, heads, N, head_dim]
  auto split = [&](const torch::Tensor& t) { return t.view({b, -1, heads_, head_dim_}).transpose(1, 2); };
  const torch::Tensor q = split(to_q(x));
  const torch::Tensor k = split(to_k(ctx));
  const torch::Tensor v = split(to_v(ctx));
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  const torch::Tensor out = attention(q, k, v, scale, upcast_)  // [B, heads, N, head_dim]
                                .transpose(1, 2)
                                .reshape({b, -1, heads_ * head_dim_});
  return to_out[0]->as<Linear>()->forward(out);  // [B, N, query_dim]
}

GEGLUImpl::GEGLUImpl(std::int64_t dim_in, std::int64_t dim_out) {
  proj = register_module("proj", linear(dim_in, dim_out * 2));
}

torch::Tensor GEGLUImpl::forward(const torch::Tensor& x) {
  const auto parts = proj(x).chunk(2, -1);  // hidden, gate: [B, N, dim_out] each
  return parts[0] * torch::gelu(parts[1]);
}

FeedForwardImpl::FeedForwardImpl(std::int64_t dim) {
  net = register_module("net", torch::nn::ModuleList());
  net->push_back(GEGLU(dim, dim * 4));
  net->push_back(torch::nn::Dropout(0.0));
  net->push_back(linear(dim * 4, dim));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  const torch::Tensor h = net[0]->as<GEGLU>()->forward(x);  // [B, N, 4 dim]
  return net[2]->as<Linear>()->forward(h);       // [B, N, dim]
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t head_dim,
                                                     std::int64_t context_dim, bool upcast_attention) {
  norm1 = register_module("norm1", layer_norm(dim));
  attn1 = register_module("attn1", CrossAttention(dim, dim, heads, head_dim, upcast_attention));
  norm2 = register_module("norm2", layer_norm(dim));
  attn2 = register_module("attn2", CrossAttention(dim, context_dim, heads, head_dim, upcast_attention));
  norm3 = register_module("norm3", layer_norm(dim));
  ff = register_module("ff", FeedForward(dim));
}

torch::Tensor BasicTransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  torch::Tensor h = attn1(norm1(x)) + x;  // self-attention, [B, N, dim]
  h = attn2(norm2(h), context) + h;       // cross-attention on the text
  return ff(norm3(h)) + h;
}

Transformer2DModelImpl::Transformer2DModelImpl(std::int64_t channels, const TransformerOptions& options)
    : linear_(options.use_linear_projection) {
  const std::int64_t head_dim = channels / options.heads;
  const std::int64_t inner = options.heads * head_dim;
  norm = register_module("norm", group_norm(options.groups, channels, kTransformerNormEps));
  if (linear_) {
    proj_in_linear = register_module("proj_in", linear(channels, inner));
  } else {
    proj_in_conv = register_module("proj_in", conv(channels, inner, 1));
  }
  transformer_blocks = register_module("transformer_blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.layers; ++i) {
    transformer_blocks->push_back(
        BasicTransformerBlock(inner, options.heads, head_dim, options.context_dim, options.upcast_attention));
  }
  if (linear_) {
    proj_out_linear = register_module("proj_out", linear(inner, channels));
  } else {
    proj_out_conv = register_module("proj_out", conv(inner, channels, 1));
  }
}

torch::Tensor Transformer2DModelImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  const std::int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  torch::Tensor t = norm(x);  // [B, C, H, W]
  if (linear_) {
    t = proj_in_linear(t.permute({0, 2, 3, 1}).reshape({b, h * w, -1}));  // [B, HW, inner]
  } else {
    t = proj_in_conv(t);                                  // [B, inner, H, W]
    t = t.permute({0, 2, 3, 1}).reshape({b, h * w, -1});  // [B, HW, inner]
  }
  for (const auto& block : *transformer_blocks) t = block->as<BasicTransformerBlock>()->forward(t, context);
  if (linear_) {
    t = proj_out_linear(t);                                           // [B, HW, C]
    t = t.reshape({b, h, w, -1}).permute({0, 3, 1, 2}).contiguous();  // [B, C, H, W]
  } else {
    t = t.reshape({b, h, w, -1}).permute({0, 3, 1, 2}).contiguous();  // [B, inner, H, W]
    t = proj_out_conv(t);                                             // [B, C, H, W]
  }
  return t + x;
}

Downsample2DImpl::Downsample2DImpl(std::int64_t channels) {
  conv = register_module("conv", kiln::models::conv(channels, channels, 3, 2));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) { return conv(x); }  // [B, C, H/2, W/2]

Upsample2DImpl::Upsample2DImpl(std::int64_t channels) {
  conv = register_module("conv", kiln::models::conv(channels, channels, 3));
}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x, std::optional<std::vector<std::int64_t>> size) {
  namespace F = torch::nn::functional;
  auto opts = F::InterpolateFuncOptions().mode(torch::kNearest);
  if (size) {
    opts.size(*size);
  } else {
    opts.scale_factor(std::vector<double>{2.0, 2.0});
  }
  return conv(F::interpolate(x, opts));  // [B, C, 2H, 2W]
}

UNetDownBlockImpl::UNetDownBlockImpl(const UNetBlockOptions& o) {
  if (o.cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < o.layers; ++i) {
    resnets->push_back(ResnetBlock2D(i == 0 ? o.in_channels : o.out_channels, o.out_channels, o.temb_channels, o.groups,
                                     o.resnet_eps));
    if (o.cross_attention) attentions->push_back(Transformer2DModel(o.out_channels, o.transformer));
  }
  if (o.add_sampler) {
    downsamplers = register_module("downsamplers", torch::nn::ModuleList());
    downsamplers->push_back(Downsample2D(o.out_channels));
  }
}

torch::Tensor UNetDownBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& temb,
                                         const torch::Tensor& context, std::vector<torch::Tensor>& skips) {
  torch::Tensor h = x;
  for (std::size_t i = 0; i < resnets->size(); ++i) {
    h = run(resnets->ptr<ResnetBlock2DImpl>(i), h, temb, gradient_checkpointing);  // [B, out, H, W]
    if (attentions) h = run(attentions->ptr<Transformer2DModelImpl>(i), h, context, gradient_checkpointing);
    skips.push_back(h);
  }
  if (downsamplers) {
    h = downsamplers[0]->as<Downsample2D>()->forward(h);  // [B, out, H/2, W/2]
    skips.push_back(h);
  }
  return h;
}

UNetUpBlockImpl::UNetUpBlockImpl(const UNetBlockOptions& o) {
  if (o.cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < o.layers; ++i) {
    const std::int64_t skip_channels = i == o.layers - 1 ? o.in_channels : o.out_channels;
    const std::int64_t resnet_in = i == 0 ? o.prev_output_channels : o.out_channels;
    resnets->push_back(
        ResnetBlock2D(resnet_in + skip_channels, o.out_channels, o.temb_channels, o.groups, o.resnet_eps));
    if (o.cross_attention) attentions->push_back(Transformer2DModel(o.out_channels, o.transformer));
  }
  if (o.add_sampler) {
    upsamplers = register_module("upsamplers", torch::nn::ModuleList());
    upsamplers->push_back(Upsample2D(o.out_channels));
  }
}

torch::Tensor UNetUpBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& temb, const torch::Tensor& context,
                                       std::vector<torch::Tensor>& skips,
                                       std::optional<std::vector<std::int64_t>> upsample_size) {
  torch::Tensor h = x;
  for (std::size_t i = 0; i < resnets->size(); ++i) {
    TORCH_CHECK(!skips.empty(), "UNet up block: ran out of skip connections");
    h = torch::cat({h, skips.back()}, 1);  // [B, prev + skip, H, W]
    skips.pop_back();
    h = run(resnets->ptr<ResnetBlock2DImpl>(i), h, temb, gradient_checkpointing);  // [B, out, H, W]
    if (attentions) h = run(attentions->ptr<Transformer2DModelImpl>(i), h, context, gradient_checkpointing);
  }
  if (upsamplers) h = upsamplers[0]->as<Upsample2D>()->forward(h, std::move(upsample_size));  // [B, out, 2H, 2W]
  return h;
}

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& o) {
  attentions = register_module("attentions", torch::nn::ModuleList());
  resnets = register_module("resnets", torch::nn::ModuleList());
  resnets->push_back(ResnetBlock2D(o.in_channels, o.in_channels, o.temb_channels, o.groups, o.resnet_eps));
  for (std::int64_t i = 0; i < o.layers; ++i) {
    attentions->push_back(Transformer2DModel(o.in_channels, o.transformer));
    resnets->push_back(ResnetBlock2D(o.in_channels, o.in_channels, o.temb_channels, o.groups, o.resnet_eps));
  }
}

torch::Tensor UNetMidBlock2DCrossAttnImpl::forward(const torch::Tensor& x, const torch::Tensor& temb,
                                                   const torch::Tensor& context) {
  torch::Tensor h = run(resnets->ptr<ResnetBlock2DImpl>(0), x, temb, gradient_checkpointing);  // [B, C, H, W]
  for (std::size_t i = 0; i < attentions->size(); ++i) {
    h = run(attentions->ptr<Transformer2DModelImpl>(i), h, context, gradient_checkpointing);
    h = run(resnets->ptr<ResnetBlock2DImpl>(i + 1), h, temb, gradient_checkpointing);
  }
  return h;
}

}  // namespace kiln::models
