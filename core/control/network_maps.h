#pragma once
// The image side of the network preprocessors, without LibTorch: building network inputs from
// 8-bit images and turning float outputs into 8-bit maps exactly as the reference's numpy /
// OpenCV code does (golden control_maps README, traps 1, 7, 10, 12, 17). Internal to
// kiln_control, kiln_control_nets and their tests.

#include <utility>
#include <vector>

#include "control/control_image.h"

namespace kiln::control {

// A float32 plane (row-major, height x width), or planes (C x height x width) for inputs.
struct FloatPlanes {
  int width = 0;
  int height = 0;
  int planes = 1;
  std::vector<float> values;
};

// The HWC uint8 RGB image as a 1 x 3 x H x W float32 network input: HED (0..255 as is) with
// scale 1, lineart (/255.0 in float32, trap 10) with divide_by_255.
FloatPlanes rgb_planes(const ControlImage& rgb, bool divide_by_255);

// annotator/hed apply_hed after the network (= controlnet_aux HEDdetector): each projection
// resized to width x height (float32 INTER_LINEAR), averaged in float32 (p1 + ... + p5, then /5),
// sigmoid in float64, then safe_step when `safe` (float32 floor(x * 3) / 2), *255, clip,
// truncate (trap 7). Returns a 1-channel map.
ControlImage hed_edge_map(const std::vector<FloatPlanes>& projections, int width, int height, bool safe);

// scribble_hed's post-processing of a 1-channel HED map: annotator/util nms(x, 127, 3.0)
// (float32 Gaussian, four 3x3 line dilations, > 127 -> 255), then an 8-bit GaussianBlur(3.0)
// and > 4 -> 255, else 0 (trap 17).
ControlImage hed_scribble(const ControlImage& edge_map);

// lineart: (line * 255.0).clip(0, 255).astype(np.uint8) of the 1 x 1 x H x W sigmoid output,
// 1 channel (the preprocessors invert it afterwards: 255 - map).
ControlImage lineart_line_map(const FloatPlanes& line);

// 255 - map, any channel count.
ControlImage invert_map(const ControlImage& map);

// INTER_LINEAR resize of an 8-bit image (controlnet_aux detectors' way to image_resolution).
ControlImage resize_linear(const ControlImage& image, int width, int height);

// Depth Anything V2's input transform (Resize "lower_bound" to multiples of 14, INTER_CUBIC on
// the float64 image /255.0, (x - mean) / std in float64, float32 CHW; trap 12) of an RGB image.
// `swap_rb`: A1111 passes RGB into cv2.COLOR_BGR2RGB, so the network sees BGR (trap 10);
// upstream's own infer_image reads BGR and converts, so it sees RGB (swap_rb = false).
FloatPlanes depth_anything_v2_input(const ControlImage& rgb, int input_size, bool swap_rb);

// Resize(..., ensure_multiple_of=14, resize_method="lower_bound") size for an image: {height,
// width}, each side rounded half to even to a multiple of 14, rounded up when below input_size.
std::pair<int, int> depth_anything_v2_input_size(int height, int width, int input_size);

}  // namespace kiln::control
