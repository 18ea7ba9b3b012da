#include "convert/prediction_type.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <regex>

namespace kiln::convert {

namespace fs = std::filesystem;

std::string_view to_string(PredictionType type) {
  switch (type) {
    case PredictionType::Epsilon: return "epsilon";
    case PredictionType::VPrediction: return "v_prediction";
    case PredictionType::Unknown: return "unknown";
  }
  return "unknown";
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

PredictionType from_word(const std::string& raw) {
  const std::string v = lower(raw);
  if (v == "v" || v == "v_prediction" || v == "v-prediction" || v == "vpred" || v == "v_pred") return PredictionType::VPrediction;
  if (v == "epsilon" || v == "eps" || v == "noise") return PredictionType::Epsilon;
  return PredictionType::Unknown;
}

// A1111 reads `<model>.yaml` beside the file; LDM configs say `parameterization: "v"` for
// v-prediction and nothing (meaning eps) otherwise.
PredictionTypeSource from_yaml(const fs::path& yaml) {
  std::ifstream in(yaml);
  std::string line;
  static const std::regex kParam(R"(^\s*parameterization\s*:\s*["']?([A-Za-z_\-]+)["']?\s*(#.*)?$)");
  bool looks_like_ldm = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kParam)) {
      return {from_word(m[1].str()), yaml.filename().string() + " (parameterization: " + m[1].str() + ")"};
    }
    if (line.find("target:") != std::string::npos || line.find("unet_config") != std::string::npos) looks_like_ldm = true;
  }
  if (looks_like_ldm) return {PredictionType::Epsilon, yaml.filename().string() + " (no parameterization: epsilon)"};
  return {};
}

}  // namespace

PredictionTypeSource detect_prediction_type(const fs::path& model, const std::map<std::string, std::string>& metadata) {
  std::error_code ec;
  if (fs::is_directory(model, ec)) {
    const fs::path sched = model / "scheduler" / "scheduler_config.json";
    if (fs::is_regular_file(sched, ec)) {
      std::ifstream in(sched);
      const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (config.is_object()) {
        // diffusers schedulers default to epsilon when the key is absent.
        const std::string value = config.value("prediction_type", std::string("epsilon"));
        return {from_word(value), "scheduler/scheduler_config.json (prediction_type: " + value + ")"};
      }
    }
    return {};
  }
  for (const char* key : {"prediction_type", "modelspec.prediction_type", "kiln.prediction_type"}) {
    if (auto it = metadata.find(key); it != metadata.end()) {
      const auto type = from_word(it->second);
      if (type != PredictionType::Unknown) return {type, std::string("metadata ") + key};
    }
  }
  // kohya's training scripts record v-parameterization as "True"/"False".
  if (auto it = metadata.find("ss_v_parameterization"); it != metadata.end()) {
    const std::string v = lower(it->second);
    if (v == "true") return {PredictionType::VPrediction, "metadata ss_v_parameterization"};
  }
  for (const char* ext : {".yaml", ".yml"}) {
    fs::path yaml = model;
    yaml.replace_extension(ext);
    if (fs::is_regular_file(yaml, ec)) {
      auto found = from_yaml(yaml);
      if (found.type != PredictionType::Unknown) return found;
    }
  }
  return {};
}

}  // namespace kiln::convert
