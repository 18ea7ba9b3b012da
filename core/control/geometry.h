#pragma once
// Control-image geometry exactly as the reference computes it: HWC3, A1111's RGBA input rule,
// the two resize helpers (ControlNet 1.1 / controlnet_aux `resize_image`, A1111
// `resize_image_with_pad` + `remove_pad`), A1111's latent alignment and Pixel Perfect.
// Pixels are compared byte for byte with ../shared/golden/control_maps (same OpenCV 4.6).

#include <string>
#include <string_view>

#include "control/control_image.h"

namespace kiln::control {

// A1111's three ways of fitting a control map to the generation size (external_code.ResizeMode).
enum class ResizeMode {
  JustResize,     // "Just Resize": stretch to the size
  CropAndResize,  // "Crop and Resize" (INNER_FIT): cover the size, crop the centre
  ResizeAndFill,  // "Resize and Fill" (OUTER_FIT): fit inside, fill the rest with the border median
};
// A1111's labels: "Just Resize", "Crop and Resize", "Resize and Fill".
const char* to_string(ResizeMode mode);
// Accepts A1111's labels and the short names "just", "crop", "fill" (kiln-cli). Throws
// InvalidRequestError listing them.
ResizeMode parse_resize_mode(std::string_view text);

// util.HWC3 (controlnet_aux == A1111 annotator/util == CN11): grey -> 3 equal channels, RGB as is,
// RGBA composited over white in float32 and truncated (traps 1, 4): colour under alpha 0 is ignored.
ControlImage hwc3(const ControlImage& image);

// A1111 `choose_input_image.from_rgba_to_input` (trap 24): an RGBA unit image whose alpha is all
// <= 5 or all >= 250 gives its RGB; otherwise ("canvas scribble mode") HWC3 of the alpha.
// Other images are returned unchanged.
ControlImage from_rgba_to_input(const ControlImage& image);

// ControlNet 1.1 / controlnet_aux `util.resize_image`: short side to `resolution`, each side then
// rounded (half to even) to a multiple of 64; INTER_LANCZOS4 if that scales up, else INTER_AREA.
// Any channel count; callers pass HWC3 images as the reference does. Throws InvalidRequestError
// if a side would become 0.
ControlImage resize_image(const ControlImage& image, int resolution);

// A1111 `resize_image_with_pad`: HWC3, short side to `resolution` keeping the aspect exactly
// (sides rounded half to even; INTER_CUBIC up, INTER_AREA down), then edge-replicated padding at
// the bottom/right up to multiples of 64. Preprocessors run on `padded`; `remove_pad` crops
// their output back to target_height x target_width.
struct PaddedImage {
  ControlImage padded;
  int target_height = 0;
  int target_width = 0;
};
PaddedImage resize_image_with_pad(const ControlImage& image, int resolution);
ControlImage remove_pad(const PaddedImage& padding, const ControlImage& map);

// A1111 `align_dim_latent`: (x // 8) * 8.
int align_dim_latent(int x);

// A1111 `pixel_perfect_resolution` (trap 15): the preprocessor resolution that makes the map's
// short side land on the generation size. `target_*` are the aligned generation size
// (align_dim_latent of width/height). Resize and Fill uses the smaller scale, the other modes
// the larger. The estimation is rounded half to even and used as is (never clamped).
double pixel_perfect_estimation(int image_height, int image_width, int target_height, int target_width,
                                ResizeMode mode);
int pixel_perfect_resolution(int image_height, int image_width, int target_height, int target_width, ResizeMode mode);

}  // namespace kiln::control
