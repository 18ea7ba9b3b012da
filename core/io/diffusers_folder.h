#pragma once
// A diffusers folder: `model_index.json` naming the components, each a sub-folder with its
// `config.json` (`scheduler_config.json`, ...) and its weights: one file or shards listed in
// `*.safetensors.index.json`, optionally a variant (`*.fp16.safetensors`). A folder holding
// one component (config.json + weights, e.g. a ControlNet) is read the same way.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/tensor_index.h"
#include "io/weight_file.h"

namespace at {
class Tensor;
}

namespace kiln::io {

struct DiffusersComponent {
  std::string name;        // "unet", "text_encoder_2", ...
  std::string library;     // "diffusers", "transformers" (from model_index.json)
  std::string class_name;  // "UNet2DConditionModel", ...
  std::filesystem::path folder;
  nlohmann::json config;   // config.json / scheduler_config.json / tokenizer_config.json; null if none
  std::filesystem::path config_file;
  std::vector<std::filesystem::path> weight_files;  // empty for tokenizers and schedulers
  std::string variant;     // "" or the variant whose files were chosen ("fp16")
  TensorIndex index;       // tensor names as the component's model names them (no prefix)

  bool has_weights() const { return !weight_files.empty(); }
};

struct DiffusersOpenOptions {
  // Preferred weight variant; "" prefers the plain files and falls back on a variant when only
  // that exists.
  std::string variant;
};

class DiffusersFolder {
 public:
  // Reads model_index.json, every config and every weight header (no tensor data).
  // Throws kiln::FileError / kiln::FormatError naming the file and the problem.
  static DiffusersFolder open(const std::filesystem::path& root, const DiffusersOpenOptions& options = {});

  // model_index.json or config.json with weights beside it.
  static bool looks_like(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  // Null for a single-component folder.
  const nlohmann::json& model_index() const { return model_index_; }
  bool is_pipeline() const { return !model_index_.is_null(); }
  const std::vector<DiffusersComponent>& components() const { return components_; }
  const DiffusersComponent* component(const std::string& name) const;

  // Every weight of the folder: "<component>.<name>" for a pipeline, bare names for a single
  // component.
  TensorIndex combined_index() const;

  // One tensor of one component, on the CPU in its stored dtype.
  at::Tensor tensor(const std::string& component, const std::string& name) const;
  // Every tensor of one component by name (component-local names), in index order: what a
  // module's load_weights takes.
  std::vector<std::pair<std::string, at::Tensor>> tensors(const std::string& component) const;

 private:
  std::filesystem::path root_;
  nlohmann::json model_index_;
  std::vector<DiffusersComponent> components_;
  mutable std::map<std::filesystem::path, std::unique_ptr<WeightFile>> open_files_;
};

}  // namespace kiln::io
