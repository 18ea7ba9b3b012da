#pragma once
// Depth Anything V2 (DepthAnything/Depth-Anything-V2 depth_anything_v2/{dinov2.py, dpt.py}):
// a DINOv2 ViT encoder ("pretrained") and a DPT head ("depth_head"). Registered names equal
// the keys of depth_anything_v2_{vits,vitb,vitl,vitg}.pth (golden nets/keys), including
// pretrained.mask_token, which the reference keeps but never uses (trap 21).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "io/tensor_index.h"

namespace kiln::control {

struct DepthAnythingV2Config {
  std::string encoder = "vits";  // vits, vitb, vitl, vitg
  // DINOv2 (dinov2.py DinoVisionTransformer with DAv2's arguments).
  std::int64_t img_size = 518;
  std::int64_t patch_size = 14;
  std::int64_t embed_dim = 384;
  std::int64_t depth = 12;
  std::int64_t num_heads = 6;
  std::int64_t mlp_ratio = 4;
  bool swiglu = false;  // vitg: SwiGLUFFNFused (mlp.w12, mlp.w3) instead of Mlp (mlp.fc1, mlp.fc2)
  double interpolate_offset = 0.1;
  // Blocks whose outputs feed the head (after the final LayerNorm).
  std::array<std::int64_t, 4> layer_indices = {2, 5, 8, 11};
  // DPT head.
  std::int64_t features = 64;
  std::array<std::int64_t, 4> out_channels = {48, 96, 192, 384};

  // run.py model_configs + dpt.py intermediate_layer_idx. Throws InvalidRequestError.
  static DepthAnythingV2Config for_encoder(std::string_view encoder);
  // The published size whose embedding width matches the checkpoint's pretrained.cls_token.
  // Throws WeightMismatchError naming the file for anything else.
  static DepthAnythingV2Config from_index(const io::TensorIndex& index);
};

class DinoPatchEmbedImpl : public torch::nn::Module {
 public:
  DinoPatchEmbedImpl(std::int64_t patch_size, std::int64_t embed_dim);
  // [B, 3, H, W] -> [B, (H/p)(W/p), D]
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(DinoPatchEmbed);

class DinoAttentionImpl : public torch::nn::Module {
 public:
  DinoAttentionImpl(std::int64_t dim, std::int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& x);  // [B, N, D] -> [B, N, D]
  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};

 private:
  std::int64_t num_heads_;
};
TORCH_MODULE(DinoAttention);

// Mlp (fc1, GELU, fc2) or, for vitg, SwiGLUFFNFused (w12 -> silu(x1) * x2 -> w3).
class DinoFeedForwardImpl : public torch::nn::Module {
 public:
  DinoFeedForwardImpl(std::int64_t dim, std::int64_t mlp_ratio, bool swiglu);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
  torch::nn::Linear w12{nullptr};
  torch::nn::Linear w3{nullptr};
};
TORCH_MODULE(DinoFeedForward);

class DinoLayerScaleImpl : public torch::nn::Module {
 public:
  explicit DinoLayerScaleImpl(std::int64_t dim);
  torch::Tensor forward(const torch::Tensor& x) { return x * gamma; }
  torch::Tensor gamma;
};
TORCH_MODULE(DinoLayerScale);

class DinoBlockImpl : public torch::nn::Module {
 public:
  DinoBlockImpl(std::int64_t dim, std::int64_t num_heads, std::int64_t mlp_ratio, bool swiglu);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr};
  DinoAttention attn{nullptr};
  DinoLayerScale ls1{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  DinoFeedForward mlp{nullptr};
  DinoLayerScale ls2{nullptr};
};
TORCH_MODULE(DinoBlock);

class DinoVisionTransformerImpl : public torch::nn::Module {
 public:
  explicit DinoVisionTransformerImpl(const DepthAnythingV2Config& config);
  // get_intermediate_layers(x, layer_indices, return_class_token=True, norm=True) without the
  // class tokens (the head does not use them): 4 x [B, (H/14)(W/14), D].
  std::vector<torch::Tensor> intermediate_layers(const torch::Tensor& x);
  // interpolate_pos_encoding for an input of height x width pixels: [1, 1 + patches, D].
  torch::Tensor interpolate_pos_encoding(std::int64_t tokens, std::int64_t height, std::int64_t width);

  torch::Tensor cls_token;   // [1, 1, D]
  torch::Tensor pos_embed;   // [1, 1 + 37*37, D]
  torch::Tensor mask_token;  // [1, D], unused
  DinoPatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks{nullptr};  // DinoBlock
  torch::nn::LayerNorm norm{nullptr};

 private:
  DepthAnythingV2Config config_;
};
TORCH_MODULE(DinoVisionTransformer);

class DPTResidualConvUnitImpl : public torch::nn::Module {
 public:
  explicit DPTResidualConvUnitImpl(std::int64_t features);
  torch::Tensor forward(const torch::Tensor& x);  // conv2(relu(conv1(relu(x)))) + x
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
};
TORCH_MODULE(DPTResidualConvUnit);

class DPTFeatureFusionBlockImpl : public torch::nn::Module {
 public:
  explicit DPTFeatureFusionBlockImpl(std::int64_t features);
  // (x [+ resConfUnit1(skip)]) -> resConfUnit2 -> bilinear (align_corners=True) to `size`, or
  // x2 when size is empty -> out_conv.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& skip, std::vector<std::int64_t> size);
  torch::nn::Conv2d out_conv{nullptr};
  DPTResidualConvUnit resConfUnit1{nullptr};  // NOLINT(readability-identifier-naming): checkpoint key
  DPTResidualConvUnit resConfUnit2{nullptr};  // NOLINT(readability-identifier-naming): checkpoint key
};
TORCH_MODULE(DPTFeatureFusionBlock);

class DPTScratchImpl : public torch::nn::Module {
 public:
  DPTScratchImpl(const std::array<std::int64_t, 4>& in_channels, std::int64_t features);
  torch::nn::Conv2d layer1_rn{nullptr}, layer2_rn{nullptr}, layer3_rn{nullptr}, layer4_rn{nullptr};
  DPTFeatureFusionBlock refinenet1{nullptr}, refinenet2{nullptr}, refinenet3{nullptr}, refinenet4{nullptr};
  torch::nn::Conv2d output_conv1{nullptr};
  torch::nn::Sequential output_conv2{nullptr};  // conv 3x3 -> 32, ReLU, conv 1x1 -> 1, ReLU, Identity
};
TORCH_MODULE(DPTScratch);

class DPTHeadImpl : public torch::nn::Module {
 public:
  DPTHeadImpl(std::int64_t in_channels, std::int64_t features, const std::array<std::int64_t, 4>& out_channels);
  // 4 x [B, ph*pw, D] -> [B, 1, 14 ph, 14 pw]
  torch::Tensor forward(const std::vector<torch::Tensor>& tokens, std::int64_t patch_h, std::int64_t patch_w);
  torch::nn::ModuleList projects{nullptr};       // 1x1 convs D -> out_channels[i]
  torch::nn::ModuleList resize_layers{nullptr};  // x4 deconv, x2 deconv, identity, stride-2 conv
  DPTScratch scratch{nullptr};
};
TORCH_MODULE(DPTHead);

class DepthAnythingV2Impl : public torch::nn::Module {
 public:
  explicit DepthAnythingV2Impl(const DepthAnythingV2Config& config = {});
  // x [B, 3, H, W] normalised RGB (ImageNet mean/std), H and W multiples of 14 -> relative
  // inverse depth [B, H, W] (>= 0).
  torch::Tensor forward(const torch::Tensor& x);
  const DepthAnythingV2Config& config() const { return config_; }

  DinoVisionTransformer pretrained{nullptr};
  DPTHead depth_head{nullptr};

 private:
  DepthAnythingV2Config config_;
};
TORCH_MODULE(DepthAnythingV2);

}  // namespace kiln::control
