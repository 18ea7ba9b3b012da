// The few-step and SDE samplers in the generation pipeline against diffusers' own runs of the tiny
// SD 1.x pipeline (golden/pipeline_fast/cases: LCM without CFG, SD-Turbo-style 1 step at guidance
// 0, DPM++ 2M SDE Karras with CFG): every random draw continues the request's one generator, the
// UNet batch has no unconditional half when guidance <= 1. Plus the two-evaluation samplers
// (Heun, DPM2, DPM2 a) in the loop: one callback per model call, totals that count the calls.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "golden_case.h"
#include "io/safetensors.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::pipelines::GenerationRequest;
using kiln::pipelines::StableDiffusionModel;
using kiln::schedulers::SchedulerKind;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";
const fs::path kCases = kGolden / "pipeline_fast/cases";

const StableDiffusionModel& tiny_model() {
  static const StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  return model;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

struct Run {
  kiln::pipelines::GenerationResult result;
  std::vector<torch::Tensor> steps;
  std::vector<std::int64_t> totals;
};

Run run(const GenerationRequest& r) {
  Run out;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.on_step = [&](const kiln::pipelines::StepInfo& info) {
    out.steps.push_back(info.latents->clone());
    out.totals.push_back(info.total);
  };
  out.result = kiln::pipelines::generate(tiny_model(), r, {}, callbacks);
  return out;
}

}  // namespace

TEST_CASE("every golden few-step pipeline case reproduces diffusers' latents and image") {
  const auto index = nlohmann::json::parse(kiln::test::read_text(kCases / "index.json"));
  const auto names = index.at("cases").get<std::vector<std::string>>();
  CHECK(names.size() == 3);
  for (const std::string& name : names) {
    CAPTURE(name);
    const nlohmann::json meta = kiln::test::read_golden_meta(kCases / name / "meta.json");
    const auto tensors = kiln::io::SafetensorsFile::open(kCases / name / "tensors.safetensors");
    const GenerationRequest r = kiln::test::golden_request(meta);
    const Run got = run(r);
    REQUIRE_FALSE(got.result.cancelled);
    CHECK(got.result.timesteps == meta.at("timesteps_used").get<std::vector<double>>());
    const torch::Tensor expected_steps = tensors->tensor("step_latents");
    REQUIRE(static_cast<std::int64_t>(got.steps.size()) == expected_steps.size(0));
    double worst_step = 0;
    for (std::size_t k = 0; k < got.steps.size(); ++k)
      worst_step = std::max(worst_step, max_abs_diff(got.steps[k], expected_steps[static_cast<std::int64_t>(k)]));
    const double latents = max_abs_diff(got.result.latents, tensors->tensor("final_latents"));
    const double image = max_abs_diff(got.result.images, tensors->tensor("image"));
    const double bytes =
        max_abs_diff(kiln::pipelines::to_uint8(got.result.images), kiln::pipelines::to_uint8(tensors->tensor("image")));
    MESSAGE(name << ": steps " << worst_step << ", final latents " << latents << ", image " << image << ", uint8 "
                 << bytes);
    CHECK(worst_step <= 1e-3);
    CHECK(latents <= 1e-3);
    CHECK(image <= 1e-3);
    CHECK(bytes <= 1);

    // Without CFG the UNet saw the conditional batch only, and a negative prompt changes nothing
    // (diffusers does not even encode it).
    const bool cfg = meta.at("do_classifier_free_guidance").get<bool>();
    CHECK(cfg == (r.guidance_scale > 1.0));
    CHECK(tensors->tensor("unet_inputs").size(1) == (cfg ? 2 : 1));
    if (!cfg) {
      GenerationRequest with_negative = r;
      with_negative.negative_prompt = "blurry, lowres";
      CHECK(max_abs_diff(run(with_negative).result.latents, got.result.latents) == 0.0);
    }
  }
}

TEST_CASE("two-evaluation samplers in the loop: a callback per model call, totals count the calls") {
  const nlohmann::json meta = kiln::test::read_golden_meta(kCases / "lcm_4_cfg1.0/meta.json");
  for (const SchedulerKind kind : {SchedulerKind::Heun, SchedulerKind::DPM2, SchedulerKind::DPM2Ancestral}) {
    CAPTURE(kiln::schedulers::id(kind));
    GenerationRequest r = kiln::test::golden_request(meta);
    r.sampler = kind;
    r.steps = 4;
    r.guidance_scale = 5.0;
    const Run a = run(r);
    REQUIRE_FALSE(a.result.cancelled);
    CHECK(a.steps.size() == 7);  // 2 * 4 - 1
    CHECK(a.totals == std::vector<std::int64_t>(7, 7));
    CHECK(a.result.timesteps.size() == 7);
    if (kind == SchedulerKind::Heun) {
      // diffusers' timesteps_used: 999, 749.25, 749.25, 499.5, 499.5, 249.75, 249.75.
      CHECK(a.result.timesteps.front() == 999.0);
      CHECK(a.result.timesteps[1] == a.result.timesteps[2]);
    }
    CHECK(torch::isfinite(a.result.images).all().item<bool>());
    // The same seed gives the same image (DPM2 a's noise comes from the request's generator).
    CHECK(max_abs_diff(run(r).result.latents, a.result.latents) == 0.0);
    // img2img starts at t_start * 2 and runs whole steps: strength 0.5 of 4 steps = 2 steps, 3 calls.
    GenerationRequest i2i = r;
    i2i.init_image = a.result.images.permute({0, 3, 1, 2}) * 2 - 1;
    i2i.strength = 0.5;
    const Run b = run(i2i);
    CHECK(b.steps.size() == 3);
    CHECK(b.totals.front() == 3);
  }
}
