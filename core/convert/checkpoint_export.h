#pragma once
// Converting a model between its two layouts (kiln-cli convert, the Models page's export):
//
//   diffusers folder -> one original single file, as AUTOMATIC1111 and ComfyUI load it:
//     unet -> model.diffusion_model.*, vae -> first_stage_model.* (mid attention q/k/v/proj_out as
//     1x1 convs), text encoders -> the family's original layout (SD 1.x transformers names under
//     cond_stage_model.transformer.; SD 2.x OpenCLIP under cond_stage_model.model. with q/k/v
//     stacked into in_proj; SDXL conditioner.embedders.0.transformer. / .1.model. with
//     text_projection transposed), controlnet -> control_model.*. Names equal diffusers' own
//     conversion scripts (golden/keys/*/original_single_file.txt).
//   single file -> diffusers folder: model_index.json, each component's config.json (the hub
//     config of the family, or those of a diffusers folder given as `config_dir`), weights as
//     diffusion_pytorch_model.safetensors / model.safetensors, tokenizer folders, scheduler config.
//   single file -> single file: the same tensors re-saved (e.g. .ckpt -> .safetensors, fp16).
//
// Only real weights are written: keys one layout has no place for (position_ids buffers, SD 2's
// unused 24th OpenCLIP block, its text_projection and logit_scale, EMA copies, the schedule
// buffers betas / alphas_cumprod / ...) are left out and listed in ConvertResult::notes. Neither
// A1111 nor ComfyUI needs the schedule buffers to load a checkpoint: both build the schedule from
// the model config (A1111 loads state dicts with strict=False), so none are invented.
//
// dtype: by default every tensor keeps its source dtype; F16 / BF16 / F32 convert the floating
// tensors (integer buffers stay as they are).
//
// Memory: sources are memory-mapped; what is held while a file is written is what had to be made:
// dtype-converted copies (SDXL fp32 -> fp16: about 3.5 GB) and stacked OpenCLIP in_proj tensors.
//
// Every export is verified before success is reported: the output is re-opened, read back through
// the opposite key mapping (the one a loader uses) and every tensor compared bit for bit with the
// source after the same dtype conversion. Output appears atomically: a file is written and
// verified under a temporary name beside OUT and renamed; a folder is written into a temporary
// sibling folder and renamed at the end. On any error or cancellation nothing is left behind.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "convert/model_family.h"
#include "convert/prediction_type.h"
#include "io/tensor_index.h"

namespace kiln::convert {

enum class SingleFileFormat { Safetensors, Ckpt };
enum class ExportDType { Keep, F32, F16, BF16 };

std::string_view to_string(SingleFileFormat format);  // "safetensors", "ckpt"
std::string_view to_string(ExportDType dtype);        // "keep", "F32", "F16", "BF16"

struct ConvertRequest {
  std::filesystem::path input;   // a single file (.safetensors/.ckpt/.pt/.pth/.bin) or a diffusers folder
  std::filesystem::path output;  // the file or folder to create
  // Layout of the output; default: the other layout of the input.
  std::optional<KeyLayout> to;
  // Single-file output format; default: .ckpt/.pt/.pth names give ckpt, anything else safetensors.
  std::optional<SingleFileFormat> format;
  ExportDType dtype = ExportDType::Keep;
  // A diffusers folder (pipeline, or one component such as a ControlNet) whose configs, tokenizer
  // files and scheduler config a diffusers output takes instead of the reference configs: models
  // without hub configs (tiny test models, fine-tunes with other shapes) need it.
  std::filesystem::path config_dir;
  // vocab.json + merges.txt for tokenizer folders (Kiln's bundled resources/clip) when config_dir
  // does not bring a tokenizer.
  std::filesystem::path clip_vocab_dir;
  // Overrides the detected prediction type (scheduler config; picks SD 2.1 768 vs 512).
  PredictionType prediction = PredictionType::Unknown;
  // Overrides family detection (for models too small to detect, e.g. tests).
  std::optional<ModelFamily> family;
  // Extra safetensors metadata for a single-file output (e.g. a trained model's base, steps and
  // token); .ckpt files have no place for it.
  std::map<std::string, std::string> metadata;
  // Replace an existing OUT (only a file by a file, or a diffusers folder by a folder).
  bool overwrite = false;
};

struct ConvertProgress {
  enum class Stage { Reading, Writing, Verifying };
  Stage stage = Stage::Reading;
  std::size_t done = 0;
  std::size_t total = 0;
};
using ConvertProgressCallback = std::function<void(const ConvertProgress&)>;

struct ConvertResult {
  bool cancelled = false;  // a stop request ended the work; nothing was written
  ModelFamily family = ModelFamily::SD1;
  KeyLayout from = KeyLayout::Diffusers;
  KeyLayout to = KeyLayout::SingleFile;
  SingleFileFormat format = SingleFileFormat::Safetensors;  // single-file output only
  PredictionType prediction = PredictionType::Unknown;      // diffusers output: what the scheduler says
  std::filesystem::path output;
  std::size_t tensors = 0;  // written and verified
  std::uint64_t bytes = 0;  // on disk
  // What was left out and why, where configs came from, assumptions made.
  std::vector<std::string> notes;
};

// Throws kiln::InvalidRequestError (bad request: existing OUT without overwrite, a family that
// cannot be converted, no config for a component), kiln::FileError / kiln::FormatError (unreadable
// or truncated input, naming the file), kiln::WeightMismatchError (verification failed). In every
// case OUT is untouched and no temporary file or folder remains.
ConvertResult convert_model(const ConvertRequest& request, const ConvertProgressCallback& progress = {},
                            std::stop_token stop = {});

// The names, dtypes and shapes one layout gives the other, from indexes alone (no data): what
// convert_model writes. `diffusers` holds "<component>.<key>" names (DiffusersFolder's
// combined_index) or, for a ControlNet, bare names; the single-file index has full original names.
// Keys without a counterpart are appended to `left_out` when given (diffusers -> single file: only
// position_ids buffers; the other way: everything the family's components do not use).
io::TensorIndex single_file_index(const io::TensorIndex& diffusers, ModelFamily family,
                                  std::vector<std::string>* left_out = nullptr);
io::TensorIndex diffusers_index(const io::TensorIndex& single_file, ModelFamily family,
                                std::vector<std::string>* left_out = nullptr);

}  // namespace kiln::convert
