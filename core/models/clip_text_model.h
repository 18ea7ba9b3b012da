#pragma once
// CLIP text encoder as transformers writes it (CLIPTextModel, CLIPTextModelWithProjection):
// SD 1.x (OpenAI ViT-L/14), SD 2.x (OpenCLIP ViT-H/14, 23 layers), SDXL (ViT-L/14 and OpenCLIP
// bigG/14 with projection). Registered names are transformers' state_dict names, so
// named_parameters() yields `text_model.encoder.layers.0.self_attn.q_proj.weight` etc.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json_fwd.hpp>

#include "models/layers.h"

namespace kiln::io {
class DiffusersFolder;
}

namespace kiln::models {

enum class CLIPActivation { QuickGELU, GELU };  // "quick_gelu": x * sigmoid(1.702 x); "gelu": exact erf

// The fields of transformers' CLIPTextConfig (config.json) that shape the model.
struct CLIPTextConfig {
  std::int64_t vocab_size = 49408;
  std::int64_t hidden_size = 768;
  std::int64_t intermediate_size = 3072;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t max_position_embeddings = 77;
  std::int64_t projection_dim = 768;
  CLIPActivation hidden_act = CLIPActivation::QuickGELU;
  double layer_norm_eps = 1e-5;
  // 2 in the hub configs of SD 1.x/2.x/SDXL (legacy: pool at argmax(input_ids)); newer configs say
  // 49407 and pool at the first position holding it.
  std::int64_t eos_token_id = 2;
  // CLIPTextModelWithProjection: adds `text_projection` (Linear hidden -> projection_dim, no bias).
  bool with_projection = false;

  // From config.json; `with_projection` from `architectures` ("CLIPTextModelWithProjection").
  // Throws kiln::FormatError naming `path` for a missing/invalid field or an unknown activation.
  static CLIPTextConfig from_json(const nlohmann::json& config, const std::filesystem::path& path = {});

  // The text encoders of the hub checkpoints, for single files that carry no config.
  static CLIPTextConfig sd1();        // openai/clip-vit-large-patch14 (SD 1.x; SDXL text_encoder)
  static CLIPTextConfig sd2();        // OpenCLIP ViT-H/14 as diffusers keeps it: 23 of 24 layers
  static CLIPTextConfig sdxl_bigg();  // OpenCLIP ViT-bigG/14 with projection (SDXL text_encoder_2)
};

struct CLIPTextOutput {
  torch::Tensor last_hidden_state;  // [B, T, hidden], after final_layer_norm
  torch::Tensor pooler_output;      // [B, hidden], last_hidden_state at the eos position
  torch::Tensor text_embeds;        // [B, projection_dim]; undefined without projection
  // With output_hidden_states: num_hidden_layers + 1 entries, [0] = embeddings (token + position),
  // [i] = output of layer i-1 (before final_layer_norm).
  std::vector<torch::Tensor> hidden_states;
};

class CLIPAttentionImpl : public torch::nn::Module {
 public:
  explicit CLIPAttentionImpl(const CLIPTextConfig& config);
  // x [B, T, hidden], causal_mask [T, T] (0 on and below the diagonal, -inf above).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causal_mask);

  // Registration order = transformers' state_dict order.
  Linear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};

 private:
  std::int64_t num_heads_;
  std::int64_t head_dim_;
};
TORCH_MODULE(CLIPAttention);

class CLIPMLPImpl : public torch::nn::Module {
 public:
  explicit CLIPMLPImpl(const CLIPTextConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

  Linear fc1{nullptr}, fc2{nullptr};

 private:
  CLIPActivation act_;
};
TORCH_MODULE(CLIPMLP);

class CLIPEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit CLIPEncoderLayerImpl(const CLIPTextConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causal_mask);

  CLIPAttention self_attn{nullptr};
  LayerNorm layer_norm1{nullptr};
  CLIPMLP mlp{nullptr};
  LayerNorm layer_norm2{nullptr};
};
TORCH_MODULE(CLIPEncoderLayer);

class CLIPTextEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit CLIPTextEmbeddingsImpl(const CLIPTextConfig& config);
  // input_ids [B, T] (T <= max_position_embeddings) -> [B, T, hidden]
  torch::Tensor forward(const torch::Tensor& input_ids);

  Embedding token_embedding{nullptr}, position_embedding{nullptr};
};
TORCH_MODULE(CLIPTextEmbeddings);

class CLIPEncoderImpl : public torch::nn::Module {
 public:
  explicit CLIPEncoderImpl(const CLIPTextConfig& config);

  torch::nn::ModuleList layers{nullptr};  // CLIPEncoderLayer x num_hidden_layers
};
TORCH_MODULE(CLIPEncoder);

class CLIPTextTransformerImpl : public torch::nn::Module {
 public:
  explicit CLIPTextTransformerImpl(const CLIPTextConfig& config);
  CLIPTextOutput forward(const torch::Tensor& input_ids, bool output_hidden_states);

  CLIPTextEmbeddings embeddings{nullptr};
  CLIPEncoder encoder{nullptr};
  LayerNorm final_layer_norm{nullptr};

 private:
  CLIPTextConfig config_;
};
TORCH_MODULE(CLIPTextTransformer);

class CLIPTextModelImpl : public torch::nn::Module {
 public:
  explicit CLIPTextModelImpl(const CLIPTextConfig& config);

  // input_ids [B, T] int64 on the model's device. No padding mask: every position is computed,
  // as the SD pipelines call the encoder.
  CLIPTextOutput forward(const torch::Tensor& input_ids, bool output_hidden_states = false);

  const CLIPTextConfig& config() const { return config_; }
  torch::Device device() const;
  torch::Dtype dtype() const;

  CLIPTextTransformer text_model{nullptr};
  Linear text_projection{nullptr};  // only with config.with_projection

 private:
  CLIPTextConfig config_;
};
TORCH_MODULE(CLIPTextModel);

// Builds the model of a diffusers component folder (config.json + weights, e.g. `text_encoder/`)
// or of a pipeline folder's `component`, loads its weights (strict, one report of every
// mismatch) and returns it in fp32 on the CPU, in eval mode.
CLIPTextModel load_clip_text_model(const io::DiffusersFolder& folder, const std::string& component);
CLIPTextModel load_clip_text_model(const std::filesystem::path& component_folder);

}  // namespace kiln::models
