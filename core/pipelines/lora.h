#pragma once
// LoRA adapters applied to a loaded StableDiffusionModel with a weight, merged into the weights
// in place as AUTOMATIC1111 does: W += weight * (alpha / rank) * up @ down (conv LoRAs: the same
// product over the flattened kernel, up being 1x1), computed in fp32 and stored in the module's
// dtype on its device. The merge is model state owned by the caller, not part of a
// GenerationRequest: `apply_loras` returns an AppliedLoRAs that keeps a copy of every weight it
// changed, and `restore()` puts them back bit for bit, so LoRAs change between generations
// without reloading the model.
//
// File names understood (module paths are resolved against the model's own module paths,
// flattened with '_' where the convention flattens them, never by splitting a name):
//   kohya / A1111   lora_unet_<diffusers path>, lora_te_<transformers path> (SD 1.x/2.x);
//                   SDXL lora_unet_<LDM path> (input_blocks_4_1_...), lora_te1_ / lora_te2_;
//                   .lora_down.weight / .lora_up.weight / .alpha (conv 1x1 and 3x3 too)
//   PEFT/diffusers  unet.<path>.lora_A.weight / .lora_B.weight, text_encoder(_2).<path>...,
//                   alpha from the "lora_adapter_metadata" JSON in the safetensors metadata or
//                   adapter_config.json beside the file (lora_alpha, alpha_pattern), else the rank,
//                   base_model.model.<path>... (a lone PEFT adapter), diffusers 0.21-0.23's
//                   .lora.down/.lora.up and .lora_linear_layer.down/.up, and <= 0.20's
//                   attention processors (<path>.processor.to_q_lora.down.weight)
// LyCORIS LoHa / LoKr / Tucker (lora_mid) and DoRA files are refused with a FormatError.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "convert/model_family.h"

namespace kiln::pipelines {

struct StableDiffusionModel;

// One LoRA file and the weight it is applied with (A1111's <lora:name:weight>).
struct LoRASpec {
  std::filesystem::path path;
  double weight = 1.0;

  bool operator==(const LoRASpec&) const = default;
};

// kohya's name of a module: prefix + '_' + the module path with '.' replaced by '_'.
// kohya_lora_name("lora_unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q")
//   == "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
std::string kohya_lora_name(std::string_view prefix, std::string_view module_path);

// One adapted layer, resolved against a model.
struct LoRALayer {
  std::string key;        // the file's name for the layer ("lora_unet_..._to_q", "unet.down_blocks....to_q")
  std::string component;  // "unet", "text_encoder" or "text_encoder_2"
  std::string module;     // the diffusers (transformers) module path in that component
  torch::Tensor down;     // [rank, in] or conv [rank, in, kh, kw], as stored (CPU)
  torch::Tensor up;       // [out, rank] or conv [out, rank, 1, 1]
  double alpha = 0;       // the file's alpha (PEFT: its config's), or the rank when it has none
  torch::Tensor target;   // the model's weight it changes (that module's parameter)

  std::int64_t rank() const { return down.size(0); }
};

struct LoRAFile {
  std::filesystem::path path;
  convert::FamilyDetection detection;  // LoRASD1 / LoRASD2 / LoRASDXL and why
  std::map<std::string, std::string> metadata;
  std::vector<LoRALayer> layers;  // in the file's order
};

// Reads a LoRA (.safetensors, or a torch .pt/.ckpt/.bin) and resolves every layer against
// `model`, checking that up @ down has the shape of the weight it changes. Throws
// kiln::FileError / FormatError (unreadable, LoHa/LoKr/..., a down without its up) naming the
// file; WeightMismatchError naming the file and the first keys that match no layer of the model;
// InvalidRequestError naming the file for a LoRA of another base model or a shape that does not
// fit.
LoRAFile read_lora(const std::filesystem::path& path, const StableDiffusionModel& model);

// The weights a set of LoRAs changed, with a copy (on the CPU) of each one's value before the
// first change. Move-only; dropping it keeps the LoRAs merged (call restore() to undo them).
class AppliedLoRAs {
 public:
  AppliedLoRAs() = default;
  AppliedLoRAs(AppliedLoRAs&&) noexcept = default;
  AppliedLoRAs& operator=(AppliedLoRAs&&) noexcept = default;
  AppliedLoRAs(const AppliedLoRAs&) = delete;
  AppliedLoRAs& operator=(const AppliedLoRAs&) = delete;

  // What was applied, in order (weight-0 entries included: they were checked, not merged).
  const std::vector<LoRASpec>& specs() const { return specs_; }
  bool empty() const { return specs_.empty(); }
  // Weights changed (a weight two LoRAs touch counts once).
  std::size_t changed_weights() const { return originals_.size(); }

  // Puts every changed weight back to exactly its value before apply_loras; afterwards empty().
  void restore();

 private:
  friend AppliedLoRAs apply_loras(const StableDiffusionModel& model, const std::vector<LoRASpec>& loras);
  std::vector<LoRASpec> specs_;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> originals_;  // (the parameter, its value before)
};

// Merges the LoRAs into `model`'s weights in order. Every file is read and checked against the
// model before any weight changes, so a failure leaves the model as it was. A LoRA of weight 0 is
// checked but changes nothing. Runs under torch::NoGradGuard (and works inside InferenceMode).
AppliedLoRAs apply_loras(const StableDiffusionModel& model, const std::vector<LoRASpec>& loras);

// AUTOMATIC1111's hash of a LoRA file (kohya's "addnet" hash): sha256 of a safetensors file's
// data section (after the header, so editing metadata keeps it), else of the whole file; full
// hex digest. A1111's "Lora hashes" show its first 12 digits. Throws kiln::FileError.
std::string lora_file_hash(const std::filesystem::path& path);

}  // namespace kiln::pipelines
