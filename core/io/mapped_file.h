#pragma once
// A memory map of a whole file, shared by every tensor that views it. The mapping is
// private copy-on-write: a tensor written in place changes memory, never the file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace kiln::io {

class MappedFile {
 public:
  // Throws kiln::FileError naming the file when it cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  const std::byte* data() const { return data_; }
  std::span<const std::byte> bytes() const { return {data_, static_cast<std::size_t>(size_)}; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::uint64_t size_ = 0;
  void* map_ = nullptr;
};

// Gives back the resident pages of [data, data + size) when that range lies inside a live
// MappedFile (pages wholly inside the range only; anything else, heap memory included, is left
// alone). The bytes stay readable: a later access reads them again from the page cache. Loaders
// call it after converting a tensor into a module, so that a 2 GB file does not sit in the
// process's resident memory beside the 4 GB of modules made from it. Pages written through a
// copy-on-write view would be reset to the file's bytes: only release ranges nobody wrote.
// Returns the number of bytes released.
std::size_t release_mapped_pages(const void* data, std::size_t size);

}  // namespace kiln::io
