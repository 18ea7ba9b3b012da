#pragma once
// The numbers every scheduler builds on, computed the way diffusers 0.32 computes them: betas and
// alphas_cumprod in torch float32; timestep grids and sigma interpolation in numpy float64
// (linspace, arange, interp and round-half-to-even reproduced exactly), cast where diffusers casts.

#include <cmath>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "schedulers/scheduler_config.h"

namespace kiln::schedulers::noise {

// betas [N] float32 for the config's beta_schedule.
torch::Tensor betas(const SchedulerConfig& config);
// cumprod(1 - betas) [N] float32.
torch::Tensor alphas_cumprod(const torch::Tensor& betas);
// ((1 - acp) / acp) ** 0.5 [N] float32: the k-diffusion sigma of each training timestep.
torch::Tensor train_sigmas(const torch::Tensor& alphas_cumprod);

// numpy.linspace(start, stop, num) (endpoint included): i * ((stop - start) / (num - 1)) + start.
std::vector<double> linspace(double start, double stop, std::int64_t num);
// numpy.arange(start, stop, step) for doubles (numpy fills start + i * (second - first)).
std::vector<double> arange(double start, double stop, double step);
// numpy.round: half to even.
double round_half_even(double x);
// numpy.interp(x, [0, 1, ..., len(fp) - 1], fp).
double interp(double x, const std::vector<double>& fp);

// Descending timesteps of DDPM/DDIM/PNDM: linspace(0, N-1, S) rounded; leading
// arange(S) * (N // S) + steps_offset; trailing round(arange(N, 0, -N/S)) - 1.
std::vector<std::int64_t> step_timesteps(TimestepSpacing spacing, std::int64_t train_steps, std::int64_t steps,
                                         std::int64_t steps_offset);
// Descending timesteps of DPM-Solver/UniPC: a grid of S+1 points with the last (0) dropped:
// linspace(0, N-1, S+1) rounded; leading arange(S+1) * (N // (S+1)) + steps_offset;
// trailing round(arange(N, 0, -N/S)) - 1.
std::vector<std::int64_t> solver_timesteps(TimestepSpacing spacing, std::int64_t train_steps, std::int64_t steps,
                                           std::int64_t steps_offset);
// Descending float timesteps of Euler/LMS, already rounded to float32: linspace(0, N-1, S)
// (not rounded); leading arange(S) * (N // S) + steps_offset; trailing round(arange(N, 0, -N/S)) - 1.
std::vector<float> sigma_timesteps(TimestepSpacing spacing, std::int64_t train_steps, std::int64_t steps,
                                   std::int64_t steps_offset);

// Karras et al. (2022) sigmas, rho 7, from sigma_max down to sigma_min, `steps` values (float64).
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, std::int64_t steps);
// diffusers' _sigma_to_t: the fractional training timestep of `sigma` by linear interpolation in
// log-sigma (log_sigmas is numpy.log of the float32 train sigmas, kept in float32).
double sigma_to_t(double sigma, const std::vector<float>& log_sigmas);

// numpy.log of the float32 train sigmas, kept in float32 (correctly rounded here; a 1-ulp difference
// could only move a timestep that rounds at exactly .5).
std::vector<float> log_sigmas(const torch::Tensor& train_sigmas);

// The Karras schedule of the DPM-Solver-type classes (DPM++, DEIS): rho 7 between the smallest and
// largest train sigma, each mapped back to its rounded training timestep; float32 sigmas
// (without a final entry).
struct SolverKarras {
  std::vector<std::int64_t> timesteps;
  std::vector<float> sigmas;
};
SolverKarras solver_karras(const torch::Tensor& train_sigmas, std::int64_t steps);

// The per-step schedule of the k-diffusion-style classes (Heun, DPM2, DPM2 a), `steps` entries:
// float32 timesteps of `spacing` and their interpolated sigmas (float64); with `karras` Karras
// sigmas between the smallest and largest of those, and their fractional training timesteps
// (sigma_to_t, rounded when `round_karras`).
struct KSchedule {
  std::vector<double> timesteps;
  std::vector<double> sigmas;
};
KSchedule k_schedule(const SchedulerConfig& config, TimestepSpacing spacing, const torch::Tensor& alphas_cumprod,
                     std::int64_t steps, bool karras, bool round_karras);

// LCM / TCD: the distillation schedule [1..original] * (N // original) - 1 read backwards, sampled at
// floor(linspace(0, original, steps, endpoint=False)). Throws kiln::InvalidRequestError when
// steps > original or original > N.
std::vector<std::int64_t> lcm_timesteps(std::int64_t train_steps, std::int64_t original_steps, std::int64_t steps);

// Sigmas at (fractional) training timesteps by numpy.interp over the train sigmas, with `last`
// appended, as float32 [len + 1].
torch::Tensor interp_sigmas(const std::vector<double>& timesteps, const torch::Tensor& train_sigmas, double last);
// Euler-type init_noise_sigma: sigma_max for linspace/trailing, sqrt(sigma_max^2 + 1) for leading
// (float32 arithmetic as diffusers).
double euler_init_noise_sigma(const torch::Tensor& sigmas, TimestepSpacing spacing);
// sqrt(sigma^2 + 1) in float32: Euler-type models see latents / this.
inline float input_divisor(float sigma) { return std::sqrt(sigma * sigma + 1.0f); }

// The VP coefficients of a k-diffusion sigma, float32 as diffusers (DPM-Solver, DEIS, UniPC):
// x_t = alpha x0 + sigma noise with alpha = 1 / sqrt(sigma_k^2 + 1) and sigma = sigma_k alpha.
struct AlphaSigma {
  float alpha;
  float sigma;
  float lambda;  // log(alpha) - log(sigma): half the log-SNR; +inf at sigma 0
  double rho;    // sigma / alpha: DEIS's log-rho variable
};
AlphaSigma alpha_sigma(float sigma_k);
// The data prediction x0 of a model output at `s` for the model's prediction type.
torch::Tensor predicted_x0(const torch::Tensor& model_output, const torch::Tensor& sample, const AlphaSigma& s,
                           PredictionType type);

// log, exp and expm1 of a float32 scalar exactly as torch evaluates them on a 0-dim tensor, as
// diffusers does (torch's kernels differ from <cmath> in the last bit for a few percent of inputs).
float torch_log(float x);
float torch_exp(float x);
float torch_expm1(float x);

// A tensor's values as doubles (any dtype, any device).
std::vector<double> to_doubles(const torch::Tensor& t);

}  // namespace kiln::schedulers::noise
