#include "training/training_settings.h"

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace kiln::training {
namespace fs = std::filesystem;

std::string_view to_string(TrainingMethod method) { return method == TrainingMethod::LoRA ? "lora" : "dreambooth"; }
std::string_view to_string(Stage stage) { return stage == Stage::TextEncoder ? "text_encoder" : "unet"; }
std::string_view to_string(MixedPrecision precision) {
  switch (precision) {
    case MixedPrecision::F16: return "fp16";
    case MixedPrecision::BF16: return "bf16";
    case MixedPrecision::No: break;
  }
  return "no";
}
std::string_view to_string(CaptionSource source) { return source == CaptionSource::FileNames ? "filenames" : "captions"; }

std::string_view to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::AdamW8bit: return "adamw8bit";
    case OptimizerKind::Adafactor: return "adafactor";
    case OptimizerKind::AdamW: break;
  }
  return "adamw";
}

std::vector<Stage> TrainingSettings::stages() const {
  std::vector<Stage> out;
  if (text_encoder.steps > 0 && (method == TrainingMethod::DreamBooth || lora_text_encoder)) {
    out.push_back(Stage::TextEncoder);
  }
  if (unet.steps > 0) out.push_back(Stage::UNet);
  return out;
}

nlohmann::json to_json(const TrainingSettings& s) {
  return {
      {"kiln_training", 1},
      {"base_model", s.base_model.string()},
      {"config_dir", s.config_dir.string()},
      {"tokenizer_dir", s.tokenizer_dir.string()},
      {"images", s.images.string()},
      {"token", s.token},
      {"captions", to_string(s.captions)},
      {"method", to_string(s.method)},
      {"text_encoder_steps", s.text_encoder.steps},
      {"text_encoder_lr", s.text_encoder.learning_rate},
      {"unet_steps", s.unet.steps},
      {"unet_lr", s.unet.learning_rate},
      {"resolution", s.resolution},
      {"batch_size", s.batch_size},
      {"gradient_accumulation", s.gradient_accumulation},
      {"lr_schedule", to_string(s.lr_schedule)},
      {"warmup_steps", s.warmup_steps},
      {"adam_beta1", s.adam_beta1},
      {"adam_beta2", s.adam_beta2},
      {"weight_decay", s.weight_decay},
      {"adam_epsilon", s.adam_epsilon},
      {"optimizer", to_string(s.optimizer)},
      {"max_grad_norm", s.max_grad_norm},
      {"offset_noise", s.offset_noise},
      {"min_snr_gamma", s.min_snr_gamma},
      {"cache_latents", s.cache_latents},
      {"class_prompt", s.class_prompt},
      {"class_images", s.class_images.string()},
      {"num_class_images", s.num_class_images},
      {"prior_loss_weight", s.prior_loss_weight},
      {"lora_rank", s.lora_rank},
      {"lora_alpha", s.lora_alpha},
      {"lora_text_encoder", s.lora_text_encoder},
      {"save_every", s.save_every},
      {"keep_checkpoints", s.keep_checkpoints},
      {"sample_every", s.sample_every},
      {"sample_prompts", s.sample_prompts},
      {"sample_seed", s.sample_seed},
      {"sample_steps", s.sample_steps},
      {"seed", s.seed},
      {"device", s.device},
      {"mixed_precision", to_string(s.mixed_precision)},
      {"gradient_checkpointing", s.gradient_checkpointing},
      {"data_parallel", s.data_parallel},
  };
}

namespace {

template <typename T>
void read(const nlohmann::json& j, const char* key, T& out, const fs::path& path) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw FormatError(std::string("training settings: field '") + key + "' has the wrong type (" +
                          std::string(it->type_name()) + ")",
                      path);
  }
}

void read_path(const nlohmann::json& j, const char* key, fs::path& out, const fs::path& path) {
  std::string text = out.string();
  read(j, key, text, path);
  out = text;
}

template <typename Enum, std::size_t N>
void read_enum(const nlohmann::json& j, const char* key, Enum& out, const Enum (&values)[N], const fs::path& path) {
  std::string name(to_string(out));
  read(j, key, name, path);
  std::string accepted;
  for (Enum v : values) {
    if (name == to_string(v)) {
      out = v;
      return;
    }
    accepted += (accepted.empty() ? "" : ", ") + std::string(to_string(v));
  }
  throw FormatError(std::string("training settings: field '") + key + "' is '" + name + "'; accepted: " + accepted,
                    path);
}

}  // namespace

TrainingSettings settings_from_json(const nlohmann::json& j, const fs::path& path) {
  if (!j.is_object()) throw FormatError("training settings: not a JSON object", path);
  TrainingSettings s;
  read_path(j, "base_model", s.base_model, path);
  read_path(j, "config_dir", s.config_dir, path);
  read_path(j, "tokenizer_dir", s.tokenizer_dir, path);
  read_path(j, "images", s.images, path);
  read(j, "token", s.token, path);
  read_enum(j, "captions", s.captions, {CaptionSource::CaptionFiles, CaptionSource::FileNames}, path);
  read_enum(j, "method", s.method, {TrainingMethod::DreamBooth, TrainingMethod::LoRA}, path);
  read(j, "text_encoder_steps", s.text_encoder.steps, path);
  read(j, "text_encoder_lr", s.text_encoder.learning_rate, path);
  read(j, "unet_steps", s.unet.steps, path);
  read(j, "unet_lr", s.unet.learning_rate, path);
  read(j, "resolution", s.resolution, path);
  read(j, "batch_size", s.batch_size, path);
  read(j, "gradient_accumulation", s.gradient_accumulation, path);
  read_enum(j, "lr_schedule", s.lr_schedule,
            {LRScheduleKind::Constant, LRScheduleKind::ConstantWithWarmup, LRScheduleKind::Linear,
             LRScheduleKind::Cosine},
            path);
  read(j, "warmup_steps", s.warmup_steps, path);
  read(j, "adam_beta1", s.adam_beta1, path);
  read(j, "adam_beta2", s.adam_beta2, path);
  read(j, "weight_decay", s.weight_decay, path);
  read(j, "adam_epsilon", s.adam_epsilon, path);
  read_enum(j, "optimizer", s.optimizer, {OptimizerKind::AdamW, OptimizerKind::AdamW8bit, OptimizerKind::Adafactor},
            path);
  read(j, "max_grad_norm", s.max_grad_norm, path);
  read(j, "offset_noise", s.offset_noise, path);
  read(j, "min_snr_gamma", s.min_snr_gamma, path);
  read(j, "cache_latents", s.cache_latents, path);
  read(j, "class_prompt", s.class_prompt, path);
  read_path(j, "class_images", s.class_images, path);
  read(j, "num_class_images", s.num_class_images, path);
  read(j, "prior_loss_weight", s.prior_loss_weight, path);
  read(j, "lora_rank", s.lora_rank, path);
  read(j, "lora_alpha", s.lora_alpha, path);
  read(j, "lora_text_encoder", s.lora_text_encoder, path);
  read(j, "save_every", s.save_every, path);
  read(j, "keep_checkpoints", s.keep_checkpoints, path);
  read(j, "sample_every", s.sample_every, path);
  read(j, "sample_prompts", s.sample_prompts, path);
  read(j, "sample_seed", s.sample_seed, path);
  read(j, "sample_steps", s.sample_steps, path);
  read(j, "seed", s.seed, path);
  read(j, "device", s.device, path);
  read(j, "gradient_checkpointing", s.gradient_checkpointing, path);
  read(j, "data_parallel", s.data_parallel, path);
  read_enum(j, "mixed_precision", s.mixed_precision, {MixedPrecision::No, MixedPrecision::F16, MixedPrecision::BF16},
            path);
  return s;
}

void validate_settings(const TrainingSettings& s) {
  auto fail = [](const std::string& message) { throw InvalidRequestError("training settings: " + message); };
  if (s.base_model.empty()) fail("no base model (base_model)");
  if (!fs::exists(s.base_model)) fail("the base model " + s.base_model.string() + " does not exist");
  if (s.images.empty()) fail("no instance image folder (images)");
  if (!fs::is_directory(s.images)) fail("the image folder " + s.images.string() + " does not exist");
  if (s.text_encoder.steps < 0 || s.unet.steps < 0) fail("step counts must be 0 or more");
  if (s.stages().empty()) {
    fail(s.method == TrainingMethod::LoRA && s.text_encoder.steps > 0 && !s.lora_text_encoder
             ? "LoRA trains the text encoder only with lora_text_encoder; give the UNet steps or enable it"
             : "both stages have 0 steps: nothing to train");
  }
  for (Stage stage : s.stages()) {
    const double lr = s.stage(stage).learning_rate;
    if (!(lr > 0 && lr <= 1)) {
      fail("the " + std::string(to_string(stage)) + " learning rate must be in (0, 1], got " + std::to_string(lr));
    }
  }
  if (s.resolution < 64 || s.resolution > 4096 || s.resolution % 64 != 0) {
    fail("resolution must be a multiple of 64 between 64 and 4096, got " + std::to_string(s.resolution));
  }
  if (s.batch_size < 1 || s.batch_size > 64) fail("batch_size must be 1..64");
  if (s.gradient_accumulation < 1 || s.gradient_accumulation > 1024) fail("gradient_accumulation must be 1..1024");
  if (s.warmup_steps < 0) fail("warmup_steps must be 0 or more");
  if (!(s.adam_beta1 >= 0 && s.adam_beta1 < 1 && s.adam_beta2 >= 0 && s.adam_beta2 < 1)) fail("Adam betas must be in [0, 1)");
  if (!(s.weight_decay >= 0 && s.weight_decay < 1)) fail("weight_decay must be in [0, 1)");
  if (!(s.adam_epsilon > 0)) fail("adam_epsilon must be positive");
  if (!(s.max_grad_norm >= 0)) fail("max_grad_norm must be 0 (off) or positive");
  if (!(s.offset_noise >= 0 && s.offset_noise <= 1)) fail("offset_noise must be in [0, 1]");
  if (!(s.min_snr_gamma >= 0)) fail("min_snr_gamma must be 0 (off) or positive");
  if (s.prior_preservation()) {
    if (s.num_class_images < 1) fail("num_class_images must be at least 1 with a class prompt");
    if (!(s.prior_loss_weight > 0)) fail("prior_loss_weight must be positive");
  }
  if (s.method == TrainingMethod::LoRA) {
    if (s.lora_rank < 1 || s.lora_rank > 1024) fail("lora_rank must be 1..1024");
    if (!(s.lora_alpha > 0)) fail("lora_alpha must be positive");
  }
  if (s.save_every < 0 || s.sample_every < 0) fail("save_every and sample_every must be 0 or more");
  if (s.keep_checkpoints < 0 || s.keep_checkpoints > 1000) fail("keep_checkpoints must be 0..1000");
  if (s.sample_every > 0 && s.sample_prompts.empty()) fail("sample_every is set but there are no sample prompts");
  if (s.sample_steps < 1 || s.sample_steps > 1000) fail("sample_steps must be 1..1000");
  if (s.device != "cpu" && s.device.rfind("cuda", 0) != 0) fail("device must be cpu or cuda[:N], got " + s.device);
  if (s.mixed_precision != MixedPrecision::No && s.device == "cpu") {
    fail("mixed precision (fp16/bf16) needs a CUDA device; on the CPU training runs in fp32");
  }
}

}  // namespace kiln::training
