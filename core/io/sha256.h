#pragma once
// SHA-256 (FIPS 180-4), for AUTOMATIC1111's model hash (first 10 hex digits of the file's
// sha256) and download verification: OpenSSL's EVP digest (SHA-NI / AVX2 where the CPU has them).

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
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::byte> data);
  // The digest; afterwards the object starts a new hash.
  std::array<std::uint8_t, 32> finish();
  std::string finish_hex();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Hex digest of a file. `progress(done, total)` is called every few MiB; a stop request ends
// the work early and returns an empty string.
std::string sha256_file(const std::filesystem::path& path, std::stop_token stop = {},
                        const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

// sha256_file, remembered: a file whose absolute path, size and modification time (ns) match an
// entry of the hash cache gives that entry's digest without reading the file; otherwise it is
// hashed and the entry written. The cache is <cache dir>/file-hashes.tsv (cache dir:
// $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln, else ~/.cache/kiln), rewritten atomically; an
// unreadable or broken cache only costs the hashing. Safe on any thread.
std::string sha256_file_cached(const std::filesystem::path& path, std::stop_token stop = {},
                               const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});
// Where the cache lives (for tests and messages).
std::filesystem::path hash_cache_path();

}  // namespace kiln::io
