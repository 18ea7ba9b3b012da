#pragma once
// The "informative drawings" line generator as controlnet_aux / A1111 annotator/lineart use it:
// Generator(input_nc=3, output_nc=1, n_residual_blocks=3), sigmoid output. sk_model.pth
// (lineart_realistic) and sk_model2.pth (lineart_coarse) are two weight sets of this network.
// Registered names equal the checkpoint keys: the reference's nn.Sequential indices
// (model0.1 = the 7x7 conv after its ReflectionPad2d, model2.i.conv_block.{1,5}, ...).
// InstanceNorm2d has no affine parameters and no running statistics there: nothing to load.

#include <cstdint>

#include <torch/torch.h>

#include "io/tensor_index.h"

namespace kiln::control {

struct LineartGeneratorConfig {
  std::int64_t input_nc = 3;
  std::int64_t output_nc = 1;
  std::int64_t base_channels = 64;  // 64 -> 128 -> 256 in the reference
  std::int64_t residual_blocks = 3;

  // base_channels and residual_blocks read from a checkpoint's shapes (model0.1.weight,
  // model2.N), so width-reduced test networks load too. Throws WeightMismatchError.
  static LineartGeneratorConfig from_index(const io::TensorIndex& index);
};

// x + conv_block(x); conv_block = ReflectionPad2d(1), Conv2d 3x3, InstanceNorm2d, ReLU,
// ReflectionPad2d(1), Conv2d 3x3, InstanceNorm2d.
class LineartResidualBlockImpl : public torch::nn::Module {
 public:
  explicit LineartResidualBlockImpl(std::int64_t features);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential conv_block{nullptr};
};
TORCH_MODULE(LineartResidualBlock);

class LineartGeneratorImpl : public torch::nn::Module {
 public:
  explicit LineartGeneratorImpl(const LineartGeneratorConfig& config = {});
  // x [B, 3, H, W] RGB in [0, 1] (trap 10) -> [B, 1, H, W] in (0, 1). H and W multiples of 4
  // come back unchanged (two stride-2 convs, two transposed convs with output_padding 1).
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential model0{nullptr};  // pad 3, conv 7x7 -> base, IN, ReLU
  torch::nn::Sequential model1{nullptr};  // 2x (conv 3x3 stride 2 -> x2 channels, IN, ReLU)
  torch::nn::Sequential model2{nullptr};  // residual blocks at 4x base
  torch::nn::Sequential model3{nullptr};  // 2x (conv-transpose stride 2 -> /2 channels, IN, ReLU)
  torch::nn::Sequential model4{nullptr};  // pad 3, conv 7x7 -> output_nc, sigmoid
};
TORCH_MODULE(LineartGenerator);

}  // namespace kiln::control
