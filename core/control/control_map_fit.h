#pragma once
// Fitting a preprocessor's map to the generation size as A1111's ControlNet extension does
// (`Script.detectmap_proc` with `high_quality_resize`): the interpolation is chosen from the
// map's colour count, binary maps are re-binarised (Otsu) and one-pixel edges thinned
// (lvmin_thin), and the three resize modes crop or fill. Inpaint maps (RGBA, alpha = mask)
// take the float32 path and become ControlNet's `control` and `hint` tensors.

#include <vector>

#include "control/control_image.h"
#include "control/geometry.h"

namespace kiln::control {

// `detectmap_proc(map, module, mode, height, width)` for every module but inpaint: HWC3, then
// `mode` to height x width. The returned map is what A1111 shows; ControlNet's control tensor is
// map / 255 as 1x3xHxW.
ControlImage fit_control_map(const ControlImage& map, ResizeMode mode, int height, int width);

// The RGBA map of an inpaint unit: HWC3 of the image with the mask's first channel as alpha
// (A1111 `choose_input_image`); the mask must have the image's size. Nonzero = repaint.
ControlImage make_inpaint_input(const ControlImage& image, const ControlImage& mask);

struct InpaintControl {
  int width = 0;
  int height = 0;
  // 1x4xHxW float32, channel planes: RGB / 255 (CUBIC up-scaling may leave [0, 1] slightly,
  // kept as is), then the mask as 0/1.
  std::vector<float> control;
  // 1x3xHxW float32, what the inpaint ControlNet receives (A1111 hook.py): RGB / 255 where the
  // mask is 0 and exactly -1 where it is set.
  std::vector<float> hint;
  ControlImage mask;  // H x W grey, 0 or 255
};

// `detectmap_proc(rgba, "inpaint_only", mode, height, width)` followed by the hint lines of
// hook.py (trap 26). In Resize and Fill the filled border is masked (outpainting).
InpaintControl inpaint_control(const ControlImage& rgba, ResizeMode mode, int height, int width);

}  // namespace kiln::control
