#pragma once
// What one generation run is asked to do, validated against the loaded model before any work:
// txt2img, img2img (init_image + strength), inpainting (init_image + mask; 9-channel inpainting
// models, or ordinary models by blending the unmasked latents back each step) and ControlNet
// guidance. Images travel as tensors; loading and resizing files is the caller's job (app/bridge).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "convert/model_family.h"
#include "models/controlnet_model.h"
#include "schedulers/scheduler_kind.h"
#include "text/prompt.h"

namespace kiln::pipelines {

struct StableDiffusionModel;

struct ControlNetGuidance {
  models::ControlNetModel model{nullptr};
  convert::ModelFamily family = convert::ModelFamily::ControlNetSD1;
  torch::Tensor image;          // [1, 3, H, W] float RGB in [0, 1], the request's size
  double scale = 1.0;           // multiplies every residual
  double start = 0.0, end = 1.0;  // fraction of the steps where it applies
};

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

  std::vector<ControlNetGuidance> controlnets;
};

// Throws kiln::InvalidRequestError naming the field and the allowed values.
void validate_request(const GenerationRequest& request, const StableDiffusionModel& model);

// The image side the model was trained at (512 SD 1.x/2.x-base, 768 SD 2.x v, 1024 SDXL; the
// tiny test model 64).
std::int64_t native_resolution(const StableDiffusionModel& model);

}  // namespace kiln::pipelines
