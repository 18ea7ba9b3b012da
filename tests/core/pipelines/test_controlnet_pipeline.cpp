// ControlNet units against diffusers' StableDiffusionControlNetPipeline runs
// (golden/pipeline_more/cases/controlnet_*: one unit, guess mode, two units), plus what the
// goldens do not cover: the start/end rule, A1111's "My prompt is more important" scales, guess
// mode without CFG, three units at once, mixed modes, and the unit checks.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/safetensors.h"
#include "pipelines/control_guidance.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"
#include "golden_case.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::pipelines::ControlMode;
using kiln::pipelines::ControlNetUnit;
using kiln::pipelines::GenerationRequest;
using kiln::pipelines::StableDiffusionModel;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";
const fs::path kCases = kGolden / "pipeline_more/cases";

const StableDiffusionModel& tiny_model() {
  static const StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  return model;
}

const kiln::pipelines::LoadedControlNet& tiny_controlnet() {
  static const kiln::pipelines::LoadedControlNet cn =
      kiln::pipelines::load_controlnet_model(kGolden / "controlnet/model");
  return cn;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

struct ControlCase {
  nlohmann::json meta;
  std::unique_ptr<kiln::io::SafetensorsFile> tensors;
  GenerationRequest request;
};

// The case's call as a request: control image i = the PNG's pixels / 255 (control_images.safetensors
// holds the PNGs' RGB bytes, see make_control_tensors.py).
ControlCase load_case(const std::string& name) {
  ControlCase c;
  c.meta = kiln::test::read_golden_meta(kCases / name / "meta.json");
  c.tensors = kiln::io::SafetensorsFile::open(kCases / name / "tensors.safetensors");
  const auto images = kiln::io::SafetensorsFile::open(kCases / name / "control_images.safetensors");
  c.request = kiln::test::golden_request(c.meta);
  GenerationRequest& r = c.request;
  const nlohmann::json& scale = c.meta.at("controlnet_conditioning_scale");
  const std::size_t units = c.meta.at("controlnet").at("num_units").get<std::size_t>();
  for (std::size_t i = 0; i < units; ++i) {
    ControlNetUnit u;
    u.model = tiny_controlnet().model;
    u.family = tiny_controlnet().family;
    const torch::Tensor bytes = images->tensor("control_image." + std::to_string(i));
    u.image = (bytes.to(torch::kFloat) / 255).permute({2, 0, 1}).unsqueeze(0).contiguous();
    u.weight = scale.is_array() ? scale.at(i).get<double>() : scale.get<double>();
    u.start = c.meta.at("control_guidance_start").get<double>();
    u.end = c.meta.at("control_guidance_end").get<double>();
    u.mode = c.meta.at("guess_mode").get<bool>() ? ControlMode::ControlNetMoreImportant : ControlMode::Balanced;
    r.control_units.push_back(u);
  }
  return c;
}

struct Run {
  kiln::pipelines::GenerationResult result;
  std::vector<torch::Tensor> steps;
  std::vector<std::vector<torch::Tensor>> residuals;  // per step: down..., mid (empty: none)
};

Run run(const GenerationRequest& r) {
  Run out;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.on_step = [&](const kiln::pipelines::StepInfo& info) {
    out.steps.push_back(info.latents->clone());
    std::vector<torch::Tensor> all;
    if (info.control_residuals) {
      for (const torch::Tensor& d : info.control_residuals->down_block_additional_residuals) all.push_back(d.clone());
      all.push_back(info.control_residuals->mid_block_additional_residual.clone());
    }
    out.residuals.push_back(all);
  };
  out.result = kiln::pipelines::generate(tiny_model(), r, {}, callbacks);
  return out;
}

}  // namespace

TEST_CASE("every golden ControlNet case reproduces diffusers' residuals, latents and image") {
  for (const std::string name : {"controlnet_dpmpp_2m_10_cfg7.5_scale0.7", "controlnet_euler_8_cfg3_guess_mode",
                                 "controlnet_multi_ddim_10_cfg7_scales0.6_0.9"}) {
    CAPTURE(name);
    const ControlCase c = load_case(name);
    const Run r = run(c.request);
    REQUIRE_FALSE(r.result.cancelled);
    CHECK(r.result.timesteps == c.meta.at("timesteps_used").get<std::vector<double>>());

    // The residuals the UNet received at the recorded step (two units: the sum; guess mode: zeros
    // for the unconditional half). One ControlNet forward: the README's 1e-4, relative above 1.
    const auto at = c.meta.at("controlnet").at("controlnet_residuals_step").get<std::size_t>();
    REQUIRE(r.residuals.at(at).size() == 7);
    double residuals = 0;
    for (std::size_t k = 0; k < 7; ++k) {
      const std::string key = k < 6 ? "controlnet_residuals.down." + std::to_string(k) : "controlnet_residuals.mid";
      const torch::Tensor expected = c.tensors->tensor(key);
      const double size = std::max(1.0, expected.abs().max().item<double>());
      residuals = std::max(residuals, max_abs_diff(r.residuals[at][k], expected) / size);
    }
    if (c.meta.at("guess_mode").get<bool>()) {
      CHECK(r.residuals[at][0].chunk(2)[0].abs().max().item<double>() == 0.0);
    }

    const torch::Tensor expected_steps = c.tensors->tensor("step_latents");
    REQUIRE(static_cast<std::int64_t>(r.steps.size()) == expected_steps.size(0));
    double worst_step = 0;
    for (std::size_t k = 0; k < r.steps.size(); ++k)
      worst_step = std::max(worst_step, max_abs_diff(r.steps[k], expected_steps[static_cast<std::int64_t>(k)]));
    const double latents = max_abs_diff(r.result.latents, c.tensors->tensor("final_latents"));
    const double image = max_abs_diff(r.result.images, c.tensors->tensor("image"));
    const double bytes =
        max_abs_diff(kiln::pipelines::to_uint8(r.result.images), kiln::pipelines::to_uint8(c.tensors->tensor("image")));
    MESSAGE(name << ": residuals " << residuals << ", steps " << worst_step << ", final latents " << latents
                 << ", image " << image << ", uint8 " << bytes);
    CHECK(residuals <= 1e-4);
    CHECK(worst_step <= 1e-3);
    CHECK(latents <= 1e-3);
    CHECK(image <= 1e-3);
    CHECK(bytes <= 1);
  }
}

TEST_CASE("the start/end window follows diffusers' keep rule") {
  ControlNetUnit u;
  const auto active = [&](double start, double end, std::int64_t steps) {
    u.start = start;
    u.end = end;
    std::vector<std::int64_t> on;
    for (std::int64_t i = 0; i < steps; ++i)
      if (kiln::pipelines::control_unit_active(u, i, steps)) on.push_back(i);
    return on;
  };
  // The README's example: 10 steps, 0.2..0.8 -> steps 2..7.
  CHECK(active(0.2, 0.8, 10) == std::vector<std::int64_t>{2, 3, 4, 5, 6, 7});
  // End 0.5 of 10: steps 0..4 (A1111 would also guide step 5).
  CHECK(active(0.0, 0.5, 10) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  CHECK(active(0.0, 1.0, 3) == std::vector<std::int64_t>{0, 1, 2});
  CHECK(active(0.5, 1.0, 3) == std::vector<std::int64_t>{2});
}

TEST_CASE("control mode scales: A1111's soft injection and diffusers' guess mode") {
  const auto prompt = kiln::pipelines::control_residual_scales(ControlMode::PromptMoreImportant, 0.8, 13);
  REQUIRE(prompt.size() == 13);
  CHECK(prompt[0] == doctest::Approx(0.8 * std::pow(0.825, 12)));  // the first (shallowest) down residual
  CHECK(prompt[11] == doctest::Approx(0.8 * 0.825));
  CHECK(prompt[12] == doctest::Approx(0.8));  // the mid block
  const auto balanced = kiln::pipelines::control_residual_scales(ControlMode::Balanced, 0.8, 13);
  CHECK(balanced == std::vector<double>(13, 0.8));
  // Guess mode with the tiny ControlNet's 6 + 1 residuals: the golden's guess_mode_scales.
  const auto guess = kiln::pipelines::control_residual_scales(ControlMode::ControlNetMoreImportant, 1.0, 7);
  const auto golden = kiln::io::SafetensorsFile::open(kCases / "controlnet_euler_8_cfg3_guess_mode/tensors.safetensors")
                          ->tensor("guess_mode_scales");
  for (std::int64_t k = 0; k < 7; ++k) CHECK(guess[static_cast<std::size_t>(k)] == golden[k].item<float>());
}

TEST_CASE("each mode scales the residuals the ControlNet gives at weight 1") {
  ControlCase c = load_case("controlnet_dpmpp_2m_10_cfg7.5_scale0.7");
  c.request.steps = 2;
  c.request.control_units[0].weight = 1.0;
  const Run balanced = run(c.request);

  SUBCASE("My prompt is more important: 0.825^(12 - k) x weight, on both halves") {
    c.request.control_units[0].mode = ControlMode::PromptMoreImportant;
    c.request.control_units[0].weight = 0.8;
    const Run prompt = run(c.request);
    for (std::size_t k = 0; k < 7; ++k) {
      const double scale = 0.8 * std::pow(0.825, 12.0 - static_cast<double>(k));
      CHECK(max_abs_diff(prompt.residuals[0][k], balanced.residuals[0][k] * scale) <= 1e-6);
    }
    CHECK(max_abs_diff(prompt.result.latents, balanced.result.latents) > 1e-4);
  }
  SUBCASE("ControlNet is more important without CFG: the guess-mode scales on the one batch") {
    c.request.guidance_scale = 1.0;
    const Run plain = run(c.request);
    REQUIRE(plain.residuals[0][0].size(0) == 1);
    c.request.control_units[0].mode = ControlMode::ControlNetMoreImportant;
    const Run guess = run(c.request);
    const auto scales = kiln::pipelines::control_residual_scales(ControlMode::ControlNetMoreImportant, 1.0, 7);
    for (std::size_t k = 0; k < 7; ++k)
      CHECK(max_abs_diff(guess.residuals[0][k], plain.residuals[0][k] * scales[k]) <= 1e-6);
  }
  SUBCASE("mixed modes add up: a guess-mode unit gives the conditional half only") {
    ControlNetUnit guess = c.request.control_units[0];
    guess.mode = ControlMode::ControlNetMoreImportant;
    GenerationRequest only_guess = c.request;
    only_guess.control_units = {guess};
    const Run g = run(only_guess);
    c.request.control_units.push_back(guess);
    const Run both = run(c.request);
    for (std::size_t k = 0; k < 7; ++k) {
      CHECK(g.residuals[0][k].chunk(2)[0].abs().max().item<double>() == 0.0);
      CHECK(max_abs_diff(both.residuals[0][k], balanced.residuals[0][k] + g.residuals[0][k]) <= 1e-6);
    }
  }
}

TEST_CASE("three units at once: weights add up, and each keeps its own window") {
  ControlCase c = load_case("controlnet_multi_ddim_10_cfg7_scales0.6_0.9");
  ControlNetUnit one = c.request.control_units[0];
  one.weight = 1.0;
  c.request.control_units = {one};
  const Run single = run(c.request);
  ControlNetUnit a = one, b = one, d = one;
  a.weight = 0.2;
  b.weight = 0.3;
  d.weight = 0.5;
  c.request.control_units = {a, b, d};
  const Run three = run(c.request);
  CHECK(max_abs_diff(three.result.latents, single.result.latents) <= 1e-4);

  // Windows: unit 0 for the first half, unit 1 for the second, unit 2 never in 10 steps' 0.95..1.
  a.weight = b.weight = d.weight = 1.0;
  a.end = 0.5;
  b.start = 0.5;
  d.start = 0.95;
  c.request.control_units = {a, b, d};
  const Run windows = run(c.request);
  for (std::size_t i = 0; i < 10; ++i) {
    CAPTURE(i);
    REQUIRE(windows.residuals[i].size() == 7);
  }
  // Step 0: only unit 0 ran, so the residuals are those of the single unit.
  CHECK(max_abs_diff(windows.residuals[0][6], single.residuals[0][6]) <= 1e-6);
}

TEST_CASE("ControlNet units are checked before any work, naming the unit") {
  GenerationRequest r;
  r.prompt = "x";
  r.width = r.height = 64;
  const auto error = [&](const GenerationRequest& bad) {
    try {
      kiln::pipelines::generate(tiny_model(), bad);
    } catch (const kiln::InvalidRequestError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ControlNetUnit u{tiny_controlnet().model, tiny_controlnet().family, torch::zeros({1, 3, 64, 64}), 1.0, 0.0, 1.0,
                   ControlMode::Balanced};
  GenerationRequest bad = r;
  ControlNetUnit wrong = u;
  wrong.image = torch::zeros({1, 3, 48, 64});
  bad.control_units = {u, wrong};
  CHECK(error(bad) ==
        "ControlNet unit 2: the control image is 64x48 but the output is 64x64 (resize the control "
        "image to the output size first (Just Resize, Crop and Resize or Resize and Fill))");
  wrong.image = torch::zeros({1, 1, 64, 64});
  bad.control_units = {wrong};
  CHECK(error(bad) == "ControlNet unit 1: the control image must be one RGB image [1, 3, H, W], got [1, 1, 64, 64]");
  wrong = u;
  wrong.image = torch::Tensor();
  bad.control_units = {u, u, wrong};
  CHECK(error(bad) == "ControlNet unit 3 has no control image");
  wrong = u;
  wrong.start = 0.6;
  wrong.end = 0.4;
  bad.control_units = {wrong};
  CHECK(error(bad) == "ControlNet unit 1 start/end must satisfy 0 <= start < end <= 1, got 0.600000/0.400000");
  wrong = u;
  wrong.weight = -1;
  bad.control_units = {wrong};
  CHECK(error(bad) == "ControlNet unit 1 weight must be between 0 and 10, got -1.000000");
  wrong = u;
  wrong.family = kiln::convert::ModelFamily::ControlNetSD2;
  bad.control_units = {wrong};
  CHECK(error(bad) ==
        "ControlNet unit 1 is a ControlNet (SD 2.x) and cannot guide a Stable Diffusion 1.x model "
        "(choose a ControlNet made for the model's family)");
}
