// TAESD against what it replaces, full-size random weights on the CPU: the 512x512 (and 1024x1024)
// decode by TAESD and by the SD VAE, and one batch-1 SD 1.5 UNet step at the same size, so the
// cost of a live TAESD preview per step and of "Fast decode" are read off as ratios. TAESD is
// timed with its weights as constructed and channels-last.
// Usage: bench_taesd [repeats=5] [--size=512] [--no-unet] [--no-vae]
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/engine.h"
#include "bench_util.h"
#include "models/autoencoder_kl.h"
#include "models/autoencoder_tiny.h"
#include "models/layers.h"
#include "models/unet_2d_condition.h"

namespace {

bool has(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return true;
  return false;
}

std::int64_t option(int argc, char** argv, const char* name, std::int64_t fallback) {
  const std::string prefix = std::string(name) + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return std::atoll(argv[i] + prefix.size());
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = kiln::init_engine();
  const int repeats = argc > 1 && argv[1][0] != '-' ? std::atoi(argv[1]) : 5;
  const std::int64_t size = option(argc, argv, "--size", 512), latent = size / 8;
  torch::manual_seed(0);
  c10::InferenceMode guard;
  std::printf("LibTorch %s, %d threads, %lldx%lld, median of %d\n", TORCH_VERSION, threads, static_cast<long long>(size),
              static_cast<long long>(size), repeats);
  const torch::Tensor z = torch::randn({1, 4, latent, latent});

  kiln::models::AutoencoderTiny taesd(kiln::models::AutoencoderTinyConfig{});
  taesd->eval();
  (void)taesd->decode(z);  // warm-up
  const double tiny = kiln::bench::median_seconds(repeats, [&] { (void)taesd->decode(z); });
  kiln::models::use_channels_last(*taesd);
  (void)taesd->decode(z);
  const double tiny_cl = kiln::bench::median_seconds(repeats, [&] { (void)taesd->decode(z); });
  std::printf("TAESD decode:              %8.3f s (contiguous)  %8.3f s (channels-last)\n", tiny, tiny_cl);
  const double best = std::min(tiny, tiny_cl);

  if (!has(argc, argv, "--no-vae")) {
    kiln::models::AutoencoderKL vae(kiln::models::AutoencoderKLConfig::sd());
    vae->eval();
    kiln::models::use_channels_last(*vae);
    (void)vae->decode(z);
    const double full = kiln::bench::median_seconds(std::max(1, repeats / 2), [&] { (void)vae->decode(z); });
    std::printf("SD VAE decode:             %8.3f s (channels-last)\n", full);
    std::printf("TAESD / VAE decode:        %8.4f  (Fast decode is %.1fx faster)\n", best / full, full / best);
  }
  if (!has(argc, argv, "--no-unet")) {
    kiln::models::UNet2DConditionModel unet(kiln::models::UNet2DConditionConfig::sd15());
    unet->eval();
    kiln::models::use_channels_last(*unet);
    const torch::Tensor text = torch::randn({1, 77, 768});
    const torch::Tensor t = torch::tensor({500});
    (void)unet->forward(z, t, text);
    const double step = kiln::bench::median_seconds(std::max(1, repeats / 2), [&] { (void)unet->forward(z, t, text); });
    std::printf("UNet step (batch 1):       %8.3f s\n", step);
    std::printf("TAESD preview / UNet step: %8.4f  (%.1f %% of a step)\n", best / step, 100.0 * best / step);
  }
  return 0;
}
