#include "pipelines/generation_request.h"

#include <cmath>
#include <string>

#include "base/error.h"
#include "pipelines/model_loading.h"

namespace kiln::pipelines {

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_image(const torch::Tensor& image, std::int64_t channels, const GenerationRequest& r, const std::string& field) {
  if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != channels || image.size(2) != r.height ||
      image.size(3) != r.width) {
    throw InvalidRequestError(field + " must be [1, " + std::to_string(channels) + ", " + std::to_string(r.height) + ", " +
                                  std::to_string(r.width) + "] (the requested size), got " + shape_of(image),
                              "resize the image to the output size first");
  }
  if (!image.is_floating_point()) throw InvalidRequestError(field + " must be a float tensor");
}

// Units are numbered from 1 in messages (A1111's infotext numbers them from 0: "ControlNet 0").
void check_control_unit(const ControlNetUnit& c, std::size_t index, const GenerationRequest& r,
                        const StableDiffusionModel& model) {
  const std::string unit = "ControlNet unit " + std::to_string(index + 1);
  if (!c.model) throw InvalidRequestError(unit + " has no model");
  if (!controlnet_fits(c.family, model.family))
    throw InvalidRequestError(unit + " is a " + std::string(convert::display_name(c.family)) + " and cannot guide a " +
                                  std::string(convert::display_name(model.family)) + " model",
                              "choose a ControlNet made for the model's family");
  if (!c.image.defined()) throw InvalidRequestError(unit + " has no control image");
  if (c.image.dim() != 4 || c.image.size(0) != 1 || c.image.size(1) != 3)
    throw InvalidRequestError(unit + ": the control image must be one RGB image [1, 3, H, W], got " + shape_of(c.image));
  if (c.image.size(2) != r.height || c.image.size(3) != r.width)
    throw InvalidRequestError(unit + ": the control image is " + std::to_string(c.image.size(3)) + "x" +
                                  std::to_string(c.image.size(2)) + " but the output is " + std::to_string(r.width) +
                                  "x" + std::to_string(r.height),
                              "resize the control image to the output size first (Just Resize, Crop and Resize "
                              "or Resize and Fill)");
  if (!c.image.is_floating_point()) throw InvalidRequestError(unit + ": the control image must be a float tensor");
  if (!std::isfinite(c.weight) || c.weight < 0 || c.weight > 10)
    throw InvalidRequestError(unit + " weight must be between 0 and 10, got " + std::to_string(c.weight));
  if (!(c.start >= 0 && c.start < c.end && c.end <= 1))
    throw InvalidRequestError(unit + " start/end must satisfy 0 <= start < end <= 1, got " + std::to_string(c.start) +
                              "/" + std::to_string(c.end));
}

}  // namespace

const char* vae_tiling_name(VaeTilingMode mode) {
  switch (mode) {
    case VaeTilingMode::Auto: return "auto";
    case VaeTilingMode::On: return "on";
    case VaeTilingMode::Off: return "off";
  }
  return "auto";
}

std::optional<VaeTilingMode> parse_vae_tiling(std::string_view name) {
  for (VaeTilingMode m : {VaeTilingMode::Auto, VaeTilingMode::On, VaeTilingMode::Off})
    if (name == vae_tiling_name(m)) return m;
  return std::nullopt;
}

std::int64_t native_resolution(const StableDiffusionModel& model) {
  return model.unet->config().sample_size * model.vae->downscale_factor();
}

void validate_request(const GenerationRequest& r, const StableDiffusionModel& model) {
  const std::int64_t native = native_resolution(model);
  const std::int64_t low = std::max<std::int64_t>(64, native / 4), high = native * 4;
  for (const auto& [field, value] : {std::pair{"width", r.width}, std::pair{"height", r.height}}) {
    if (value % 8 != 0)
      throw InvalidRequestError(std::string(field) + " must be a multiple of 8, got " + std::to_string(value),
                                "e.g. " + std::to_string(value / 8 * 8) + " or " + std::to_string(value / 8 * 8 + 8));
    if (value < low || value > high)
      throw InvalidRequestError(std::string(field) + " " + std::to_string(value) + " is far from this model's native " +
                                    std::to_string(native) + " pixels",
                                "use " + std::to_string(low) + " to " + std::to_string(high));
  }
  if (r.fast_decode && !model.taesd)
    throw InvalidRequestError("fast_decode needs a TAESD", "choose a TAESD file (taesd_decoder / taesdxl_decoder) first");
  if (r.steps < 1 || r.steps > 1000)
    throw InvalidRequestError("steps must be between 1 and 1000, got " + std::to_string(r.steps));
  if (!std::isfinite(r.guidance_scale) || r.guidance_scale < 0 || r.guidance_scale > 100)
    throw InvalidRequestError("guidance scale (cfg) must be between 0 and 100, got " + std::to_string(r.guidance_scale));
  if (r.batch_size < 1 || r.batch_size > 64)
    throw InvalidRequestError("batch size must be between 1 and 64, got " + std::to_string(r.batch_size));
  const std::int64_t layers = model.text_encoder->config().num_hidden_layers;
  if (r.clip_skip < 1 || r.clip_skip > layers)
    throw InvalidRequestError("clip skip must be between 1 and " + std::to_string(layers) + ", got " +
                              std::to_string(r.clip_skip),
                              "1 = the last layer (AUTOMATIC1111's numbering)");

  const bool has_image = r.init_image.defined(), has_mask = r.mask.defined();
  if (r.init_latents.defined()) {
    if (has_image || has_mask) throw InvalidRequestError("init latents go without an init image or a mask");
    const auto s = r.init_latents.sizes();
    if (r.init_latents.dim() != 4 || s[1] != 4 || s[2] * 8 != r.height || s[3] * 8 != r.width ||
        (s[0] != 1 && s[0] != r.batch_size))
      throw InvalidRequestError("init latents must be [1 or batch, 4, height/8, width/8] for " + std::to_string(r.width) +
                                "x" + std::to_string(r.height));
    if (!std::isfinite(r.strength) || r.strength < 0 || r.strength > 1)
      throw InvalidRequestError("strength must be between 0 and 1, got " + std::to_string(r.strength));
    if (static_cast<std::int64_t>(static_cast<double>(r.steps) * r.strength) < 1)
      throw InvalidRequestError("strength " + std::to_string(r.strength) + " with " + std::to_string(r.steps) +
                                    " steps leaves no step to run",
                                "raise the denoising strength or the steps so that steps x strength >= 1");
  }
  if (has_image) {
    check_image(r.init_image, 3, r, "init image");
    if (!std::isfinite(r.strength) || r.strength < 0 || r.strength > 1)
      throw InvalidRequestError("strength must be between 0 and 1, got " + std::to_string(r.strength));
    if (!has_mask && static_cast<std::int64_t>(static_cast<double>(r.steps) * r.strength) < 1)
      throw InvalidRequestError("strength " + std::to_string(r.strength) + " with " + std::to_string(r.steps) +
                                    " steps leaves no step to run",
                                "raise the strength or the steps so that steps x strength >= 1");
  }
  if (has_mask) {
    if (!has_image) throw InvalidRequestError("a mask needs an init image to inpaint");
    check_image(r.mask, 1, r, "mask");
  }
  if (model.is_inpainting() && !(has_image && has_mask))
    throw InvalidRequestError("this is an inpainting model: it needs an init image and a mask",
                              "use an ordinary model for txt2img and img2img");
  for (std::size_t i = 0; i < r.control_units.size(); ++i) check_control_unit(r.control_units[i], i, r, model);
}

}  // namespace kiln::pipelines
