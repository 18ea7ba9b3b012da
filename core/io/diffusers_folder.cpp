#include "io/diffusers_folder.h"

#include <ATen/ATen.h>

#include <fstream>
#include <set>

#include "base/error.h"
#include "base/python_json.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"

namespace kiln::io {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open for reading", path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return json::parse(sanitize_python_json(text));
  } catch (const json::parse_error& e) {
    throw FormatError("not valid JSON (byte " + std::to_string(e.byte) + ")", path);
  } catch (const json::exception& e) {  // a number out of range (1e400)
    throw FormatError(std::string("holds a value out of range (") + e.what() + ")", path);
  }
}

// Stems of weight files, in order of preference (safetensors before pickles).
struct WeightName {
  const char* stem;
  const char* ext;
};
constexpr WeightName kWeightNames[] = {
    {"diffusion_pytorch_model", ".safetensors"},
    {"model", ".safetensors"},
    {"diffusion_pytorch_model", ".bin"},
    {"pytorch_model", ".bin"},
};

constexpr const char* kConfigNames[] = {"config.json", "scheduler_config.json", "tokenizer_config.json",
                                        "preprocessor_config.json"};

TensorIndex index_of_file(const fs::path& file) {
  if (file.extension() == ".safetensors") return read_safetensors_header(file).index;
  return TorchCheckpointFile::open(file)->index();
}

// "diffusion_pytorch_model" + "fp16" + ".safetensors" -> "diffusion_pytorch_model.fp16.safetensors"
std::string file_name(const WeightName& w, const std::string& variant) {
  return std::string(w.stem) + (variant.empty() ? "" : "." + variant) + w.ext;
}

// Index file of sharded weights: "<stem><ext>.index.json", variant "<stem><ext>.index.<variant>.json".
std::string shard_index_name(const WeightName& w, const std::string& variant) {
  return std::string(w.stem) + w.ext + ".index" + (variant.empty() ? "" : "." + variant) + ".json";
}

void load_sharded(DiffusersComponent& c, const fs::path& index_file) {
  const json idx = read_json(index_file);
  auto map = idx.find("weight_map");
  if (map == idx.end() || !map->is_object() || map->empty()) {
    throw FormatError("\"weight_map\" is missing or empty", index_file);
  }
  std::map<std::string, std::set<std::string>> names_by_shard;
  for (auto it = map->begin(); it != map->end(); ++it) {
    if (!it->is_string()) throw FormatError("weight_map entry \"" + it.key() + "\" is not a file name", index_file);
    const std::string shard = it->get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      throw FormatError("weight_map names an invalid shard file \"" + shard + "\"", index_file);
    }
    names_by_shard[shard].insert(it.key());
  }
  for (const auto& [shard, names] : names_by_shard) {
    const fs::path file = c.folder / shard;
    if (!fs::exists(file)) throw FileError("shard \"" + shard + "\" listed in " + index_file.filename().string() + " is missing", file);
    TensorIndex shard_index = index_of_file(file);
    for (const auto& name : names) {
      if (!shard_index.contains(name)) {
        throw FormatError("tensor \"" + name + "\" is listed in " + index_file.filename().string() + " but not in this shard", file);
      }
    }
    for (const auto& e : shard_index.entries()) {
      if (names.count(e.name)) c.index.add(e);
    }
    c.weight_files.push_back(file);
  }
}

// Picks the weights of a component folder: the requested variant first, then plain files,
// then any variant present; single files before shards of the same kind.
void load_weights(DiffusersComponent& c, const std::string& variant) {
  std::vector<std::string> variants;
  if (!variant.empty()) variants.push_back(variant);
  variants.push_back("");
  if (variant != "fp16") variants.push_back("fp16");
  for (const auto& v : variants) {
    for (const auto& w : kWeightNames) {
      const fs::path single = c.folder / file_name(w, v);
      if (fs::is_regular_file(single)) {
        c.weight_files = {single};
        c.index = index_of_file(single);
        c.variant = v;
        return;
      }
      const fs::path sharded = c.folder / shard_index_name(w, v);
      if (fs::is_regular_file(sharded)) {
        load_sharded(c, sharded);
        c.variant = v;
        return;
      }
    }
  }
  throw FormatError("no weights found (looked for diffusion_pytorch_model.safetensors, model.safetensors, "
                    "their .fp16 variants, sharded *.safetensors.index.json and .bin files)",
                    c.folder);
}

void read_component(DiffusersComponent& c, const std::string& variant) {
  for (const char* name : kConfigNames) {
    const fs::path p = c.folder / name;
    if (fs::is_regular_file(p)) {
      c.config = read_json(p);
      c.config_file = p;
      break;
    }
  }
  if (c.class_name.empty() && c.config.is_object()) c.class_name = c.config.value("_class_name", std::string());
  // Models carry config.json; tokenizers, schedulers and feature extractors have no weights.
  if (c.config_file.filename() == "config.json") load_weights(c, variant);
}

std::string component_name_for_class(const std::string& cls, const fs::path& folder) {
  if (cls == "UNet2DConditionModel") return "unet";
  if (cls == "ControlNetModel") return "controlnet";
  if (cls == "AutoencoderKL") return "vae";
  if (cls == "CLIPTextModel" || cls == "CLIPTextModelWithProjection") return "text_encoder";
  return folder.filename().string();
}

}  // namespace

bool DiffusersFolder::looks_like(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return false;
  if (fs::is_regular_file(root / "model_index.json", ec)) return true;
  if (!fs::is_regular_file(root / "config.json", ec)) return false;
  for (const auto& w : kWeightNames) {
    for (const char* v : {"", "fp16"}) {
      if (fs::exists(root / file_name(w, v), ec) || fs::exists(root / shard_index_name(w, v), ec)) return true;
    }
  }
  return false;
}

DiffusersFolder DiffusersFolder::open(const fs::path& root, const DiffusersOpenOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw FileError("not a folder", root);
  DiffusersFolder folder;
  folder.root_ = root;
  const fs::path index_file = root / "model_index.json";
  if (fs::is_regular_file(index_file)) {
    folder.model_index_ = read_json(index_file);
    if (!folder.model_index_.is_object()) throw FormatError("not a JSON object", index_file);
    for (auto it = folder.model_index_.begin(); it != folder.model_index_.end(); ++it) {
      // Components are ["library", "Class"]; absent ones are [null, null]; "_class_name" etc. are meta.
      if (it.key().empty() || it.key()[0] == '_' || !it->is_array() || it->size() != 2) continue;
      if ((*it)[0].is_null() || (*it)[1].is_null()) continue;
      if (!(*it)[0].is_string() || !(*it)[1].is_string()) {
        throw FormatError("component \"" + it.key() + "\" is not [\"library\", \"Class\"]", index_file);
      }
      const std::string& name = it.key();
      if (name.find('/') != std::string::npos || name == "." || name == "..") {
        throw FormatError("invalid component name \"" + name + "\"", index_file);
      }
      DiffusersComponent c;
      c.name = name;
      c.library = (*it)[0].get<std::string>();
      c.class_name = (*it)[1].get<std::string>();
      c.folder = root / name;
      if (!fs::is_directory(c.folder)) {
        throw FormatError("model_index.json lists component \"" + name + "\" but its folder is missing", c.folder);
      }
      read_component(c, options.variant);
      folder.components_.push_back(std::move(c));
    }
    if (folder.components_.empty()) throw FormatError("model_index.json lists no components", index_file);
    return folder;
  }
  if (!fs::is_regular_file(root / "config.json")) {
    throw FormatError("not a diffusers folder: neither model_index.json nor config.json is there", root);
  }
  DiffusersComponent c;
  c.folder = root;
  read_component(c, options.variant);
  c.name = component_name_for_class(c.class_name, root);
  folder.components_.push_back(std::move(c));
  return folder;
}

const DiffusersComponent* DiffusersFolder::component(const std::string& name) const {
  for (const auto& c : components_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TensorIndex DiffusersFolder::combined_index() const {
  TensorIndex out;
  for (const auto& c : components_) out.merge(c.index, is_pipeline() ? c.name + "." : std::string());
  return out;
}

at::Tensor DiffusersFolder::tensor(const std::string& component_name, const std::string& name) const {
  const DiffusersComponent* c = component(component_name);
  if (!c) throw FormatError("no component \"" + component_name + "\"", root_);
  const TensorEntry* e = c->index.find(name);
  if (!e) throw FormatError("no tensor \"" + name + "\" in component \"" + component_name + "\"", c->folder);
  auto& file = open_files_[e->file];
  if (!file) file = open_weight_file(e->file);
  return file->tensor(name);
}

std::vector<std::pair<std::string, at::Tensor>> DiffusersFolder::tensors(const std::string& component) const {
  const DiffusersComponent* c = this->component(component);
  if (!c) throw FormatError("the folder has no component \"" + component + "\"", root_);
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.reserve(c->index.size());
  for (const auto& e : c->index.entries()) out.emplace_back(e.name, tensor(component, e.name));
  return out;
}

}  // namespace kiln::io
