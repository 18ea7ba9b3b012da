// The safetensors header (length prefix, JSON, dtypes, shapes, offsets, metadata) of a file that
// is exactly the input.
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto header = kiln::io::parse_safetensors_header(kiln::fuzz::bytes(data, size), size, "fuzz.safetensors");
    // Every entry it accepts lies inside the file, and what `kiln-cli info` and the loaders ask
    // of an index (element counts, shapes as text, prefixes) is defined for it.
    for (const auto& e : header.index.entries()) {
      if (e.offset + e.nbytes > size) __builtin_trap();
      if (e.numel() < 0) __builtin_trap();
      (void)e.shape_string();
      (void)header.index.find(e.name);
    }
    if (header.index.parameter_count() < 0) __builtin_trap();
    (void)header.index.with_prefix("model.", "");
  });
  return 0;
}
