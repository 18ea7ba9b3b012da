#pragma once
// Writing files so that a crash or a full disk never leaves a half file: the content goes to
// a temporary file in the same folder, is flushed to disk, and is renamed over the target.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string_view>

namespace kiln::io {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path target);
  ~AtomicFileWriter();  // removes the temporary file unless commit() succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::span<const std::byte> bytes);
  void write(std::string_view text);
  // fsync, close, rename over the target, fsync the folder.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace kiln::io
