#include "training/session_export.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <tuple>
#include <sstream>

#include "base/error.h"
#include "convert/checkpoint_export.h"
#include "io/atomic_file.h"
#include "io/diffusers_folder.h"
#include "io/output_paths.h"
#include "io/safetensors.h"
#include "pipelines/model_loading.h"
#include "training/trainer.h"

namespace kiln::training {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string_view to_string(ExportFormat format) {
  switch (format) {
    case ExportFormat::Ckpt: return "ckpt";
    case ExportFormat::Diffusers: return "diffusers";
    case ExportFormat::Safetensors: break;
  }
  return "safetensors";
}

ExportFormat parse_export_format(std::string_view name) {
  for (auto f : {ExportFormat::Safetensors, ExportFormat::Ckpt, ExportFormat::Diffusers}) {
    if (name == to_string(f)) return f;
  }
  throw InvalidRequestError("unknown export format '" + std::string(name) + "'; accepted: safetensors, ckpt, diffusers");
}

namespace {

using io::size_on_disk;

// A temporary sibling of `out`, removed unless released.
io::TempPath temp_for(const fs::path& out) { return io::TempPath(io::temp_sibling(out, "export")); }

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::map<std::string, std::string> training_metadata(const TrainingSettings& s, const CheckpointInfo& c) {
  return {{"kiln.base_model", s.base_model.filename().string()},
          {"kiln.method", std::string(to_string(s.method))},
          {"kiln.steps", std::to_string(c.global_step)},
          {"kiln.text_encoder_steps", std::to_string(s.text_encoder.steps)},
          {"kiln.unet_steps", std::to_string(s.unet.steps)},
          {"kiln.text_encoder_lr", number(s.text_encoder.learning_rate)},
          {"kiln.unet_lr", number(s.unet.learning_rate)},
          {"kiln.token", s.token},
          {"kiln.resolution", std::to_string(s.resolution)},
          {"kiln.seed", std::to_string(s.seed)}};
}

void check_output(const SessionExportRequest& r) {
  if (r.output.empty()) throw InvalidRequestError("export: no output path");
  if (fs::exists(r.output) && !r.overwrite) {
    throw InvalidRequestError("the output " + r.output.string() + " already exists", "choose another name or overwrite it");
  }
  if (!r.output.parent_path().empty() && !fs::is_directory(r.output.parent_path())) {
    throw FileError("the output folder does not exist", r.output.parent_path());
  }
}

SessionExportResult export_lora(const SessionExportRequest& r, const TrainingSettings& s, const CheckpointInfo& c) {
  if (r.format != ExportFormat::Safetensors) {
    throw InvalidRequestError("a LoRA is exported as .safetensors (kohya layout), not " + std::string(to_string(r.format)));
  }
  const auto checkpoint = io::SafetensorsFile::open(c.path);
  const torch::Dtype dtype = r.half ? torch::kHalf : torch::kFloat;
  io::NamedTensors tensors;
  std::map<std::string, bool> modules;
  for (const auto& entry : checkpoint->index().entries()) {
    const std::string& name = entry.name;
    if (!name.starts_with("lora.")) continue;
    const std::string key = name.substr(5);
    tensors.emplace_back(key, checkpoint->tensor(name).to(dtype).contiguous());
    modules[key.substr(0, key.find('.'))] = key.starts_with("lora_te");
  }
  if (tensors.empty()) throw FormatError("the checkpoint holds no LoRA tensors", c.path);
  for (const auto& [module, te] : modules) {
    tensors.emplace_back(module + ".alpha", torch::tensor(s.lora_alpha, torch::TensorOptions().dtype(dtype)).reshape({}));
  }
  auto metadata = training_metadata(s, c);
  metadata["ss_network_module"] = "networks.lora";
  metadata["ss_network_dim"] = std::to_string(s.lora_rank);
  metadata["ss_network_alpha"] = number(s.lora_alpha);
  // kohya's base model names, from the family the trainer recorded.
  std::string family;
  try {
    family = json::parse(checkpoint->metadata().at("kiln_checkpoint")).value("family", "sd1");
  } catch (const std::exception&) {
    family = "sd1";
  }
  metadata["ss_base_model_version"] = family == "sdxl" ? "sdxl_base_v1-0" : family == "sd2" ? "sd_v2" : "sd_v1";
  metadata["kiln.family"] = family;
  metadata["ss_sd_model_name"] = s.base_model.filename().string();
  metadata["ss_steps"] = std::to_string(c.global_step);
  metadata["ss_resolution"] = "(" + std::to_string(s.resolution) + ", " + std::to_string(s.resolution) + ")";
  metadata["ss_mixed_precision"] = std::string(to_string(s.mixed_precision));
  metadata["ss_training_comment"] = "Kiln LoRA, token " + s.token;

  io::TempPath temp = temp_for(r.output);
  io::write_safetensors(temp.path(), tensors, metadata);
  const auto back = io::SafetensorsFile::open(temp.path());
  if (back->index().size() != tensors.size()) throw WeightMismatchError("verification failed: tensor count", r.output);
  for (const auto& [name, t] : tensors) {
    if (!torch::equal(back->tensor(name), t)) throw WeightMismatchError("verification failed: '" + name + "' differs", r.output);
  }
  io::place_output(temp.path(), r.output);
  temp.release();
  SessionExportResult result;
  result.output = r.output;
  result.lora = true;
  result.steps = c.global_step;
  result.tensors = tensors.size();
  result.bytes = size_on_disk(r.output);
  return result;
}

void copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec) throw FileError("cannot copy " + from.string() + ": " + ec.message(), to);
}

void write_component(torch::nn::Module& module, const fs::path& template_dir, const fs::path& out_dir,
                     const std::string& weights_name, torch::Dtype dtype) {
  fs::create_directories(out_dir);
  std::error_code ec;
  fs::copy_file(template_dir / "config.json", out_dir / "config.json", ec);
  if (ec) throw FileError("cannot copy the component config: " + ec.message(), template_dir / "config.json");
  io::NamedTensors tensors;
  for (const auto& p : module.named_parameters()) tensors.emplace_back(p.key(), p.value().detach().to(torch::kCPU, dtype).contiguous());
  for (const auto& b : module.named_buffers()) tensors.emplace_back(b.key(), b.value().detach().to(torch::kCPU).contiguous());
  io::write_safetensors(out_dir / weights_name, tensors, {{"format", "pt"}});
}

SessionExportResult export_model(const SessionExportRequest& r, const TrainingSettings& s, const CheckpointInfo& c,
                                 const std::function<void(std::string_view)>& log) {
  auto say = [&](const std::string& m) { if (log) log(m); };
  pipelines::ModelLoadOptions options;
  options.config_dir = s.config_dir;
  options.tokenizer_dir = s.tokenizer_dir;
  say("loading the base model");
  pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(s.base_model, options);
  {
    const auto checkpoint = io::SafetensorsFile::open(c.path);
    torch::NoGradGuard no_grad;
    std::vector<std::pair<torch::nn::Module*, std::string>> trained = {{model.text_encoder.get(), "text_encoder."},
                                                                       {model.unet.get(), "unet."}};
    if (model.is_sdxl()) trained.emplace_back(model.text_encoder_2.get(), "text_encoder_2.");
    for (auto [module, prefix] : trained) {
      for (auto& p : module->named_parameters()) {
        const std::string name = prefix + p.key();
        if (checkpoint->index().contains(name)) p.value().copy_(checkpoint->tensor(name));
      }
    }
  }
  io::TempPath temp = temp_for(r.output);
  fs::create_directories(temp.path());
  // A diffusers template with the base model's configs, tokenizer and scheduler.
  fs::path template_dir = s.base_model;
  if (!fs::is_directory(s.base_model)) {
    say("reading the base model's configs");
    convert::ConvertRequest to_folder;
    to_folder.input = s.base_model;
    to_folder.output = temp.path() / "template";
    to_folder.to = convert::KeyLayout::Diffusers;
    to_folder.config_dir = s.config_dir;
    to_folder.clip_vocab_dir = s.tokenizer_dir;
    to_folder.prediction = model.prediction_type;
    convert::convert_model(to_folder);
    template_dir = to_folder.output;
  }
  const fs::path folder = temp.path() / "model";
  fs::create_directories(folder);
  const torch::Dtype dtype = r.half ? torch::kHalf : torch::kFloat;
  say("writing the trained weights");
  for (const auto& entry : fs::directory_iterator(template_dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "unet") {
      write_component(*model.unet, entry.path(), folder / name, "diffusion_pytorch_model.safetensors", dtype);
    } else if (name == "vae") {
      write_component(*model.vae, entry.path(), folder / name, "diffusion_pytorch_model.safetensors", dtype);
    } else if (name == "text_encoder") {
      write_component(*model.text_encoder, entry.path(), folder / name, "model.safetensors", dtype);
    } else if (name == "text_encoder_2" && model.is_sdxl()) {
      write_component(*model.text_encoder_2, entry.path(), folder / name, "model.safetensors", dtype);
    } else if (entry.is_directory()) {
      if (name == "tokenizer" || name == "tokenizer_2" || name == "scheduler") copy_tree(entry.path(), folder / name);
    } else if (name == "model_index.json") {
      // Only the components written here: a safety checker or feature extractor stays behind.
      json index = json::parse(std::ifstream(entry.path()));
      for (auto it = index.begin(); it != index.end();) {
        static const std::set<std::string> written = {"unet",        "vae",       "text_encoder", "text_encoder_2",
                                                      "tokenizer",   "tokenizer_2", "scheduler"};
        const bool keep = it.key().starts_with("_") || written.count(it.key()) > 0;
        if (!keep) it.value() = json::array({nullptr, nullptr});
        ++it;
      }
      io::write_file_atomically(folder / name, index.dump(2) + "\n");
    }
  }
  SessionExportResult result;
  result.output = r.output;
  result.steps = c.global_step;
  if (r.format == ExportFormat::Diffusers) {
    // Verified below, after it is in place (the loader reads it there); an old folder is swapped out.
    io::place_output(folder, r.output);
  } else {
    say("writing " + r.output.filename().string());
    convert::ConvertRequest to_file;
    to_file.input = folder;
    to_file.output = r.output;
    to_file.to = convert::KeyLayout::SingleFile;
    to_file.format = r.format == ExportFormat::Ckpt ? convert::SingleFileFormat::Ckpt : convert::SingleFileFormat::Safetensors;
    to_file.config_dir = s.config_dir;
    to_file.overwrite = r.overwrite;
    to_file.metadata = training_metadata(s, c);
    const auto converted = convert::convert_model(to_file);
    result.notes = converted.notes;
  }

  // Verified by reloading through the model loader.
  say("verifying");
  pipelines::ModelLoadOptions reload_options;
  // A single file carries no configs: the template's describe it (also for non-reference sizes).
  if (r.format != ExportFormat::Diffusers) reload_options.config_dir = template_dir;
  reload_options.tokenizer_dir = s.tokenizer_dir.empty() ? template_dir / "tokenizer" : s.tokenizer_dir;
  try {
    const pipelines::StableDiffusionModel back = pipelines::load_stable_diffusion(r.output, reload_options);
    using Pair = std::tuple<torch::nn::Module*, const torch::nn::Module*, const char*>;
    std::vector<Pair> compared = {Pair{model.unet.get(), back.unet.get(), "unet"},
                                  Pair{model.text_encoder.get(), back.text_encoder.get(), "text encoder"}};
    if (model.is_sdxl() && back.is_sdxl()) {
      compared.emplace_back(model.text_encoder_2.get(), back.text_encoder_2.get(), "second text encoder");
    }
    for (const auto& [a, b, what] : compared) {
      const auto pb = b->named_parameters();
      for (const auto& p : a->named_parameters()) {
        const torch::Tensor* other = pb.find(p.key());
        if (!other || !torch::equal(p.value().detach().to(dtype).to(torch::kFloat), *other)) {
          throw WeightMismatchError(std::string("verification failed: the ") + what + " weight '" + p.key() +
                                        "' did not read back as written",
                                    r.output);
        }
        ++result.tensors;
      }
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(r.output, ec);
    throw;
  }
  result.bytes = size_on_disk(r.output);
  return result;
}

}  // namespace

SessionExportResult export_session(const SessionExportRequest& request,
                                   const std::function<void(std::string_view)>& on_log) {
  const TrainingSettings settings = read_session_settings(request.session);
  const auto checkpoint = latest_checkpoint(request.session);
  if (!checkpoint) {
    throw InvalidRequestError("the session " + request.session.string() + " has no checkpoint yet: nothing to export",
                              "train at least one step first");
  }
  check_output(request);
  if (settings.method == TrainingMethod::LoRA) return export_lora(request, settings, *checkpoint);
  return export_model(request, settings, *checkpoint, on_log);
}

namespace {

std::string session_name(const fs::path& session) {
  fs::path p = session.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") {
    std::error_code ec;
    name = fs::weakly_canonical(session, ec).filename().string();
  }
  return name.empty() ? std::string("checkpoint") : name;
}

}  // namespace

fs::path kept_checkpoint_path(const fs::path& session, std::int64_t step) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06lld", static_cast<long long>(step));
  return session / "checkpoints" / (session_name(session) + "-" + digits + ".safetensors");
}

std::vector<KeptCheckpoint> kept_checkpoints(const fs::path& session) {
  std::vector<KeptCheckpoint> kept;
  const fs::path dir = session / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return kept;
  static const std::regex pattern(R"(.+-(\d{1,12})\.safetensors)");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || !std::regex_match(name, m, pattern)) continue;
    kept.push_back({entry.path(), std::stoll(m[1].str())});
  }
  std::sort(kept.begin(), kept.end(), [](const KeptCheckpoint& a, const KeptCheckpoint& b) {
    return a.step != b.step ? a.step < b.step : a.path < b.path;
  });
  return kept;
}

fs::path keep_latest_checkpoint(const fs::path& session, int keep,
                                const std::function<void(std::string_view)>& on_log) {
  const auto checkpoint = latest_checkpoint(session);
  if (!checkpoint) throw InvalidRequestError("the session " + session.string() + " has no checkpoint to keep");
  const TrainingSettings settings = read_session_settings(session);
  // What a killed run left half-written here (only Kiln's own temporary names).
  {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(session / "checkpoints", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with(".") && name.find(".kiln-export-") != std::string::npos) fs::remove_all(entry.path(), ec);
    }
  }
  SessionExportRequest request;
  request.session = session;
  request.output = kept_checkpoint_path(session, checkpoint->global_step);
  request.half = true;
  request.overwrite = true;  // a resumed run saves the same step again
  if (settings.method == TrainingMethod::LoRA) {
    export_lora(request, settings, *checkpoint);
  } else {
    export_model(request, settings, *checkpoint, {});
  }
  if (on_log) on_log("kept " + request.output.filename().string());
  auto kept = kept_checkpoints(session);
  const std::size_t limit = static_cast<std::size_t>(std::max(keep, 1));
  for (std::size_t i = 0; i + limit < kept.size(); ++i) {
    std::error_code ec;
    fs::remove(kept[i].path, ec);
    if (ec) {
      if (on_log) on_log("could not remove " + kept[i].path.string() + ": " + ec.message());
    } else if (on_log) {
      on_log("removed " + kept[i].path.filename().string() + " (keeping the newest " + std::to_string(limit) + ")");
    }
  }
  return request.output;
}

}  // namespace kiln::training
