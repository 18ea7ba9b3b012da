#pragma once
// The stages of generate() (stable_diffusion_pipeline.cpp), in the order it runs them:
//
//   1. conditioning      encode_conditioning      prompts -> text embeddings [neg..., pos...] (+ SDXL pooled/time ids)
//   2. schedule          make_schedule            the sampler, and where img2img starts in its timesteps
//   3. initial latents   prepare_initial_latents  txt2img noise / img2img noised image latents / inpainting mask
//   4. denoising loop    (stable_diffusion_pipeline.cpp) per step: UNet input, ControlNet residuals
//                        (control_guidance.h), UNet, CFG, scheduler step, inpainting blend
//   5. decoding          decode_latents           VAE, with the fp16 overflow retry
//
// Internal to kiln_pipelines (not part of the engine's API): each stage is a plain function of
// the request and the previous stages' values, so a feature (hires fix, another inpainting
// variant) is one more stage or one more guidance term, not another branch in one long function.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "base/error.h"
#include "pipelines/generation_request.h"
#include "pipelines/model_loading.h"
#include "schedulers/scheduler.h"

namespace kiln::pipelines {

// Runs `body`, turning LibTorch failures into kiln errors that name the stage
// ("VAE decode, 64x64, fp32: ...").
template <class F>
auto in_stage(const std::string& stage, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError(stage + ": out of memory", "choose a smaller size or batch");
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("out of memory") != std::string::npos || what.find("can't allocate") != std::string::npos)
      throw OutOfMemoryError(stage + ": " + what,
                             "choose a smaller size or batch, or tile the VAE (kiln-cli generate --tiled-vae on; the "
                             "Generate page's Tiled VAE setting)");
    throw ComputeError(stage + ": " + what);
  }
}

std::string dtype_name(torch::Dtype dtype);

// What every stage needs to know about the run.
struct RunSetup {
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat;  // the UNet's
  bool cfg = false;                    // guidance_scale > 1: the UNet batch is [uncond..., cond...]
  std::int64_t batch = 1;
  std::vector<std::int64_t> latent_shape;  // [B, C, H/f, W/f]
  std::string size_label;                  // "64x64, fp32", for error messages
};
RunSetup make_run_setup(const StableDiffusionModel& model, const GenerationRequest& request);

// 1. Conditioning (conditioning.cpp).
struct Conditioning {
  torch::Tensor embeds;    // [(2)B, T, C]: [negative..., positive...] with CFG
  torch::Tensor pooled;    // SDXL [(2)B, P]
  torch::Tensor time_ids;  // SDXL [(2)B, 6]

  // The conditional half (guess mode feeds the ControlNet only that); the whole when no CFG.
  Conditioning conditional_half(bool cfg) const;
};
Conditioning encode_conditioning(const StableDiffusionModel& model, const GenerationRequest& request, bool cfg);

// 2. Schedule.
struct Schedule {
  std::unique_ptr<schedulers::Scheduler> scheduler;
  std::int64_t first = 0;  // index of the first step (img2img: t_start * order)
  std::int64_t total = 0;  // steps this run makes (diffusers' len(timesteps) after truncation)
};
Schedule make_schedule(const StableDiffusionModel& model, const GenerationRequest& request);

// 3. Initial latents (initial_latents.cpp). Draws from `gen` in diffusers' order.
struct InitialLatents {
  torch::Tensor latents;               // [B, 4, h, w] where sampling starts, float32 on the device
  torch::Tensor noise;                 // img2img / inpainting: the latent noise draw (reused by the blend)
  torch::Tensor image_latents;         // img2img, inpainting: scaling_factor x posterior sample of the image
  torch::Tensor mask;                  // inpainting: [B, 1, h, w], 1 = repaint
  torch::Tensor masked_image_latents;  // inpainting: [B, 4, h, w] (the UNet sees them only with 9 channels)
};
InitialLatents prepare_initial_latents(const StableDiffusionModel& model, const GenerationRequest& request,
                                       const RunSetup& setup, const Schedule& schedule, at::Generator& gen);

// A standard normal draw from the request's CPU generator, float32 on the CPU (the stream diffusers
// draws with a CPU torch.Generator), then moved to `device`.
torch::Tensor draw(at::Generator& gen, at::IntArrayRef shape, const torch::Device& device);

// 5. Decoding: VAE decode of latents -> [B, H, W, 3] float32 CPU in [0, 1]; fp16 overflow retried
// in fp32 (noted in `warnings`).
torch::Tensor decode_latents(models::AutoencoderKL vae, const torch::Tensor& latents,
                             std::vector<std::string>& warnings);

}  // namespace kiln::pipelines
