#pragma once
// Everything Kiln can tell about a model on disk without loading it: what `kiln-cli info`
// prints and the Models page shows.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "convert/model_family.h"
#include "convert/prediction_type.h"

namespace kiln::convert {

struct ComponentInfo {
  std::string name;        // "unet", "vae", "text_encoder", "text_encoder_2", "controlnet", "lora", ...
  std::string class_name;  // diffusers/transformers class when known ("UNet2DConditionModel")
  std::int64_t parameters = 0;
  std::size_t tensors = 0;
  std::map<std::string, std::int64_t> dtypes;  // "F16" -> parameter count
};

struct ModelInfo {
  std::filesystem::path path;
  bool is_folder = false;
  std::string format;  // "safetensors", "ckpt" (torch zip), "diffusers"
  std::uint64_t size_bytes = 0;
  FamilyDetection detection;
  PredictionTypeSource prediction;
  std::vector<ComponentInfo> components;
  std::map<std::string, std::string> metadata;
  std::optional<std::string> sha256;  // of the file; for a folder, of its main weights file
  std::filesystem::path hashed_file;
  std::vector<std::string> warnings;

  std::int64_t parameters() const;
  // AUTOMATIC1111's short hash: first 10 hex digits of the sha256.
  std::string short_hash() const { return sha256 ? sha256->substr(0, 10) : std::string(); }
};

struct InspectOptions {
  bool hash = true;
  std::stop_token stop;
  std::function<void(std::uint64_t done, std::uint64_t total)> hash_progress;
};

// Throws kiln::Error naming the path when it is not a model Kiln can read.
ModelInfo inspect_model(const std::filesystem::path& path, const InspectOptions& options = {});

nlohmann::ordered_json to_json(const ModelInfo& info);

}  // namespace kiln::convert
