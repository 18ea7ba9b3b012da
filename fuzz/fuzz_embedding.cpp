// A textual-inversion embedding (.safetensors, or a torch zip pickle when the bytes start with
// "PK"): A1111's string_to_param / emb_params, SDXL's clip_l + clip_g, shapes and dtypes.
#include <filesystem>

#include "fuzz_util.h"
#include "pipelines/embeddings.h"

namespace {
std::filesystem::path dir;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dir = kiln::fuzz::scratch_dir("embedding");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  const auto file = dir / (zip ? "emb.pt" : "emb.safetensors");
  kiln::fuzz::write_file(file, data, size);
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto ti = kiln::pipelines::load_textual_inversion(file);
    // An accepted embedding has at least one vector and consistent parts.
    if (ti.count() <= 0) __builtin_trap();
    if (ti.is_sdxl() && ti.clip_l.size(0) != ti.clip_g.size(0)) __builtin_trap();
  });
  std::filesystem::remove(file);
  return 0;
}
