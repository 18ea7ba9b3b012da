#include "convert/text_encoder_keys.h"

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

std::vector<std::pair<std::string, at::Tensor>> text_encoder_tensors(const io::WeightFile& file,
                                                                     const SingleFileTextEncoder& encoder) {
  const TextEncoderKeyMap map = text_encoder_key_map(file.index(), encoder, file.path());
  return translate_tensors(map, [&](const std::string& name) { return file.tensor(name); });
}

}  // namespace kiln::convert
