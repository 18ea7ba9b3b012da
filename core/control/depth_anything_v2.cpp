#include "control/depth_anything_v2.h"

#include <cmath>

#include "base/error.h"

namespace kiln::control {

namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

// DINOv2 uses partial(nn.LayerNorm, eps=1e-6) everywhere.
nn::LayerNorm layer_norm(std::int64_t dim) { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6)); }

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                bool bias = true) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}

// F.interpolate(x, size, mode="bilinear", align_corners=True): the DPT head's only resampling.
torch::Tensor bilinear_aligned(const torch::Tensor& x, std::int64_t height, std::int64_t width) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<std::int64_t>{height, width})
                               .mode(torch::kBilinear)
                               .align_corners(true));
}

}  // namespace

DepthAnythingV2Config DepthAnythingV2Config::for_encoder(std::string_view encoder) {
  DepthAnythingV2Config c;
  c.encoder = std::string(encoder);
  if (encoder == "vits") return c;  // the defaults
  if (encoder == "vitb") {
    c.embed_dim = 768, c.num_heads = 12, c.features = 128, c.out_channels = {96, 192, 384, 768};
    return c;
  }
  if (encoder == "vitl") {
    c.embed_dim = 1024, c.depth = 24, c.num_heads = 16, c.features = 256, c.out_channels = {256, 512, 1024, 1024};
    c.layer_indices = {4, 11, 17, 23};
    return c;
  }
  if (encoder == "vitg") {
    c.embed_dim = 1536, c.depth = 40, c.num_heads = 24, c.features = 384, c.out_channels = {1536, 1536, 1536, 1536};
    c.layer_indices = {9, 19, 29, 39};
    c.swiglu = true;
    return c;
  }
  throw InvalidRequestError("unknown Depth Anything V2 encoder '" + std::string(encoder) + "'",
                            "use vits, vitb, vitl or vitg");
}

DepthAnythingV2Config DepthAnythingV2Config::from_index(const io::TensorIndex& index) {
  const std::filesystem::path file = index.empty() ? std::filesystem::path() : index.entries().front().file;
  const io::TensorEntry* cls = index.find("pretrained.cls_token");
  if (!cls || cls->shape.size() != 3) {
    throw WeightMismatchError("not a Depth Anything V2 checkpoint: no pretrained.cls_token [1, 1, D]", file,
                              "expected depth_anything_v2_vits.pth (or vitb, vitl, vitg)");
  }
  switch (cls->shape[2]) {
    case 384:
      return for_encoder("vits");
    case 768:
      return for_encoder("vitb");
    case 1024:
      return for_encoder("vitl");
    case 1536:
      return for_encoder("vitg");
    default:
      throw WeightMismatchError("Depth Anything V2 checkpoint of unknown size: embedding width " +
                                    std::to_string(cls->shape[2]) + " (vits 384, vitb 768, vitl 1024, vitg 1536)",
                                file);
  }
}

DinoPatchEmbedImpl::DinoPatchEmbedImpl(std::int64_t patch_size, std::int64_t embed_dim) {
  proj = register_module("proj", conv(3, embed_dim, patch_size, patch_size, 0));
}

torch::Tensor DinoPatchEmbedImpl::forward(const torch::Tensor& x) {
  return proj->forward(x).flatten(2).transpose(1, 2);  // [B, D, H/p, W/p] -> [B, N, D]
}

DinoAttentionImpl::DinoAttentionImpl(std::int64_t dim, std::int64_t num_heads) : num_heads_(num_heads) {
  qkv = register_module("qkv", nn::Linear(dim, dim * 3));
  proj = register_module("proj", nn::Linear(dim, dim));
}

torch::Tensor DinoAttentionImpl::forward(const torch::Tensor& x) {
  const std::int64_t b = x.size(0), n = x.size(1), c = x.size(2);
  const std::int64_t head_dim = c / num_heads_;
  // [B, N, 3C] -> [3, B, heads, N, head_dim]
  const torch::Tensor qkv_heads = qkv->forward(x).reshape({b, n, 3, num_heads_, head_dim}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_heads[0] * std::pow(static_cast<double>(head_dim), -0.5);
  const torch::Tensor attn = q.matmul(qkv_heads[1].transpose(-2, -1)).softmax(-1);  // [B, heads, N, N]
  return proj->forward(attn.matmul(qkv_heads[2]).transpose(1, 2).reshape({b, n, c}));
}

DinoFeedForwardImpl::DinoFeedForwardImpl(std::int64_t dim, std::int64_t mlp_ratio, bool swiglu) {
  const std::int64_t hidden = dim * mlp_ratio;
  if (swiglu) {
    // SwiGLUFFNFused: hidden = (int(hidden * 2 / 3) + 7) // 8 * 8 (4096 for vitg).
    const std::int64_t fused = (hidden * 2 / 3 + 7) / 8 * 8;
    w12 = register_module("w12", nn::Linear(dim, 2 * fused));
    w3 = register_module("w3", nn::Linear(fused, dim));
  } else {
    fc1 = register_module("fc1", nn::Linear(dim, hidden));
    fc2 = register_module("fc2", nn::Linear(hidden, dim));
  }
}

torch::Tensor DinoFeedForwardImpl::forward(const torch::Tensor& x) {
  if (w12) {
    const auto halves = w12->forward(x).chunk(2, -1);
    return w3->forward(torch::silu(halves[0]) * halves[1]);
  }
  return fc2->forward(torch::gelu(fc1->forward(x)));  // exact (erf) GELU, nn.GELU()
}

DinoLayerScaleImpl::DinoLayerScaleImpl(std::int64_t dim) { gamma = register_parameter("gamma", torch::ones({dim})); }

DinoBlockImpl::DinoBlockImpl(std::int64_t dim, std::int64_t num_heads, std::int64_t mlp_ratio, bool swiglu) {
  norm1 = register_module("norm1", layer_norm(dim));
  attn = register_module("attn", DinoAttention(dim, num_heads));
  ls1 = register_module("ls1", DinoLayerScale(dim));
  norm2 = register_module("norm2", layer_norm(dim));
  mlp = register_module("mlp", DinoFeedForward(dim, mlp_ratio, swiglu));
  ls2 = register_module("ls2", DinoLayerScale(dim));
}

torch::Tensor DinoBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x + ls1->forward(attn->forward(norm1->forward(x)));
  return h + ls2->forward(mlp->forward(norm2->forward(h)));
}

DinoVisionTransformerImpl::DinoVisionTransformerImpl(const DepthAnythingV2Config& config) : config_(config) {
  const std::int64_t d = config.embed_dim;
  const std::int64_t grid = config.img_size / config.patch_size;  // 37
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, d}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, 1 + grid * grid, d}));
  mask_token = register_parameter("mask_token", torch::zeros({1, d}));
  patch_embed = register_module("patch_embed", DinoPatchEmbed(config.patch_size, d));
  blocks = register_module("blocks", nn::ModuleList());
  for (std::int64_t i = 0; i < config.depth; ++i) {
    blocks->push_back(DinoBlock(d, config.num_heads, config.mlp_ratio, config.swiglu));
  }
  norm = register_module("norm", layer_norm(d));
}

torch::Tensor DinoVisionTransformerImpl::interpolate_pos_encoding(std::int64_t tokens, std::int64_t height,
                                                                  std::int64_t width) {
  const std::int64_t npatch = tokens - 1;
  const std::int64_t n = pos_embed.size(1) - 1;
  // The reference returns the table itself at its own size (518x518): no resampling at all.
  if (npatch == n && height == width) return pos_embed;
  const std::int64_t dim = pos_embed.size(2);
  const double sqrt_n = std::sqrt(static_cast<double>(n));
  const auto m = static_cast<std::int64_t>(sqrt_n);
  const std::int64_t h0 = height / config_.patch_size;
  const std::int64_t w0 = width / config_.patch_size;
  // Trap 21: the scale factor ((h0 + 0.1) / 37) defines the sampling positions, so it goes to
  // the kernel as is (recompute_scale_factor=False); the size floor(37 * scale) is h0.
  const double scale_h = (static_cast<double>(h0) + config_.interpolate_offset) / sqrt_n;
  const double scale_w = (static_cast<double>(w0) + config_.interpolate_offset) / sqrt_n;
  const torch::Tensor grid = pos_embed.index({torch::indexing::Slice(), torch::indexing::Slice(1)})
                                 .reshape({1, m, m, dim})
                                 .permute({0, 3, 1, 2});  // [1, D, 37, 37]
  torch::Tensor patch = F::interpolate(grid, F::InterpolateFuncOptions()
                                                 .scale_factor(std::vector<double>{scale_h, scale_w})
                                                 .mode(torch::kBicubic)
                                                 .align_corners(false)
                                                 .recompute_scale_factor(false));
  if (patch.size(2) != h0 || patch.size(3) != w0) {
    throw ComputeError("Depth Anything V2: position embeddings resampled to " + std::to_string(patch.size(2)) + "x" +
                       std::to_string(patch.size(3)) + " patches, expected " + std::to_string(h0) + "x" +
                       std::to_string(w0));
  }
  patch = patch.permute({0, 2, 3, 1}).reshape({1, -1, dim});  // [1, h0*w0, D]
  return torch::cat({pos_embed.index({torch::indexing::Slice(), torch::indexing::Slice(0, 1)}), patch}, 1);
}

std::vector<torch::Tensor> DinoVisionTransformerImpl::intermediate_layers(const torch::Tensor& x) {
  const std::int64_t b = x.size(0);
  torch::Tensor h = patch_embed->forward(x);              // [B, N, D]
  h = torch::cat({cls_token.expand({b, -1, -1}), h}, 1);  // [B, 1 + N, D]
  h = h + interpolate_pos_encoding(h.size(1), x.size(2), x.size(3));
  std::vector<torch::Tensor> outputs;
  const std::int64_t last = config_.layer_indices.back();
  for (std::int64_t i = 0; i <= last; ++i) {
    h = (*blocks)[static_cast<std::size_t>(i)]->as<DinoBlock>()->forward(h);
    for (const std::int64_t wanted : config_.layer_indices) {
      if (wanted == i) {
        // norm=True, then the class token is dropped: [B, N, D]
        outputs.push_back(norm->forward(h).index({torch::indexing::Slice(), torch::indexing::Slice(1)}));
      }
    }
  }
  return outputs;
}

DPTResidualConvUnitImpl::DPTResidualConvUnitImpl(std::int64_t features) {
  conv1 = register_module("conv1", conv(features, features, 3, 1, 1));
  conv2 = register_module("conv2", conv(features, features, 3, 1, 1));
}

torch::Tensor DPTResidualConvUnitImpl::forward(const torch::Tensor& x) {
  // activation = nn.ReLU(False): x itself stays intact for the skip.
  return conv2->forward(torch::relu(conv1->forward(torch::relu(x)))) + x;
}

DPTFeatureFusionBlockImpl::DPTFeatureFusionBlockImpl(std::int64_t features) {
  out_conv = register_module("out_conv", conv(features, features, 1, 1, 0));
  resConfUnit1 = register_module("resConfUnit1", DPTResidualConvUnit(features));
  resConfUnit2 = register_module("resConfUnit2", DPTResidualConvUnit(features));
}

torch::Tensor DPTFeatureFusionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& skip,
                                                 std::vector<std::int64_t> size) {
  torch::Tensor out = x;
  if (skip.defined()) out = out + resConfUnit1->forward(skip);
  out = resConfUnit2->forward(out);
  // scale_factor=2 with align_corners=True samples like size = 2x (the scale is ignored then).
  if (size.empty()) size = {out.size(2) * 2, out.size(3) * 2};
  out = bilinear_aligned(out, size[0], size[1]);
  return out_conv->forward(out);
}

DPTScratchImpl::DPTScratchImpl(const std::array<std::int64_t, 4>& in_channels, std::int64_t features) {
  layer1_rn = register_module("layer1_rn", conv(in_channels[0], features, 3, 1, 1, false));
  layer2_rn = register_module("layer2_rn", conv(in_channels[1], features, 3, 1, 1, false));
  layer3_rn = register_module("layer3_rn", conv(in_channels[2], features, 3, 1, 1, false));
  layer4_rn = register_module("layer4_rn", conv(in_channels[3], features, 3, 1, 1, false));
  refinenet1 = register_module("refinenet1", DPTFeatureFusionBlock(features));
  refinenet2 = register_module("refinenet2", DPTFeatureFusionBlock(features));
  refinenet3 = register_module("refinenet3", DPTFeatureFusionBlock(features));
  refinenet4 = register_module("refinenet4", DPTFeatureFusionBlock(features));
  output_conv1 = register_module("output_conv1", conv(features, features / 2, 3, 1, 1));
  output_conv2 = register_module("output_conv2", nn::Sequential(conv(features / 2, 32, 3, 1, 1), nn::ReLU(),
                                                                conv(32, 1, 1, 1, 0), nn::ReLU(), nn::Identity()));
}

DPTHeadImpl::DPTHeadImpl(std::int64_t in_channels, std::int64_t features,
                         const std::array<std::int64_t, 4>& out_channels) {
  projects = register_module("projects", nn::ModuleList());
  for (const std::int64_t out : out_channels) projects->push_back(conv(in_channels, out, 1, 1, 0));
  resize_layers = register_module("resize_layers", nn::ModuleList());
  resize_layers->push_back(
      nn::ConvTranspose2d(nn::ConvTranspose2dOptions(out_channels[0], out_channels[0], 4).stride(4)));
  resize_layers->push_back(
      nn::ConvTranspose2d(nn::ConvTranspose2dOptions(out_channels[1], out_channels[1], 2).stride(2)));
  resize_layers->push_back(nn::Identity());
  resize_layers->push_back(conv(out_channels[3], out_channels[3], 3, 2, 1));
  scratch = register_module("scratch", DPTScratch(out_channels, features));
}

torch::Tensor DPTHeadImpl::forward(const std::vector<torch::Tensor>& tokens, std::int64_t patch_h,
                                   std::int64_t patch_w) {
  std::vector<torch::Tensor> layers;
  for (std::size_t i = 0; i < 4; ++i) {
    const torch::Tensor& t = tokens[i];
    torch::Tensor x = t.permute({0, 2, 1}).reshape({t.size(0), t.size(2), patch_h, patch_w});  // [B, D, ph, pw]
    x = projects[i]->as<nn::Conv2d>()->forward(x);
    if (i < 2) x = resize_layers[i]->as<nn::ConvTranspose2d>()->forward(x);  // x4, x2
    if (i == 3) x = resize_layers[i]->as<nn::Conv2d>()->forward(x);          // /2
    layers.push_back(x);
  }
  const torch::Tensor l1 = scratch->layer1_rn->forward(layers[0]);  // [B, F, 4 ph, 4 pw]
  const torch::Tensor l2 = scratch->layer2_rn->forward(layers[1]);  // [B, F, 2 ph, 2 pw]
  const torch::Tensor l3 = scratch->layer3_rn->forward(layers[2]);  // [B, F, ph, pw]
  const torch::Tensor l4 = scratch->layer4_rn->forward(layers[3]);  // [B, F, ceil(ph/2), ceil(pw/2)]
  torch::Tensor path = scratch->refinenet4->forward(l4, {}, {l3.size(2), l3.size(3)});
  path = scratch->refinenet3->forward(path, l3, {l2.size(2), l2.size(3)});
  path = scratch->refinenet2->forward(path, l2, {l1.size(2), l1.size(3)});
  path = scratch->refinenet1->forward(path, l1, {});  // [B, F, 8 ph, 8 pw]
  torch::Tensor out = scratch->output_conv1->forward(path);
  out = bilinear_aligned(out, patch_h * 14, patch_w * 14);
  return scratch->output_conv2->forward(out);  // [B, 1, 14 ph, 14 pw]
}

DepthAnythingV2Impl::DepthAnythingV2Impl(const DepthAnythingV2Config& config) : config_(config) {
  pretrained = register_module("pretrained", DinoVisionTransformer(config));
  depth_head = register_module("depth_head", DPTHead(config.embed_dim, config.features, config.out_channels));
}

torch::Tensor DepthAnythingV2Impl::forward(const torch::Tensor& x) {
  const std::int64_t patch_h = x.size(2) / config_.patch_size;
  const std::int64_t patch_w = x.size(3) / config_.patch_size;
  const std::vector<torch::Tensor> tokens = pretrained->intermediate_layers(x);
  return torch::relu(depth_head->forward(tokens, patch_h, patch_w)).squeeze(1);
}

}  // namespace kiln::control
