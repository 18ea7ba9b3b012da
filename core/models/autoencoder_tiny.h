#pragma once
// TAESD / TAESDXL (madebyollin's tiny distilled autoencoder, MIT) as diffusers 0.32's
// AutoencoderTiny: convolutions and ReLUs only, 2.4 M parameters, a 512x512 decode in a fraction
// of the full VAE's time. Used for live previews during sampling and, when chosen, for the final
// decode. Registered names are diffusers' (`encoder.layers.<i>...`, `decoder.layers.<i>...`).
//
// Conventions (diffusers): images in [-1, 1] both ways; the latents are the diffusion model's
// (already scaled: scaling_factor 1.0); decode soft-clamps its input (tanh(z / 3) * 3) and does not
// clamp its output.
//
// Files that load (load_autoencoder_tiny): a diffusers folder (config.json +
// diffusion_pytorch_model.safetensors), one file in diffusers' layout, madebyollin's standalone
// taesd(xl)_decoder / taesd(xl)_encoder files (.safetensors or .pth; a decoder alone is enough for
// previews and decoding), and ComfyUI's combined state dict (taesd_decoder. / taesd_encoder. keys
// plus vae_scale / vae_shift).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json_fwd.hpp>

#include "models/layers.h"

namespace kiln::models {

struct AutoencoderTinyConfig {
  std::int64_t in_channels = 3;
  std::int64_t out_channels = 3;
  std::int64_t latent_channels = 4;
  std::vector<std::int64_t> encoder_block_out_channels = {64, 64, 64, 64};
  std::vector<std::int64_t> decoder_block_out_channels = {64, 64, 64, 64};
  std::vector<std::int64_t> num_encoder_blocks = {1, 3, 3, 3};
  std::vector<std::int64_t> num_decoder_blocks = {3, 3, 3, 1};
  std::int64_t upsampling_scaling_factor = 2;
  double scaling_factor = 1.0;

  // From config.json: relu activation and nearest upsampling only; anything else, or an invalid
  // field, throws kiln::FormatError naming `path`.
  static AutoencoderTinyConfig from_json(const nlohmann::json& config, const std::filesystem::path& path = {});
};

// relu(conv(relu(conv(relu(conv(x))))) + x): `conv` is a Sequential (0 conv, 1 relu, 2 conv,
// 3 relu, 4 conv), the skip an identity (TAESD's blocks never change the channel count).
class TinyBlockImpl : public torch::nn::Module {
 public:
  explicit TinyBlockImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential conv{nullptr};
};
TORCH_MODULE(TinyBlock);

// [B, 3, H, W] in [-1, 1] -> latents [B, latent, ceil(H/8), ceil(W/8)] (no clamp, no distribution).
class TinyEncoderImpl : public torch::nn::Module {
 public:
  explicit TinyEncoderImpl(const AutoencoderTinyConfig& config);
  torch::Tensor forward(const torch::Tensor& image);

  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(TinyEncoder);

// latents [B, latent, h, w] -> image [B, 3, 8h, 8w] in about [-1, 1] (not clamped).
class TinyDecoderImpl : public torch::nn::Module {
 public:
  explicit TinyDecoderImpl(const AutoencoderTinyConfig& config);
  torch::Tensor forward(const torch::Tensor& latents);

  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(TinyDecoder);

class AutoencoderTinyImpl : public torch::nn::Module {
 public:
  // Both halves, or the decoder only (`with_encoder` false: a standalone decoder file).
  explicit AutoencoderTinyImpl(const AutoencoderTinyConfig& config, bool with_encoder = true);

  bool has_encoder() const { return !encoder.is_empty(); }
  // image [B, 3, H, W] in [-1, 1] -> the diffusion model's latents (times scaling_factor, 1.0).
  // Throws kiln::InvalidRequestError when the model has no encoder.
  torch::Tensor encode(const torch::Tensor& image);
  // The diffusion model's latents -> image in about [-1, 1].
  torch::Tensor decode(const torch::Tensor& latents);

  const AutoencoderTinyConfig& config() const { return config_; }
  torch::Device device() const;
  torch::Dtype dtype() const;

  TinyEncoder encoder{nullptr};  // empty for a decoder-only model
  TinyDecoder decoder{nullptr};

 private:
  AutoencoderTinyConfig config_;
};
TORCH_MODULE(AutoencoderTiny);

// Which TAESD a file holds, as far as it says: "taesd" (SD 1.x / 2.x), "taesdxl", or "" when it
// cannot tell (diffusers' layout carries no such mark; ComfyUI's vae_scale 0.13025 and file names
// with "xl" do).
struct AutoencoderTinyFile {
  AutoencoderTiny model{nullptr};
  std::string variant;
  std::string layout;  // "diffusers", "taesd" (madebyollin's files), "comfyui"
};

// Loads TAESD from a diffusers folder (or a pipeline folder's `vae`), one weight file in any of
// the layouts above, or a madebyollin decoder file with its encoder file beside it (the encoder
// is then loaded too). fp32 on the CPU, eval mode. Throws kiln::FileError / FormatError /
// WeightMismatchError naming the file.
AutoencoderTinyFile load_autoencoder_tiny(const std::filesystem::path& path);

// Whether the tensor names are a TAESD's in one of the layouts (for model detection).
bool looks_like_autoencoder_tiny(const std::vector<std::string>& tensor_names);

}  // namespace kiln::models
