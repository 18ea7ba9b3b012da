#pragma once
// Image upscaling with an ESRGAN-family model (models/rrdbnet.h), as AUTOMATIC1111's upscalers
// and "Extras" tab do it.
//
// The model runs on overlapping tiles of the input (tile x tile input pixels, `overlap` pixels
// shared with each neighbour), so memory is bounded by the tile, not the image. Neighbouring
// tiles are blended over the middle half of their overlap with linear weights that sum to one;
// the outer quarter of each overlap, next to a tile's cut edge, is dropped, which hides the
// zero padding a cut edge sees. Each tile runs on the model's device and dtype; the stop token is
// checked before every tile.
//
// An arbitrary scale: the target is floor(size x scale / 8) x 8 (A1111's Upscaler.upscale); the
// model runs (up to three times) until the image is at least that large, then a Lanczos resize
// gives the exact size.

#include <cstdint>
#include <functional>
#include <stop_token>
#include <utility>

#include <torch/torch.h>

#include "models/rrdbnet.h"

namespace kiln::pipelines {

struct UpscaleOptions {
  double scale = 0;           // 0: the model's own scale
  std::int64_t tile = 256;    // input pixels per tile side; 0: the whole image at once
  std::int64_t overlap = 32;  // input pixels shared by neighbouring tiles
};

struct UpscaleProgress {
  std::int64_t tile = 0;  // 1-based, of this pass
  std::int64_t tiles = 0;
  std::int64_t pass = 0;  // 1-based model pass (more than one for scales above the model's)
  std::int64_t passes = 0;
};

struct UpscaleResult {
  torch::Tensor images;  // [B, H', W', 3] float in [0, 1] on the CPU; undefined when cancelled
  bool cancelled = false;
};

// The output size A1111 gives an image of width x height at `scale`: {width', height'}.
std::pair<std::int64_t, std::int64_t> upscaled_size(std::int64_t width, std::int64_t height, double scale);

// Throws InvalidRequestError for a scale other than 0 outside [1, 16], a tile below 32 (unless 0), an overlap
// below 0 or not smaller than half the tile, an output above 16384 pixels a side.
void validate_upscale(const models::LoadedUpscaler& upscaler, std::int64_t width, std::int64_t height,
                      const UpscaleOptions& options);

// One model pass over images [B, H, W, 3] in [0, 1] -> [B, H*s, W*s, 3] clamped to [0, 1], on the
// CPU in float. `progress` is called after each tile; `stop` checked before each.
UpscaleResult run_upscaler_tiled(const models::LoadedUpscaler& upscaler, const torch::Tensor& images, std::int64_t tile,
                                 std::int64_t overlap, std::stop_token stop = {},
                                 const std::function<void(std::int64_t tile, std::int64_t tiles)>& progress = {});

// The whole upscale to `options.scale` (model passes, then Lanczos when the size is not exact).
UpscaleResult upscale_images(const models::LoadedUpscaler& upscaler, const torch::Tensor& images,
                             const UpscaleOptions& options = {}, std::stop_token stop = {},
                             const std::function<void(const UpscaleProgress&)>& progress = {});

}  // namespace kiln::pipelines
