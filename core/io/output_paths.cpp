#include "io/output_paths.h"

#include <fstream>
#include <random>
#include <sstream>

#include "base/error.h"

namespace kiln::io {
namespace fs = std::filesystem;

TempPath::~TempPath() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

fs::path temp_sibling(const fs::path& out, const std::string& tag) {
  std::random_device rd;
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = dir / ("." + out.filename().string() + ".kiln-" + tag + "-" + std::to_string(rd() % 1000000));
    std::error_code ec;
    if (!fs::exists(p, ec)) return p;
  }
  throw FileError("cannot find a free temporary name beside the output", out);
}

void place_output(const fs::path& temp, const fs::path& out) {
  std::error_code ec;
  if (fs::is_directory(out, ec)) {
    const fs::path old = temp_sibling(out, "old");
    fs::rename(out, old, ec);
    if (ec) throw FileError("cannot move the old folder aside: " + ec.message(), out);
    fs::rename(temp, out, ec);
    if (ec) {
      std::error_code undo;
      fs::rename(old, out, undo);
      throw FileError("cannot move the new folder into place: " + ec.message(), out);
    }
    fs::remove_all(old, ec);
    return;
  }
  fs::rename(temp, out, ec);
  if (ec) throw FileError("cannot move the output into place: " + ec.message(), out);
}

void make_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::create_directory(dir, ec) || ec) {
    throw FileError("cannot create the folder: " + (ec ? ec.message() : std::string("it exists")), dir);
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open for reading", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::uint64_t size_on_disk(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec);
  std::uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

}  // namespace kiln::io
