#include "convert/unet_keys.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include <torch/torch.h>

#include "base/error.h"
#include "convert/key_parsing.h"

namespace kiln::convert {

namespace {

using namespace key_parsing;

[[noreturn]] void unmapped(const std::string& key, const char* side) {
  throw FormatError(std::string("no ") + side + " name for UNet key " + key);
}

// diffusers resnet sub-module <-> LDM ResBlock sub-module.
constexpr std::pair<std::string_view, std::string_view> kResnet[] = {
    {"norm1.", "in_layers.0."},  {"conv1.", "in_layers.2."},  {"time_emb_proj.", "emb_layers.1."},
    {"norm2.", "out_layers.0."}, {"conv2.", "out_layers.3."}, {"conv_shortcut.", "skip_connection."},
};

// Top-level modules without block structure.
constexpr std::pair<std::string_view, std::string_view> kTop[] = {
    {"conv_in.", "input_blocks.0.0."},
    {"time_embedding.linear_1.", "time_embed.0."},
    {"time_embedding.linear_2.", "time_embed.2."},
    {"add_embedding.linear_1.", "label_emb.0.0."},
    {"add_embedding.linear_2.", "label_emb.0.2."},
    {"conv_norm_out.", "out.0."},
    {"conv_out.", "out.2."},
    {"controlnet_mid_block.", "middle_block_out.0."},
};

template <bool ToOriginal, std::size_t N>
bool rename(std::string_view s, const std::pair<std::string_view, std::string_view> (&table)[N], std::string& out) {
  for (const auto& [d, o] : table) {
    std::string_view rest = s;
    if (take(rest, ToOriginal ? d : o)) {
      out = str(ToOriginal ? o : d) + str(rest);
      return true;
    }
  }
  return false;
}

std::string resnet_to_original(const std::string& key, std::string_view s) {
  std::string out;
  if (!rename<true>(s, kResnet, out)) unmapped(key, "single-file");
  return out;
}
std::string resnet_to_diffusers(const std::string& key, std::string_view s) {
  std::string out;
  if (!rename<false>(s, kResnet, out)) unmapped(key, "diffusers");
  return out;
}

void check_layout(const UNetLayout& l) {
  if (l.down_layers < 1 || l.up_layers < 1) throw FormatError("UNet layout without resnets per block");
}

std::vector<KeyMapping> key_map_from_diffusers(const io::TensorIndex& diffusers, const std::string& prefix) {
  const UNetLayout layout = unet_layout_from_diffusers(diffusers);
  std::vector<KeyMapping> out;
  out.reserve(diffusers.size());
  for (const io::TensorEntry& e : diffusers.entries()) {
    out.push_back(KeyMapping{e.name, prefix + unet_original_name(e.name, layout), KeyMapping::Transform::None});
  }
  return out;
}

std::vector<KeyMapping> key_map_from_original(const io::TensorIndex& single_file, const std::string& prefix) {
  const UNetLayout layout = unet_layout_from_original(single_file, prefix);
  std::vector<KeyMapping> out;
  for (const io::TensorEntry& e : single_file.entries()) {
    if (!starts_with(e.name, prefix)) continue;
    out.push_back(
        KeyMapping{unet_diffusers_name(e.name.substr(prefix.size()), layout), e.name, KeyMapping::Transform::None});
  }
  if (out.empty()) throw FormatError("no UNet weights (no tensor named " + prefix + "*)");
  return out;
}

}  // namespace

std::string KeyMapping::note() const { return transform == Transform::LinearToConv ? "reshape" : ""; }

UNetLayout unet_layout_from_diffusers(const io::TensorIndex& diffusers) {
  UNetLayout l;
  int down = 0, up = 0, up_blocks = 0;
  std::vector<int> attn_blocks;
  for (const io::TensorEntry& e : diffusers.entries()) {
    std::string_view s = e.name;
    int i = 0, j = 0;
    if (take(s, "down_blocks.") && take_index(s, i) && take(s, "resnets.") && take_index(s, j)) {
      down = std::max(down, j + 1);
    } else if (s = e.name; take(s, "up_blocks.") && take_index(s, i)) {
      up_blocks = std::max(up_blocks, i + 1);
      if (take(s, "resnets.") && take_index(s, j))
        up = std::max(up, j + 1);
      else if (take(s, "attentions."))
        attn_blocks.push_back(i);
    } else if (s = e.name; take(s, "controlnet_cond_embedding.blocks.") && take_index(s, i)) {
      l.hint_blocks = std::max(l.hint_blocks, i + 1);
    }
  }
  if (down == 0) throw FormatError("cannot tell the UNet layout: no down_blocks.N.resnets.M weights");
  l.down_layers = down;
  l.up_layers = up > 0 ? up : down + 1;
  l.up_has_attentions.assign(static_cast<std::size_t>(up_blocks), false);
  for (int i : attn_blocks) l.up_has_attentions[static_cast<std::size_t>(i)] = true;
  return l;
}

UNetLayout unet_layout_from_original(const io::TensorIndex& single_file, const std::string& prefix) {
  UNetLayout l;
  int first_op = -1;
  for (const io::TensorEntry& e : single_file.entries()) {
    std::string_view rest = e.name;
    if (!take(rest, prefix)) continue;
    int k = 0, sub = 0;
    std::string_view s = rest;
    if (take(s, "input_blocks.") && take_index(s, k) && take_index(s, sub) && starts_with(s, "op.")) {
      if (first_op < 0 || k < first_op) first_op = k;
    } else if (s = rest; take(s, "input_hint_block.") && take_index(s, k)) {
      l.hint_blocks = std::max(l.hint_blocks, k / 2 - 1);
    }
  }
  if (first_op < 2) {
    throw FormatError("cannot tell the UNet layout: no " + prefix + "input_blocks.N.0.op downsampler weights");
  }
  // Diffusers UNets: each down level holds L resnets and a downsampler; each up level L + 1 resnets.
  l.down_layers = first_op - 1;
  l.up_layers = l.down_layers + 1;
  return l;
}

std::string unet_original_name(const std::string& key, const UNetLayout& l) {
  check_layout(l);
  const int D = l.down_layers + 1;  // input_blocks per down level
  const int U = l.up_layers;        // output_blocks per up level
  std::string_view s = key;
  int i = 0, j = 0;
  std::string out;
  if (rename<true>(s, kTop, out)) return out;
  if (take(s, "down_blocks.") && take_index(s, i)) {
    if (take(s, "resnets.") && take_index(s, j) && j < l.down_layers) {
      return "input_blocks." + num(1 + i * D + j) + ".0." + resnet_to_original(key, s);
    }
    if (take(s, "attentions.") && take_index(s, j) && j < l.down_layers) {
      return "input_blocks." + num(1 + i * D + j) + ".1." + str(s);
    }
    if (take(s, "downsamplers.0.conv.")) return "input_blocks." + num((i + 1) * D) + ".0.op." + str(s);
    unmapped(key, "single-file");
  }
  if (take(s, "mid_block.")) {
    if (take(s, "resnets.") && take_index(s, j)) return "middle_block." + num(2 * j) + "." + resnet_to_original(key, s);
    if (take(s, "attentions.") && take_index(s, j)) return "middle_block." + num(2 * j + 1) + "." + str(s);
    unmapped(key, "single-file");
  }
  if (take(s, "up_blocks.") && take_index(s, i)) {
    if (take(s, "resnets.") && take_index(s, j) && j < U) {
      return "output_blocks." + num(i * U + j) + ".0." + resnet_to_original(key, s);
    }
    if (take(s, "attentions.") && take_index(s, j) && j < U) {
      return "output_blocks." + num(i * U + j) + ".1." + str(s);
    }
    if (take(s, "upsamplers.0.conv.")) {
      const bool attn =
          static_cast<std::size_t>(i) < l.up_has_attentions.size() && l.up_has_attentions[static_cast<std::size_t>(i)];
      return "output_blocks." + num(i * U + U - 1) + (attn ? ".2.conv." : ".1.conv.") + str(s);
    }
    unmapped(key, "single-file");
  }
  if (take(s, "controlnet_down_blocks.") && take_index(s, i)) return "zero_convs." + num(i) + ".0." + str(s);
  if (take(s, "controlnet_cond_embedding.")) {
    if (take(s, "conv_in.")) return "input_hint_block.0." + str(s);
    if (take(s, "conv_out.")) return "input_hint_block." + num(2 * (l.hint_blocks + 1)) + "." + str(s);
    if (take(s, "blocks.") && take_index(s, i) && i < l.hint_blocks) {
      return "input_hint_block." + num(2 * (i + 1)) + "." + str(s);
    }
  }
  unmapped(key, "single-file");
}

std::string unet_diffusers_name(const std::string& key, const UNetLayout& l) {
  check_layout(l);
  const int D = l.down_layers + 1;
  const int U = l.up_layers;
  std::string_view s = key;
  int k = 0, sub = 0;
  std::string out;
  if (rename<false>(s, kTop, out)) return out;
  if (take(s, "input_blocks.") && take_index(s, k) && take_index(s, sub) && k >= 1) {
    const int level = (k - 1) / D;
    const int j = (k - 1) % D;
    const std::string block = "down_blocks." + num(level) + ".";
    if (j == l.down_layers) {
      if (sub == 0 && take(s, "op.")) return block + "downsamplers.0.conv." + str(s);
    } else if (sub == 0) {
      return block + "resnets." + num(j) + "." + resnet_to_diffusers(key, s);
    } else if (sub == 1) {
      return block + "attentions." + num(j) + "." + str(s);
    }
    unmapped(key, "diffusers");
  }
  if (s = key; take(s, "middle_block.") && take_index(s, k)) {
    if (k % 2 == 0) return "mid_block.resnets." + num(k / 2) + "." + resnet_to_diffusers(key, s);
    return "mid_block.attentions." + num(k / 2) + "." + str(s);
  }
  if (s = key; take(s, "output_blocks.") && take_index(s, k) && take_index(s, sub)) {
    const std::string block = "up_blocks." + num(k / U) + ".";
    const int j = k % U;
    if (sub == 0) return block + "resnets." + num(j) + "." + resnet_to_diffusers(key, s);
    if (take(s, "conv.")) {
      if (j == U - 1 && sub <= 2) return block + "upsamplers.0.conv." + str(s);
    } else if (sub == 1) {
      return block + "attentions." + num(j) + "." + str(s);
    }
    unmapped(key, "diffusers");
  }
  if (s = key; take(s, "zero_convs.") && take_index(s, k) && take(s, "0.")) {
    return "controlnet_down_blocks." + num(k) + "." + str(s);
  }
  if (s = key; take(s, "input_hint_block.") && take_index(s, k) && k % 2 == 0) {
    const std::string e = "controlnet_cond_embedding.";
    if (k == 0) return e + "conv_in." + str(s);
    if (k == 2 * (l.hint_blocks + 1)) return e + "conv_out." + str(s);
    if (k / 2 - 1 < l.hint_blocks) return e + "blocks." + num(k / 2 - 1) + "." + str(s);
  }
  unmapped(key, "diffusers");
}

std::vector<KeyMapping> unet_key_map_from_diffusers(const io::TensorIndex& diffusers, const std::string& prefix) {
  return key_map_from_diffusers(diffusers, prefix);
}
std::vector<KeyMapping> unet_key_map_from_original(const io::TensorIndex& single_file, const std::string& prefix) {
  return key_map_from_original(single_file, prefix);
}
std::vector<KeyMapping> controlnet_key_map_from_diffusers(const io::TensorIndex& diffusers, const std::string& prefix) {
  return key_map_from_diffusers(diffusers, prefix);
}
std::vector<KeyMapping> controlnet_key_map_from_original(const io::TensorIndex& single_file,
                                                         const std::string& prefix) {
  return key_map_from_original(single_file, prefix);
}

namespace {

bool is_conv1x1(const std::vector<std::int64_t>& shape) { return shape.size() == 4 && shape[2] == 1 && shape[3] == 1; }

io::TensorEntry renamed(const io::TensorEntry& src, const std::string& name, std::vector<std::int64_t> shape) {
  io::TensorEntry e;
  e.name = name;
  e.dtype = src.dtype;
  e.shape = std::move(shape);
  e.nbytes = static_cast<std::uint64_t>(e.numel()) * element_size(e.dtype);
  return e;
}

}  // namespace

io::TensorIndex to_original_index(const io::TensorIndex& diffusers, const std::vector<KeyMapping>& map) {
  io::TensorIndex out;
  for (const KeyMapping& m : map) {
    const io::TensorEntry* src = diffusers.find(m.diffusers);
    if (!src) throw FormatError("the key map names " + m.diffusers + ", which the index lacks");
    std::vector<std::int64_t> shape = src->shape;
    if (m.transform == KeyMapping::Transform::LinearToConv) {
      if (shape.size() != 2) throw FormatError(m.diffusers + " has shape " + src->shape_string() + ", expected [C, C]");
      shape.push_back(1);
      shape.push_back(1);
    }
    out.add(renamed(*src, m.original, std::move(shape)));
  }
  return out;
}

io::TensorIndex to_diffusers_index(const io::TensorIndex& original, const std::vector<KeyMapping>& map) {
  io::TensorIndex out;
  for (const KeyMapping& m : map) {
    const io::TensorEntry* src = original.find(m.original);
    if (!src) throw FormatError("the key map names " + m.original + ", which the index lacks");
    std::vector<std::int64_t> shape = src->shape;
    if (m.transform == KeyMapping::Transform::LinearToConv) {
      if (is_conv1x1(shape)) {
        shape.resize(2);
      } else if (shape.size() != 2) {
        throw FormatError(m.original + " has shape " + src->shape_string() + ", expected [C, C, 1, 1]");
      }
    }
    out.add(renamed(*src, m.diffusers, std::move(shape)));
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> to_original_tensors(const std::vector<KeyMapping>& map,
                                                                    const TensorFetch& fetch_diffusers) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.reserve(map.size());
  for (const KeyMapping& m : map) {
    at::Tensor t = fetch_diffusers(m.diffusers);
    if (m.transform == KeyMapping::Transform::LinearToConv) {
      if (t.dim() != 2) throw FormatError(m.diffusers + " is not a [C, C] Linear weight");
      t = t.view({t.size(0), t.size(1), 1, 1});
    }
    out.emplace_back(m.original, std::move(t));
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> to_diffusers_tensors(const std::vector<KeyMapping>& map,
                                                                     const TensorFetch& fetch_original) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.reserve(map.size());
  for (const KeyMapping& m : map) {
    at::Tensor t = fetch_original(m.original);
    if (m.transform == KeyMapping::Transform::LinearToConv) {
      if (t.dim() == 4 && t.size(2) == 1 && t.size(3) == 1) {
        t = t.view({t.size(0), t.size(1)});
      } else if (t.dim() != 2) {
        throw FormatError(m.original + " is not a [C, C, 1, 1] 1x1 conv weight");
      }
    }
    out.emplace_back(m.diffusers, std::move(t));
  }
  return out;
}

}  // namespace kiln::convert
