// TAESD (diffusers' AutoencoderTiny) against the golden outputs of diffusers 0.32.2
// (tests/data/golden/taesd, README section 14): decode and encode, the intermediate layers, the
// key names, and the other layouts people download (madebyollin's decoder/encoder files,
// ComfyUI's combined file), written here from the golden weights with the published mapping.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "base/error.h"
#include "io/safetensors.h"
#include "models/autoencoder_tiny.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::AutoencoderTiny;
using kiln::models::load_autoencoder_tiny;

namespace {

const fs::path kTaesd = kiln::test::data_dir() / "golden/taesd";

void check_close(const std::string& what, const torch::Tensor& got, const torch::Tensor& expected, double tol = 1e-4) {
  REQUIRE_MESSAGE(got.sizes() == expected.sizes(), what);
  const double diff = (got.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>();
  MESSAGE(what << ": max abs diff " << diff);
  CHECK_MESSAGE(diff <= tol, what);
}

AutoencoderTiny golden_model() { return load_autoencoder_tiny(kTaesd / "model").model; }

// The golden mapping: diffusers key -> (original file, original key).
struct Mapping {
  std::string diffusers, file, original;
};
std::vector<Mapping> mapping() {
  std::vector<Mapping> rows;
  std::istringstream in(kiln::test::read_text(kTaesd / "keys/mapping.tsv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Mapping m;
    std::getline(fields, m.diffusers, '\t');
    std::getline(fields, m.file, '\t');
    std::getline(fields, m.original, '\t');
    rows.push_back(m);
  }
  return rows;
}

// The golden weights in madebyollin's or ComfyUI's layout.
kiln::io::NamedTensors original_layout(const std::string& half, const std::string& prefix) {
  const auto weights = kiln::io::SafetensorsFile::open(kTaesd / "model/diffusion_pytorch_model.safetensors");
  kiln::io::NamedTensors out;
  for (const Mapping& m : mapping()) {
    if (m.file == half) out.emplace_back(prefix + m.original, weights->tensor(m.diffusers));
  }
  return out;
}

}  // namespace

TEST_CASE("TAESD loads from diffusers' folder with diffusers' names and TAESD's parameter count") {
  AutoencoderTiny model = golden_model();
  CHECK(model->has_encoder());
  std::int64_t n = 0, encoder = 0;
  for (const auto& p : model->named_parameters()) {
    n += p.value().numel();
    if (p.key().rfind("encoder.", 0) == 0) encoder += p.value().numel();
  }
  CHECK(n == 2445063);
  CHECK(encoder == 1222532);
  // Every key of the golden list, in its order.
  std::istringstream keys(kiln::test::read_text(kTaesd / "keys/diffusers.txt"));
  std::vector<std::string> expected;
  for (std::string line; std::getline(keys, line);)
    if (!line.empty()) expected.push_back(line.substr(0, line.find('\t')));
  std::vector<std::string> got;
  for (const auto& p : model->named_parameters()) got.push_back(p.key());
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  CHECK(got == expected);
  CHECK(model->config().scaling_factor == 1.0);
}

TEST_CASE("TAESD decode matches diffusers: soft clamp, layers, output, image") {
  AutoencoderTiny model = golden_model();
  c10::InferenceMode guard;
  const auto golden = kiln::io::SafetensorsFile::open(kTaesd / "components/decode_1x4x8x12.safetensors");
  const torch::Tensor latents = golden->tensor("latents");
  check_close("decode_out", model->decode(latents), golden->tensor("decode_out"));
  torch::Tensor x = torch::tanh(latents / 3) * 3;
  check_close("clamped_latents", x, golden->tensor("clamped_latents"));
  // Layer by layer through the Sequential's forward on prefixes.
  torch::Tensor h = torch::tanh(latents / 3) * 3;
  for (std::size_t i = 0; i < model->decoder->layers->size(); ++i) {
    h = (model->decoder->layers->begin() + static_cast<std::ptrdiff_t>(i))->forward(h);
    const std::string name = "intermediate.decoder.layers." + std::to_string(i);
    if (golden->index().contains(name)) check_close(name, h, golden->tensor(name));
  }
  check_close("decoder_layers_out", h, golden->tensor("decoder_layers_out"));
  const torch::Tensor image = (model->decode(latents) / 2 + 0.5).clamp(0, 1).permute({0, 2, 3, 1});
  check_close("image", image, golden->tensor("image"));

  const auto batch = kiln::io::SafetensorsFile::open(kTaesd / "components/decode_2x4x8x8.safetensors");
  check_close("decode 2x4x8x8", model->decode(batch->tensor("latents")), batch->tensor("decode_out"));
}

TEST_CASE("TAESD encode matches diffusers, odd sizes included") {
  AutoencoderTiny model = golden_model();
  c10::InferenceMode guard;
  for (const char* name : {"encode_1x3x64x64", "encode_1x3x96x64"}) {
    const auto golden = kiln::io::SafetensorsFile::open(kTaesd / "components" / (std::string(name) + ".safetensors"));
    const torch::Tensor image = golden->tensor("image");
    check_close(std::string(name) + " latents", model->encode(image), golden->tensor("latents"));
    torch::Tensor h = image.add(1).div(2);
    if (golden->index().contains("encoder_layers_input")) check_close("encoder_layers_input", h, golden->tensor("encoder_layers_input"));
    for (std::size_t i = 0; i < model->encoder->layers->size(); ++i) {
      h = (model->encoder->layers->begin() + static_cast<std::ptrdiff_t>(i))->forward(h);
      const std::string key = "intermediate.encoder.layers." + std::to_string(i);
      if (golden->index().contains(key)) check_close(key, h, golden->tensor(key));
    }
  }
}

TEST_CASE("TAESD loads madebyollin's decoder alone, with its encoder beside it, and ComfyUI's combined file") {
  kiln::test::ScratchDir dir("kiln-taesd");
  c10::InferenceMode guard;
  const auto golden = kiln::io::SafetensorsFile::open(kTaesd / "components/decode_1x4x8x12.safetensors");
  const torch::Tensor expected = golden->tensor("decode_out");

  kiln::io::write_safetensors(dir / "taesdxl_decoder.safetensors", original_layout("taesd_decoder", ""));
  {
    auto loaded = load_autoencoder_tiny(dir / "taesdxl_decoder.safetensors");
    CHECK_FALSE(loaded.model->has_encoder());
    CHECK(loaded.layout == "taesd");
    CHECK(loaded.variant == "taesdxl");
    check_close("decoder-only decode", loaded.model->decode(golden->tensor("latents")), expected);
    CHECK_THROWS_AS(loaded.model->encode(torch::zeros({1, 3, 64, 64})), kiln::InvalidRequestError);
  }
  kiln::io::write_safetensors(dir / "taesdxl_encoder.safetensors", original_layout("taesd_encoder", ""));
  {
    auto loaded = load_autoencoder_tiny(dir / "taesdxl_decoder.safetensors");
    CHECK(loaded.model->has_encoder());
    const auto enc = kiln::io::SafetensorsFile::open(kTaesd / "components/encode_1x3x64x64.safetensors");
    check_close("encoder beside the decoder", loaded.model->encode(enc->tensor("image")), enc->tensor("latents"));
    // Choosing the encoder file finds its decoder too.
    CHECK(load_autoencoder_tiny(dir / "taesdxl_encoder.safetensors").model->has_encoder());
  }
  fs::remove(dir / "taesdxl_decoder.safetensors");
  CHECK_THROWS_AS(load_autoencoder_tiny(dir / "taesdxl_encoder.safetensors"), kiln::FormatError);

  auto comfy = original_layout("taesd_decoder", "taesd_decoder.");
  for (auto& t : original_layout("taesd_encoder", "taesd_encoder.")) comfy.push_back(t);
  comfy.emplace_back("vae_scale", torch::tensor(0.13025));
  comfy.emplace_back("vae_shift", torch::tensor(0.0));
  kiln::io::write_safetensors(dir / "sdxl_tiny.safetensors", comfy);
  {
    auto loaded = load_autoencoder_tiny(dir / "sdxl_tiny.safetensors");
    CHECK(loaded.layout == "comfyui");
    CHECK(loaded.variant == "taesdxl");
    CHECK(loaded.model->has_encoder());
    check_close("ComfyUI layout decode", loaded.model->decode(golden->tensor("latents")), expected);
  }

  // One file in diffusers' names.
  const auto weights = kiln::io::SafetensorsFile::open(kTaesd / "model/diffusion_pytorch_model.safetensors");
  kiln::io::NamedTensors all;
  for (const auto& e : weights->index().entries()) all.emplace_back(e.name, weights->tensor(e.name));
  kiln::io::write_safetensors(dir / "taesd.safetensors", all);
  CHECK(load_autoencoder_tiny(dir / "taesd.safetensors").layout == "diffusers");
  CHECK(load_autoencoder_tiny(dir / "taesd.safetensors").variant == "taesd");
}

TEST_CASE("TAESD refuses what is not one, naming the file") {
  kiln::test::ScratchDir dir("kiln-taesd-bad");
  // The full VAE's folder.
  try {
    (void)load_autoencoder_tiny(kiln::test::data_dir() / "golden/pipeline/tiny_sd1/vae");
    FAIL("an AutoencoderKL folder loaded as TAESD");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()).find("AutoencoderKL") != std::string::npos);
  }
  // A LoRA-like file.
  kiln::io::write_safetensors(dir / "other.safetensors", {{"lora_unet_x.lora_down.weight", torch::zeros({2, 4})}});
  try {
    (void)load_autoencoder_tiny(dir / "other.safetensors");
    FAIL("a non-TAESD file loaded");
  } catch (const kiln::FormatError& e) {
    CHECK(e.path() == dir / "other.safetensors");
  }
  // A decoder with a layer missing: one report naming the key.
  auto decoder = original_layout("taesd_decoder", "");
  decoder.pop_back();
  kiln::io::write_safetensors(dir / "taesd_decoder.safetensors", decoder);
  try {
    (void)load_autoencoder_tiny(dir / "taesd_decoder.safetensors");
    FAIL("an incomplete decoder loaded");
  } catch (const kiln::WeightMismatchError& e) {
    CHECK(std::string(e.what()).find("decoder.layers.18") != std::string::npos);
  }
  // A truncated file.
  {
    const std::string bytes = kiln::test::read_text(kTaesd / "model/diffusion_pytorch_model.safetensors");
    std::ofstream(dir / "cut.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  CHECK_THROWS_AS(load_autoencoder_tiny(dir / "cut.safetensors"), kiln::Error);
  // A config with another activation.
  fs::create_directories(dir / "silu");
  std::string config = kiln::test::read_text(kTaesd / "model/config.json");
  config.replace(config.find("\"relu\""), 6, "\"silu\"");
  kiln::test::write_text(dir / "silu/config.json", config);
  fs::copy_file(kTaesd / "model/diffusion_pytorch_model.safetensors", dir / "silu/diffusion_pytorch_model.safetensors");
  CHECK_THROWS_AS(load_autoencoder_tiny(dir / "silu"), kiln::FormatError);
}
