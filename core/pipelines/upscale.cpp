#include "pipelines/upscale.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "base/error.h"
#include "pipelines/hires_fix.h"

namespace kiln::pipelines {

namespace {

constexpr std::int64_t kMaxSide = 16384;

// Tile starts along an axis of `length`: evenly spaced, each neighbour sharing at least `overlap`.
std::vector<std::int64_t> tile_starts(std::int64_t length, std::int64_t tile, std::int64_t overlap) {
  if (tile <= 0 || length <= tile) return {0};
  const std::int64_t n = (length - overlap + (tile - overlap) - 1) / (tile - overlap);  // ceil
  std::vector<std::int64_t> starts;
  for (std::int64_t k = 0; k < n; ++k)
    starts.push_back(std::llround(double(k) * double(length - tile) / double(n - 1)));
  return starts;
}

// Blend weights of tile `i` along one axis, in output pixels: 1 inside, 0 over the outer quarter of
// each overlap with a neighbour, linear over its middle half (neighbours' weights sum to 1 there).
torch::Tensor axis_weights(const std::vector<std::int64_t>& starts, std::size_t i, std::int64_t size,
                           std::int64_t scale) {
  const std::int64_t n = size * scale;
  torch::Tensor x = torch::arange(n, torch::kDouble) + 0.5;
  torch::Tensor w = torch::ones({n}, torch::kDouble);
  auto ramp = [&](const torch::Tensor& distance, std::int64_t overlap) {
    const double ov = double(overlap * scale);
    return ((distance - ov / 4.0) / (ov / 2.0)).clamp(0.0, 1.0);
  };
  if (i > 0) {
    const std::int64_t ov = starts[i - 1] + size - starts[i];
    if (ov > 0) w = torch::minimum(w, ramp(x, ov));
  }
  if (i + 1 < starts.size()) {
    const std::int64_t ov = starts[i] + size - starts[i + 1];
    if (ov > 0) w = torch::minimum(w, ramp(double(n) - x, ov));
  }
  return w.to(torch::kFloat);
}

torch::Tensor run_model(const models::LoadedUpscaler& u, const torch::Tensor& nchw) {
  return u.model->forward(nchw.to(u.device, u.dtype)).to(torch::kCPU, torch::kFloat);
}

}  // namespace

std::pair<std::int64_t, std::int64_t> upscaled_size(std::int64_t width, std::int64_t height, double scale) {
  return {std::int64_t(std::floor(double(width) * scale / 8.0)) * 8,
          std::int64_t(std::floor(double(height) * scale / 8.0)) * 8};
}

void validate_upscale(const models::LoadedUpscaler& upscaler, std::int64_t width, std::int64_t height,
                      const UpscaleOptions& o) {
  if (!std::isfinite(o.scale) || (o.scale != 0 && (o.scale < 1 || o.scale > 16)))
    throw InvalidRequestError("the upscale factor must be between 1 and 16, got " + std::to_string(o.scale));
  if (o.tile != 0 && o.tile < 32)
    throw InvalidRequestError("the upscale tile must be 0 (whole image) or at least 32 pixels, got " +
                              std::to_string(o.tile));
  if (o.overlap < 0 || (o.tile > 0 && o.overlap * 2 >= o.tile))
    throw InvalidRequestError("the tile overlap must be at least 0 and less than half the tile (" +
                              std::to_string(o.tile) + "), got " + std::to_string(o.overlap));
  if (width < 1 || height < 1) throw InvalidRequestError("cannot upscale an empty image");
  std::int64_t w = width * upscaler.config.scale(), h = height * upscaler.config.scale();
  if (o.scale > 0) {
    std::tie(w, h) = upscaled_size(width, height, o.scale);
    if (w < 8 || h < 8)
      throw InvalidRequestError("upscaling " + std::to_string(width) + "x" + std::to_string(height) + " by " +
                                std::to_string(o.scale) +
                                " leaves no pixel (sizes are rounded down to multiples of 8)");
  }
  if (w > kMaxSide || h > kMaxSide)
    throw InvalidRequestError("the upscaled size " + std::to_string(w) + "x" + std::to_string(h) + " is above " +
                                  std::to_string(kMaxSide) + " pixels a side",
                              "use a smaller upscale factor");
}

UpscaleResult run_upscaler_tiled(const models::LoadedUpscaler& u, const torch::Tensor& images, std::int64_t tile,
                                 std::int64_t overlap, std::stop_token stop,
                                 const std::function<void(std::int64_t, std::int64_t)>& progress) {
  c10::InferenceMode inference;
  const torch::Tensor x = images.to(torch::kFloat).permute({0, 3, 1, 2}).contiguous();  // [B, 3, H, W]
  const std::int64_t b = x.size(0), h = x.size(2), w = x.size(3), s = u.config.scale();
  const std::vector<std::int64_t> ys = tile_starts(h, tile, overlap), xs = tile_starts(w, tile, overlap);
  const std::int64_t th = std::min(h, tile > 0 ? tile : h), tw = std::min(w, tile > 0 ? tile : w);
  const auto tiles = static_cast<std::int64_t>(ys.size() * xs.size());
  UpscaleResult result;
  if (tiles == 1) {
    if (stop.stop_requested()) return {torch::Tensor(), true};
    result.images = run_model(u, x).clamp(0, 1).permute({0, 2, 3, 1}).contiguous();
    if (progress) progress(1, 1);
    return result;
  }
  torch::Tensor out = torch::zeros({b, 3, h * s, w * s});
  torch::Tensor weight = torch::zeros({h * s, w * s});
  std::int64_t done = 0;
  for (std::size_t iy = 0; iy < ys.size(); ++iy) {
    const torch::Tensor wy = axis_weights(ys, iy, th, s);
    for (std::size_t ix = 0; ix < xs.size(); ++ix) {
      if (stop.stop_requested()) return {torch::Tensor(), true};
      const torch::Tensor wx = axis_weights(xs, ix, tw, s);
      const torch::Tensor piece = run_model(u, x.narrow(2, ys[iy], th).narrow(3, xs[ix], tw));
      const torch::Tensor w2 = wy.unsqueeze(1) * wx.unsqueeze(0);
      out.narrow(2, ys[iy] * s, th * s).narrow(3, xs[ix] * s, tw * s).add_(piece * w2);
      weight.narrow(0, ys[iy] * s, th * s).narrow(1, xs[ix] * s, tw * s).add_(w2);
      if (progress) progress(++done, tiles);
    }
  }
  result.images = (out / weight).clamp(0, 1).permute({0, 2, 3, 1}).contiguous();
  return result;
}

UpscaleResult upscale_images(const models::LoadedUpscaler& u, const torch::Tensor& images, const UpscaleOptions& o,
                             std::stop_token stop, const std::function<void(const UpscaleProgress&)>& progress) {
  const std::int64_t h = images.size(1), w = images.size(2), s = u.config.scale();
  validate_upscale(u, w, h, o);
  std::int64_t dw = w * s, dh = h * s;
  if (o.scale > 0) std::tie(dw, dh) = upscaled_size(w, h, o.scale);
  // A1111: run the model until the image is at least the target (three passes at most; once even
  // when the target is not larger, unless the model does not change the size).
  std::int64_t passes = 1;
  if (s > 1) {
    std::int64_t cw = w * s, ch = h * s;
    while (passes < 3 && (cw < dw || ch < dh)) {
      cw *= s;
      ch *= s;
      ++passes;
    }
  }
  torch::Tensor current = images;
  for (std::int64_t pass = 1; pass <= passes; ++pass) {
    UpscaleResult r =
        run_upscaler_tiled(u, current, o.tile, o.overlap, stop, [&](std::int64_t tile, std::int64_t tiles) {
          if (progress) progress(UpscaleProgress{tile, tiles, pass, passes});
        });
    if (r.cancelled) return r;
    current = r.images;
  }
  if (current.size(1) != dh || current.size(2) != dw) {
    c10::InferenceMode inference;
    current = lanczos_resize(current, dh, dw);
  }
  return {current, false};
}

}  // namespace kiln::pipelines
