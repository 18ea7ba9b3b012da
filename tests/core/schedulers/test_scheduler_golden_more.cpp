// Every case of golden/schedulers_more/index.json (diffusers 0.32.2): the few-step and
// AUTOMATIC1111 samplers (LCM, TCD, trailing Euler / Euler a, Heun, DPM2, DPM2 a, DPM++ 2M SDE,
// DPM++ 2S, DEIS): schedule constants, the fake-model rollout of the README
// (eps = 0.5 * model_input + fixed_noise[k], one entry per model call), and the noise stream:
// which step() calls draw, what they draw, and that nothing else is drawn.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "base/error.h"
#include "io/safetensors.h"
#include "schedulers/deis_multistep_scheduler.h"
#include "schedulers/dpm_solver_singlestep_scheduler.h"
#include "schedulers/kdpm2_discrete_scheduler.h"
#include "schedulers/lcm_scheduler.h"
#include "schedulers/scheduler_factory.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kiln::schedulers;

namespace {

std::string dtype_name(const torch::Tensor& t) { return c10::toString(t.scalar_type()); }

const fs::path kGolden = kiln::test::data_dir() / "golden" / "schedulers_more";

// Python json: NaN and -Infinity appear in the sigma lists; both are read as null.
json read_meta(const fs::path& path) {
  std::string text = kiln::test::read_text(path);
  for (const std::string token : {"-Infinity", "NaN"}) {
    for (std::size_t p = text.find(token); p != std::string::npos; p = text.find(token, p)) {
      text.replace(p, token.size(), "null");
    }
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

// The scheduler of a variant, as the README's table builds it.
std::unique_ptr<Scheduler> make_variant(const std::string& variant, SchedulerConfig config) {
  if (variant == "lcm_orig30") {
    config.original_inference_steps = 30;
    return make_scheduler(SchedulerKind::LCM, config);
  }
  if (variant == "lcm_settimesteps_orig20") {
    auto lcm = std::make_unique<LCMScheduler>(config);
    lcm->set_original_inference_steps(20);
    return lcm;
  }
  if (variant == "tcd_gamma0.3") return std::make_unique<TCDScheduler>(config, 0.3);
  if (variant == "deis_3") return std::make_unique<DEISMultistepScheduler>(config, false, 3);
  return make_scheduler(parse_scheduler_name(variant), config);
}

struct Case {
  std::string name;
  std::string variant;
  json meta;
  std::unique_ptr<kiln::io::SafetensorsFile> tensors;
  SchedulerConfig config;
  std::int64_t steps = 0;

  bool has(const std::string& tensor) const { return tensors->index().find(tensor) != nullptr; }
  torch::Tensor t(const std::string& tensor) const { return tensors->tensor(tensor); }
  std::unique_ptr<Scheduler> scheduler() const {
    auto s = make_variant(variant, config);
    s->set_timesteps(steps);
    return s;
  }
};

Case load_case(const json& entry) {
  Case c;
  c.name = entry.at("case").get<std::string>();
  c.variant = entry.at("variant").get<std::string>();
  c.meta = read_meta(kGolden / (c.name + ".json"));
  c.tensors = kiln::io::SafetensorsFile::open(kGolden / (c.name + ".safetensors"));
  c.config = golden_config(entry.at("config").get<std::string>());
  c.steps = entry.at("steps").get<std::int64_t>();
  return c;
}

std::vector<json> index_cases() {
  const json index = json::parse(kiln::test::read_text(kGolden / "index.json"));
  return index.at("cases").get<std::vector<json>>();
}

torch::Tensor draw(at::Generator& gen, const torch::Tensor& like) {
  return at::randn(like.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat));
}

// Compares a float list of the meta (nulls skipped) with `got`: rel 1e-6, or within `abs_tol`.
void check_list(const json& expected, const std::vector<double>& got, const char* what, double abs_tol = 0) {
  CAPTURE(what);
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (expected[i].is_null()) continue;
    CAPTURE(i);
    const double want = expected[i].get<double>();
    CHECK_MESSAGE((rel_close(got[i], want) || std::abs(got[i] - want) <= abs_tol),
                  what << "[" << i << "] " << got[i] << " vs " << want);
  }
}

std::vector<double> doubles(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kDouble).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

}  // namespace

TEST_CASE("golden few-step schedule constants: timesteps, sigmas, init_noise_sigma, scale factors") {
  const auto entries = index_cases();
  CHECK(entries.size() == 31);
  for (const json& entry : entries) {
    const Case c = load_case(entry);
    CAPTURE(c.name);
    const auto sched = c.scheduler();
    const json& m = c.meta;

    // DPM2 a's midpoint sigma of the last interval is sqrt(s^2 (s^2 - next^2)...) with next << s: a
    // float32 cancellation whose last bits differ between torch builds and between its vectorised
    // and scalar kernels (0.0291677 vs 0.0291675). Those entries, and the fractional timesteps
    // interpolated from them (1.6e-5 vs 0), get an absolute tolerance; the rollout is unaffected.
    const bool dpm2_a = c.variant.rfind("kdpm2_a", 0) == 0;
    const std::string dtype = m.at("timesteps_dtype").get<std::string>();
    CHECK(dtype_name(sched->timesteps()) == (dtype == "int64" ? "Long" : dtype == "float64" ? "Double" : "Float"));
    if (dtype == "int64") {
      CHECK(sched->timestep_values() == m.at("timesteps").get<std::vector<double>>());
    } else {
      check_list(m.at("timesteps"), sched->timestep_values(), "timesteps", dpm2_a ? 1e-4 : 0);
    }
    CHECK(sched->num_timesteps() == m.at("num_model_calls").get<std::int64_t>());
    CHECK(sched->order() == m.at("order").get<std::int64_t>());
    CHECK(evaluations_per_step(sched->kind()) == m.at("order").get<std::int64_t>());
    CHECK(rel_close(sched->init_noise_sigma(), m.at("init_noise_sigma").get<double>()));
    if (m.contains("sigmas")) {
      REQUIRE(sched->sigmas().defined());
      CHECK(dtype_name(sched->sigmas()) == "Float");
      check_list(m.at("sigmas"), doubles(sched->sigmas()), "sigmas");
    }
    if (m.contains("kdpm2")) {
      const auto* kdpm2 = dynamic_cast<const KDPM2DiscreteScheduler*>(sched.get());
      REQUIRE(kdpm2 != nullptr);
      const std::vector<float>& interpol = kdpm2->sigmas_interpol();
      check_list(m.at("kdpm2").at("sigmas_interpol"), std::vector<double>(interpol.begin(), interpol.end()),
                 "sigmas_interpol", dpm2_a ? 1e-6 : 0);
    }
    if (m.contains("order_list")) {
      const auto* single = dynamic_cast<const DPMSolverSinglestepScheduler*>(sched.get());
      REQUIRE(single != nullptr);
      CHECK(single->order_list() == m.at("order_list").get<std::vector<int>>());
    }
    const auto factors = m.at("scale_model_input_factors").get<std::vector<double>>();
    REQUIRE(static_cast<std::int64_t>(factors.size()) == sched->num_timesteps());
    for (std::size_t k = 0; k < factors.size(); ++k) {
      CAPTURE(k);
      CHECK(rel_close(sched->model_input_scale(static_cast<std::int64_t>(k)), factors[k]));
    }
  }
}

TEST_CASE("golden few-step rollouts: every model call, the noise stream, final latents") {
  std::map<std::string, double> worst;
  for (const json& entry : index_cases()) {
    const Case c = load_case(entry);
    CAPTURE(c.name);
    const auto sched = c.scheduler();

    at::Generator init_gen = cpu_generator(c.meta.at("initial_seed").get<std::uint64_t>());
    const torch::Tensor initial_noise = c.t("initial_noise");
    CHECK(max_abs_diff(draw(init_gen, initial_noise), initial_noise) == 0.0);
    torch::Tensor latents = initial_noise * sched->init_noise_sigma();
    const torch::Tensor want_latents = c.t("initial_latents");
    // rel 1e-6 of the scale (sigma_max differs by one ulp between torch 1.13 and LibTorch 2.x).
    CHECK(max_abs_diff(latents, want_latents) <= 1e-6 * std::max(1.0, want_latents.abs().max().item<double>()));

    const json& seed_json = c.meta.at("ancestral_seed");
    const std::uint64_t seed = seed_json.is_number() ? seed_json.get<std::uint64_t>() : 0;
    at::Generator gen = cpu_generator(seed);
    const torch::Tensor fixed_noise = c.t("fixed_noise");
    const torch::Tensor samples = c.t("samples");
    // The x0 estimate step() returns: pred_original_sample, or LCM's `denoised`.
    const std::string pred_name = c.has("pred_original_sample") ? "pred_original_sample"
                                  : c.has("denoised")           ? "denoised"
                                                                : "";
    const torch::Tensor preds = pred_name.empty() ? torch::Tensor() : c.t(pred_name);
    double sample_diff = 0, pred_diff = 0;
    std::vector<std::int64_t> drawing_calls;
    for (std::int64_t k = 0; k < sched->num_timesteps(); ++k) {
      const torch::Tensor before = gen.get_state();
      const torch::Tensor eps = 0.5 * sched->scale_model_input(latents, k) + fixed_noise[k];
      const StepOutput out = sched->step(eps, k, latents, &gen);
      if (!torch::equal(before, gen.get_state())) drawing_calls.push_back(k);
      latents = out.prev_sample;
      sample_diff = std::max(sample_diff, max_abs_diff(latents, samples[k]));
      if (preds.defined()) pred_diff = std::max(pred_diff, max_abs_diff(out.pred_original_sample, preds[k]));
    }
    const double final_diff = max_abs_diff(latents, c.t("final_latents"));
    MESSAGE(c.name << ": max |samples diff| " << sample_diff << ", final " << final_diff << ", "
                   << (pred_name.empty() ? "(no x0 stored)" : pred_name) << " " << pred_diff);
    CHECK(sample_diff <= 1e-4);
    CHECK(final_diff <= 1e-4);
    CHECK(pred_diff <= 1e-4);
    worst[c.variant] = std::max({worst[c.variant], sample_diff, final_diff, pred_diff});

    // The calls that drew, what they drew (bit-exact), and nothing else.
    CHECK(drawing_calls == c.meta.at("step_randn_call_index").get<std::vector<std::int64_t>>());
    const auto draws = c.meta.at("num_step_randn_calls").get<std::int64_t>();
    at::Generator replay = cpu_generator(seed);
    if (draws > 0) {
      const torch::Tensor step_randn = c.t("step_randn");
      REQUIRE(step_randn.size(0) == draws);
      for (std::int64_t i = 0; i < draws; ++i) CHECK(max_abs_diff(draw(replay, initial_noise), step_randn[i]) == 0.0);
    }
    CHECK(max_abs_diff(draw(gen, initial_noise), draw(replay, initial_noise)) == 0.0);

    // set_timesteps resets every history: a second run on the same object is the same run.
    sched->set_timesteps(c.steps);
    at::Generator gen2 = cpu_generator(seed);
    torch::Tensor again = initial_noise * sched->init_noise_sigma();
    for (std::int64_t k = 0; k < sched->num_timesteps(); ++k) {
      again = sched->step(0.5 * sched->scale_model_input(again, k) + fixed_noise[k], k, again, &gen2).prev_sample;
    }
    CHECK(max_abs_diff(again, latents) == 0.0);
  }
  for (const auto& [variant, diff] : worst) MESSAGE("worst abs diff " << variant << ": " << diff);
}

TEST_CASE("few-step samplers: names, evaluations per step, LCM limits, img2img start") {
  const SchedulerConfig config = golden_config("sd15_eps");
  CHECK(parse_scheduler_name("DPM++ 2M SDE Karras") == SchedulerKind::DPMPP2MSDEKarras);
  CHECK(parse_scheduler_name("dpmpp_2m_sde") == SchedulerKind::DPMPP2MSDE);
  CHECK(parse_scheduler_name("DPM2 a Karras") == SchedulerKind::DPM2AncestralKarras);
  CHECK(parse_scheduler_name("kdpm2_a") == SchedulerKind::DPM2Ancestral);
  CHECK(parse_scheduler_name("KDPM2DiscreteScheduler") == SchedulerKind::DPM2);
  CHECK(parse_scheduler_name("Heun") == SchedulerKind::Heun);
  CHECK(parse_scheduler_name("DEIS") == SchedulerKind::DEIS);
  CHECK(parse_scheduler_name("LCMScheduler") == SchedulerKind::LCM);
  CHECK(parse_scheduler_name("tcd") == SchedulerKind::TCD);
  CHECK(parse_scheduler_name("Euler a Trailing") == SchedulerKind::EulerAncestralTrailing);
  CHECK(evaluations_per_step(SchedulerKind::Heun) == 2);
  CHECK(evaluations_per_step(SchedulerKind::LCM) == 1);
  for (const SchedulerKind kind : kAllSchedulerKinds) {
    CAPTURE(id(kind));
    const auto sched = make_scheduler(kind, config);
    CHECK(sched->kind() == kind);
    sched->set_timesteps(4);
    CHECK(sched->num_timesteps() ==
          (kind == SchedulerKind::PNDM ? 5 : 4 * evaluations_per_step(kind) - (evaluations_per_step(kind) - 1)));
  }

  // LCM samples at most original_inference_steps steps.
  auto lcm = make_scheduler(SchedulerKind::LCM, config);
  CHECK_THROWS_AS(lcm->set_timesteps(51), kiln::InvalidRequestError);
  lcm->set_timesteps(50);
  CHECK(lcm->num_timesteps() == 50);

  // img2img with a two-evaluation sampler starts at t_start * 2, on a predictor call, and runs the
  // remaining calls; from the same state it is reproducible.
  for (const SchedulerKind kind : {SchedulerKind::Heun, SchedulerKind::DPM2, SchedulerKind::DPM2Ancestral}) {
    CAPTURE(id(kind));
    auto sched = make_scheduler(kind, config);
    sched->set_timesteps(6);
    const std::int64_t first = 3 * sched->order();
    sched->set_begin_index(first);
    const torch::Tensor x0 = torch::linspace(-1, 1, 4 * 8 * 8).reshape({1, 4, 8, 8});
    at::Generator gen = cpu_generator(3);
    const torch::Tensor noise = draw(gen, x0);
    torch::Tensor latents = sched->add_noise(x0, noise, sched->timesteps().narrow(0, first, 1));
    CHECK(max_abs_diff(latents, x0 + sched->sigmas()[first].item<double>() * noise) <= 1e-6);
    for (std::int64_t k = first; k < sched->num_timesteps(); ++k) {
      latents = sched->step(0.1 * sched->scale_model_input(latents, k), k, latents, &gen).prev_sample;
    }
    CHECK(torch::isfinite(latents).all().item<bool>());
  }
}
