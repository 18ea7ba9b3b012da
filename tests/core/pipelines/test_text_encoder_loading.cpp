#include <doctest/doctest.h>

#include <torch/torch.h>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "io/weight_file.h"
#include "pipelines/text_encoder_loading.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::convert::ModelFamily;
using kiln::convert::SingleFileTextEncoder;
using kiln::convert::TextEncoderKeyStyle;
using kiln::models::CLIPTextConfig;
using kiln::models::CLIPTextModel;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";

// Every parameter bit-identical, same names.
void check_same_weights(CLIPTextModel& a, CLIPTextModel& b) {
  const auto pa = a->named_parameters(true);
  const auto pb = b->named_parameters(true);
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    CAPTURE(pa[i].key());
    CHECK(pa[i].key() == pb[i].key());
    CHECK((pb[i].value().scalar_type() == torch::kFloat));
    CHECK(torch::equal(pa[i].value(), pb[i].value()));
  }
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

// The gelu model's weights in OpenCLIP layout under `prefix`: q/k/v stacked into in_proj, the
// projection stored transposed, open_clip's module names. An independent inverse of the
// translation under test.
kiln::io::NamedTensors to_open_clip(CLIPTextModel& model, const std::string& prefix, torch::Dtype dtype) {
  kiln::io::NamedTensors out;
  std::map<std::string, torch::Tensor> p;
  for (const auto& kv : model->named_parameters(true)) p[kv.key()] = kv.value().detach().to(dtype);
  out.emplace_back(prefix + "token_embedding.weight", p.at("text_model.embeddings.token_embedding.weight"));
  out.emplace_back(prefix + "positional_embedding", p.at("text_model.embeddings.position_embedding.weight"));
  for (std::int64_t i = 0; i < model->config().num_hidden_layers; ++i) {
    const std::string l = "text_model.encoder.layers." + std::to_string(i) + ".";
    const std::string r = prefix + "transformer.resblocks." + std::to_string(i) + ".";
    for (const char* kind : {"weight", "bias"}) {
      const std::string k = kind;
      out.emplace_back(r + "attn.in_proj_" + k,
                       torch::cat({p.at(l + "self_attn.q_proj." + k), p.at(l + "self_attn.k_proj." + k),
                                   p.at(l + "self_attn.v_proj." + k)}));
      out.emplace_back(r + "attn.out_proj." + k, p.at(l + "self_attn.out_proj." + k));
      out.emplace_back(r + "ln_1." + k, p.at(l + "layer_norm1." + k));
      out.emplace_back(r + "ln_2." + k, p.at(l + "layer_norm2." + k));
      out.emplace_back(r + "mlp.c_fc." + k, p.at(l + "mlp.fc1." + k));
      out.emplace_back(r + "mlp.c_proj." + k, p.at(l + "mlp.fc2." + k));
    }
  }
  out.emplace_back(prefix + "ln_final.weight", p.at("text_model.final_layer_norm.weight"));
  out.emplace_back(prefix + "ln_final.bias", p.at("text_model.final_layer_norm.bias"));
  out.emplace_back(prefix + "text_projection", p.at("text_projection.weight").t().contiguous());
  out.emplace_back(prefix + "logit_scale", torch::tensor(4.6052f));
  return out;
}

}  // namespace

TEST_CASE("SD 1.x single file (fp16) gives exactly the folder's text encoder weights") {
  const auto folder = kiln::io::DiffusersFolder::open(kGolden / "pipeline/tiny_sd1");
  CLIPTextModel from_folder = kiln::models::load_clip_text_model(folder, "text_encoder");
  const auto file = kiln::io::open_weight_file(kGolden / "pipeline/tiny_sd1.safetensors");
  const auto encoders = kiln::convert::single_file_text_encoders(ModelFamily::SD1);
  REQUIRE(encoders.size() == 1);
  CLIPTextModel from_file = kiln::pipelines::load_single_file_text_encoder(*file, encoders[0], from_folder->config());
  CHECK_FALSE(from_file->is_training());
  check_same_weights(from_folder, from_file);
}

TEST_CASE("OpenCLIP layout (SDXL text_encoder_2): fused in_proj and transposed projection load back exactly") {
  CLIPTextModel reference = kiln::models::load_clip_text_model(kGolden / "clip_text/gelu/model");
  const std::string prefix = "conditioner.embedders.1.model.";
  kiln::test::ScratchDir dir;
  const fs::path path = dir / "sdxl.safetensors";
  auto tensors = to_open_clip(reference, prefix, torch::kFloat);
  tensors.emplace_back("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", torch::ones({4}));
  kiln::io::write_safetensors(path, tensors);
  const auto file = kiln::io::open_weight_file(path);
  const auto encoder = kiln::convert::single_file_text_encoders(ModelFamily::SDXL).at(1);
  CLIPTextModel loaded = kiln::pipelines::load_single_file_text_encoder(*file, encoder, reference->config());
  check_same_weights(reference, loaded);

  const auto io = kiln::io::SafetensorsFile::open(kGolden / "clip_text/gelu/io.safetensors");
  c10::InferenceMode guard;
  const torch::Tensor ids = io->tensor("input_ids");
  const auto a = reference->forward(ids);
  const auto b = loaded->forward(ids);
  CHECK(torch::equal(a.last_hidden_state, b.last_hidden_state));
  CHECK(torch::equal(a.text_embeds, b.text_embeds));
  CHECK((b.text_embeds - io->tensor("text_embeds")).abs().max().item<double>() <= 1e-4);
}

TEST_CASE("OpenCLIP layout (SD 2.x style, fp16): the extra last block is dropped, no projection") {
  CLIPTextModel reference = kiln::models::load_clip_text_model(kGolden / "clip_text/gelu/model");
  const std::string prefix = "cond_stage_model.model.";
  auto tensors = to_open_clip(reference, prefix, torch::kHalf);
  // A 4th block as real SD 2.x files carry one beyond diffusers' layers.
  kiln::io::NamedTensors extra;
  for (const auto& [name, t] : tensors) {
    if (name.find("resblocks.2.") != std::string::npos)
      extra.emplace_back(replace(name, "resblocks.2.", "resblocks.3."), t);
  }
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  kiln::test::ScratchDir dir;
  kiln::io::write_safetensors(dir / "sd2.safetensors", tensors);
  const auto file = kiln::io::open_weight_file(dir / "sd2.safetensors");

  SingleFileTextEncoder encoder = kiln::convert::single_file_text_encoders(ModelFamily::SD2).at(0);
  encoder.max_layers = 3;
  CLIPTextConfig config = reference->config();
  config.with_projection = false;
  CLIPTextModel loaded = kiln::pipelines::load_single_file_text_encoder(*file, encoder, config);
  for (const auto& kv : reference->named_parameters(true)) {
    if (kv.key() == "text_projection.weight") continue;
    CAPTURE(kv.key());
    CHECK(torch::equal(kv.value(), loaded->named_parameters(true)[kv.key()]));
  }

  // With 4 blocks kept, the model of 3 layers reports the strangers (and nothing else).
  encoder.max_layers = 0;
  try {
    kiln::pipelines::load_single_file_text_encoder(*file, encoder, config);
    FAIL("no error");
  } catch (const kiln::WeightMismatchError& e) {
    const std::string message = e.message();
    const std::string head =
        "weights do not fit CLIPTextModel text_encoder: 0 missing, 16 unexpected, 0 mis-shaped\n"
        "  unexpected (16):\n    text_model.encoder.layers.3.";
    CHECK(message.substr(0, head.size()) == head);
    CHECK(message.find("... and 6 more") != std::string::npos);
    CHECK(e.path() == dir / "sd2.safetensors");
  }
}

TEST_CASE("hub configs of single-file text encoders") {
  using kiln::pipelines::single_file_text_encoder_config;
  CHECK(single_file_text_encoder_config(ModelFamily::SD1, "text_encoder").hidden_size == 768);
  CHECK(single_file_text_encoder_config(ModelFamily::SD2Inpaint, "text_encoder").num_hidden_layers == 23);
  CHECK(single_file_text_encoder_config(ModelFamily::SDXL, "text_encoder").hidden_act ==
        kiln::models::CLIPActivation::QuickGELU);
  CHECK(single_file_text_encoder_config(ModelFamily::SDXL, "text_encoder_2").with_projection);
  CHECK(single_file_text_encoder_config(ModelFamily::SDXLRefiner, "text_encoder_2").hidden_size == 1280);
  CHECK_THROWS_AS(single_file_text_encoder_config(ModelFamily::SD1, "text_encoder_2"), kiln::InvalidRequestError);
}
