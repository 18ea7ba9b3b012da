#include "convert/checkpoint_export.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "base/error.h"
#include "convert/reference_configs.h"
#include "convert/text_encoder_keys.h"
#include "convert/unet_keys.h"
#include "convert/vae_keys.h"
#include "io/atomic_file.h"
#include "io/diffusers_folder.h"
#include "io/output_paths.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint_writer.h"
#include "io/weight_file.h"

namespace kiln::convert {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Stage = ConvertProgress::Stage;
using Fetch = std::function<at::Tensor(const std::string&)>;
using io::make_directory;
using io::place_output;
using io::read_file;
using io::size_on_disk;
using io::temp_sibling;
using io::TempPath;

struct Cancelled {};

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool is_controlnet(ModelFamily f) {
  return f == ModelFamily::ControlNetSD1 || f == ModelFamily::ControlNetSD2 || f == ModelFamily::ControlNetSDXL;
}

// "a, b, c and 12 more"
std::string name_list(const std::vector<std::string>& names, std::size_t shown = 6) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

// One diffusers component of a single file and how its keys are named there.
struct ComponentSpec {
  enum class Kind { UNet, Vae, Text, ControlNet };
  std::string name;
  Kind kind = Kind::UNet;
  SingleFileTextEncoder text;                         // Kind::Text only
  std::string controlnet_prefix = kControlNetPrefix;  // Kind::ControlNet only: "" in bare files
};

std::vector<ComponentSpec> components_of(ModelFamily family) {
  using K = ComponentSpec::Kind;
  switch (family) {
    case ModelFamily::SD1:
    case ModelFamily::SD1Inpaint:
    case ModelFamily::SD2:
    case ModelFamily::SD2Inpaint:
    case ModelFamily::SDXL:
    case ModelFamily::SDXLRefiner: {
      std::vector<ComponentSpec> specs = {{"unet", K::UNet, {}, {}}, {"vae", K::Vae, {}, {}}};
      for (const auto& enc : single_file_text_encoders(family)) specs.push_back({enc.component, K::Text, enc, {}});
      return specs;
    }
    case ModelFamily::ControlNetSD1:
    case ModelFamily::ControlNetSD2:
    case ModelFamily::ControlNetSDXL:
      return {{"controlnet", K::ControlNet, {}, kControlNetPrefix}};
    default:
      throw InvalidRequestError("converting " + std::string(display_name(family)) + " models is not supported",
                                "Kiln converts Stable Diffusion 1.x, 2.x and SDXL checkpoints and ControlNets");
  }
}

// Original ControlNets: "control_model." inside full checkpoints, bare in lllyasviel's 1.1 files.
std::string controlnet_prefix(const io::TensorIndex& single_file) {
  for (const auto& e : single_file.entries()) {
    if (starts_with(e.name, kControlNetPrefix)) return kControlNetPrefix;
  }
  return "";
}

// The key tables of unet_keys/vae_keys throw without a file name: add it.
template <typename F>
auto with_path(const fs::path& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const FormatError& e) {
    if (!e.path().empty() || path.empty()) throw;
    throw FormatError(e.message(), path, e.hint());
  }
}

// One component's key mapping (either direction).
struct ComponentMap {
  ComponentSpec spec;
  std::vector<KeyMapping> keys;  // UNet, VAE, ControlNet
  TextEncoderKeyMap text;        // text encoders

  std::vector<std::string> originals() const {
    std::vector<std::string> out;
    for (const auto& k : keys) out.push_back(k.original);
    for (const auto& m : text.mappings) out.push_back(m.original_key);
    return out;
  }
};

ComponentMap map_from_diffusers(const ComponentSpec& s, const io::TensorIndex& local, const fs::path& path) {
  ComponentMap m{s, {}, {}};
  with_path(path, [&] {
    switch (s.kind) {
      case ComponentSpec::Kind::UNet:
        m.keys = unet_key_map_from_diffusers(local, kUNetPrefix);
        break;
      case ComponentSpec::Kind::Vae:
        m.keys = vae_key_map_from_diffusers(local, kVaePrefix);
        break;
      case ComponentSpec::Kind::ControlNet:
        m.keys = controlnet_key_map_from_diffusers(local, s.controlnet_prefix);
        break;
      case ComponentSpec::Kind::Text:
        m.text = text_encoder_key_map_from_diffusers(local, s.text, path);
        break;
    }
    return 0;
  });
  return m;
}

ComponentMap map_from_single_file(const ComponentSpec& s, const io::TensorIndex& file, const fs::path& path) {
  ComponentMap m{s, {}, {}};
  with_path(path, [&] {
    switch (s.kind) {
      case ComponentSpec::Kind::UNet:
        m.keys = unet_key_map_from_original(file, kUNetPrefix);
        break;
      case ComponentSpec::Kind::Vae:
        m.keys = vae_key_map_from_original(file, kVaePrefix);
        break;
      case ComponentSpec::Kind::ControlNet:
        m.keys = controlnet_key_map_from_original(file, s.controlnet_prefix);
        break;
      case ComponentSpec::Kind::Text:
        m.text = text_encoder_key_map(file, s.text, path);
        break;
    }
    return 0;
  });
  return m;
}

io::NamedTensors single_file_tensors_of(const ComponentMap& m, const Fetch& fetch_diffusers) {
  if (m.spec.kind == ComponentSpec::Kind::Text) return translate_tensors_to_original(m.text, fetch_diffusers);
  return to_original_tensors(m.keys, fetch_diffusers);
}

io::NamedTensors diffusers_tensors_of(const ComponentMap& m, const Fetch& fetch_original) {
  if (m.spec.kind == ComponentSpec::Kind::Text) return translate_tensors(m.text, fetch_original);
  return to_diffusers_tensors(m.keys, fetch_original);
}

// The component-local index of `spec` within a combined diffusers index.
io::TensorIndex local_index(const io::TensorIndex& diffusers, const ComponentSpec& spec, bool bare) {
  return bare ? diffusers : diffusers.with_prefix(spec.name + ".");
}

bool bare_controlnet(const io::TensorIndex& diffusers, ModelFamily family) {
  if (!is_controlnet(family)) return false;
  for (const auto& e : diffusers.entries()) {
    if (starts_with(e.name, "controlnet.")) return false;
  }
  return true;
}

// The verification's comparison: same dtype, shape and bytes.
void check_same(const std::string& name, const at::Tensor& got, const at::Tensor& expected, const fs::path& output) {
  bool same = got.scalar_type() == expected.scalar_type() && got.sizes() == expected.sizes();
  if (same) {
    const at::Tensor a = got.contiguous(), b = expected.contiguous();
    same = std::memcmp(a.data_ptr(), b.data_ptr(), a.nbytes()) == 0;
  }
  if (!same) {
    throw WeightMismatchError("verification failed: " + name + " reads back as " +
                                  std::string(c10::toString(got.scalar_type())) + " " + c10::str(got.sizes()) +
                                  " with other values than the source's " +
                                  std::string(c10::toString(expected.scalar_type())) + " " + c10::str(expected.sizes()),
                              output, "nothing was written; check the disk, then report it as a Kiln bug");
  }
}

// Opens what was just written; a failure names the output, not its temporary name.
template <typename F>
auto read_back(const fs::path& output, F&& open) -> decltype(open()) {
  try {
    return open();
  } catch (const Error& e) {
    throw WeightMismatchError("verification failed: the output does not read back: " + e.message(), output,
                              "nothing was written; check the disk, then report it as a Kiln bug");
  }
}

void write_json(const fs::path& path, const json& j) { io::write_file_atomically(path, j.dump(2) + "\n"); }

// Everything one conversion needs to know while it runs.
struct Job {
  const ConvertRequest& req;
  const ConvertProgressCallback& progress;
  std::stop_token stop;
  ConvertResult result;

  void check_stop() const {
    if (stop.stop_requested()) throw Cancelled{};
  }
  void report(Stage stage, std::size_t done, std::size_t total) const {
    if (progress) progress(ConvertProgress{stage, done, total});
  }
  at::Tensor convert(const at::Tensor& t) const {
    if (req.dtype == ExportDType::Keep || !at::isFloatingType(t.scalar_type())) return t;
    switch (req.dtype) {
      case ExportDType::F16:
        return t.to(at::kHalf);
      case ExportDType::BF16:
        return t.to(at::kBFloat16);
      default:
        return t.to(at::kFloat);
    }
  }
  void note(std::string text) { result.notes.push_back(std::move(text)); }
};

SingleFileFormat pick_format(const ConvertRequest& req) {
  std::string ext = req.output.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::optional<SingleFileFormat> by_name;
  if (ext == ".ckpt" || ext == ".pt" || ext == ".pth") by_name = SingleFileFormat::Ckpt;
  if (ext == ".safetensors") by_name = SingleFileFormat::Safetensors;
  if (req.format && by_name && *req.format != *by_name) {
    throw InvalidRequestError("the output " + req.output.string() + " is named " + ext + " but the format asked is " +
                                  std::string(to_string(*req.format)),
                              "name the file ." + std::string(to_string(*req.format)) + " or leave the format out");
  }
  return req.format.value_or(by_name.value_or(SingleFileFormat::Safetensors));
}

void write_single_file(const Job& job, const fs::path& path, const io::NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  job.report(Stage::Writing, 0, tensors.size());
  if (job.result.format == SingleFileFormat::Ckpt) {
    io::TorchCheckpointWriteOptions options;
    options.progress = [&](std::size_t done, std::size_t total) { job.report(Stage::Writing, done, total); };
    io::write_torch_checkpoint(path, tensors, options);
  } else {
    io::write_safetensors(path, tensors, metadata);
    job.report(Stage::Writing, tensors.size(), tensors.size());
  }
}

// Writes `tensors` under the temporary name, frees them (the converted copies) and opens what was
// written, checking the tensor count.
std::unique_ptr<io::WeightFile> write_and_reopen(const Job& job, const fs::path& temp, io::NamedTensors& tensors,
                                                 const std::map<std::string, std::string>& metadata) {
  write_single_file(job, temp, tensors, metadata);
  const std::size_t written = tensors.size();
  tensors.clear();
  job.check_stop();
  auto file = read_back(job.req.output, [&] { return io::open_weight_file(temp); });
  if (file->index().size() != written) {
    throw WeightMismatchError("verification failed: " + std::to_string(file->index().size()) + " tensors read back, " +
                                  std::to_string(written) + " written",
                              job.req.output);
  }
  return file;
}

// ---- diffusers folder -> single file ----

void folder_to_single_file(Job& job, const io::DiffusersFolder& folder) {
  const ModelFamily family = job.result.family;
  const std::vector<ComponentSpec> specs = components_of(family);
  if (!folder.is_pipeline() && !is_controlnet(family)) {
    throw InvalidRequestError(folder.root().string() +
                                  " holds one component; of lone components Kiln converts "
                                  "ControlNets only",
                              "convert the pipeline folder it belongs to");
  }
  auto component_of = [&](const ComponentSpec& spec) {
    const io::DiffusersComponent* c = folder.is_pipeline() ? folder.component(spec.name) : &folder.components().front();
    if (!c || !c->has_weights()) {
      throw FormatError("the diffusers folder has no " + spec.name + " weights, which a " +
                            std::string(display_name(family)) + " single file needs",
                        folder.root());
    }
    return c;
  };

  io::NamedTensors tensors;
  std::vector<std::string> left_out;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const io::DiffusersComponent* c = component_of(specs[i]);
    const ComponentMap map = map_from_diffusers(specs[i], c->index, c->folder);
    for (const auto& k : map.text.ignored) left_out.push_back(c->name + "." + k);
    const Fetch fetch = [&folder, name = c->name](const std::string& key) { return folder.tensor(name, key); };
    for (auto& [name, t] : single_file_tensors_of(map, fetch)) tensors.emplace_back(std::move(name), job.convert(t));
    job.report(Stage::Reading, i + 1, specs.size());
    job.check_stop();
  }
  for (const auto& c : folder.components()) {
    const bool used = std::any_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == c.name; });
    if (c.has_weights() && !used && folder.is_pipeline()) left_out.push_back(c.name + " (the whole component)");
  }
  if (!left_out.empty()) {
    job.note("left out " + std::to_string(left_out.size()) +
             " entries a single file has no place for: " + name_list(left_out));
  }

  // A single file carries no scheduler config: keep a known prediction type in the metadata
  // (modelspec spelling), where Kiln and other tools look for it.
  std::map<std::string, std::string> metadata = {{"format", "pt"}};
  const PredictionTypeSource prediction = detect_prediction_type(folder.root());
  if (prediction.type != PredictionType::Unknown) {
    metadata["modelspec.prediction_type"] = prediction.type == PredictionType::VPrediction ? "v" : "epsilon";
    if (job.result.format == SingleFileFormat::Ckpt && prediction.type == PredictionType::VPrediction) {
      job.note(
          "the prediction type (v_prediction) is not stored: .ckpt files have no metadata; a .yaml beside the "
          "file with parameterization: \"v\" tells AUTOMATIC1111");
    }
  }

  // Verify: the file read back through the loaders' mapping (single file -> diffusers) gives
  // every source tensor of every component, bit for bit after the dtype conversion.
  TempPath temp(temp_sibling(job.req.output, "convert"));
  const std::size_t written = tensors.size();
  for (const auto& [key, value] : job.req.metadata) metadata[key] = value;
  const auto file = write_and_reopen(job, temp.path(), tensors, metadata);
  std::size_t checked = 0;
  std::set<std::string> used;
  for (const ComponentSpec& spec : specs) {
    const io::DiffusersComponent* c = component_of(spec);
    const ComponentMap back = map_from_single_file(spec, file->index(), job.req.output);
    for (const auto& o : back.originals()) used.insert(o);
    const Fetch fetch = [&](const std::string& name) { return file->tensor(name); };
    std::set<std::string> expected;
    for (const auto& e : c->index.entries()) {
      if (!e.name.ends_with("position_ids")) expected.insert(e.name);
    }
    for (const auto& [name, t] : diffusers_tensors_of(back, fetch)) {
      if (!expected.erase(name)) {
        throw WeightMismatchError("verification failed: " + c->name + "." + name + " is not in the source",
                                  job.req.output);
      }
      check_same(c->name + "." + name, t, job.convert(folder.tensor(c->name, name)), job.req.output);
      job.report(Stage::Verifying, ++checked, written);
      job.check_stop();
    }
    if (!expected.empty()) {
      throw WeightMismatchError("verification failed: the file does not give back " + c->name + " " +
                                    name_list({expected.begin(), expected.end()}),
                                job.req.output);
    }
  }
  if (used.size() != written) {
    throw WeightMismatchError("verification failed: the file holds tensors no component reads back", job.req.output);
  }
  place_output(temp.path(), job.req.output);
  temp.release();
  job.result.tensors = written;
}

// ---- single file -> diffusers folder ----

// Where a diffusers output takes one component's config from.
struct ConfigSource {
  json config;
  fs::path file;  // the file to copy as it is (config_dir); empty for a reference config
  std::string description;
};

ConfigSource component_config(const Job& job, const std::string& component, PredictionType prediction) {
  const fs::path& dir = job.req.config_dir;
  if (!dir.empty()) {
    const char* name = component == "scheduler"              ? "scheduler_config.json"
                       : starts_with(component, "tokenizer") ? "tokenizer_config.json"
                                                             : "config.json";
    std::vector<fs::path> candidates = {dir / component / name};
    if (is_controlnet(job.result.family)) candidates.insert(candidates.begin(), dir / name);
    for (const fs::path& p : candidates) {
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) continue;
      json j = json::parse(read_file(p), nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) throw FormatError("not a JSON object", p);
      return {std::move(j), p, p.string()};
    }
  }
  return {reference_config(job.result.family, component, prediction),
          {},
          "reference " + std::string(display_name(job.result.family)) + " " + component + " config"};
}

void write_config(const ConfigSource& source, const fs::path& target) {
  if (source.file.empty()) return write_json(target, source.config);
  io::write_file_atomically(target, read_file(source.file));
}

// tokenizer/ (or tokenizer_2/): the config folder's tokenizer when it has one, else the bundled
// CLIP vocabulary with the reference tokenizer files.
void write_tokenizer(Job& job, const fs::path& root, const std::string& name, PredictionType prediction) {
  const fs::path out = root / name;
  make_directory(out);
  std::error_code ec;
  const fs::path given = job.req.config_dir.empty() ? fs::path() : job.req.config_dir / name;
  if (!given.empty() && fs::is_regular_file(given / "vocab.json", ec) &&
      fs::is_regular_file(given / "merges.txt", ec)) {
    for (const auto& e : fs::directory_iterator(given)) {
      if (e.is_regular_file()) io::write_file_atomically(out / e.path().filename(), read_file(e.path()));
    }
    return;
  }
  const fs::path& vocab = job.req.clip_vocab_dir;
  if (vocab.empty() || !fs::is_regular_file(vocab / "vocab.json", ec) ||
      !fs::is_regular_file(vocab / "merges.txt", ec)) {
    throw InvalidRequestError("no CLIP vocabulary (vocab.json + merges.txt) for " + name + "/" +
                                  (vocab.empty() ? std::string() : " in " + vocab.string()),
                              "Kiln's resources/clip folder holds it; or pass --config DIR with a tokenizer folder");
  }
  io::write_file_atomically(out / "vocab.json", read_file(vocab / "vocab.json"));
  io::write_file_atomically(out / "merges.txt", read_file(vocab / "merges.txt"));
  write_json(out / "tokenizer_config.json", reference_config(job.result.family, name, prediction));
  write_json(out / "special_tokens_map.json", reference_special_tokens_map(job.result.family, name));
}

void single_file_to_folder(Job& job, const io::WeightFile& file) {
  const ModelFamily family = job.result.family;
  std::vector<ComponentSpec> specs = components_of(family);
  const bool pipeline = !is_controlnet(family);
  for (ComponentSpec& spec : specs) spec.controlnet_prefix = controlnet_prefix(file.index());

  std::vector<ComponentMap> maps;
  std::set<std::string> used;
  for (const ComponentSpec& spec : specs) {
    maps.push_back(map_from_single_file(spec, file.index(), file.path()));
    for (const auto& o : maps.back().originals()) used.insert(o);
  }
  std::vector<std::string> left_out;
  for (const auto& e : file.index().entries()) {
    if (!used.count(e.name)) left_out.push_back(e.name);
  }
  if (!left_out.empty()) {
    job.note("left out " + std::to_string(left_out.size()) +
             " tensors the diffusers layout has no place for: " + name_list(left_out));
  }

  PredictionTypeSource prediction{job.req.prediction, "the request"};
  if (prediction.type == PredictionType::Unknown) prediction = detect_prediction_type(file.path(), file.metadata());
  if (pipeline) {
    if (prediction.type != PredictionType::Unknown) {
      job.note("prediction type " + std::string(to_string(prediction.type)) + " (from " + prediction.source + ")");
    } else if (family == ModelFamily::SD2 && job.req.config_dir.empty()) {
      job.note(
          "prediction type unknown: assumed v_prediction (SD 2.1 768), as diffusers does; pass the prediction "
          "type for a 512 epsilon model");
    }
  }
  job.result.prediction = prediction.type;

  TempPath temp(temp_sibling(job.req.output, "convert"));
  make_directory(temp.path());
  std::size_t written = 0;
  for (std::size_t i = 0; i < maps.size(); ++i) {
    const ComponentMap& map = maps[i];
    const Fetch fetch = [&](const std::string& name) { return file.tensor(name); };
    io::NamedTensors tensors;
    for (auto& [name, t] : diffusers_tensors_of(map, fetch)) tensors.emplace_back(std::move(name), job.convert(t));
    io::TensorIndex local;
    for (const auto& [name, t] : tensors) {
      io::TensorEntry e;
      e.name = name;
      e.shape = t.sizes().vec();
      local.add(std::move(e));
    }
    const ConfigSource config = component_config(job, map.spec.name, prediction.type);
    check_config_against_weights(map.spec.name, config.config, local, config.description);
    const fs::path dir = pipeline ? temp.path() / map.spec.name : temp.path();
    if (pipeline) make_directory(dir);
    write_config(config, dir / "config.json");
    const bool transformers = map.spec.kind == ComponentSpec::Kind::Text;
    job.report(Stage::Writing, i, maps.size());
    io::write_safetensors(dir / (transformers ? "model.safetensors" : "diffusion_pytorch_model.safetensors"), tensors,
                          {{"format", "pt"}});
    written += tensors.size();
    job.note(map.spec.name + " config: " + config.description);
    job.check_stop();
  }
  job.report(Stage::Writing, maps.size(), maps.size());

  if (pipeline) {
    std::set<std::string> written_components;
    for (const auto& s : specs) {
      written_components.insert(s.name);
      if (s.kind == ComponentSpec::Kind::Text) {
        const std::string tokenizer = "tokenizer" + s.name.substr(std::string("text_encoder").size());
        write_tokenizer(job, temp.path(), tokenizer, prediction.type);
        written_components.insert(tokenizer);
      }
    }
    const ConfigSource scheduler = component_config(job, "scheduler", prediction.type);
    make_directory(temp.path() / "scheduler");
    write_config(scheduler, temp.path() / "scheduler" / "scheduler_config.json");
    written_components.insert("scheduler");

    // model_index.json: the config folder's (components it names but this folder lacks set to
    // [null, null]) or the reference; every written component listed.
    json index;
    std::error_code ec;
    const fs::path given = job.req.config_dir / "model_index.json";
    if (!job.req.config_dir.empty() && fs::is_regular_file(given, ec)) {
      index = json::parse(read_file(given), nullptr, false);
      if (!index.is_object()) throw FormatError("not a JSON object", given);
      for (auto it = index.begin(); it != index.end(); ++it) {
        if (!it.key().starts_with("_") && it->is_array() && !written_components.count(it.key()))
          *it = {nullptr, nullptr};
      }
    } else {
      index = reference_config(family, "model_index", prediction.type);
    }
    for (const auto& name : written_components) {
      if (index.contains(name) && index[name].is_array() && !index[name].empty() && !index[name].front().is_null()) {
        continue;
      }
      auto [library, cls] = reference_component_class(family, name, prediction.type);
      if (name == "scheduler") cls = scheduler.config.value("_class_name", cls);
      index[name] = {library, cls};
    }
    write_json(temp.path() / "model_index.json", index);
  }
  job.check_stop();

  // Verify: the folder opens as diffusers reads it, is the same family, and holds exactly the
  // tensors the source maps to, bit for bit after the dtype conversion. (Compared by diffusers
  // name: sources may spell original names in older ways - no text_model. level, VAE attention
  // as [C, C] - that a read-back into canonical single-file names would not match.)
  const io::DiffusersFolder out = read_back(job.req.output, [&] { return io::DiffusersFolder::open(temp.path()); });
  if (!job.req.family) {
    const FamilyDetection again = detect_family(out.combined_index(), job.req.output);
    if (again.family != family) {
      throw WeightMismatchError("verification failed: the folder reads as " + std::string(display_name(again.family)) +
                                    ", the source as " + std::string(display_name(family)),
                                job.req.output);
    }
  }
  std::size_t checked = 0;
  for (const ComponentMap& map : maps) {
    const io::DiffusersComponent* c = pipeline ? out.component(map.spec.name) : &out.components().front();
    if (!c) throw WeightMismatchError("verification failed: no " + map.spec.name + " in the folder", job.req.output);
    const Fetch fetch = [&](const std::string& name) { return file.tensor(name); };
    const io::NamedTensors want = diffusers_tensors_of(map, fetch);
    if (c->index.size() != want.size()) {
      throw WeightMismatchError("verification failed: " + c->name + " holds " + std::to_string(c->index.size()) +
                                    " tensors, " + std::to_string(want.size()) + " were written",
                                job.req.output);
    }
    for (const auto& [name, t] : want) {
      if (!c->index.contains(name)) {
        throw WeightMismatchError("verification failed: " + c->name + "." + name + " is missing", job.req.output);
      }
      check_same(c->name + "." + name, out.tensor(c->name, name), job.convert(t), job.req.output);
      job.report(Stage::Verifying, ++checked, written);
      job.check_stop();
    }
  }
  place_output(temp.path(), job.req.output);
  temp.release();
  job.result.tensors = written;
}

// ---- single file -> single file: the same tensors re-saved ----

void resave_single_file(Job& job, const io::WeightFile& file) {
  io::NamedTensors tensors;
  for (const auto& e : file.index().entries()) tensors.emplace_back(e.name, job.convert(file.tensor(e.name)));
  job.check_stop();
  std::map<std::string, std::string> metadata = file.metadata();
  metadata["format"] = "pt";
  if (job.result.format == SingleFileFormat::Ckpt && !file.metadata().empty()) {
    job.note("the safetensors metadata (" + std::to_string(file.metadata().size()) +
             " entries) is not kept: .ckpt files have no place for it");
  }
  TempPath temp(temp_sibling(job.req.output, "convert"));
  const std::size_t written = tensors.size();
  for (const auto& [key, value] : job.req.metadata) metadata[key] = value;
  const auto out = write_and_reopen(job, temp.path(), tensors, metadata);
  std::size_t checked = 0;
  for (const auto& e : file.index().entries()) {
    if (!out->index().contains(e.name)) {
      throw WeightMismatchError("verification failed: " + e.name + " is missing", job.req.output);
    }
    check_same(e.name, out->tensor(e.name), job.convert(file.tensor(e.name)), job.req.output);
    job.report(Stage::Verifying, ++checked, written);
    job.check_stop();
  }
  place_output(temp.path(), job.req.output);
  temp.release();
  job.result.tensors = written;
}

// What OUT may be, checked before any work: not the input, in an existing folder, and absent
// unless replacing it was asked - and then only a file by a file or a diffusers folder by one.
void check_output(const ConvertRequest& req, KeyLayout to) {
  if (req.output.empty()) throw InvalidRequestError("no output path given");
  std::error_code ec, ec2;
  const fs::path in = fs::weakly_canonical(req.input, ec), out = fs::weakly_canonical(req.output, ec2);
  if (!ec && !ec2 && in == out) {
    throw InvalidRequestError("the output " + req.output.string() + " is the input", "name another output");
  }
  const fs::path parent = fs::absolute(req.output, ec).parent_path();
  if (!fs::is_directory(parent, ec)) throw FileError("the output's folder does not exist", parent);
  if (!fs::exists(req.output, ec)) return;
  if (!req.overwrite) {
    throw InvalidRequestError(req.output.string() + " exists", "pass --overwrite to replace it");
  }
  const bool dir = fs::is_directory(req.output, ec);
  if (to != KeyLayout::Diffusers && dir) {
    throw InvalidRequestError(req.output.string() + " is a folder; a single file does not replace a folder",
                              "name a file");
  }
  if (to == KeyLayout::Diffusers && !dir) {
    throw InvalidRequestError(req.output.string() + " is a file; a diffusers folder does not replace a file",
                              "name a folder");
  }
  if (to == KeyLayout::Diffusers && !io::DiffusersFolder::looks_like(req.output)) {
    throw InvalidRequestError(req.output.string() +
                                  " is a folder that is not a diffusers model; Kiln replaces only "
                                  "model folders",
                              "name a new folder");
  }
}

}  // namespace

std::string_view to_string(SingleFileFormat format) {
  return format == SingleFileFormat::Ckpt ? "ckpt" : "safetensors";
}

std::string_view to_string(ExportDType dtype) {
  static constexpr std::string_view kNames[] = {"keep", "F32", "F16", "BF16"};  // enum order
  return kNames[static_cast<int>(dtype)];
}

io::TensorIndex single_file_index(const io::TensorIndex& diffusers, ModelFamily family,
                                  std::vector<std::string>* left_out) {
  const std::vector<ComponentSpec> specs = components_of(family);
  const bool bare = bare_controlnet(diffusers, family);
  io::TensorIndex out;
  std::set<std::string> prefixes;
  for (const ComponentSpec& spec : specs) {
    const io::TensorIndex local = local_index(diffusers, spec, bare);
    if (local.empty()) throw FormatError("no " + spec.name + " weights (no tensor named " + spec.name + ".*)");
    const ComponentMap map = map_from_diffusers(spec, local, {});
    out.merge(spec.kind == ComponentSpec::Kind::Text ? translate_index_to_original(local, map.text)
                                                     : to_original_index(local, map.keys));
    if (left_out) {
      for (const auto& k : map.text.ignored) left_out->push_back(spec.name + "." + k);
    }
    prefixes.insert(spec.name + ".");
  }
  if (left_out && !bare) {
    for (const auto& e : diffusers.entries()) {
      const bool used =
          std::any_of(prefixes.begin(), prefixes.end(), [&](const auto& p) { return starts_with(e.name, p); });
      if (!used) left_out->push_back(e.name);
    }
  }
  return out;
}

io::TensorIndex diffusers_index(const io::TensorIndex& single_file, ModelFamily family,
                                std::vector<std::string>* left_out) {
  const std::vector<ComponentSpec> specs = components_of(family);
  io::TensorIndex out;
  std::set<std::string> used;
  for (const ComponentSpec& spec : specs) {
    const ComponentMap map = map_from_single_file(spec, single_file, {});
    const io::TensorIndex local = spec.kind == ComponentSpec::Kind::Text ? translate_index(single_file, map.text)
                                                                         : to_diffusers_index(single_file, map.keys);
    out.merge(local, is_controlnet(family) ? std::string() : spec.name + ".");
    for (const auto& o : map.originals()) used.insert(o);
  }
  if (left_out) {
    for (const auto& e : single_file.entries()) {
      if (!used.count(e.name)) left_out->push_back(e.name);
    }
  }
  return out;
}

ConvertResult convert_model(const ConvertRequest& request, const ConvertProgressCallback& progress,
                            std::stop_token stop) {
  Job job{request, progress, std::move(stop), {}};
  std::error_code ec;
  if (request.input.empty()) throw InvalidRequestError("no input path given");
  if (!fs::exists(request.input, ec)) throw FileError("does not exist", request.input);
  const bool from_folder = fs::is_directory(request.input, ec);
  if (from_folder && !io::DiffusersFolder::looks_like(request.input)) {
    throw FormatError("not a diffusers folder (no model_index.json, nor config.json with weights beside it)",
                      request.input);
  }
  job.result.from = from_folder ? KeyLayout::Diffusers : KeyLayout::SingleFile;
  job.result.to = request.to.value_or(from_folder ? KeyLayout::SingleFile : KeyLayout::Diffusers);
  job.result.output = request.output;
  if (job.result.to == KeyLayout::Diffusers) {
    if (from_folder) {
      throw InvalidRequestError(request.input.string() + " is already a diffusers folder",
                                "convert it to a single file (--to single-file)");
    }
    if (request.format) throw InvalidRequestError("a format applies to single-file output only");
    if (fs::path(request.output).extension() == ".safetensors" || fs::path(request.output).extension() == ".ckpt") {
      throw InvalidRequestError("the output " + request.output.string() +
                                    " is named like a file but a diffusers "
                                    "folder is asked",
                                "name a folder, or ask for a single file (--to single-file)");
    }
  } else {
    job.result.format = pick_format(request);
  }
  check_output(request, job.result.to);

  try {
    if (from_folder) {
      const io::DiffusersFolder folder = io::DiffusersFolder::open(request.input);
      const io::TensorIndex index = folder.combined_index();
      job.result.family = request.family ? *request.family : detect_family(index, request.input).family;
      components_of(job.result.family);  // refuses families that cannot be converted, before any work
      folder_to_single_file(job, folder);
    } else {
      const auto file = io::open_weight_file(request.input);
      const FamilyDetection detection = request.family ? FamilyDetection{*request.family, KeyLayout::SingleFile, {}}
                                                       : detect_family(file->index(), request.input);
      job.result.family = detection.family;
      if (job.result.to == KeyLayout::SingleFile) {
        resave_single_file(job, *file);
      } else {
        if (detection.layout != KeyLayout::SingleFile) {
          throw InvalidRequestError(request.input.string() + " holds one diffusers component (" +
                                        std::string(display_name(detection.family)) + "), not an original single file",
                                    "convert the diffusers folder it belongs to");
        }
        components_of(job.result.family);
        single_file_to_folder(job, *file);
      }
    }
  } catch (const Cancelled&) {
    job.result.cancelled = true;
    job.result.tensors = 0;
    return job.result;
  } catch (const c10::Error& e) {
    throw FormatError(std::string("converting failed: ") + e.what_without_backtrace(), request.input);
  }
  job.result.bytes = size_on_disk(request.output);
  return job.result;
}

}  // namespace kiln::convert
