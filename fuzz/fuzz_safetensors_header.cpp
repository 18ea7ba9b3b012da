// The safetensors header (length prefix, JSON, dtypes, shapes, offsets, metadata) of a file that
// is exactly the input.
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto header = kiln::io::parse_safetensors_header(kiln::fuzz::bytes(data, size), size, "fuzz.safetensors");
    // Every entry it accepts lies inside the file.
    for (const auto& e : header.index.entries()) {
      if (e.offset + e.nbytes > size) __builtin_trap();
    }
  });
  return 0;
}
