#pragma once
// What one generation run is asked to do, validated against the loaded model before any work:
// txt2img, img2img (init_image + strength), inpainting (init_image + mask; 9-channel inpainting
// models, or ordinary models by blending the unmasked latents back each step) and ControlNet
// guidance with several units. Images travel as tensors; loading and resizing files is the
// caller's job (app/bridge, core/control).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "convert/model_family.h"
#include "models/controlnet_model.h"
#include "schedulers/scheduler_kind.h"
#include "text/prompt.h"

namespace kiln::pipelines {

struct StableDiffusionModel;

// How a ControlNet unit weighs its residuals against the prompt (AUTOMATIC1111's "Control Mode").
enum class ControlMode {
  Balanced,                 // every residual x weight, on both halves of the CFG batch
  PromptMoreImportant,      // "My prompt is more important": residual i x weight x 0.825^(12 - i), both halves
  ControlNetMoreImportant,  // "ControlNet is more important": diffusers' guess mode, conditional half only
};

// One ControlNet unit (several may guide one run; their residuals are summed, unit 0 first).
struct ControlNetUnit {
  models::ControlNetModel model{nullptr};
  convert::ModelFamily family = convert::ModelFamily::ControlNetSD1;
  // [1, 3, H, W] float RGB in [0, 1]: the preprocessed control map, already at the output size
  // (core/control resizes it with the unit's resize mode; a map of another size is refused).
  torch::Tensor image;
  double weight = 1.0;            // conditioning scale: multiplies every residual
  double start = 0.0, end = 1.0;  // fractions of the steps where the unit applies (rule: control_units.h)
  ControlMode mode = ControlMode::Balanced;
};

enum class VaeTilingMode { Auto, On, Off };
// Auto tiles images above 1536 x 1024 pixels (1.57 megapixels): an untiled SD VAE decode of that
// size peaks at about 10 GB in fp32 / 5 GB in fp16 (its 128-channel full-size activations).
inline constexpr std::int64_t kAutoVaeTilingPixels = 1536 * 1024;
const char* vae_tiling_name(VaeTilingMode mode);  // "auto", "on", "off"
std::optional<VaeTilingMode> parse_vae_tiling(std::string_view name);

struct GenerationRequest {
  std::string prompt;
  std::string negative_prompt;  // "" = none (SDXL then uses zero embeddings, as diffusers)
  std::int64_t width = 512, height = 512;
  std::int64_t steps = 20;
  double guidance_scale = 7.0;  // classifier-free guidance; <= 1 skips the unconditional pass
  std::uint64_t seed = 0;
  std::int64_t batch_size = 1;  // images drawn in one call, as diffusers' num_images_per_prompt
  int clip_skip = 1;            // AUTOMATIC1111 numbering: 1 = last layer
  text::PromptSyntax prompt_syntax = text::PromptSyntax::A1111;
  schedulers::SchedulerKind sampler = schedulers::SchedulerKind::EulerAncestral;

  torch::Tensor init_image;  // img2img / inpainting: [1, 3, H, W] float in [-1, 1]
  double strength = 0.75;    // img2img / inpainting: 1 = start from pure noise
  torch::Tensor mask;        // inpainting: [1, 1, H, W] float in [0, 1], 1 = repaint
  // img2img from latents instead of pixels: [1 or batch, 4, H/8, W/8], already scaled by the VAE's
  // scaling factor (what sampling produced). Used by hires fix's latent upscalers; `strength`
  // applies as for init_image. Not with init_image or a mask.
  torch::Tensor init_latents;
  // The VAE in overlapping tiles (memory bounded by the tile, results differ very slightly from
  // one piece, as diffusers' enable_tiling). Auto: tiled above kAutoVaeTilingPixels, and an
  // untiled encode/decode that runs out of memory is done again in tiles (with a warning).
  VaeTilingMode vae_tiling = VaeTilingMode::Auto;
  // Decode the final latents with the model's TAESD (attach_taesd) instead of its VAE: a fraction
  // of the time, a little less detail ("Fast decode").
  bool fast_decode = false;

  std::vector<ControlNetUnit> control_units;

  // Textual inversion embeddings (embeddings.h): folders whose files' names, used in the prompt
  // or negative prompt, expand to their vectors. Checked against the model when the prompts are
  // encoded, before sampling.
  std::vector<std::filesystem::path> embedding_folders;
};

// Throws kiln::InvalidRequestError naming the field and the allowed values.
void validate_request(const GenerationRequest& request, const StableDiffusionModel& model);

// The image side the model was trained at (512 SD 1.x/2.x-base, 768 SD 2.x v, 1024 SDXL; the
// tiny test model 64).
std::int64_t native_resolution(const StableDiffusionModel& model);

}  // namespace kiln::pipelines
