#pragma once
// What a set of weights is, told from tensor names and shapes alone (no data is read).

#include <string>
#include <string_view>
#include <vector>

#include "io/tensor_index.h"

namespace kiln::convert {

enum class ModelFamily {
  SD1,
  SD2,
  SDXL,
  SDXLRefiner,
  SD1Inpaint,
  SD2Inpaint,
  ControlNetSD1,
  ControlNetSD2,
  ControlNetSDXL,
  LoRASD1,
  LoRASD2,
  LoRASDXL,
  VAE,
  TextEncoder,
};

// Key naming of the weights: diffusers' names (folders, diffusers/PEFT LoRAs, standalone
// diffusers components) or the original single-file names (LDM/SGM checkpoints, kohya LoRAs,
// original ControlNets, OpenCLIP text encoders).
enum class KeyLayout { Diffusers, SingleFile };

// The `--json` spellings: sd1, sd2, sdxl, sdxl_refiner, sd1_inpaint, sd2_inpaint,
// controlnet_sd1, controlnet_sd2, controlnet_sdxl, lora_sd1, lora_sd2, lora_sdxl, vae,
// text_encoder; diffusers, single_file.
std::string_view to_string(ModelFamily family);
std::string_view to_string(KeyLayout layout);
// Human-readable: "Stable Diffusion 1.x", "SDXL refiner", "LoRA (SDXL)", ...
std::string_view display_name(ModelFamily family);

struct FamilyDetection {
  ModelFamily family;
  KeyLayout layout;
  // The facts the decision rests on, e.g. "cross-attention dim 768 (…attn2.to_k.weight [320, 768])".
  std::vector<std::string> evidence;
};

// `index` holds every tensor of one single file, or of a diffusers folder with each
// component's names prefixed by "<component>." (e.g. "unet.conv_in.weight"). A lone diffusers
// component (a UNet, VAE, ControlNet or text encoder without prefix) is recognised too.
// Throws kiln::FormatError (with `path`) listing the keys looked for when nothing fits.
FamilyDetection detect_family(const io::TensorIndex& index, const std::filesystem::path& path = {});

}  // namespace kiln::convert
