// Full-size SD 1.5 UNet and VAE with random weights on CPU: one UNet step at 64x64 latents, batch 2
// (classifier-free guidance) in seconds and GFLOP/s against the GEMM peak measured in the same run
// (fp32, channels-last, and bf16 with its error against fp32), a 512x512 VAE decode (fp32 and bf16),
// a tiled 1024x1024 decode, and peak resident memory. The VAE's weights are channels-last, as the
// pipeline loads them on the CPU (--vae-contiguous: as constructed).
// Usage: bench_unet_vae [repeats=3] [--no-bf16] [--no-tiled] [--no-unet] [--no-vae] [--vae-contiguous]
//                       [--size=512] [--json]
// --size: the image size in pixels (latents size/8) of the UNet step and the decode (bench/compare's
// smoke run uses 64). --json: also one JSON line per result (bench/compare reads them).
#include <torch/torch.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "base/engine.h"
#include "bench_util.h"
#include "models/autoencoder_kl.h"
#include "models/unet_2d_condition.h"
#include "unet_flops.h"

namespace {

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

double gemm_gflops(torch::Dtype dtype) {
  const std::int64_t n = 2048;
  const auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype);
  torch::Tensor c = torch::matmul(a, b);
  const double s = kiln::bench::median_seconds(5, [&] { c = torch::matmul(a, b); });
  return 2.0 * static_cast<double>(n * n * n) / s / 1e9;
}

// Every 4-D parameter and buffer to the channels-last layout (convolution weights).
void to_channels_last(torch::nn::Module& m) {
  for (auto& p : m.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

bool has(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

// The value of --name=VALUE, or `fallback`.
std::int64_t option(int argc, char** argv, const char* name, std::int64_t fallback) {
  const std::string prefix = std::string(name) + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return std::atoll(argv[i] + prefix.size());
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = kiln::init_engine();
  const int repeats = argc > 1 && argv[1][0] != '-' ? std::atoi(argv[1]) : 3;
  const bool bf16 = !has(argc, argv, "--no-bf16"), json = has(argc, argv, "--json");
  const std::int64_t size = option(argc, argv, "--size", 512), latent = size / 8;
  torch::manual_seed(0);
  c10::InferenceMode guard;
  std::printf("LibTorch %s, %d threads\n", TORCH_VERSION, threads);
  const auto emit = [&](nlohmann::json j) {
    if (!json) return;
    j["tool"] = "kiln";
    j["threads"] = threads;
    j["size"] = size;
    j["repeats"] = repeats;
    std::printf("%s\n", j.dump().c_str());
  };
  if (!has(argc, argv, "--no-unet")) {
    const double peak32 = gemm_gflops(torch::kFloat), peak16 = bf16 ? gemm_gflops(torch::kBFloat16) : 0.0;
    std::printf("GEMM 2048 peak: fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s\n", peak32, peak16);
    emit({{"what", "gemm_peak"}, {"dtype", "fp32"}, {"gflops", peak32}});
    if (bf16) emit({{"what", "gemm_peak"}, {"dtype", "bf16"}, {"gflops", peak16}});

    const auto config = kiln::models::UNet2DConditionConfig::sd15();
    const double flops = kiln::bench::unet_flops(config, 2, latent, latent, 77);
    std::printf("SD 1.5 UNet at %lldx%lld latents, batch 2: %.1f GFLOP per step (analytic)\n",
                static_cast<long long>(latent), static_cast<long long>(latent), flops / 1e9);
    kiln::models::UNet2DConditionModel unet(config);
    unet->eval();
    const auto sample = torch::randn({2, 4, latent, latent});
    const auto context = torch::randn({2, 77, 768});
    const auto t = torch::tensor(500, torch::kLong);
    const auto report = [&](const char* what, const char* variant, double seconds, double peak) {
      const double rate = flops / seconds / 1e9;
      std::printf("  %-22s %.2f s/step (median of %d), %.1f GFLOP/s = %.0f%% of the GEMM peak\n", what, seconds,
                  repeats, rate, 100.0 * rate / peak);
      emit({{"what", "unet_step"},
            {"variant", variant},
            {"seconds", seconds},
            {"gflop", flops / 1e9},
            {"peak_gflops", peak}});
    };
    torch::Tensor reference = unet->forward(sample, t, context);  // warm-up + fp32 reference output
    report("fp32", "fp32", kiln::bench::median_seconds(repeats, [&] { unet->forward(sample, t, context); }), peak32);

    to_channels_last(*unet);
    const auto sample_cl = sample.contiguous(at::MemoryFormat::ChannelsLast);
    const torch::Tensor out_cl = unet->forward(sample_cl, t, context);
    report("fp32 channels-last", "fp32_channels_last",
           kiln::bench::median_seconds(repeats, [&] { unet->forward(sample_cl, t, context); }), peak32);
    std::printf("    channels-last vs contiguous: max abs diff %.2e\n",
                (out_cl - reference).abs().max().item<double>());

    if (bf16) {
      unet->to(torch::kBFloat16);
      const auto s16 = sample.to(torch::kBFloat16), c16 = context.to(torch::kBFloat16);
      const torch::Tensor out16 = unet->forward(s16, t, c16).to(torch::kFloat);
      report("bf16", "bf16", kiln::bench::median_seconds(repeats, [&] { unet->forward(s16, t, c16); }), peak16);
      const double err = (out16 - reference).abs().max().item<double>();
      const double rel = ((out16 - reference).norm() / reference.norm()).item<double>();
      std::printf("    bf16 vs fp32 noise prediction: max abs diff %.3f, relative L2 error %.4f (output std %.3f)\n",
                  err, rel, reference.std().item<double>());
    }
    std::printf("peak memory after the UNet: %.2f GiB\n", peak_rss_gib());
  }
  if (has(argc, argv, "--no-vae")) return 0;
  kiln::models::AutoencoderKL vae(kiln::models::AutoencoderKLConfig::sd());
  vae->eval();
  // As the pipeline loads it on the CPU (model_loading.cpp): convolution weights channels-last.
  if (!has(argc, argv, "--vae-contiguous")) kiln::models::use_channels_last(*vae);
  const auto latents = torch::randn({1, 4, latent, latent});
  vae->decode(latents);
  const double vae32 = kiln::bench::median_seconds(repeats, [&] { vae->decode(latents); });
  std::printf("SD VAE decode %lldx%lld, fp32: %.2f s (median of %d)\n", static_cast<long long>(size),
              static_cast<long long>(size), vae32, repeats);
  emit({{"what", "vae_decode"}, {"variant", "fp32"}, {"seconds", vae32}});
  std::printf("peak memory: %.2f GiB\n", peak_rss_gib());
  if (bf16) {
    const torch::Tensor reference = vae->decode(latents);
    vae->to(torch::kBFloat16);
    const auto latents16 = latents.to(torch::kBFloat16);
    const torch::Tensor out16 = vae->decode(latents16).to(torch::kFloat);
    const double vae16 = kiln::bench::median_seconds(repeats, [&] { vae->decode(latents16); });
    std::printf("SD VAE decode %lldx%lld, bf16: %.2f s (median of %d), max abs diff to fp32 %.3f\n",
                static_cast<long long>(size), static_cast<long long>(size), vae16, repeats,
                (out16 - reference).abs().max().item<double>());
    emit({{"what", "vae_decode"}, {"variant", "bf16"}, {"seconds", vae16}});
    vae->to(torch::kFloat);
  }
  if (!has(argc, argv, "--no-tiled")) {
    // 1024x1024 with 512-pixel tiles: 9 tiles; memory is bounded by one tile, not the image.
    vae->set_tiling({true, 512, 0.25});
    const auto big = torch::randn({1, 4, 128, 128});
    const double s = kiln::bench::median_seconds(1, [&] { vae->decode(big); });
    std::printf("SD VAE tiled decode 1024x1024 (512-pixel tiles), fp32: %.2f s; peak memory %.2f GiB\n", s,
                peak_rss_gib());
  }
  return 0;
}
