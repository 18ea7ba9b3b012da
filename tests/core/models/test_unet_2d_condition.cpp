#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "models/autoencoder_kl.h"
#include "models/autoencoder_tiny.h"
#include "models/clip_text_model.h"
#include "models/controlnet_model.h"
#include "models/unet_2d_condition.h"
#include "models/weight_loading.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::UNet2DConditionConfig;
using kiln::models::UNet2DConditionModel;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

void check_close(const std::string& what, const torch::Tensor& got, const torch::Tensor& expected) {
  const double diff = max_abs_diff(got, expected);
  MESSAGE(what << ": max abs diff " << diff);
  CHECK(diff <= 1e-4);
}

// The model read the plain way: config.json through nlohmann json, weights through SafetensorsFile.
UNet2DConditionModel tiny_unet(const fs::path& dir) {
  const nlohmann::json config = nlohmann::json::parse(kiln::test::read_text(dir / "config.json"));
  UNet2DConditionModel model(UNet2DConditionConfig::from_json(config, dir / "config.json"));
  const auto file = kiln::io::SafetensorsFile::open(dir / "diffusion_pytorch_model.safetensors");
  kiln::models::NamedTensorList tensors;
  for (const auto& e : file->index().entries()) tensors.emplace_back(e.name, file->tensor(e.name));
  kiln::models::load_weights(*model, tensors);
  model->eval();
  return model;
}

void check_case(const std::string& name, const fs::path& model_dir) {
  UNet2DConditionModel model = tiny_unet(model_dir);
  const auto io = kiln::io::SafetensorsFile::open(kGolden / "unet" / name / "io.safetensors");
  c10::InferenceMode guard;
  const torch::Tensor sample = io->tensor("sample");
  const torch::Tensor ehs = io->tensor("encoder_hidden_states");
  kiln::models::UNetAddedCond added;
  const kiln::models::UNetAddedCond* added_ptr = nullptr;
  if (io->index().find("added_cond.text_embeds")) {
    added.text_embeds = io->tensor("added_cond.text_embeds");
    added.time_ids = io->tensor("added_cond.time_ids");
    added_ptr = &added;
  }
  kiln::models::UNetIntermediates captured;
  const torch::Tensor out = model->forward(sample, io->tensor("timestep_scalar"), ehs, added_ptr, nullptr, &captured);
  check_close(name + " out_scalar_t", out, io->tensor("out_scalar_t"));
  std::size_t intermediates = 0;
  for (const auto& e : io->index().entries()) {
    const std::string prefix = "intermediate.";
    if (e.name.rfind(prefix, 0) != 0) continue;
    const std::string key = e.name.substr(prefix.size());
    ++intermediates;
    const auto it = captured.find(key);
    REQUIRE_MESSAGE(it != captured.end(), "not captured: " << key);
    check_close(name + " " + key, it->second, io->tensor(e.name));
  }
  CHECK(intermediates >= 9);
  check_close(name + " out_vector_t", model->forward(sample, io->tensor("timestep_vector"), ehs, added_ptr),
              io->tensor("out_vector_t"));
  const torch::Tensor t_float = io->tensor("timestep_float");
  check_close(name + " out_float_t", model->forward(sample, t_float, ehs, added_ptr), io->tensor("out_float_t"));
  check_close(name + " out_float_t (double overload)", model->forward(sample, t_float.item<double>(), ehs, added_ptr),
              io->tensor("out_float_t"));
}

}  // namespace

TEST_CASE("tiny SD1-style UNet matches diffusers") { check_case("sd1", kGolden / "pipeline/tiny_sd1/unet"); }

TEST_CASE("tiny SD2-style UNet (linear projection, per-block heads, upcast) matches diffusers") {
  check_case("sd2", kGolden / "unet/sd2/model");
}

TEST_CASE("tiny SDXL-style UNet (text_time, 2 transformer layers) matches diffusers") {
  check_case("sdxl", kGolden / "unet/sdxl/model");
}

TEST_CASE("the folder loaders give the same UNet") {
  const auto folder = kiln::io::DiffusersFolder::open(kGolden / "pipeline/tiny_sd1");
  UNet2DConditionModel a = kiln::models::load_unet_2d_condition(folder, "unet");
  UNet2DConditionModel b = tiny_unet(kGolden / "pipeline/tiny_sd1/unet");
  UNet2DConditionModel c = kiln::models::load_unet_2d_condition(kGolden / "unet/sdxl/model");
  CHECK(c->config().addition_embed_type == "text_time");
  const auto pa = a->named_parameters(true);
  const auto pb = b->named_parameters(true);
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    CHECK(pa[i].key() == pb[i].key());
    CHECK(torch::equal(pa[i].value(), pb[i].value()));
  }
}

TEST_CASE("ControlNet residuals are added to the skips and the mid block") {
  UNet2DConditionModel model = tiny_unet(kGolden / "pipeline/tiny_sd1/unet");
  const auto io = kiln::io::SafetensorsFile::open(kGolden / "unet/sd1/io.safetensors");
  c10::InferenceMode guard;
  const torch::Tensor sample = io->tensor("sample");
  const torch::Tensor ehs = io->tensor("encoder_hidden_states");
  const torch::Tensor t = io->tensor("timestep_scalar");
  // Skips: conv_in, 2 resnets + downsample (block 0), 2 resnets (block 1) = 6.
  kiln::models::UNetResiduals zeros;
  kiln::models::UNetIntermediates captured;
  model->forward(sample, t, ehs, nullptr, nullptr, &captured);
  for (int i = 0; i < 6; ++i) {
    const std::int64_t ch = i < 4 ? 32 : 64;
    const std::int64_t hw = i < 3 ? 8 : 4;
    zeros.down_block_additional_residuals.push_back(torch::zeros({2, ch, hw, hw}));
  }
  zeros.mid_block_additional_residual = torch::zeros({2, 64, 4, 4});
  CHECK(torch::allclose(model->forward(sample, t, ehs, nullptr, &zeros), io->tensor("out_scalar_t"), 1e-5, 1e-4));
  kiln::models::UNetResiduals mid_only;
  mid_only.mid_block_additional_residual = torch::ones({2, 64, 4, 4});
  kiln::models::UNetIntermediates with_mid;
  model->forward(sample, t, ehs, nullptr, &mid_only, &with_mid);
  CHECK(torch::allclose(with_mid["mid_block"], captured["mid_block"] + 1));
  kiln::models::UNetResiduals wrong;
  wrong.down_block_additional_residuals.push_back(torch::zeros({2, 32, 8, 8}));
  CHECK_THROWS(model->forward(sample, t, ehs, nullptr, &wrong));
}

TEST_CASE("SDXL-style UNet requires added_cond") {
  UNet2DConditionModel model = tiny_unet(kGolden / "unet/sdxl/model");
  c10::InferenceMode guard;
  CHECK_THROWS(model->forward(torch::zeros({1, 4, 8, 8}), 1.0, torch::zeros({1, 77, 32})));
}

TEST_CASE("UNet config.json fields") {
  const nlohmann::json sd1 =
      nlohmann::json::parse(kiln::test::read_text(kGolden / "pipeline/tiny_sd1/unet/config.json"));
  const auto c1 = UNet2DConditionConfig::from_json(sd1);
  CHECK(c1.num_attention_heads == std::vector<std::int64_t>{8, 8});  // attention_head_dim quirk
  CHECK(c1.transformer_layers_per_block == std::vector<std::int64_t>{1, 1});
  CHECK_FALSE(c1.use_linear_projection);
  const nlohmann::json sd2 = nlohmann::json::parse(kiln::test::read_text(kGolden / "unet/sd2/model/config.json"));
  const auto c2 = UNet2DConditionConfig::from_json(sd2);
  CHECK(c2.num_attention_heads == std::vector<std::int64_t>{2, 4});
  CHECK(c2.use_linear_projection);
  CHECK(c2.upcast_attention);
  CHECK(c2.cross_attention_dim == 16);
  const nlohmann::json xl = nlohmann::json::parse(kiln::test::read_text(kGolden / "unet/sdxl/model/config.json"));
  const auto cx = UNet2DConditionConfig::from_json(xl);
  CHECK(cx.transformer_layers_per_block == std::vector<std::int64_t>{1, 2});
  CHECK(cx.addition_embed_type == "text_time");
  CHECK(cx.addition_time_embed_dim == 8);
  CHECK(cx.projection_class_embeddings_input_dim == 72);

  nlohmann::json bad = sd1;
  bad["class_embed_type"] = "timestep";
  CHECK_THROWS_AS(UNet2DConditionConfig::from_json(bad), kiln::FormatError);
  bad = sd1;
  bad["down_block_types"] = {"SimpleCrossAttnDownBlock2D", "DownBlock2D"};
  CHECK_THROWS_AS(UNet2DConditionConfig::from_json(bad), kiln::FormatError);
  bad = sd1;
  bad["attention_head_dim"] = {8, 8, 8};
  CHECK_THROWS_AS(UNet2DConditionConfig::from_json(bad), kiln::FormatError);
  bad = sd1;
  bad["addition_embed_type"] = "text";
  CHECK_THROWS_AS(UNet2DConditionConfig::from_json(bad), kiln::FormatError);
}

TEST_CASE("a config with norm_num_groups 0 is refused, not divided by (fuzz_model_config's finding)") {
  const auto path = kiln::test::data_dir() / "fuzz_regressions/unet_config_zero_norm_groups.json";
  const nlohmann::json config = nlohmann::json::parse(kiln::test::read_text(path));
  try {
    (void)kiln::models::UNet2DConditionConfig::from_json(config, path);
    FAIL("accepted");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()).find("norm_num_groups") != std::string::npos);
    CHECK(e.path() == path);
  }
}

TEST_CASE("a config field of the wrong JSON type is a FormatError in every model config (fuzz_model_config's finding)") {
  // "act_fn": [64, 64] where a string belongs: nlohmann's type_error escaped before.
  const auto path = kiln::test::data_dir() / "fuzz_regressions/config_act_fn_list.json";
  const nlohmann::json config = nlohmann::json::parse(kiln::test::read_text(path));
  CHECK_THROWS_AS((void)kiln::models::AutoencoderKLConfig::from_json(config, path), kiln::FormatError);
  CHECK_THROWS_AS((void)kiln::models::UNet2DConditionConfig::from_json(config, path), kiln::FormatError);
  CHECK_THROWS_AS((void)kiln::models::ControlNetConfig::from_json(config, path), kiln::FormatError);
  CHECK_THROWS_AS((void)kiln::models::CLIPTextConfig::from_json(nlohmann::json{{"hidden_act", {1, 2}}}, path),
                  kiln::FormatError);
  CHECK_THROWS_AS((void)kiln::models::AutoencoderTinyConfig::from_json(config, path), kiln::FormatError);
}
