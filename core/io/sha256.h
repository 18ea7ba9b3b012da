#pragma once
// SHA-256 (FIPS 180-4), for AUTOMATIC1111's model hash (first 10 hex digits of the file's
// sha256) and download verification.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <stop_token>
#include <string>

namespace kiln::io {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  std::array<std::uint8_t, 32> finish();
  std::string finish_hex();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

// Hex digest of a file. `progress(done, total)` is called every few MiB; a stop request ends
// the work early and returns an empty string.
std::string sha256_file(const std::filesystem::path& path, std::stop_token stop = {},
                        const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

}  // namespace kiln::io
