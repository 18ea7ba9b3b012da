#pragma once
// Stable Diffusion generation (txt2img, img2img, inpainting, ControlNet units) as diffusers'
// StableDiffusion(XL)(Img2Img|Inpaint|ControlNet)Pipeline computes it, so a seed gives the
// reference's image: every random draw comes from one LibTorch CPU generator seeded with the
// request's seed, in diffusers' order (img2img/inpaint: the VAE posterior sample first; then the
// initial latents for the whole batch in one call; then ancestral / DDPM noise in step()),
// drawn in float32 on the CPU and moved to the model's device, whatever the device. The stages
// are listed in pipeline_stages.h, the ControlNet rules (windows, control modes) in
// control_guidance.h.
//
// Synchronous and Qt-free: the caller runs it on a worker thread; `stop` is checked between
// steps and stages (a cancelled run returns cancelled = true, it is not an error).

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "pipelines/generation_request.h"
#include "pipelines/model_loading.h"

namespace kiln::pipelines {

struct StepInfo {
  std::int64_t step = 0;   // 1-based, of `total`
  std::int64_t total = 0;  // model calls of the run (PNDM: steps + 1; Heun, DPM2, DPM2 a: 2 steps - 1;
                           // img2img: the calls that run)
  double timestep = 0;
  double seconds = 0;      // since sampling began
  const torch::Tensor* latents = nullptr;  // [B, 4, h, w] after this step, on the model's device
  // The ControlNet residuals the UNet received at this step (the sum over the active units, in
  // down order, then the mid block); null when no unit was active.
  const models::UNetResiduals* control_residuals = nullptr;
};

struct GenerationCallbacks {
  std::function<void(std::string_view stage)> on_stage;  // "encoding prompt", "sampling", "decoding"
  std::function<void(const StepInfo&)> on_step;
  // Every `preview_every` steps (0 = never): the latents as an image, [B, H, W, 3] uint8 on the
  // CPU: decoded by the model's TAESD at full size when it has one (and `tiny_previews`), else a
  // cheap linear approximation at 1/8 of the output size.
  int preview_every = 0;
  bool tiny_previews = true;
  // TAESD previews cost time (a 512x512 decode is about 14 % of an SD 1.5 step on 2 CPU cores,
  // bench_taesd): one is made only while all previews so far stay within this fraction of the
  // sampling time (the first is always made), so they are skipped on slow machines and come every
  // step where they are cheap. The cheap linear previews are free and not counted.
  double preview_budget = 0.05;
  std::function<void(const torch::Tensor& preview, std::int64_t step)> on_preview;
};

struct GenerationResult {
  bool cancelled = false;
  torch::Tensor latents;  // [B, 4, h, w] float32 CPU, before the VAE
  torch::Tensor images;   // [B, H, W, 3] float32 CPU in [0, 1]
  std::vector<double> timesteps;  // the timesteps the UNet saw
  std::vector<std::string> warnings;
};

// Validates the request (validate_request) and runs it. Errors are kiln::Error: invalid requests
// before any work; failures inside LibTorch are wrapped with the stage they happened in.
GenerationResult generate(const StableDiffusionModel& model, const GenerationRequest& request,
                          std::stop_token stop = {}, const GenerationCallbacks& callbacks = {});

// diffusers' numpy_to_pil rounding: images [B, H, W, 3] in [0, 1] -> uint8, round(x * 255).
torch::Tensor to_uint8(const torch::Tensor& images);

// A cheap approximation of the decoded image from latents (a fixed linear map of the 4 latent
// channels to RGB, as AUTOMATIC1111's "Approx cheap" preview): [B, 4, h, w] -> [B, h, w, 3] uint8.
torch::Tensor latent_preview(const torch::Tensor& latents, bool sdxl);

// The latents decoded by a TAESD: [B, 4, h, w] -> [B, 8h, 8w, 3] float32 CPU in [0, 1] (as the VAE's
// images), and as uint8 for previews.
torch::Tensor tiny_decode(models::AutoencoderTiny taesd, const torch::Tensor& latents);
torch::Tensor tiny_preview(models::AutoencoderTiny taesd, const torch::Tensor& latents);

}  // namespace kiln::pipelines
