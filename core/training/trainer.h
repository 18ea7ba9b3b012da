#pragma once
// A training session and its run. A session is a folder:
//
//   settings.json                the TrainingSettings (written by create_session, edited by extend)
//   metrics.jsonl                one JSON object per optimizer step:
//                                {"step", "stage", "stage_step", "loss", "lr", "grad_norm", "seconds", "memory"}
//   checkpoints/latest.safetensors  the last good checkpoint (atomic): trained weights (full text
//                                encoder / UNet, or LoRA tensors), AdamW state, the step and the
//                                generator state; metadata "kiln_checkpoint" (JSON)
//   samples/<stage>-<step>-<i>.png  sample images
//   dataset/                     the images as the run started, with dataset.json (each image's
//                                exact prompt and where it came from): a resumed run reads these;
//                                a session whose `images` is this folder (an imported one) keeps
//                                it as it is also when it starts from the beginning
//   class_images/                prior-preservation images generated with the base model
//   log.txt                      what happened, in words
//
// run_training() runs the stages in order (text encoder, then UNet; either may have 0 steps).
// Resuming reloads the base model, applies the checkpoint, truncates metrics.jsonl to the
// checkpoint's step and continues; on the CPU the result is bit for bit the same as an
// uninterrupted run (the data order is a function of the step, the noise comes from a generator
// whose state the checkpoint holds). A stop request saves a checkpoint and returns; a non-finite
// loss or gradient stops the run with ComputeError and leaves the last good checkpoint as it was.
//
// Synchronous and Qt-free: the app runs it on its training worker thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "training/distributed_settings.h"
#include "training/training_settings.h"

namespace kiln::training {

struct TrainingExample {
  std::filesystem::path image;
  std::string prompt;  // exactly what the text encoder sees
  bool from_caption_file = false;
};

// The instance images of `settings.images` (sorted, recursively, without the session's own
// folders) with their training prompts: the caption file beside the image (CaptionFiles) or the
// file-name rule of fast-stable-diffusion, with the instance token added when it is missing.
// A session's own copy (a folder with the dataset.json a run wrote, which an imported session
// trains on) gives the prompts recorded there. Throws InvalidRequestError when the folder has no
// image.
std::vector<TrainingExample> training_examples(const TrainingSettings& settings);

// What a fresh run copies into <session>/dataset: each image under a numbered name
// ("000003-beach.jpg", files[i] = {source, name}) and dataset.json (each image's exact prompt
// and where it came from). A session archive made before the first run carries the same.
struct DatasetSnapshot {
  std::vector<std::pair<std::filesystem::path, std::string>> files;  // source image, name in dataset/
  std::string list_json;                                              // the content of dataset.json
};
DatasetSnapshot dataset_snapshot(const TrainingSettings& settings);  // throws as training_examples

// Session folder handling.
void create_session(const std::filesystem::path& dir, const TrainingSettings& settings);  // refuses an existing session
TrainingSettings read_session_settings(const std::filesystem::path& dir);
void write_session_settings(const std::filesystem::path& dir, const TrainingSettings& settings);

struct CheckpointInfo {
  std::filesystem::path path;
  Stage stage = Stage::UNet;
  std::int64_t stage_step = 0;   // optimizer steps done in `stage`
  std::int64_t global_step = 0;  // optimizer steps done in all stages
  bool finished = false;         // every stage is complete
};
// The session's latest checkpoint, nullopt when there is none. Throws FormatError for a broken one.
std::optional<CheckpointInfo> latest_checkpoint(const std::filesystem::path& dir);

struct StepMetrics {
  std::int64_t step = 0;        // global optimizer step, 1-based
  std::int64_t total_steps = 0;
  Stage stage = Stage::UNet;
  std::int64_t stage_step = 0;  // 1-based within the stage
  std::int64_t stage_steps = 0;
  double loss = 0;
  double lr = 0;
  double grad_norm = 0;
  double seconds = 0;           // wall time of this step
  std::uint64_t memory = 0;     // bytes: CUDA peak allocated on CUDA, resident set size on the CPU
};

struct TrainingCallbacks {
  std::function<void(std::string_view message)> on_log;  // also written to log.txt
  std::function<void(const StepMetrics&)> on_step;
  std::function<void(const std::filesystem::path& image, std::int64_t step, const std::string& prompt)> on_sample;
  std::function<void(const CheckpointInfo&)> on_checkpoint;
};

struct TrainingOutcome {
  bool finished = false;  // every stage ran to its end
  bool stopped = false;   // a stop request ended it early (a checkpoint was saved)
  std::int64_t global_step = 0;
  std::int64_t total_steps = 0;
  std::optional<CheckpointInfo> checkpoint;
};

struct RunOptions {
  bool resume = true;  // continue from the latest checkpoint when there is one
  // This process's place in a data-parallel run (docs/distributed.md). world_size > 1 needs the
  // session's data_parallel setting; every rank runs run_training() on the same session folder
  // (a shared file system across nodes): rank 0 alone writes the dataset copy, metrics,
  // samples, checkpoints and log.txt, and calls on_step / on_sample / on_checkpoint; every rank
  // loads the same checkpoint on resume. Gradients are averaged over the ranks before clipping
  // and the optimizer step; a stop request on any rank stops all after the step they are in.
  // A rank that dies or hangs makes the others throw DistributedError naming it.
  DistributedSettings distributed;
};

// Throws InvalidRequestError (settings), FileError/FormatError (model, images, session files),
// ComputeError (a non-finite loss, a LibTorch failure, naming stage and step).
TrainingOutcome run_training(const std::filesystem::path& session, std::stop_token stop = {},
                             const TrainingCallbacks& callbacks = {}, const RunOptions& options = {});

}  // namespace kiln::training
