// Stages 2 and 3 of generate(): the schedule, and the latents sampling starts from - txt2img
// (noise x init_noise_sigma), img2img (the image's latents noised to the first timestep run) and
// inpainting (9-channel models: mask + masked-image latents as extra UNet input; ordinary models:
// the kept region blended back after every step, in the denoising loop). The draws follow
// diffusers' order exactly (golden README, pipeline_more "Random numbers").
#include "pipelines/pipeline_stages.h"

#include <algorithm>

#include "schedulers/scheduler_config.h"
#include "schedulers/scheduler_factory.h"

namespace kiln::pipelines {

namespace {

// diffusers' retrieve_latents(vae.encode(image), generator) * scaling_factor, float32.
torch::Tensor encode_image(models::AutoencoderKL vae, const torch::Tensor& image, at::Generator& gen) {
  const torch::Tensor moments = vae->encode_moments(image.to(vae->device(), vae->dtype()));
  const models::DiagonalGaussian dist = models::AutoencoderKLImpl::distribution(moments);
  const torch::Tensor noise = draw(gen, dist.mean.sizes(), dist.mean.device()).to(dist.mean.scalar_type());
  return dist.sample_with_noise(noise).to(torch::kFloat) * vae->config().scaling_factor;
}

}  // namespace

torch::Tensor draw(at::Generator& gen, at::IntArrayRef shape, const torch::Device& device) {
  return at::randn(shape, gen, torch::TensorOptions().dtype(torch::kFloat)).to(device);
}

Schedule make_schedule(const StableDiffusionModel& model, const GenerationRequest& r) {
  Schedule s;
  const schedulers::SchedulerConfig config = schedulers::SchedulerConfig::from_json(model.scheduler_config);
  s.scheduler = schedulers::make_scheduler(r.sampler, config);
  s.scheduler->set_timesteps(r.steps);
  if (r.init_image.defined() || r.init_latents.defined()) {
    // get_timesteps: the last `steps * strength` steps run.
    const auto init = std::min(static_cast<std::int64_t>(static_cast<double>(r.steps) * r.strength), r.steps);
    s.first = std::max<std::int64_t>(r.steps - init, 0) * s.scheduler->order();
    s.scheduler->set_begin_index(s.first);
  }
  s.total = s.scheduler->num_timesteps() - s.first;
  return s;
}

InitialLatents prepare_initial_latents(const StableDiffusionModel& model, const GenerationRequest& r,
                                       const RunSetup& setup, const Schedule& schedule, at::Generator& gen) {
  InitialLatents init;
  const schedulers::Scheduler& scheduler = *schedule.scheduler;
  if (r.init_latents.defined()) {  // img2img from latents: no VAE encode, no draw for it
    const torch::Tensor start_t = scheduler.timesteps().narrow(0, schedule.first, 1).repeat({setup.batch});
    init.image_latents = r.init_latents.to(setup.device, torch::kFloat).expand({setup.batch, -1, -1, -1}).contiguous();
    init.noise = draw(gen, setup.latent_shape, setup.device);
    init.latents = scheduler.add_noise(init.image_latents, init.noise, start_t);
    return init;
  }
  if (!r.init_image.defined()) {
    init.latents =
        draw(gen, setup.latent_shape, setup.device) * scheduler.init_noise_sigma();  // one draw for the batch
    return init;
  }
  const std::int64_t b = setup.batch;
  const bool inpaint = r.mask.defined(), nine_channels = model.is_inpainting();
  const bool strength_max = r.strength >= 1.0;
  const torch::Tensor start_t = scheduler.timesteps().narrow(0, schedule.first, 1).repeat({b});
  // A 9-channel model at strength 1 starts from pure noise and never needs the image's latents.
  if (!inpaint || !strength_max || !nine_channels)
    init.image_latents = encode_image(model.vae, r.init_image, gen).repeat({b, 1, 1, 1});
  init.noise = draw(gen, setup.latent_shape, setup.device);
  init.latents = inpaint && strength_max ? init.noise * scheduler.init_noise_sigma()
                                         : scheduler.add_noise(init.image_latents, init.noise, start_t);
  if (inpaint) {
    // Binarised mask at latent size (nearest), masked image = the kept pixels only. The masked
    // image is encoded (one more draw) even for 4-channel models, as diffusers does.
    const torch::Tensor binary = (r.mask >= 0.5).to(torch::kFloat).to(setup.device);
    const torch::Tensor masked_image = r.init_image.to(setup.device, torch::kFloat) * (binary < 0.5);
    init.mask = torch::nn::functional::interpolate(
                    binary, torch::nn::functional::InterpolateFuncOptions().size(
                                std::vector<std::int64_t>{setup.latent_shape[2], setup.latent_shape[3]}))
                    .repeat({b, 1, 1, 1});
    init.masked_image_latents = encode_image(model.vae, masked_image, gen).repeat({b, 1, 1, 1});
  }
  return init;
}

}  // namespace kiln::pipelines
