#include <doctest/doctest.h>

#include "io/sha256.h"
#include "support/test_support.h"

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
