#pragma once
// Copies named tensors into a module by name lookup. Every missing, unexpected and mis-shaped
// key is collected first and reported in one kiln::WeightMismatchError, so a user sees the whole
// picture (wrong family, wrong size, truncated file) at once.

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace kiln::models {

using NamedTensorList = std::vector<std::pair<std::string, torch::Tensor>>;

struct WeightLoadOptions {
  // Keys that may be present without a matching parameter and are skipped silently, e.g.
  // `text_model.embeddings.position_ids` (a buffer older transformers saved). An entry matches a
  // key equal to it or ending in "." + entry.
  std::vector<std::string> ignored_keys;
  // Keys that may be absent (the parameter keeps its value). Same matching rule.
  std::vector<std::string> optional_keys;
  // How many keys of each kind the report lists before "... and N more".
  std::size_t report_limit = 10;
  // Names the model in the report ("CLIPTextModel").
  std::string model_name = "model";
  // The file or folder the weights came from, for the error's path.
  std::filesystem::path source;
};

// The outcome of matching names and shapes, before any data is copied.
struct WeightMismatch {
  std::vector<std::string> missing;     // parameters/buffers with no tensor
  std::vector<std::string> unexpected;  // tensors with no parameter/buffer
  std::vector<std::string> mismatched;  // "name: expected [..] F32, got [..] I64"
  bool empty() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // "weights do not fit CLIPTextModel: 1 missing, 2 unexpected, 1 mis-shaped\n  missing (1): ..."
  std::string report(const std::string& model_name, std::size_t limit) const;
};

WeightMismatch check_weights(torch::nn::Module& module, const NamedTensorList& tensors,
                             const WeightLoadOptions& options = {});

// Copies every tensor into the parameter/buffer of the same name, converting floating dtypes
// (F16/BF16/F32/F64) to the module's and moving to its device. Throws WeightMismatchError (with
// options.source as path) when check_weights finds anything; nothing is copied then.
void load_weights(torch::nn::Module& module, const NamedTensorList& tensors, const WeightLoadOptions& options = {});

}  // namespace kiln::models
