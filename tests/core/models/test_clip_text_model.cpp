#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "models/clip_text_model.h"
#include "models/weight_loading.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::CLIPTextConfig;
using kiln::models::CLIPTextModel;
using kiln::models::CLIPTextOutput;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Compares one output with the golden tensor and reports the measured difference.
void check_close(const std::string& what, const torch::Tensor& got, const torch::Tensor& expected) {
  const double diff = max_abs_diff(got, expected);
  MESSAGE(what << ": max abs diff " << diff);
  CHECK(diff <= 1e-4);
}

void check_parity(CLIPTextModel& model, const fs::path& io_file) {
  const auto io = kiln::io::SafetensorsFile::open(io_file);
  const torch::Tensor ids = io->tensor("input_ids");
  CLIPTextOutput out;
  {
    c10::InferenceMode guard;
    out = model->forward(ids, /*output_hidden_states=*/true);
  }
  const auto n = static_cast<std::int64_t>(out.hidden_states.size());
  REQUIRE(n == model->config().num_hidden_layers + 1);
  const std::string tag = io_file.parent_path().filename().string() + " ";
  check_close(tag + "last_hidden_state", out.last_hidden_state, io->tensor("last_hidden_state"));
  check_close(tag + "hidden_states.0", out.hidden_states[0], io->tensor("hidden_states.0"));
  const std::string last = "hidden_states." + std::to_string(n - 1);
  check_close(tag + last, out.hidden_states[n - 1], io->tensor(last));
  check_close(tag + "penultimate_hidden_state", out.hidden_states[n - 2], io->tensor("penultimate_hidden_state"));
  torch::Tensor penultimate_ln;
  {
    c10::InferenceMode guard;
    penultimate_ln = model->text_model->final_layer_norm(out.hidden_states[n - 2]);
  }
  check_close(tag + "penultimate_final_layer_norm", penultimate_ln, io->tensor("penultimate_final_layer_norm"));
  check_close(tag + "pooler_output", out.pooler_output, io->tensor("pooler_output"));
  // The pooled vector is the final-LN output at the golden pooled_index.
  const torch::Tensor index = io->tensor("pooled_index");
  const torch::Tensor at_index = out.last_hidden_state.index({torch::arange(ids.size(0)), index});
  CHECK(torch::equal(at_index, out.pooler_output));
  if (model->config().with_projection) {
    check_close(tag + "text_embeds", out.text_embeds, io->tensor("text_embeds"));
  } else {
    CHECK_FALSE(out.text_embeds.defined());
  }
}

// Names and shapes of a module, in registration order, as a key list reads them.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> names_and_shapes(torch::nn::Module& module) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
  for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value().sizes().vec());
  return out;
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> names_and_shapes(const kiln::io::TensorIndex& index) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
  for (const auto& e : index.entries()) out.emplace_back(e.name, e.shape);
  return out;
}

kiln::models::NamedTensorList state_dict(torch::nn::Module& module) {
  kiln::models::NamedTensorList out;
  for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value().detach().clone());
  return out;
}

CLIPTextConfig tiny_config() {
  CLIPTextConfig c;
  c.vocab_size = 50;
  c.hidden_size = 8;
  c.intermediate_size = 12;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.max_position_embeddings = 6;
  c.projection_dim = 4;
  return c;
}

}  // namespace

TEST_CASE("SD1-like text encoder matches transformers' CLIPTextModel") {
  const auto folder = kiln::io::DiffusersFolder::open(kGolden / "pipeline/tiny_sd1");
  CLIPTextModel model = kiln::models::load_clip_text_model(folder, "text_encoder");
  CHECK_FALSE(model->config().with_projection);
  CHECK(model->config().hidden_act == kiln::models::CLIPActivation::QuickGELU);
  CHECK(model->config().eos_token_id == 49407);
  check_parity(model, kGolden / "clip_text/sd1/io.safetensors");
}

TEST_CASE("gelu text encoder with projection matches CLIPTextModelWithProjection") {
  CLIPTextModel model = kiln::models::load_clip_text_model(kGolden / "clip_text/gelu/model");
  CHECK(model->config().with_projection);
  CHECK(model->config().hidden_act == kiln::models::CLIPActivation::GELU);
  CHECK(model->config().projection_dim == 24);
  check_parity(model, kGolden / "clip_text/gelu/io.safetensors");
}

TEST_CASE("legacy eos_token_id 2 pools at argmax(input_ids), the same position for tokenizer output") {
  const auto folder = kiln::io::DiffusersFolder::open(kGolden / "pipeline/tiny_sd1");
  CLIPTextModel model = kiln::models::load_clip_text_model(folder, "text_encoder");
  auto legacy_config = model->config();
  legacy_config.eos_token_id = 2;
  CLIPTextModel legacy(legacy_config);
  kiln::models::load_weights(*legacy, state_dict(*model));
  const auto io = kiln::io::SafetensorsFile::open(kGolden / "clip_text/sd1/io.safetensors");
  c10::InferenceMode guard;
  const torch::Tensor ids = io->tensor("input_ids");
  CHECK(max_abs_diff(legacy->forward(ids).pooler_output, io->tensor("pooler_output")) <= 1e-4);
  // Where the rules differ: no 49407 at all. argmax picks the largest id, the new rule position 0.
  const torch::Tensor no_eos = torch::tensor({{49406, 320, 1125, 539}}, torch::kLong);
  const auto a = legacy->forward(no_eos);
  const auto b = model->forward(no_eos);
  CHECK(torch::equal(a.pooler_output[0], a.last_hidden_state[0][0]));
  CHECK(torch::equal(b.pooler_output[0], b.last_hidden_state[0][0]));
  const torch::Tensor big_id_last = torch::tensor({{49406, 320, 49407, 49000}}, torch::kLong);
  CHECK(torch::equal(legacy->forward(big_id_last).pooler_output[0],
                     legacy->forward(big_id_last).last_hidden_state[0][2]));
}

TEST_CASE("config.json fields and presets") {
  const nlohmann::json sd21 = {{"architectures", {"CLIPTextModel"}},
                               {"hidden_act", "gelu"},
                               {"hidden_size", 1024},
                               {"intermediate_size", 4096},
                               {"num_attention_heads", 16},
                               {"num_hidden_layers", 23},
                               {"projection_dim", 512},
                               {"eos_token_id", 2},
                               {"layer_norm_eps", 1e-5},
                               {"max_position_embeddings", 77},
                               {"vocab_size", 49408}};
  const CLIPTextConfig c = CLIPTextConfig::from_json(sd21);
  const CLIPTextConfig p = CLIPTextConfig::sd2();
  CHECK(c.hidden_size == p.hidden_size);
  CHECK(c.intermediate_size == p.intermediate_size);
  CHECK(c.num_hidden_layers == p.num_hidden_layers);
  CHECK(c.num_attention_heads == p.num_attention_heads);
  CHECK(c.projection_dim == p.projection_dim);
  CHECK(c.eos_token_id == p.eos_token_id);
  CHECK(c.hidden_act == p.hidden_act);
  CHECK(c.with_projection == p.with_projection);

  nlohmann::json bad = sd21;
  bad["hidden_act"] = "relu";
  try {
    CLIPTextConfig::from_json(bad, "te/config.json");
    FAIL("no error");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()) ==
          "te/config.json: unsupported text encoder activation \"relu\" (expected quick_gelu or gelu)");
  }
  bad = sd21;
  bad["num_attention_heads"] = 0;
  CHECK_THROWS_AS(CLIPTextConfig::from_json(bad), kiln::FormatError);
}

TEST_CASE("weight mismatch: every missing, unexpected and mis-shaped key in one report") {
  const CLIPTextConfig config = tiny_config();
  CLIPTextModel source(config);
  CLIPTextModel target(config);
  auto tensors = state_dict(*source);
  // Drop two keys, mis-shape one, mistype one, add two strangers and one ignored key.
  std::erase_if(tensors, [](const auto& kv) {
    return kv.first == "text_model.final_layer_norm.weight" || kv.first == "text_model.encoder.layers.1.mlp.fc2.bias";
  });
  for (auto& [name, t] : tensors) {
    if (name == "text_model.encoder.layers.0.self_attn.q_proj.weight") t = torch::zeros({8, 4});
    if (name == "text_model.encoder.layers.0.layer_norm1.bias") t = torch::zeros({8}, torch::kLong);
  }
  tensors.emplace_back("text_projection.weight", torch::zeros({4, 8}));
  tensors.emplace_back("logit_scale", torch::zeros({}));
  tensors.emplace_back("text_model.embeddings.position_ids", torch::arange(6));
  const torch::Tensor before = target->text_model->embeddings->token_embedding->weight.clone();

  kiln::models::WeightLoadOptions options;
  options.ignored_keys = {"text_model.embeddings.position_ids"};
  options.model_name = "CLIPTextModel";
  options.source = "model.safetensors";
  try {
    kiln::models::load_weights(*target, tensors, options);
    FAIL("no error");
  } catch (const kiln::WeightMismatchError& e) {
    CHECK(e.kind() == kiln::ErrorKind::WeightMismatch);
    CHECK(e.path() == fs::path("model.safetensors"));
    CHECK(e.message() ==
          "weights do not fit CLIPTextModel: 2 missing, 2 unexpected, 2 mis-shaped\n"
          "  missing (2):\n"
          "    text_model.encoder.layers.1.mlp.fc2.bias\n"
          "    text_model.final_layer_norm.weight\n"
          "  unexpected (2):\n"
          "    text_projection.weight\n"
          "    logit_scale\n"
          "  mis-shaped (2):\n"
          "    text_model.encoder.layers.0.self_attn.q_proj.weight: expected [8, 8] Float, got [8, 4] Float\n"
          "    text_model.encoder.layers.0.layer_norm1.bias: expected [8] Float, got [8] Long");
    CHECK(e.hint() == "the weights are probably of another model family or size");
  }
  // Nothing was copied.
  CHECK(torch::equal(before, target->text_model->embeddings->token_embedding->weight));

  // The report lists the first N of each kind.
  kiln::models::WeightMismatch many;
  for (int i = 0; i < 5; ++i) many.missing.push_back("k" + std::to_string(i));
  CHECK(many.report("M", 2) ==
        "weights do not fit M: 5 missing, 0 unexpected, 0 mis-shaped\n"
        "  missing (5):\n    k0\n    k1\n    ... and 3 more");
}

TEST_CASE("loading converts F16/BF16 to the module dtype; optional keys may be absent") {
  const CLIPTextConfig config = tiny_config();
  CLIPTextModel source(config);
  auto tensors = state_dict(*source);
  for (auto& [name, t] : tensors)
    t = t.to(name.find("layers.0") != std::string::npos ? torch::kHalf : torch::kBFloat16);
  CLIPTextModel target(config);
  kiln::models::load_weights(*target, tensors);
  for (const auto& [name, t] : tensors) {
    const torch::Tensor loaded = target->named_parameters()[name];
    CHECK((loaded.scalar_type() == torch::kFloat));
    CHECK(torch::equal(loaded, t.to(torch::kFloat)));
  }

  auto partial = state_dict(*source);
  std::erase_if(partial, [](const auto& kv) { return kv.first == "text_model.final_layer_norm.bias"; });
  kiln::models::WeightLoadOptions options;
  options.optional_keys = {"final_layer_norm.bias"};
  CHECK_NOTHROW(kiln::models::load_weights(*target, partial, options));
}

TEST_CASE("full-size encoders: every name and shape of the diffusers key lists, in state_dict order") {
  struct Case {
    const char* model;
    const char* file;
    CLIPTextConfig config;
  };
  // bigG (695M parameters, 2.8 GB in fp32) has its own slow-labelled test.
  const Case cases[] = {{"sd15", "diffusers_text_encoder.txt", CLIPTextConfig::sd1()},
                        {"sd21", "diffusers_text_encoder.txt", CLIPTextConfig::sd2()},
                        {"sdxl_base", "diffusers_text_encoder.txt", CLIPTextConfig::sd1()}};
  for (const Case& c : cases) {
    CAPTURE(c.model);
    const auto expected = kiln::test::read_key_list(kGolden / "keys" / c.model / c.file);
    CLIPTextModel model(c.config);
    CHECK(names_and_shapes(*model) == names_and_shapes(expected));
  }
}
