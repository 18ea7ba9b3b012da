#pragma once
// Loading and caching of the annotator networks, and the torch side of their post-processing.
// Internal to kiln_control_nets and its tests (includes LibTorch).

#include <filesystem>

#include <torch/torch.h>

#include "control/control_image.h"
#include "control/depth_anything_v2.h"
#include "control/hed_network.h"
#include "control/lineart_network.h"

namespace kiln::control {

// Open a .pth (safe pickle reader, nothing executed) or .safetensors file, build the network
// from its shapes and copy every tensor by name (one WeightMismatchError listing every missing,
// unexpected and mis-shaped key). fp32 on the CPU, eval mode. Errors name the file, the
// expected file names and where to get them.
ControlNetHED load_hed_network(const std::filesystem::path& path);
LineartGenerator load_lineart_network(const std::filesystem::path& path);
// The size comes from the embedding width (vits/vitb/vitl/vitg), or, for other widths, from
// the reference constructor arguments in the safetensors metadata ("vit", "head" JSON, as the
// golden generator writes them).
DepthAnythingV2 load_depth_anything_v2_network(const std::filesystem::path& path);

// A1111 DepthAnythingV2Detector / upstream infer_image after the model: `output` [1, h, w] ->
// bilinear to height x width (align_corners as given) -> (d - min) / (max - min) * 255 in
// float32 -> truncated to uint8 (a constant map gives 0). 1-channel.
ControlImage depth_output_to_map(const torch::Tensor& output, int height, int width, bool align_corners);

}  // namespace kiln::control
