#include "convert/model_info.h"

#include <nlohmann/json.hpp>

#include <array>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/sha256.h"
#include "io/weight_file.h"

namespace kiln::convert {

namespace fs = std::filesystem;

std::int64_t ModelInfo::parameters() const {
  std::int64_t n = 0;
  for (const auto& c : components) n += c.parameters;
  return n;
}

namespace {

bool is_pipeline(ModelFamily f) {
  switch (f) {
    case ModelFamily::SD1:
    case ModelFamily::SD2:
    case ModelFamily::SDXL:
    case ModelFamily::SDXLRefiner:
    case ModelFamily::SD1Inpaint:
    case ModelFamily::SD2Inpaint: return true;
    default: return false;
  }
}

// Component of a key in single-file (and LoRA) layouts, by prefix.
struct PrefixRule {
  const char* prefix;
  const char* component;
};
constexpr std::array<PrefixRule, 16> kPrefixes{{
    {"model.diffusion_model.", "unet"},
    {"first_stage_model.", "vae"},
    {"cond_stage_model.", "text_encoder"},
    {"conditioner.embedders.0.", "text_encoder"},
    {"conditioner.embedders.1.", "text_encoder_2"},
    {"control_model.", "controlnet"},
    {"model_ema.", "ema"},
    {"lora_unet_", "unet"},
    {"lora_te1_", "text_encoder"},
    {"lora_te2_", "text_encoder_2"},
    {"lora_te_", "text_encoder"},
    {"unet.", "unet"},
    {"text_encoder_2.", "text_encoder_2"},
    {"text_encoder.", "text_encoder"},
    {"base_model.model.", "unet"},
    {"controlnet.", "controlnet"},
}};

std::string lone_component_name(ModelFamily f) {
  switch (f) {
    case ModelFamily::ControlNetSD1:
    case ModelFamily::ControlNetSD2:
    case ModelFamily::ControlNetSDXL: return "controlnet";
    case ModelFamily::VAE: return "vae";
    case ModelFamily::TextEncoder: return "text_encoder";
    case ModelFamily::LoRASD1:
    case ModelFamily::LoRASD2:
    case ModelFamily::LoRASDXL: return "lora";
    default: return "unet";
  }
}

std::string class_for(const std::string& component, ModelFamily family) {
  if (component == "unet") return "UNet2DConditionModel";
  if (component == "vae") return "AutoencoderKL";
  if (component == "controlnet") return "ControlNetModel";
  if (component == "text_encoder_2") return "CLIPTextModelWithProjection";
  if (component == "text_encoder") return "CLIPTextModel";
  return {};
}

void add_entry(ComponentInfo& c, const io::TensorEntry& e) {
  c.parameters += e.numel();
  c.tensors += 1;
  c.dtypes[std::string(to_string(e.dtype))] += e.numel();
}

std::vector<ComponentInfo> split_single_file(const io::TensorIndex& index, const FamilyDetection& detection) {
  std::vector<ComponentInfo> out;
  auto get = [&](const std::string& name) -> ComponentInfo& {
    for (auto& c : out) {
      if (c.name == name) return c;
    }
    ComponentInfo c;
    c.name = name;
    c.class_name = class_for(name, detection.family);
    out.push_back(std::move(c));
    return out.back();
  };
  const bool pipeline = is_pipeline(detection.family);
  const bool lora = detection.family == ModelFamily::LoRASD1 || detection.family == ModelFamily::LoRASD2 ||
                    detection.family == ModelFamily::LoRASDXL;
  for (const auto& e : index.entries()) {
    std::string component;
    for (const auto& rule : kPrefixes) {
      if (e.name.rfind(rule.prefix, 0) == 0) {
        component = rule.component;
        break;
      }
    }
    // A lone component keeps its keys unprefixed; what a full checkpoint holds beside its
    // components (noise schedule buffers, ...) is "other".
    if (component.empty()) component = pipeline ? "other" : lone_component_name(detection.family);
    if (!pipeline && !lora && component != "ema") component = lone_component_name(detection.family);
    add_entry(get(component), e);
  }
  if (lora) {
    for (auto& c : out) c.class_name = "LoRA";
  }
  return out;
}

}  // namespace

ModelInfo inspect_model(const fs::path& path, const InspectOptions& options) {
  ModelInfo info;
  info.path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileError("no such file or folder", path);

  if (fs::is_directory(path, ec)) {
    info.is_folder = true;
    info.format = "diffusers";
    const auto folder = io::DiffusersFolder::open(path);
    info.detection = detect_family(folder.combined_index(), path);
    for (const auto& c : folder.components()) {
      if (!c.has_weights()) continue;
      ComponentInfo ci;
      ci.name = c.name;
      ci.class_name = c.class_name;
      for (const auto& e : c.index.entries()) add_entry(ci, e);
      info.components.push_back(std::move(ci));
      for (const auto& f : c.weight_files) info.size_bytes += fs::file_size(f, ec);
    }
    if (folder.is_pipeline()) {
      if (auto v = folder.model_index().find("_diffusers_version"); v != folder.model_index().end() && v->is_string()) {
        info.metadata["diffusers_version"] = v->get<std::string>();
      }
    }
    // The file A1111-style tools would hash: the UNet's (or ControlNet's) weights.
    const io::DiffusersComponent* main = nullptr;
    for (const char* name : {"unet", "controlnet"}) {
      if (!main) main = folder.component(name);
    }
    for (const auto& c : folder.components()) {
      if (!main && c.has_weights()) main = &c;
    }
    if (main && main->has_weights()) info.hashed_file = main->weight_files.front();
    info.prediction = detect_prediction_type(path);
  } else {
    const auto file = io::open_weight_file(path);
    info.format = io::to_string(file->format());
    info.size_bytes = fs::file_size(path, ec);
    info.detection = detect_family(file->index(), path);
    info.components = split_single_file(file->index(), info.detection);
    info.metadata = file->metadata();
    info.warnings = file->warnings();
    info.hashed_file = path;
    info.prediction = detect_prediction_type(path, info.metadata);
  }
  if (options.hash && !info.hashed_file.empty()) {
    std::string digest = io::sha256_file_cached(info.hashed_file, options.stop, options.hash_progress);
    if (!digest.empty()) info.sha256 = std::move(digest);
  }
  return info;
}

nlohmann::ordered_json to_json(const ModelInfo& info) {
  nlohmann::ordered_json j;
  j["path"] = info.path.string();
  j["family"] = std::string(to_string(info.detection.family));
  j["family_name"] = std::string(display_name(info.detection.family));
  j["layout"] = std::string(to_string(info.detection.layout));
  j["format"] = info.format;
  j["prediction_type"] = std::string(to_string(info.prediction.type));
  j["prediction_type_source"] = info.prediction.source.empty() ? nlohmann::ordered_json(nullptr)
                                                               : nlohmann::ordered_json(info.prediction.source);
  j["parameters"] = info.parameters();
  j["size_bytes"] = info.size_bytes;
  auto comps = nlohmann::ordered_json::array();
  for (const auto& c : info.components) {
    nlohmann::ordered_json cj;
    cj["name"] = c.name;
    cj["class"] = c.class_name;
    cj["parameters"] = c.parameters;
    cj["tensors"] = c.tensors;
    cj["dtypes"] = c.dtypes;
    comps.push_back(std::move(cj));
  }
  j["components"] = std::move(comps);
  j["metadata"] = info.metadata;
  j["sha256"] = info.sha256 ? nlohmann::ordered_json(*info.sha256) : nlohmann::ordered_json(nullptr);
  j["short_hash"] = info.sha256 ? nlohmann::ordered_json(info.short_hash()) : nlohmann::ordered_json(nullptr);
  j["hashed_file"] = info.hashed_file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(info.hashed_file.string());
  j["evidence"] = info.detection.evidence;
  j["warnings"] = info.warnings;
  return j;
}

}  // namespace kiln::convert
