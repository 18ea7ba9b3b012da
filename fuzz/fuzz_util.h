#pragma once
// What every fuzz target shares: bytes as a span, and the rule that a parser of outside bytes
// answers bad input with a kiln::Error (caught here); anything else escaping (another exception,
// a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <span>
#include <string_view>

#include <unistd.h>

#include "base/error.h"

namespace kiln::fuzz {

inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A private folder for targets whose parser reads files (one per process: parallel runs of a
// target do not share it).
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
  auto dir = base / ("kiln-fuzz-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
}

template <class F>
void expect_kiln_errors_only(F&& f) {
  try {
    f();
  } catch (const kiln::Error&) {
  }
}

}  // namespace kiln::fuzz
