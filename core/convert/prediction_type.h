#pragma once
// Epsilon vs v-prediction cannot be read from tensor names: it comes from a diffusers
// folder's scheduler config, a file's metadata, or a `.yaml` beside a single file (as
// AUTOMATIC1111 reads it: `parameterization: "v"`).

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace kiln::convert {

enum class PredictionType { Epsilon, VPrediction, Unknown };
std::string_view to_string(PredictionType type);  // epsilon, v_prediction, unknown

struct PredictionTypeSource {
  PredictionType type = PredictionType::Unknown;
  std::string source;  // e.g. "scheduler/scheduler_config.json", "metadata ss_v_parameterization", "model.yaml"
};

// `model` is a diffusers folder or a single file; `metadata` the file's safetensors metadata.
PredictionTypeSource detect_prediction_type(const std::filesystem::path& model,
                                            const std::map<std::string, std::string>& metadata = {});

}  // namespace kiln::convert
