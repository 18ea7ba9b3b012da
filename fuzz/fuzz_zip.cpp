// The zip container of torch.save checkpoints: central directory, local headers, ZIP64, names;
// then every stored entry's bytes viewed in place.
#include "fuzz_util.h"
#include "io/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto archive = kiln::io::ZipArchive::open(kiln::fuzz::bytes(data, size), "fuzz.ckpt");
    for (const auto& entry : archive.entries()) {
      kiln::fuzz::expect_kiln_errors_only([&] {
        const auto view = archive.data(entry);
        // A view lies inside the input.
        if (!view.empty() && (view.data() < reinterpret_cast<const std::byte*>(data) ||
                              view.data() + view.size() > reinterpret_cast<const std::byte*>(data) + size))
          __builtin_trap();
      });
      (void)archive.find(entry.name);
    }
  });
  return 0;
}
