#include "io/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

#include "base/error.h"
#include "io/atomic_file.h"

namespace kiln::io {

namespace {

EVP_MD_CTX* as_ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

void init(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) throw Error(ErrorKind::Compute, "OpenSSL: cannot start a SHA-256 digest");
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw Error(ErrorKind::Compute, "OpenSSL: out of memory for a SHA-256 digest");
  init(as_ctx(ctx_));
}

Sha256::~Sha256() { EVP_MD_CTX_free(as_ctx(ctx_)); }

void Sha256::update(std::span<const std::byte> data) {
  if (!data.empty() && EVP_DigestUpdate(as_ctx(ctx_), data.data(), data.size()) != 1)
    throw Error(ErrorKind::Compute, "OpenSSL: SHA-256 update failed");
}

std::array<std::uint8_t, 32> Sha256::finish() {
  std::array<std::uint8_t, 32> out{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(as_ctx(ctx_), out.data(), &size) != 1 || size != out.size())
    throw Error(ErrorKind::Compute, "OpenSSL: SHA-256 finish failed");
  init(as_ctx(ctx_));
  return out;
}

std::string Sha256::finish_hex() {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : finish()) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

std::string sha256_file(const std::filesystem::path& path, std::stop_token stop,
                        const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileError("cannot open: " + system_error_text(errno), path);
  const std::uint64_t total = std::filesystem::file_size(path);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<std::byte> buffer(4 << 20);
  Sha256 hash;
  std::uint64_t done = 0;
  for (;;) {
    if (stop.stop_requested()) {
      ::close(fd);
      return {};
    }
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw FileError("cannot read: " + system_error_text(err), path);
    }
    if (n == 0) break;
    hash.update({buffer.data(), static_cast<std::size_t>(n)});
    done += static_cast<std::uint64_t>(n);
    if (progress) progress(done, total);
  }
  ::close(fd);
  return hash.finish_hex();
}

namespace {

struct CacheKey {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
};

std::optional<CacheKey> key_of(const std::filesystem::path& file) {
  struct stat st {};
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  if (ec || ::stat(absolute.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  const std::string p = absolute.lexically_normal().string();
  if (p.find_first_of("\t\n") != std::string::npos) return std::nullopt;  // not storable in the TSV
  return CacheKey{p, static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::mutex cache_mutex;

// digest \t size \t mtime-ns \t path, one line per file.
std::map<std::string, std::tuple<std::uint64_t, std::int64_t, std::string>> read_cache(const std::filesystem::path& file) {
  std::map<std::string, std::tuple<std::uint64_t, std::int64_t, std::string>> entries;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string digest, size, mtime, path;
    if (!std::getline(fields, digest, '\t') || !std::getline(fields, size, '\t') || !std::getline(fields, mtime, '\t') ||
        !std::getline(fields, path) || digest.size() != 64 || path.empty())
      continue;
    try {
      entries[path] = {std::stoull(size), std::stoll(mtime), digest};
    } catch (const std::exception&) {
    }
  }
  return entries;
}

}  // namespace

std::filesystem::path hash_cache_path() {
  if (const char* dir = std::getenv("KILN_CACHE_DIR"); dir && *dir) return std::filesystem::path(dir) / "file-hashes.tsv";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "kiln/file-hashes.tsv";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache/kiln/file-hashes.tsv";
  return {};
}

std::string sha256_file_cached(const std::filesystem::path& path, std::stop_token stop,
                               const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const auto key = key_of(path);
  const std::filesystem::path cache = hash_cache_path();
  if (!key || cache.empty()) return sha256_file(path, stop, progress);
  {
    std::lock_guard lock(cache_mutex);
    const auto entries = read_cache(cache);
    if (const auto it = entries.find(key->path);
        it != entries.end() && std::get<0>(it->second) == key->size && std::get<1>(it->second) == key->mtime) {
      if (progress) progress(key->size, key->size);
      return std::get<2>(it->second);
    }
  }
  const std::string digest = sha256_file(path, stop, progress);
  if (digest.empty()) return digest;  // stopped
  // Remembered only when the file did not change while it was read.
  const auto after = key_of(path);
  if (!after || after->size != key->size || after->mtime != key->mtime) return digest;
  std::lock_guard lock(cache_mutex);
  try {
    auto entries = read_cache(cache);
    entries[key->path] = {key->size, key->mtime, digest};
    std::string text;
    for (const auto& [p, e] : entries) {
      std::error_code ec;
      if (p != key->path && !std::filesystem::exists(p, ec)) continue;  // forget deleted files
      text += std::get<2>(e) + '\t' + std::to_string(std::get<0>(e)) + '\t' + std::to_string(std::get<1>(e)) + '\t' + p + '\n';
    }
    std::filesystem::create_directories(cache.parent_path());
    write_file_atomically(cache, text);
  } catch (const std::exception&) {
    // A cache that cannot be written costs a re-hash next time, nothing else.
  }
  return digest;
}

}  // namespace kiln::io
