#pragma once
// Single-file (LDM) <-> diffusers names for the UNet and the ControlNet, derived from the model's
// structure (blocks, layers per block, which up blocks hold attentions), never from per-model lists:
//   down_blocks.i.resnets.j / attentions.j  <-> input_blocks.{1 + i (L+1) + j}.0 / .1
//   down_blocks.i.downsamplers.0.conv       <-> input_blocks.{(i+1)(L+1)}.0.op
//   mid_block.resnets.j / attentions.0      <-> middle_block.{2j} / middle_block.1
//   up_blocks.i.resnets.j / attentions.j    <-> output_blocks.{i U + j}.0 / .1     (U = L + 1)
//   up_blocks.i.upsamplers.0.conv           <-> output_blocks.{i U + U-1}.{1, or 2 after an attention}.conv
//   resnets: norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut
//        <-> in_layers.0, in_layers.2, emb_layers.1, out_layers.0, out_layers.3, skip_connection
//   ControlNet (prefix control_model.): controlnet_down_blocks.N <-> zero_convs.N.0,
//   controlnet_mid_block <-> middle_block_out.0, controlnet_cond_embedding.conv_in / blocks.i / conv_out
//        <-> input_hint_block.0 / .{2(i+1)} / .{2(blocks+1)}
// Diffusers names are component-local ("conv_in.weight"); original names are full single-file names.
// The oracle is golden/keys/*/mapping.tsv.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "io/tensor_index.h"

namespace at {
class Tensor;
}

namespace kiln::convert {

inline constexpr const char* kUNetPrefix = "model.diffusion_model.";
inline constexpr const char* kControlNetPrefix = "control_model.";

struct KeyMapping {
  enum class Transform {
    None,
    // diffusers Linear [C, C] <-> original 1x1 conv [C, C, 1, 1] (VAE mid-block attention weights).
    LinearToConv,
  };
  std::string diffusers;  // component-local diffusers name
  std::string original;   // full single-file name
  Transform transform = Transform::None;

  // mapping.tsv's spelling: "" or "reshape".
  std::string note() const;
};

// The structure the UNet / ControlNet names depend on.
struct UNetLayout {
  int down_layers = 2;                  // resnets per down block (layers_per_block)
  int up_layers = 3;                    // resnets per up block (layers_per_block + 1)
  std::vector<bool> up_has_attentions;  // per up block (diffusers order)
  int hint_blocks = 0;                  // ControlNet: controlnet_cond_embedding.blocks count
};

// Inferred from diffusers names (a diffusers unet / controlnet index) or from single-file names
// under `prefix`. Throws kiln::FormatError when the structure cannot be told.
UNetLayout unet_layout_from_diffusers(const io::TensorIndex& diffusers);
UNetLayout unet_layout_from_original(const io::TensorIndex& single_file, const std::string& prefix);

// One name, component-local on both sides (no prefix). Throws kiln::FormatError naming the key.
std::string unet_original_name(const std::string& diffusers, const UNetLayout& layout);
std::string unet_diffusers_name(const std::string& original, const UNetLayout& layout);

// The table for every key of a diffusers UNet (ControlNet) index, in its order.
std::vector<KeyMapping> unet_key_map_from_diffusers(const io::TensorIndex& diffusers,
                                                    const std::string& prefix = kUNetPrefix);
// The table for every key under `prefix` of a single file (other keys are not looked at), in its
// order. Throws kiln::FormatError naming a key under the prefix that has no diffusers name.
std::vector<KeyMapping> unet_key_map_from_original(const io::TensorIndex& single_file,
                                                   const std::string& prefix = kUNetPrefix);

std::vector<KeyMapping> controlnet_key_map_from_diffusers(const io::TensorIndex& diffusers,
                                                          const std::string& prefix = kControlNetPrefix);
std::vector<KeyMapping> controlnet_key_map_from_original(const io::TensorIndex& single_file,
                                                         const std::string& prefix = kControlNetPrefix);

// Translations driven by a table (any component). Names, dtypes and shapes (LinearToConv adds or
// drops the trailing 1, 1; an original already [C, C] is taken as is); entries carry no location.
// Throws kiln::FormatError naming a key the source index lacks or a shape the transform cannot take.
io::TensorIndex to_original_index(const io::TensorIndex& diffusers, const std::vector<KeyMapping>& map);
io::TensorIndex to_diffusers_index(const io::TensorIndex& original, const std::vector<KeyMapping>& map);

// Tensors under the other side's names; `fetch` returns a tensor by its source name. Reshapes are
// views of what fetch returns.
using TensorFetch = std::function<at::Tensor(const std::string&)>;
std::vector<std::pair<std::string, at::Tensor>> to_original_tensors(const std::vector<KeyMapping>& map,
                                                                    const TensorFetch& fetch_diffusers);
std::vector<std::pair<std::string, at::Tensor>> to_diffusers_tensors(const std::vector<KeyMapping>& map,
                                                                     const TensorFetch& fetch_original);

}  // namespace kiln::convert
