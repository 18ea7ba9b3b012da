#pragma once
// Exporting what a training session made (kiln-cli export, the Train page's Export):
//   DreamBooth -> the whole model: a single .safetensors (default; metadata: base model, steps,
//                 learning rates, token, resolution), a .ckpt, or a diffusers folder; fp32 or fp16.
//   LoRA       -> one .safetensors in the kohya / AUTOMATIC1111 layout (lora_unet_*, lora_te_*,
//                 .lora_down/.lora_up/.alpha, ss_* metadata), which A1111, ComfyUI and Kiln load.
// Every export is verified by reloading it (the model loader for models, the file for LoRAs) and
// comparing the trained tensors bit for bit after the same dtype rounding. The output appears
// atomically; on any error nothing is left behind.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace kiln::training {

enum class ExportFormat { Safetensors, Ckpt, Diffusers };
std::string_view to_string(ExportFormat format);  // "safetensors", "ckpt", "diffusers"
ExportFormat parse_export_format(std::string_view name);  // throws InvalidRequestError

struct SessionExportRequest {
  std::filesystem::path session;
  std::filesystem::path output;
  ExportFormat format = ExportFormat::Safetensors;
  bool half = false;  // fp16 weights
  bool overwrite = false;
};

struct SessionExportResult {
  std::filesystem::path output;
  bool lora = false;
  std::int64_t steps = 0;  // the checkpoint's global step
  std::size_t tensors = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> notes;
};

// One of the checkpoints a session keeps (TrainingSettings::keep_checkpoints): a file that loads
// as it is (DreamBooth: the whole model as a single .safetensors; LoRA: kohya's layout), fp16.
struct KeptCheckpoint {
  std::filesystem::path path;
  std::int64_t step = 0;  // global optimizer step
};
// The kept checkpoints of `session` (checkpoints/<name>-<step>.safetensors), oldest first.
std::vector<KeptCheckpoint> kept_checkpoints(const std::filesystem::path& session);
// Where the checkpoint of `step` is kept: checkpoints/<session folder name>-<6-digit step>.safetensors
// (kohya's naming, so a LoRA shows as "<name>-000500" in AUTOMATIC1111).
std::filesystem::path kept_checkpoint_path(const std::filesystem::path& session, std::int64_t step);
// Exports the session's latest checkpoint to its kept name (replacing one of the same step), then
// removes the oldest kept files beyond `keep`. Returns the kept file. Throws as export_session.
std::filesystem::path keep_latest_checkpoint(const std::filesystem::path& session, int keep,
                                             const std::function<void(std::string_view)>& on_log = {});

// Throws InvalidRequestError (no checkpoint yet, existing output, a LoRA asked as ckpt/diffusers),
// FileError / FormatError (session files), WeightMismatchError (verification failed).
SessionExportResult export_session(const SessionExportRequest& request,
                                   const std::function<void(std::string_view)>& on_log = {});

}  // namespace kiln::training
