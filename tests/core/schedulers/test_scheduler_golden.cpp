// Every case of golden/schedulers/index.json (diffusers 0.32.2): schedule constants, the fake-model
// rollout of the README (eps = 0.5 * model_input + fixed_noise[k]), the ancestral noise stream,
// restarts part-way (img2img) and the DDPM training targets.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>

#include "io/safetensors.h"
#include "schedulers/scheduler_factory.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kiln::schedulers;

namespace {

// A dtype as text (doctest cannot print c10::ScalarType: c10::toString returns const char*).
std::string dtype_name(const torch::Tensor& t) { return c10::toString(t.scalar_type()); }

const fs::path kGolden = kiln::test::data_dir() / "golden" / "schedulers";

// The meta files are Python json (lambda_min_clipped is -Infinity).
json read_meta(const fs::path& path) {
  std::string text = kiln::test::read_text(path);
  for (std::size_t p = text.find("-Infinity"); p != std::string::npos; p = text.find("-Infinity", p)) {
    text.replace(p, 9, "null");
  }
  return json::parse(text);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

bool rel_close(double got, double expected, double rel = 1e-6) {
  return std::abs(got - expected) <= rel * std::max(std::abs(expected), 1e-30) || got == expected;
}

at::Generator cpu_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// The model's scheduler_config.json as diffusers' from_config sees it: the SD 1.5 hub file
// (pipeline/tiny_sd1), plus prediction_type v_prediction for the SD 2.1 (768) config.
SchedulerConfig golden_config(const std::string& config_name) {
  const fs::path file =
      kiln::test::data_dir() / "golden" / "pipeline" / "tiny_sd1" / "scheduler" / "scheduler_config.json";
  json j = json::parse(kiln::test::read_text(file));
  if (config_name == "sd21_vpred") {
    j["prediction_type"] = "v_prediction";
  } else {
    REQUIRE(config_name == "sd15_eps");
  }
  return SchedulerConfig::from_json(j, file);
}

// The generator seed of a case (null where step() takes no generator; any seed then).
std::uint64_t ancestral_seed(const json& meta) {
  const json& s = meta.at("ancestral_seed");
  return s.is_number() ? s.get<std::uint64_t>() : 0;
}

struct Case {
  std::string name;
  json meta;
  std::unique_ptr<kiln::io::SafetensorsFile> tensors;
  SchedulerKind kind{};
  SchedulerConfig config;
  std::int64_t steps = 0;

  bool has(const std::string& tensor) const { return tensors->index().find(tensor) != nullptr; }
  torch::Tensor t(const std::string& tensor) const { return tensors->tensor(tensor); }
};

Case load_case(const json& entry) {
  Case c;
  c.name = entry.at("case").get<std::string>();
  c.meta = read_meta(kGolden / (c.name + ".json"));
  c.tensors = kiln::io::SafetensorsFile::open(kGolden / (c.name + ".safetensors"));
  // "<config>__<scheduler id>__<steps>"
  const std::size_t a = c.name.find("__");
  const std::size_t b = c.name.rfind("__");
  c.kind = parse_scheduler_name(c.name.substr(a + 2, b - a - 2));
  c.config = golden_config(entry.at("config").get<std::string>());
  c.steps = entry.at("steps").get<std::int64_t>();
  return c;
}

std::vector<json> index_cases() {
  const json index = json::parse(kiln::test::read_text(kGolden / "index.json"));
  return index.at("cases").get<std::vector<json>>();
}

// Draws one standard normal like the (1,4,8,8) latents.
torch::Tensor draw(at::Generator& gen, const torch::Tensor& like) {
  return at::randn(like.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat));
}

struct RolloutResult {
  double max_sample_diff = 0;
  double max_pred_diff = 0;
  double final_diff = 0;
};

// The README's loop from index `start` with `latents`, the generator in its state at that index.
RolloutResult rollout(const Case& c, Scheduler& sched, std::int64_t start, torch::Tensor latents, at::Generator& gen) {
  RolloutResult r;
  const torch::Tensor samples = c.t("samples");
  const torch::Tensor fixed_noise = c.t("fixed_noise");
  const bool has_pred = c.has("pred_original_sample");
  const torch::Tensor preds = has_pred ? c.t("pred_original_sample") : torch::Tensor();
  for (std::int64_t k = start; k < sched.num_timesteps(); ++k) {
    const torch::Tensor model_input = sched.scale_model_input(latents, k);
    const torch::Tensor eps = 0.5 * model_input + fixed_noise[k];
    StepOutput out = sched.step(eps, k, latents, &gen);
    latents = out.prev_sample;
    r.max_sample_diff = std::max(r.max_sample_diff, max_abs_diff(latents, samples[k]));
    if (has_pred) {
      REQUIRE(out.pred_original_sample.defined());
      r.max_pred_diff = std::max(r.max_pred_diff, max_abs_diff(out.pred_original_sample, preds[k]));
    }
  }
  r.final_diff = max_abs_diff(latents, c.t("final_latents"));
  return r;
}

bool is_single_step(SchedulerKind kind) {
  return kind == SchedulerKind::DDPM || kind == SchedulerKind::DDIM || kind == SchedulerKind::Euler ||
         kind == SchedulerKind::EulerAncestral;
}

}  // namespace

TEST_CASE("golden schedule constants: timesteps, sigmas, init_noise_sigma, scale factors") {
  const auto entries = index_cases();
  CHECK(entries.size() == 27);  // 9 schedulers x (sd15 20 and 7 steps, sd21 20 steps)
  for (const json& entry : entries) {
    const Case c = load_case(entry);
    CAPTURE(c.name);
    auto sched = make_scheduler(c.kind, c.config);
    sched->set_timesteps(c.steps);
    const json& m = c.meta;

    CHECK(sched->timestep_values() == m.at("timesteps").get<std::vector<double>>());
    const std::string dtype = m.at("timesteps_dtype").get<std::string>();
    CHECK(dtype_name(sched->timesteps()) == (dtype == "int64" ? "Long" : "Float"));
    CHECK(sched->num_timesteps() == m.at("num_model_calls").get<std::int64_t>());
    CHECK(sched->order() == m.at("order").get<std::int64_t>());
    CHECK(rel_close(sched->init_noise_sigma(), m.at("init_noise_sigma").get<double>()));

    if (m.contains("sigmas")) {
      const auto expected = m.at("sigmas").get<std::vector<double>>();
      REQUIRE(sched->sigmas().defined());
      CHECK(dtype_name(sched->sigmas()) == "Float");
      const torch::Tensor got = sched->sigmas().to(torch::kDouble);
      REQUIRE(got.numel() == static_cast<std::int64_t>(expected.size()));
      for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(rel_close(got[static_cast<std::int64_t>(i)].item<double>(), expected[i]));
      }
    } else {
      CHECK_FALSE(sched->sigmas().defined());
    }

    const auto factors = m.at("scale_model_input_factors").get<std::vector<double>>();
    REQUIRE(static_cast<std::int64_t>(factors.size()) == sched->num_timesteps());
    for (std::size_t k = 0; k < factors.size(); ++k) {
      CHECK(rel_close(sched->model_input_scale(static_cast<std::int64_t>(k)), factors[k]));
    }

    // The same scheduler from the resolved config diffusers recorded (every key spelled out).
    const SchedulerConfig resolved = SchedulerConfig::from_json(m.at("resolved_config"));
    auto again = make_scheduler(c.kind, resolved);
    again->set_timesteps(c.steps);
    CHECK(again->timestep_values() == sched->timestep_values());
    CHECK(again->init_noise_sigma() == sched->init_noise_sigma());
    CHECK(again->timestep_spacing() == sched->timestep_spacing());
  }
}

TEST_CASE("golden rollouts: every step, the ancestral noise stream, final latents") {
  std::map<std::string, double> worst;  // per scheduler id
  for (const json& entry : index_cases()) {
    const Case c = load_case(entry);
    CAPTURE(c.name);
    auto sched = make_scheduler(c.kind, c.config);
    sched->set_timesteps(c.steps);

    // The initial noise is torch.randn(generator=manual_seed(initial_seed)): the CPU stream.
    at::Generator init_gen = cpu_generator(c.meta.at("initial_seed").get<std::uint64_t>());
    const torch::Tensor initial_noise = c.t("initial_noise");
    CHECK(max_abs_diff(draw(init_gen, initial_noise), initial_noise) == 0.0);

    // Relative to the latents' scale (up to ~60 here): init_noise_sigma is a scheduler constant
    // (README: rel 1e-6). The goldens come from torch 1.13, whose float32 cumprod of the alphas
    // gave sigma_max 14.614645; LibTorch 2.x accumulates cumprod in double and gives 14.614647,
    // which Kiln follows (so does diffusers on torch 2.x): one ulp, 7.6e-6 on the latents.
    const torch::Tensor latents = initial_noise * sched->init_noise_sigma();
    const torch::Tensor want_latents = c.t("initial_latents");
    CHECK(max_abs_diff(latents, want_latents) <= 1e-6 * std::max(1.0, want_latents.abs().max().item<double>()));

    const auto seed = ancestral_seed(c.meta);
    at::Generator gen = cpu_generator(seed);
    const RolloutResult r = rollout(c, *sched, 0, latents, gen);
    std::ostringstream report;
    report << c.name << ": max |samples diff| " << r.max_sample_diff << ", final " << r.final_diff
           << ", pred_original_sample ";
    if (c.has("pred_original_sample")) {
      report << r.max_pred_diff;
    } else {
      report << "(not stored)";
    }
    MESSAGE(report.str());
    CHECK(r.max_sample_diff <= 1e-4);
    CHECK(r.final_diff <= 1e-4);
    CHECK(r.max_pred_diff <= 1e-4);
    const std::string sid(id(c.kind));
    worst[sid] = std::max({worst[sid], r.max_sample_diff, r.final_diff, r.max_pred_diff});

    // The noises step() drew are the golden step_randn, in order, and nothing else was drawn:
    // the rollout's generator continues where a replay of those draws ends.
    const auto draws = c.meta.at("num_step_randn_calls").get<std::int64_t>();
    at::Generator replay = cpu_generator(seed);
    if (draws > 0) {
      REQUIRE(c.has("step_randn"));
      const torch::Tensor step_randn = c.t("step_randn");
      REQUIRE(step_randn.size(0) == draws);
      for (std::int64_t i = 0; i < draws; ++i) CHECK(max_abs_diff(draw(replay, initial_noise), step_randn[i]) == 0.0);
    }
    CHECK(max_abs_diff(draw(gen, initial_noise), draw(replay, initial_noise)) == 0.0);

    // set_timesteps resets every history: a second run on the same object is the same run.
    sched->set_timesteps(c.steps);
    at::Generator gen2 = cpu_generator(seed);
    const RolloutResult r2 = rollout(c, *sched, 0, initial_noise * sched->init_noise_sigma(), gen2);
    CHECK(r2.final_diff == r.final_diff);
    CHECK(r2.max_sample_diff == r.max_sample_diff);
  }
  for (const auto& [sid, diff] : worst) MESSAGE("worst abs diff " << sid << ": " << diff);
}

// img2img starts at index t_start with set_begin_index. One-step algorithms depend only on the
// current latents, so starting from the golden samples[t_start - 1] (and the generator advanced
// past the draws of the first t_start steps) must continue the golden rollout exactly. Multistep
// algorithms restart their history (as diffusers' img2img does): their first step after the
// start is a warm-up step, so that run is checked for shape, order and reproducibility instead.
TEST_CASE("golden restart part-way (img2img begin index)") {
  for (const json& entry : index_cases()) {
    const Case c = load_case(entry);
    CAPTURE(c.name);
    auto sched = make_scheduler(c.kind, c.config);
    sched->set_timesteps(c.steps);
    const std::int64_t n = sched->num_timesteps();
    const std::int64_t t_start = n / 2;
    sched->set_begin_index(t_start * sched->order());
    CHECK(sched->begin_index() == t_start);
    const torch::Tensor start_latents = c.t("samples")[t_start - 1];

    const auto seed = ancestral_seed(c.meta);
    at::Generator gen = cpu_generator(seed);
    const auto draws = c.meta.at("num_step_randn_calls").get<std::int64_t>();
    for (std::int64_t i = 0; i < t_start && draws > 0; ++i) draw(gen, start_latents);

    if (is_single_step(c.kind)) {
      const RolloutResult r = rollout(c, *sched, t_start, start_latents, gen);
      MESSAGE(c.name << " from index " << t_start << ": max |samples diff| " << r.max_sample_diff << ", final "
                     << r.final_diff);
      CHECK(r.max_sample_diff <= 1e-4);
      CHECK(r.final_diff <= 1e-4);
    } else {
      const torch::Tensor fixed_noise = c.t("fixed_noise");
      const auto run = [&](Scheduler& s) {
        torch::Tensor latents = start_latents;
        for (std::int64_t k = t_start; k < n; ++k) {
          const torch::Tensor eps = 0.5 * s.scale_model_input(latents, k) + fixed_noise[k];
          latents = s.step(eps, k, latents, &gen).prev_sample;
        }
        return latents;
      };
      const torch::Tensor a = run(*sched);
      CHECK(sched->step_index() == n);
      CHECK(torch::isfinite(a).all().item<bool>());
      sched->set_timesteps(c.steps);
      sched->set_begin_index(t_start);
      CHECK(max_abs_diff(run(*sched), a) == 0.0);
    }
  }
}

// img2img noises the encoded image to the level of timesteps[t_start].
TEST_CASE("add_noise at the begin index") {
  const SchedulerConfig config = golden_config("sd15_eps");
  const torch::Tensor x0 = torch::linspace(-1, 1, 2 * 4 * 8 * 8).reshape({2, 4, 8, 8});
  at::Generator gen = cpu_generator(7);
  const torch::Tensor noise = draw(gen, x0);
  for (const SchedulerKind kind : kAllSchedulerKinds) {
    CAPTURE(id(kind));
    auto sched = make_scheduler(kind, config);
    sched->set_timesteps(20);
    const std::int64_t t_start = 8;
    sched->set_begin_index(t_start);
    const torch::Tensor t = sched->timesteps().slice(0, t_start, t_start + 1);
    const torch::Tensor noisy = sched->add_noise(x0, noise, t);
    torch::Tensor expected;
    if (sched->sigmas().defined()) {
      const double sigma = sched->sigmas()[t_start].item<double>();
      // The DPM-Solver-type classes noise variance-preserving; the k-diffusion-type ones add sigma * noise.
      const std::string sid(id(kind));
      if (sid.rfind("dpmpp", 0) == 0 || sid == "unipc" || sid.rfind("deis", 0) == 0) {
        const double alpha = 1 / std::sqrt(sigma * sigma + 1);
        expected = alpha * x0 + sigma * alpha * noise;
      } else {
        expected = x0 + sigma * noise;
      }
    } else {
      const double acp = sched->alphas_cumprod()[t.item<std::int64_t>()].item<double>();
      expected = std::sqrt(acp) * x0 + std::sqrt(1 - acp) * noise;
    }
    CHECK(max_abs_diff(noisy, expected) <= 1e-5);
    // Without a begin index the value is looked up in timesteps().
    auto lookup = make_scheduler(kind, config);
    lookup->set_timesteps(20);
    CHECK(max_abs_diff(lookup->add_noise(x0, noise, t), noisy) == 0.0);
  }
}

TEST_CASE("golden DDPM training targets: betas, alphas_cumprod, add_noise, velocity") {
  for (const std::string config_name : {"sd15_eps", "sd21_vpred"}) {
    CAPTURE(config_name);
    const auto file = kiln::io::SafetensorsFile::open(kGolden / (config_name + "__ddpm_training_targets.safetensors"));
    auto sched = make_scheduler(SchedulerKind::DDPM, golden_config(config_name));
    // betas = linspace(sqrt(start), sqrt(end), 1000, float32)^2, as diffusers makes them. The goldens
    // come from torch 1.13; LibTorch 2.x's linspace gives 233 of the 1000 points one ulp apart
    // (1.9e-9; diffusers on torch 2.11 gets the same as Kiln), so: the constants' rel 1e-6.
    const torch::Tensor want_betas = file->tensor("betas").to(torch::kDouble);
    CHECK(((sched->betas().to(torch::kDouble) - want_betas).abs() / want_betas).max().item<double>() <= 1e-6);
    const torch::Tensor acp = file->tensor("alphas_cumprod");
    CHECK(dtype_name(sched->alphas_cumprod()) == "Float");
    CHECK(((sched->alphas_cumprod().to(torch::kDouble) - acp.to(torch::kDouble)).abs() / acp.to(torch::kDouble))
              .max()
              .item<double>() <= 1e-6);
    const torch::Tensor x0 = file->tensor("original_samples");
    const torch::Tensor noise = file->tensor("noise");
    const torch::Tensor t = file->tensor("timesteps");
    CHECK(dtype_name(t) == "Long");
    const double noisy_diff = max_abs_diff(sched->add_noise(x0, noise, t), file->tensor("noisy_samples"));
    const double v_diff = max_abs_diff(sched->get_velocity(x0, noise, t), file->tensor("target_v_prediction"));
    MESSAGE(config_name << ": add_noise " << noisy_diff << ", velocity " << v_diff);
    CHECK(noisy_diff <= 1e-6);
    CHECK(v_diff <= 1e-6);
    CHECK(max_abs_diff(file->tensor("target_epsilon"), noise) == 0.0);
  }
}
