#pragma once
// The ESRGAN / Real-ESRGAN generator (RRDBNet) for image upscaling: conv_first, a body of
// residual-in-residual dense blocks (three 5-conv dense blocks each, LeakyReLU 0.2, residuals
// scaled by 0.2), conv_body added to conv_first's output, nearest x2 upsamplings each followed by
// a conv and LeakyReLU, conv_hr, conv_last. Real-ESRGAN's x2 / x1 models pixel-unshuffle the
// input by 2 / 4 first (conv_first then takes 12 / 48 channels).
//
// Files (.pth through the safe checkpoint reader, or .safetensors), in three key layouts:
//   BasicSR / Real-ESRGAN  conv_first, body.N.rdbK.convM, conv_body, conv_upN, conv_hr, conv_last
//                          (in .pth: the "params_ema" or "params" dict);
//   old ESRGAN             model.0, model.1.sub.N.RDBk.convM.0, model.1.sub.<nb> (conv_body),
//                          model.3/6/... (conv_upN), then conv_hr and conv_last: 4x-UltraSharp,
//                          Remacri and most community models;
//   ESRGAN's own repo      conv_first, RRDB_trunk.N.RDBk.convM, trunk_conv, upconvN, HRconv, conv_last.
// All are renamed to BasicSR's names; nf, nb, gc, the upsamplings and the unshuffle come from
// the tensors' shapes. Anything else (SwinIR, HAT, DAT, SRVGGNet, a Stable Diffusion file) is
// refused with a FormatError naming the file and what it looks like.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/layers.h"
#include "models/weight_loading.h"

namespace kiln::models {

struct RRDBNetConfig {
  std::int64_t out_channels = 3;
  std::int64_t num_features = 64;     // nf
  std::int64_t num_blocks = 23;       // nb
  std::int64_t growth_channels = 32;  // gc
  std::int64_t upsamplings = 2;       // nearest x2 steps
  std::int64_t unshuffle = 1;         // pixel-unshuffle factor at the input (1, 2 or 4)
  std::int64_t in_channels() const { return out_channels * unshuffle * unshuffle; }
  // The model's scale factor: 2^upsamplings / unshuffle (4, 2 or 1 for Real-ESRGAN's).
  std::int64_t scale() const { return (std::int64_t{1} << upsamplings) / unshuffle; }
};

class ResidualDenseBlockImpl : public torch::nn::Module {
 public:
  ResidualDenseBlockImpl(std::int64_t nf, std::int64_t gc);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
};
TORCH_MODULE(ResidualDenseBlock);

class RRDBImpl : public torch::nn::Module {
 public:
  RRDBImpl(std::int64_t nf, std::int64_t gc);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ResidualDenseBlock rdb1{nullptr}, rdb2{nullptr}, rdb3{nullptr};
};
TORCH_MODULE(RRDB);

class RRDBNetImpl : public torch::nn::Module {
 public:
  explicit RRDBNetImpl(const RRDBNetConfig& config);
  // x: [B, 3, H, W] in [0, 1] -> [B, 3, H * scale, W * scale], not clamped. A size the unshuffle
  // does not divide is reflect-padded first and the output cropped, as Real-ESRGAN does.
  torch::Tensor forward(const torch::Tensor& x);
  const RRDBNetConfig& config() const { return config_; }

 private:
  RRDBNetConfig config_;
  Conv2d conv_first{nullptr}, conv_body{nullptr}, conv_hr{nullptr}, conv_last{nullptr};
  torch::nn::ModuleList body{nullptr};
  std::vector<Conv2d> conv_ups;
};
TORCH_MODULE(RRDBNet);

enum class RRDBKeyLayout { BasicSR, OldESRGAN, ESRGANRepo };
const char* to_string(RRDBKeyLayout layout);

// The tensors renamed to BasicSR's names and the architecture their shapes give. Throws
// FormatError (with `source` as path) for a file that is not an RRDBNet, naming what it looks like.
struct RRDBNetWeights {
  NamedTensorList tensors;
  RRDBNetConfig config;
  RRDBKeyLayout layout = RRDBKeyLayout::BasicSR;
};
RRDBNetWeights normalize_rrdbnet_weights(const NamedTensorList& tensors, const std::filesystem::path& source = {});

struct LoadedUpscaler {
  mutable RRDBNet model{nullptr};  // forward is not const (torch::nn modules)
  RRDBNetConfig config;
  RRDBKeyLayout layout = RRDBKeyLayout::BasicSR;
  std::filesystem::path path;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  // "4x-UltraSharp" (the file name without extension), as A1111 names its upscalers.
  std::string name() const { return path.stem().string(); }
};

// Opens, checks and loads an upscaler file onto `device` in `dtype` (eval mode).
LoadedUpscaler load_upscaler(const std::filesystem::path& path, torch::Device device = torch::kCPU,
                             torch::Dtype dtype = torch::kFloat32);

}  // namespace kiln::models
