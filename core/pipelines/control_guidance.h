#pragma once
// ControlNet guidance of the denoising loop: every step, each active unit runs its ControlNet on
// the UNet's (scaled) latent input and adds its weighted residuals; the UNet receives the sum
// (unit 0 first, as diffusers' MultiControlNetModel).
//
// Start/end window (diffusers' rule, which the goldens follow): with N = the steps this run makes
// (after img2img truncation; PNDM: steps + 1), step i (0-based) is guided when
//   i / N >= start  and  (i + 1) / N <= end
// i.e. diffusers' `keep = 1 - float(i / N < start or (i + 1) / N > end)`. AUTOMATIC1111's
// extension tests the step's start against both bounds (`i / N < start or i / N > end` stops it),
// so its window keeps one step more at the end: 10 steps with end 0.5 guide steps 0-4 here and
// 0-5 in A1111.
//
// Control modes (per unit; n = number of down residuals, residual k = 0..n-1 in down order, k = n
// the mid block; SD 1.x/2.x: n = 12, SDXL: n = 9):
// - Balanced: every residual x weight, both halves of the CFG batch.
// - PromptMoreImportant (A1111 "My prompt is more important", its soft injection): residual k x
//   weight x 0.825^(12 - k), both halves. A1111 zips its 13 scales with the residuals, so SDXL's
//   10 residuals get 0.825^12 .. 0.825^3; the same exponents are used here for any n.
// - ControlNetMoreImportant (diffusers' guess mode): with CFG the ControlNet runs on the
//   conditional half only (its latents, prompt embeddings, image) and the unconditional half gets
//   zero residuals; residual k x weight x logspace(-1, 0, n + 1)[k] (0.1 .. 1, float32). A1111's
//   "ControlNet is more important" also zeroes the unconditional half but scales by
//   0.825^(12 - k) (0.099 .. 1) instead; the goldens are diffusers'.

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "models/unet_2d_condition.h"
#include "pipelines/generation_request.h"
#include "pipelines/pipeline_stages.h"

namespace kiln::pipelines {

// diffusers' controlnet_keep for step i of n.
bool control_unit_active(const ControlNetUnit& unit, std::int64_t step, std::int64_t steps);

// The factor of residual k (0..residuals-1, the last is the mid block) for a unit's mode and weight.
// Balanced: weight; PromptMoreImportant: weight x 0.825^(12 - k); ControlNetMoreImportant:
// weight x logspace(-1, 0, residuals)[k] in float32.
std::vector<double> control_residual_scales(ControlMode mode, double weight, std::int64_t residuals);

class ControlGuidance {
 public:
  // Prepares each unit's control image for the UNet batch (duplicated for CFG except in guess mode).
  ControlGuidance(const std::vector<ControlNetUnit>& units, const RunSetup& setup);

  bool empty() const { return units_.empty(); }

  // The summed residuals for step i of n (in the UNet's dtype), or nullopt when no unit is active.
  // `scaled_input`: the UNet's latent input [(2)B, 4, h, w] after scale_model_input (without the
  // inpainting channels).
  std::optional<models::UNetResiduals> residuals(std::int64_t step, std::int64_t steps,
                                                 const torch::Tensor& scaled_input, double timestep,
                                                 const Conditioning& cond) const;

 private:
  struct PreparedUnit {
    const ControlNetUnit* unit;
    torch::Tensor image;  // [(2)B, 3, H, W] in the ControlNet's dtype and device
  };
  std::vector<PreparedUnit> units_;
  RunSetup setup_;
};

}  // namespace kiln::pipelines
