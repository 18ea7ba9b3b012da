#include "pipelines/hires_fix.h"

#include <cmath>

#include "base/error.h"
#include "pipelines/generation_request.h"
#include "pipelines/model_loading.h"
#include "pipelines/upscale.h"

namespace kiln::pipelines {

namespace {

namespace F = torch::nn::functional;

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

// [out, in] weights of PIL's Lanczos (a = 3) along one axis.
torch::Tensor lanczos_weights(std::int64_t in, std::int64_t out) {
  const double scale = double(in) / double(out);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 3.0 * filter_scale;
  torch::Tensor w = torch::zeros({out, in}, torch::kDouble);
  auto a = w.accessor<double, 2>();
  for (std::int64_t i = 0; i < out; ++i) {
    const double center = (double(i) + 0.5) * scale;
    const auto lo = std::max<std::int64_t>(0, std::int64_t(center - support + 0.5));
    const auto hi = std::min<std::int64_t>(in, std::int64_t(center + support + 0.5));
    double total = 0;
    for (std::int64_t j = lo; j < hi; ++j) {
      const double x = (double(j) - center + 0.5) / filter_scale;
      const double v = std::abs(x) < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
      a[i][j] = v;
      total += v;
    }
    if (total != 0)
      for (std::int64_t j = lo; j < hi; ++j) a[i][j] /= total;
  }
  return w.to(torch::kFloat);
}

torch::Tensor resize_latents(const torch::Tensor& latents, const std::string& mode, std::int64_t h, std::int64_t w) {
  auto options = F::InterpolateFuncOptions().size(std::vector<std::int64_t>{h, w});
  if (mode == "Latent") options.mode(torch::kBilinear).align_corners(false);
  else if (mode == "Latent (antialiased)") options.mode(torch::kBilinear).align_corners(false).antialias(true);
  else if (mode == "Latent (bicubic)") options.mode(torch::kBicubic).align_corners(false);
  else if (mode == "Latent (bicubic antialiased)") options.mode(torch::kBicubic).align_corners(false).antialias(true);
  else if (mode == "Latent (nearest)") options.mode(torch::kNearest);
  else options.mode(torch::kNearestExact);
  return F::interpolate(latents, options);
}

}  // namespace

const std::vector<std::string>& hires_upscalers() {
  static const std::vector<std::string> names{"Latent",
                                              "Latent (antialiased)",
                                              "Latent (bicubic)",
                                              "Latent (bicubic antialiased)",
                                              "Latent (nearest)",
                                              "Latent (nearest-exact)",
                                              "Lanczos",
                                              "Nearest"};
  return names;
}

bool is_latent_upscaler(const std::string& name) { return name.starts_with("Latent"); }

std::pair<std::int64_t, std::int64_t> hires_size(const GenerationRequest& r, const HiresFix& h) {
  std::int64_t w = h.resize_x, hh = h.resize_y;
  if (w <= 0 && hh <= 0) {
    w = std::int64_t(std::floor(double(r.width) * h.scale));
    hh = std::int64_t(std::floor(double(r.height) * h.scale));
  } else if (w <= 0) {
    w = std::int64_t(std::floor(double(r.width) * double(hh) / double(r.height)));
  } else if (hh <= 0) {
    hh = std::int64_t(std::floor(double(r.height) * double(w) / double(r.width)));
  }
  return {w / 8 * 8, hh / 8 * 8};
}

void validate_hires(const GenerationRequest& r, const HiresFix& h) {
  const auto& names = hires_upscalers();
  if (h.uses_upscaler_model()) {
    if (!h.loaded_upscaler && !std::filesystem::is_regular_file(h.upscaler_model))
      throw InvalidRequestError("the hires upscaler model " + h.upscaler_model.string() + " does not exist");
  } else if (std::find(names.begin(), names.end(), h.upscaler) == names.end()) {
    std::string all;
    for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
    throw InvalidRequestError("unknown hires upscaler '" + h.upscaler + "'", "one of " + all);
  }
  if (r.init_image.defined() || r.init_latents.defined() || r.mask.defined())
    throw InvalidRequestError("hires fix is for text to image", "use img2img at the larger size instead");
  if (h.resize_x <= 0 && h.resize_y <= 0 && (!std::isfinite(h.scale) || h.scale < 1.0 || h.scale > 4.0))
    throw InvalidRequestError("hires scale must be between 1 and 4, got " + std::to_string(h.scale));
  const auto [w, hh] = hires_size(r, h);
  if (w < r.width || hh < r.height)
    throw InvalidRequestError("the hires size " + std::to_string(w) + "x" + std::to_string(hh) +
                              " is smaller than the first pass (" + std::to_string(r.width) + "x" +
                              std::to_string(r.height) + ")");
  if (w > 4096 || hh > 4096)
    throw InvalidRequestError("the hires size " + std::to_string(w) + "x" + std::to_string(hh) + " is above 4096",
                              "lower the hires scale, or upscale the result afterwards");
  if (h.steps < 0 || h.steps > 150) throw InvalidRequestError("hires steps must be 0 (same as the first pass) to 150");
  if (!std::isfinite(h.denoising) || h.denoising < 0 || h.denoising > 1)
    throw InvalidRequestError("hires denoising strength must be between 0 and 1, got " + std::to_string(h.denoising));
  const std::int64_t steps = h.steps > 0 ? h.steps : r.steps;
  if (std::int64_t(double(steps) * h.denoising) < 1)
    throw InvalidRequestError("hires denoising " + std::to_string(h.denoising) + " with " + std::to_string(steps) +
                                  " steps leaves no step to run",
                              "raise the denoising strength or the hires steps");
}

torch::Tensor lanczos_resize(const torch::Tensor& images, std::int64_t height, std::int64_t width, bool channels_first) {
  torch::Tensor x = channels_first ? images : images.permute({0, 3, 1, 2});
  x = x.to(torch::kFloat);
  const torch::Tensor wh = lanczos_weights(x.size(2), height).to(x.device());
  const torch::Tensor ww = lanczos_weights(x.size(3), width).to(x.device());
  // out[b, c] = Wh @ x[b, c] @ Ww^T
  torch::Tensor out = torch::matmul(torch::matmul(wh, x), ww.t()).clamp(0, 1);
  return channels_first ? out.contiguous() : out.permute({0, 2, 3, 1}).contiguous();
}

GenerationResult generate_hires(const StableDiffusionModel& model, const GenerationRequest& r, const HiresFix& h,
                                std::stop_token stop, const GenerationCallbacks& callbacks) {
  validate_hires(r, h);
  const auto [width, height] = hires_size(r, h);
  GenerationRequest second = r;
  second.width = width;
  second.height = height;
  second.steps = h.steps > 0 ? h.steps : r.steps;
  second.strength = h.denoising;
  // The second pass must validate before the first runs: nothing is computed for nothing.
  for (ControlNetUnit& u : second.control_units)
    u.image = F::interpolate(u.image, F::InterpolateFuncOptions()
                                          .size(std::vector<std::int64_t>{height, width})
                                          .mode(torch::kBilinear)
                                          .align_corners(false))
                  .clamp(0, 1);
  const bool latent = !h.uses_upscaler_model() && is_latent_upscaler(h.upscaler);
  if (latent) {
    second.init_latents = torch::zeros({1, 4, height / 8, width / 8});
  } else {
    second.init_image = torch::zeros({1, 3, height, width});
  }
  validate_request(second, model);

  // The upscaler model loads (and fails on a bad file) before the first pass runs.
  std::shared_ptr<const models::LoadedUpscaler> upscaler = h.loaded_upscaler;
  if (!upscaler && h.uses_upscaler_model()) {
    const torch::Device device = model.unet->parameters().front().device();
    upscaler = std::make_shared<const models::LoadedUpscaler>(
        models::load_upscaler(h.upscaler_model, device, device.is_cuda() ? torch::kHalf : torch::kFloat));
  }

  GenerationResult first = generate(model, r, stop, callbacks);
  if (first.cancelled) return first;
  if (callbacks.on_stage) callbacks.on_stage("hires fix: upscaling");
  c10::InferenceMode inference;
  if (latent) {
    second.init_latents = resize_latents(first.latents, h.upscaler, height / 8, width / 8);
    second.init_image = torch::Tensor();
  } else {
    torch::Tensor up;
    if (upscaler) {
      // A1111's resize_image: the model to at least the target, then Lanczos to it exactly.
      UpscaleOptions options;
      options.scale = std::max(double(width) / double(r.width), double(height) / double(r.height));
      options.tile = h.upscaler_tile;
      options.overlap = std::min<std::int64_t>(options.overlap, h.upscaler_tile / 4);
      const UpscaleResult upscaled = upscale_images(*upscaler, first.images.narrow(0, 0, 1), options, stop);
      if (upscaled.cancelled) {
        first.cancelled = true;
        return first;
      }
      up = upscaled.images;
      if (up.size(1) != height || up.size(2) != width) up = lanczos_resize(up, height, width);
    } else if (h.upscaler == "Lanczos") {
      up = lanczos_resize(first.images, height, width);
    } else {  // Nearest
      up = F::interpolate(first.images.permute({0, 3, 1, 2}),
                          F::InterpolateFuncOptions().size(std::vector<std::int64_t>{height, width}).mode(torch::kNearest))
               .permute({0, 2, 3, 1});
    }
    // One image per run: the first of the batch seeds the second pass of each (as a batch of
    // init images is not supported by img2img here).
    second.init_image = (up.narrow(0, 0, 1).permute({0, 3, 1, 2}) * 2.0 - 1.0).contiguous();
    second.init_latents = torch::Tensor();
  }
  GenerationResult out = generate(model, second, stop, callbacks);
  out.warnings.insert(out.warnings.begin(), first.warnings.begin(), first.warnings.end());
  return out;
}

}  // namespace kiln::pipelines
