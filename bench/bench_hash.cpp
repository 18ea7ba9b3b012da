// Hashing speed of what Kiln hashes most: sha256 of a model file (A1111's model hash, download
// verification) and the CRC-32 of a .ckpt's zip entries. Prints medians in GB/s.
//   bench_hash [FILE]   (default: a 2 GiB file of random bytes written to $TMPDIR first, removed after)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "bench_util.h"
#include "io/sha256.h"
#include "io/torch_checkpoint_writer.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  fs::path file;
  bool made = false;
  if (argc > 1) {
    file = argv[1];
  } else {
    file = fs::temp_directory_path() / "kiln-bench-hash.bin";
    std::vector<char> chunk(64 << 20);
    std::mt19937_64 rng(1);
    for (std::size_t i = 0; i + 8 <= chunk.size(); i += 8) {
      const std::uint64_t v = rng();
      std::memcpy(chunk.data() + i, &v, 8);
    }
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 32; ++i) out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    made = true;
  }
  const double gb = static_cast<double>(fs::file_size(file)) / 1e9;
  std::string digest;
  kiln::io::sha256_file(file);  // warm the page cache
  const double sha = kiln::bench::median_seconds(3, [&] { digest = kiln::io::sha256_file(file); });
  std::printf("sha256_file  %.2f GB: median %.2f s = %.2f GB/s (%s)\n", gb, sha, gb / sha, digest.substr(0, 16).c_str());

  std::vector<std::byte> buffer(256 << 20, std::byte{7});
  std::uint32_t crc = 0;
  const double crc_s = kiln::bench::median_seconds(5, [&] { crc = kiln::io::crc32(buffer); });
  std::printf("crc32        %.2f GB: median %.3f s = %.2f GB/s (%08x)\n", buffer.size() / 1e9, crc_s,
              buffer.size() / 1e9 / crc_s, crc);
  if (made) fs::remove(file);
  return 0;
}
