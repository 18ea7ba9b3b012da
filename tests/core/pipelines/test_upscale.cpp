// ESRGAN-family upscalers: RRDBNet (models/rrdbnet.h) against PyTorch on tiny random models in
// both key layouts and file formats (tests/data/esrgan, made by make_esrgan_fixtures.py), files
// that are not RRDBNets refused, and the tiled upscale (pipelines/upscale.h): tiled = untiled
// within a tolerance and without seams, A1111's sizes for other scales, progress and stop; and
// the hires fix with an upscaler model on the tiny SD 1.x pipeline.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <algorithm>
#include <stop_token>
#include <string>
#include <vector>

#include "base/error.h"
#include "io/weight_file.h"
#include "models/rrdbnet.h"
#include "pipelines/hires_fix.h"
#include "pipelines/model_loading.h"
#include "pipelines/upscale.h"
#include "support/test_support.h"

namespace km = kiln::models;
namespace kp = kiln::pipelines;

namespace {

std::filesystem::path esrgan(const std::string& name) { return kiln::test::data_dir() / "esrgan" / name; }

torch::Tensor reference(const std::string& name) {
  return kiln::io::open_weight_file(esrgan("reference.safetensors"))->tensor(name).clone();
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

std::string error_of(const std::filesystem::path& path) {
  try {
    km::load_upscaler(path);
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(loaded)";
}

// A smooth image with some detail: [1, H, W, 3] in [0, 1].
torch::Tensor test_image(std::int64_t h, std::int64_t w) {
  const torch::Tensor y = torch::linspace(0, 6.0, h).view({h, 1, 1});
  const torch::Tensor x = torch::linspace(0, 9.0, w).view({1, w, 1});
  const torch::Tensor c = torch::tensor({0.0, 1.0, 2.0}).view({1, 1, 3});
  return (0.5 + 0.4 * torch::sin(y + c) * torch::cos(x * 0.7 - c)).unsqueeze(0).to(torch::kFloat);
}

}  // namespace

TEST_CASE("RRDBNet x4 reproduces PyTorch in BasicSR (.pth params_ema) and old ESRGAN (.pth, .safetensors) layouts") {
  const torch::Tensor input = reference("input"), expected = reference("x4");
  struct Case {
    const char* file;
    km::RRDBKeyLayout layout;
  };
  for (const Case& c :
       {Case{"x4_basicsr.pth", km::RRDBKeyLayout::BasicSR}, Case{"x4_old.pth", km::RRDBKeyLayout::OldESRGAN},
        Case{"x4_old.safetensors", km::RRDBKeyLayout::OldESRGAN}}) {
    CAPTURE(c.file);
    const km::LoadedUpscaler u = km::load_upscaler(esrgan(c.file));
    CHECK(u.layout == c.layout);
    CHECK(u.config.num_features == 8);
    CHECK(u.config.num_blocks == 2);
    CHECK(u.config.growth_channels == 4);
    CHECK(u.config.upsamplings == 2);
    CHECK(u.config.unshuffle == 1);
    CHECK(u.config.scale() == 4);
    CHECK(u.name() == std::filesystem::path(c.file).stem().string());
    c10::InferenceMode guard;
    const torch::Tensor out = u.model->forward(input);
    REQUIRE(out.sizes() == expected.sizes());
    CHECK(max_abs(out, expected) <= 1e-4);
  }
}

TEST_CASE("RRDBNet in ESRGAN's own repository names (RRDB_trunk, trunk_conv, upconvN, HRconv)") {
  const auto file = kiln::io::open_weight_file(esrgan("x4_basicsr.pth"));
  km::NamedTensorList tensors;
  for (const auto& e : file->index().entries()) {
    std::string name = e.name;
    auto swap = [&](const std::string& from, const std::string& to) {
      if (name.starts_with(from)) name = to + name.substr(from.size());
    };
    swap("body.", "RRDB_trunk.");
    if (name.starts_with("RRDB_trunk.")) name.replace(name.find(".rdb"), 4, ".RDB");
    swap("conv_body.", "trunk_conv.");
    swap("conv_up", "upconv");
    swap("conv_hr.", "HRconv.");
    tensors.emplace_back(name, file->tensor(e.name));
  }
  REQUIRE(std::any_of(tensors.begin(), tensors.end(),
                      [](const auto& t) { return t.first == "RRDB_trunk.1.RDB3.conv5.bias"; }));
  const km::RRDBNetWeights weights = km::normalize_rrdbnet_weights(tensors);
  CHECK(weights.layout == km::RRDBKeyLayout::ESRGANRepo);
  km::RRDBNet net(weights.config);
  km::load_weights(*net, weights.tensors);
  c10::InferenceMode guard;
  CHECK(max_abs(net->forward(reference("input")), reference("x4")) <= 1e-4);
}

TEST_CASE("RRDBNet x2 with pixel-unshuffle (Real-ESRGAN x2plus layout) on an odd-sized input") {
  const km::LoadedUpscaler u = km::load_upscaler(esrgan("x2_basicsr.safetensors"));
  CHECK(u.config.unshuffle == 2);
  CHECK(u.config.in_channels() == 12);
  CHECK(u.config.scale() == 2);
  c10::InferenceMode guard;
  const torch::Tensor out = u.model->forward(reference("input"));
  const torch::Tensor expected = reference("x2");
  REQUIRE(out.sizes() == expected.sizes());
  CHECK(max_abs(out, expected) <= 1e-4);
}

TEST_CASE("Files that are not RRDBNet upscalers are refused, naming the file and what they are") {
  const std::string swin = error_of(esrgan("swinir_like.safetensors"));
  CHECK(swin.find("swinir_like.safetensors") != std::string::npos);
  CHECK(swin.find("not an ESRGAN-family (RRDBNet) upscaler") != std::string::npos);
  CHECK(swin.find("SwinIR") != std::string::npos);

  const std::string sd = error_of(kiln::test::data_dir() / "golden/pipeline/tiny_sd1.safetensors");
  CHECK(sd.find("Stable Diffusion") != std::string::npos);

  const std::string other = error_of(kiln::test::data_dir() / "ckpt/module.bin");
  CHECK(other.find("module.bin") != std::string::npos);
  CHECK(other.find("none of its") != std::string::npos);

  CHECK(error_of(esrgan("missing.pth")).find("no such upscaler model file") != std::string::npos);
  CHECK(error_of(esrgan("make_esrgan_fixtures.py")).find("make_esrgan_fixtures.py") != std::string::npos);

  // A truncated RRDBNet: the architecture still reads from the shapes, the missing key is reported.
  km::NamedTensorList tensors;
  const auto file = kiln::io::open_weight_file(esrgan("x4_old.safetensors"));
  for (const auto& e : file->index().entries())
    if (e.name != "model.1.sub.1.RDB3.conv5.0.weight") tensors.emplace_back(e.name, file->tensor(e.name));
  const km::RRDBNetWeights weights = km::normalize_rrdbnet_weights(tensors);
  km::RRDBNet net(weights.config);
  CHECK_THROWS_AS(km::load_weights(*net, weights.tensors), kiln::WeightMismatchError);
}

TEST_CASE("Tiled upscale matches the whole image closely, without seams") {
  const km::LoadedUpscaler u = km::load_upscaler(esrgan("x4_basicsr.pth"));
  const torch::Tensor image = test_image(70, 90);
  const kp::UpscaleResult whole = kp::run_upscaler_tiled(u, image, 0, 0);
  std::vector<std::pair<std::int64_t, std::int64_t>> seen;
  const kp::UpscaleResult tiled =
      kp::run_upscaler_tiled(u, image, 40, 16, {}, [&](std::int64_t i, std::int64_t n) { seen.emplace_back(i, n); });
  REQUIRE(whole.images.sizes() == std::vector<std::int64_t>{1, 280, 360, 3});
  REQUIRE(tiled.images.sizes() == whole.images.sizes());
  // 70 rows in tiles of 40 sharing >= 16: 3 (two would share only 10); 90 columns: 4.
  REQUIRE(seen.size() == 12);
  CHECK(seen.back() == std::pair<std::int64_t, std::int64_t>{12, 12});
  const torch::Tensor diff = (tiled.images - whole.images).abs();
  MESSAGE("tiled vs whole: max " << diff.max().item<double>() << ", mean " << diff.mean().item<double>());
  CHECK(diff.mean().item<double>() < 1e-4);
  CHECK(diff.max().item<double>() < 1e-3);
  // No seam: the tiled image's steps between neighbouring rows/columns are those of the whole image.
  auto steps = [](const torch::Tensor& t, int dim) {
    return (t.narrow(dim, 1, t.size(dim) - 1) - t.narrow(dim, 0, t.size(dim) - 1)).abs().max().item<double>();
  };
  CHECK(steps(tiled.images, 1) <= steps(whole.images, 1) + 1e-2);
  CHECK(steps(tiled.images, 2) <= steps(whole.images, 2) + 1e-2);
}

TEST_CASE("Upscale to another scale: A1111's sizes, extra passes, Lanczos, progress and stop") {
  const km::LoadedUpscaler u = km::load_upscaler(esrgan("x4_old.safetensors"));
  const torch::Tensor image = test_image(21, 30);
  CHECK(kp::upscaled_size(30, 21, 2.0) == std::pair<std::int64_t, std::int64_t>{56, 40});

  const kp::UpscaleResult own = kp::upscale_images(u, image);
  CHECK(own.images.sizes() == std::vector<std::int64_t>{1, 84, 120, 3});

  kp::UpscaleOptions two;
  two.scale = 2.0;
  const kp::UpscaleResult half = kp::upscale_images(u, image, two);
  CHECK(half.images.sizes() == std::vector<std::int64_t>{1, 40, 56, 3});
  CHECK(half.images.min().item<float>() >= 0.0f);
  CHECK(half.images.max().item<float>() <= 1.0f);

  kp::UpscaleOptions eight;
  eight.scale = 8.0;
  eight.tile = 64;
  eight.overlap = 16;
  std::int64_t passes = 0, last_pass = 0;
  const kp::UpscaleResult big = kp::upscale_images(u, image, eight, {}, [&](const kp::UpscaleProgress& p) {
    passes = p.passes;
    last_pass = p.pass;
  });
  CHECK(big.images.sizes() == std::vector<std::int64_t>{1, 168, 240, 3});
  CHECK(passes == 2);
  CHECK(last_pass == 2);

  std::stop_source stop;
  stop.request_stop();
  const kp::UpscaleResult cancelled = kp::upscale_images(u, image, eight, stop.get_token());
  CHECK(cancelled.cancelled);
  CHECK_FALSE(cancelled.images.defined());

  kp::UpscaleOptions bad;
  bad.tile = 16;
  CHECK_THROWS_AS(kp::upscale_images(u, image, bad), kiln::InvalidRequestError);
  bad.tile = 64;
  bad.overlap = 32;
  CHECK_THROWS_AS(kp::upscale_images(u, image, bad), kiln::InvalidRequestError);
  bad.overlap = 8;
  bad.scale = 0.1;
  CHECK_THROWS_AS(kp::upscale_images(u, image, bad), kiln::InvalidRequestError);
}

TEST_CASE("Hires fix with an ESRGAN model file: the decoded first pass upscaled by the model") {
  const kp::StableDiffusionModel m = kp::load_stable_diffusion(kiln::test::data_dir() / "golden/pipeline/tiny_sd1");
  kp::GenerationRequest r;
  r.prompt = "a lighthouse at dusk";
  r.width = r.height = 64;
  r.steps = 4;
  r.seed = 5;
  kp::HiresFix h;
  h.scale = 1.5;  // 96 x 96: the 4x model to 256, then Lanczos down
  h.denoising = 0.5;
  h.upscaler_model = esrgan("x4_old.pth");
  h.upscaler_tile = 32;
  std::vector<std::string> stages;
  kp::GenerationCallbacks callbacks;
  callbacks.on_stage = [&](std::string_view s) { stages.emplace_back(s); };
  const kp::GenerationResult with_model = kp::generate_hires(m, r, h, {}, callbacks);
  REQUIRE_FALSE(with_model.cancelled);
  CHECK(with_model.images.sizes() == std::vector<std::int64_t>{1, 96, 96, 3});
  CHECK(std::find(stages.begin(), stages.end(), "hires fix: upscaling") != stages.end());

  // The same with the model already loaded; and Lanczos gives another image.
  kp::HiresFix preloaded = h;
  preloaded.upscaler_model.clear();
  preloaded.loaded_upscaler = std::make_shared<const km::LoadedUpscaler>(km::load_upscaler(esrgan("x4_old.pth")));
  CHECK(torch::equal(kp::generate_hires(m, r, preloaded).images, with_model.images));
  kp::HiresFix lanczos;
  lanczos.scale = 1.5;
  lanczos.denoising = 0.5;
  lanczos.upscaler = "Lanczos";
  CHECK_FALSE(torch::equal(kp::generate_hires(m, r, lanczos).images, with_model.images));

  // A missing file is an invalid request; a file of the wrong kind fails before the first pass.
  h.upscaler_model = esrgan("missing.pth");
  CHECK_THROWS_AS(kp::validate_hires(r, h), kiln::InvalidRequestError);
  h.upscaler_model = esrgan("swinir_like.safetensors");
  int steps = 0;
  callbacks.on_step = [&](const kp::StepInfo&) { ++steps; };
  CHECK_THROWS_AS(kp::generate_hires(m, r, h, {}, callbacks), kiln::FormatError);
  CHECK(steps == 0);
}
