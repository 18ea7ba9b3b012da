// Full-size SD 1.5 UNet and VAE with random weights on CPU (fp32; bf16 as an option): one UNet
// step at 64x64 latents, batch 2 (classifier-free guidance), and a 512x512 VAE decode, with peak
// resident memory. Usage: bench_unet_vae [repeats=3] [bf16]
#include <torch/torch.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/engine.h"
#include "bench_util.h"
#include "models/autoencoder_kl.h"
#include "models/unet_2d_condition.h"

namespace {
double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}
}  // namespace

int main(int argc, char** argv) {
  const int threads = kiln::init_engine();
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 3;
  const bool bf16 = argc > 2 && std::strcmp(argv[2], "bf16") == 0;
  const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
  torch::manual_seed(0);
  c10::InferenceMode guard;

  kiln::models::UNet2DConditionModel unet(kiln::models::UNet2DConditionConfig::sd15());
  unet->to(dtype);
  unet->eval();
  const auto sample = torch::randn({2, 4, 64, 64}).to(dtype);
  const auto context = torch::randn({2, 77, 768}).to(dtype);
  const auto t = torch::tensor(500, torch::kLong);
  unet->forward(sample, t, context);  // warm-up (oneDNN primitive creation)
  const double s_unet = kiln::bench::median_seconds(repeats, [&] { unet->forward(sample, t, context); });
  std::printf("SD 1.5 UNet, %s, %d threads: one step at 64x64 latents, batch 2: %.2f s (median of %d)\n",
              bf16 ? "bf16" : "fp32", threads, s_unet, repeats);
  std::printf("peak memory after the UNet: %.2f GiB\n", peak_rss_gib());
  unet = nullptr;

  kiln::models::AutoencoderKL vae(kiln::models::AutoencoderKLConfig::sd());
  vae->to(dtype);
  vae->eval();
  const auto latents = torch::randn({1, 4, 64, 64}).to(dtype);
  vae->decode(latents);
  const double s_vae = kiln::bench::median_seconds(repeats, [&] { vae->decode(latents); });
  std::printf("SD VAE decode 512x512, %s: %.2f s (median of %d)\n", bf16 ? "bf16" : "fp32", s_vae, repeats);
  std::printf("peak memory: %.2f GiB\n", peak_rss_gib());
  return 0;
}
