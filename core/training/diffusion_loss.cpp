#include "training/diffusion_loss.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "schedulers/scheduler_factory.h"

namespace kiln::training {
namespace {

torch::Tensor randn_cpu(at::IntArrayRef shape, at::Generator& generator, const torch::Tensor& like) {
  return torch::randn(shape, generator, torch::TensorOptions().dtype(torch::kFloat))
      .to(like.device(), like.scalar_type());
}

// acp[t] shaped [B, 1, 1, 1] on the latents' device/dtype.
torch::Tensor at_timesteps(const torch::Tensor& acp, const torch::Tensor& timesteps, const torch::Tensor& like) {
  return acp.index_select(0, timesteps.cpu()).to(like.device(), like.scalar_type()).view({-1, 1, 1, 1});
}

}  // namespace

NoiseSchedule noise_schedule(const nlohmann::json& scheduler_config) {
  const auto config = schedulers::SchedulerConfig::from_json(scheduler_config);
  const auto scheduler = schedulers::make_scheduler(schedulers::SchedulerKind::DDPM, config);
  return NoiseSchedule{scheduler->alphas_cumprod().to(torch::kFloat).clone()};
}

torch::Tensor sample_latents(const torch::Tensor& moments, double scaling_factor, at::Generator& generator) {
  const models::DiagonalGaussian posterior = models::AutoencoderKLImpl::distribution(moments);
  return posterior.sample(generator) * scaling_factor;
}

NoiseDraw draw_noise(const torch::Tensor& latents, const NoiseSchedule& schedule, at::Generator& generator,
                     const DiffusionLossOptions& options) {
  const std::int64_t batch = latents.size(0);
  NoiseDraw draw;
  // The reference draws randn_like(latents) where its latents are channels-last (torch's CPU VAE
  // moments come out NHWC); a non-contiguous normal_ takes torch's per-element path, which draws
  // other numbers than the contiguous one. Drawing into the same layout reproduces its noise and
  // leaves the generator where it leaves it (golden/training: bit-identical noise and timesteps).
  draw.noise = torch::empty(latents.sizes(), torch::TensorOptions().dtype(torch::kFloat).memory_format(
                                                  torch::MemoryFormat::ChannelsLast))
                   .normal_(0.0, 1.0, generator)
                   .contiguous()
                   .to(latents.device(), latents.scalar_type());
  if (options.offset_noise != 0.0) {
    draw.noise = draw.noise + options.offset_noise * randn_cpu({batch, latents.size(1), 1, 1}, generator, latents);
  }
  draw.timesteps = torch::randint(0, schedule.num_train_timesteps(), {batch}, generator,
                                  torch::TensorOptions().dtype(torch::kLong));
  return draw;
}

DiffusionLoss diffusion_loss(models::UNet2DConditionModel unet, const torch::Tensor& latents,
                             const torch::Tensor& encoder_hidden_states, const NoiseSchedule& schedule,
                             at::Generator& generator, const DiffusionLossOptions& options,
                             const models::UNetAddedCond* added_cond) {
  if (options.prior_preservation && latents.size(0) % 2 != 0) {
    throw InvalidRequestError("prior preservation needs a batch of instance and class images in equal numbers");
  }
  return diffusion_loss(std::move(unet), latents, encoder_hidden_states, schedule,
                        draw_noise(latents, schedule, generator, options), options, added_cond);
}

DiffusionLoss diffusion_loss(models::UNet2DConditionModel unet, const torch::Tensor& latents,
                             const torch::Tensor& encoder_hidden_states, const NoiseSchedule& schedule,
                             const NoiseDraw& draw, const DiffusionLossOptions& options,
                             const models::UNetAddedCond* added_cond) {
  const std::int64_t batch = latents.size(0);
  if (options.prior_preservation && batch % 2 != 0) {
    throw InvalidRequestError("prior preservation needs a batch of instance and class images in equal numbers");
  }
  DiffusionLoss out;
  out.latents = latents;
  out.noise = draw.noise;
  out.timesteps = draw.timesteps;
  const torch::Tensor acp = at_timesteps(schedule.alphas_cumprod, out.timesteps, latents);
  const torch::Tensor sqrt_acp = acp.sqrt();
  const torch::Tensor sqrt_one_minus = (1.0 - acp).sqrt();
  out.noisy_latents = sqrt_acp * latents + sqrt_one_minus * out.noise;
  switch (options.prediction) {
    case convert::PredictionType::VPrediction: out.target = sqrt_acp * out.noise - sqrt_one_minus * latents; break;
    case convert::PredictionType::Epsilon:
    case convert::PredictionType::Unknown: out.target = out.noise; break;
  }
  out.model_pred =
      unet->forward(out.noisy_latents, out.timesteps.to(latents.device()), encoder_hidden_states, added_cond);

  torch::Tensor pred = out.model_pred.to(torch::kFloat);
  torch::Tensor target = out.target.to(torch::kFloat);
  torch::Tensor timesteps = out.timesteps;
  torch::Tensor pred_prior, target_prior;
  if (options.prior_preservation) {
    const std::int64_t half = batch / 2;
    pred_prior = pred.slice(0, half);
    target_prior = target.slice(0, half);
    pred = pred.slice(0, 0, half);
    target = target.slice(0, 0, half);
    timesteps = timesteps.slice(0, 0, half);
  }
  if (options.min_snr_gamma > 0) {
    const torch::Tensor acp_t = schedule.alphas_cumprod.index_select(0, timesteps).to(torch::kDouble);
    const torch::Tensor snr = acp_t / (1.0 - acp_t);
    torch::Tensor weight = torch::clamp(snr, c10::nullopt, options.min_snr_gamma) / snr;
    if (options.prediction == convert::PredictionType::VPrediction) weight = weight + 1.0;
    const torch::Tensor per_item = (pred - target).pow(2).mean({1, 2, 3});
    out.instance_loss = (per_item * weight.to(per_item.device(), torch::kFloat)).mean();
  } else {
    out.instance_loss = torch::mse_loss(pred, target);
  }
  out.loss = out.instance_loss;
  if (options.prior_preservation) {
    out.prior_loss = torch::mse_loss(pred_prior, target_prior);
    out.loss = out.instance_loss + options.prior_loss_weight * out.prior_loss;
  }
  return out;
}

}  // namespace kiln::training
