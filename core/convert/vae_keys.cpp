#include "convert/vae_keys.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "base/error.h"
#include "convert/key_parsing.h"

namespace kiln::convert {

namespace {

using Transform = KeyMapping::Transform;

using namespace key_parsing;

[[noreturn]] void unmapped(const std::string& key, const char* side) {
  throw FormatError(std::string("no ") + side + " name for VAE key " + key);
}

// Resnet sub-modules: only the shortcut differs.
std::string resnet_to_original(std::string_view s) {
  return take(s, "conv_shortcut.") ? "nin_shortcut." + str(s) : str(s);
}
std::string resnet_to_diffusers(std::string_view s) {
  return take(s, "nin_shortcut.") ? "conv_shortcut." + str(s) : str(s);
}

// Mid-block attention sub-modules (diffusers, original); the projections are 1x1 convs in LDM.
constexpr std::pair<std::string_view, std::string_view> kAttn[] = {
    {"group_norm.", "norm."}, {"to_q.", "q."}, {"to_k.", "k."}, {"to_v.", "v."}, {"to_out.0.", "proj_out."},
};

constexpr std::pair<std::string_view, std::string_view> kTop[] = {
    {"conv_in.", "conv_in."}, {"conv_norm_out.", "norm_out."}, {"conv_out.", "conv_out."}};

Transform attn_transform(std::string_view diffusers_sub, std::string_view param) {
  return diffusers_sub != "group_norm." && param == "weight" ? Transform::LinearToConv : Transform::None;
}

}  // namespace

int vae_up_blocks_from_diffusers(const io::TensorIndex& diffusers) {
  int n = 0;
  for (const io::TensorEntry& e : diffusers.entries()) {
    std::string_view s = e.name;
    int i = 0;
    if (take(s, "decoder.up_blocks.") && take_index(s, i)) n = std::max(n, i + 1);
  }
  return n;
}

int vae_up_blocks_from_original(const io::TensorIndex& single_file, const std::string& prefix) {
  int n = 0;
  for (const io::TensorEntry& e : single_file.entries()) {
    std::string_view s = e.name;
    int i = 0;
    if (take(s, prefix) && take(s, "decoder.up.") && take_index(s, i)) n = std::max(n, i + 1);
  }
  return n;
}

KeyMapping vae_original_name(const std::string& key, int up_blocks) {
  std::string_view s = key;
  if (take(s, "quant_conv.") || take(s, "post_quant_conv.")) return KeyMapping{key, key, Transform::None};
  std::string coder;
  if (take(s, "encoder."))
    coder = "encoder.";
  else if (take(s, "decoder."))
    coder = "decoder.";
  else
    unmapped(key, "single-file");
  auto mapped = [&](std::string original, Transform t = Transform::None) {
    return KeyMapping{key, coder + original, t};
  };
  for (const auto& [d, o] : kTop) {
    std::string_view rest = s;
    if (take(rest, d)) return mapped(str(o) + str(rest));
  }
  int i = 0, j = 0;
  std::string_view b = s;
  if (take(b, "down_blocks.") && take_index(b, i)) {
    if (take(b, "resnets.") && take_index(b, j))
      return mapped("down." + num(i) + ".block." + num(j) + "." + resnet_to_original(b));
    if (take(b, "downsamplers.0.conv.")) return mapped("down." + num(i) + ".downsample.conv." + str(b));
    unmapped(key, "single-file");
  }
  if (b = s; take(b, "up_blocks.") && take_index(b, i) && i < up_blocks) {
    const int level = up_blocks - 1 - i;
    if (take(b, "resnets.") && take_index(b, j))
      return mapped("up." + num(level) + ".block." + num(j) + "." + resnet_to_original(b));
    if (take(b, "upsamplers.0.conv.")) return mapped("up." + num(level) + ".upsample.conv." + str(b));
    unmapped(key, "single-file");
  }
  if (b = s; take(b, "mid_block.")) {
    if (take(b, "resnets.") && take_index(b, j)) return mapped("mid.block_" + num(j + 1) + "." + resnet_to_original(b));
    if (take(b, "attentions.0.")) {
      for (const auto& [d, o] : kAttn) {
        std::string_view rest = b;
        if (take(rest, d)) return mapped("mid.attn_1." + str(o) + str(rest), attn_transform(d, rest));
      }
    }
  }
  unmapped(key, "single-file");
}

KeyMapping vae_diffusers_name(const std::string& key, int up_blocks) {
  std::string_view s = key;
  if (take(s, "quant_conv.") || take(s, "post_quant_conv.")) return KeyMapping{key, key, Transform::None};
  std::string coder;
  if (take(s, "encoder."))
    coder = "encoder.";
  else if (take(s, "decoder."))
    coder = "decoder.";
  else
    unmapped(key, "diffusers");
  auto mapped = [&](std::string diffusers, Transform t = Transform::None) {
    return KeyMapping{coder + diffusers, key, t};
  };
  for (const auto& [d, o] : kTop) {
    std::string_view rest = s;
    if (take(rest, o)) return mapped(str(d) + str(rest));
  }
  int i = 0, j = 0;
  std::string_view b = s;
  if (take(b, "down.") && take_index(b, i)) {
    if (take(b, "block.") && take_index(b, j)) {
      return mapped("down_blocks." + num(i) + ".resnets." + num(j) + "." + resnet_to_diffusers(b));
    }
    if (take(b, "downsample.conv.")) return mapped("down_blocks." + num(i) + ".downsamplers.0.conv." + str(b));
    unmapped(key, "diffusers");
  }
  if (b = s; take(b, "up.") && take_index(b, i) && i < up_blocks) {
    const int block = up_blocks - 1 - i;
    if (take(b, "block.") && take_index(b, j)) {
      return mapped("up_blocks." + num(block) + ".resnets." + num(j) + "." + resnet_to_diffusers(b));
    }
    if (take(b, "upsample.conv.")) return mapped("up_blocks." + num(block) + ".upsamplers.0.conv." + str(b));
    unmapped(key, "diffusers");
  }
  if (b = s; take(b, "mid.")) {
    if (take(b, "block_") && take_index(b, j) && j >= 1) {
      return mapped("mid_block.resnets." + num(j - 1) + "." + resnet_to_diffusers(b));
    }
    if (b = s; take(b, "mid.attn_1.")) {
      for (const auto& [d, o] : kAttn) {
        std::string_view rest = b;
        if (take(rest, o)) return mapped("mid_block.attentions.0." + str(d) + str(rest), attn_transform(d, rest));
      }
    }
  }
  unmapped(key, "diffusers");
}

std::vector<KeyMapping> vae_key_map_from_diffusers(const io::TensorIndex& diffusers, const std::string& prefix) {
  const int up_blocks = vae_up_blocks_from_diffusers(diffusers);
  std::vector<KeyMapping> out;
  out.reserve(diffusers.size());
  for (const io::TensorEntry& e : diffusers.entries()) {
    KeyMapping m = vae_original_name(e.name, up_blocks);
    m.original = prefix + m.original;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<KeyMapping> vae_key_map_from_original(const io::TensorIndex& single_file, const std::string& prefix) {
  const int up_blocks = vae_up_blocks_from_original(single_file, prefix);
  std::vector<KeyMapping> out;
  for (const io::TensorEntry& e : single_file.entries()) {
    if (!starts_with(e.name, prefix)) continue;
    KeyMapping m = vae_diffusers_name(e.name.substr(prefix.size()), up_blocks);
    m.original = e.name;
    out.push_back(std::move(m));
  }
  if (out.empty()) throw FormatError("no VAE weights (no tensor named " + prefix + "*)");
  return out;
}

}  // namespace kiln::convert
