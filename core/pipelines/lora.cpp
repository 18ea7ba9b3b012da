#include "pipelines/lora.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <span>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "convert/unet_keys.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "io/weight_file.h"
#include "pipelines/model_loading.h"

namespace fs = std::filesystem;

namespace kiln::pipelines {

namespace {

using convert::ModelFamily;

std::string flatten(std::string_view path) {
  std::string s(path);
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

std::string shape_of(at::IntArrayRef sizes) {
  std::string s = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

std::string quoted_name(const fs::path& path) { return "\"" + path.filename().string() + "\""; }

// The Linear and Conv2d weights of one model component by module path, and every spelling a LoRA
// file may use for a path: itself, flattened with '_' (kohya), and for the UNet the original
// (LDM) path, dotted or flattened (kohya SDXL). Built from the model's own names, so an
// underscore inside a name ("to_out", "transformer_blocks") is never mistaken for a separator.
struct ModuleTable {
  std::unordered_map<std::string, torch::Tensor> weights;  // diffusers module path -> weight
  // Flattened spelling -> diffusers module path; "" when two paths flatten alike (never matched).
  std::unordered_map<std::string, std::string> aliases;

  void add_alias(std::string alias, const std::string& path) {
    auto [it, inserted] = aliases.emplace(std::move(alias), path);
    if (!inserted && it->second != path) it->second.clear();
  }

  const std::string* resolve(const std::string& name) const {
    if (const auto it = weights.find(name); it != weights.end()) return &it->first;
    if (const auto it = aliases.find(flatten(name)); it != aliases.end() && !it->second.empty()) return &it->second;
    return nullptr;
  }
};

ModuleTable make_table(const torch::nn::Module& module, bool unet) {
  constexpr std::string_view kWeight = ".weight";
  ModuleTable table;
  io::TensorIndex index;  // names and shapes, for the UNet's block layout
  for (const auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& w = item.value();
    if (unet) {
      io::TensorEntry entry;
      entry.name = name;
      entry.shape = w.sizes().vec();
      index.add(std::move(entry));
    }
    if (!name.ends_with(kWeight) || (w.dim() != 2 && w.dim() != 4)) continue;  // Linear, Conv2d
    const std::string path = name.substr(0, name.size() - kWeight.size());
    table.weights.emplace(path, w);
    table.add_alias(flatten(path), path);
  }
  if (unet) {
    const convert::UNetLayout layout = convert::unet_layout_from_diffusers(index);
    for (const auto& [path, w] : table.weights) {
      std::string original;
      try {
        original = convert::unet_original_name(path + std::string(kWeight), layout);
      } catch (const kiln::Error&) {
        continue;  // no original spelling: only the diffusers one is accepted
      }
      table.add_alias(flatten(original.substr(0, original.size() - kWeight.size())), path);
    }
  }
  return table;
}

enum class Part { Down, Up, Alpha };

// Tensor-name endings of plain LoRA layers, per convention.
constexpr std::array<std::pair<std::string_view, Part>, 11> kParts = {{
    {".lora_down.weight", Part::Down},  // kohya / A1111
    {".lora_up.weight", Part::Up},
    {".alpha", Part::Alpha},
    {".lora_A.weight", Part::Down},  // PEFT
    {".lora_B.weight", Part::Up},
    {".lora.down.weight", Part::Down},  // diffusers 0.21-0.23 UNet
    {".lora.up.weight", Part::Up},
    {".lora_linear_layer.down.weight", Part::Down},  // diffusers 0.21-0.23 text encoders
    {".lora_linear_layer.up.weight", Part::Up},
    {"_lora.down.weight", Part::Down},  // diffusers <= 0.20 attention processors
    {"_lora.up.weight", Part::Up},
}};

// Adapters that are not plain LoRA, told by a tensor name; empty when it is none of them.
std::string unsupported_kind(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  const std::string_view tail = dot == std::string_view::npos ? name : name.substr(dot + 1);
  if (tail.starts_with("hada_")) return "LoHa (LyCORIS)";
  if (tail.starts_with("lokr_")) return "LoKr (LyCORIS)";
  if (name.ends_with(".lora_mid.weight")) return "LoCon with Tucker decomposition (LyCORIS lora_mid)";
  if (tail == "dora_scale") return "DoRA";
  if (tail.starts_with("oft_")) return "OFT";
  if (tail == "diff" || tail == "diff_b") return "full weight difference (LyCORIS diff)";
  return {};
}

// PEFT / diffusers keep alpha out of the tensors: in the safetensors metadata
// "lora_adapter_metadata" (diffusers >= 0.33 save_lora_weights / save_lora_adapter: a JSON object
// with lora_alpha, r, alpha_pattern, keys optionally prefixed "unet." / "text_encoder." ...) or in
// adapter_config.json beside adapter_model.safetensors (peft save_pretrained). alpha_pattern maps
// a module-name ending to its own alpha. Without either, alpha = rank (PEFT's default too).
struct PeftAlphas {
  struct Config {
    std::optional<double> alpha;
    std::vector<std::pair<std::string, double>> pattern;
  };
  std::map<std::string, Config> by_component;  // "" = for every component

  static void read_into(Config& c, const nlohmann::json& o, const std::string& prefix) {
    if (const auto it = o.find(prefix + "lora_alpha"); it != o.end() && it->is_number()) c.alpha = it->get<double>();
    if (const auto it = o.find(prefix + "alpha_pattern"); it != o.end() && it->is_object())
      for (const auto& [k, v] : it->items())
        if (v.is_number()) c.pattern.emplace_back(k, v.get<double>());
  }

  static PeftAlphas from_json(const nlohmann::json& o) {
    PeftAlphas a;
    if (!o.is_object()) return a;
    read_into(a.by_component[""], o, "");
    for (const char* component : {"unet", "text_encoder", "text_encoder_2"})
      read_into(a.by_component[component], o, std::string(component) + ".");
    return a;
  }

  static PeftAlphas find(const fs::path& path, const std::map<std::string, std::string>& metadata) {
    if (const auto it = metadata.find("lora_adapter_metadata"); it != metadata.end()) {
      const nlohmann::json o = nlohmann::json::parse(it->second, nullptr, false);
      if (o.is_discarded()) throw FormatError("its lora_adapter_metadata is not JSON", path);
      return from_json(o);
    }
    const fs::path config = path.parent_path() / "adapter_config.json";
    std::error_code ec;
    if (fs::is_regular_file(config, ec)) {
      std::ifstream in(config);
      const nlohmann::json o = nlohmann::json::parse(in, nullptr, false);
      if (o.is_discarded()) throw FormatError("not JSON", config);
      return from_json(o);
    }
    return {};
  }

  // The alpha of `module` in `component`, if the config gives one.
  std::optional<double> alpha_for(const std::string& component, const std::string& module) const {
    for (const std::string& c : {component, std::string()}) {
      const auto it = by_component.find(c);
      if (it == by_component.end()) continue;
      for (const auto& [ending, alpha] : it->second.pattern)
        if (module == ending || module.ends_with("." + ending)) return alpha;
    }
    for (const std::string& c : {component, std::string()}) {
      const auto it = by_component.find(c);
      if (it != by_component.end() && it->second.alpha) return it->second.alpha;
    }
    return std::nullopt;
  }
};

struct LayerParts {
  std::string key;
  std::string component;
  std::string module;
  std::string down_name, up_name, alpha_name;
};

// Component and module path of one layer name (the tensor name without its Part ending).
void locate(LayerParts& layer) {
  const std::string& key = layer.key;
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kPrefixes = {{
      {"lora_unet_", "unet"},
      {"lora_te1_", "text_encoder"},
      {"lora_te2_", "text_encoder_2"},
      {"lora_te_", "text_encoder"},
      {"unet.", "unet"},
      {"text_encoder_2.", "text_encoder_2"},
      {"text_encoder.", "text_encoder"},
      {"base_model.model.", ""},  // a lone PEFT adapter: the component follows from the path
  }};
  std::string_view rest = key;
  for (const auto& [prefix, component] : kPrefixes) {
    if (key.starts_with(prefix)) {
      layer.component = component;
      rest.remove_prefix(prefix.size());
      break;
    }
  }
  if (layer.component.empty()) layer.component = rest.starts_with("text_model.") ? "text_encoder" : "unet";
  layer.module = rest;
  // diffusers' attention processors: "<attention>.processor.to_q_lora" -> "<attention>.to_q",
  // to_out_lora -> to_out.0.
  if (const std::size_t at = layer.module.find(".processor."); at != std::string::npos) {
    std::string projection = layer.module.substr(at + std::string_view(".processor.").size());
    if (projection.ends_with("_lora")) projection.resize(projection.size() - std::string_view("_lora").size());
    if (projection == "to_out") projection = "to_out.0";
    layer.module = layer.module.substr(0, at + 1) + projection;
  }
}

const torch::nn::Module* component_module(const StableDiffusionModel& model, const std::string& component) {
  if (component == "unet") return model.unet ? model.unet.get() : nullptr;
  if (component == "text_encoder") return model.text_encoder ? model.text_encoder.get() : nullptr;
  if (component == "text_encoder_2") return model.text_encoder_2 ? model.text_encoder_2.get() : nullptr;
  return nullptr;
}

ModelFamily lora_family_of(ModelFamily model) {
  switch (model) {
    case ModelFamily::SD2:
    case ModelFamily::SD2Inpaint:
      return ModelFamily::LoRASD2;
    case ModelFamily::SDXL:
    case ModelFamily::SDXLRefiner:
      return ModelFamily::LoRASDXL;
    default:
      return ModelFamily::LoRASD1;
  }
}

bool is_lora_family(ModelFamily family) {
  return family == ModelFamily::LoRASD1 || family == ModelFamily::LoRASD2 || family == ModelFamily::LoRASDXL;
}

// detect_family falls back to SD 1.x when nothing tells the base (a LoRA of a model of unusual
// width, such as the tiny test model): then only the shapes decide.
bool base_is_known(const convert::FamilyDetection& detection) {
  return std::none_of(detection.evidence.begin(), detection.evidence.end(),
                      [](const std::string& e) { return e.find("assumed") != std::string::npos; });
}

std::string join_first(const std::vector<std::string>& names, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < std::min(n, names.size()); ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > n) s += ", ... (" + std::to_string(names.size() - n) + " more)";
  return s;
}

// The shape up @ down yields, or empty when the two do not multiply as a LoRA pair.
std::vector<std::int64_t> product_shape(const torch::Tensor& down, const torch::Tensor& up) {
  const bool conv = down.dim() == 4;
  if ((down.dim() != 2 && !conv) || up.dim() != down.dim() || up.size(1) != down.size(0)) return {};
  if (conv && (up.size(2) != 1 || up.size(3) != 1)) return {};
  if (conv) return {up.size(0), down.size(1), down.size(2), down.size(3)};
  return {up.size(0), down.size(1)};
}

// A [out, in] product fits a 1x1 conv [out, in, 1, 1] and the other way round.
bool fits(const std::vector<std::int64_t>& product, at::IntArrayRef weight) {
  if (weight.vec() == product) return true;
  const auto squeeze = [](std::vector<std::int64_t> s) {
    while (s.size() > 2 && s.back() == 1) s.pop_back();
    return s;
  };
  return squeeze(product) == squeeze(weight.vec());
}

}  // namespace

std::string kohya_lora_name(std::string_view prefix, std::string_view module_path) {
  std::string name(prefix);
  name += '_';
  name += flatten(module_path);
  return name;
}

LoRAFile read_lora(const fs::path& path, const StableDiffusionModel& model) {
  const std::unique_ptr<io::WeightFile> file = io::open_weight_file(path);
  const io::TensorIndex& index = file->index();
  for (const io::TensorEntry& e : index.entries()) {
    if (const std::string kind = unsupported_kind(e.name); !kind.empty()) {
      throw FormatError("a " + kind + " adapter (" + e.name + "), which Kiln cannot apply", path,
                        "only plain LoRA files are supported (lora_down/lora_up or lora_A/lora_B weights)");
    }
  }

  LoRAFile lora;
  lora.path = path;
  lora.metadata = file->metadata();
  lora.detection = convert::detect_family(index, path);
  const ModelFamily family = lora.detection.family;
  if (!is_lora_family(family)) {
    throw InvalidRequestError(quoted_name(path) + " is a " + std::string(convert::display_name(family)) +
                                  " model, not a LoRA",
                              "choose a LoRA file (lora_unet_*/lora_te_* or PEFT lora_A/lora_B weights)");
  }
  if (family != lora_family_of(model.family) && base_is_known(lora.detection)) {
    std::string evidence;
    for (const std::string& e : lora.detection.evidence) evidence += (evidence.empty() ? "" : "; ") + e;
    throw InvalidRequestError(quoted_name(path) + " is a " + std::string(convert::display_name(family)) +
                                  " and does not fit " + quoted_name(model.source) + ", a " +
                                  std::string(convert::display_name(model.family)) + " model",
                              "choose a LoRA trained on the same base model (" + evidence + ")");
  }

  const PeftAlphas peft = PeftAlphas::find(path, lora.metadata);

  // Tensors grouped by layer, in the file's order.
  std::vector<LayerParts> layers;
  std::unordered_map<std::string, std::size_t> layer_of;
  std::vector<std::string> unknown;
  for (const io::TensorEntry& e : index.entries()) {
    const std::string& name = e.name;
    const auto part = std::find_if(kParts.begin(), kParts.end(), [&](const auto& p) { return name.ends_with(p.first); });
    if (part == kParts.end()) {
      unknown.push_back(name);
      continue;
    }
    std::string key = name.substr(0, name.size() - part->first.size());
    if (part->first.starts_with("_lora.")) key += "_lora";  // "...to_q_lora" names the layer
    auto [it, added] = layer_of.emplace(key, layers.size());
    if (added) {
      LayerParts layer;
      layer.key = key;
      locate(layer);
      layers.push_back(std::move(layer));
    }
    LayerParts& layer = layers[it->second];
    (part->second == Part::Down ? layer.down_name : part->second == Part::Up ? layer.up_name : layer.alpha_name) = name;
  }

  std::unordered_map<std::string, ModuleTable> tables;
  std::vector<std::string> unmatched;
  std::vector<std::string> resolved(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerParts& layer = layers[i];
    const torch::nn::Module* module = component_module(model, layer.component);
    if (!module) {
      unmatched.push_back(layer.key);
      continue;
    }
    auto table = tables.find(layer.component);
    if (table == tables.end()) table = tables.emplace(layer.component, make_table(*module, layer.component == "unet")).first;
    const std::string* found = table->second.resolve(layer.module);
    if (!found) {
      unmatched.push_back(layer.key);
      continue;
    }
    resolved[i] = *found;
  }
  if (!unmatched.empty() || !unknown.empty()) {
    std::string message;
    if (!unmatched.empty()) {
      message = std::to_string(unmatched.size()) + " of " + std::to_string(layers.size()) +
                " LoRA layers match no layer of " + quoted_name(model.source) + ": " + join_first(unmatched, 5);
    }
    if (!unknown.empty()) {
      message += std::string(message.empty() ? "" : "; ") + std::to_string(unknown.size()) +
                 " tensors are not LoRA weights: " + join_first(unknown, 5);
    }
    throw WeightMismatchError(message, path,
                              "Kiln reads kohya/A1111 (lora_unet_*, lora_te_*) and diffusers/PEFT (lora_A/lora_B) "
                              "LoRAs of the model's base");
  }

  lora.layers.reserve(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerParts& parts = layers[i];
    if (parts.down_name.empty() || parts.up_name.empty()) {
      throw FormatError("LoRA layer " + parts.key + " has no " +
                            (parts.down_name.empty() ? "down (lora_down/lora_A)" : "up (lora_up/lora_B)") + " weight",
                        path);
    }
    LoRALayer layer;
    layer.key = parts.key;
    layer.component = parts.component;
    layer.module = resolved[i];
    layer.down = file->tensor(parts.down_name);
    layer.up = file->tensor(parts.up_name);
    layer.target = tables.at(parts.component).weights.at(resolved[i]);
    const std::vector<std::int64_t> product = product_shape(layer.down, layer.up);
    if (product.empty()) {
      throw FormatError("LoRA layer " + parts.key + ": up " + shape_of(layer.up.sizes()) + " and down " +
                            shape_of(layer.down.sizes()) + " do not multiply",
                        path);
    }
    if (!fits(product, layer.target.sizes())) {
      throw InvalidRequestError(quoted_name(path) + ": LoRA layer " + parts.key + " changes a " + shape_of(product) +
                                    " weight, but " + parts.component + "." + layer.module + ".weight of " +
                                    quoted_name(model.source) + " is " + shape_of(layer.target.sizes()),
                                "the LoRA was made for another base model");
    }
    if (!layer.down.is_floating_point() || !layer.up.is_floating_point()) {
      throw FormatError("LoRA layer " + parts.key + " holds integer weights", path);
    }
    layer.alpha = static_cast<double>(layer.rank());
    if (parts.alpha_name.empty() && parts.down_name.ends_with(".lora_A.weight")) {
      if (const std::optional<double> alpha = peft.alpha_for(parts.component, layer.module)) layer.alpha = *alpha;
    }
    if (!parts.alpha_name.empty()) {
      const torch::Tensor alpha = file->tensor(parts.alpha_name);
      if (alpha.numel() != 1) {
        throw FormatError("LoRA alpha " + parts.alpha_name + " is " + shape_of(alpha.sizes()) + ", not one number", path);
      }
      layer.alpha = alpha.to(torch::kDouble).item<double>();
    }
    lora.layers.push_back(std::move(layer));
  }
  if (lora.layers.empty()) throw FormatError("the file holds no LoRA layers", path);
  return lora;
}

void AppliedLoRAs::restore() {
  torch::NoGradGuard no_grad;
  for (auto& [weight, original] : originals_) weight.copy_(original);
  originals_.clear();
  specs_.clear();
}

AppliedLoRAs apply_loras(const StableDiffusionModel& model, const std::vector<LoRASpec>& loras) {
  std::vector<LoRAFile> files;
  files.reserve(loras.size());
  for (const LoRASpec& spec : loras) {
    if (!std::isfinite(spec.weight)) {
      throw InvalidRequestError(quoted_name(spec.path) + ": the LoRA weight must be a finite number");
    }
    files.push_back(read_lora(spec.path, model));
  }

  AppliedLoRAs applied;
  torch::NoGradGuard no_grad;
  std::unordered_map<const void*, std::size_t> saved;  // weight -> its entry in originals_
  try {
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (loras[i].weight == 0) continue;
      for (const LoRALayer& layer : files[i].layers) {
        torch::Tensor weight = layer.target;
        if (saved.emplace(weight.unsafeGetTensorImpl(), applied.originals_.size()).second) {
          applied.originals_.emplace_back(weight, weight.detach().to(weight.options().device(torch::kCPU), false, true));
        }
        // fp32 delta on the weight's device; conv: [out, r] @ [r, in*kh*kw] is the 1x1-up product.
        const torch::Tensor up = layer.up.to(weight.device(), torch::kFloat).flatten(1);
        const torch::Tensor down = layer.down.to(weight.device(), torch::kFloat).flatten(1);
        const double scale = loras[i].weight * layer.alpha / static_cast<double>(layer.rank());
        const torch::Tensor delta = torch::matmul(up, down).mul_(scale).reshape(weight.sizes());
        weight.copy_(weight.to(torch::kFloat).add(delta));
      }
    }
  } catch (const c10::Error& e) {
    applied.restore();
    throw ComputeError(std::string("applying LoRAs: ") + e.what_without_backtrace());
  }
  applied.specs_ = loras;
  return applied;
}

std::string lora_file_hash(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open the LoRA file", path);
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // As A1111 decides (by the extension): a safetensors file's data section only.
  if (extension == ".safetensors") {
    std::array<unsigned char, 8> length{};
    if (!in.read(reinterpret_cast<char*>(length.data()), 8)) throw FormatError("not a safetensors file", path);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | length[static_cast<std::size_t>(i)];
    if (n > io::kMaxSafetensorsHeader || !in.seekg(static_cast<std::streamoff>(8 + n))) {
      throw FormatError("not a safetensors file", path);
    }
  }
  io::Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) sha.update(std::as_bytes(std::span(buffer.data(), static_cast<std::size_t>(got))));
  }
  if (in.bad()) throw FileError("cannot read the LoRA file", path);
  return sha.finish_hex();
}

}  // namespace kiln::pipelines
