#include <doctest/doctest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "models/autoencoder_kl.h"
#include "models/weight_loading.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::AutoencoderKL;
using kiln::models::AutoencoderKLConfig;
using kiln::models::DiagonalGaussian;

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

// The tiny VAE read the plain way: config.json through nlohmann json, weights through SafetensorsFile.
AutoencoderKL tiny_vae() {
  const fs::path dir = kGolden / "pipeline/tiny_sd1/vae";
  const nlohmann::json config = nlohmann::json::parse(kiln::test::read_text(dir / "config.json"));
  AutoencoderKL model(AutoencoderKLConfig::from_json(config, dir / "config.json"));
  const auto file = kiln::io::SafetensorsFile::open(dir / "diffusion_pytorch_model.safetensors");
  kiln::models::NamedTensorList tensors;
  for (const auto& e : file->index().entries()) tensors.emplace_back(e.name, file->tensor(e.name));
  kiln::models::load_weights(*model, tensors);
  model->eval();
  return model;
}

}  // namespace

TEST_CASE("tiny VAE matches diffusers' AutoencoderKL encode, sample and decode") {
  AutoencoderKL model = tiny_vae();
  CHECK(model->config().block_out_channels == std::vector<std::int64_t>{32, 32, 32, 32});
  CHECK(model->config().norm_num_groups == 8);
  CHECK(model->config().scaling_factor == doctest::Approx(0.18215));
  const auto io = kiln::io::SafetensorsFile::open(kGolden / "vae/io.safetensors");
  c10::InferenceMode guard;
  const torch::Tensor image = io->tensor("image");
  const torch::Tensor encoder_out = model->encoder(image);
  check_close("encoder_out", encoder_out, io->tensor("encoder_out"));
  const torch::Tensor moments = model->encode_moments(image);
  check_close("moments", moments, io->tensor("moments"));
  const DiagonalGaussian dist = model->encode(image);
  check_close("mean", dist.mean, io->tensor("mean"));
  check_close("logvar", dist.logvar, io->tensor("logvar"));
  check_close("std", dist.std, io->tensor("std"));

  const at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const torch::Tensor noise = dist.noise(gen);
  CHECK(torch::equal(noise, io->tensor("sample_noise")));  // bit-exact torch.randn
  const torch::Tensor sample = dist.sample(at::make_generator<at::CPUGeneratorImpl>(42));
  CHECK(torch::equal(sample, dist.sample_with_noise(noise)));
  check_close("latent_sample", sample, io->tensor("latent_sample"));
  check_close("latent_sample_scaled", sample * model->config().scaling_factor, io->tensor("latent_sample_scaled"));

  const torch::Tensor latents = io->tensor("decode_latents");
  check_close("post_quant_conv_out", model->post_quant_conv(latents), io->tensor("post_quant_conv_out"));
  const torch::Tensor decoded = model->decode(latents);
  CHECK(decoded.sizes() == image.sizes());
  check_close("decode_out", decoded, io->tensor("decode_out"));
}

TEST_CASE("the pipeline-folder loader gives the same VAE") {
  const auto folder = kiln::io::DiffusersFolder::open(kGolden / "pipeline/tiny_sd1");
  AutoencoderKL a = kiln::models::load_autoencoder_kl(folder, "vae");
  AutoencoderKL b = tiny_vae();
  const auto pa = a->named_parameters(true);
  const auto pb = b->named_parameters(true);
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    CHECK(pa[i].key() == pb[i].key());
    CHECK(torch::equal(pa[i].value(), pb[i].value()));
  }
}

TEST_CASE("full-size SD VAE names and shapes equal diffusers' state_dict, in order") {
  torch::NoGradGuard no_grad;
  AutoencoderKL model(AutoencoderKLConfig::sd());
  const auto expected = kiln::test::read_key_list(kGolden / "keys/sd15/diffusers_vae.txt");
  const auto params = model->named_parameters(true);
  REQUIRE(params.size() == expected.entries().size());
  CHECK(params.size() == 248);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& e = expected.entries()[i];
    if (params[i].key() != e.name || params[i].value().sizes().vec() != e.shape) {
      if (++bad <= 5) MESSAGE("at " << i << ": got " << params[i].key() << " " << params[i].value().sizes()
                                    << ", expected " << e.name);
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("VAE config.json fields") {
  nlohmann::json j = {{"block_out_channels", {128, 256, 512, 512}},
                      {"down_block_types", {"DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D",
                                            "DownEncoderBlock2D"}},
                      {"layers_per_block", 2},
                      {"latent_channels", 4},
                      {"norm_num_groups", 32},
                      {"scaling_factor", 0.13025},
                      {"shift_factor", nullptr},
                      {"act_fn", "silu"}};
  const AutoencoderKLConfig c = AutoencoderKLConfig::from_json(j);
  const AutoencoderKLConfig p = AutoencoderKLConfig::sdxl();
  CHECK(c.block_out_channels == p.block_out_channels);
  CHECK(c.layers_per_block == p.layers_per_block);
  CHECK(c.scaling_factor == doctest::Approx(p.scaling_factor));
  CHECK_FALSE(c.shift_factor.has_value());
  j["down_block_types"][1] = "AttnDownEncoderBlock2D";
  CHECK_THROWS_AS(AutoencoderKLConfig::from_json(j, "vae/config.json"), kiln::FormatError);
  j.erase("down_block_types");
  j["act_fn"] = "gelu";
  CHECK_THROWS_AS(AutoencoderKLConfig::from_json(j), kiln::FormatError);
}
