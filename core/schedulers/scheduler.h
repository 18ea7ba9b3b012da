#pragma once
// The interface every sampling algorithm implements (DESIGN.md §2: schedulers are plain classes).
//
// The pipeline drives a scheduler with the index k into timesteps(), the loop of diffusers'
// StableDiffusionPipeline:
//
//   sched->set_timesteps(steps);                       // resets every multistep history
//   latents = noise * sched->init_noise_sigma();
//   for (k = 0; k < sched->num_timesteps(); ++k) {     // PNDM runs steps + 1
//     input = sched->scale_model_input(latents, k);    // the UNet gets timestep(k)
//     latents = sched->step(unet(input, sched->timestep(k)), k, latents, &gen).prev_sample;
//   }
//
// img2img starts part-way (diffusers' set_begin_index): k0 = t_start * order();
// set_begin_index(k0); latents = add_noise(x0, noise, timesteps()[k0]); then the loop from k0.
// Steps run in order: the first step() after set_timesteps may start at any k (the begin index
// when one is set), each later one must be the next index.

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "schedulers/scheduler_config.h"
#include "schedulers/scheduler_kind.h"

namespace kiln::schedulers {

struct StepOutput {
  torch::Tensor prev_sample;           // the latents for index k + 1
  torch::Tensor pred_original_sample;  // the x0 estimate of this step; undefined for PNDM
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  virtual SchedulerKind kind() const = 0;
  const SchedulerConfig& config() const { return config_; }
  // The config's spacing, or this algorithm's default.
  TimestepSpacing timestep_spacing() const { return spacing_; }

  // Builds the schedule for `steps` denoising steps and resets all step state. Throws
  // kiln::InvalidRequestError when steps is outside 1..num_train_timesteps.
  void set_timesteps(std::int64_t steps);
  bool has_timesteps() const { return num_inference_steps_ > 0; }
  std::int64_t num_inference_steps() const { return num_inference_steps_; }
  // Model calls of a full run: len(timesteps) (PNDM: steps + 1 for steps >= 2).
  std::int64_t num_timesteps() const;
  // 1-D CPU tensor: int64 (DDPM, DDIM, PNDM, DPM++, UniPC, DEIS, LCM, TCD), float32 (Euler,
  // Euler a, LMS, Heun, DPM2, DPM2 a) or float64 (Heun, DPM2, DPM2 a with Karras sigmas).
  // Heun, DPM2 and DPM2 a list 2 * steps - 1 model calls.
  const torch::Tensor& timesteps() const;
  std::vector<double> timestep_values() const;
  double timestep(std::int64_t k) const;
  // float32 CPU [num_timesteps + 1], last 0, for sigma-based algorithms (Euler, Euler a, LMS,
  // DPM++, UniPC, Heun; DEIS ends at the smallest train sigma; DPM2 / DPM2 a hold diffusers'
  // expanded array of 2 * steps + 2); undefined for DDPM, DDIM, PNDM, LCM and TCD.
  const torch::Tensor& sigmas() const;
  // The scale of the initial noise: sigma_max for Euler-type with linspace/trailing spacing,
  // sqrt(sigma_max^2 + 1) with leading, 1 for the others.
  double init_noise_sigma() const;
  // diffusers' `order` class attribute (2 for Heun, DPM2 and DPM2 a, else 1): img2img starts at
  // t_start * order().
  virtual std::int64_t order() const { return 1; }

  // [num_train_timesteps] float32 CPU.
  const torch::Tensor& betas() const { return betas_; }
  const torch::Tensor& alphas_cumprod() const { return alphas_cumprod_; }

  // diffusers' set_begin_index: the index of the first step() (img2img), also used by add_noise.
  void set_begin_index(std::int64_t k);
  std::optional<std::int64_t> begin_index() const { return begin_index_; }
  // The index the next step() expects; empty before the first step.
  std::optional<std::int64_t> step_index() const { return step_index_; }

  // The UNet input at index k: latents / sqrt(sigma_k^2 + 1) for Euler-type, unchanged otherwise.
  torch::Tensor scale_model_input(const torch::Tensor& sample, std::int64_t k) const;
  // The factor scale_model_input applies at index k.
  double model_input_scale(std::int64_t k) const;

  // One denoising step at index k. Noise (DDPM, Euler a, DDIM with eta > 0, DPM2 a, DPM++ SDE,
  // LCM, TCD) is drawn with
  // at::randn from `generator` (a CPU generator; nullptr = torch's default) in float32 on the
  // CPU, then moved to the sample's device and dtype: the same stream diffusers draws with a
  // CPU torch.Generator.
  StepOutput step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                  at::Generator* generator = nullptr);

  // Noises `original` to the level of `timesteps` (one per batch item, or one for all).
  // DDPM/DDIM/PNDM: training timesteps, sqrt(acp) x0 + sqrt(1 - acp) noise (the training
  // forward process). Sigma-based algorithms follow diffusers: the begin index (or, after a step,
  // the current index) when set, else the position of each value in timesteps().
  torch::Tensor add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                          const torch::Tensor& timesteps) const;
  // The v-prediction training target at training timesteps: sqrt(acp) noise - sqrt(1 - acp) x0.
  torch::Tensor get_velocity(const torch::Tensor& sample, const torch::Tensor& noise,
                             const torch::Tensor& timesteps) const;

 protected:
  Scheduler(SchedulerConfig config, TimestepSpacing default_spacing);

  struct Schedule {
    torch::Tensor timesteps;  // 1-D CPU
    torch::Tensor sigmas;     // float32 CPU, or undefined
  };
  // Builds the schedule and resets the algorithm's step state.
  virtual Schedule make_schedule(std::int64_t steps) = 0;
  virtual double compute_init_noise_sigma() const { return 1.0; }
  virtual torch::Tensor do_scale_model_input(const torch::Tensor& sample, std::int64_t k) const { return sample; }
  virtual double do_model_input_scale(std::int64_t k) const { return 1.0; }
  virtual StepOutput do_step(const torch::Tensor& model_output, std::int64_t k, const torch::Tensor& sample,
                             at::Generator* generator) = 0;
  // Default: the training forward process on alphas_cumprod.
  virtual torch::Tensor do_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                     const torch::Tensor& timesteps) const;

  // `config` with timestep_spacing trailing when `trailing` (the "... Trailing" samplers).
  static SchedulerConfig with_spacing(SchedulerConfig config, bool trailing) {
    if (trailing) config.timestep_spacing = TimestepSpacing::Trailing;
    return config;
  }

  // Helpers for the algorithms.
  float alpha_cumprod_at(std::int64_t t) const { return acp_[static_cast<std::size_t>(t)]; }
  float sigma_at(std::int64_t k) const { return sigma_values_[static_cast<std::size_t>(k)]; }
  std::int64_t int_timestep(std::int64_t k) const;
  // A standard normal draw shaped like `like`: float32 on the CPU, then `like`'s device/dtype.
  static torch::Tensor randn_like(const torch::Tensor& like, at::Generator* generator);
  // The index of `value` in timesteps() (the second of duplicates, as diffusers); throws if absent.
  std::int64_t index_for_timestep(double value) const;
  // Per batch item sigma index for add_noise on sigma-based algorithms (see add_noise).
  std::vector<std::int64_t> noise_indices(const torch::Tensor& timesteps) const;
  // add_noise of sigma-based algorithms at the sigmas of noise_indices(timesteps):
  // x0 + sigma * noise (Euler-type), or alpha * x0 + sigma_t * noise with alpha = 1/sqrt(sigma^2+1),
  // sigma_t = sigma * alpha (variance preserving: DPM-Solver, UniPC).
  torch::Tensor sigma_add_noise(const torch::Tensor& original, const torch::Tensor& noise,
                                const torch::Tensor& timesteps, bool variance_preserving) const;
  // [B] values broadcast to `like`'s rank: [B, 1, 1, ...].
  static torch::Tensor per_item(const torch::Tensor& values, const torch::Tensor& like);
  void require_prediction(bool supported, const char* algorithm) const;

  SchedulerConfig config_;

 private:
  void require_timesteps(const char* what) const;
  void check_index(std::int64_t k, const char* what) const;
  torch::Tensor training_alphas(const torch::Tensor& timesteps, const torch::Tensor& like) const;

  TimestepSpacing spacing_;
  torch::Tensor betas_;
  torch::Tensor alphas_cumprod_;
  std::vector<float> acp_;
  std::int64_t num_inference_steps_ = 0;
  torch::Tensor timesteps_;
  std::vector<double> timestep_values_;
  torch::Tensor sigmas_;
  std::vector<float> sigma_values_;
  double init_noise_sigma_ = 1.0;
  std::optional<std::int64_t> begin_index_;
  std::optional<std::int64_t> step_index_;
};

}  // namespace kiln::schedulers
