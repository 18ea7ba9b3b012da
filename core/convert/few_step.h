#pragma once
// Few-step models and LoRAs recognised from what their files say: LCM and LCM-LoRA, SD-Turbo and
// SDXL-Turbo, SDXL-Lightning, Hyper-SD and TCD-LoRA. They need their own sampler, few steps and
// little or no classifier-free guidance; Kiln proposes those settings (the user may change them).
//
// What is looked at, in order: the safetensors metadata's modelspec.title / modelspec.description
// / ss_output_name, then the file name, then - for generic names such as diffusers'
// pytorch_lora_weights.safetensors - the name of the folder holding it. Names are matched as
// words ("lcm-lora-sdv1-5", "LCM_Dreamshaper_v7"; not "talcman"). Nothing in the weights tells
// these models apart from ordinary ones, so a renamed file is not recognised.
//
// The settings are the publishers' recommendations: LCM 4 steps at CFG 1.5 with the LCM sampler;
// Turbo 1 step, CFG off, Euler a with trailing timesteps; Lightning N steps (from the file name),
// CFG off, Euler with trailing timesteps; Hyper-SD N steps, CFG off (the "CFG" variants: CFG 5),
// Euler with trailing timesteps (DDIM trailing, which it equals), the 1-step files TCD; TCD 4
// steps, CFG off, the TCD sampler.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace kiln::convert {

enum class FewStepKind { LCM, Turbo, Lightning, HyperSD, TCD };

struct FewStepRecommendation {
  FewStepKind kind = FewStepKind::LCM;
  std::string label;    // "LCM", "SDXL-Turbo", "SDXL-Lightning 4-step", "Hyper-SD 8-step", "TCD"
  std::string sampler;  // AUTOMATIC1111 display name: "LCM", "Euler a Trailing", "Euler Trailing", "TCD"
  int steps = 4;
  double cfg = 1.0;     // <= 1: guidance off
  std::string reason;   // "the name \"lcm-lora-sdv1-5.safetensors\" says LCM"
  // The same as parts, for interfaces that word it themselves (translations).
  enum class Source { Metadata, Name, FolderName } source = Source::Name;
  std::string evidence;  // the metadata key's value, the file name or the folder name
  std::string metadata_key;  // Source::Metadata: "modelspec.title", ...
};

// `metadata`: the file's safetensors metadata (empty for other files and folders).
std::optional<FewStepRecommendation> detect_few_step(const std::filesystem::path& path,
                                                     const std::map<std::string, std::string>& metadata = {});

std::string_view to_string(FewStepKind kind);  // "lcm", "turbo", "lightning", "hyper-sd", "tcd"

}  // namespace kiln::convert
