#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "models/controlnet_model.h"
#include "models/unet_2d_condition.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::ControlNetConfig;
using kiln::models::ControlNetModel;

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

struct DefaultDtypeGuard {
  caffe2::TypeMeta saved = torch::get_default_dtype();
  explicit DefaultDtypeGuard(caffe2::TypeMeta dtype) { torch::set_default_dtype(dtype); }
  ~DefaultDtypeGuard() { torch::set_default_dtype(saved); }
  DefaultDtypeGuard(const DefaultDtypeGuard&) = delete;
  DefaultDtypeGuard& operator=(const DefaultDtypeGuard&) = delete;
};

}  // namespace

TEST_CASE("tiny ControlNet matches diffusers: residuals, cond embedding, UNet with and without residuals") {
  ControlNetModel controlnet = kiln::models::load_controlnet(kGolden / "controlnet" / "model");
  kiln::models::UNet2DConditionModel unet =
      kiln::models::load_unet_2d_condition(kGolden / "pipeline" / "tiny_sd1" / "unet");
  const auto io = kiln::io::SafetensorsFile::open(kGolden / "controlnet" / "io.safetensors");
  c10::InferenceMode guard;
  const torch::Tensor sample = io->tensor("sample");
  const torch::Tensor t = io->tensor("timestep");
  const torch::Tensor ehs = io->tensor("encoder_hidden_states");
  const torch::Tensor cond = io->tensor("controlnet_cond");

  kiln::models::UNetIntermediates captured;
  const kiln::models::ControlNetOutput out = controlnet->forward(sample, t, ehs, cond, 1.0, nullptr, &captured);
  REQUIRE(out.down_block_res_samples.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    const std::string key = "down_block_res_samples." + std::to_string(i);
    check_close(key, out.down_block_res_samples[i], io->tensor(key));
  }
  check_close("mid_block_res_sample", out.mid_block_res_sample, io->tensor("mid_block_res_sample"));
  REQUIRE(captured.count("controlnet_cond_embedding") == 1);
  check_close("controlnet_cond_embedding", captured["controlnet_cond_embedding"],
              io->tensor("intermediate.controlnet_cond_embedding"));

  const kiln::models::UNetResiduals residuals = out.residuals();
  check_close("unet_out_with_controlnet", unet->forward(sample, t, ehs, nullptr, &residuals),
              io->tensor("unet_out_with_controlnet"));
  check_close("unet_out_without_controlnet", unet->forward(sample, t, ehs), io->tensor("unet_out_without_controlnet"));

  SUBCASE("conditioning_scale 0.5 halves every residual") {
    const kiln::models::ControlNetOutput half = controlnet->forward(sample, t, ehs, cond, 0.5);
    REQUIRE(half.down_block_res_samples.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
      const std::string key = "down_block_res_samples." + std::to_string(i);
      check_close(key + " x0.5", half.down_block_res_samples[i], io->tensor(key) * 0.5);
    }
    check_close("mid_block_res_sample x0.5", half.mid_block_res_sample, io->tensor("mid_block_res_sample") * 0.5);
  }

  SUBCASE("double timestep overload") {
    const kiln::models::ControlNetOutput d = controlnet->forward(sample, t.item<double>(), ehs, cond);
    check_close("mid_block_res_sample (double t)", d.mid_block_res_sample, io->tensor("mid_block_res_sample"));
  }
}

TEST_CASE("ControlNet config from the tiny model's config.json") {
  const fs::path file = kGolden / "controlnet" / "model" / "config.json";
  const ControlNetConfig c = ControlNetConfig::from_json(nlohmann::json::parse(kiln::test::read_text(file)), file);
  CHECK(c.unet.block_out_channels == std::vector<std::int64_t>{32, 64});
  CHECK(c.unet.norm_num_groups == 8);
  CHECK(c.unet.num_attention_heads == std::vector<std::int64_t>{8, 8});
  CHECK(c.conditioning_embedding_out_channels == std::vector<std::int64_t>{8, 16, 16, 32});
  CHECK(c.conditioning_channels == 3);
}

TEST_CASE("full-size SD 1.5 ControlNet names and shapes equal diffusers' state_dict, in order") {
  torch::NoGradGuard no_grad;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> got;
  {
    DefaultDtypeGuard half(caffe2::TypeMeta::Make<at::Half>());
    ControlNetModel model(ControlNetConfig::sd15());
    for (const auto& p : model->named_parameters(true)) got.emplace_back(p.key(), p.value().sizes().vec());
  }
  MESSAGE("construction took "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
  const auto expected =
      kiln::test::read_key_list(kGolden / "keys" / "controlnet_sd15" / "diffusers_controlnet.txt");
  REQUIRE(got.size() == expected.entries().size());
  CHECK(got.size() == 340);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& e = expected.entries()[i];
    if (got[i].first != e.name || got[i].second != e.shape) {
      if (++bad <= 5) MESSAGE("at " << i << ": got " << got[i].first << ", expected " << e.name);
    }
  }
  CHECK(bad == 0);
}
