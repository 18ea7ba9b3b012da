#pragma once
// What the training tests share: the golden tiny SD 1.x model, two face photos to train on, the
// small settings every session starts from, and readers of a session's checkpoint and metrics.

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "support/test_support.h"
#include "training/trainer.h"

namespace kiln::test {

inline const std::filesystem::path kTinySd1 = data_dir() / "golden/pipeline/tiny_sd1";

// Thrown from a step callback to simulate a crash at a chosen step.
struct CrashAt : std::runtime_error {
  CrashAt() : std::runtime_error("simulated crash") {}
};

// Two face photos in `scratch`/images, one with a caption.
inline std::filesystem::path make_images(const ScratchDir& scratch) {
  const std::filesystem::path images = scratch / "images";
  std::filesystem::create_directories(images);
  std::filesystem::copy_file(data_dir() / "faces/hopper_portrait.jpg", images / "hopper.jpg");
  std::filesystem::copy_file(data_dir() / "faces/portrait_beach.jpg", images / "beach_person (2).jpg");
  write_text(images / "hopper.txt", "a painting of a man");
  return images;
}

// A DreamBooth session on the tiny model at 64 px: 2 text-encoder and 4 UNet steps at 1e-4, a
// checkpoint every 2 steps, no kept checkpoints, seed 7.
inline training::TrainingSettings tiny_settings(const std::filesystem::path& images) {
  training::TrainingSettings s;
  s.base_model = kTinySd1;
  s.images = images;
  s.token = "sks";
  s.resolution = 64;
  s.text_encoder = {2, 1e-4};
  s.unet = {4, 1e-4};
  s.save_every = 2;
  s.keep_checkpoints = 0;
  s.seed = 7;
  return s;
}

// Every tensor of a session's latest checkpoint, by name.
inline std::map<std::string, torch::Tensor> checkpoint_tensors(const std::filesystem::path& session) {
  const auto file = io::SafetensorsFile::open(session / "checkpoints/latest.safetensors");
  std::map<std::string, torch::Tensor> out;
  for (const auto& e : file->index().entries()) out[e.name] = file->tensor(e.name).clone();
  return out;
}

// The lines of a session's metrics.jsonl.
inline std::vector<nlohmann::json> metrics(const std::filesystem::path& session) {
  std::ifstream in(session / "metrics.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace kiln::test
