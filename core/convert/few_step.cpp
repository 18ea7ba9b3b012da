#include "convert/few_step.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <vector>

namespace kiln::convert {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Names that say nothing about the model: look at the folder instead.
bool generic_name(const std::string& stem) {
  static const char* const kGeneric[] = {"pytorch_lora_weights", "diffusion_pytorch_model", "model", "lora",
                                         "adapter_model", "unet", "weights"};
  const std::string s = lower(stem);
  return std::any_of(std::begin(kGeneric), std::end(kGeneric), [&](const char* g) { return s.rfind(g, 0) == 0; });
}

// One text (a name or a metadata value) read for the markers, or nothing.
std::optional<FewStepRecommendation> from_text(const std::string& original) {
  const std::string text = lower(original);
  // A word boundary is anything but a letter (digits count as boundaries: "sdxl_lightning_4step").
  const auto word = [&](const std::string& pattern) {
    return std::regex_search(text, std::regex("(^|[^a-z])" + pattern + "($|[^a-z])"));
  };
  const auto steps_in = [&](int fallback) {
    std::smatch m;
    if (std::regex_search(text, m, std::regex("([0-9]{1,2})[-_ ]?steps?")) && m[1].length() > 0) {
      const int n = std::stoi(m[1].str());
      if (n >= 1 && n <= 16) return n;
    }
    return fallback;
  };
  FewStepRecommendation r;
  if (std::regex_search(text, std::regex("(^|[^a-z])hyper[-_ ]?sd"))) {
    r.kind = FewStepKind::HyperSD;
    r.steps = steps_in(8);
    r.label = "Hyper-SD " + std::to_string(r.steps) + "-step";
    const bool cfg = word("cfg");
    r.cfg = cfg ? 5.0 : 1.0;
    r.sampler = r.steps == 1 ? "TCD" : "Euler Trailing";
    if (cfg) r.label += " (CFG)";
    return r;
  }
  if (word("lightning")) {
    r.kind = FewStepKind::Lightning;
    r.steps = steps_in(4);
    r.label = "SDXL-Lightning " + std::to_string(r.steps) + "-step";
    r.cfg = 1.0;
    r.sampler = "Euler Trailing";
    return r;
  }
  if (word("tcd")) {
    r.kind = FewStepKind::TCD;
    r.label = "TCD";
    r.steps = 4;
    r.cfg = 1.0;
    r.sampler = "TCD";
    return r;
  }
  if (word("lcm") || word("latent[-_ ]consistency")) {
    r.kind = FewStepKind::LCM;
    r.label = "LCM";
    r.steps = 4;
    r.cfg = 1.5;
    r.sampler = "LCM";
    return r;
  }
  if (word("turbo")) {
    r.kind = FewStepKind::Turbo;
    r.label = text.find("xl") != std::string::npos ? "SDXL-Turbo" : "SD-Turbo";
    r.steps = 1;
    r.cfg = 1.0;
    r.sampler = "Euler a Trailing";
    return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<FewStepRecommendation> detect_few_step(const fs::path& path, const std::map<std::string, std::string>& metadata) {
  for (const char* key : {"modelspec.title", "modelspec.description", "ss_output_name"}) {
    const auto it = metadata.find(key);
    if (it == metadata.end() || it->second.empty()) continue;
    if (auto r = from_text(it->second)) {
      r->reason = std::string("its metadata's ") + key + " \"" + it->second.substr(0, 80) + "\" says " + r->label;
      r->source = FewStepRecommendation::Source::Metadata;
      r->evidence = it->second.substr(0, 80);
      r->metadata_key = key;
      return r;
    }
  }
  const std::string name = path.filename().string();
  if (auto r = from_text(path.stem().string())) {
    r->reason = "the name \"" + name + "\" says " + r->label;
    r->source = FewStepRecommendation::Source::Name;
    r->evidence = name;
    return r;
  }
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path();
  if (generic_name(path.stem().string()) && !folder.filename().empty()) {
    if (auto r = from_text(folder.filename().string())) {
      r->reason = "the folder name \"" + folder.filename().string() + "\" says " + r->label;
      r->source = FewStepRecommendation::Source::FolderName;
      r->evidence = folder.filename().string();
      return r;
    }
  }
  return std::nullopt;
}

std::string_view to_string(FewStepKind kind) {
  switch (kind) {
    case FewStepKind::LCM: return "lcm";
    case FewStepKind::Turbo: return "turbo";
    case FewStepKind::Lightning: return "lightning";
    case FewStepKind::HyperSD: return "hyper-sd";
    case FewStepKind::TCD: return "tcd";
  }
  return "";
}

}  // namespace kiln::convert
