#pragma once
// diffusers' ControlNetModel (0.32 names): the down half of a UNet2DConditionModel (conv_in,
// time_embedding, optional SDXL add_embedding, down_blocks, mid_block) plus
// controlnet_cond_embedding (conditioning image -> conv_in-sized features), one 1x1 zero conv per
// skip (controlnet_down_blocks.i) and controlnet_mid_block. Registered names are diffusers'
// state_dict names, in diffusers' order.

#include <cstdint>
#include <filesystem>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json_fwd.hpp>

#include "models/unet_2d_condition.h"
#include "models/unet_blocks.h"

namespace kiln::models {

struct ControlNetConfig {
  // The UNet-shaped part (up_block_types unused).
  UNet2DConditionConfig unet;
  std::int64_t conditioning_channels = 3;
  std::vector<std::int64_t> conditioning_embedding_out_channels = {16, 32, 96, 256};

  // From a ControlNetModel config.json; unsupported features throw kiln::FormatError naming `path`.
  static ControlNetConfig from_json(const nlohmann::json& config, const std::filesystem::path& path = {});
  // diffusers' ControlNetModel.from_unet layout for `unet` (default conditioning settings).
  static ControlNetConfig from_unet(const UNet2DConditionConfig& unet);
  static ControlNetConfig sd15();
};

// ControlNetConditioningEmbedding: conv_in -> silu -> (blocks.2i 3x3, silu, blocks.2i+1 3x3
// stride 2, silu)* -> conv_out (zero-initialised in diffusers).
class ControlNetConditioningEmbeddingImpl : public torch::nn::Module {
 public:
  ControlNetConditioningEmbeddingImpl(std::int64_t conditioning_embedding_channels, std::int64_t conditioning_channels,
                                      const std::vector<std::int64_t>& block_out_channels);
  // cond [B, conditioning_channels, H, W] -> [B, embedding channels, H/2^k, W/2^k]
  torch::Tensor forward(const torch::Tensor& cond);

  Conv2d conv_in{nullptr};
  torch::nn::ModuleList blocks{nullptr};  // Conv2d
  Conv2d conv_out{nullptr};
};
TORCH_MODULE(ControlNetConditioningEmbedding);

struct ControlNetOutput {
  std::vector<torch::Tensor> down_block_res_samples;  // one per UNet skip, in down order
  torch::Tensor mid_block_res_sample;

  // As the UNet takes them.
  UNetResiduals residuals() const;
};

class ControlNetModelImpl : public torch::nn::Module {
 public:
  explicit ControlNetModelImpl(const ControlNetConfig& config);

  // sample [B, in, h, w]; timestep 0-d, [1] or [B]; encoder_hidden_states [B, 77, cross_attention_dim];
  // controlnet_cond [B, conditioning_channels, 8h, 8w] (RGB in [0, 1]). Every residual is multiplied
  // by conditioning_scale. `capture` (optional) receives "controlnet_cond_embedding" and the UNet keys.
  ControlNetOutput forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                           const torch::Tensor& encoder_hidden_states, const torch::Tensor& controlnet_cond,
                           double conditioning_scale = 1.0, const UNetAddedCond* added_cond = nullptr,
                           UNetIntermediates* capture = nullptr);
  ControlNetOutput forward(const torch::Tensor& sample, double timestep, const torch::Tensor& encoder_hidden_states,
                           const torch::Tensor& controlnet_cond, double conditioning_scale = 1.0,
                           const UNetAddedCond* added_cond = nullptr, UNetIntermediates* capture = nullptr);

  const ControlNetConfig& config() const { return config_; }

  Conv2d conv_in{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  TimestepEmbedding add_embedding{nullptr};  // only with addition_embed_type "text_time"
  ControlNetConditioningEmbedding controlnet_cond_embedding{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};             // UNetDownBlock
  torch::nn::ModuleList controlnet_down_blocks{nullptr};  // 1x1 Conv2d, one per skip
  Conv2d controlnet_mid_block{nullptr};
  UNetMidBlock2DCrossAttn mid_block{nullptr};

 private:
  torch::Tensor time_embed(const torch::Tensor& timestep, std::int64_t batch, const UNetAddedCond* added_cond,
                           UNetIntermediates* capture);

  ControlNetConfig config_;
};
TORCH_MODULE(ControlNetModel);

// Builds the ControlNet of a diffusers component folder (config.json + weights), loads its weights
// (strict) and returns it in fp32 on the CPU, in eval mode.
ControlNetModel load_controlnet(const std::filesystem::path& component_folder);

}  // namespace kiln::models
