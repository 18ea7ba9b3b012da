#pragma once
// Single-file (LDM) <-> diffusers names for the VAE (AutoencoderKL), derived from its structure:
//   {encoder,decoder}.conv_in / conv_norm_out / conv_out  <-> conv_in / norm_out / conv_out
//   encoder.down_blocks.i.resnets.j / downsamplers.0.conv <-> encoder.down.i.block.j / down.i.downsample.conv
//   decoder.up_blocks.i.resnets.j / upsamplers.0.conv     <-> decoder.up.{n-1-i}.block.j / .upsample.conv
//   mid_block.resnets.j                                   <-> mid.block_{j+1}
//   mid_block.attentions.0.group_norm / to_q / to_k / to_v / to_out.0
//                                                         <-> mid.attn_1.norm / q / k / v / proj_out
//   (the q/k/v/proj_out weights: Linear [C, C] <-> 1x1 conv [C, C, 1, 1], Transform::LinearToConv)
//   resnets: conv_shortcut <-> nin_shortcut; quant_conv, post_quant_conv as they are.
// Translation helpers (to_original_index, to_diffusers_tensors, ...) are in unet_keys.h.

#include <string>
#include <vector>

#include "convert/unet_keys.h"
#include "io/tensor_index.h"

namespace kiln::convert {

inline constexpr const char* kVaePrefix = "first_stage_model.";

// Decoder up blocks (n) inferred from diffusers names or single-file names under `prefix`.
int vae_up_blocks_from_diffusers(const io::TensorIndex& diffusers);
int vae_up_blocks_from_original(const io::TensorIndex& single_file, const std::string& prefix);

// One name, component-local on both sides. Throws kiln::FormatError naming the key.
KeyMapping vae_original_name(const std::string& diffusers, int up_blocks);
KeyMapping vae_diffusers_name(const std::string& original, int up_blocks);

std::vector<KeyMapping> vae_key_map_from_diffusers(const io::TensorIndex& diffusers,
                                                   const std::string& prefix = kVaePrefix);
std::vector<KeyMapping> vae_key_map_from_original(const io::TensorIndex& single_file,
                                                  const std::string& prefix = kVaePrefix);

}  // namespace kiln::convert
