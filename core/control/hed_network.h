#pragma once
// ControlNetHED_Apache2: lllyasviel's Apache-2.0 re-training of HED (controlnet_aux hed /
// A1111 annotator/hed). Five VGG-like blocks; each returns its features and a 1x1 "projection"
// to one channel; the projections are fused outside the network (network_maps.h, trap 7).
// Registered names equal the checkpoint keys of ControlNetHED.pth: norm, blockN.convs.i,
// blockN.projection.

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "io/tensor_index.h"

namespace kiln::control {

struct ControlNetHEDConfig {
  // Output channels and conv count of block1..block5 (the reference: 64, 128, 256, 512, 512 and
  // 2, 2, 3, 3, 3).
  std::array<std::int64_t, 5> widths = {64, 128, 256, 512, 512};
  std::array<std::int64_t, 5> layers = {2, 2, 3, 3, 3};

  // Widths and conv counts read from a checkpoint's shapes (blockN.convs.i.weight), so that
  // width-reduced test networks load too. Throws WeightMismatchError naming `index`'s file when
  // a block is missing.
  static ControlNetHEDConfig from_index(const io::TensorIndex& index);
};

class HEDDoubleConvBlockImpl : public torch::nn::Module {
 public:
  HEDDoubleConvBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t layers);
  // x [B, in, H, W] -> {features [B, out, H', W'], projection [B, 1, H', W']}; H' = floor(H/2)
  // when down_sampling (2x2 max-pool first, trap 23), else H.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, bool down_sampling);

  torch::nn::ModuleList convs{nullptr};   // Conv2d 3x3, padding 1, each followed by ReLU
  torch::nn::Conv2d projection{nullptr};  // 1x1 -> 1 channel
};
TORCH_MODULE(HEDDoubleConvBlock);

class ControlNetHEDImpl : public torch::nn::Module {
 public:
  explicit ControlNetHEDImpl(const ControlNetHEDConfig& config = {});
  // x [B, 3, H, W]: RGB 0..255 as float (no /255, trap 10); the learned mean `norm` is subtracted
  // here. Returns projection1..5: [B, 1, H, W], [B, 1, H/2, W/2], ... [B, 1, H/16, W/16].
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

  torch::Tensor norm;  // [1, 3, 1, 1]
  HEDDoubleConvBlock block1{nullptr};
  HEDDoubleConvBlock block2{nullptr};
  HEDDoubleConvBlock block3{nullptr};
  HEDDoubleConvBlock block4{nullptr};
  HEDDoubleConvBlock block5{nullptr};
};
TORCH_MODULE(ControlNetHED);

}  // namespace kiln::control
