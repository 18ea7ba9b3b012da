#include "control/lineart_network.h"

#include <string>

#include "base/error.h"

namespace kiln::control {

namespace {

namespace nn = torch::nn;

// nn.InstanceNorm2d(c): affine=False, track_running_stats=False, eps 1e-5.
nn::InstanceNorm2d instance_norm(std::int64_t channels) {
  return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(channels).affine(false).track_running_stats(false));
}

}  // namespace

LineartGeneratorConfig LineartGeneratorConfig::from_index(const io::TensorIndex& index) {
  const io::TensorEntry* first = index.find("model0.1.weight");
  if (!first || first->shape.size() != 4) {
    const std::filesystem::path file = index.empty() ? std::filesystem::path() : index.entries().front().file;
    throw WeightMismatchError("not a lineart Generator checkpoint: no 4-D model0.1.weight", file,
                              "expected lllyasviel/Annotators sk_model.pth or sk_model2.pth");
  }
  LineartGeneratorConfig config;
  config.base_channels = first->shape[0];
  config.input_nc = first->shape[1];
  if (const io::TensorEntry* last = index.find("model4.1.weight"); last && !last->shape.empty()) {
    config.output_nc = last->shape[0];
  }
  config.residual_blocks = 0;
  while (index.contains("model2." + std::to_string(config.residual_blocks) + ".conv_block.1.weight")) {
    ++config.residual_blocks;
  }
  return config;
}

LineartResidualBlockImpl::LineartResidualBlockImpl(std::int64_t features) {
  conv_block = register_module(
      "conv_block", nn::Sequential(nn::ReflectionPad2d(1), nn::Conv2d(nn::Conv2dOptions(features, features, 3)),
                                   instance_norm(features), nn::ReLU(), nn::ReflectionPad2d(1),
                                   nn::Conv2d(nn::Conv2dOptions(features, features, 3)), instance_norm(features)));
}

torch::Tensor LineartResidualBlockImpl::forward(const torch::Tensor& x) { return x + conv_block->forward(x); }

LineartGeneratorImpl::LineartGeneratorImpl(const LineartGeneratorConfig& config) {
  const std::int64_t base = config.base_channels;
  model0 = register_module(
      "model0", nn::Sequential(nn::ReflectionPad2d(3), nn::Conv2d(nn::Conv2dOptions(config.input_nc, base, 7)),
                               instance_norm(base), nn::ReLU()));
  model1 = register_module("model1", nn::Sequential());
  std::int64_t in = base;
  for (int i = 0; i < 2; ++i) {
    model1->push_back(nn::Conv2d(nn::Conv2dOptions(in, in * 2, 3).stride(2).padding(1)));
    model1->push_back(instance_norm(in * 2));
    model1->push_back(nn::ReLU());
    in *= 2;
  }
  model2 = register_module("model2", nn::Sequential());
  for (std::int64_t i = 0; i < config.residual_blocks; ++i) model2->push_back(LineartResidualBlock(in));
  model3 = register_module("model3", nn::Sequential());
  for (int i = 0; i < 2; ++i) {
    model3->push_back(
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, in / 2, 3).stride(2).padding(1).output_padding(1)));
    model3->push_back(instance_norm(in / 2));
    model3->push_back(nn::ReLU());
    in /= 2;
  }
  model4 = register_module(
      "model4",
      nn::Sequential(nn::ReflectionPad2d(3), nn::Conv2d(nn::Conv2dOptions(base, config.output_nc, 7)), nn::Sigmoid()));
}

torch::Tensor LineartGeneratorImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = model0->forward(x);  // [B, base, H, W]
  out = model1->forward(out);              // [B, 4 base, H/4, W/4]
  out = model2->forward(out);              // same
  out = model3->forward(out);              // [B, base, H, W]
  return model4->forward(out);             // [B, output_nc, H, W]
}

}  // namespace kiln::control
