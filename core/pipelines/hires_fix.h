#pragma once
// AUTOMATIC1111's "Hires. fix" for txt2img: a first pass at the request's size, an upscale, and a
// second img2img pass at the larger size with its own steps and denoising strength (same prompt,
// seed and sampler; ControlNet maps resized to the new size).
//
// Upscalers, by A1111's names:
//   latent  "Latent" (bilinear), "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic
//           antialiased)", "Latent (nearest)", "Latent (nearest-exact)": the first pass's latents
//           are resized and the second pass starts from them (no VAE round trip);
//   image   "Lanczos" (Lanczos-3, as PIL resizes up) and "Nearest": the first pass is decoded,
//           resized and encoded again;
//   model   an ESRGAN-family model file (upscaler_model, pipelines/upscale.h): the decoded first
//           pass runs through it in tiles until it is at least the second pass's size, then a
//           Lanczos resize to that size (A1111's resize_image); `upscaler` then only names it
//           (A1111 writes the model's name, e.g. "4x-UltraSharp", as "Hires upscaler").
// The second pass runs steps x denoising of its steps (A1111's default, "img2img_fix_steps"
// off), so 20 steps at 0.7 denoise 14. Sizes: scale x the first pass (or resize_x/resize_y),
// rounded down to a multiple of 8. The second pass draws its noise from a generator seeded again
// with the request's seed, as A1111 seeds its hires pass; A1111's own random stream (its
// subseed/"ImageRNG" machinery) is not reproduced, so images match it in kind, not in pixels.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/rrdbnet.h"
#include "pipelines/stable_diffusion_pipeline.h"

namespace kiln::pipelines {

struct HiresFix {
  double scale = 2.0;              // used when resize_x and resize_y are 0
  std::int64_t resize_x = 0;       // A1111's "Resize width to" (0: from scale)
  std::int64_t resize_y = 0;
  std::string upscaler = "Latent";
  std::int64_t steps = 0;          // second pass steps; 0 = the first pass's
  double denoising = 0.7;
  // An upscaler model file instead of a named upscaler: loaded onto the UNet's device (fp16 on
  // CUDA, fp32 on the CPU) when the fix runs, unless `loaded_upscaler` already holds it.
  std::filesystem::path upscaler_model;
  std::shared_ptr<const models::LoadedUpscaler> loaded_upscaler;
  std::int64_t upscaler_tile = 256;  // tiles of the model upscale (pipelines::UpscaleOptions)
  bool uses_upscaler_model() const { return loaded_upscaler || !upscaler_model.empty(); }
};

// The names above, in A1111's order (latent ones first).
const std::vector<std::string>& hires_upscalers();
bool is_latent_upscaler(const std::string& name);
// The second pass's size for `request` (multiples of 8).
std::pair<std::int64_t, std::int64_t> hires_size(const GenerationRequest& request, const HiresFix& hires);
// Throws InvalidRequestError naming the field: an unknown upscaler (or a missing upscaler model file), a scale outside 1..4, a size
// smaller than the first pass or above 4096, denoising outside 0..1 or leaving no step, steps
// outside 0..150, or a request that is not txt2img.
void validate_hires(const GenerationRequest& request, const HiresFix& hires);

// Both passes. `callbacks.on_stage` sees "hires fix: upscaling" and the second pass's stages;
// on_step counts each pass from 1 (StepInfo.total is that pass's). The result is the second
// pass's, with the first pass's warnings too.
GenerationResult generate_hires(const StableDiffusionModel& model, const GenerationRequest& request,
                                const HiresFix& hires, std::stop_token stop = {},
                                const GenerationCallbacks& callbacks = {});

// Lanczos-3 resize of images [B, H, W, C] (or [B, C, H, W] with channels_first) in [0, 1], as PIL
// resamples (separable, support 3 scaled on downsizing, weights normalised per output pixel).
torch::Tensor lanczos_resize(const torch::Tensor& images, std::int64_t height, std::int64_t width,
                             bool channels_first = false);

}  // namespace kiln::pipelines
