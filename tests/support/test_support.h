#pragma once
// Helpers shared by the core tests: data paths, scratch folders, key lists.

#include <filesystem>
#include <string>

#include "io/tensor_index.h"

namespace kiln::test {

// tests/data (copied from ../shared so the repo stands alone).
std::filesystem::path data_dir();
// A fresh, empty folder under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "kiln-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Reads a golden key list (`key<TAB>[d0, d1, ...]` per line) into an index of F32 entries
// (F16 when `dtype` says so) with no file location.
io::TensorIndex read_key_list(const std::filesystem::path& path, DType dtype = DType::F32);

// Writes a safetensors file with the index's names, dtypes and shapes whose data section is a
// hole (sparse, zero bytes on disk): full-size layouts for tests that only read headers.
void write_sparse_safetensors(const std::filesystem::path& path, const io::TensorIndex& index,
                              const std::string& metadata_json = "{}");

std::string read_text(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace kiln::test
