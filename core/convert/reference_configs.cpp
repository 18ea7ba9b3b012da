#include "convert/reference_configs.h"

#include <algorithm>
#include <optional>

#include "base/error.h"

namespace kiln::convert {

namespace {

using json = nlohmann::json;

// The hub files' content, key for key (see reference_configs.h for the few deliberate changes).
// Sources: runwayml/stable-diffusion-v1-5, runwayml/stable-diffusion-inpainting,
// stabilityai/stable-diffusion-2-1, -2-1-base, -2-inpainting, stable-diffusion-xl-base-1.0,
// lllyasviel/control_v11p_sd15_canny; cross-checked against the shapes of golden/keys.

constexpr const char* kSD15UNet = R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0", "act_fn": "silu",
  "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false,
  "cross_attention_dim": 768,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
  "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
})";

constexpr const char* kSD15Vae = R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
  "sample_size": 512, "scaling_factor": 0.18215,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]
})";

// openai/clip-vit-large-patch14 as SD 1.x and SDXL (text_encoder) ship it.
constexpr const char* kClipVitL = R"({
  "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
  "eos_token_id": 2, "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0,
  "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
  "model_type": "clip_text_model", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
  "projection_dim": 768, "torch_dtype": "float32", "transformers_version": "4.37.2", "vocab_size": 49408
})";

// The SD 1.5 scheduler_config.json (no timestep_spacing key: see golden/README.md section 7).
constexpr const char* kSD15Scheduler = R"({
  "_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_start": 0.00085, "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": false,
  "skip_prk_steps": true, "steps_offset": 1, "clip_sample": false, "trained_betas": null
})";

constexpr const char* kSD1InpaintScheduler = R"({
  "_class_name": "DDIMScheduler", "_diffusers_version": "0.6.0.dev0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
  "set_alpha_to_one": false, "steps_offset": 1, "trained_betas": null
})";

// stabilityai/stable-diffusion-2-1 (768, v); the 512 base differs in upcast_attention and sample_size.
constexpr const char* kSD21UNet = R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.10.0.dev0", "act_fn": "silu",
  "attention_head_dim": [5, 10, 20, 20], "block_out_channels": [320, 640, 1280, 1280],
  "center_input_sample": false, "cross_attention_dim": 1024,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0,
  "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32,
  "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4, "sample_size": 96,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  "use_linear_projection": true, "upcast_attention": true
})";

constexpr const char* kSD21BaseUNet = R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.10.0.dev0", "act_fn": "silu",
  "attention_head_dim": [5, 10, 20, 20], "block_out_channels": [320, 640, 1280, 1280],
  "center_input_sample": false, "cross_attention_dim": 1024,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0,
  "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32,
  "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4, "sample_size": 64,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  "use_linear_projection": true
})";

// Both SD 2.1 hub VAEs say sample_size 768.
constexpr const char* kSD21Vae = R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.10.0.dev0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
  "sample_size": 768,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]
})";

// OpenCLIP ViT-H/14 as transformers' CLIPTextModel: 23 of its 24 layers (SD 2 conditions on the
// penultimate layer), gelu, hidden 1024, projection_dim 512 (unused: no text_projection).
constexpr const char* kOpenClipVitH = R"({
  "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
  "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 1024, "initializer_factor": 1.0,
  "initializer_range": 0.02, "intermediate_size": 4096, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
  "model_type": "clip_text_model", "num_attention_heads": 16, "num_hidden_layers": 23, "pad_token_id": 1,
  "projection_dim": 512, "torch_dtype": "float16", "transformers_version": "4.26.0.dev0", "vocab_size": 49408
})";

constexpr const char* kSD21Scheduler = R"({
  "_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
  "prediction_type": "v_prediction", "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
  "trained_betas": null
})";

constexpr const char* kSD21BaseScheduler = R"({
  "_class_name": "PNDMScheduler", "_diffusers_version": "0.10.0.dev0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
  "prediction_type": "epsilon", "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
  "trained_betas": null
})";

constexpr const char* kSD2InpaintUNet = R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.8.0", "act_fn": "silu",
  "attention_head_dim": [5, 10, 20, 20], "block_out_channels": [320, 640, 1280, 1280],
  "center_input_sample": false, "cross_attention_dim": 1024,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0,
  "in_channels": 9, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32,
  "out_channels": 4, "sample_size": 64,
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  "use_linear_projection": true
})";

constexpr const char* kSD2InpaintVae = R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.8.0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
  "sample_size": 256,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]
})";

constexpr const char* kSD2InpaintScheduler = R"({
  "_class_name": "PNDMScheduler", "_diffusers_version": "0.8.0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
  "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null
})";

constexpr const char* kSDXLUNet = R"({
  "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.19.0.dev0", "act_fn": "silu",
  "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64, "addition_time_embed_dim": 256,
  "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280], "center_input_sample": false,
  "class_embed_type": null, "class_embeddings_concat": false, "conv_in_kernel": 3, "conv_out_kernel": 3,
  "cross_attention_dim": 2048, "cross_attention_norm": null,
  "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
  "downsample_padding": 1, "dual_cross_attention": false, "encoder_hid_dim": null, "encoder_hid_dim_type": null,
  "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
  "mid_block_only_cross_attention": null, "mid_block_scale_factor": 1, "mid_block_type": "UNetMidBlock2DCrossAttn",
  "norm_eps": 1e-05, "norm_num_groups": 32, "num_attention_heads": null, "num_class_embeds": null,
  "only_cross_attention": false, "out_channels": 4, "projection_class_embeddings_input_dim": 2816,
  "resnet_out_scale_factor": 1.0, "resnet_skip_time_act": false, "resnet_time_scale_shift": "default",
  "sample_size": 128, "time_cond_proj_dim": null, "time_embedding_act_fn": null, "time_embedding_dim": null,
  "time_embedding_type": "positional", "timestep_post_act": null, "transformer_layers_per_block": [1, 2, 10],
  "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], "upcast_attention": null,
  "use_linear_projection": true
})";

constexpr const char* kSDXLVae = R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.20.0.dev0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "force_upcast": true, "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
  "out_channels": 3, "sample_size": 1024, "scaling_factor": 0.13025,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]
})";

constexpr const char* kSDXLTextEncoder = R"({
  "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
  "eos_token_id": 2, "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0,
  "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
  "model_type": "clip_text_model", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
  "projection_dim": 768, "torch_dtype": "float16", "transformers_version": "4.32.0.dev0", "vocab_size": 49408
})";

// OpenCLIP ViT-bigG/14 with its projection (CLIPTextModelWithProjection).
constexpr const char* kOpenClipBigG = R"({
  "architectures": ["CLIPTextModelWithProjection"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
  "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 1280, "initializer_factor": 1.0,
  "initializer_range": 0.02, "intermediate_size": 5120, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
  "model_type": "clip_text_model", "num_attention_heads": 20, "num_hidden_layers": 32, "pad_token_id": 1,
  "projection_dim": 1280, "torch_dtype": "float16", "transformers_version": "4.32.0.dev0", "vocab_size": 49408
})";

constexpr const char* kSDXLScheduler = R"({
  "_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.19.0.dev0", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "interpolation_type": "linear",
  "num_train_timesteps": 1000, "prediction_type": "epsilon", "sample_max_value": 1.0, "set_alpha_to_one": false,
  "skip_prk_steps": true, "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": null,
  "use_karras_sigmas": false
})";

constexpr const char* kControlNetSD15 = R"({
  "_class_name": "ControlNetModel", "_diffusers_version": "0.16.0.dev0", "act_fn": "silu",
  "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280], "class_embed_type": null,
  "conditioning_embedding_out_channels": [16, 32, 96, 256], "controlnet_conditioning_channel_order": "rgb",
  "cross_attention_dim": 768,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
  "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "num_class_embeds": null,
  "only_cross_attention": false, "projection_class_embeddings_input_dim": null,
  "resnet_time_scale_shift": "default", "upcast_attention": false, "use_linear_projection": false
})";

// transformers' tokenizer files (golden/tokenizer/hf and hf_sd2): `pad` is "<|endoftext|>" for
// CLIP ViT-L, "!" (token 0) for the OpenCLIP tokenizers.
json tokenizer_config(const std::string& pad) {
  auto token = [](const char* content, bool normalized) {
    return json{{"content", content}, {"lstrip", false},      {"normalized", normalized},
                {"rstrip", false},    {"single_word", false}, {"special", true}};
  };
  json decoder = json::object();
  if (pad == "!") decoder["0"] = token("!", false);
  decoder["49406"] = token("<|startoftext|>", true);
  decoder["49407"] = token("<|endoftext|>", true);
  return json{{"added_tokens_decoder", decoder},
              {"bos_token", "<|startoftext|>"},
              {"clean_up_tokenization_spaces", true},
              {"eos_token", "<|endoftext|>"},
              {"errors", "replace"},
              {"model_max_length", 77},
              {"pad_token", pad},
              {"tokenizer_class", "CLIPTokenizer"},
              {"unk_token", "<|endoftext|>"}};
}

json special_tokens_map(const std::string& pad) {
  auto token = [](const char* content) {
    return json{
        {"content", content}, {"lstrip", false}, {"normalized", true}, {"rstrip", false}, {"single_word", false}};
  };
  json pad_json = pad == "!" ? json("!") : json("<|endoftext|>");
  return json{{"bos_token", token("<|startoftext|>")},
              {"eos_token", token("<|endoftext|>")},
              {"pad_token", pad_json},
              {"unk_token", token("<|endoftext|>")}};
}

enum class Base { SD1, SD1Inpaint, SD2, SD2Inpaint, SDXL, ControlNetSD1, None };

Base base_of(ModelFamily family) {
  switch (family) {
    case ModelFamily::SD1:
      return Base::SD1;
    case ModelFamily::SD1Inpaint:
      return Base::SD1Inpaint;
    case ModelFamily::SD2:
      return Base::SD2;
    case ModelFamily::SD2Inpaint:
      return Base::SD2Inpaint;
    case ModelFamily::SDXL:
      return Base::SDXL;
    case ModelFamily::ControlNetSD1:
      return Base::ControlNetSD1;
    default:
      return Base::None;
  }
}

bool has_second_encoder(Base b) { return b == Base::SDXL; }

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The prediction type of the hub model whose scheduler is used.
PredictionType hub_prediction(Base b, PredictionType requested) {
  if (b == Base::SD2)
    return requested == PredictionType::Epsilon ? PredictionType::Epsilon : PredictionType::VPrediction;
  return PredictionType::Epsilon;
}

[[noreturn]] void no_reference(ModelFamily family, const std::string& component) {
  throw InvalidRequestError("Kiln has no reference " + component + " config for " + std::string(display_name(family)),
                            "pass the configs of a diffusers folder of the same model (--config DIR)");
}

json model_index(Base b) {
  const bool xl = b == Base::SDXL;
  const char* pipeline = b == Base::SD1Inpaint || b == Base::SD2Inpaint ? "StableDiffusionInpaintPipeline"
                         : xl                                           ? "StableDiffusionXLPipeline"
                                                                        : "StableDiffusionPipeline";
  json j = {{"_class_name", pipeline},
            {"_diffusers_version", "0.32.2"},
            {"feature_extractor", {nullptr, nullptr}},
            {"image_encoder", {nullptr, nullptr}}};
  if (xl) {
    j["force_zeros_for_empty_prompt"] = true;
  } else {
    j["requires_safety_checker"] = false;
    j["safety_checker"] = {nullptr, nullptr};
  }
  return j;
}

}  // namespace

std::vector<std::string> reference_components(ModelFamily family) {
  switch (base_of(family)) {
    case Base::None:
      return {};
    case Base::ControlNetSD1:
      return {"controlnet"};
    case Base::SDXL:
      return {"scheduler", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "unet", "vae"};
    default:
      return {"scheduler", "text_encoder", "tokenizer", "unet", "vae"};
  }
}

std::pair<std::string, std::string> reference_component_class(ModelFamily family, const std::string& component,
                                                              PredictionType prediction) {
  if (component == "unet") return {"diffusers", "UNet2DConditionModel"};
  if (component == "vae") return {"diffusers", "AutoencoderKL"};
  if (component == "controlnet") return {"diffusers", "ControlNetModel"};
  if (component == "text_encoder") return {"transformers", "CLIPTextModel"};
  if (component == "text_encoder_2") return {"transformers", "CLIPTextModelWithProjection"};
  if (component == "tokenizer" || component == "tokenizer_2") return {"transformers", "CLIPTokenizer"};
  if (component == "scheduler") {
    const json s = reference_config(family, "scheduler", prediction);
    return {"diffusers", s.at("_class_name").get<std::string>()};
  }
  return {};
}

json reference_config(ModelFamily family, const std::string& component, PredictionType prediction) {
  const Base b = base_of(family);
  if (b == Base::None) no_reference(family, component);
  const std::vector<std::string> components = reference_components(family);
  const bool pipeline = b != Base::ControlNetSD1;
  const bool sd2 = b == Base::SD2 || b == Base::SD2Inpaint;
  const bool v768 = b == Base::SD2 && prediction != PredictionType::Epsilon;

  if (component == "model_index" && pipeline) {
    json j = model_index(b);
    for (const std::string& c : components) {
      const auto [library, cls] = reference_component_class(family, c, prediction);
      j[c] = {library, cls};
    }
    return j;
  }
  if (component == "controlnet" && b == Base::ControlNetSD1) return json::parse(kControlNetSD15);
  if (!pipeline) no_reference(family, component);

  if (component == "unet") {
    switch (b) {
      case Base::SD1:
        return json::parse(kSD15UNet);
      case Base::SD1Inpaint: {
        json j = json::parse(kSD15UNet);
        j["_diffusers_version"] = "0.6.0.dev0";
        j["in_channels"] = 9;
        return j;
      }
      case Base::SD2:
        return json::parse(v768 ? kSD21UNet : kSD21BaseUNet);
      case Base::SD2Inpaint:
        return json::parse(kSD2InpaintUNet);
      default:
        return json::parse(kSDXLUNet);
    }
  }
  if (component == "vae") {
    if (b == Base::SDXL) return json::parse(kSDXLVae);
    if (b == Base::SD2Inpaint) return json::parse(kSD2InpaintVae);
    return json::parse(sd2 ? kSD21Vae : kSD15Vae);
  }
  if (component == "text_encoder") {
    if (b == Base::SDXL) return json::parse(kSDXLTextEncoder);
    return json::parse(sd2 ? kOpenClipVitH : kClipVitL);
  }
  if (component == "text_encoder_2" && has_second_encoder(b)) return json::parse(kOpenClipBigG);
  if (component == "tokenizer") return tokenizer_config(sd2 ? "!" : "<|endoftext|>");
  if (component == "tokenizer_2" && has_second_encoder(b)) return tokenizer_config("!");
  if (component == "scheduler") {
    json j;
    switch (b) {
      case Base::SD1:
        j = json::parse(kSD15Scheduler);
        break;
      case Base::SD1Inpaint:
        j = json::parse(kSD1InpaintScheduler);
        break;
      case Base::SD2:
        j = json::parse(v768 ? kSD21Scheduler : kSD21BaseScheduler);
        break;
      case Base::SD2Inpaint:
        j = json::parse(kSD2InpaintScheduler);
        break;
      default:
        j = json::parse(kSDXLScheduler);
        break;
    }
    // Only a prediction type the hub model does not have is spelt out, so the SD 1.5 file stays
    // byte-for-byte the hub's (schedulers default to epsilon).
    if (prediction != PredictionType::Unknown && prediction != hub_prediction(b, prediction)) {
      j["prediction_type"] = std::string(to_string(prediction));
    }
    return j;
  }
  no_reference(family, component);
}

void check_config_against_weights(const std::string& component, const json& config, const io::TensorIndex& local,
                                  const std::string& source) {
  auto fail = [&](const std::string& what) {
    throw WeightMismatchError("the " + component + " config (" + source + ") does not fit the weights: " + what, {},
                              "pass --config DIR with the configs of a diffusers folder of this model");
  };
  auto field = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = config.find(key);
    if (it == config.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  auto first_dim = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = config.find(key);
    if (it == config.end() || !it->is_array() || it->empty() || !it->front().is_number_integer()) return std::nullopt;
    return it->front().get<std::int64_t>();
  };
  auto dim = [&](const std::string& name, std::size_t i) -> std::optional<std::int64_t> {
    const io::TensorEntry* e = local.find(name);
    if (!e || e->shape.size() <= i) return std::nullopt;
    return e->shape[i];
  };
  auto expect = [&](const char* what, std::optional<std::int64_t> config_value, std::optional<std::int64_t> weights,
                    const std::string& tensor) {
    if (config_value && weights && *config_value != *weights) {
      fail(std::string(what) + " is " + std::to_string(*config_value) + " in the config but " +
           std::to_string(*weights) + " in " + tensor);
    }
  };
  auto count = [&](const std::string& prefix) {  // how many "<prefix>N." there are
    std::int64_t n = 0;
    auto exists = [&](std::int64_t i) {
      const std::string p = prefix + std::to_string(i) + ".";
      return std::any_of(local.entries().begin(), local.entries().end(),
                         [&](const io::TensorEntry& e) { return starts_with(e.name, p); });
    };
    while (exists(n)) ++n;
    return n;
  };
  if (component == "unet" || component == "controlnet") {
    expect("in_channels", field("in_channels"), dim("conv_in.weight", 1), "conv_in.weight");
    expect("block_out_channels[0]", first_dim("block_out_channels"), dim("conv_in.weight", 0), "conv_in.weight");
    const auto blocks = config.find("block_out_channels");
    if (blocks != config.end() && blocks->is_array()) {
      expect("the number of down blocks", static_cast<std::int64_t>(blocks->size()), count("down_blocks."),
             "down_blocks.*");
    }
    for (const auto& e : local.entries()) {
      if (e.name.ends_with("attn2.to_k.weight") && e.shape.size() == 2) {
        expect("cross_attention_dim", field("cross_attention_dim"), e.shape[1], e.name);
        break;
      }
    }
  } else if (component == "vae") {
    const auto latent = field("latent_channels");
    expect("2 x latent_channels", latent ? std::optional(2 * *latent) : std::nullopt, dim("encoder.conv_out.weight", 0),
           "encoder.conv_out.weight");
    expect("block_out_channels[0]", first_dim("block_out_channels"), dim("encoder.conv_in.weight", 0),
           "encoder.conv_in.weight");
  } else if (component.rfind("text_encoder", 0) == 0) {
    const std::string tok = "text_model.embeddings.token_embedding.weight";
    expect("hidden_size", field("hidden_size"), dim(tok, 1), tok);
    expect("vocab_size", field("vocab_size"), dim(tok, 0), tok);
    expect("num_hidden_layers", field("num_hidden_layers"), count("text_model.encoder.layers."),
           "text_model.encoder.layers.*");
    const bool projection = config.contains("architectures") && config["architectures"].is_array() &&
                            !config["architectures"].empty() &&
                            config["architectures"].front() == "CLIPTextModelWithProjection";
    if (projection != local.contains("text_projection.weight")) {
      fail(std::string("the config says ") + (projection ? "CLIPTextModelWithProjection" : "CLIPTextModel") +
           " but the weights " + (projection ? "have no" : "have a") + " text_projection");
    }
  }
}

json reference_special_tokens_map(ModelFamily family, const std::string& tokenizer_component) {
  const Base b = base_of(family);
  if (b == Base::None || b == Base::ControlNetSD1 ||
      (tokenizer_component != "tokenizer" && !(tokenizer_component == "tokenizer_2" && has_second_encoder(b)))) {
    no_reference(family, tokenizer_component);
  }
  const bool open_clip = tokenizer_component == "tokenizer_2" || b == Base::SD2 || b == Base::SD2Inpaint;
  return special_tokens_map(open_clip ? "!" : "<|endoftext|>");
}

}  // namespace kiln::convert
