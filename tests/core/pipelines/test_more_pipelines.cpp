// diffusers' inpainting (9-channel inpainting UNet, and a plain 4-channel model whose kept region
// is blended back every step) and SDXL text-to-image, against golden/pipeline_more: latents of
// every step and the final ones within 1e-3, the image within 1e-3, PNG bytes within 1.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "control/control_image.h"
#include "io/safetensors.h"
#include "base/error.h"
#include "pipelines/hires_fix.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"
#include "golden_case.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::pipelines::GenerationRequest;
using kiln::pipelines::StableDiffusionModel;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";
const fs::path kMore = kGolden / "pipeline_more";

// The diffusers folder with the files its shared_files.json names copied in from tests/data/golden
// (they are stored once).
fs::path assemble(const std::string& model, const kiln::test::ScratchDir& scratch) {
  const fs::path out = scratch / model;
  fs::copy(kMore / model, out, fs::copy_options::recursive);
  const nlohmann::json shared = nlohmann::json::parse(kiln::test::read_text(out / "shared_files.json"));
  for (const auto& [key, entry] : shared.at("files").items()) {
    fs::create_directories((out / key).parent_path());
    fs::copy_file(kGolden / entry.at("source").get<std::string>(), out / key);
  }
  fs::remove(out / "shared_files.json");
  return out;
}

const StableDiffusionModel& model(const std::string& name) {
  static kiln::test::ScratchDir scratch("kiln-pipeline-more");
  static std::map<std::string, StableDiffusionModel> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    const fs::path folder = name == "tiny_sd1" ? kGolden / "pipeline/tiny_sd1" : assemble(name, scratch);
    it = loaded.emplace(name, kiln::pipelines::load_stable_diffusion(folder)).first;
  }
  return it->second;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// A PNG as the pipeline got it: RGB -> [1, 3, H, W] in [-1, 1]; L -> [1, 1, H, W] in [0, 1].
torch::Tensor png_tensor(const fs::path& path, bool mask) {
  const kiln::control::ControlImage img = kiln::control::load_control_image(path);
  const torch::Tensor bytes =
      torch::from_blob(const_cast<std::uint8_t*>(img.pixels.data()), {img.height, img.width, img.channels}, torch::kUInt8)
          .clone();
  torch::Tensor t = bytes.to(torch::kFloat).permute({2, 0, 1}).unsqueeze(0) / 255.0;
  if (mask) {
    REQUIRE(img.channels == 1);
    return t.contiguous();
  }
  REQUIRE(img.channels == 3);
  return (t * 2.0 - 1.0).contiguous();
}

struct Case {
  nlohmann::json meta;
  std::unique_ptr<kiln::io::SafetensorsFile> tensors;
  GenerationRequest request;
};

Case load_case(const std::string& name) {
  Case c;
  c.meta = kiln::test::read_golden_meta(kMore / "cases" / name / "meta.json");
  c.tensors = kiln::io::SafetensorsFile::open(kMore / "cases" / name / "tensors.safetensors");
  c.request = kiln::test::golden_request(c.meta);
  GenerationRequest& r = c.request;
  if (c.meta.at("kind") == "inpaint") {
    r.init_image = png_tensor(kMore / "cases" / name / "input_image.png", false);
    r.mask = png_tensor(kMore / "cases" / name / "mask_image.png", true);
    r.strength = c.meta.at("strength").get<double>();
  }
  return c;
}

void check_case(const std::string& name) {
  CAPTURE(name);
  const Case c = load_case(name);
  std::vector<torch::Tensor> steps;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.on_step = [&](const kiln::pipelines::StepInfo& info) { steps.push_back(info.latents->clone()); };
  const auto result = kiln::pipelines::generate(model(c.meta.at("model").get<std::string>()), c.request, {}, callbacks);
  REQUIRE_FALSE(result.cancelled);
  CHECK(result.timesteps == c.meta.at("timesteps_used").get<std::vector<double>>());

  const torch::Tensor expected_steps = c.tensors->tensor("step_latents");
  REQUIRE(static_cast<std::int64_t>(steps.size()) == expected_steps.size(0));
  double worst_step = 0;
  for (std::size_t i = 0; i < steps.size(); ++i)
    worst_step = std::max(worst_step, max_abs_diff(steps[i], expected_steps[static_cast<std::int64_t>(i)]));
  CHECK(worst_step <= 1e-3);
  CHECK(max_abs_diff(result.latents, c.tensors->tensor("final_latents")) <= 1e-3);

  // The decoded image (NHWC in [0, 1]) and its PNG bytes.
  const torch::Tensor expected_image = c.tensors->tensor("image");
  const torch::Tensor& image = result.images;
  CHECK(max_abs_diff(image, expected_image) <= 1e-3);
  const kiln::control::ControlImage png = kiln::control::load_control_image(kMore / "cases" / name / "image_0.png");
  const torch::Tensor png_bytes =
      torch::from_blob(const_cast<std::uint8_t*>(png.pixels.data()), {png.height, png.width, png.channels}, torch::kUInt8)
          .to(torch::kInt);
  const torch::Tensor ours = (image[0] * 255.0).round().clamp(0, 255).to(torch::kInt);
  CHECK((ours - png_bytes).abs().max().item<int>() <= 1);
}

}  // namespace

TEST_CASE("inpainting with a 9-channel inpainting UNet reproduces diffusers") {
  check_case("inpaint9_euler_a_8_cfg7.5_strength1.0");
  check_case("inpaint9_dpmpp_2m_karras_10_cfg6_strength0.75");
}

TEST_CASE("inpainting with a plain 4-channel model (kept region blended back) reproduces diffusers") {
  check_case("inpaint4_euler_10_cfg7_strength1.0");
}

TEST_CASE("SDXL text-to-image reproduces diffusers") { check_case("sdxl_txt2img_euler_6_cfg5"); }

TEST_CASE("the VAE tiling mode: on tiles, auto leaves small images in one piece, the VAE's setting is kept") {
  const Case c = load_case("inpaint4_euler_10_cfg7_strength1.0");  // img2img-style encode + decode
  const StableDiffusionModel& m = model("tiny_sd1");
  kiln::models::AutoencoderKL vae = m.vae;
  kiln::models::VAETiling small;  // tiles of 32 px: a 64 px image is four tiles
  small.tile_sample_size = 32;
  vae->set_tiling(small);
  auto run = [&](kiln::pipelines::VaeTilingMode mode) {
    GenerationRequest r = c.request;
    r.vae_tiling = mode;
    return kiln::pipelines::generate(m, r, {}, {}).images;
  };
  const torch::Tensor off = run(kiln::pipelines::VaeTilingMode::Off);
  const torch::Tensor automatic = run(kiln::pipelines::VaeTilingMode::Auto);  // 64x64 < 1536x1024
  const torch::Tensor on = run(kiln::pipelines::VaeTilingMode::On);
  CHECK(torch::equal(off, automatic));
  CHECK(max_abs_diff(off, on) > 0);      // tiles change the GroupNorm statistics, as in diffusers
  CHECK(vae->tiling().enabled == false);  // put back
  CHECK(vae->tiling().tile_sample_size == 32);
  CHECK(kiln::pipelines::parse_vae_tiling("on") == kiln::pipelines::VaeTilingMode::On);
  CHECK_FALSE(kiln::pipelines::parse_vae_tiling("yes"));
  vae->set_tiling({});
}

TEST_CASE("hires fix: a latent upscale, then img2img from the resized latents at the larger size") {
  const StableDiffusionModel& m = model("tiny_sd1");
  GenerationRequest r;
  r.prompt = "a lighthouse at dusk";
  r.width = 64;
  r.height = 64;
  r.steps = 6;
  r.seed = 77;
  r.sampler = kiln::schedulers::SchedulerKind::Euler;
  kiln::pipelines::HiresFix h;
  h.scale = 1.5;  // 96 x 96
  h.steps = 8;
  h.denoising = 0.5;
  std::vector<std::string> stages;
  std::vector<std::pair<std::int64_t, std::int64_t>> steps;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.on_stage = [&](std::string_view s) { stages.emplace_back(s); };
  callbacks.on_step = [&](const kiln::pipelines::StepInfo& i) { steps.emplace_back(i.step, i.total); };
  const auto out = kiln::pipelines::generate_hires(m, r, h, {}, callbacks);
  REQUIRE_FALSE(out.cancelled);
  CHECK(out.images.sizes() == torch::IntArrayRef{1, 96, 96, 3});
  CHECK(std::find(stages.begin(), stages.end(), "hires fix: upscaling") != stages.end());
  REQUIRE(steps.size() == 6 + 4);  // 6, then 8 x 0.5
  CHECK(steps[5] == std::pair<std::int64_t, std::int64_t>{6, 6});
  CHECK(steps[9] == std::pair<std::int64_t, std::int64_t>{4, 4});

  // The same by hand: the first pass, its latents resized bilinearly, img2img from them.
  const auto first = kiln::pipelines::generate(m, r);
  GenerationRequest second = r;
  second.width = second.height = 96;
  second.steps = 8;
  second.strength = 0.5;
  second.init_latents = torch::nn::functional::interpolate(
      first.latents, torch::nn::functional::InterpolateFuncOptions()
                         .size(std::vector<std::int64_t>{12, 12})
                         .mode(torch::kBilinear)
                         .align_corners(false));
  CHECK(torch::equal(kiln::pipelines::generate(m, second).images, out.images));

  // An image upscaler goes through pixels: another result, same size.
  h.upscaler = "Lanczos";
  const auto lanczos = kiln::pipelines::generate_hires(m, r, h);
  CHECK(lanczos.images.sizes() == out.images.sizes());
  CHECK_FALSE(torch::equal(lanczos.images, out.images));
}

TEST_CASE("hires fix refuses what it cannot do before computing anything") {
  const StableDiffusionModel& m = model("tiny_sd1");
  GenerationRequest r;
  r.prompt = "x";
  r.width = r.height = 64;
  r.steps = 4;
  kiln::pipelines::HiresFix h;
  auto message = [&](const kiln::pipelines::HiresFix& hf, const GenerationRequest& req) {
    try {
      kiln::pipelines::generate_hires(m, req, hf);
    } catch (const kiln::InvalidRequestError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  h.upscaler = "ESRGAN_4x_typo";
  CHECK(message(h, r).find("unknown hires upscaler 'ESRGAN_4x_typo'") != std::string::npos);
  h.upscaler = "Latent";
  h.scale = 5;
  CHECK(message(h, r).find("between 1 and 4") != std::string::npos);
  h.scale = 2;
  h.denoising = 0.1;  // 4 x 0.1 < 1 step
  CHECK(message(h, r).find("leaves no step") != std::string::npos);
  h.denoising = 0.7;
  h.resize_x = 8192;
  CHECK(message(h, r).find("above 4096") != std::string::npos);
  h.resize_x = 0;
  GenerationRequest img2img = r;
  img2img.init_image = torch::zeros({1, 3, 64, 64});
  CHECK(message(h, img2img).find("text to image") != std::string::npos);
  CHECK(kiln::pipelines::hires_size(r, h) == std::pair<std::int64_t, std::int64_t>{128, 128});
  h.resize_x = 100;  // height follows the aspect ratio; both down to multiples of 8
  CHECK(kiln::pipelines::hires_size(r, h) == std::pair<std::int64_t, std::int64_t>{96, 96});
}

TEST_CASE("Lanczos resize keeps flat colours flat and ramps straight") {
  const torch::Tensor flat = torch::full({1, 8, 8, 3}, 0.25);
  CHECK((kiln::pipelines::lanczos_resize(flat, 20, 12) - 0.25).abs().max().item<double>() < 1e-6);
  // A horizontal ramp stays a rising ramp away from the borders (Lanczos-3 keeps linear functions
  // to within a few percent of the step).
  const torch::Tensor ramp = torch::linspace(0.1, 0.9, 16).view({1, 1, 1, 16}).expand({1, 3, 4, 16}).contiguous();
  const torch::Tensor up = kiln::pipelines::lanczos_resize(ramp, 4, 32, true);
  const torch::Tensor row = up[0][0][0];
  const torch::Tensor diffs = row.slice(0, 7, 25).diff();
  CHECK(diffs.min().item<double>() > 0);
  CHECK((diffs - diffs.mean()).abs().max().item<double>() < 0.1 * diffs.mean().item<double>());
  CHECK(up.size(3) == 32);
}
