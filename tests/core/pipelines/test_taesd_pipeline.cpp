// TAESD in the pipeline: the golden case taesd/cases/txt2img_euler_4_cfg7.5_taesd (diffusers'
// StableDiffusionPipeline with AutoencoderTiny as its VAE) reproduced by the tiny SD 1.x model
// with TAESD attached and "Fast decode": latents after every step, the image, and the live
// previews (what a callback decoding every step's latents shows). Also the refusals.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include "base/error.h"
#include "golden_case.h"
#include "io/safetensors.h"
#include "pipelines/model_loading.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::pipelines::GenerationRequest;
using kiln::pipelines::StableDiffusionModel;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";
const fs::path kCase = kGolden / "taesd/cases/txt2img_euler_4_cfg7.5_taesd";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

StableDiffusionModel tiny_with_taesd() {
  StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  kiln::pipelines::attach_taesd(model, kGolden / "taesd/model");
  return model;
}

}  // namespace

TEST_CASE("txt2img with TAESD decode and live TAESD previews matches diffusers' pipeline with AutoencoderTiny") {
  const StableDiffusionModel model = tiny_with_taesd();
  REQUIRE(model.taesd);
  const nlohmann::json meta = kiln::test::read_golden_meta(kCase / "meta.json");
  GenerationRequest r = kiln::test::golden_request(meta);
  r.fast_decode = true;
  const auto golden = kiln::io::SafetensorsFile::open(kCase / "tensors.safetensors");
  const torch::Tensor steps = golden->tensor("step_latents");
  const torch::Tensor previews = golden->tensor("step_preview_decode_raw");

  kiln::pipelines::GenerationCallbacks callbacks;
  std::vector<torch::Tensor> step_latents, shown;
  callbacks.on_step = [&](const kiln::pipelines::StepInfo& info) { step_latents.push_back(info.latents->clone()); };
  callbacks.preview_every = 1;
  callbacks.preview_budget = 1e9;  // every step here: the budget is tested below
  callbacks.on_preview = [&](const torch::Tensor& preview, std::int64_t) { shown.push_back(preview.clone()); };
  const auto result = kiln::pipelines::generate(model, r, {}, callbacks);

  REQUIRE(step_latents.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    const double d = max_abs_diff(step_latents[i], steps[static_cast<std::int64_t>(i)]);
    MESSAGE("step " << i << " latents: max abs diff " << d);
    CHECK(d <= 1e-3);
  }
  const double latents = max_abs_diff(result.latents, golden->tensor("final_latents"));
  const double image = max_abs_diff(result.images, golden->tensor("image"));
  MESSAGE("final latents " << latents << ", image " << image);
  CHECK(latents <= 1e-3);
  CHECK(image <= 1e-3);

  // Previews after steps 1..3 (not after the last: the decode follows); each is the TAESD decode of
  // that step's latents at full size, as the reference's preview images rounded to bytes (+-1).
  REQUIRE(shown.size() == 3);
  for (std::size_t i = 0; i < shown.size(); ++i) {
    CHECK(shown[i].sizes() == torch::IntArrayRef({1, 64, 64, 3}));
    const torch::Tensor expected =
        kiln::pipelines::to_uint8((previews[static_cast<std::int64_t>(i)] / 2 + 0.5).clamp(0, 1).permute({0, 2, 3, 1}));
    const double d = max_abs_diff(shown[i].to(torch::kInt), expected.to(torch::kInt));
    MESSAGE("preview " << i << ": max byte diff " << d);
    CHECK(d <= 1);
  }
}

TEST_CASE("previews without TAESD are the cheap 1/8 approximation; fast decode needs a TAESD") {
  StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  GenerationRequest r;
  r.prompt = "a cat";
  r.width = r.height = 64;
  r.steps = 2;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.preview_every = 1;
  std::vector<torch::Tensor> shown;
  callbacks.on_preview = [&](const torch::Tensor& preview, std::int64_t) { shown.push_back(preview); };
  (void)kiln::pipelines::generate(model, r, {}, callbacks);
  REQUIRE(shown.size() == 1);
  CHECK(shown[0].sizes() == torch::IntArrayRef({1, 8, 8, 3}));

  r.fast_decode = true;
  CHECK_THROWS_AS(kiln::pipelines::generate(model, r), kiln::InvalidRequestError);

  // The same request with TAESD previews switched off by the caller keeps the cheap ones.
  kiln::pipelines::attach_taesd(model, kGolden / "taesd/model");
  shown.clear();
  callbacks.tiny_previews = false;
  r.fast_decode = false;
  (void)kiln::pipelines::generate(model, r, {}, callbacks);
  REQUIRE(shown.size() == 1);
  CHECK(shown[0].sizes() == torch::IntArrayRef({1, 8, 8, 3}));
  kiln::pipelines::attach_taesd(model, {});
  CHECK_FALSE(model.taesd);
}

TEST_CASE("a TAESDXL is refused for an SD 1.x model, naming the file") {
  StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  kiln::test::ScratchDir dir("kiln-taesd-pipeline");
  const auto weights = kiln::io::SafetensorsFile::open(kGolden / "taesd/model/diffusion_pytorch_model.safetensors");
  kiln::io::NamedTensors decoder;
  for (const auto& e : weights->index().entries()) {
    if (e.name.rfind("decoder.", 0) == 0) decoder.emplace_back(e.name, weights->tensor(e.name));
  }
  kiln::io::write_safetensors(dir / "taesdxl_decoder.safetensors", decoder);
  try {
    kiln::pipelines::attach_taesd(model, dir / "taesdxl_decoder.safetensors");
    FAIL("TAESDXL attached to SD 1.x");
  } catch (const kiln::InvalidRequestError& e) {
    CHECK(std::string(e.what()).find("taesdxl_decoder.safetensors is TAESDXL") != std::string::npos);
  }
  CHECK_FALSE(model.taesd);
  fs::rename(dir / "taesdxl_decoder.safetensors", dir / "decoder.safetensors");
  kiln::pipelines::attach_taesd(model, dir / "decoder.safetensors");  // a name that says nothing: accepted
  CHECK(model.taesd);
  CHECK_FALSE(model.taesd->has_encoder());
}

TEST_CASE("TAESD previews stay within their share of the sampling time") {
  StableDiffusionModel model = tiny_with_taesd();
  GenerationRequest r;
  r.prompt = "a cat";
  r.width = r.height = 64;
  r.steps = 12;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.preview_every = 1;
  std::vector<std::int64_t> steps;
  callbacks.on_preview = [&](const torch::Tensor&, std::int64_t step) { steps.push_back(step); };
  // The full-size TAESD decode costs more than the tiny UNet's step: a budget of 0 leaves only
  // the first preview (always made), an unlimited one makes all 11.
  callbacks.preview_budget = 0;
  (void)kiln::pipelines::generate(model, r, {}, callbacks);
  CHECK(steps == std::vector<std::int64_t>{1});
  steps.clear();
  callbacks.preview_budget = 1e9;
  (void)kiln::pipelines::generate(model, r, {}, callbacks);
  CHECK(steps.size() == 11);
  // The cheap previews are free: every step whatever the budget.
  steps.clear();
  callbacks.preview_budget = 0;
  callbacks.tiny_previews = false;
  (void)kiln::pipelines::generate(model, r, {}, callbacks);
  CHECK(steps.size() == 11);
}
