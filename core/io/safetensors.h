#pragma once
// safetensors: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the data section. Reading maps the file and validates the header completely before
// any tensor is touched: every offset is within the data section, spans tile it exactly
// (no overlap, no gap), byte sizes equal numel x element size, names are unique.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io/mapped_file.h"
#include "io/weight_file.h"

namespace kiln::io {

inline constexpr std::uint64_t kMaxSafetensorsHeader = 100ull * 1024 * 1024;  // as the reference

struct SafetensorsHeader {
  TensorIndex index;  // offsets absolute in the file
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start = 0;
};

// Parses and validates the header of a safetensors file whose first bytes are `head` and whose
// total size is `file_size`. `head` must hold at least 8 + N bytes when N fits the file.
// Throws kiln::FormatError naming `path` and the problem.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> head, std::uint64_t file_size,
                                           const std::filesystem::path& path);

// Reads only the header from disk (no mapping); for indexes of many large files.
SafetensorsHeader read_safetensors_header(const std::filesystem::path& path);

class SafetensorsFile final : public WeightFile {
 public:
  static std::unique_ptr<SafetensorsFile> open(const std::filesystem::path& path);

  WeightFormat format() const override { return WeightFormat::Safetensors; }
  const std::filesystem::path& path() const override { return map_->path(); }
  const TensorIndex& index() const override { return header_.index; }
  const std::map<std::string, std::string>& metadata() const override { return header_.metadata; }
  const std::vector<std::string>& warnings() const override { return warnings_; }
  at::Tensor tensor(const std::string& name) const override;

 private:
  std::shared_ptr<const MappedFile> map_;
  SafetensorsHeader header_;
  std::vector<std::string> warnings_;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes tensors (any device, any layout; stored contiguous, on CPU) in the given order,
// with metadata, atomically: a temporary file beside `path`, fsync, then rename.
void write_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace kiln::io
