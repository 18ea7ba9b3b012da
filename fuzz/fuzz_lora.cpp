// A LoRA file (.safetensors, or a torch zip pickle when the bytes start with "PK") resolved
// against the tiny SD 1.x model of the tests: key parsing (kohya, diffusers, PEFT, LDM names),
// shapes, alphas, refusals. Every refusal must be a kiln::Error naming the file.

#include <filesystem>
#include <memory>

#include "fuzz_util.h"
#include "pipelines/lora.h"
#include "pipelines/stable_diffusion_pipeline.h"

namespace {
std::unique_ptr<kiln::pipelines::StableDiffusionModel> model;
std::filesystem::path dir;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  kiln::pipelines::ModelLoadOptions options;
  model = std::make_unique<kiln::pipelines::StableDiffusionModel>(kiln::pipelines::load_stable_diffusion(
      std::filesystem::path(KILN_SOURCE_DIR) / "tests/data/golden/pipeline/tiny_sd1", options));
  dir = kiln::fuzz::scratch_dir("lora");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  const auto file = dir / (zip ? "lora.pt" : "lora.safetensors");
  kiln::fuzz::write_file(file, data, size);
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto lora = kiln::pipelines::read_lora(file, *model);
    // What read_lora accepted merges (and restores) without an exception of another kind.
    if (!lora.layers.empty() && lora.layers.size() < 64) {
      auto applied = kiln::pipelines::apply_loras(*model, {{file, 0.5}});
      applied.restore();
    }
  });
  std::filesystem::remove(file);
  return 0;
}
