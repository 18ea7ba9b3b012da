// Session files: the examples and their prompts, settings.json, the latest checkpoint's facts.
#include <nlohmann/json.hpp>

#include <map>

#include "base/error.h"
#include "dataset/captions.h"
#include "dataset/prepare_dataset.h"
#include "io/atomic_file.h"
#include "io/output_paths.h"
#include "io/safetensors.h"
#include "training/session_layout.h"
#include "training/trainer.h"

namespace kiln::training {
namespace fs = std::filesystem;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Examples and session files

namespace {

// A session's copy of its images (<session>/dataset with dataset.json, e.g. an imported session's
// `images`): the prompts as recorded there. Empty when `folder` is not such a copy.
std::vector<TrainingExample> snapshot_examples(const fs::path& folder) {
  std::vector<TrainingExample> out;
  const fs::path list = folder / "dataset.json";
  if (!fs::is_regular_file(list)) return out;
  try {
    const json j = json::parse(io::read_file(list));
    for (const auto& item : j.at("images")) {
      TrainingExample e{folder / item.at("image").get<std::string>(), item.at("prompt").get<std::string>(),
                        item.value("from_caption_file", false)};
      if (!fs::is_regular_file(e.image)) return {};
      out.push_back(std::move(e));
    }
  } catch (const json::exception&) {
    return {};  // not a session's list: the folder is read as any other
  }
  return out;
}

}  // namespace

std::vector<TrainingExample> training_examples(const TrainingSettings& settings) {
  if (auto snapshot = snapshot_examples(settings.images); !snapshot.empty()) return snapshot;
  std::vector<TrainingExample> out;
  for (const fs::path& image : dataset::list_images(settings.images)) {
    TrainingExample e;
    e.image = image;
    std::string caption;
    if (settings.captions == CaptionSource::CaptionFiles) {
      if (auto c = dataset::read_caption(image); c && !c->text.empty()) {
        caption = c->text;
        e.from_caption_file = true;
      }
    }
    if (caption.empty()) caption = dataset::caption_from_filename(image);
    e.prompt = settings.token.empty() ? caption : dataset::add_instance_token(caption, settings.token);
    out.push_back(std::move(e));
  }
  if (out.empty()) {
    throw InvalidRequestError("the image folder " + settings.images.string() + " has no image to train on");
  }
  return out;
}

void create_session(const fs::path& dir, const TrainingSettings& settings) {
  if (fs::exists(settings_path(dir))) {
    throw InvalidRequestError("a training session already exists in " + dir.string(),
                              "resume it, or choose an empty folder");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw FileError("cannot create the session folder: " + ec.message(), dir);
  write_session_settings(dir, settings);
}

TrainingSettings read_session_settings(const fs::path& dir) {
  const fs::path path = settings_path(dir);
  if (!fs::exists(path)) throw FileError("not a training session (no settings.json)", dir);
  json j;
  try {
    j = json::parse(io::read_file(path));
  } catch (const json::exception& e) {
    throw FormatError(std::string("settings.json is not valid JSON: ") + e.what(), path);
  }
  return settings_from_json(j, path);
}

void write_session_settings(const fs::path& dir, const TrainingSettings& settings) {
  io::write_file_atomically(settings_path(dir), to_json(settings).dump(2) + "\n");
}

namespace {

CheckpointInfo checkpoint_info_from(const fs::path& path, const std::map<std::string, std::string>& metadata) {
  const auto it = metadata.find(kCheckpointKey);
  if (it == metadata.end()) throw FormatError("not a Kiln training checkpoint (no kiln_checkpoint metadata)", path);
  CheckpointInfo info;
  info.path = path;
  try {
    const json j = json::parse(it->second);
    info.stage = j.at("stage").get<std::string>() == "text_encoder" ? Stage::TextEncoder : Stage::UNet;
    info.stage_step = j.at("stage_step").get<std::int64_t>();
    info.global_step = j.at("global_step").get<std::int64_t>();
    info.finished = j.value("finished", false);
  } catch (const json::exception& e) {
    throw FormatError(std::string("the checkpoint's kiln_checkpoint metadata is broken: ") + e.what(), path);
  }
  return info;
}

}  // namespace

std::optional<CheckpointInfo> latest_checkpoint(const fs::path& dir) {
  const fs::path path = checkpoint_path(dir);
  if (!fs::exists(path)) return std::nullopt;
  const auto header = io::read_safetensors_header(path);
  return checkpoint_info_from(path, header.metadata);
}

}  // namespace kiln::training
