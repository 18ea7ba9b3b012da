#include "models/controlnet_model.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "models/weight_loading.h"

namespace kiln::models {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

Conv2d conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride = 1) {
  return Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}

Conv2d conv1x1(std::int64_t channels) {
  return Conv2d(torch::nn::Conv2dOptions(channels, channels, 1));
}

}  // namespace

ControlNetConfig ControlNetConfig::from_json(const Json& config, const fs::path& path) try {
  if (!config.is_object()) throw FormatError("ControlNet config is not a JSON object", path);
  Json unet = config;
  if (!unet.contains("down_block_types") || unet["down_block_types"].is_null()) {
    unet["down_block_types"] = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"};
  }
  // ControlNet configs have no up blocks: mirror the down blocks so the UNet parser accepts them.
  Json up = Json::array();
  if (unet["down_block_types"].is_array()) {
    for (auto it = unet["down_block_types"].rbegin(); it != unet["down_block_types"].rend(); ++it) {
      const std::string t = it->is_string() ? it->get<std::string>() : std::string();
      up.push_back(t == "CrossAttnDownBlock2D" ? "CrossAttnUpBlock2D" : "UpBlock2D");
    }
  }
  unet["up_block_types"] = up;
  ControlNetConfig c;
  c.unet = UNet2DConditionConfig::from_json(unet, path);
  c.unet.up_block_types = up.get<std::vector<std::string>>();
  if (const auto it = config.find("conditioning_channels"); it != config.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
      throw FormatError("config field \"conditioning_channels\" must be a positive integer", path);
    }
    c.conditioning_channels = it->get<std::int64_t>();
  }
  if (const auto it = config.find("conditioning_embedding_out_channels"); it != config.end() && !it->is_null()) {
    if (!it->is_array() || it->empty()) {
      throw FormatError("config field \"conditioning_embedding_out_channels\" must be a list", path);
    }
    c.conditioning_embedding_out_channels.clear();
    for (const auto& v : *it) {
      if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) {
        throw FormatError("config field \"conditioning_embedding_out_channels\" must hold positive integers", path);
      }
      c.conditioning_embedding_out_channels.push_back(v.get<std::int64_t>());
    }
  }
  if (config.value("controlnet_conditioning_channel_order", std::string("rgb")) != "rgb") {
    throw FormatError("unsupported ControlNet controlnet_conditioning_channel_order", path, "expected \"rgb\"");
  }
  if (const auto it = config.find("global_pool_conditions");
      it != config.end() && it->is_boolean() && it->get<bool>()) {
    throw FormatError("unsupported ControlNet global_pool_conditions", path);
  }
  return c;
} catch (const nlohmann::json::exception& e) {
  // A field of the wrong JSON type (a list where a string belongs, ...): a FormatError like the rest.
  throw FormatError(std::string("ControlNetConfig config: ") + e.what(), path);
}

ControlNetConfig ControlNetConfig::from_unet(const UNet2DConditionConfig& unet) {
  ControlNetConfig c;
  c.unet = unet;
  return c;
}

ControlNetConfig ControlNetConfig::sd15() { return from_unet(UNet2DConditionConfig::sd15()); }

ControlNetConditioningEmbeddingImpl::ControlNetConditioningEmbeddingImpl(
    std::int64_t conditioning_embedding_channels, std::int64_t conditioning_channels,
    const std::vector<std::int64_t>& block_out_channels) {
  TORCH_CHECK(!block_out_channels.empty(), "ControlNet conditioning_embedding_out_channels is empty");
  conv_in = register_module("conv_in", conv3x3(conditioning_channels, block_out_channels.front()));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::size_t i = 0; i + 1 < block_out_channels.size(); ++i) {
    blocks->push_back(conv3x3(block_out_channels[i], block_out_channels[i]));
    blocks->push_back(conv3x3(block_out_channels[i], block_out_channels[i + 1], 2));
  }
  conv_out = register_module("conv_out", conv3x3(block_out_channels.back(), conditioning_embedding_channels));
}

torch::Tensor ControlNetConditioningEmbeddingImpl::forward(const torch::Tensor& cond) {
  torch::Tensor h = torch::silu(conv_in(cond));
  for (const auto& block : *blocks) h = torch::silu(block->as<Conv2d>()->forward(h));
  return conv_out(h);
}

UNetResiduals ControlNetOutput::residuals() const {
  UNetResiduals r;
  r.down_block_additional_residuals = down_block_res_samples;
  r.mid_block_additional_residual = mid_block_res_sample;
  return r;
}

ControlNetModelImpl::ControlNetModelImpl(const ControlNetConfig& config) : config_(config) {
  const UNet2DConditionConfig& u = config.unet;
  const auto& ch = u.block_out_channels;
  const std::size_t n = ch.size();
  const std::int64_t temb = u.time_embed_dim();
  conv_in = register_module("conv_in", conv3x3(u.in_channels, ch[0]));
  time_embedding = register_module("time_embedding", TimestepEmbedding(ch[0], temb));
  if (u.addition_embed_type == "text_time") {
    add_embedding = register_module("add_embedding", TimestepEmbedding(u.projection_class_embeddings_input_dim, temb));
  }
  controlnet_cond_embedding =
      register_module("controlnet_cond_embedding", ControlNetConditioningEmbedding(
                                                       ch[0], config.conditioning_channels,
                                                       config.conditioning_embedding_out_channels));
  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  controlnet_down_blocks = register_module("controlnet_down_blocks", torch::nn::ModuleList());

  auto transformer = [&](std::int64_t heads, std::int64_t layers) {
    TransformerOptions t;
    t.heads = heads;
    t.layers = layers;
    t.context_dim = u.cross_attention_dim;
    t.groups = u.norm_num_groups;
    t.use_linear_projection = u.use_linear_projection;
    t.upcast_attention = u.upcast_attention;
    return t;
  };
  controlnet_down_blocks->push_back(conv1x1(ch[0]));
  std::int64_t output_channel = ch[0];
  for (std::size_t i = 0; i < n; ++i) {
    UNetBlockOptions o;
    o.in_channels = output_channel;
    output_channel = ch[i];
    o.out_channels = output_channel;
    o.temb_channels = temb;
    o.layers = u.layers_per_block;
    o.groups = u.norm_num_groups;
    o.resnet_eps = u.norm_eps;
    o.cross_attention = u.down_block_types[i].rfind("CrossAttn", 0) == 0;
    o.add_sampler = i + 1 < n;
    o.transformer = transformer(u.num_attention_heads[i], u.transformer_layers_per_block[i]);
    down_blocks->push_back(UNetDownBlock(o));
    for (std::int64_t l = 0; l < u.layers_per_block; ++l) controlnet_down_blocks->push_back(conv1x1(output_channel));
    if (o.add_sampler) controlnet_down_blocks->push_back(conv1x1(output_channel));
  }
  controlnet_mid_block = register_module("controlnet_mid_block", conv1x1(ch.back()));

  UNetBlockOptions o;
  o.in_channels = ch.back();
  o.out_channels = ch.back();
  o.temb_channels = temb;
  o.layers = 1;
  o.groups = u.norm_num_groups;
  o.resnet_eps = u.norm_eps;
  o.cross_attention = true;
  o.transformer = transformer(u.num_attention_heads.back(), u.transformer_layers_per_block.back());
  mid_block = register_module("mid_block", UNetMidBlock2DCrossAttn(o));
}

torch::Tensor ControlNetModelImpl::time_embed(const torch::Tensor& timestep, std::int64_t batch,
                                              const UNetAddedCond* added_cond, UNetIntermediates* capture) {
  return conditioning_time_embedding(config_.unet, time_embedding, add_embedding, timestep, batch, added_cond, capture,
                                     conv_in->weight.device(), conv_in->weight.scalar_type(), "ControlNet");
}

ControlNetOutput ControlNetModelImpl::forward(const torch::Tensor& sample, double timestep,
                                              const torch::Tensor& encoder_hidden_states,
                                              const torch::Tensor& controlnet_cond, double conditioning_scale,
                                              const UNetAddedCond* added_cond, UNetIntermediates* capture) {
  return forward(sample, torch::tensor(timestep, torch::kDouble).to(torch::kFloat), encoder_hidden_states,
                 controlnet_cond, conditioning_scale, added_cond, capture);
}

ControlNetOutput ControlNetModelImpl::forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                                              const torch::Tensor& encoder_hidden_states,
                                              const torch::Tensor& controlnet_cond, double conditioning_scale,
                                              const UNetAddedCond* added_cond, UNetIntermediates* capture) {
  const std::int64_t batch = sample.size(0);
  const torch::Tensor& ctx = encoder_hidden_states;
  const torch::Tensor emb = time_embed(timestep, batch, added_cond, capture);  // [B, temb]

  torch::Tensor h = conv_in(sample);  // [B, ch0, h, w]
  if (capture) (*capture)["conv_in"] = h;
  const torch::Tensor cond =
      controlnet_cond_embedding(controlnet_cond.to(h.device(), h.scalar_type()));  // [B, ch0, h, w]
  if (capture) (*capture)["controlnet_cond_embedding"] = cond;
  h = h + cond;
  std::vector<torch::Tensor> skips{h};
  for (std::size_t i = 0; i < down_blocks->size(); ++i) {
    h = down_blocks[i]->as<UNetDownBlock>()->forward(h, emb, ctx, skips);
    if (capture) (*capture)["down_blocks." + std::to_string(i)] = h;
  }
  h = mid_block(h, emb, ctx);
  if (capture) (*capture)["mid_block"] = h;

  TORCH_CHECK(skips.size() == controlnet_down_blocks->size(), "ControlNet: ", skips.size(), " skips for ",
              controlnet_down_blocks->size(), " zero convs");
  ControlNetOutput out;
  out.down_block_res_samples.reserve(skips.size());
  for (std::size_t i = 0; i < skips.size(); ++i) {
    out.down_block_res_samples.push_back(controlnet_down_blocks[i]->as<Conv2d>()->forward(skips[i]) *
                                         conditioning_scale);
  }
  out.mid_block_res_sample = controlnet_mid_block(h) * conditioning_scale;
  return out;
}

ControlNetModel load_controlnet(const fs::path& component_folder) {
  const io::DiffusersFolder folder = io::DiffusersFolder::open(component_folder);
  if (folder.is_pipeline()) {
    throw FormatError("expected a ControlNet folder (config.json + weights), got a pipeline folder",
                      component_folder);
  }
  const io::DiffusersComponent& c = folder.components().front();
  if (!c.has_weights()) throw FormatError("ControlNet has no weights", c.folder);
  ControlNetModel model = make_unfilled<ControlNetModel>(ControlNetConfig::from_json(c.config, c.config_file));
  const NamedTensorList tensors = folder.tensors(c.name);
  WeightLoadOptions options;
  options.model_name = "ControlNetModel";
  options.source = c.folder;
  load_weights(*model, tensors, options);
  model->eval();
  return model;
}

}  // namespace kiln::models
