#include "pipelines/stable_diffusion_pipeline.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

#include "base/engine.h"
#include "base/error.h"
#include "pipelines/control_guidance.h"
#include "pipelines/pipeline_stages.h"

namespace kiln::pipelines {

namespace {

using Clock = std::chrono::steady_clock;

GenerationResult cancelled_result() {
  GenerationResult result;
  result.cancelled = true;
  return result;
}

// The UNet's input at index k: the scaled latents ([uncond, cond] halves with CFG), and for
// 9-channel inpainting models the mask and masked-image latents, unscaled.
torch::Tensor unet_input(const torch::Tensor& scaled, const InitialLatents& init, bool nine_channels, bool cfg) {
  if (!nine_channels) return scaled;
  const torch::Tensor mask = cfg ? torch::cat({init.mask, init.mask}) : init.mask;
  const torch::Tensor masked =
      cfg ? torch::cat({init.masked_image_latents, init.masked_image_latents}) : init.masked_image_latents;
  return torch::cat({scaled, mask, masked}, 1);
}

// Classifier-free guidance: uncond + g (cond - uncond).
torch::Tensor guided(const torch::Tensor& noise_pred, double guidance_scale) {
  const auto halves = noise_pred.chunk(2);
  return halves[0] + guidance_scale * (halves[1] - halves[0]);
}

// Inpainting with an ordinary (4-channel) model: after step k the kept region is put back, noised
// to the next step's level (clean after the last step).
torch::Tensor blend_kept_region(const torch::Tensor& latents, const InitialLatents& init,
                                const schedulers::Scheduler& scheduler, std::int64_t k) {
  torch::Tensor kept = init.image_latents;
  if (k + 1 < scheduler.num_timesteps())
    kept = scheduler.add_noise(init.image_latents, init.noise, scheduler.timesteps().narrow(0, k + 1, 1));
  return (1 - init.mask) * kept + init.mask * latents;
}

}  // namespace

std::string dtype_name(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kHalf:
      return "fp16";
    case torch::kBFloat16:
      return "bf16";
    default:
      return "fp32";
  }
}

RunSetup make_run_setup(const StableDiffusionModel& model, const GenerationRequest& r) {
  RunSetup s;
  s.device = model.unet->conv_in->weight.device();
  s.dtype = model.unet->conv_in->weight.scalar_type();
  s.cfg = r.guidance_scale > 1.0;
  s.batch = r.batch_size;
  const std::int64_t factor = model.vae->downscale_factor();
  s.latent_shape = {r.batch_size, model.vae->config().latent_channels, r.height / factor, r.width / factor};
  s.size_label = std::to_string(r.width) + "x" + std::to_string(r.height) + ", " + dtype_name(s.dtype);
  return s;
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

torch::Tensor to_uint8(const torch::Tensor& images) {
  return (images.to(torch::kFloat) * 255).round().clamp(0, 255).to(torch::kUInt8);
}

torch::Tensor latent_preview(const torch::Tensor& latents, bool sdxl) {
  // AUTOMATIC1111's sd_vae_approx.cheap_approximation factors: latent channel -> RGB in [-1, 1].
  static const float kSd[4][3] = {
      {0.298f, 0.207f, 0.208f}, {0.187f, 0.286f, 0.173f}, {-0.158f, 0.189f, 0.264f}, {-0.184f, -0.271f, -0.473f}};
  static const float kSdxl[4][3] = {{0.3448f, 0.4168f, 0.4395f},
                                    {-0.1953f, -0.0290f, 0.0250f},
                                    {0.1074f, 0.0886f, -0.0163f},
                                    {-0.3730f, -0.2499f, -0.2088f}};
  const torch::Tensor coefs = torch::from_blob(const_cast<float*>(&(sdxl ? kSdxl : kSd)[0][0]), {4, 3}).clone();
  const torch::Tensor rgb = torch::einsum("blhw,lr->bhwr", {latents.to(torch::kCPU, torch::kFloat), coefs});
  return ((rgb + 1) / 2 * 255).round().clamp(0, 255).to(torch::kUInt8);
}

torch::Tensor tiny_decode(models::AutoencoderTiny taesd, const torch::Tensor& latents) {
  const torch::Tensor image = taesd->decode(latents.to(taesd->device(), taesd->dtype()));
  if (!torch::isfinite(image).all().item<bool>())
    throw ComputeError("TAESD produced non-finite values (NaN or inf)", "the TAESD file may be damaged");
  return (image.to(torch::kFloat) / 2 + 0.5).clamp(0, 1).permute({0, 2, 3, 1}).contiguous().cpu();
}

torch::Tensor tiny_preview(models::AutoencoderTiny taesd, const torch::Tensor& latents) {
  return to_uint8(tiny_decode(std::move(taesd), latents));
}

namespace {

// Previews within their budget (GenerationCallbacks::preview_budget).
class Previews {
 public:
  Previews(const StableDiffusionModel& model, const GenerationCallbacks& callbacks)
      : model_(model), callbacks_(callbacks), tiny_(model.taesd && callbacks.tiny_previews) {}

  // `elapsed`: seconds since sampling began, previews included.
  void after_step(const torch::Tensor& latents, std::int64_t step, double elapsed) {
    if (!callbacks_.on_preview) return;
    if (!tiny_) {
      callbacks_.on_preview(latent_preview(latents, model_.is_sdxl()), step);
      return;
    }
    if (made_ > 0 && spent_ + spent_ / made_ > callbacks_.preview_budget * elapsed) return;
    const auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor image = tiny_preview(model_.taesd, latents);
    spent_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++made_;
    callbacks_.on_preview(image, step);
  }

 private:
  const StableDiffusionModel& model_;
  const GenerationCallbacks& callbacks_;
  const bool tiny_;
  double spent_ = 0;  // seconds of TAESD decodes so far
  int made_ = 0;
};

// Runs a VAE stage with the request's tiling (the VAE's own setting is put back afterwards). In
// Auto mode an untiled run that runs out of memory is done again in tiles, with a warning.
template <class F>
auto with_vae_tiling(const StableDiffusionModel& model, const GenerationRequest& r, const std::string& stage_name,
                     std::vector<std::string>& warnings, F&& body) -> decltype(body()) {
  models::AutoencoderKL vae = model.vae;
  const models::VAETiling before = vae->tiling();
  struct Restore {
    models::AutoencoderKL vae;
    models::VAETiling tiling;
    ~Restore() { vae->set_tiling(tiling); }
  } restore{vae, before};
  models::VAETiling tiling = before;
  tiling.enabled = r.vae_tiling == VaeTilingMode::On ||
                   (r.vae_tiling == VaeTilingMode::Auto && r.width * r.height > kAutoVaeTilingPixels);
  vae->set_tiling(tiling);
  try {
    return in_stage(stage_name, body);
  } catch (const OutOfMemoryError&) {
    if (r.vae_tiling != VaeTilingMode::Auto || tiling.enabled) throw;
  }
  release_free_memory();
  tiling.enabled = true;
  vae->set_tiling(tiling);
  warnings.push_back(stage_name + " ran out of memory in one piece and was done again in tiles");
  return in_stage(stage_name, body);
}

}  // namespace

GenerationResult generate(const StableDiffusionModel& model, const GenerationRequest& r, std::stop_token stop,
                          const GenerationCallbacks& callbacks) {
  validate_request(r, model);
  c10::InferenceMode inference;
  GenerationResult result;
  const auto stage = [&](std::string_view name) {
    if (callbacks.on_stage) callbacks.on_stage(name);
  };
  const RunSetup setup = make_run_setup(model, r);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(r.seed);

  stage("encoding prompt");
  const Conditioning cond = in_stage("prompt encoding", [&] { return encode_conditioning(model, r, setup.cfg); });
  if (stop.stop_requested()) return cancelled_result();

  const Schedule schedule = make_schedule(model, r);
  schedulers::Scheduler& scheduler = *schedule.scheduler;
  if (r.init_image.defined()) stage("encoding image");  // init_latents need no encoding
  InitialLatents init = with_vae_tiling(model, r, "VAE encode, " + setup.size_label, result.warnings,
                                        [&] { return prepare_initial_latents(model, r, setup, schedule, gen); });
  if (stop.stop_requested()) return cancelled_result();
  const ControlGuidance control(r.control_units, setup);

  stage("sampling");
  const bool nine_channels = model.is_inpainting(), blend = r.mask.defined() && !nine_channels;
  models::UNet2DConditionModel unet = model.unet;  // a handle: forward is not const
  models::UNetAddedCond added;
  if (cond.pooled.defined()) {
    added.text_embeds = cond.pooled.to(setup.dtype);
    added.time_ids = cond.time_ids.to(setup.dtype);
  }
  const torch::Tensor embeds = cond.embeds.to(setup.dtype);
  torch::Tensor& latents = init.latents;
  const auto begin = Clock::now();
  Previews previews(model, callbacks);
  for (std::int64_t k = schedule.first; k < scheduler.num_timesteps(); ++k) {
    if (stop.stop_requested()) return cancelled_result();
    const std::int64_t i = k - schedule.first;  // index within this run
    const double t = scheduler.timestep(k);
    result.timesteps.push_back(t);
    std::optional<models::UNetResiduals> residuals;
    in_stage("UNet step " + std::to_string(i + 1) + "/" + std::to_string(schedule.total) + ", " + setup.size_label,
             [&] {
               const torch::Tensor scaled =
                   scheduler.scale_model_input(setup.cfg ? torch::cat({latents, latents}) : latents, k);
               if (!control.empty()) residuals = control.residuals(i, schedule.total, scaled, t, cond);
               torch::Tensor noise_pred =
                   unet->forward(unet_input(scaled, init, nine_channels, setup.cfg).to(setup.dtype), t, embeds,
                                 cond.pooled.defined() ? &added : nullptr, residuals ? &*residuals : nullptr)
                       .to(torch::kFloat);
               if (setup.cfg) noise_pred = guided(noise_pred, r.guidance_scale);
               latents = scheduler.step(noise_pred, k, latents, &gen).prev_sample;
               if (blend) latents = blend_kept_region(latents, init, scheduler, k);
               return 0;
             });
    StepInfo info;
    info.step = i + 1;
    info.total = schedule.total;
    info.timestep = t;
    info.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    info.latents = &latents;
    info.control_residuals = residuals ? &*residuals : nullptr;
    if (callbacks.on_step) callbacks.on_step(info);
    if (callbacks.preview_every > 0 && (i + 1) % callbacks.preview_every == 0 && i + 1 < schedule.total)
      previews.after_step(latents, i + 1, info.seconds);
  }
  if (stop.stop_requested()) return cancelled_result();

  stage("decoding");
  result.latents = latents.to(torch::kCPU, torch::kFloat);
  if (r.fast_decode) {
    result.images = in_stage("TAESD decode, " + setup.size_label, [&] { return tiny_decode(model.taesd, latents); });
  } else {
    result.images = with_vae_tiling(model, r, "VAE decode, " + setup.size_label, result.warnings,
                                    [&] { return decode_latents(model.vae, latents, result.warnings); });
  }
  return result;
}

}  // namespace kiln::pipelines
