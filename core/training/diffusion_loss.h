#pragma once
// The denoising loss of one training batch, as diffusers' examples/dreambooth/train_dreambooth.py
// computes it (v0.32), with every random draw taken from one CPU generator in the script's order:
//   1. the VAE posterior sample of the batch (latents = sample * scaling_factor)
//   2. noise = randn_like(latents), drawn channels-last as the reference does (+ offset_noise *
//      randn(B, C, 1, 1) when enabled)
//   3. timesteps = randint(0, num_train_timesteps, (B,))
// then noisy = sqrt(acp) x0 + sqrt(1 - acp) noise; the target is the noise (epsilon) or the
// velocity (v-prediction). With prior preservation the batch is instance images then class
// images, and loss = mse(instance half) + prior_loss_weight * mse(class half). min-SNR weighting
// (gamma > 0) weighs the instance term per item by min(snr, gamma) / snr (+1 for v-prediction,
// as the script does).

#include <cstdint>

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include "convert/prediction_type.h"
#include "models/autoencoder_kl.h"
#include "models/unet_2d_condition.h"

namespace kiln::training {

struct DiffusionLossOptions {
  convert::PredictionType prediction = convert::PredictionType::Epsilon;
  bool prior_preservation = false;  // the second half of the batch holds class images
  double prior_loss_weight = 1.0;
  double offset_noise = 0.0;  // 0 = off; fast-stable-diffusion's option uses 0.1
  double min_snr_gamma = 0.0;  // 0 = off; 5 is the paper's value
};

// The forward process of the model's training schedule (alphas_cumprod of its scheduler config).
struct NoiseSchedule {
  torch::Tensor alphas_cumprod;  // float32 CPU [num_train_timesteps]
  std::int64_t num_train_timesteps() const { return alphas_cumprod.size(0); }
};

// From a diffusers scheduler config (any scheduler class: only the beta schedule counts).
NoiseSchedule noise_schedule(const nlohmann::json& scheduler_config);

struct DiffusionLoss {
  torch::Tensor loss;           // scalar, what backward() runs on
  torch::Tensor instance_loss;  // scalar (the whole batch without prior preservation)
  torch::Tensor prior_loss;     // scalar; undefined without prior preservation
  // What went in, for tests and diagnostics.
  torch::Tensor latents, noise, timesteps, noisy_latents, model_pred, target;
};

// Draws the posterior sample (step 1) of VAE moments ([B, 2*latent, h, w], from encode_moments)
// and scales it: what the UNet trains on.
torch::Tensor sample_latents(const torch::Tensor& moments, double scaling_factor, at::Generator& generator);

// Steps 2-3: the noise and the timesteps for `latents`, drawn from `generator` in that order.
struct NoiseDraw {
  torch::Tensor noise;      // like latents
  torch::Tensor timesteps;  // [B] int64, CPU
};
NoiseDraw draw_noise(const torch::Tensor& latents, const NoiseSchedule& schedule, at::Generator& generator,
                     const DiffusionLossOptions& options);

// The loss with the noise and timesteps given (data-parallel training draws them per example,
// each from a generator of its own, and concatenates them).
DiffusionLoss diffusion_loss(models::UNet2DConditionModel unet, const torch::Tensor& latents,
                             const torch::Tensor& encoder_hidden_states, const NoiseSchedule& schedule,
                             const NoiseDraw& draw, const DiffusionLossOptions& options,
                             const models::UNetAddedCond* added_cond = nullptr);

// Steps 2-3 and the loss, on latents from sample_latents. `encoder_hidden_states` [B, 77, dim]
// carries gradients when the text encoder is being trained.
// `added_cond`: SDXL's pooled text embeddings and micro-conditioning ids; null for SD 1.x/2.x.
DiffusionLoss diffusion_loss(models::UNet2DConditionModel unet, const torch::Tensor& latents,
                             const torch::Tensor& encoder_hidden_states, const NoiseSchedule& schedule,
                             at::Generator& generator, const DiffusionLossOptions& options,
                             const models::UNetAddedCond* added_cond = nullptr);

}  // namespace kiln::training
