// Weights read from files reach a CUDA device intact and come back bit for bit.
// Label gpu: exits with 77 (reported by ctest as skipped, not passed) without a CUDA device.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cstdio>

#include "base/engine.h"
#include "io/safetensors.h"
#include "support/test_support.h"

TEST_CASE("tiny UNet weights survive a round trip through the GPU in every float dtype") {
  const auto file = kiln::io::SafetensorsFile::open(kiln::test::data_dir() /
                                                    "golden/pipeline/tiny_sd1/unet/diffusion_pytorch_model.safetensors");
  kiln::test::ScratchDir dir;
  kiln::io::NamedTensors on_gpu;
  for (const auto& e : file->index().entries()) on_gpu.emplace_back(e.name, file->tensor(e.name).to(torch::kCUDA));
  kiln::io::write_safetensors(dir / "back.safetensors", on_gpu);
  const auto back = kiln::io::SafetensorsFile::open(dir / "back.safetensors");
  for (const auto& e : file->index().entries()) {
    CAPTURE(e.name);
    CHECK(torch::equal(back->tensor(e.name), file->tensor(e.name)));
    // Golden weights are fp16-representable: fp16 on the device is exact.
    CHECK(torch::equal(file->tensor(e.name).to(torch::kCUDA, torch::kHalf).to(torch::kCPU, torch::kFloat), file->tensor(e.name)));
  }
}

int main(int argc, char** argv) {
  kiln::init_engine();
  if (!torch::cuda::is_available()) {
    std::puts("no CUDA device: skipped");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
