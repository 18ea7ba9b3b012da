#pragma once
// The noise schedule of a model: the fields of a diffusers scheduler_config.json that every
// algorithm shares. The algorithm's own options (solver order, Karras sigmas, ...) come with
// SchedulerKind, as in AUTOMATIC1111, so a model's PNDM config can drive any sampler.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace kiln::schedulers {

enum class BetaSchedule : std::uint8_t { Linear, ScaledLinear, SquaredCosCapV2 };
// What the model predicts: the noise, v = sqrt(acp) * noise - sqrt(1 - acp) * x0, or x0.
enum class PredictionType : std::uint8_t { Epsilon, VPrediction, Sample };
// Table 2 of "Common Diffusion Noise Schedules and Sample Steps are Flawed".
enum class TimestepSpacing : std::uint8_t { Linspace, Leading, Trailing };
// DDPM's posterior variance.
enum class VarianceType : std::uint8_t { FixedSmall, FixedSmallLog, FixedLarge };

const char* to_string(BetaSchedule value);     // diffusers' spelling: "scaled_linear", ...
const char* to_string(PredictionType value);   // "epsilon", "v_prediction", "sample"
const char* to_string(TimestepSpacing value);  // "linspace", "leading", "trailing"
const char* to_string(VarianceType value);     // "fixed_small", ...

struct SchedulerConfig {
  std::int64_t num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  BetaSchedule beta_schedule = BetaSchedule::Linear;
  PredictionType prediction_type = PredictionType::Epsilon;
  std::int64_t steps_offset = 0;
  // Absent: the class default (DDIM true, PNDM false). The alpha "before" timestep 0.
  std::optional<bool> set_alpha_to_one;
  // Absent: the class default (DDPM and DDIM true). Clamps x0 to +-clip_sample_range.
  std::optional<bool> clip_sample;
  double clip_sample_range = 1.0;
  // Absent: the class default (DDPM/DDIM/PNDM leading, the others linspace).
  std::optional<TimestepSpacing> timestep_spacing;
  VarianceType variance_type = VarianceType::FixedSmall;
  // LCM / TCD: the distillation schedule's length (absent: 50, the class default) and the
  // consistency boundary condition's timestep scale (LCM only).
  std::optional<std::int64_t> original_inference_steps;
  double timestep_scaling = 10.0;

  // Like diffusers' `from_config`: keys absent from the file (or null) keep the defaults above;
  // keys of other algorithms are ignored. Unsupported values (trained_betas, thresholding,
  // rescale_betas_zero_snr, learned variance, unknown names) and wrong JSON types throw
  // kiln::FormatError naming the key (and `path` when given).
  static SchedulerConfig from_json(const nlohmann::json& config, const std::filesystem::path& path = {});
  // Parses scheduler_config.json text first. Python's json writes the non-standard tokens
  // -Infinity/Infinity/NaN (DPMSolver's lambda_min_clipped); they are read as null.
  static SchedulerConfig from_json_text(std::string_view text, const std::filesystem::path& path = {});

  // Stable Diffusion 1.x (and 2.x base): scaled_linear 0.00085..0.012, steps_offset 1,
  // set_alpha_to_one false, clip_sample false.
  static SchedulerConfig stable_diffusion(PredictionType prediction = PredictionType::Epsilon);
};

}  // namespace kiln::schedulers
