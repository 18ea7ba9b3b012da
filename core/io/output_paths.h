#pragma once
// Putting outputs in place safely (model conversion, training export): a hidden temporary name
// beside the output (same file system, so a rename moves it), a guard that removes it unless
// released, the final move (a file replaced atomically, a folder swapped with its old version),
// and small file-system helpers with errors that name the path.

#include <cstdint>
#include <filesystem>
#include <string>

namespace kiln::io {

// Removes a temporary file or folder unless released.
class TempPath {
 public:
  explicit TempPath(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempPath();
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// A free hidden name beside `out`: `.<name>.kiln-<tag>-<random>`. Throws FileError.
std::filesystem::path temp_sibling(const std::filesystem::path& out, const std::string& tag);

// Moves a finished temporary output into place: a file by rename (replacing an old file
// atomically), a folder by rename after moving an old folder aside. Throws FileError.
void place_output(const std::filesystem::path& temp, const std::filesystem::path& out);

// Creates one folder; an existing one is an error. Throws FileError.
void make_directory(const std::filesystem::path& dir);

// The whole file as bytes. Throws FileError.
std::string read_file(const std::filesystem::path& path);

// Bytes of a file, or of every file under a folder.
std::uint64_t size_on_disk(const std::filesystem::path& path);

}  // namespace kiln::io
