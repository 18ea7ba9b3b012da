#pragma once
// Everything a training run is asked to do, as stored in a session's settings.json. Defaults are
// fast-stable-diffusion's DreamBooth: text encoder 350 steps at 1e-6, then UNet 1500 steps at
// 2e-6, batch 1, AdamW (0.9, 0.999, wd 1e-2, eps 1e-8), clipping at 1.0, linear decay to 0
// without warm-up, seed 1337.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "training/lr_schedule.h"

namespace kiln::training {

enum class TrainingMethod { DreamBooth, LoRA };
enum class Stage { TextEncoder, UNet };
enum class MixedPrecision { No, F16, BF16 };  // CUDA only: fp32 master weights, autocast compute
enum class CaptionSource { CaptionFiles, FileNames };
// fp32 AdamW (8 bytes of state a parameter), or a memory saver (memory_optimizers.h).
enum class OptimizerKind { AdamW, AdamW8bit, Adafactor };

std::string_view to_string(TrainingMethod method);  // "dreambooth", "lora"
std::string_view to_string(Stage stage);            // "text_encoder", "unet"
std::string_view to_string(MixedPrecision precision);  // "no", "fp16", "bf16"
std::string_view to_string(CaptionSource source);   // "captions", "filenames"
std::string_view to_string(OptimizerKind kind);     // "adamw", "adamw8bit", "adafactor"

struct StageSettings {
  std::int64_t steps = 0;  // 0 skips the stage
  double learning_rate = 0;
};

struct TrainingSettings {
  // Model and data.
  std::filesystem::path base_model;   // single file or diffusers folder
  std::filesystem::path config_dir;   // configs for single files that are not the reference size
  std::filesystem::path tokenizer_dir;  // vocab.json + merges.txt for single files (Kiln's bundled CLIP files)
  std::filesystem::path images;       // the instance images (a prepared dataset folder)
  std::string token;                  // the instance token, e.g. "sks"; added to every prompt
  CaptionSource captions = CaptionSource::CaptionFiles;  // a .txt beside the image, else its file name

  TrainingMethod method = TrainingMethod::DreamBooth;
  StageSettings text_encoder{350, 1e-6};
  StageSettings unet{1500, 2e-6};
  int resolution = 512;
  int batch_size = 1;
  int gradient_accumulation = 1;
  LRScheduleKind lr_schedule = LRScheduleKind::Linear;
  std::int64_t warmup_steps = 0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, weight_decay = 1e-2, adam_epsilon = 1e-8;
  OptimizerKind optimizer = OptimizerKind::AdamW;  // fixed for a session (its checkpoints hold the state)
  double max_grad_norm = 1.0;  // 0 = no clipping
  double offset_noise = 0.0;   // 0 = off (fast-stable-diffusion's option: 0.1)
  double min_snr_gamma = 0.0;  // 0 = off
  bool cache_latents = true;   // encode each image once (the posterior is still sampled every step)

  // Prior preservation: on when class_prompt is set.
  std::string class_prompt;
  std::filesystem::path class_images;  // empty: <session>/class_images, generated when missing
  int num_class_images = 100;
  double prior_loss_weight = 1.0;

  // LoRA (method LoRA): adapters on the UNet's attention projections, optionally the text encoder's.
  int lora_rank = 4;
  double lora_alpha = 4.0;
  bool lora_text_encoder = false;

  // Session.
  std::int64_t save_every = 500;    // checkpoint every N optimizer steps of a stage (0: only at stage ends)
  // Each checkpoint is also kept as a file a generator loads (the session's checkpoints/
  // <session>-<step>.safetensors: the whole model, or the LoRA in kohya's layout, fp16), the
  // newest N of them (0: none): what "Compare checkpoints" puts side by side.
  int keep_checkpoints = 4;
  std::int64_t sample_every = 0;    // sample images every N steps (0: never)
  std::vector<std::string> sample_prompts;
  std::uint64_t sample_seed = 42;
  int sample_steps = 20;
  std::uint64_t seed = 1337;
  std::string device = "cpu";        // "cpu", "cuda", "cuda:1"
  MixedPrecision mixed_precision = MixedPrecision::No;
  // Recompute the UNet blocks' activations in the backward pass instead of keeping them: less
  // memory, about a third more compute. Gradients agree to float rounding (not bit for bit).
  bool gradient_checkpointing = false;
  // Random draws for several ranks (docs/distributed.md): every example of a step draws its VAE
  // sample, noise and timestep from a generator of its own, seeded from (seed, stage, micro-step,
  // its slot in the global batch), so that N ranks with batch B train what one process with
  // batch N x B trains, and a resumed run may change the number of ranks. Off: one generator for
  // the run in diffusers' order (the golden tests), one process only.
  bool data_parallel = false;

  bool prior_preservation() const { return !class_prompt.empty(); }
  // The stages that run, in order.
  std::vector<Stage> stages() const;
  const StageSettings& stage(Stage s) const { return s == Stage::TextEncoder ? text_encoder : unet; }
};

nlohmann::json to_json(const TrainingSettings& settings);
// Missing fields keep their defaults; wrong types and unknown enum names throw FormatError
// naming `path` and the field.
TrainingSettings settings_from_json(const nlohmann::json& json, const std::filesystem::path& path = {});

// Throws InvalidRequestError naming the field and what is allowed: steps < 0, no stage with
// steps, learning rates <= 0 or > 1, resolution not a multiple of 8 (or of 64 for SD), batch size,
// accumulation, LoRA rank, a missing base model or image folder, prompts for sampling, device.
void validate_settings(const TrainingSettings& settings);

}  // namespace kiln::training
