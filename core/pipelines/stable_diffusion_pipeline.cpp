#include "pipelines/stable_diffusion_pipeline.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>

#include "base/error.h"
#include "pipelines/prompt_encoder.h"
#include "schedulers/scheduler.h"
#include "schedulers/scheduler_config.h"
#include "schedulers/scheduler_factory.h"

namespace kiln::pipelines {

namespace {

using Clock = std::chrono::steady_clock;

// Runs `body`, turning LibTorch failures into kiln errors that name the stage.
template <class F>
auto in_stage(const std::string& stage, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError(stage + ": out of memory", "choose a smaller size or batch");
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("out of memory") != std::string::npos || what.find("can't allocate") != std::string::npos)
      throw OutOfMemoryError(stage + ": " + what, "choose a smaller size or batch, or enable VAE tiling");
    throw ComputeError(stage + ": " + what);
  }
}

std::string dtype_name(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kHalf: return "fp16";
    case torch::kBFloat16: return "bf16";
    default: return "fp32";
  }
}

struct Conditioning {
  torch::Tensor embeds;    // [(2)B, T, C]: [negative..., positive...] with CFG
  torch::Tensor pooled;    // SDXL
  torch::Tensor time_ids;  // SDXL [(2)B, 6]
};

// Appends copies of `chunk` ([1, 77, C]) until `embeds` has `tokens` positions (AUTOMATIC1111 pads
// the shorter of prompt and negative prompt with the empty prompt's encoding).
torch::Tensor pad_to(const torch::Tensor& embeds, const torch::Tensor& chunk, std::int64_t tokens) {
  std::vector<torch::Tensor> parts{embeds};
  for (std::int64_t t = embeds.size(1); t < tokens; t += chunk.size(1)) parts.push_back(chunk);
  return torch::cat(parts, 1);
}

Conditioning encode_prompts(const StableDiffusionModel& model, const GenerationRequest& r, bool cfg) {
  const bool sdxl = model.is_sdxl();
  const PromptEncoder encoder = sdxl ? PromptEncoder(model.text_encoder, model.text_encoder_2)
                                     : PromptEncoder(model.text_encoder);
  const bool sd2 = model.family == convert::ModelFamily::SD2 || model.family == convert::ModelFamily::SD2Inpaint;
  const text::PadConvention pad = sd2 ? text::PadConvention::SD2 : text::PadConvention::SD1;
  PromptEncodeOptions options;
  options.syntax = r.prompt_syntax;
  options.clip_skip = r.clip_skip;
  // diffusers' encode_prompt (SD and SDXL) applies clip_skip to the prompt only, never to the
  // negative prompt; AUTOMATIC1111 applies it to both. Plain syntax is diffusers' semantics.
  PromptEncodeOptions negative_options = options;
  if (r.prompt_syntax == text::PromptSyntax::Plain) negative_options.clip_skip = 1;
  const auto encode = [&](const std::string& prompt, const PromptEncodeOptions& o) {
    const text::TokenizedPrompt first = text::tokenize_prompt(*model.tokenizer, prompt, r.prompt_syntax, pad);
    if (!sdxl) return encoder.encode(first, o);
    const text::TokenizedPrompt second =
        text::tokenize_prompt(*model.tokenizer, prompt, r.prompt_syntax, text::PadConvention::SD2);
    return encoder.encode(first, second, o);
  };
  TextConditioning positive = encode(r.prompt, options);
  TextConditioning negative;
  if (cfg) {
    if (sdxl && r.negative_prompt.empty()) {
      // force_zeros_for_empty_prompt (SDXL base): no negative prompt = zero embeddings.
      negative.embeds = torch::zeros_like(positive.embeds);
      negative.pooled = torch::zeros_like(positive.pooled);
    } else {
      negative = encode(r.negative_prompt, negative_options);
    }
    if (negative.embeds.size(1) != positive.embeds.size(1)) {
      const torch::Tensor empty = sdxl && r.negative_prompt.empty() ? torch::zeros_like(positive.embeds.narrow(1, 0, 77))
                                                                    : encode("", negative_options).embeds;
      const std::int64_t tokens = std::max(negative.embeds.size(1), positive.embeds.size(1));
      negative.embeds = pad_to(negative.embeds, empty, tokens);
      positive.embeds = pad_to(positive.embeds, empty, tokens);
    }
  }
  const std::int64_t b = r.batch_size;
  Conditioning c;
  // num_images_per_prompt: every image of the batch gets the same conditioning.
  c.embeds = positive.embeds.repeat({b, 1, 1});
  if (cfg) c.embeds = torch::cat({negative.embeds.repeat({b, 1, 1}), c.embeds});
  if (sdxl) {
    c.pooled = positive.pooled.repeat({b, 1});
    if (cfg) c.pooled = torch::cat({negative.pooled.repeat({b, 1}), c.pooled});
    // (original size, crop top-left, target size): the output size, uncropped.
    const auto h = static_cast<float>(r.height), w = static_cast<float>(r.width);
    c.time_ids = torch::tensor({h, w, 0.0f, 0.0f, h, w}).view({1, 6}).repeat({c.pooled.size(0), 1}).to(c.pooled.options());
  }
  return c;
}

// A standard normal draw from the request's CPU generator, float32 on the CPU (the stream diffusers
// draws with a CPU torch.Generator), then moved to the model's device.
torch::Tensor draw(at::Generator& gen, at::IntArrayRef shape, const torch::Device& device) {
  return at::randn(shape, gen, torch::TensorOptions().dtype(torch::kFloat)).to(device);
}

// diffusers' retrieve_latents(vae.encode(image), generator) * scaling_factor, float32.
torch::Tensor encode_image(models::AutoencoderKL vae, const torch::Tensor& image, at::Generator& gen) {
  const torch::Tensor moments = vae->encode_moments(image.to(vae->device(), vae->dtype()));
  const models::DiagonalGaussian dist = models::AutoencoderKLImpl::distribution(moments);
  const torch::Tensor noise = draw(gen, dist.mean.sizes(), dist.mean.device()).to(dist.mean.scalar_type());
  return dist.sample_with_noise(noise).to(torch::kFloat) * vae->config().scaling_factor;
}

// VAE decode with the fp16 overflow fallback (SDXL's VAE produces inf/NaN in fp16): the decode is
// redone in fp32 when a half-precision result is not finite.
torch::Tensor decode_latents(models::AutoencoderKL vae, const torch::Tensor& latents,
                             std::vector<std::string>& warnings) {
  const torch::Tensor scaled = latents / vae->config().scaling_factor;
  torch::Tensor image = vae->decode(scaled.to(vae->dtype()));
  if (vae->dtype() != torch::kFloat && !torch::isfinite(image).all().item<bool>()) {
    warnings.push_back("the VAE overflowed in " + dtype_name(vae->dtype()) + "; the image was decoded again in fp32");
    const torch::Dtype original = vae->dtype();
    vae->to(torch::kFloat);
    try {
      image = vae->decode(scaled.to(torch::kFloat));
    } catch (...) {
      vae->to(original);
      throw;
    }
    vae->to(original);
  }
  if (!torch::isfinite(image).all().item<bool>())
    throw ComputeError("the VAE produced non-finite values (NaN or inf)",
                       "the model's weights may be damaged; try another VAE");
  return (image.to(torch::kFloat) / 2 + 0.5).clamp(0, 1).permute({0, 2, 3, 1}).contiguous().cpu();
}

GenerationResult cancelled_result() {
  GenerationResult result;
  result.cancelled = true;
  return result;
}

}  // namespace

torch::Tensor to_uint8(const torch::Tensor& images) {
  return (images.to(torch::kFloat) * 255).round().clamp(0, 255).to(torch::kUInt8);
}

torch::Tensor latent_preview(const torch::Tensor& latents, bool sdxl) {
  // AUTOMATIC1111's sd_vae_approx.cheap_approximation factors: latent channel -> RGB in [-1, 1].
  static const float kSd[4][3] = {{0.298f, 0.207f, 0.208f}, {0.187f, 0.286f, 0.173f},
                                  {-0.158f, 0.189f, 0.264f}, {-0.184f, -0.271f, -0.473f}};
  static const float kSdxl[4][3] = {{0.3448f, 0.4168f, 0.4395f}, {-0.1953f, -0.0290f, 0.0250f},
                                    {0.1074f, 0.0886f, -0.0163f}, {-0.3730f, -0.2499f, -0.2088f}};
  const torch::Tensor coefs = torch::from_blob(const_cast<float*>(&(sdxl ? kSdxl : kSd)[0][0]), {4, 3}).clone();
  const torch::Tensor rgb = torch::einsum("blhw,lr->bhwr", {latents.to(torch::kCPU, torch::kFloat), coefs});
  return ((rgb + 1) / 2 * 255).round().clamp(0, 255).to(torch::kUInt8);
}

GenerationResult generate(const StableDiffusionModel& model, const GenerationRequest& r, std::stop_token stop,
                          const GenerationCallbacks& callbacks) {
  validate_request(r, model);
  c10::InferenceMode inference;
  GenerationResult result;
  const auto stage = [&](std::string_view name) {
    if (callbacks.on_stage) callbacks.on_stage(name);
  };
  models::UNet2DConditionModel unet = model.unet;  // a handle: forward is not const
  const torch::Device device = model.unet->conv_in->weight.device();
  const torch::Dtype dtype = model.unet->conv_in->weight.scalar_type();
  const std::string size = std::to_string(r.width) + "x" + std::to_string(r.height) + ", " + dtype_name(dtype);
  const bool cfg = r.guidance_scale > 1.0;
  const std::int64_t b = r.batch_size, factor = model.vae->downscale_factor();
  const std::vector<std::int64_t> latent_shape{b, model.vae->config().latent_channels, r.height / factor,
                                               r.width / factor};
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(r.seed);

  stage("encoding prompt");
  const Conditioning cond = in_stage("prompt encoding", [&] { return encode_prompts(model, r, cfg); });
  if (stop.stop_requested()) return cancelled_result();

  const schedulers::SchedulerConfig config = schedulers::SchedulerConfig::from_json(model.scheduler_config);
  const std::unique_ptr<schedulers::Scheduler> scheduler = schedulers::make_scheduler(r.sampler, config);
  scheduler->set_timesteps(r.steps);

  const bool img2img = r.init_image.defined();
  const bool inpaint = r.mask.defined();
  const bool nine_channels = model.is_inpainting();
  std::int64_t k0 = 0;
  if (img2img) {
    // get_timesteps: the last `steps * strength` steps run.
    const auto init = std::min(static_cast<std::int64_t>(static_cast<double>(r.steps) * r.strength), r.steps);
    k0 = std::max<std::int64_t>(r.steps - init, 0) * scheduler->order();
    scheduler->set_begin_index(k0);
  }
  const std::int64_t total = scheduler->num_timesteps() - k0;

  torch::Tensor latents, noise, image_latents, mask, masked_image_latents;
  if (!img2img) {
    latents = draw(gen, latent_shape, device) * scheduler->init_noise_sigma();  // one draw for the batch
  } else {
    stage("encoding image");
    const bool strength_max = r.strength >= 1.0;
    in_stage("VAE encode, " + size, [&] {
      const torch::Tensor start_t = scheduler->timesteps().narrow(0, k0, 1).repeat({b});
      if (!inpaint || !strength_max || !nine_channels) {
        image_latents = encode_image(model.vae, r.init_image, gen).repeat({b, 1, 1, 1});
      }
      noise = draw(gen, latent_shape, device);
      if (inpaint && strength_max) {
        latents = noise * scheduler->init_noise_sigma();
      } else {
        latents = scheduler->add_noise(image_latents, noise, start_t);
      }
      if (inpaint) {
        // Binarised mask at latent size (nearest), masked image = the kept pixels only.
        const torch::Tensor binary = (r.mask >= 0.5).to(torch::kFloat).to(device);
        const torch::Tensor masked_image = r.init_image.to(device, torch::kFloat) * (binary < 0.5);
        mask = torch::nn::functional::interpolate(
            binary, torch::nn::functional::InterpolateFuncOptions().size(
                        std::vector<std::int64_t>{latent_shape[2], latent_shape[3]}));
        mask = mask.repeat({b, 1, 1, 1});
        masked_image_latents = encode_image(model.vae, masked_image, gen).repeat({b, 1, 1, 1});
      }
      return 0;
    });
  }
  if (stop.stop_requested()) return cancelled_result();

  // ControlNet images for the UNet batch ([negative..., positive...] with CFG).
  std::vector<torch::Tensor> control_images;
  for (const ControlNetGuidance& c : r.controlnets) {
    const torch::Tensor image = c.image.to(device, c.model->conv_in->weight.scalar_type()).repeat({b, 1, 1, 1});
    control_images.push_back(cfg ? torch::cat({image, image}) : image);
  }

  stage("sampling");
  const auto begin = Clock::now();
  for (std::int64_t k = k0; k < scheduler->num_timesteps(); ++k) {
    if (stop.stop_requested()) {
      result.cancelled = true;
      return result;
    }
    const std::int64_t i = k - k0;  // index within this run
    const double t = scheduler->timestep(k);
    result.timesteps.push_back(t);
    in_stage("UNet step " + std::to_string(i + 1) + "/" + std::to_string(total) + ", " + size, [&] {
      const torch::Tensor doubled = cfg ? torch::cat({latents, latents}) : latents;
      const torch::Tensor scaled = scheduler->scale_model_input(doubled, k);
      torch::Tensor unet_input = scaled;
      if (nine_channels) {
        const torch::Tensor m = cfg ? torch::cat({mask, mask}) : mask;
        const torch::Tensor mil = cfg ? torch::cat({masked_image_latents, masked_image_latents}) : masked_image_latents;
        unet_input = torch::cat({scaled, m, mil}, 1);
      }
      models::UNetAddedCond added;
      const models::UNetAddedCond* added_ptr = nullptr;
      if (cond.pooled.defined()) {
        added.text_embeds = cond.pooled.to(dtype);
        added.time_ids = cond.time_ids.to(dtype);
        added_ptr = &added;
      }
      models::UNetResiduals residuals;
      bool any_control = false;
      for (std::size_t n = 0; n < r.controlnets.size(); ++n) {
        const ControlNetGuidance& c = r.controlnets[n];
        const double fraction_begin = static_cast<double>(i) / static_cast<double>(total);
        const double fraction_end = static_cast<double>(i + 1) / static_cast<double>(total);
        if (fraction_begin < c.start || fraction_end > c.end) continue;  // diffusers' controlnet_keep = 0
        const torch::Dtype cn_dtype = c.model->conv_in->weight.scalar_type();
        models::UNetAddedCond cn_added = added;
        if (added_ptr) {
          cn_added.text_embeds = added.text_embeds.to(cn_dtype);
          cn_added.time_ids = added.time_ids.to(cn_dtype);
        }
        models::ControlNetModel net = c.model;  // a handle: forward is not const
        const models::ControlNetOutput out =
            net->forward(scaled.to(cn_dtype), t, cond.embeds.to(cn_dtype), control_images[n], c.scale,
                             added_ptr ? &cn_added : nullptr);
        if (!any_control) {
          residuals = out.residuals();
          any_control = true;
        } else {
          const models::UNetResiduals more = out.residuals();
          for (std::size_t j = 0; j < residuals.down_block_additional_residuals.size(); ++j)
            residuals.down_block_additional_residuals[j] =
                residuals.down_block_additional_residuals[j] + more.down_block_additional_residuals[j];
          residuals.mid_block_additional_residual =
              residuals.mid_block_additional_residual + more.mid_block_additional_residual;
        }
      }
      if (any_control) {
        for (auto& d : residuals.down_block_additional_residuals) d = d.to(dtype);
        residuals.mid_block_additional_residual = residuals.mid_block_additional_residual.to(dtype);
      }
      torch::Tensor noise_pred = unet->forward(unet_input.to(dtype), t, cond.embeds.to(dtype), added_ptr,
                                                     any_control ? &residuals : nullptr)
                                     .to(torch::kFloat);
      if (cfg) {
        const auto halves = noise_pred.chunk(2);
        noise_pred = halves[0] + r.guidance_scale * (halves[1] - halves[0]);
      }
      latents = scheduler->step(noise_pred, k, latents, &gen).prev_sample;
      if (inpaint && !nine_channels) {
        // Ordinary models inpaint by putting the kept region back, noised to the next level.
        torch::Tensor kept = image_latents;
        if (k + 1 < scheduler->num_timesteps())
          kept = scheduler->add_noise(image_latents, noise, scheduler->timesteps().narrow(0, k + 1, 1));
        latents = (1 - mask) * kept + mask * latents;
      }
      return 0;
    });
    StepInfo info;
    info.step = i + 1;
    info.total = total;
    info.timestep = t;
    info.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    info.latents = &latents;
    if (callbacks.on_step) callbacks.on_step(info);
    if (callbacks.preview_every > 0 && callbacks.on_preview && (i + 1) % callbacks.preview_every == 0 && i + 1 < total)
      callbacks.on_preview(latent_preview(latents, model.is_sdxl()), i + 1);
  }
  if (stop.stop_requested()) {
    result.cancelled = true;
    return result;
  }
  stage("decoding");
  result.latents = latents.to(torch::kCPU, torch::kFloat);
  result.images = in_stage("VAE decode, " + size, [&] { return decode_latents(model.vae, latents, result.warnings); });
  return result;
}

}  // namespace kiln::pipelines
