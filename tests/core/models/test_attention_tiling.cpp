// Sliced attention is exact; tiled VAE encode/decode follow diffusers' enable_tiling() algorithm
// (checked against a literal transcription of it below) and stay close to the untiled result.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "models/attention.h"
#include "models/autoencoder_kl.h"
#include "models/weight_loading.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::AttentionSettings;
using kiln::models::AutoencoderKL;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

AutoencoderKL tiny_vae() {
  const fs::path dir = kGolden / "pipeline/tiny_sd1/vae";
  const nlohmann::json config = nlohmann::json::parse(kiln::test::read_text(dir / "config.json"));
  AutoencoderKL model(kiln::models::AutoencoderKLConfig::from_json(config, dir / "config.json"));
  const auto file = kiln::io::SafetensorsFile::open(dir / "diffusion_pytorch_model.safetensors");
  kiln::models::NamedTensorList tensors;
  for (const auto& e : file->index().entries()) tensors.emplace_back(e.name, file->tensor(e.name));
  kiln::models::load_weights(*model, tensors);
  model->eval();
  return model;
}

// Restores the process-wide attention settings when a test case ends.
struct SettingsGuard {
  AttentionSettings saved = kiln::models::attention_settings();
  ~SettingsGuard() { kiln::models::set_attention_settings(saved); }
};

// diffusers' tiled_decode transcribed literally: every tile decoded and kept, then the row loop
// with blend_v / blend_h one pixel row/column at a time, in place.
torch::Tensor reference_tiled_decode(AutoencoderKL& vae, const torch::Tensor& z, std::int64_t sample_tile,
                                     double overlap) {
  const std::int64_t latent_tile = sample_tile / 8;
  const auto overlap_size = static_cast<std::int64_t>(static_cast<double>(latent_tile) * (1 - overlap));
  const auto blend_extent = static_cast<std::int64_t>(static_cast<double>(sample_tile) * overlap);
  const std::int64_t row_limit = sample_tile - blend_extent;
  using torch::indexing::Slice;
  std::vector<std::vector<torch::Tensor>> rows;
  for (std::int64_t i = 0; i < z.size(2); i += overlap_size) {
    std::vector<torch::Tensor> row;
    for (std::int64_t j = 0; j < z.size(3); j += overlap_size) {
      const torch::Tensor tile = z.index({Slice(), Slice(), Slice(i, i + latent_tile), Slice(j, j + latent_tile)});
      row.push_back(vae->decoder(vae->post_quant_conv(tile)));
    }
    rows.push_back(row);
  }
  std::vector<torch::Tensor> result_rows;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<torch::Tensor> result_row;
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      torch::Tensor& tile = rows[i][j];
      if (i > 0) {
        const torch::Tensor& a = rows[i - 1][j];
        const std::int64_t e = std::min({a.size(2), tile.size(2), blend_extent});
        for (std::int64_t y = 0; y < e; ++y) {
          const double f = static_cast<double>(y) / static_cast<double>(e);
          tile.index_put_({Slice(), Slice(), y, Slice()},
                          a.index({Slice(), Slice(), a.size(2) - e + y, Slice()}) * (1 - f) +
                              tile.index({Slice(), Slice(), y, Slice()}) * f);
        }
      }
      if (j > 0) {
        const torch::Tensor& a = rows[i][j - 1];
        const std::int64_t e = std::min({a.size(3), tile.size(3), blend_extent});
        for (std::int64_t x = 0; x < e; ++x) {
          const double f = static_cast<double>(x) / static_cast<double>(e);
          tile.index_put_({Slice(), Slice(), Slice(), x},
                          a.index({Slice(), Slice(), Slice(), a.size(3) - e + x}) * (1 - f) +
                              tile.index({Slice(), Slice(), Slice(), x}) * f);
        }
      }
      result_row.push_back(tile.index({Slice(), Slice(), Slice(0, row_limit), Slice(0, row_limit)}));
    }
    result_rows.push_back(torch::cat(result_row, 3));
  }
  return torch::cat(result_rows, 2);
}

}  // namespace

TEST_CASE("sliced attention equals unsliced attention") {
  SettingsGuard guard;
  torch::manual_seed(3);
  const torch::Tensor q = torch::randn({2, 3, 37, 8}), k = torch::randn({2, 3, 11, 8}), v = torch::randn({2, 3, 11, 5});
  kiln::models::set_attention_settings({0, false});
  const torch::Tensor whole = kiln::models::attention(q, k, v, 0.35, false);
  CHECK(whole.sizes() == torch::IntArrayRef({2, 3, 37, 5}));
  const torch::Tensor expected = torch::matmul(torch::softmax(torch::matmul(q, k.transpose(-1, -2)) * 0.35, -1), v);
  CHECK(max_abs_diff(whole, expected) < 1e-6);
  // 6 heads x 11 keys x 4 bytes = 264 bytes per query row: 1000 bytes -> slices of 3 rows.
  CHECK(kiln::models::attention_slice_rows(6, 37, 11, 4, 1000) == 3);
  CHECK(kiln::models::attention_slice_rows(6, 37, 11, 4, 1) == 1);
  CHECK(kiln::models::attention_slice_rows(6, 37, 11, 4, 0) == 37);
  CHECK(kiln::models::attention_slice_rows(6, 37, 11, 4, std::size_t{1} << 30) == 37);
  // Slices change only the GEMM blocking: equal to rounding.
  kiln::models::set_attention_settings({1000, false});
  CHECK(max_abs_diff(kiln::models::attention(q, k, v, 0.35, false), whole) < 1e-6);
  kiln::models::set_attention_settings({1, false});
  CHECK(max_abs_diff(kiln::models::attention(q, k, v, 0.35, false), whole) < 1e-6);
}

TEST_CASE("upcast attention computes bf16 scores in fp32") {
  SettingsGuard guard;
  torch::manual_seed(4);
  const torch::Tensor q = torch::randn({1, 2, 16, 8}), k = torch::randn({1, 2, 16, 8}), v = torch::randn({1, 2, 16, 8});
  kiln::models::set_attention_settings({0, false});
  const torch::Tensor fp32 = kiln::models::attention(q, k, v, 0.5, false);
  const auto bf = [](const torch::Tensor& t) { return t.to(torch::kBFloat16); };
  const torch::Tensor up = kiln::models::attention(bf(q), bf(k), bf(v), 0.5, true);
  CHECK((up.scalar_type() == torch::kBFloat16));
  CHECK(max_abs_diff(up, fp32) < 0.05);
  kiln::models::set_attention_settings({64, false});  // sliced upcast: same numbers
  CHECK(max_abs_diff(kiln::models::attention(bf(q), bf(k), bf(v), 0.5, true), up) == 0.0);
}

TEST_CASE("the golden VAE still matches diffusers with the attention cut into 4 KiB slices") {
  SettingsGuard guard;
  kiln::models::set_attention_settings({4096, false});
  AutoencoderKL vae = tiny_vae();
  const auto io = kiln::io::SafetensorsFile::open(kGolden / "vae/io.safetensors");
  c10::InferenceMode mode;
  const double diff = max_abs_diff(vae->decode(io->tensor("decode_latents")), io->tensor("decode_out"));
  MESSAGE("decode with sliced attention: max abs diff " << diff);
  CHECK(diff <= 1e-4);
}

TEST_CASE("tiled VAE decode follows diffusers' algorithm and blends without seams") {
  AutoencoderKL vae = tiny_vae();
  c10::InferenceMode mode;
  torch::manual_seed(5);
  const torch::Tensor z = torch::randn({1, 4, 14, 11});  // 112x88 pixels: partial tiles at both edges
  const torch::Tensor plain = vae->decode(z);

  SUBCASE("a tile as large as the image changes nothing") {
    vae->set_tiling({true, 112, 0.25});
    CHECK(max_abs_diff(vae->decode(z), plain) == 0.0);
  }
  SUBCASE("32-pixel tiles equal the literal transcription of diffusers' tiled_decode") {
    vae->set_tiling({true, 32, 0.25});
    const torch::Tensor tiled = vae->decode(z);
    CHECK(tiled.sizes() == plain.sizes());
    CHECK(max_abs_diff(tiled, reference_tiled_decode(vae, z, 32, 0.25)) < 1e-5);
    // Tiles see their own GroupNorm statistics; with a random tiny VAE and 4-latent tiles that
    // is a large difference (reported, not judged: a real VAE with 512-pixel tiles is the case).
    MESSAGE("tiled vs plain decode: mean abs diff " << (tiled - plain).abs().mean().item<double>()
                                                    << ", plain std " << plain.std().item<double>());
  }
  SUBCASE("disabled tiling or small inputs decode in one piece") {
    vae->set_tiling({false, 32, 0.25});
    CHECK(max_abs_diff(vae->decode(z), plain) == 0.0);
  }
}

TEST_CASE("tiled VAE encode gives moments of the untiled shape; one tile changes nothing") {
  AutoencoderKL vae = tiny_vae();
  c10::InferenceMode mode;
  torch::manual_seed(6);
  const torch::Tensor image = torch::rand({1, 3, 96, 80}) * 2 - 1;
  const torch::Tensor plain = vae->encode_moments(image);
  vae->set_tiling({true, 32, 0.25});
  const torch::Tensor tiled = vae->encode_moments(image);
  CHECK(tiled.sizes() == plain.sizes());
  MESSAGE("tiled vs plain encode: mean abs diff " << (tiled - plain).abs().mean().item<double>() << ", plain std "
                                                  << plain.std().item<double>());
  vae->set_tiling({true, 96, 0.25});
  CHECK(max_abs_diff(vae->encode_moments(image), plain) == 0.0);
  CHECK_THROWS_WITH(vae->set_tiling({true, 8, 0.25}), doctest::Contains("VAE tile size must be at least 16 pixels"));
}
