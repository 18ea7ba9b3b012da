#include "control/hed_network.h"

#include <string>

#include "base/error.h"

namespace kiln::control {

ControlNetHEDConfig ControlNetHEDConfig::from_index(const io::TensorIndex& index) {
  ControlNetHEDConfig config;
  for (std::size_t b = 0; b < 5; ++b) {
    const std::string prefix = "block" + std::to_string(b + 1) + ".convs.";
    const io::TensorEntry* first = index.find(prefix + "0.weight");
    if (!first || first->shape.size() != 4) {
      const std::filesystem::path file = index.empty() ? std::filesystem::path() : index.entries().front().file;
      throw WeightMismatchError("not a ControlNetHED checkpoint: no 4-D " + prefix + "0.weight", file,
                                "expected lllyasviel/Annotators ControlNetHED.pth");
    }
    config.widths[b] = first->shape[0];
    std::int64_t layers = 1;
    while (index.contains(prefix + std::to_string(layers) + ".weight")) ++layers;
    config.layers[b] = layers;
  }
  return config;
}

HEDDoubleConvBlockImpl::HEDDoubleConvBlockImpl(std::int64_t in_channels, std::int64_t out_channels,
                                               std::int64_t layers) {
  convs = register_module("convs", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < layers; ++i) {
    convs->push_back(torch::nn::Conv2d(
        torch::nn::Conv2dOptions(i == 0 ? in_channels : out_channels, out_channels, 3).stride(1).padding(1)));
  }
  projection = register_module("projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(out_channels, 1, 1)));
}

std::pair<torch::Tensor, torch::Tensor> HEDDoubleConvBlockImpl::forward(const torch::Tensor& x, bool down_sampling) {
  torch::Tensor h = x;
  if (down_sampling) h = torch::max_pool2d(h, {2, 2}, {2, 2});  // floors odd sizes
  for (const auto& conv : *convs) h = torch::relu(conv->as<torch::nn::Conv2d>()->forward(h));
  return {h, projection->forward(h)};
}

ControlNetHEDImpl::ControlNetHEDImpl(const ControlNetHEDConfig& config) {
  norm = register_parameter("norm", torch::zeros({1, 3, 1, 1}));
  std::int64_t in = 3;
  HEDDoubleConvBlock* blocks[] = {&block1, &block2, &block3, &block4, &block5};
  for (std::size_t b = 0; b < 5; ++b) {
    *blocks[b] =
        register_module("block" + std::to_string(b + 1), HEDDoubleConvBlock(in, config.widths[b], config.layers[b]));
    in = config.widths[b];
  }
}

std::vector<torch::Tensor> ControlNetHEDImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x - norm;
  auto [h1, p1] = block1->forward(h, false);  // [B, w1, H, W]
  auto [h2, p2] = block2->forward(h1, true);  // [B, w2, H/2, W/2]
  auto [h3, p3] = block3->forward(h2, true);
  auto [h4, p4] = block4->forward(h3, true);
  auto [h5, p5] = block5->forward(h4, true);  // [B, w5, H/16, W/16]
  (void)h5;
  return {p1, p2, p3, p4, p5};
}

}  // namespace kiln::control
