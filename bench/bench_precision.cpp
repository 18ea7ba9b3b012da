// bf16 against fp32 on the CPU through a whole generation: full-size SD 1.5 with random weights
// (the model bench_txt2img makes), 512x512, 20 steps, Euler a, CFG 7, the same seed in both;
// prints each run's time, the relative L2 error of the final latents and the PSNR of the 8-bit
// image. Usage: bench_precision [steps=20] [size=512]
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/engine.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const int threads = kiln::init_engine();
  const std::int64_t steps = argc > 1 ? std::atoll(argv[1]) : 20;
  const std::int64_t size = argc > 2 ? std::atoll(argv[2]) : 512;
  const char* tmp = std::getenv("TMPDIR");
  const fs::path file = fs::path(tmp ? tmp : "/tmp") / "kiln-bench-sd15" / "sd15-random-fp16.safetensors";
  if (!fs::exists(file)) {
    std::fprintf(stderr, "%s is missing: run bench_txt2img once, it makes it\n", file.c_str());
    return 1;
  }
  std::printf("LibTorch %s, %d threads; %lldx%lld, %lld steps Euler a, CFG 7, seed 1\n", TORCH_VERSION, threads,
              static_cast<long long>(size), static_cast<long long>(size), static_cast<long long>(steps));
  kiln::pipelines::GenerationRequest r;
  r.prompt = "a photograph of an astronaut riding a horse, highly detailed";
  r.negative_prompt = "blurry, lowres";
  r.width = r.height = size;
  r.steps = steps;
  r.guidance_scale = 7.0;
  r.sampler = kiln::schedulers::SchedulerKind::EulerAncestral;
  r.seed = 1;
  kiln::pipelines::GenerationResult results[2];
  const torch::Dtype dtypes[2] = {torch::kFloat, torch::kBFloat16};
  for (int i = 0; i < 2; ++i) {
    kiln::pipelines::ModelLoadOptions options;
    options.tokenizer_dir = fs::path(KILN_SOURCE_DIR) / "resources" / "clip";
    options.dtype = dtypes[i];
    const auto model = kiln::pipelines::load_stable_diffusion(file, options);
    const auto t0 = std::chrono::steady_clock::now();
    results[i] = kiln::pipelines::generate(model, r);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %.1f s\n", i == 0 ? "fp32" : "bf16", s);
  }
  const torch::Tensor a = results[0].latents, b = results[1].latents;
  const double rel = ((b - a).norm() / a.norm()).item<double>();
  const torch::Tensor ia = kiln::pipelines::to_uint8(results[0].images).to(torch::kDouble);
  const torch::Tensor ib = kiln::pipelines::to_uint8(results[1].images).to(torch::kDouble);
  const double mse = (ia - ib).pow(2).mean().item<double>();
  const double psnr = mse == 0 ? INFINITY : 10.0 * std::log10(255.0 * 255.0 / mse);
  std::printf("bf16 vs fp32: final latents relative L2 error %.4f; image PSNR %.2f dB, mean |diff| %.2f of 255\n", rel,
              psnr, (ia - ib).abs().mean().item<double>());
  return 0;
}
