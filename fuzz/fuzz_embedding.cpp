// A textual-inversion embedding (.safetensors, or a torch zip pickle when the bytes start with
// "PK"): A1111's string_to_param / emb_params, SDXL's clip_l + clip_g, shapes and dtypes; then, as
// a prompt that names it would, resolved against the tiny SD 1.x model of the tests (the width
// check against its text encoder, the family refusals).
#include <filesystem>
#include <memory>

#include "fuzz_util.h"
#include "pipelines/embeddings.h"
#include "pipelines/stable_diffusion_pipeline.h"

namespace {
std::unique_ptr<kiln::pipelines::StableDiffusionModel> model;
std::filesystem::path dir;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  model = std::make_unique<kiln::pipelines::StableDiffusionModel>(kiln::pipelines::load_stable_diffusion(
      std::filesystem::path(KILN_SOURCE_DIR) / "tests/data/golden/pipeline/tiny_sd1", {}));
  dir = kiln::fuzz::scratch_dir("embedding");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  const auto file = dir / (zip ? "emb.pt" : "emb.safetensors");
  kiln::fuzz::write_file(file, data, size);
  bool loaded = false;
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto ti = kiln::pipelines::load_textual_inversion(file);
    // An accepted embedding has at least one vector and consistent parts.
    if (ti.count() <= 0) __builtin_trap();
    if (ti.is_sdxl() && ti.clip_l.size(0) != ti.clip_g.size(0)) __builtin_trap();
    loaded = true;
  });
  if (loaded) {
    kiln::fuzz::expect_kiln_errors_only([&] {
      const auto library = kiln::pipelines::EmbeddingLibrary::scan({dir});
      const auto used = kiln::pipelines::resolve_embeddings(*model, library, {"a photo of emb, (emb:1.2)"},
                                                            kiln::text::PromptSyntax::A1111);
      // What resolves fits the model's text encoder: [n, 32] vectors for the tiny model.
      for (const auto& [name, vectors] : used.vectors)
        if (vectors.dim() != 2 || vectors.size(0) <= 0) __builtin_trap();
    });
  }
  std::filesystem::remove(file);
  return 0;
}
