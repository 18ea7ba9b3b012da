#pragma once
// One file of weights (safetensors or torch checkpoint), opened for indexed, lazy access.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/tensor_index.h"

namespace at {
class Tensor;
}

namespace kiln::io {

enum class WeightFormat { Safetensors, TorchZip };
const char* to_string(WeightFormat format);

class WeightFile {
 public:
  virtual ~WeightFile() = default;
  virtual WeightFormat format() const = 0;
  virtual const std::filesystem::path& path() const = 0;
  virtual const TensorIndex& index() const = 0;
  // safetensors `__metadata__`; empty for checkpoints.
  virtual const std::map<std::string, std::string>& metadata() const = 0;
  // Notes the reader wants the user to see (e.g. objects of a checkpoint it did not
  // understand and therefore skipped). Empty for a clean file.
  virtual const std::vector<std::string>& warnings() const = 0;
  // The tensor on the CPU in its stored dtype. Zero-copy view of the mapped file when the
  // alignment allows it, else a copy. Throws kiln::Error naming file and tensor.
  virtual at::Tensor tensor(const std::string& name) const = 0;
};

// Opens by content (magic bytes), not by extension: safetensors, or a torch.save zip
// (.ckpt/.pt/.pth/.bin). Throws kiln::FileError / kiln::FormatError naming the file.
std::unique_ptr<WeightFile> open_weight_file(const std::filesystem::path& path);

// True for the extensions Kiln treats as weight files (.safetensors .ckpt .pt .pth .bin).
bool is_weight_file_name(const std::filesystem::path& path);

}  // namespace kiln::io
