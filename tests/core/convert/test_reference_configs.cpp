// The reference configs against three oracles: the golden files that are the hub's own content
// (tiny_sd1's scheduler and model_index, transformers' tokenizer files), the shapes of the
// full-size golden key lists (every shape a config decides is derived here and looked up), and
// the models' own presets, which test_unet_full_size & co. verified against the same key lists.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "convert/reference_configs.h"
#include "models/autoencoder_kl.h"
#include "models/clip_text_model.h"
#include "models/controlnet_model.h"
#include "models/unet_2d_condition.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using kiln::convert::ModelFamily;
using kiln::convert::PredictionType;
using kiln::convert::reference_config;
using kiln::io::TensorIndex;
using Shape = std::vector<std::int64_t>;

namespace {

json read_json(const fs::path& p) { return json::parse(kiln::test::read_text(p)); }

fs::path golden() { return kiln::test::data_dir() / "golden"; }

TensorIndex keys(const std::string& model, const std::string& component) {
  return kiln::test::read_key_list(golden() / "keys" / model / ("diffusers_" + component + ".txt"));
}

// The shape of `name`, or {-1} when the key list lacks it (so a CHECK prints both).
Shape shape_of(const TensorIndex& index, const std::string& name) {
  const auto* e = index.find(name);
  return e ? e->shape : Shape{-1};
}

bool has_prefix(const TensorIndex& index, const std::string& prefix) {
  for (const auto& e : index.entries()) {
    if (e.name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// How many N in "<prefix>N." exist.
int count(const TensorIndex& index, const std::string& prefix) {
  int n = 0;
  while (has_prefix(index, prefix + std::to_string(n) + ".")) ++n;
  return n;
}

std::int64_t i(const json& j, const char* key) { return j.at(key).get<std::int64_t>(); }

// Every layout fact of a UNet config (channels, blocks, resnets, transformer depth, projections,
// cross-attention and SDXL's added embedding) against the shapes of a diffusers key list.
void check_unet_config(const json& c, const TensorIndex& k, bool controlnet) {
  const auto ch = c.at("block_out_channels").get<std::vector<std::int64_t>>();
  const auto types = c.at("down_block_types").get<std::vector<std::string>>();
  const std::int64_t layers = i(c, "layers_per_block");
  const std::int64_t cross = i(c, "cross_attention_dim");
  const bool linear = c.value("use_linear_projection", false);
  std::vector<std::int64_t> depth(ch.size(), 1);
  if (c.contains("transformer_layers_per_block") && c["transformer_layers_per_block"].is_array()) {
    depth = c["transformer_layers_per_block"].get<std::vector<std::int64_t>>();
  }
  CHECK(shape_of(k, "conv_in.weight") == Shape{ch[0], i(c, "in_channels"), 3, 3});
  CHECK(shape_of(k, "time_embedding.linear_1.weight") == Shape{4 * ch[0], ch[0]});
  if (!controlnet) CHECK(shape_of(k, "conv_out.weight") == Shape{i(c, "out_channels"), ch[0], 3, 3});
  CHECK(count(k, "down_blocks.") == static_cast<int>(ch.size()));
  for (std::size_t b = 0; b < ch.size(); ++b) {
    const std::string p = "down_blocks." + std::to_string(b) + ".";
    CAPTURE(p);
    CHECK(count(k, p + "resnets.") == layers);
    CHECK(shape_of(k, p + "resnets.0.conv1.weight") == Shape{ch[b], b ? ch[b - 1] : ch[0], 3, 3});
    const bool attn = types[b] == "CrossAttnDownBlock2D";
    CHECK(has_prefix(k, p + "attentions.") == attn);
    if (!attn) continue;
    const std::string a = p + "attentions.0.";
    CHECK(count(k, a + "transformer_blocks.") == depth[b]);
    CHECK(shape_of(k, a + "proj_in.weight") == (linear ? Shape{ch[b], ch[b]} : Shape{ch[b], ch[b], 1, 1}));
    CHECK(shape_of(k, a + "transformer_blocks.0.attn2.to_k.weight") == Shape{ch[b], cross});
  }
  if (const auto it = c.find("projection_class_embeddings_input_dim"); it != c.end() && !it->is_null()) {
    CHECK(shape_of(k, "add_embedding.linear_1.weight") == Shape{4 * ch[0], it->get<std::int64_t>()});
  } else {
    CHECK_FALSE(has_prefix(k, "add_embedding."));
  }
  if (controlnet) {
    const auto cond = c.at("conditioning_embedding_out_channels").get<std::vector<std::int64_t>>();
    CHECK(shape_of(k, "controlnet_cond_embedding.conv_in.weight") == Shape{cond.front(), 3, 3, 3});
    CHECK(count(k, "controlnet_cond_embedding.blocks.") == 2 * static_cast<int>(cond.size() - 1));
    CHECK(shape_of(k, "controlnet_cond_embedding.conv_out.weight") == Shape{ch[0], cond.back(), 3, 3});
  }
}

void check_vae_config(const json& c, const TensorIndex& k) {
  const auto ch = c.at("block_out_channels").get<std::vector<std::int64_t>>();
  const std::int64_t latent = i(c, "latent_channels");
  CHECK(shape_of(k, "encoder.conv_in.weight") == Shape{ch.front(), i(c, "in_channels"), 3, 3});
  CHECK(shape_of(k, "encoder.conv_out.weight") == Shape{2 * latent, ch.back(), 3, 3});
  CHECK(shape_of(k, "decoder.conv_out.weight") == Shape{i(c, "out_channels"), ch.front(), 3, 3});
  CHECK(shape_of(k, "quant_conv.weight") == Shape{2 * latent, 2 * latent, 1, 1});
  CHECK(count(k, "encoder.down_blocks.") == static_cast<int>(ch.size()));
  CHECK(count(k, "decoder.up_blocks.") == static_cast<int>(ch.size()));
  CHECK(count(k, "encoder.down_blocks.0.resnets.") == i(c, "layers_per_block"));
  CHECK(count(k, "decoder.up_blocks.0.resnets.") == i(c, "layers_per_block") + 1);
  CHECK(shape_of(k, "encoder.mid_block.attentions.0.group_norm.weight") == Shape{ch.back()});
}

void check_text_config(const json& c, const TensorIndex& k) {
  const std::int64_t hidden = i(c, "hidden_size");
  CHECK(shape_of(k, "text_model.embeddings.token_embedding.weight") == Shape{i(c, "vocab_size"), hidden});
  CHECK(shape_of(k, "text_model.embeddings.position_embedding.weight") ==
        Shape{i(c, "max_position_embeddings"), hidden});
  CHECK(count(k, "text_model.encoder.layers.") == i(c, "num_hidden_layers"));
  CHECK(shape_of(k, "text_model.encoder.layers.0.mlp.fc1.weight") == Shape{i(c, "intermediate_size"), hidden});
  CHECK(hidden % i(c, "num_attention_heads") == 0);
  const bool projection = c.at("architectures").at(0) == "CLIPTextModelWithProjection";
  CHECK(k.contains("text_projection.weight") == projection);
  if (projection) CHECK(shape_of(k, "text_projection.weight") == Shape{i(c, "projection_dim"), hidden});
}

void check_pipeline(ModelFamily family, PredictionType prediction, const std::string& model) {
  check_unet_config(reference_config(family, "unet", prediction), keys(model, "unet"), false);
  check_vae_config(reference_config(family, "vae", prediction), keys(model, "vae"));
  check_text_config(reference_config(family, "text_encoder", prediction), keys(model, "text_encoder"));
  if (family == ModelFamily::SDXL) {
    check_text_config(reference_config(family, "text_encoder_2", prediction), keys(model, "text_encoder_2"));
  }
}

}  // namespace

TEST_CASE("reference configs agree with every shape of the full-size golden key lists") {
  SUBCASE("SD 1.5") { check_pipeline(ModelFamily::SD1, PredictionType::Unknown, "sd15"); }
  SUBCASE("SD 2.1 768") { check_pipeline(ModelFamily::SD2, PredictionType::VPrediction, "sd21"); }
  SUBCASE("SD 2.1 512 has the same layout") { check_pipeline(ModelFamily::SD2, PredictionType::Epsilon, "sd21"); }
  SUBCASE("SDXL base") { check_pipeline(ModelFamily::SDXL, PredictionType::Unknown, "sdxl_base"); }
  SUBCASE("ControlNet SD 1.5") {
    check_unet_config(reference_config(ModelFamily::ControlNetSD1, "controlnet"), keys("controlnet_sd15", "controlnet"),
                      true);
  }
}

TEST_CASE("reference configs build the models' full-size presets") {
  using namespace kiln::models;
  auto same_unet = [](const UNet2DConditionConfig& a, const UNet2DConditionConfig& b) {
    CHECK(a.in_channels == b.in_channels);
    CHECK(a.down_block_types == b.down_block_types);
    CHECK(a.up_block_types == b.up_block_types);
    CHECK(a.block_out_channels == b.block_out_channels);
    CHECK(a.cross_attention_dim == b.cross_attention_dim);
    CHECK(a.num_attention_heads == b.num_attention_heads);
    CHECK(a.transformer_layers_per_block == b.transformer_layers_per_block);
    CHECK(a.use_linear_projection == b.use_linear_projection);
    CHECK(a.upcast_attention == b.upcast_attention);
    CHECK(a.addition_embed_type == b.addition_embed_type);
    CHECK(a.projection_class_embeddings_input_dim == b.projection_class_embeddings_input_dim);
    CHECK(a.sample_size == b.sample_size);
  };
  same_unet(UNet2DConditionConfig::from_json(reference_config(ModelFamily::SD1, "unet")),
            UNet2DConditionConfig::sd15());
  same_unet(UNet2DConditionConfig::from_json(reference_config(ModelFamily::SD2, "unet", PredictionType::VPrediction)),
            UNet2DConditionConfig::sd21());
  same_unet(UNet2DConditionConfig::from_json(reference_config(ModelFamily::SDXL, "unet")),
            UNet2DConditionConfig::sdxl_base());
  const auto base =
      UNet2DConditionConfig::from_json(reference_config(ModelFamily::SD2, "unet", PredictionType::Epsilon));
  CHECK_FALSE(base.upcast_attention);
  CHECK(base.sample_size == 64);
  CHECK(UNet2DConditionConfig::from_json(reference_config(ModelFamily::SD1Inpaint, "unet")).in_channels == 9);
  CHECK(UNet2DConditionConfig::from_json(reference_config(ModelFamily::SD2Inpaint, "unet")).in_channels == 9);
  same_unet(ControlNetConfig::from_json(reference_config(ModelFamily::ControlNetSD1, "controlnet")).unet,
            ControlNetConfig::sd15().unet);

  auto same_text = [](const CLIPTextConfig& a, const CLIPTextConfig& b) {
    CHECK(a.hidden_size == b.hidden_size);
    CHECK(a.intermediate_size == b.intermediate_size);
    CHECK(a.num_hidden_layers == b.num_hidden_layers);
    CHECK(a.num_attention_heads == b.num_attention_heads);
    CHECK(a.projection_dim == b.projection_dim);
    CHECK(a.hidden_act == b.hidden_act);
    CHECK(a.eos_token_id == b.eos_token_id);
    CHECK(a.with_projection == b.with_projection);
  };
  same_text(CLIPTextConfig::from_json(reference_config(ModelFamily::SD1, "text_encoder")), CLIPTextConfig::sd1());
  same_text(CLIPTextConfig::from_json(reference_config(ModelFamily::SD2, "text_encoder")), CLIPTextConfig::sd2());
  same_text(CLIPTextConfig::from_json(reference_config(ModelFamily::SDXL, "text_encoder")), CLIPTextConfig::sd1());
  same_text(CLIPTextConfig::from_json(reference_config(ModelFamily::SDXL, "text_encoder_2")),
            CLIPTextConfig::sdxl_bigg());

  const auto vae = AutoencoderKLConfig::from_json(reference_config(ModelFamily::SD1, "vae"));
  CHECK(vae.scaling_factor == AutoencoderKLConfig::sd().scaling_factor);
  CHECK(vae.block_out_channels == AutoencoderKLConfig::sd().block_out_channels);
  const auto xl = AutoencoderKLConfig::from_json(reference_config(ModelFamily::SDXL, "vae"));
  CHECK(xl.scaling_factor == 0.13025);
  CHECK(xl.force_upcast);
  CHECK(xl.sample_size == AutoencoderKLConfig::sdxl().sample_size);
}

TEST_CASE("reference files equal the hub files kept in the golden data") {
  const fs::path tiny = golden() / "pipeline" / "tiny_sd1";
  // The SD 1.5 scheduler file is the hub's content (golden README section 7), key for key.
  CHECK(reference_config(ModelFamily::SD1, "scheduler") == read_json(tiny / "scheduler" / "scheduler_config.json"));
  CHECK(reference_config(ModelFamily::SD1, "model_index") == read_json(tiny / "model_index.json"));
  CHECK(reference_config(ModelFamily::SD1, "tokenizer") == read_json(golden() / "tokenizer/hf/tokenizer_config.json"));
  CHECK(kiln::convert::reference_special_tokens_map(ModelFamily::SD1, "tokenizer") ==
        read_json(golden() / "tokenizer/hf/special_tokens_map.json"));
  CHECK(reference_config(ModelFamily::SD2, "tokenizer") ==
        read_json(golden() / "tokenizer/hf_sd2/tokenizer_config.json"));
  CHECK(kiln::convert::reference_special_tokens_map(ModelFamily::SD2, "tokenizer") ==
        read_json(golden() / "tokenizer/hf_sd2/special_tokens_map.json"));
  CHECK(reference_config(ModelFamily::SDXL, "tokenizer_2") == reference_config(ModelFamily::SD2, "tokenizer"));
  CHECK(reference_config(ModelFamily::SDXL, "tokenizer") == reference_config(ModelFamily::SD1, "tokenizer"));
}

TEST_CASE("prediction type picks the SD 2.1 variant and overrides only what differs from the hub") {
  const json v = reference_config(ModelFamily::SD2, "scheduler", PredictionType::VPrediction);
  CHECK(v["_class_name"] == "DDIMScheduler");
  CHECK(v["prediction_type"] == "v_prediction");
  CHECK(reference_config(ModelFamily::SD2, "scheduler") == v);  // unknown: 768 v, as diffusers assumes
  const json eps = reference_config(ModelFamily::SD2, "scheduler", PredictionType::Epsilon);
  CHECK(eps["_class_name"] == "PNDMScheduler");
  CHECK(eps["prediction_type"] == "epsilon");
  CHECK(reference_config(ModelFamily::SD2, "model_index", PredictionType::Epsilon)["scheduler"] ==
        json{"diffusers", "PNDMScheduler"});
  CHECK(reference_config(ModelFamily::SD2, "model_index")["scheduler"] == json{"diffusers", "DDIMScheduler"});
  // SD 1.5 keeps the hub file as is for epsilon; a v-prediction fine-tune spells it out.
  CHECK_FALSE(reference_config(ModelFamily::SD1, "scheduler", PredictionType::Epsilon).contains("prediction_type"));
  CHECK(reference_config(ModelFamily::SD1, "scheduler", PredictionType::VPrediction)["prediction_type"] ==
        "v_prediction");
  CHECK(reference_config(ModelFamily::SDXL, "scheduler", PredictionType::VPrediction)["prediction_type"] ==
        "v_prediction");
}

TEST_CASE("components per family and the families without references") {
  using V = std::vector<std::string>;
  CHECK(kiln::convert::reference_components(ModelFamily::SD1) ==
        V{"scheduler", "text_encoder", "tokenizer", "unet", "vae"});
  CHECK(kiln::convert::reference_components(ModelFamily::SDXL) ==
        V{"scheduler", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "unet", "vae"});
  CHECK(kiln::convert::reference_components(ModelFamily::ControlNetSD1) == V{"controlnet"});
  CHECK(kiln::convert::reference_components(ModelFamily::SDXLRefiner).empty());
  const json sdxl_index = reference_config(ModelFamily::SDXL, "model_index");
  CHECK(sdxl_index["_class_name"] == "StableDiffusionXLPipeline");
  CHECK(sdxl_index["text_encoder_2"] == json{"transformers", "CLIPTextModelWithProjection"});
  CHECK(sdxl_index["force_zeros_for_empty_prompt"] == true);
  CHECK(reference_config(ModelFamily::SD1Inpaint, "model_index")["_class_name"] == "StableDiffusionInpaintPipeline");
  CHECK_THROWS_AS(reference_config(ModelFamily::SDXLRefiner, "unet"), kiln::InvalidRequestError);
  CHECK_THROWS_AS(reference_config(ModelFamily::SD1, "text_encoder_2"), kiln::InvalidRequestError);
  CHECK_THROWS_AS(reference_config(ModelFamily::ControlNetSD1, "unet"), kiln::InvalidRequestError);
  CHECK_THROWS_WITH(reference_config(ModelFamily::LoRASD1, "unet"),
                    doctest::Contains("no reference unet config for LoRA"));
}
