#include "models/unet_2d_condition.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "models/weight_loading.h"

namespace kiln::models {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

std::int64_t int_field(const Json& config, const char* key, std::int64_t fallback, const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    throw FormatError(std::string("config field \"") + key + "\" must be a non-negative integer, got " + it->dump(),
                      path);
  }
  return it->get<std::int64_t>();
}

double number_field(const Json& config, const char* key, double fallback, const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number()) throw FormatError(std::string("config field \"") + key + "\" must be a number", path);
  return it->get<double>();
}

bool bool_field(const Json& config, const char* key, bool fallback, const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    throw FormatError(std::string("config field \"") + key + "\" must be true or false, got " + it->dump(), path);
  }
  return it->get<bool>();
}

// An int or a list of ints (one per block) -> `count` entries.
std::optional<std::vector<std::int64_t>> per_block(const Json& config, const char* key, std::size_t count,
                                                   const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer() && it->get<std::int64_t>() > 0) {
    return std::vector<std::int64_t>(count, it->get<std::int64_t>());
  }
  if (it->is_array() && it->size() == count) {
    std::vector<std::int64_t> out;
    for (const auto& v : *it) {
      if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) break;
      out.push_back(v.get<std::int64_t>());
    }
    if (out.size() == count) return out;
  }
  throw FormatError(std::string("config field \"") + key + "\" must be a positive integer or a list of " +
                        std::to_string(count) + ", got " + it->dump(),
                    path);
}

std::vector<std::string> string_list(const Json& config, const char* key, const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || !it->is_array()) {
    throw FormatError(std::string("config field \"") + key + "\" must be a list of block types", path);
  }
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw FormatError(std::string("config field \"") + key + "\" must hold strings", path);
    out.push_back(v.get<std::string>());
  }
  return out;
}

void require_null(const Json& config, const char* key, const fs::path& path) {
  const auto it = config.find(key);
  if (it != config.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>())) {
    throw FormatError(std::string("unsupported UNet config field \"") + key + "\": " + it->dump(), path);
  }
}

bool is_cross_attn(const std::string& type) { return type.rfind("CrossAttn", 0) == 0; }

}  // namespace

UNet2DConditionConfig UNet2DConditionConfig::from_json(const Json& config, const fs::path& path) try {
  if (!config.is_object()) throw FormatError("UNet config is not a JSON object", path);
  UNet2DConditionConfig c;
  c.in_channels = int_field(config, "in_channels", 4, path);
  c.out_channels = int_field(config, "out_channels", 4, path);
  c.layers_per_block = int_field(config, "layers_per_block", 2, path);
  c.norm_num_groups = int_field(config, "norm_num_groups", 32, path);
  if (c.norm_num_groups < 1)  // the channel counts are divided by it (fuzz_model_config found 0)
    throw FormatError("config field \"norm_num_groups\" must be at least 1, got 0", path);
  c.norm_eps = number_field(config, "norm_eps", 1e-5, path);
  c.sample_size = int_field(config, "sample_size", 64, path);
  if (const auto it = config.find("block_out_channels"); it != config.end() && !it->is_null()) {
    if (!it->is_array() || it->empty()) throw FormatError("config field \"block_out_channels\" must be a list", path);
    c.block_out_channels.clear();
    for (const auto& v : *it) {
      if (!v.is_number_integer() || v.get<std::int64_t>() <= 0 || v.get<std::int64_t>() % c.norm_num_groups != 0) {
        throw FormatError(
            "config field \"block_out_channels\" must hold positive multiples of norm_num_groups, got " + it->dump(),
            path);
      }
      c.block_out_channels.push_back(v.get<std::int64_t>());
    }
  }
  const std::size_t n = c.block_out_channels.size();
  c.down_block_types = string_list(config, "down_block_types", path);
  c.up_block_types = string_list(config, "up_block_types", path);
  if (c.down_block_types.size() != n || c.up_block_types.size() != n) {
    throw FormatError("down_block_types / up_block_types must list one type per block_out_channels entry", path);
  }
  for (const auto& t : c.down_block_types) {
    if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D") {
      throw FormatError("unsupported UNet down block type \"" + t + "\"", path);
    }
  }
  for (const auto& t : c.up_block_types) {
    if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D") {
      throw FormatError("unsupported UNet up block type \"" + t + "\"", path);
    }
  }
  const std::string mid = config.value("mid_block_type", std::string("UNetMidBlock2DCrossAttn"));
  if (mid != "UNetMidBlock2DCrossAttn") throw FormatError("unsupported UNet mid block type \"" + mid + "\"", path);
  if (const auto it = config.find("cross_attention_dim"); it != config.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      throw FormatError("config field \"cross_attention_dim\" must be an integer, got " + it->dump(), path);
    }
    c.cross_attention_dim = it->get<std::int64_t>();
  } else {
    c.cross_attention_dim = 1280;
  }
  // diffusers' quirk: `attention_head_dim` is the head count when `num_attention_heads` is null.
  auto heads = per_block(config, "num_attention_heads", n, path);
  if (!heads) heads = per_block(config, "attention_head_dim", n, path);
  c.num_attention_heads = heads ? *heads : std::vector<std::int64_t>(n, 8);
  for (std::size_t i = 0; i < n; ++i) {
    if (c.block_out_channels[i] % c.num_attention_heads[i] != 0) {
      throw FormatError("block_out_channels is not a multiple of the head count", path);
    }
  }
  const auto layers = per_block(config, "transformer_layers_per_block", n, path);
  c.transformer_layers_per_block = layers ? *layers : std::vector<std::int64_t>(n, 1);
  c.use_linear_projection = bool_field(config, "use_linear_projection", false, path);
  c.upcast_attention = bool_field(config, "upcast_attention", false, path);
  c.flip_sin_to_cos = bool_field(config, "flip_sin_to_cos", true, path);
  c.freq_shift = number_field(config, "freq_shift", 0.0, path);
  const std::string act = config.value("act_fn", std::string("silu"));
  if (act != "silu") throw FormatError("unsupported UNet activation \"" + act + "\"", path, "expected silu");
  if (config.value("resnet_time_scale_shift", std::string("default")) != "default") {
    throw FormatError("unsupported UNet resnet_time_scale_shift", path);
  }
  if (config.value("time_embedding_type", std::string("positional")) != "positional") {
    throw FormatError("unsupported UNet time_embedding_type", path);
  }
  for (const char* key :
       {"class_embed_type", "num_class_embeds", "encoder_hid_dim", "encoder_hid_dim_type", "time_cond_proj_dim",
        "time_embedding_dim", "time_embedding_act_fn", "timestep_post_act", "reverse_transformer_layers_per_block",
        "dual_cross_attention", "only_cross_attention", "cross_attention_norm", "mid_block_only_cross_attention"}) {
    require_null(config, key, path);
  }
  if (number_field(config, "downsample_padding", 1, path) != 1 ||
      number_field(config, "mid_block_scale_factor", 1, path) != 1 ||
      number_field(config, "resnet_out_scale_factor", 1, path) != 1 ||
      int_field(config, "conv_in_kernel", 3, path) != 3 || int_field(config, "conv_out_kernel", 3, path) != 3) {
    throw FormatError("unsupported UNet padding / scale factor / kernel size", path);
  }
  if (const auto it = config.find("addition_embed_type"); it != config.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "text_time") {
      throw FormatError("unsupported UNet addition_embed_type " + it->dump(), path, "expected null or \"text_time\"");
    }
    c.addition_embed_type = "text_time";
    c.addition_time_embed_dim = int_field(config, "addition_time_embed_dim", 0, path);
    c.projection_class_embeddings_input_dim = int_field(config, "projection_class_embeddings_input_dim", 0, path);
    if (c.addition_time_embed_dim <= 0 || c.projection_class_embeddings_input_dim <= 0) {
      throw FormatError("text_time needs addition_time_embed_dim and projection_class_embeddings_input_dim", path);
    }
  }
  return c;
} catch (const nlohmann::json::exception& e) {
  // A field of the wrong JSON type (a list where a string belongs, ...): a FormatError like the rest.
  throw FormatError(std::string("UNet2DConditionConfig config: ") + e.what(), path);
}

UNet2DConditionConfig UNet2DConditionConfig::sd15() { return UNet2DConditionConfig{}; }

UNet2DConditionConfig UNet2DConditionConfig::sd21() {
  UNet2DConditionConfig c;
  c.num_attention_heads = {5, 10, 20, 20};
  c.cross_attention_dim = 1024;
  c.use_linear_projection = true;
  c.upcast_attention = true;  // SD 2.1 (768-v); 2.1-base has false - no effect on the layout
  c.sample_size = 96;
  return c;
}

UNet2DConditionConfig UNet2DConditionConfig::sdxl_base() {
  UNet2DConditionConfig c;
  c.down_block_types = {"DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"};
  c.up_block_types = {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"};
  c.block_out_channels = {320, 640, 1280};
  c.num_attention_heads = {5, 10, 20};
  c.transformer_layers_per_block = {1, 2, 10};
  c.cross_attention_dim = 2048;
  c.use_linear_projection = true;
  c.addition_embed_type = "text_time";
  c.addition_time_embed_dim = 256;
  c.projection_class_embeddings_input_dim = 2816;
  c.sample_size = 128;
  return c;
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNet2DConditionConfig& config) : config_(config) {
  const auto& ch = config.block_out_channels;
  const std::size_t n = ch.size();
  const std::int64_t temb = config.time_embed_dim();
  conv_in =
      register_module("conv_in", Conv2d(torch::nn::Conv2dOptions(config.in_channels, ch[0], 3).padding(1)));
  // time_proj / add_time_proj: sinusoids, no parameters.
  time_embedding = register_module("time_embedding", TimestepEmbedding(ch[0], temb));
  if (config.addition_embed_type == "text_time") {
    add_embedding =
        register_module("add_embedding", TimestepEmbedding(config.projection_class_embeddings_input_dim, temb));
  }
  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  up_blocks = register_module("up_blocks", torch::nn::ModuleList());

  auto transformer = [&](std::int64_t heads, std::int64_t layers) {
    TransformerOptions t;
    t.heads = heads;
    t.layers = layers;
    t.context_dim = config.cross_attention_dim;
    t.groups = config.norm_num_groups;
    t.use_linear_projection = config.use_linear_projection;
    t.upcast_attention = config.upcast_attention;
    return t;
  };
  std::int64_t output_channel = ch[0];
  for (std::size_t i = 0; i < n; ++i) {
    UNetBlockOptions o;
    o.in_channels = output_channel;
    output_channel = ch[i];
    o.out_channels = output_channel;
    o.temb_channels = temb;
    o.layers = config.layers_per_block;
    o.groups = config.norm_num_groups;
    o.resnet_eps = config.norm_eps;
    o.cross_attention = is_cross_attn(config.down_block_types[i]);
    o.add_sampler = i + 1 < n;
    o.transformer = transformer(config.num_attention_heads[i], config.transformer_layers_per_block[i]);
    down_blocks->push_back(UNetDownBlock(o));
  }

  {
    UNetBlockOptions o;
    o.in_channels = ch.back();
    o.out_channels = ch.back();
    o.temb_channels = temb;
    o.layers = 1;
    o.groups = config.norm_num_groups;
    o.resnet_eps = config.norm_eps;
    o.cross_attention = true;
    o.transformer = transformer(config.num_attention_heads.back(), config.transformer_layers_per_block.back());
    mid_block = register_module("mid_block", UNetMidBlock2DCrossAttn(o));
  }

  output_channel = ch.back();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = n - 1 - i;  // reversed index
    UNetBlockOptions o;
    o.prev_output_channels = output_channel;
    output_channel = ch[r];
    o.out_channels = output_channel;
    o.in_channels = ch[r == 0 ? 0 : r - 1];  // reversed[min(i + 1, n - 1)]
    o.temb_channels = temb;
    o.layers = config.layers_per_block + 1;
    o.groups = config.norm_num_groups;
    o.resnet_eps = config.norm_eps;
    o.cross_attention = is_cross_attn(config.up_block_types[i]);
    o.add_sampler = i + 1 < n;
    o.transformer = transformer(config.num_attention_heads[r], config.transformer_layers_per_block[r]);
    up_blocks->push_back(UNetUpBlock(o));
  }

  conv_norm_out = register_module(
      "conv_norm_out",
      GroupNorm(torch::nn::GroupNormOptions(config.norm_num_groups, ch[0]).eps(config.norm_eps)));
  conv_out = register_module("conv_out",
                             Conv2d(torch::nn::Conv2dOptions(ch[0], config.out_channels, 3).padding(1)));
}

torch::Tensor conditioning_time_embedding(const UNet2DConditionConfig& config, TimestepEmbedding time_embedding,
                                          TimestepEmbedding add_embedding, const torch::Tensor& timestep,
                                          std::int64_t batch, const UNetAddedCond* added_cond,
                                          UNetIntermediates* capture, const torch::Device& device,
                                          torch::ScalarType dtype, const char* what) {
  torch::Tensor t = timestep.to(device);
  if (t.dim() == 0) t = t.reshape({1});
  TORCH_CHECK(t.dim() == 1 && (t.size(0) == 1 || t.size(0) == batch), what, " timestep must be 0-d, [1] or [batch]");
  t = t.expand({batch});
  const torch::Tensor t_proj = timestep_embedding(t, config.block_out_channels[0], config.flip_sin_to_cos,
                                                  config.freq_shift)
                                   .to(dtype);  // [B, ch0]
  if (capture) (*capture)["time_proj"] = t_proj;
  torch::Tensor emb = time_embedding(t_proj);  // [B, temb]
  if (capture) (*capture)["time_embedding"] = emb;
  if (add_embedding) {
    TORCH_CHECK(added_cond && added_cond->text_embeds.defined() && added_cond->time_ids.defined(),
                "this ", what, " (addition_embed_type text_time) needs added_cond text_embeds and time_ids");
    const torch::Tensor time_ids = added_cond->time_ids.to(emb.device());
    const torch::Tensor time_proj = timestep_embedding(time_ids.flatten(), config.addition_time_embed_dim,
                                                       config.flip_sin_to_cos, config.freq_shift);  // [B*6, d]
    if (capture) (*capture)["add_time_proj"] = time_proj;
    const torch::Tensor time_embeds = time_proj.reshape({time_ids.size(0), -1});  // [B, 6 d]
    const torch::Tensor add_embeds =
        torch::cat({added_cond->text_embeds.to(emb.device()), time_embeds}, -1).to(emb.scalar_type());
    const torch::Tensor aug = add_embedding(add_embeds);  // [B, temb]
    if (capture) (*capture)["add_embedding"] = aug;
    emb = emb + aug;
  }
  return emb;
}

void UNet2DConditionModelImpl::set_gradient_checkpointing(bool on) {
  gradient_checkpointing_ = on;
  for (const auto& block : *down_blocks) block->as<UNetDownBlock>()->gradient_checkpointing = on;
  mid_block->gradient_checkpointing = on;
  for (const auto& block : *up_blocks) block->as<UNetUpBlock>()->gradient_checkpointing = on;
}

torch::Tensor UNet2DConditionModelImpl::time_embed(const torch::Tensor& timestep, std::int64_t batch,
                                                   const UNetAddedCond* added_cond, UNetIntermediates* capture) {
  return conditioning_time_embedding(config_, time_embedding, add_embedding, timestep, batch, added_cond, capture,
                                     conv_in->weight.device(), conv_in->weight.scalar_type(), "UNet");
}

torch::Tensor UNet2DConditionModelImpl::forward(const torch::Tensor& sample, double timestep,
                                                const torch::Tensor& encoder_hidden_states,
                                                const UNetAddedCond* added_cond, const UNetResiduals* residuals,
                                                UNetIntermediates* capture) {
  return forward(sample, torch::tensor(timestep, torch::kDouble).to(torch::kFloat), encoder_hidden_states, added_cond,
                 residuals, capture);
}

torch::Tensor UNet2DConditionModelImpl::forward(const torch::Tensor& sample, const torch::Tensor& timestep,
                                                const torch::Tensor& encoder_hidden_states,
                                                const UNetAddedCond* added_cond, const UNetResiduals* residuals,
                                                UNetIntermediates* capture) {
  const std::int64_t batch = sample.size(0);
  const torch::Tensor& ctx = encoder_hidden_states;                            // [B, 77, cross_attention_dim]
  const torch::Tensor emb = time_embed(timestep, batch, added_cond, capture);  // [B, temb]

  torch::Tensor h = conv_in(sample);  // [B, ch0, h, w]
  if (capture) (*capture)["conv_in"] = h;
  std::vector<torch::Tensor> skips{h};
  for (std::size_t i = 0; i < down_blocks->size(); ++i) {
    h = down_blocks[i]->as<UNetDownBlock>()->forward(h, emb, ctx, skips);  // [B, ch_i, h/2^k, w/2^k]
    if (capture) (*capture)["down_blocks." + std::to_string(i)] = h;
  }
  if (residuals && !residuals->down_block_additional_residuals.empty()) {
    TORCH_CHECK(residuals->down_block_additional_residuals.size() == skips.size(), "UNet: expected ", skips.size(),
                " down block residuals, got ", residuals->down_block_additional_residuals.size());
    for (std::size_t i = 0; i < skips.size(); ++i) skips[i] = skips[i] + residuals->down_block_additional_residuals[i];
  }

  h = mid_block(h, emb, ctx);  // [B, ch_last, h/2^(n-1), w/2^(n-1)]
  if (residuals && residuals->mid_block_additional_residual.defined()) h = h + residuals->mid_block_additional_residual;
  if (capture) (*capture)["mid_block"] = h;

  for (std::size_t i = 0; i < up_blocks->size(); ++i) {
    auto block = up_blocks[i]->as<UNetUpBlock>();
    std::optional<std::vector<std::int64_t>> upsample_size;
    const std::size_t used = block->resnets->size();
    if (block->upsamplers && skips.size() > used) {
      const auto& next = skips[skips.size() - used - 1];  // the skip the next block starts with
      upsample_size = std::vector<std::int64_t>{next.size(2), next.size(3)};
    }
    h = block->forward(h, emb, ctx, skips, upsample_size);  // [B, ch, 2x size unless last]
    if (capture) (*capture)["up_blocks." + std::to_string(i)] = h;
  }

  h = conv_norm_out(h);  // [B, ch0, h, w]
  if (capture) (*capture)["conv_norm_out"] = h;
  h = conv_out(torch::silu(h));  // [B, out, h, w]
  if (capture) (*capture)["conv_out"] = h;
  return h;
}

UNet2DConditionModel load_unet_2d_condition(const io::DiffusersFolder& folder, const std::string& component) {
  const io::DiffusersComponent* c = folder.component(component);
  if (!c) throw FormatError("the folder has no component \"" + component + "\"", folder.root());
  if (!c->has_weights()) throw FormatError("UNet \"" + component + "\" has no weights", c->folder);
  UNet2DConditionModel model = make_unfilled<UNet2DConditionModel>(UNet2DConditionConfig::from_json(c->config, c->config_file));
  const NamedTensorList tensors = folder.tensors(c->name);
  WeightLoadOptions options;
  options.model_name = "UNet2DConditionModel";
  options.source = c->folder;
  load_weights(*model, tensors, options);
  model->eval();
  return model;
}

UNet2DConditionModel load_unet_2d_condition(const fs::path& component_folder) {
  const io::DiffusersFolder folder = io::DiffusersFolder::open(component_folder);
  if (folder.is_pipeline()) {
    throw FormatError("expected a UNet folder (config.json + weights), got a pipeline folder", component_folder,
                      "name the component, e.g. unet/");
  }
  return load_unet_2d_condition(folder, folder.components().front().name);
}

}  // namespace kiln::models
