// Training step speed and memory.
//
//   bench_train tiny [STEPS]                 the golden tiny SD 1.x pipeline at 64x64 with prior
//                                            preservation (batch 2 + 2): UNet, text-encoder and
//                                            LoRA steps per second on this machine
//   bench_train full [RES] [cpu|cuda] [no|fp16|bf16] [REPEATS] [checkpointing]
//                                            one full-size SD 1.5 DreamBooth UNet step (random
//                                            weights, batch 1, AdamW, clipping) at RES (default
//                                            512): median seconds and peak resident memory (on
//                                            CUDA bench/gpu/run.sh samples nvidia-smi for the
//                                            device's peak)
//
// Every step is the trainer's: posterior sample, noise and timesteps from one generator, the
// diffusion loss, backward, global-norm clipping, AdamW. Prints medians; asserts nothing.
#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/engine.h"
#include "bench_util.h"
#include "pipelines/model_loading.h"
#include "training/diffusion_loss.h"
#include "training/lora_network.h"
#include "training/mixed_precision.h"
#include "training/optimizer.h"

using namespace kiln;

namespace {

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
}

training::NamedParameters named(torch::nn::Module& m) {
  training::NamedParameters out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

int tiny(int steps) {
  pipelines::StableDiffusionModel model =
      pipelines::load_stable_diffusion(std::filesystem::path(KILN_SOURCE_DIR) / "tests/data/golden/pipeline/tiny_sd1");
  for (auto& p : model.vae->parameters()) p.set_requires_grad(false);
  const auto schedule = training::noise_schedule(model.scheduler_config);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  torch::manual_seed(1);
  const torch::Tensor pixels = torch::rand({4, 3, 64, 64}) * 2 - 1;
  const torch::Tensor moments = model.vae->encode_moments(pixels).detach();
  const torch::Tensor ids = torch::randint(0, 49407, {4, 77}, torch::kLong);
  training::DiffusionLossOptions options;
  options.prior_preservation = true;

  auto run = [&](const char* what, training::NamedParameters params, bool text_grad, training::LoRANetwork* lora) {
    training::AdamW optimizer(params);
    auto step = [&] {
      torch::Tensor hidden;
      if (text_grad) {
        hidden = model.text_encoder->forward(ids).last_hidden_state;
      } else {
        torch::NoGradGuard no_grad;
        hidden = model.text_encoder->forward(ids).last_hidden_state;
      }
      if (lora) lora->apply();
      const torch::Tensor latents = training::sample_latents(moments, 0.18215, gen);
      training::diffusion_loss(model.unet, latents, hidden, schedule, gen, options).loss.backward();
      training::clip_grad_norm(params, 1.0);
      optimizer.step(1e-5);
      optimizer.zero_grad();
    };
    step();
    const double s = bench::median_seconds(steps, step);
    std::printf("  %-34s %.4f s/step (median of %d) = %.1f steps/s\n", what, s, steps, 1.0 / s);
    if (lora) lora->detach();
  };

  for (auto& p : model.text_encoder->parameters()) p.set_requires_grad(false);
  for (auto& p : model.unet->parameters()) p.set_requires_grad(true);
  std::printf("tiny SD 1.x pipeline, 64x64, batch 2 instance + 2 class images, fp32:\n");
  run("DreamBooth UNet step", named(*model.unet), false, nullptr);
  for (auto& p : model.unet->parameters()) p.set_requires_grad(false);
  for (auto& p : model.text_encoder->parameters()) p.set_requires_grad(true);
  run("DreamBooth text-encoder step", named(*model.text_encoder), true, nullptr);
  for (auto& p : model.text_encoder->parameters()) p.set_requires_grad(false);
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(2);
  training::LoRANetwork lora(*model.unet, "lora_unet", training::unet_lora_targets(), 4, 4, init);
  run("LoRA (rank 4) UNet step", lora.parameters(), false, &lora);
  std::printf("peak memory: %.2f GiB\n", peak_rss_gib());
  return 0;
}

int full(int resolution, const std::string& device_name, const std::string& precision_name, int repeats,
         bool checkpointing) {
  const torch::Device device(device_name);
  training::MixedPrecision precision = training::MixedPrecision::No;
  if (precision_name == "fp16") precision = training::MixedPrecision::F16;
  if (precision_name == "bf16") precision = training::MixedPrecision::BF16;
  std::printf("full-size SD 1.5 UNet (random weights), %dx%d, batch 1, %s, mixed precision %s%s\n", resolution,
              resolution, device_name.c_str(), precision_name.c_str(), checkpointing ? ", gradient checkpointing" : "");
  torch::manual_seed(0);
  models::UNet2DConditionModel unet(models::UNet2DConditionConfig::sd15());
  unet->to(device);
  unet->train();
  unet->set_gradient_checkpointing(checkpointing);
  training::NamedParameters params = named(*unet);
  training::AdamW optimizer(params);
  training::MixedPrecisionContext mp(precision, device);
  const auto acp = torch::cumprod(1 - torch::linspace(std::sqrt(0.00085), std::sqrt(0.012), 1000).pow(2), 0);
  const training::NoiseSchedule schedule{acp.to(torch::kFloat)};
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const std::int64_t h = resolution / 8;
  const torch::Tensor moments = torch::randn({1, 8, h, h}).to(device);
  const torch::Tensor hidden = torch::randn({1, 77, 768}).to(device);
  training::DiffusionLossOptions options;
  auto step = [&] {
    const torch::Tensor latents = training::sample_latents(moments, 0.18215, gen);
    torch::Tensor loss;
    {
      auto scope = mp.autocast();
      loss = training::diffusion_loss(unet, latents, hidden, schedule, gen, options).loss;
    }
    mp.backward(loss);
    const bool ok = mp.unscale(params);
    training::clip_grad_norm(params, 1.0);
    if (ok) optimizer.step(2e-6);
    optimizer.zero_grad();
    mp.update(ok);
    sync(device);
  };
  step();  // warm-up (and the optimizer state)
  const double s = bench::median_seconds(repeats, step);
  std::printf("  DreamBooth UNet step: %.3f s (median of %d) = %.2f steps/s\n", s, repeats, 1.0 / s);
  std::printf("  peak resident memory: %.2f GiB\n", peak_rss_gib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = init_engine();
  std::printf("LibTorch %s, %d threads\n", TORCH_VERSION, threads);
  const std::string mode = argc > 1 ? argv[1] : "tiny";
  // As the trainer runs (see trainer.cpp); KILN_DENORMALS=1 measures without flushing.
  if (!std::getenv("KILN_DENORMALS")) at::globalContext().setFlushDenormal(true);
  try {
    if (mode == "tiny") return tiny(argc > 2 ? std::atoi(argv[2]) : 20);
    if (mode == "full") {
      return full(argc > 2 ? std::atoi(argv[2]) : 512, argc > 3 ? argv[3] : "cpu", argc > 4 ? argv[4] : "no",
                  argc > 5 ? std::atoi(argv[5]) : 3, argc > 6 && std::strcmp(argv[6], "checkpointing") == 0);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: bench_train tiny [STEPS] | full [RES] [cpu|cuda] [no|fp16|bf16] [REPEATS] [checkpointing]\n");
  return 2;
}
