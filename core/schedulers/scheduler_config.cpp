#include "schedulers/scheduler_config.h"

#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/python_json.h"

namespace kiln::schedulers {

using json = nlohmann::json;

const char* to_string(BetaSchedule value) {
  switch (value) {
    case BetaSchedule::Linear:
      return "linear";
    case BetaSchedule::ScaledLinear:
      return "scaled_linear";
    case BetaSchedule::SquaredCosCapV2:
      return "squaredcos_cap_v2";
  }
  return "?";
}

const char* to_string(PredictionType value) {
  switch (value) {
    case PredictionType::Epsilon:
      return "epsilon";
    case PredictionType::VPrediction:
      return "v_prediction";
    case PredictionType::Sample:
      return "sample";
  }
  return "?";
}

const char* to_string(TimestepSpacing value) {
  switch (value) {
    case TimestepSpacing::Linspace:
      return "linspace";
    case TimestepSpacing::Leading:
      return "leading";
    case TimestepSpacing::Trailing:
      return "trailing";
  }
  return "?";
}

const char* to_string(VarianceType value) {
  switch (value) {
    case VarianceType::FixedSmall:
      return "fixed_small";
    case VarianceType::FixedSmallLog:
      return "fixed_small_log";
    case VarianceType::FixedLarge:
      return "fixed_large";
  }
  return "?";
}

namespace {

// The value of `key`, or nullptr when absent or null (both mean "default").
const json* find(const json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] void bad_type(const char* key, const char* expected, const json& value,
                           const std::filesystem::path& path) {
  throw FormatError(std::string("scheduler config: ") + key + " must be " + expected + ", got " + value.dump(), path);
}

std::int64_t int_field(const json& config, const char* key, std::int64_t fallback, const std::filesystem::path& path) {
  const json* v = find(config, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  // Python writes 1000.0 for floats that hold whole numbers in some hand-edited configs.
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
  }
  bad_type(key, "an integer", *v, path);
}

double number_field(const json& config, const char* key, double fallback, const std::filesystem::path& path) {
  const json* v = find(config, key);
  if (!v) return fallback;
  if (!v->is_number()) bad_type(key, "a number", *v, path);
  return v->get<double>();
}

std::optional<bool> bool_field(const json& config, const char* key, const std::filesystem::path& path) {
  const json* v = find(config, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) bad_type(key, "true or false", *v, path);
  return v->get<bool>();
}

// Maps a string field through `choices` ({spelling, value} pairs).
template <typename Enum, std::size_t N>
std::optional<Enum> enum_field(const json& config, const char* key, const std::pair<const char*, Enum> (&choices)[N],
                               const std::filesystem::path& path) {
  const json* v = find(config, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad_type(key, "a string", *v, path);
  const std::string s = v->get<std::string>();
  std::string accepted;
  for (const auto& [name, value] : choices) {
    if (s == name) return value;
    accepted += (accepted.empty() ? "" : ", ") + std::string(name);
  }
  throw FormatError(std::string("scheduler config: unsupported ") + key + " \"" + s + "\"", path,
                    "expected one of " + accepted);
}

void reject_if_true(const json& config, const char* key, const std::filesystem::path& path) {
  if (bool_field(config, key, path).value_or(false)) {
    throw FormatError(std::string("scheduler config: ") + key + " = true is not supported", path);
  }
}

constexpr std::pair<const char*, BetaSchedule> kBetaSchedules[] = {
    {"linear", BetaSchedule::Linear},
    {"scaled_linear", BetaSchedule::ScaledLinear},
    {"squaredcos_cap_v2", BetaSchedule::SquaredCosCapV2},
};
constexpr std::pair<const char*, PredictionType> kPredictionTypes[] = {
    {"epsilon", PredictionType::Epsilon},
    {"v_prediction", PredictionType::VPrediction},
    {"sample", PredictionType::Sample},
};
constexpr std::pair<const char*, TimestepSpacing> kSpacings[] = {
    {"linspace", TimestepSpacing::Linspace},
    {"leading", TimestepSpacing::Leading},
    {"trailing", TimestepSpacing::Trailing},
};
constexpr std::pair<const char*, VarianceType> kVarianceTypes[] = {
    {"fixed_small", VarianceType::FixedSmall},
    {"fixed_small_log", VarianceType::FixedSmallLog},
    {"fixed_large", VarianceType::FixedLarge},
};

}  // namespace

SchedulerConfig SchedulerConfig::from_json(const json& config, const std::filesystem::path& path) {
  if (!config.is_object()) throw FormatError("scheduler config is not a JSON object", path);
  SchedulerConfig c;
  c.num_train_timesteps = int_field(config, "num_train_timesteps", c.num_train_timesteps, path);
  if (c.num_train_timesteps < 2) {
    throw FormatError("scheduler config: num_train_timesteps " + std::to_string(c.num_train_timesteps) +
                          " is out of range (at least 2)",
                      path);
  }
  c.beta_start = number_field(config, "beta_start", c.beta_start, path);
  c.beta_end = number_field(config, "beta_end", c.beta_end, path);
  c.beta_schedule = enum_field(config, "beta_schedule", kBetaSchedules, path).value_or(c.beta_schedule);
  c.prediction_type = enum_field(config, "prediction_type", kPredictionTypes, path).value_or(c.prediction_type);
  c.steps_offset = int_field(config, "steps_offset", c.steps_offset, path);
  c.set_alpha_to_one = bool_field(config, "set_alpha_to_one", path);
  c.clip_sample = bool_field(config, "clip_sample", path);
  c.clip_sample_range = number_field(config, "clip_sample_range", c.clip_sample_range, path);
  c.timestep_spacing = enum_field(config, "timestep_spacing", kSpacings, path);
  c.variance_type = enum_field(config, "variance_type", kVarianceTypes, path).value_or(c.variance_type);
  if (find(config, "original_inference_steps")) {
    c.original_inference_steps = int_field(config, "original_inference_steps", 50, path);
    if (*c.original_inference_steps < 1 || *c.original_inference_steps > c.num_train_timesteps) {
      throw FormatError("scheduler config: original_inference_steps " + std::to_string(*c.original_inference_steps) +
                            " is out of range 1.." + std::to_string(c.num_train_timesteps),
                        path);
    }
  }
  c.timestep_scaling = number_field(config, "timestep_scaling", c.timestep_scaling, path);
  if (const json* betas = find(config, "trained_betas")) {
    throw FormatError("scheduler config: trained_betas are not supported", path,
                      "got " + std::to_string(betas->size()) + " values; use beta_start/beta_end/beta_schedule");
  }
  reject_if_true(config, "thresholding", path);
  reject_if_true(config, "rescale_betas_zero_snr", path);
  return c;
}

SchedulerConfig SchedulerConfig::from_json_text(std::string_view text, const std::filesystem::path& path) {
  json config;
  try {
    config = json::parse(sanitize_python_json(text));
  } catch (const json::parse_error& e) {
    throw FormatError(std::string("scheduler config is not valid JSON: ") + e.what(), path);
  } catch (const json::exception& e) {  // found by fuzz_scheduler_config: a number out of range (1e410)
    throw FormatError(std::string("scheduler config holds a value out of range: ") + e.what(), path);
  }
  return from_json(config, path);
}

SchedulerConfig SchedulerConfig::stable_diffusion(PredictionType prediction) {
  SchedulerConfig c;
  c.beta_start = 0.00085;
  c.beta_end = 0.012;
  c.beta_schedule = BetaSchedule::ScaledLinear;
  c.prediction_type = prediction;
  c.steps_offset = 1;
  c.set_alpha_to_one = false;
  c.clip_sample = false;
  return c;
}

}  // namespace kiln::schedulers
