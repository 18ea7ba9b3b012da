#pragma once
// The Stable Diffusion VAE as diffusers 0.32 writes it (AutoencoderKL with DownEncoderBlock2D /
// UpDecoderBlock2D blocks). Registered names are diffusers' state_dict names, so
// named_parameters() yields `encoder.down_blocks.0.resnets.0.norm1.weight` etc., in diffusers'
// order.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/torch.h>
#include <nlohmann/json_fwd.hpp>

#include "models/layers.h"

namespace kiln::io {
class DiffusersFolder;
}

namespace kiln::models {

// The fields of diffusers' AutoencoderKL config.json that shape the model.
struct AutoencoderKLConfig {
  std::int64_t in_channels = 3;
  std::int64_t out_channels = 3;
  std::vector<std::int64_t> block_out_channels = {128, 256, 512, 512};
  std::int64_t layers_per_block = 2;
  std::int64_t latent_channels = 4;
  std::int64_t norm_num_groups = 32;
  double scaling_factor = 0.18215;
  std::optional<double> shift_factor;  // null for SD 1.x/2.x/SDXL
  bool use_quant_conv = true;
  bool use_post_quant_conv = true;
  bool mid_block_add_attention = true;
  bool force_upcast = true;  // informational: SDXL's VAE overflows in fp16
  std::int64_t sample_size = 512;  // the image size it was trained at: the default tile size


  // From config.json. Only DownEncoderBlock2D / UpDecoderBlock2D blocks and the silu activation
  // are supported; anything else, or a missing/invalid field, throws kiln::FormatError naming `path`.
  static AutoencoderKLConfig from_json(const nlohmann::json& config, const std::filesystem::path& path = {});

  static AutoencoderKLConfig sd();    // SD 1.x / 2.x (scaling_factor 0.18215)
  static AutoencoderKLConfig sdxl();  // SDXL (scaling_factor 0.13025)
};

// diffusers' enable_tiling(): beyond one tile, the image (encode) or latents (decode) are cut into
// overlapping tiles that are processed one by one and blended linearly over the overlap, so
// memory is bounded by the tile size, not the image size, and no seam shows.
struct VAETiling {
  bool enabled = false;
  std::int64_t tile_sample_size = 0;  // pixels; 0 = the config's sample_size
  double overlap = 0.25;              // fraction of a tile shared with its neighbour
};

// diffusers' DiagonalGaussianDistribution of the encoder's moments.
struct DiagonalGaussian {
  torch::Tensor mean;    // [B, latent, H/8, W/8]
  torch::Tensor logvar;  // clamped to [-30, 20]
  torch::Tensor std;     // exp(0.5 logvar)

  // The noise `sample` draws: randn of mean's shape from `generator` (a CPU generator gives the
  // same numbers as torch.randn(shape, generator=g) - what diffusers' randn_tensor does for it).
  torch::Tensor noise(const at::Generator& generator) const;
  // mean + std * noise(generator).
  torch::Tensor sample(const at::Generator& generator) const;
  torch::Tensor sample_with_noise(const torch::Tensor& noise) const;
  const torch::Tensor& mode() const { return mean; }
};

class VAEResnetBlockImpl : public torch::nn::Module {
 public:
  VAEResnetBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);

  GroupNorm norm1{nullptr};
  Conv2d conv1{nullptr};
  GroupNorm norm2{nullptr};
  Conv2d conv2{nullptr};
  Conv2d conv_shortcut{nullptr};  // 1x1, only when the channel count changes
};
TORCH_MODULE(VAEResnetBlock);

// Single-head spatial self-attention (diffusers' Attention with group_norm and a residual).
class VAEAttentionImpl : public torch::nn::Module {
 public:
  VAEAttentionImpl(std::int64_t channels, std::int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);

  GroupNorm group_norm{nullptr};
  Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
  torch::nn::ModuleList to_out{nullptr};  // [0] = Linear (diffusers' [1] is a Dropout)
};
TORCH_MODULE(VAEAttention);

// UNetMidBlock2D without time embedding: resnets[0], attentions[0], resnets[1].
class VAEMidBlockImpl : public torch::nn::Module {
 public:
  VAEMidBlockImpl(std::int64_t channels, std::int64_t groups, bool add_attention);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList attentions{nullptr};  // empty without attention
  torch::nn::ModuleList resnets{nullptr};
};
TORCH_MODULE(VAEMidBlock);

// Downsample2D: pad (0, 1, 0, 1) with zeros, then `conv` 3x3 stride 2 padding 0.
class VAEDownsampleImpl : public torch::nn::Module {
 public:
  explicit VAEDownsampleImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  Conv2d conv{nullptr};
};
TORCH_MODULE(VAEDownsample);

// Upsample2D: nearest x2, then `conv` 3x3 padding 1.
class VAEUpsampleImpl : public torch::nn::Module {
 public:
  explicit VAEUpsampleImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  Conv2d conv{nullptr};
};
TORCH_MODULE(VAEUpsample);

// DownEncoderBlock2D (resnets, optional downsamplers[0]) or UpDecoderBlock2D (resnets, optional
// upsamplers[0]); the sampler list is registered only when the block has one.
class VAEDownBlockImpl : public torch::nn::Module {
 public:
  VAEDownBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t layers, std::int64_t groups,
                   bool add_downsample);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList downsamplers{nullptr};
};
TORCH_MODULE(VAEDownBlock);

class VAEUpBlockImpl : public torch::nn::Module {
 public:
  VAEUpBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t layers, std::int64_t groups,
                 bool add_upsample);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList upsamplers{nullptr};
};
TORCH_MODULE(VAEUpBlock);

class VAEEncoderImpl : public torch::nn::Module {
 public:
  explicit VAEEncoderImpl(const AutoencoderKLConfig& config);
  // [B, in, H, W] -> [B, 2 * latent, H / 2^(levels-1), W / 2^(levels-1)]
  torch::Tensor forward(const torch::Tensor& x);

  Conv2d conv_in{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};  // VAEDownBlock
  VAEMidBlock mid_block{nullptr};
  GroupNorm conv_norm_out{nullptr};
  Conv2d conv_out{nullptr};
};
TORCH_MODULE(VAEEncoder);

class VAEDecoderImpl : public torch::nn::Module {
 public:
  explicit VAEDecoderImpl(const AutoencoderKLConfig& config);
  // [B, latent, h, w] -> [B, out, h * 2^(levels-1), w * 2^(levels-1)]
  torch::Tensor forward(const torch::Tensor& z);

  Conv2d conv_in{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};  // VAEUpBlock, block_out_channels reversed
  VAEMidBlock mid_block{nullptr};
  GroupNorm conv_norm_out{nullptr};
  Conv2d conv_out{nullptr};
};
TORCH_MODULE(VAEDecoder);

class AutoencoderKLImpl : public torch::nn::Module {
 public:
  explicit AutoencoderKLImpl(const AutoencoderKLConfig& config);

  // image [B, in, H, W] in [-1, 1] -> the latent distribution (unscaled: multiply a sample by
  // config().scaling_factor for the diffusion model).
  DiagonalGaussian encode(const torch::Tensor& image);
  // quant_conv(encoder(image)): [B, 2 * latent, h, w]
  torch::Tensor encode_moments(const torch::Tensor& image);
  static DiagonalGaussian distribution(const torch::Tensor& moments);
  // latents [B, latent, h, w] (unscaled: divide the diffusion latents by scaling_factor first)
  // -> image [B, out, H, W], roughly in [-1, 1].
  torch::Tensor decode(const torch::Tensor& latents);

  // Tiling applies to encode/encode_moments/decode when the input exceeds one tile. Tiled and
  // untiled results differ slightly (GroupNorm statistics are per tile), exactly as in diffusers.
  void set_tiling(const VAETiling& tiling);
  const VAETiling& tiling() const { return tiling_; }
  // The tiled algorithms themselves (diffusers' tiled_encode / tiled_decode), used by the above.
  torch::Tensor tiled_encode_moments(const torch::Tensor& image);
  torch::Tensor tiled_decode(const torch::Tensor& latents);
  std::int64_t downscale_factor() const;  // 2^(levels-1): 8 for SD

  const AutoencoderKLConfig& config() const { return config_; }
  torch::Device device() const;
  torch::Dtype dtype() const;

  VAEEncoder encoder{nullptr};
  VAEDecoder decoder{nullptr};
  Conv2d quant_conv{nullptr};       // 1x1, only with use_quant_conv
  Conv2d post_quant_conv{nullptr};  // 1x1, only with use_post_quant_conv

 private:
  std::int64_t tile_sample_size() const;
  AutoencoderKLConfig config_;
  VAETiling tiling_;
};
TORCH_MODULE(AutoencoderKL);

// Builds the VAE of a diffusers component folder (config.json + weights, e.g. `vae/`) or of a
// pipeline folder's `component`, loads its weights (strict, one report of every mismatch) and
// returns it in fp32 on the CPU, in eval mode.
AutoencoderKL load_autoencoder_kl(const io::DiffusersFolder& folder, const std::string& component);
AutoencoderKL load_autoencoder_kl(const std::filesystem::path& component_folder);

}  // namespace kiln::models
