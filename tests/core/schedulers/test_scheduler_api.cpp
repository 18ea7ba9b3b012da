// Names, configs, request validation and the step protocol of core/schedulers.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

#include "base/error.h"
#include "schedulers/ddim_scheduler.h"
#include "schedulers/scheduler_factory.h"
#include "support/test_support.h"

using json = nlohmann::json;
using namespace kiln::schedulers;

namespace {

// A dtype as text (doctest cannot print c10::ScalarType: c10::toString returns const char*).
std::string dtype_name(const torch::Tensor& t) { return c10::toString(t.scalar_type()); }

at::Generator cpu_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(no error)";
}

template <typename F>
kiln::ErrorKind error_kind(F&& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.kind();
  }
  FAIL("no error");
  return kiln::ErrorKind::File;
}

}  // namespace

TEST_CASE("scheduler ids and AUTOMATIC1111 names") {
  const std::pair<SchedulerKind, const char*> expected[] = {
      {SchedulerKind::DDPM, "ddpm"},        {SchedulerKind::DDIM, "ddim"},
      {SchedulerKind::PNDM, "pndm"},        {SchedulerKind::LMS, "lms"},
      {SchedulerKind::Euler, "euler"},      {SchedulerKind::EulerAncestral, "euler_a"},
      {SchedulerKind::DPMPP2M, "dpmpp_2m"}, {SchedulerKind::DPMPP2MKarras, "dpmpp_2m_karras"},
      {SchedulerKind::UniPC, "unipc"},
  };
  for (const auto& [kind, name] : expected) {
    CHECK(id(kind) == name);
    CHECK(parse_scheduler_name(name) == kind);
    CHECK(parse_scheduler_name(display_name(kind)) == kind);
  }
  CHECK(display_name(SchedulerKind::DDPM) == "DDPM");
  CHECK(display_name(SchedulerKind::DDIM) == "DDIM");
  CHECK(display_name(SchedulerKind::PNDM) == "PLMS");
  CHECK(display_name(SchedulerKind::LMS) == "LMS");
  CHECK(display_name(SchedulerKind::Euler) == "Euler");
  CHECK(display_name(SchedulerKind::EulerAncestral) == "Euler a");
  CHECK(display_name(SchedulerKind::DPMPP2M) == "DPM++ 2M");
  CHECK(display_name(SchedulerKind::DPMPP2MKarras) == "DPM++ 2M Karras");
  CHECK(display_name(SchedulerKind::UniPC) == "UniPC");

  CHECK(parse_scheduler_name("plms") == SchedulerKind::PNDM);
  CHECK(parse_scheduler_name("PLMS") == SchedulerKind::PNDM);
  CHECK(parse_scheduler_name("Euler a") == SchedulerKind::EulerAncestral);
  CHECK(parse_scheduler_name("EULER_A") == SchedulerKind::EulerAncestral);
  CHECK(parse_scheduler_name("euler-a") == SchedulerKind::EulerAncestral);
  CHECK(parse_scheduler_name("euler") == SchedulerKind::Euler);
  CHECK(parse_scheduler_name("DPM++ 2M") == SchedulerKind::DPMPP2M);
  CHECK(parse_scheduler_name("dpm++ 2m karras") == SchedulerKind::DPMPP2MKarras);
  CHECK(parse_scheduler_name("DPMPP-2M-KARRAS") == SchedulerKind::DPMPP2MKarras);
  CHECK(parse_scheduler_name("dpmpp-2m") == SchedulerKind::DPMPP2M);
  CHECK(parse_scheduler_name("UNIPC") == SchedulerKind::UniPC);
  CHECK(parse_scheduler_name("Ddim") == SchedulerKind::DDIM);
  CHECK(parse_scheduler_name("lms") == SchedulerKind::LMS);
  CHECK(parse_scheduler_name("EulerAncestralDiscreteScheduler") == SchedulerKind::EulerAncestral);
  CHECK(parse_scheduler_name("DPMSolverMultistepScheduler") == SchedulerKind::DPMPP2M);
  CHECK(parse_scheduler_name("PNDMScheduler") == SchedulerKind::PNDM);

  const auto unknown = [] { parse_scheduler_name("DPM fast"); };
  CHECK(error_kind(unknown) == kiln::ErrorKind::InvalidRequest);
  CHECK(error_message(unknown) ==
        "scheduler: unknown name \"DPM fast\" (accepted: ddpm, ddim, pndm (plms), lms, euler, euler_a, dpmpp_2m, "
        "dpmpp_2m_karras, unipc, euler_trailing, euler_a_trailing, heun, heun_karras, dpm2, dpm2_karras, dpm2_a, "
        "dpm2_a_karras, dpmpp_2m_sde, dpmpp_2m_sde_karras, dpmpp_2s, dpmpp_2s_karras, dpmpp_2s_sde, deis, "
        "deis_karras, lcm, tcd or \"DDPM\", \"DDIM\", \"PLMS\", \"LMS\", \"Euler\", \"Euler a\", \"DPM++ 2M\", "
        "\"DPM++ 2M Karras\", \"UniPC\", \"Euler Trailing\", \"Euler a Trailing\", \"Heun\", \"Heun Karras\", "
        "\"DPM2\", \"DPM2 Karras\", \"DPM2 a\", \"DPM2 a Karras\", \"DPM++ 2M SDE\", \"DPM++ 2M SDE Karras\", "
        "\"DPM++ 2S\", \"DPM++ 2S Karras\", \"DPM++ 2S SDE\", \"DEIS\", \"DEIS Karras\", \"LCM\", \"TCD\")");
  CHECK(error_kind([] { parse_scheduler_name(""); }) == kiln::ErrorKind::InvalidRequest);
  CHECK(error_kind([] { parse_scheduler_name("euler_aa"); }) == kiln::ErrorKind::InvalidRequest);
}

TEST_CASE("steps outside 1..num_train_timesteps") {
  for (const SchedulerKind kind : kAllSchedulerKinds) {
    CAPTURE(id(kind));
    auto sched = make_scheduler(kind, SchedulerConfig::stable_diffusion());
    CHECK(error_kind([&] { sched->set_timesteps(0); }) == kiln::ErrorKind::InvalidRequest);
    CHECK(error_message([&] { sched->set_timesteps(0); }) == "steps 0 is out of range 1..1000");
    CHECK(error_message([&] { sched->set_timesteps(1001); }) == "steps 1001 is out of range 1..1000");
    CHECK(error_message([&] { sched->set_timesteps(-3); }) == "steps -3 is out of range 1..1000");
    CHECK_FALSE(sched->has_timesteps());
    auto plain = make_scheduler(kind, SchedulerConfig{});
    if (kind == SchedulerKind::LCM || kind == SchedulerKind::TCD) {
      // At most original_inference_steps (50) steps of the distillation schedule.
      CHECK(error_message([&] { plain->set_timesteps(51); }) ==
            "steps 51 exceed the model's original_inference_steps 50 (LCM and TCD take at most that many "
            "steps; 4 to 8 are typical)");
      plain->set_timesteps(50);
      CHECK(plain->num_inference_steps() == 50);
    } else {
      plain->set_timesteps(1000);  // every grid without steps_offset stays inside 0..999
      CHECK(plain->num_inference_steps() == 1000);
    }
    CHECK(error_message([&] { (void)sched->timesteps(); }) ==
          "scheduler: timesteps() before set_timesteps (call set_timesteps(steps) first)");
  }
}

TEST_CASE("a schedule that leaves the training range") {
  // Leading spacing adds steps_offset after the grid: 1000 steps reach t = 1000.
  auto ddim = make_scheduler(SchedulerKind::DDIM, SchedulerConfig::stable_diffusion());
  ddim->set_timesteps(20);
  CHECK(error_message([&] { ddim->set_timesteps(1000); }) ==
        "steps 1000 with leading spacing and steps_offset 1 gives timestep 1000, outside 0..999 (use fewer steps or "
        "another timestep spacing)");
  CHECK_FALSE(ddim->has_timesteps());
  ddim->set_timesteps(999);
  CHECK(ddim->timestep(0) == 999.0);
}

TEST_CASE("from_json: absent keys keep each class's defaults") {
  const SchedulerConfig empty = SchedulerConfig::from_json(json::object());
  CHECK(empty.num_train_timesteps == 1000);
  CHECK(empty.beta_start == 0.0001);
  CHECK(empty.beta_end == 0.02);
  CHECK(empty.beta_schedule == BetaSchedule::Linear);
  CHECK(empty.prediction_type == PredictionType::Epsilon);
  CHECK(empty.steps_offset == 0);
  CHECK_FALSE(empty.set_alpha_to_one.has_value());
  CHECK_FALSE(empty.clip_sample.has_value());
  CHECK_FALSE(empty.timestep_spacing.has_value());

  // Class default spacings: leading for DDPM/DDIM/PNDM, linspace for the others.
  const std::pair<SchedulerKind, TimestepSpacing> spacing[] = {
      {SchedulerKind::DDPM, TimestepSpacing::Leading},     {SchedulerKind::DDIM, TimestepSpacing::Leading},
      {SchedulerKind::PNDM, TimestepSpacing::Leading},     {SchedulerKind::LMS, TimestepSpacing::Linspace},
      {SchedulerKind::Euler, TimestepSpacing::Linspace},   {SchedulerKind::EulerAncestral, TimestepSpacing::Linspace},
      {SchedulerKind::DPMPP2M, TimestepSpacing::Linspace}, {SchedulerKind::DPMPP2MKarras, TimestepSpacing::Linspace},
      {SchedulerKind::UniPC, TimestepSpacing::Linspace},
  };
  for (const auto& [kind, expected] : spacing) {
    CHECK(make_scheduler(kind, empty)->timestep_spacing() == expected);
  }

  // A config re-saved by diffusers 0.32 spells out "leading", which Euler then inherits:
  // integer-valued float timesteps and init_noise_sigma = sqrt(sigma_max^2 + 1).
  json sd = {{"beta_start", 0.00085}, {"beta_end", 0.012}, {"beta_schedule", "scaled_linear"}, {"steps_offset", 1}};
  auto euler = make_scheduler(SchedulerKind::Euler, SchedulerConfig::from_json(sd));
  euler->set_timesteps(20);
  CHECK(euler->timestep(0) == doctest::Approx(999.0));
  CHECK(euler->init_noise_sigma() == doctest::Approx(14.614645).epsilon(1e-6));
  sd["timestep_spacing"] = "leading";
  auto leading = make_scheduler(SchedulerKind::Euler, SchedulerConfig::from_json(sd));
  leading->set_timesteps(20);
  CHECK(dtype_name(leading->timesteps()) == "Float");
  CHECK(leading->timestep(0) == 951.0);
  CHECK(leading->timestep(19) == 1.0);
  const double sigma_max = leading->sigmas().max().item<double>();
  CHECK(leading->init_noise_sigma() == doctest::Approx(std::sqrt(sigma_max * sigma_max + 1)).epsilon(1e-6));

  // DDIM's set_alpha_to_one defaults to true: the last step (prev timestep < 0) then returns x0.
  const auto ddim_last_step = [](const SchedulerConfig& config, double eps) {
    DDIMScheduler ddim(config);
    ddim.set_timesteps(1);
    const torch::Tensor x = torch::ones({1, 1, 1, 1});
    return ddim.step(torch::full({1, 1, 1, 1}, eps), 0, x).prev_sample.item<double>();
  };
  json no_clip = sd;
  no_clip["clip_sample"] = false;
  DDIMScheduler probe(SchedulerConfig::from_json(no_clip));
  probe.set_timesteps(1);
  CHECK(probe.timestep(0) == 1.0);
  const double acp = probe.alphas_cumprod()[1].item<double>();
  const double x0 = (1 - std::sqrt(1 - acp) * 0.5) / std::sqrt(acp);
  CHECK(ddim_last_step(SchedulerConfig::from_json(no_clip), 0.5) == doctest::Approx(x0).epsilon(1e-6));
  no_clip["set_alpha_to_one"] = false;
  CHECK(ddim_last_step(SchedulerConfig::from_json(no_clip), 0.5) != doctest::Approx(x0).epsilon(1e-6));
  // clip_sample defaults to true for DDIM: x0 = 1.02 is clamped to 1.
  json clip = sd;
  clip.erase("clip_sample");
  CHECK(ddim_last_step(SchedulerConfig::from_json(clip), -0.5) == doctest::Approx(1.0).epsilon(1e-6));
  clip["clip_sample"] = false;
  CHECK(ddim_last_step(SchedulerConfig::from_json(clip), -0.5) > 1.01);

  // Python json's -Infinity (DPMSolver's lambda_min_clipped) and keys of other algorithms.
  const SchedulerConfig dpm = SchedulerConfig::from_json_text(
      R"({"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "solver_order": 2,
          "prediction_type": "v_prediction", "timestep_spacing": "trailing", "note": "-Infinity stays a string"})");
  CHECK(dpm.prediction_type == PredictionType::VPrediction);
  CHECK(dpm.timestep_spacing == TimestepSpacing::Trailing);
}

TEST_CASE("from_json: wrong types and unsupported values") {
  const auto msg = [](const json& j) { return error_message([&] { SchedulerConfig::from_json(j); }); };
  CHECK(msg({{"steps_offset", "1"}}) == "scheduler config: steps_offset must be an integer, got \"1\"");
  CHECK(msg({{"beta_start", true}}) == "scheduler config: beta_start must be a number, got true");
  CHECK(msg({{"set_alpha_to_one", 0}}) == "scheduler config: set_alpha_to_one must be true or false, got 0");
  CHECK(msg({{"beta_schedule", "cosine"}}) ==
        "scheduler config: unsupported beta_schedule \"cosine\" (expected one of linear, scaled_linear, "
        "squaredcos_cap_v2)");
  CHECK(msg({{"timestep_spacing", "uniform"}}) ==
        "scheduler config: unsupported timestep_spacing \"uniform\" (expected one of linspace, leading, trailing)");
  CHECK(msg({{"prediction_type", "flow_prediction"}}) ==
        "scheduler config: unsupported prediction_type \"flow_prediction\" (expected one of epsilon, v_prediction, "
        "sample)");
  CHECK(msg({{"rescale_betas_zero_snr", true}}) == "scheduler config: rescale_betas_zero_snr = true is not supported");
  CHECK(msg({{"thresholding", true}}) == "scheduler config: thresholding = true is not supported");
  CHECK(msg(json::array()) == "scheduler config is not a JSON object");
  CHECK(error_kind([] { SchedulerConfig::from_json({{"trained_betas", {0.1, 0.2}}}); }) == kiln::ErrorKind::Format);
  CHECK(error_kind([] { SchedulerConfig::from_json_text("{"); }) == kiln::ErrorKind::Format);
  // Found by fuzz_scheduler_config: a number too large for a double ended the program.
  CHECK(error_kind([] { SchedulerConfig::from_json_text(R"({"beta_end": 1e410})"); }) == kiln::ErrorKind::Format);
  CHECK(error_kind([] {
          SchedulerConfig::from_json_text(
              kiln::test::read_text(kiln::test::data_dir() / "fuzz_regressions/scheduler_config_number_overflow.json"));
        }) == kiln::ErrorKind::Format);
  CHECK(SchedulerConfig::from_json({{"trained_betas", nullptr}, {"num_train_timesteps", 1000.0}}).num_train_timesteps ==
        1000);
}

TEST_CASE("prediction types each algorithm supports") {
  SchedulerConfig sample = SchedulerConfig::stable_diffusion(PredictionType::Sample);
  CHECK(error_message([&] { make_scheduler(SchedulerKind::PNDM, sample); }) ==
        "PLMS (PNDM) does not support prediction_type \"sample\"");
  CHECK(error_message([&] { make_scheduler(SchedulerKind::EulerAncestral, sample); }) ==
        "Euler a does not support prediction_type \"sample\"");
  // With "sample" the model output is the x0 estimate itself; the samplers that end at sigma 0
  // (Euler, LMS, DPM++, UniPC) return the last one.
  for (const SchedulerKind kind : {SchedulerKind::DDPM, SchedulerKind::DDIM, SchedulerKind::Euler, SchedulerKind::LMS,
                                   SchedulerKind::DPMPP2M, SchedulerKind::UniPC}) {
    CAPTURE(id(kind));
    auto sched = make_scheduler(kind, sample);
    sched->set_timesteps(10);
    at::Generator gen = cpu_generator(5);
    torch::Tensor x = torch::ones({1, 4, 4, 4}) * sched->init_noise_sigma();
    const torch::Tensor x0 = torch::full({1, 4, 4, 4}, 0.25);
    for (std::int64_t k = 0; k < sched->num_timesteps(); ++k) {
      const StepOutput out = sched->step(x0, k, x, &gen);
      CHECK(torch::equal(out.pred_original_sample, x0));
      x = out.prev_sample;
    }
    if (kind != SchedulerKind::DDPM && kind != SchedulerKind::DDIM) {
      CHECK(x.sub(0.25).abs().max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("timestep spacings") {
  SchedulerConfig config = SchedulerConfig::stable_diffusion();
  config.timestep_spacing = TimestepSpacing::Trailing;
  auto ddim = make_scheduler(SchedulerKind::DDIM, config);
  ddim->set_timesteps(10);
  CHECK(ddim->timestep_values() == std::vector<double>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99});
  auto euler = make_scheduler(SchedulerKind::Euler, config);
  euler->set_timesteps(3);
  CHECK(euler->timestep_values() == std::vector<double>{999, 666, 332});  // round(1000, 666.67, 333.33) - 1
  CHECK(euler->init_noise_sigma() == doctest::Approx(euler->sigmas()[0].item<double>()));
  auto pndm = make_scheduler(SchedulerKind::PNDM, config);
  pndm->set_timesteps(4);
  CHECK(pndm->timestep_values() == std::vector<double>{999, 749, 749, 499, 249});

  config.timestep_spacing = TimestepSpacing::Leading;
  auto dpm = make_scheduler(SchedulerKind::DPMPP2M, config);
  dpm->set_timesteps(4);
  CHECK(dpm->timestep_values() == std::vector<double>{801, 601, 401, 201});  // 1000 // 5 = 200, + steps_offset

  config.timestep_spacing = TimestepSpacing::Linspace;
  auto ddpm = make_scheduler(SchedulerKind::DDPM, config);
  ddpm->set_timesteps(4);
  CHECK(ddpm->timestep_values() == std::vector<double>{999, 666, 333, 0});

  // One step: PNDM has no repeated timestep then; every algorithm runs it.
  for (const SchedulerKind kind : kAllSchedulerKinds) {
    CAPTURE(id(kind));
    auto sched = make_scheduler(kind, SchedulerConfig::stable_diffusion());
    sched->set_timesteps(1);
    CHECK(sched->num_timesteps() == 1);
    at::Generator gen = cpu_generator(3);
    const torch::Tensor x = torch::randn({1, 4, 4, 4}, gen) * sched->init_noise_sigma();
    const torch::Tensor out = sched->step(0.5 * sched->scale_model_input(x, 0), 0, x, &gen).prev_sample;
    CHECK(torch::isfinite(out).all().item<bool>());
  }
}

TEST_CASE("steps run in order from the begin index") {
  auto sched = make_scheduler(SchedulerKind::DPMPP2M, SchedulerConfig::stable_diffusion());
  sched->set_timesteps(10);
  const torch::Tensor x = torch::zeros({1, 4, 2, 2});
  CHECK_FALSE(sched->step_index().has_value());
  sched->set_begin_index(4);
  CHECK(error_message([&] { sched->step(x, 3, x); }) ==
        "scheduler: the first step is at index 3 but the begin index is 4");
  sched->step(x, 4, x);
  CHECK(sched->step_index() == 5);
  CHECK(error_message([&] { sched->step(x, 7, x); }) ==
        "scheduler: step index 7 out of order, expected 5 (steps run in order; call set_timesteps again to restart)");
  CHECK(error_kind([&] { sched->set_begin_index(2); }) == kiln::ErrorKind::InvalidRequest);
  CHECK(error_message([&] { sched->scale_model_input(x, 10); }) ==
        "scheduler: scale_model_input index 10 is out of range 0..9");
  CHECK(error_kind([&] { sched->step(torch::zeros({1, 4, 2, 3}), 5, x); }) == kiln::ErrorKind::InvalidRequest);
  // set_timesteps starts over: a first step anywhere.
  sched->set_timesteps(10);
  CHECK_FALSE(sched->begin_index().has_value());
  sched->step(x, 2, x);
  CHECK(sched->step_index() == 3);

  // add_noise of a value that is not in the schedule.
  auto euler = make_scheduler(SchedulerKind::Euler, SchedulerConfig::stable_diffusion());
  euler->set_timesteps(10);
  CHECK(error_kind([&] { euler->add_noise(x, x, torch::tensor({5.0f})); }) == kiln::ErrorKind::InvalidRequest);
  // Training timesteps outside 0..N-1.
  CHECK(error_kind([&] { euler->get_velocity(x, x, torch::tensor({1000}, torch::kLong)); }) ==
        kiln::ErrorKind::InvalidRequest);
}

TEST_CASE("DDIM eta draws its noise from the caller's generator") {
  DDIMScheduler ddim(SchedulerConfig::stable_diffusion());
  CHECK(error_kind([&] { ddim.set_eta(1.5); }) == kiln::ErrorKind::InvalidRequest);
  ddim.set_eta(1.0);
  const auto run = [&](std::uint64_t seed) {
    ddim.set_timesteps(5);
    at::Generator gen = cpu_generator(seed);
    torch::Tensor x = torch::ones({1, 4, 2, 2});
    for (std::int64_t k = 0; k < ddim.num_timesteps(); ++k) x = ddim.step(0.5 * x, k, x, &gen).prev_sample;
    return x;
  };
  CHECK(torch::equal(run(1), run(1)));
  CHECK_FALSE(torch::equal(run(1), run(2)));
}
