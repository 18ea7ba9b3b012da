#include "convert/text_encoder_keys.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include <torch/torch.h>

#include "base/error.h"
#include "io/weight_file.h"

namespace kiln::convert {

namespace {

using Mapping = TextEncoderKeyMapping;

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Mapping copy(std::string diffusers, const std::string& original) {
  return Mapping{std::move(diffusers), original, Mapping::Transform::Copy, 0, 0};
}

// transformers names (SD 1.x, SDXL text_encoder). Checkpoints written with old transformers
// versions lack the `text_model.` level; it is added back.
std::optional<std::string> transformers_name(const std::string& rest, bool with_projection) {
  if (ends_with(rest, "position_ids")) return std::nullopt;  // a buffer, not a weight
  if (starts_with(rest, "text_model.")) return rest;
  if (starts_with(rest, "embeddings.") || starts_with(rest, "encoder.") || starts_with(rest, "final_layer_norm.")) {
    return "text_model." + rest;
  }
  if (with_projection && rest == "text_projection.weight") return rest;
  return std::nullopt;
}

// open_clip resblock sub-module -> transformers encoder layer sub-module (everything but in_proj).
const std::map<std::string, std::string>& resblock_names() {
  static const std::map<std::string, std::string> names = {
      {"attn.out_proj.weight", "self_attn.out_proj.weight"},
      {"attn.out_proj.bias", "self_attn.out_proj.bias"},
      {"ln_1.weight", "layer_norm1.weight"},
      {"ln_1.bias", "layer_norm1.bias"},
      {"ln_2.weight", "layer_norm2.weight"},
      {"ln_2.bias", "layer_norm2.bias"},
      {"mlp.c_fc.weight", "mlp.fc1.weight"},
      {"mlp.c_fc.bias", "mlp.fc1.bias"},
      {"mlp.c_proj.weight", "mlp.fc2.weight"},
      {"mlp.c_proj.bias", "mlp.fc2.bias"},
  };
  return names;
}

const std::map<std::string, std::string>& open_clip_top_names() {
  static const std::map<std::string, std::string> names = {
      {"token_embedding.weight", "text_model.embeddings.token_embedding.weight"},
      {"positional_embedding", "text_model.embeddings.position_embedding.weight"},
      {"ln_final.weight", "text_model.final_layer_norm.weight"},
      {"ln_final.bias", "text_model.final_layer_norm.bias"},
  };
  return names;
}

// Appends the mappings of one OpenCLIP key; false when it has no diffusers counterpart.
bool map_open_clip_key(const io::TensorEntry& e, const std::string& rest, const SingleFileTextEncoder& encoder,
                       const std::filesystem::path& path, std::vector<Mapping>& out) {
  if (const auto it = open_clip_top_names().find(rest); it != open_clip_top_names().end()) {
    out.push_back(copy(it->second, e.name));
    return true;
  }
  if (rest == "text_projection") {
    if (!encoder.with_projection) return false;
    out.push_back(Mapping{"text_projection.weight", e.name, Mapping::Transform::Transpose, 0, 0});
    return true;
  }
  static const std::string kBlocks = "transformer.resblocks.";
  if (!starts_with(rest, kBlocks)) return false;
  const std::size_t dot = rest.find('.', kBlocks.size());
  if (dot == std::string::npos) return false;
  int layer = -1;
  const char* first = rest.data() + kBlocks.size();
  const char* last = rest.data() + dot;
  if (std::from_chars(first, last, layer).ptr != last || layer < 0) return false;
  if (encoder.max_layers > 0 && layer >= encoder.max_layers) return false;
  const std::string sub = rest.substr(dot + 1);
  const std::string layer_prefix = "text_model.encoder.layers." + std::to_string(layer) + ".";

  if (sub == "attn.in_proj_weight" || sub == "attn.in_proj_bias") {
    // [3 hidden, hidden] / [3 hidden]: q, k, v stacked on dim 0; split by the hidden size.
    const bool weight = sub == "attn.in_proj_weight";
    const bool ok = weight ? e.shape.size() == 2 && e.shape[0] == 3 * e.shape[1]
                           : e.shape.size() == 1 && e.shape[0] > 0 && e.shape[0] % 3 == 0;
    if (!ok) {
      throw FormatError(e.name + " has shape " + e.shape_string() + ", expected " +
                            (weight ? "[3 x hidden, hidden]" : "[3 x hidden]") + " (q, k, v stacked)",
                        path);
    }
    const std::int64_t hidden = e.shape[0] / 3;
    const char* names[] = {"q_proj", "k_proj", "v_proj"};
    for (std::int64_t i = 0; i < 3; ++i) {
      out.push_back(Mapping{layer_prefix + "self_attn." + names[i] + (weight ? ".weight" : ".bias"), e.name,
                            Mapping::Transform::Rows, i * hidden, (i + 1) * hidden});
    }
    return true;
  }
  if (const auto it = resblock_names().find(sub); it != resblock_names().end()) {
    out.push_back(copy(layer_prefix + it->second, e.name));
    return true;
  }
  return false;
}

// Diffusers -> OpenCLIP for one key; nullopt when the key has no OpenCLIP name. `q/k/v` go to
// their in_proj with rows [i h, (i+1) h) of the stacked tensor, h the projection's rows.
std::optional<Mapping> open_clip_mapping(const io::TensorEntry& e, const SingleFileTextEncoder& encoder) {
  for (const auto& [original, diffusers] : open_clip_top_names()) {
    if (diffusers == e.name) return copy(e.name, encoder.prefix + original);
  }
  if (e.name == "text_projection.weight") {
    if (!encoder.with_projection) return std::nullopt;
    return Mapping{e.name, encoder.prefix + "text_projection", Mapping::Transform::Transpose, 0, 0};
  }
  static const std::string kLayers = "text_model.encoder.layers.";
  if (!starts_with(e.name, kLayers)) return std::nullopt;
  const std::size_t dot = e.name.find('.', kLayers.size());
  if (dot == std::string::npos) return std::nullopt;
  const std::string layer = e.name.substr(kLayers.size(), dot - kLayers.size());
  const std::string sub = e.name.substr(dot + 1);
  const std::string block = encoder.prefix + "transformer.resblocks." + layer + ".";
  const char* qkv[] = {"self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj."};
  for (std::int64_t i = 0; i < 3; ++i) {
    if (!starts_with(sub, qkv[i])) continue;
    const std::string param = sub.substr(std::string(qkv[i]).size());
    if ((param != "weight" && param != "bias") || e.shape.empty()) return std::nullopt;
    const std::int64_t h = e.shape[0];
    return Mapping{e.name, block + "attn.in_proj_" + param, Mapping::Transform::Rows, i * h, (i + 1) * h};
  }
  for (const auto& [original, diffusers] : resblock_names()) {
    if (diffusers == sub) return copy(e.name, block + original);
  }
  return std::nullopt;
}

}  // namespace

std::string TextEncoderKeyMapping::note() const {
  switch (transform) {
    case Transform::Copy:
      return {};
    case Transform::Rows:
      return "concat_dim0[" + std::to_string(row_begin) + ":" + std::to_string(row_end) + "]";
    case Transform::Transpose:
      return "transpose";
  }
  return {};
}

std::vector<SingleFileTextEncoder> single_file_text_encoders(ModelFamily family) {
  using S = TextEncoderKeyStyle;
  switch (family) {
    case ModelFamily::SD1:
    case ModelFamily::SD1Inpaint:
      return {{"text_encoder", "cond_stage_model.transformer.", S::Transformers, 0, false}};
    case ModelFamily::SD2:
    case ModelFamily::SD2Inpaint:
      return {{"text_encoder", "cond_stage_model.model.", S::OpenCLIP, 23, false}};
    case ModelFamily::SDXL:
      return {{"text_encoder", "conditioner.embedders.0.transformer.", S::Transformers, 0, false},
              {"text_encoder_2", "conditioner.embedders.1.model.", S::OpenCLIP, 0, true}};
    case ModelFamily::SDXLRefiner:
      // The refiner conditions on bigG alone, stored as the first embedder.
      return {{"text_encoder_2", "conditioner.embedders.0.model.", S::OpenCLIP, 0, true}};
    default:
      return {};
  }
}

TextEncoderKeyMap text_encoder_key_map(const io::TensorIndex& index, const SingleFileTextEncoder& encoder,
                                       const std::filesystem::path& path) {
  TextEncoderKeyMap map;
  bool any = false;
  for (const io::TensorEntry& e : index.entries()) {
    if (!starts_with(e.name, encoder.prefix)) continue;
    any = true;
    const std::string rest = e.name.substr(encoder.prefix.size());
    bool mapped = false;
    if (encoder.style == TextEncoderKeyStyle::Transformers) {
      if (auto name = transformers_name(rest, encoder.with_projection)) {
        map.mappings.push_back(copy(std::move(*name), e.name));
        mapped = true;
      }
    } else {
      mapped = map_open_clip_key(e, rest, encoder, path, map.mappings);
    }
    if (!mapped) map.ignored.push_back(e.name);
  }
  if (!any) {
    throw FormatError("no " + encoder.component + " weights (no tensor named " + encoder.prefix + "*)", path,
                      "the file is not a checkpoint of this model family or holds no text encoder");
  }
  return map;
}

io::TensorIndex translate_index(const io::TensorIndex& index, const TextEncoderKeyMap& map) {
  io::TensorIndex out;
  for (const Mapping& m : map.mappings) {
    const io::TensorEntry* src = index.find(m.original_key);
    if (!src) throw FormatError("the key map names " + m.original_key + ", which the index lacks");
    io::TensorEntry e;
    e.name = m.diffusers_key;
    e.dtype = src->dtype;
    e.shape = src->shape;
    if (m.transform == Mapping::Transform::Rows) e.shape[0] = m.row_end - m.row_begin;
    if (m.transform == Mapping::Transform::Transpose) std::swap(e.shape[0], e.shape[1]);
    e.nbytes = static_cast<std::uint64_t>(e.numel()) * element_size(e.dtype);
    out.add(std::move(e));
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> translate_tensors(
    const TextEncoderKeyMap& map, const std::function<at::Tensor(const std::string&)>& fetch) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.reserve(map.mappings.size());
  // q, k and v of one in_proj are adjacent: one fetch serves all three.
  std::string last_key;
  at::Tensor last;
  for (const Mapping& m : map.mappings) {
    if (m.original_key != last_key) {
      last = fetch(m.original_key);
      last_key = m.original_key;
    }
    switch (m.transform) {
      case Mapping::Transform::Copy:
        out.emplace_back(m.diffusers_key, last);
        break;
      case Mapping::Transform::Rows:
        out.emplace_back(m.diffusers_key, last.narrow(0, m.row_begin, m.row_end - m.row_begin));
        break;
      case Mapping::Transform::Transpose:
        out.emplace_back(m.diffusers_key, last.t());
        break;
    }
  }
  return out;
}

TextEncoderKeyMap text_encoder_key_map_from_diffusers(const io::TensorIndex& diffusers,
                                                      const SingleFileTextEncoder& encoder,
                                                      const std::filesystem::path& path) {
  TextEncoderKeyMap map;
  for (const io::TensorEntry& e : diffusers.entries()) {
    if (ends_with(e.name, "position_ids")) {
      map.ignored.push_back(e.name);  // a buffer (arange); loaders recreate it
      continue;
    }
    std::optional<Mapping> m;
    if (encoder.style == TextEncoderKeyStyle::Transformers) {
      // The same names under the prefix; old transformers files lack the text_model. level.
      if (auto name = transformers_name(e.name, encoder.with_projection)) {
        m = copy(e.name, encoder.prefix + *name);
      }
    } else {
      m = open_clip_mapping(e, encoder);
    }
    if (!m) {
      throw FormatError("no single-file name for " + encoder.component + " key " + e.name + " " + e.shape_string() +
                            " (layout " + encoder.prefix + "*)",
                        path, "the text encoder does not have the layout of this model family");
    }
    map.mappings.push_back(std::move(*m));
  }
  if (map.mappings.empty()) throw FormatError("no " + encoder.component + " weights", path);

  // q, k and v of each in_proj: all three, of one shape, so that the stacked tensor splits back.
  std::map<std::string, std::vector<const Mapping*>> parts;
  for (const Mapping& m : map.mappings) {
    if (m.transform == Mapping::Transform::Rows) parts[m.original_key].push_back(&m);
  }
  for (const auto& [original, rows] : parts) {
    // Names are unique, so three parts are q, k and v once each.
    bool ok = rows.size() == 3;
    for (const Mapping* m : rows) {
      ok = ok && diffusers.find(m->diffusers_key)->shape == diffusers.find(rows.front()->diffusers_key)->shape;
    }
    if (!ok) {
      throw FormatError(
          original + " needs q, k and v projections of one shape; got " + std::to_string(rows.size()) + " parts", path);
    }
  }
  return map;
}

io::TensorIndex translate_index_to_original(const io::TensorIndex& diffusers, const TextEncoderKeyMap& map) {
  io::TensorIndex out;
  std::vector<io::TensorEntry> entries;
  std::map<std::string, std::size_t> position;
  for (const Mapping& m : map.mappings) {
    const io::TensorEntry* src = diffusers.find(m.diffusers_key);
    if (!src) throw FormatError("the key map names " + m.diffusers_key + ", which the index lacks");
    auto [it, inserted] = position.try_emplace(m.original_key, entries.size());
    if (!inserted) {
      entries[it->second].shape[0] = std::max(entries[it->second].shape[0], m.row_end);
      continue;
    }
    io::TensorEntry e;
    e.name = m.original_key;
    e.dtype = src->dtype;
    e.shape = src->shape;
    if (m.transform == Mapping::Transform::Rows) e.shape[0] = m.row_end;
    if (m.transform == Mapping::Transform::Transpose) std::swap(e.shape[0], e.shape[1]);
    entries.push_back(std::move(e));
  }
  for (io::TensorEntry& e : entries) {
    e.nbytes = static_cast<std::uint64_t>(e.numel()) * element_size(e.dtype);
    out.add(std::move(e));
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> translate_tensors_to_original(
    const TextEncoderKeyMap& map, const std::function<at::Tensor(const std::string&)>& fetch) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  std::map<std::string, std::size_t> position;
  std::map<std::string, std::vector<std::pair<std::int64_t, at::Tensor>>> rows;
  for (const Mapping& m : map.mappings) {
    const auto [it, inserted] = position.try_emplace(m.original_key, out.size());
    if (inserted) out.emplace_back(m.original_key, at::Tensor());
    switch (m.transform) {
      case Mapping::Transform::Copy:
        out[it->second].second = fetch(m.diffusers_key);
        break;
      case Mapping::Transform::Transpose:
        out[it->second].second = fetch(m.diffusers_key).t();
        break;
      case Mapping::Transform::Rows:
        rows[m.original_key].emplace_back(m.row_begin, fetch(m.diffusers_key));
        break;
    }
  }
  for (auto& [original, parts] : rows) {
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<at::Tensor> stacked;
    for (auto& p : parts) stacked.push_back(std::move(p.second));
    out[position.at(original)].second = at::cat(stacked, 0);
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> text_encoder_tensors(const io::WeightFile& file,
                                                                     const SingleFileTextEncoder& encoder) {
  const TextEncoderKeyMap map = text_encoder_key_map(file.index(), encoder, file.path());
  return translate_tensors(map, [&](const std::string& name) { return file.tensor(name); });
}

}  // namespace kiln::convert
