#include "models/clip_text_model.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "models/weight_loading.h"

namespace kiln::models {

namespace {

std::int64_t int_field(const nlohmann::json& config, const char* key, std::int64_t fallback,
                       const std::filesystem::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    throw FormatError(std::string("config field \"") + key + "\" must be a positive integer, got " + it->dump(), path);
  }
  return it->get<std::int64_t>();
}

}  // namespace

CLIPTextConfig CLIPTextConfig::from_json(const nlohmann::json& config, const std::filesystem::path& path) try {
  if (!config.is_object()) throw FormatError("text encoder config is not a JSON object", path);
  // Fallbacks are transformers' CLIPTextConfig defaults.
  CLIPTextConfig c;
  c.vocab_size = int_field(config, "vocab_size", 49408, path);
  c.hidden_size = int_field(config, "hidden_size", 512, path);
  c.intermediate_size = int_field(config, "intermediate_size", 2048, path);
  c.num_hidden_layers = int_field(config, "num_hidden_layers", 12, path);
  c.num_attention_heads = int_field(config, "num_attention_heads", 8, path);
  c.max_position_embeddings = int_field(config, "max_position_embeddings", 77, path);
  c.projection_dim = int_field(config, "projection_dim", 512, path);
  c.eos_token_id = int_field(config, "eos_token_id", 49407, path);
  const std::string act = config.value("hidden_act", std::string("quick_gelu"));
  if (act == "quick_gelu") {
    c.hidden_act = CLIPActivation::QuickGELU;
  } else if (act == "gelu") {
    c.hidden_act = CLIPActivation::GELU;
  } else {
    throw FormatError("unsupported text encoder activation \"" + act + "\"", path, "expected quick_gelu or gelu");
  }
  if (const auto eps = config.find("layer_norm_eps"); eps != config.end() && eps->is_number()) {
    c.layer_norm_eps = eps->get<double>();
  }
  if (const auto arch = config.find("architectures"); arch != config.end() && arch->is_array()) {
    for (const auto& a : *arch) {
      if (a.is_string() && a.get<std::string>() == "CLIPTextModelWithProjection") c.with_projection = true;
    }
  }
  if (c.hidden_size % c.num_attention_heads != 0) {
    throw FormatError("hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                          std::to_string(c.num_attention_heads),
                      path);
  }
  return c;
} catch (const nlohmann::json::exception& e) {
  // A field of the wrong JSON type (a list where a string belongs, ...): a FormatError like the rest.
  throw FormatError(std::string("CLIPTextConfig config: ") + e.what(), path);
}

CLIPTextConfig CLIPTextConfig::sd1() { return CLIPTextConfig{}; }

CLIPTextConfig CLIPTextConfig::sd2() {
  CLIPTextConfig c;
  c.hidden_size = 1024;
  c.intermediate_size = 4096;
  c.num_hidden_layers = 23;
  c.num_attention_heads = 16;
  c.projection_dim = 512;
  c.hidden_act = CLIPActivation::GELU;
  return c;
}

CLIPTextConfig CLIPTextConfig::sdxl_bigg() {
  CLIPTextConfig c;
  c.hidden_size = 1280;
  c.intermediate_size = 5120;
  c.num_hidden_layers = 32;
  c.num_attention_heads = 20;
  c.projection_dim = 1280;
  c.hidden_act = CLIPActivation::GELU;
  c.with_projection = true;
  return c;
}

CLIPAttentionImpl::CLIPAttentionImpl(const CLIPTextConfig& config)
    : num_heads_(config.num_attention_heads), head_dim_(config.hidden_size / config.num_attention_heads) {
  const std::int64_t d = config.hidden_size;
  k_proj = register_module("k_proj", Linear(d, d));
  v_proj = register_module("v_proj", Linear(d, d));
  q_proj = register_module("q_proj", Linear(d, d));
  out_proj = register_module("out_proj", Linear(d, d));
}

torch::Tensor CLIPAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& causal_mask) {
  const std::int64_t b = x.size(0), t = x.size(1), c = x.size(2);
  // As transformers' eager CLIPAttention: q is scaled before the product.
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto heads = [&](const torch::Tensor& y) { return y.view({b, t, num_heads_, head_dim_}).transpose(1, 2); };
  const torch::Tensor q = heads(q_proj(x) * scale);  // [B, H, T, D]
  const torch::Tensor k = heads(k_proj(x));
  const torch::Tensor v = heads(v_proj(x));
  torch::Tensor weights = torch::matmul(q, k.transpose(-1, -2)) + causal_mask;  // [B, H, T, T]
  weights = torch::softmax(weights, -1);
  const torch::Tensor out = torch::matmul(weights, v).transpose(1, 2).reshape({b, t, c});  // [B, T, C]
  return out_proj(out);
}

CLIPMLPImpl::CLIPMLPImpl(const CLIPTextConfig& config) : act_(config.hidden_act) {
  fc1 = register_module("fc1", Linear(config.hidden_size, config.intermediate_size));
  fc2 = register_module("fc2", Linear(config.intermediate_size, config.hidden_size));
}

torch::Tensor CLIPMLPImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = fc1(x);  // [B, T, intermediate]
  h = act_ == CLIPActivation::QuickGELU ? h * torch::sigmoid(1.702 * h) : torch::gelu(h);
  return fc2(h);
}

CLIPEncoderLayerImpl::CLIPEncoderLayerImpl(const CLIPTextConfig& config) {
  const auto ln = torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps);
  self_attn = register_module("self_attn", CLIPAttention(config));
  layer_norm1 = register_module("layer_norm1", LayerNorm(ln));
  mlp = register_module("mlp", CLIPMLP(config));
  layer_norm2 = register_module("layer_norm2", LayerNorm(ln));
}

torch::Tensor CLIPEncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& causal_mask) {
  torch::Tensor h = x + self_attn(layer_norm1(x), causal_mask);
  return h + mlp(layer_norm2(h));
}

CLIPTextEmbeddingsImpl::CLIPTextEmbeddingsImpl(const CLIPTextConfig& config) {
  token_embedding = register_module("token_embedding", Embedding(config.vocab_size, config.hidden_size));
  position_embedding =
      register_module("position_embedding", Embedding(config.max_position_embeddings, config.hidden_size));
}

torch::Tensor CLIPTextEmbeddingsImpl::forward(const torch::Tensor& input_ids) {
  const torch::Tensor positions = torch::arange(input_ids.size(1), input_ids.options().dtype(torch::kLong));
  return token_embedding(input_ids) + position_embedding(positions).unsqueeze(0);  // [B, T, C]
}

CLIPEncoderImpl::CLIPEncoderImpl(const CLIPTextConfig& config) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) layers->push_back(CLIPEncoderLayer(config));
}

CLIPTextTransformerImpl::CLIPTextTransformerImpl(const CLIPTextConfig& config) : config_(config) {
  embeddings = register_module("embeddings", CLIPTextEmbeddings(config));
  encoder = register_module("encoder", CLIPEncoder(config));
  final_layer_norm = register_module(
      "final_layer_norm",
      LayerNorm(torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps)));
}

CLIPTextOutput CLIPTextTransformerImpl::forward(const torch::Tensor& input_ids, bool output_hidden_states) {
  TORCH_CHECK(input_ids.dim() == 2, "CLIP input_ids must be [batch, tokens], got ", input_ids.sizes());
  TORCH_CHECK(input_ids.size(1) <= config_.max_position_embeddings, "CLIP input of ", input_ids.size(1),
              " tokens exceeds ", config_.max_position_embeddings, " positions");
  CLIPTextOutput out;
  torch::Tensor h = embeddings(input_ids);  // [B, T, C]
  const std::int64_t t = input_ids.size(1);
  // Causal mask: position i attends to 0..i. No padding mask (the SD pipelines pass none).
  const torch::Tensor causal_mask = torch::full({t, t}, -std::numeric_limits<float>::infinity(), h.options()).triu(1);
  if (output_hidden_states) out.hidden_states.push_back(h);
  for (const auto& layer : *encoder->layers) {
    h = layer->as<CLIPEncoderLayer>()->forward(h, causal_mask);
    if (output_hidden_states) out.hidden_states.push_back(h);
  }
  out.last_hidden_state = final_layer_norm(h);

  // Legacy configs (eos_token_id 2) pool at argmax(input_ids) - the eos id 49407 is the largest
  // id; newer ones at the first position holding eos_token_id.
  const torch::Tensor ids = input_ids.to(torch::kLong);
  const torch::Tensor eos_index =
      config_.eos_token_id == 2 ? ids.argmax(-1) : ids.eq(config_.eos_token_id).to(torch::kInt).argmax(-1);
  const torch::Tensor rows = torch::arange(input_ids.size(0), ids.options());
  out.pooler_output = out.last_hidden_state.index({rows, eos_index.to(out.last_hidden_state.device())});  // [B, C]
  return out;
}

CLIPTextModelImpl::CLIPTextModelImpl(const CLIPTextConfig& config) : config_(config) {
  text_model = register_module("text_model", CLIPTextTransformer(config));
  if (config.with_projection) {
    text_projection = register_module(
        "text_projection",
        Linear(torch::nn::LinearOptions(config.hidden_size, config.projection_dim).bias(false)));
  }
}

CLIPTextOutput CLIPTextModelImpl::forward(const torch::Tensor& input_ids, bool output_hidden_states) {
  CLIPTextOutput out = text_model(input_ids, output_hidden_states);
  if (text_projection) out.text_embeds = text_projection(out.pooler_output);  // [B, projection_dim]
  return out;
}

torch::Device CLIPTextModelImpl::device() const { return text_model->embeddings->token_embedding->weight.device(); }

torch::Dtype CLIPTextModelImpl::dtype() const { return text_model->embeddings->token_embedding->weight.scalar_type(); }

CLIPTextModel load_clip_text_model(const io::DiffusersFolder& folder, const std::string& component) {
  const io::DiffusersComponent* c = folder.component(component);
  if (!c) throw FormatError("the folder has no component \"" + component + "\"", folder.root());
  if (!c->has_weights()) throw FormatError("text encoder \"" + component + "\" has no weights", c->folder);
  CLIPTextModel model = make_unfilled<CLIPTextModel>(CLIPTextConfig::from_json(c->config, c->config_file));
  const NamedTensorList tensors = folder.tensors(c->name);
  WeightLoadOptions options;
  options.ignored_keys = {"text_model.embeddings.position_ids"};
  options.model_name = model->config().with_projection ? "CLIPTextModelWithProjection" : "CLIPTextModel";
  options.source = c->folder;
  load_weights(*model, tensors, options);
  model->eval();
  return model;
}

CLIPTextModel load_clip_text_model(const std::filesystem::path& component_folder) {
  const io::DiffusersFolder folder = io::DiffusersFolder::open(component_folder);
  if (folder.is_pipeline()) {
    throw FormatError("expected a text encoder folder (config.json + weights), got a pipeline folder", component_folder,
                      "name the component, e.g. text_encoder/");
  }
  return load_clip_text_model(folder, folder.components().front().name);
}

}  // namespace kiln::models
