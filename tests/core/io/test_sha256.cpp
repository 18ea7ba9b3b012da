#include <doctest/doctest.h>

#include "io/sha256.h"
#include "support/test_support.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace {
std::string hex(std::string_view text) {
  kiln::io::Sha256 h;
  h.update(std::as_bytes(std::span<const char>(text.data(), text.size())));
  return h.finish_hex();
}
}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 examples") {
  CHECK(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("file hashes agree with the golden manifest") {
  // ../shared/golden/MANIFEST.json lists this file's sha256.
  const auto path = kiln::test::data_dir() / "golden/pipeline/tiny_sd1.safetensors";
  std::uint64_t last = 0;
  const std::string digest = kiln::io::sha256_file(path, {}, [&](std::uint64_t done, std::uint64_t) { last = done; });
  CHECK(last == std::filesystem::file_size(path));
  CHECK(digest == "fbecea6473ec34a8b6e412122fe6cad99de33b69b8e8e0bf0e1cdb9c06f39852");
  std::stop_source stop;
  stop.request_stop();
  CHECK(kiln::io::sha256_file(path, stop.get_token()).empty());
}

TEST_CASE("file hashes are remembered by path, size and modification time") {
  kiln::test::ScratchDir scratch("kiln-hash-cache");
  const auto cache_dir = scratch / "cache";
  ::setenv("KILN_CACHE_DIR", cache_dir.c_str(), 1);
  CHECK(kiln::io::hash_cache_path() == cache_dir / "file-hashes.tsv");
  const auto file = scratch / "model.safetensors";
  kiln::test::write_text(file, "abc");
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  CHECK(kiln::io::sha256_file_cached(file) == abc);
  const std::string cached = kiln::test::read_text(cache_dir / "file-hashes.tsv");
  CHECK(cached.starts_with(abc + "\t3\t"));
  CHECK(cached.find(std::filesystem::absolute(file).lexically_normal().string()) != std::string::npos);

  // An entry that matches is trusted without reading the file (here: a planted digest).
  const std::string planted = std::string(64, 'f');
  kiln::test::write_text(cache_dir / "file-hashes.tsv", planted + cached.substr(64));
  CHECK(kiln::io::sha256_file_cached(file) == planted);
  // Another modification time (same size): hashed again and remembered anew.
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(5));
  CHECK(kiln::io::sha256_file_cached(file) == abc);
  CHECK(kiln::io::sha256_file_cached(file) == abc);
  // Other contents, other size: hashed again.
  kiln::test::write_text(file, "abcd");
  CHECK(kiln::io::sha256_file_cached(file) == "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
  // A broken cache file costs only the hashing.
  kiln::test::write_text(cache_dir / "file-hashes.tsv", "garbage\n\t\t\t\nxyz\t1\t2\n");
  CHECK(kiln::io::sha256_file_cached(file) == "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
  ::unsetenv("KILN_CACHE_DIR");
}
