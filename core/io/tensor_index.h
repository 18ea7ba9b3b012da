#pragma once
// Names, dtypes, shapes and locations of the tensors of a weight file or model folder,
// built from headers alone (no tensor data is read).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/dtype.h"

namespace kiln::io {

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  // Where the bytes are: file, absolute byte offset of the first element, byte length of the
  // contiguous span the tensor occupies. `strides` is empty for contiguous tensors
  // (safetensors always; torch checkpoints may hold strided views of a storage).
  std::filesystem::path file;
  std::uint64_t offset = 0;
  std::uint64_t nbytes = 0;
  std::vector<std::int64_t> strides;

  std::int64_t numel() const;
  std::string shape_string() const;  // "[320, 4, 3, 3]"
};

class TensorIndex {
 public:
  // Throws kiln::FormatError on a duplicate name.
  void add(TensorEntry entry);
  const TensorEntry* find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  // Entries in file order (safetensors: header order; folders: component order).
  const std::vector<TensorEntry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::int64_t parameter_count() const;

  // A copy holding only the entries whose names start with `prefix`, renamed without it
  // (or with `prefix` replaced by `new_prefix`).
  TensorIndex with_prefix(const std::string& prefix, const std::string& new_prefix = {}) const;
  // Appends another index, prefixing its names.
  void merge(const TensorIndex& other, const std::string& prefix = {});

 private:
  std::vector<TensorEntry> entries_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

}  // namespace kiln::io
