#pragma once
// diffusers' UNet2DConditionModel (0.32 names) for SD 1.x (conv proj_in/proj_out), SD 2.x
// (use_linear_projection, per-block head counts, upcast_attention) and SDXL (addition_embed_type
// "text_time": add_time_proj + add_embedding; transformer_layers_per_block > 1). Registered names
// are diffusers' state_dict names, in diffusers' order.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json_fwd.hpp>

#include "models/unet_blocks.h"

namespace kiln::io {
class DiffusersFolder;
}

namespace kiln::models {

// The fields of diffusers' UNet2DConditionModel config.json that shape the model.
struct UNet2DConditionConfig {
  std::int64_t in_channels = 4;
  std::int64_t out_channels = 4;
  std::vector<std::string> down_block_types = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                               "DownBlock2D"};
  std::vector<std::string> up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                             "CrossAttnUpBlock2D"};
  std::vector<std::int64_t> block_out_channels = {320, 640, 1280, 1280};
  std::int64_t layers_per_block = 2;
  std::int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  std::int64_t cross_attention_dim = 768;
  // Heads per down block (diffusers' `num_attention_heads`, or `attention_head_dim` when that is
  // null - the config quirk); one entry per block.
  std::vector<std::int64_t> num_attention_heads = {8, 8, 8, 8};
  std::vector<std::int64_t> transformer_layers_per_block = {1, 1, 1, 1};
  bool use_linear_projection = false;
  bool upcast_attention = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0.0;
  // "text_time" (SDXL) or empty.
  std::string addition_embed_type;
  std::int64_t addition_time_embed_dim = 0;
  std::int64_t projection_class_embeddings_input_dim = 0;
  std::int64_t sample_size = 64;

  std::int64_t time_embed_dim() const { return block_out_channels.front() * 4; }

  // From config.json; unsupported features (class embeddings, other block types, ...) or invalid
  // fields throw kiln::FormatError naming `path`.
  static UNet2DConditionConfig from_json(const nlohmann::json& config, const std::filesystem::path& path = {});

  static UNet2DConditionConfig sd15();
  static UNet2DConditionConfig sd21();
  static UNet2DConditionConfig sdxl_base();
};

// SDXL's added conditioning: pooled text embeddings and the 6 micro-conditioning ids
// (orig_h, orig_w, crop_top, crop_left, target_h, target_w).
struct UNetAddedCond {
  torch::Tensor text_embeds;  // [B, pooled dim]
  torch::Tensor time_ids;     // [B, 6] float
};

// ControlNet residuals, added to the skip connections and the mid block output.
struct UNetResiduals {
  std::vector<torch::Tensor> down_block_additional_residuals;  // one per skip, in down order
  torch::Tensor mid_block_additional_residual;                 // undefined: none
};

// Optional capture of intermediate outputs, keyed like diffusers module names: conv_in,
// time_proj, time_embedding, add_time_proj, add_embedding, down_blocks.i, mid_block, up_blocks.i,
// conv_norm_out, conv_out.
using UNetIntermediates = std::map<std::string, torch::Tensor>;

// time_embedding(time_proj(t)) (+ add_embedding(text_embeds, add_time_proj(time_ids)) for SDXL):
// [B, time_embed_dim]. Shared by the UNet and the ControlNet, which register the same modules.
// `what` names the model in errors; `dtype` is the dtype of the model's weights.
torch::Tensor conditioning_time_embedding(const UNet2DConditionConfig& config, TimestepEmbedding time_embedding,
                                          TimestepEmbedding add_embedding, const torch::Tensor& timestep,
                                          std::int64_t batch, const UNetAddedCond* added_cond,
                                          UNetIntermediates* capture, const torch::Device& device,
                                          torch::ScalarType dtype, const char* what);

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  explicit UNet2DConditionModelImpl(const UNet2DConditionConfig& config);

  // sample [B, in, h, w]; timestep 0-d (broadcast to B), [B] or [1], integer or float (taken as-is);
  // encoder_hidden_states [B, 77, cross_attention_dim] -> noise prediction [B, out, h, w].
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                        const torch::Tensor& encoder_hidden_states, const UNetAddedCond* added_cond = nullptr,
                        const UNetResiduals* residuals = nullptr, UNetIntermediates* capture = nullptr);
  torch::Tensor forward(const torch::Tensor& sample, double timestep, const torch::Tensor& encoder_hidden_states,
                        const UNetAddedCond* added_cond = nullptr, const UNetResiduals* residuals = nullptr,
                        UNetIntermediates* capture = nullptr);

  // time_embedding(time_proj(t)) (+ add_embedding for SDXL): [B, time_embed_dim].
  torch::Tensor time_embed(const torch::Tensor& timestep, std::int64_t batch, const UNetAddedCond* added_cond,
                           UNetIntermediates* capture = nullptr);

  const UNet2DConditionConfig& config() const { return config_; }

  // Training: recompute each resnet and attention of the down, mid and up blocks in the backward pass
  // instead of keeping their activations (diffusers' enable_gradient_checkpointing). Only takes effect
  // in grad mode; off by default; not part of the state dict.
  void set_gradient_checkpointing(bool on);
  bool gradient_checkpointing() const { return gradient_checkpointing_; }

  Conv2d conv_in{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  TimestepEmbedding add_embedding{nullptr};    // only with addition_embed_type "text_time"
  torch::nn::ModuleList down_blocks{nullptr};  // UNetDownBlock
  torch::nn::ModuleList up_blocks{nullptr};    // UNetUpBlock
  UNetMidBlock2DCrossAttn mid_block{nullptr};
  GroupNorm conv_norm_out{nullptr};
  Conv2d conv_out{nullptr};

 private:
  UNet2DConditionConfig config_;
  bool gradient_checkpointing_ = false;
};
TORCH_MODULE(UNet2DConditionModel);

// Builds the UNet of a diffusers component folder (config.json + weights, e.g. `unet/`) or of a
// pipeline folder's `component`, loads its weights (strict) and returns it in fp32 on the CPU, in
// eval mode.
UNet2DConditionModel load_unet_2d_condition(const io::DiffusersFolder& folder, const std::string& component);
UNet2DConditionModel load_unet_2d_condition(const std::filesystem::path& component_folder);

}  // namespace kiln::models
