#include "convert/model_family.h"

#include <array>
#include <cctype>
#include <optional>
#include <string>

#include "base/error.h"

namespace kiln::convert {

namespace {

using io::TensorEntry;
using io::TensorIndex;

std::string describe(const TensorEntry& e) { return e.name + " " + e.shape_string(); }

std::int64_t dim(const TensorEntry& e, std::size_t i) { return i < e.shape.size() ? e.shape[i] : -1; }

// The first entry (file order) named `prefix`...`suffix`; `rank` 0 accepts any shape.
const TensorEntry* find_first(const TensorIndex& index, std::string_view prefix, std::string_view suffix,
                              std::size_t rank = 0) {
  for (const auto& e : index.entries()) {
    const std::string_view name = e.name;
    if (name.size() >= prefix.size() + suffix.size() && name.starts_with(prefix) && name.ends_with(suffix) &&
        (rank == 0 || e.shape.size() == rank)) {
      return &e;
    }
  }
  return nullptr;
}

bool any_with_prefix(const TensorIndex& index, std::string_view prefix) {
  for (const auto& e : index.entries()) {
    if (std::string_view(e.name).starts_with(prefix)) return true;
  }
  return false;
}

// A component located by a marker key: the entry and the prefix in front of the marker
// ("" or ending with '.', e.g. "control_model." or "text_encoder_2.").
struct Located {
  const TensorEntry* entry = nullptr;
  std::string prefix;
};

std::optional<Located> locate(const TensorIndex& index, std::string_view marker) {
  for (const auto& e : index.entries()) {
    const std::string_view name = e.name;
    if (!name.ends_with(marker)) continue;
    const std::size_t cut = name.size() - marker.size();
    if (cut == 0 || name[cut - 1] == '.') return Located{&e, std::string(name.substr(0, cut))};
  }
  return std::nullopt;
}

// What tells UNet-shaped networks (UNets, ControlNets) apart.
struct UNetTraits {
  const TensorEntry* cross_attention = nullptr;  // attn2.to_k.weight [inner, context dim]
  const TensorEntry* add_embedding = nullptr;    // SDXL: add_embedding.linear_1 / label_emb.0.0 [1280, adm]
  const TensorEntry* conv_in = nullptr;          // [C, in_channels, 3, 3]
  const TensorEntry* proj_in = nullptr;          // transformer proj_in: [C, C, 1, 1] conv or [C, C] linear
};

UNetTraits read_traits(const TensorIndex& index, const std::string& prefix, bool ldm) {
  UNetTraits t;
  t.cross_attention = find_first(index, prefix, "attn2.to_k.weight", 2);
  t.add_embedding = index.find(prefix + (ldm ? "label_emb.0.0.weight" : "add_embedding.linear_1.weight"));
  t.conv_in = index.find(prefix + (ldm ? "input_blocks.0.0.weight" : "conv_in.weight"));
  t.proj_in = find_first(index, prefix, ".proj_in.weight");
  return t;
}

enum class Base { SD1, SD2, SDXL, SDXLRefiner };

// The Stable Diffusion version a UNet or ControlNet belongs to.
// 1. SDXL carries an addition embedding (add_embedding / label_emb): its input width is 2816
//    for the base and 2560 for the refiner, whose cross-attention dim is 1280 (base: 2048).
// 2. Otherwise the cross-attention (context) dim is the text encoder's width: 768 -> SD 1.x
//    (CLIP ViT-L), 1024 -> SD 2.x (OpenCLIP ViT-H), 2048 -> SDXL, 1280 -> SDXL refiner.
// 3. Any other context dim (tiny test models use 32): SD 2.x switched the transformers'
//    proj_in from a 1x1 conv to a linear layer (use_linear_projection), so a 4-D proj_in says
//    SD 1.x and a 2-D one SD 2.x.
std::optional<Base> classify_unet(const UNetTraits& t, std::vector<std::string>& evidence) {
  const std::int64_t ctx = t.cross_attention ? dim(*t.cross_attention, 1) : -1;
  if (t.cross_attention) {
    evidence.push_back("cross-attention dim " + std::to_string(ctx) + " (" + describe(*t.cross_attention) + ")");
  }
  if (t.add_embedding) {
    const std::int64_t adm = dim(*t.add_embedding, 1);
    evidence.push_back("SDXL addition embedding, input " + std::to_string(adm) + " (" + describe(*t.add_embedding) +
                       ")");
    if (adm == 2560 || ctx == 1280) return Base::SDXLRefiner;
    if (adm != 2816 && ctx != 2048) {
      evidence.push_back("non-standard SDXL widths: taken as SDXL base");
    }
    return Base::SDXL;
  }
  switch (ctx) {
    case 768:
      return Base::SD1;
    case 1024:
      return Base::SD2;
    case 2048:
      return Base::SDXL;
    case 1280:
      return Base::SDXLRefiner;
    default:
      break;
  }
  if (!t.proj_in) return std::nullopt;
  const bool linear = t.proj_in->shape.size() == 2;
  evidence.push_back(std::string("non-standard widths: no addition embedding and ") +
                     (linear ? "linear proj_in as SD 2.x has" : "1x1-conv proj_in as SD 1.x has") + " (" +
                     describe(*t.proj_in) + ")");
  return linear ? Base::SD2 : Base::SD1;
}

// Text encoders: transformers' CLIPTextModel names ("text_model.") or OpenCLIP's
// ("transformer.resblocks."), wherever they sit.
struct TextEncoder {
  Located where;
  bool open_clip = false;
  std::int64_t width = -1;
};

std::vector<TextEncoder> find_text_encoders(const TensorIndex& index) {
  std::vector<TextEncoder> found;
  for (const auto& e : index.entries()) {
    const std::string_view name = e.name;
    for (const bool open_clip : {false, true}) {
      const std::string_view marker = open_clip
                                          ? std::string_view("transformer.resblocks.0.attn.in_proj_weight")
                                          : std::string_view("text_model.encoder.layers.0.self_attn.q_proj.weight");
      if (!name.ends_with(marker)) continue;
      const std::size_t cut = name.size() - marker.size();
      if (cut != 0 && name[cut - 1] != '.') continue;
      TextEncoder te{{&e, std::string(name.substr(0, cut))}, open_clip, dim(e, 1)};
      // The token embedding is the better-known key to show; its width is the same.
      const std::string embedding =
          te.where.prefix + (open_clip ? "token_embedding.weight" : "text_model.embeddings.token_embedding.weight");
      if (const TensorEntry* emb = index.find(embedding)) te.where.entry = emb;
      found.push_back(std::move(te));
    }
  }
  return found;
}

std::string describe(const TextEncoder& te) {
  return std::string(te.open_clip ? "OpenCLIP" : "CLIP") + " text encoder, width " + std::to_string(te.width) + " (" +
         describe(*te.where.entry) + ")";
}

struct UNetSite {
  std::string prefix;
  bool ldm = false;  // LDM names (input_blocks...) rather than diffusers names (down_blocks...)
};

std::optional<UNetSite> find_unet(const TensorIndex& index) {
  if (index.contains("model.diffusion_model.input_blocks.0.0.weight")) return UNetSite{"model.diffusion_model.", true};
  if (index.contains("unet.conv_in.weight")) return UNetSite{"unet.", false};
  // A lone diffusers ControlNet also has a bare conv_in but no conv_out.
  if (index.contains("conv_in.weight") && index.contains("conv_out.weight")) return UNetSite{"", false};
  // A bare LDM UNet; bare original ControlNets share input_blocks but have no output head.
  if (index.contains("input_blocks.0.0.weight") && index.contains("out.2.weight")) return UNetSite{"", true};
  return std::nullopt;
}

FamilyDetection detect_pipeline(const TensorIndex& index, const UNetSite& unet, const std::filesystem::path& path) {
  FamilyDetection d{ModelFamily::SD1, unet.ldm ? KeyLayout::SingleFile : KeyLayout::Diffusers, {}};
  const UNetTraits traits = read_traits(index, unet.prefix, unet.ldm);
  d.evidence.push_back(std::string("UNet with ") + (unet.ldm ? "LDM" : "diffusers") + " names (" +
                       describe(*traits.conv_in) + ")");
  const std::optional<Base> base = classify_unet(traits, d.evidence);
  if (!base) {
    throw FormatError("the UNet has no cross-attention layers (no " + unet.prefix +
                          "...attn2.to_k.weight), so its Stable Diffusion version cannot be told",
                      path);
  }
  const std::int64_t in_channels = dim(*traits.conv_in, 1);
  if (in_channels != 4) {
    d.evidence.push_back(std::to_string(in_channels) + " UNet input channels (" + describe(*traits.conv_in) + ")");
  }
  const bool inpaint = in_channels == 9;  // 4 latent + 4 masked-image latent + 1 mask
  switch (*base) {
    case Base::SD1:
      d.family = inpaint ? ModelFamily::SD1Inpaint : ModelFamily::SD1;
      break;
    case Base::SD2:
      d.family = inpaint ? ModelFamily::SD2Inpaint : ModelFamily::SD2;
      break;
    case Base::SDXL:
      d.family = ModelFamily::SDXL;
      if (inpaint) d.evidence.push_back("SDXL inpainting UNet: no family of its own, reported as SDXL");
      break;
    case Base::SDXLRefiner:
      d.family = ModelFamily::SDXLRefiner;
      break;
  }
  for (const TextEncoder& te : find_text_encoders(index)) d.evidence.push_back(describe(te));
  return d;
}

std::optional<FamilyDetection> detect_controlnet(const TensorIndex& index, const std::filesystem::path& path) {
  bool ldm = false;
  std::optional<Located> site = locate(index, "controlnet_cond_embedding.conv_in.weight");
  if (!site) {
    // Original ControlNets: "control_model." inside full checkpoints, bare in lllyasviel's 1.1 files.
    site = locate(index, "input_hint_block.0.weight");
    ldm = true;
  }
  if (!site) return std::nullopt;
  FamilyDetection d{ModelFamily::ControlNetSD1, ldm ? KeyLayout::SingleFile : KeyLayout::Diffusers, {}};
  d.evidence.push_back(std::string("ControlNet hint encoder with ") + (ldm ? "original" : "diffusers") + " names (" +
                       describe(*site->entry) + ")");
  const std::optional<Base> base = classify_unet(read_traits(index, site->prefix, ldm), d.evidence);
  if (!base) {
    throw FormatError("the ControlNet has no cross-attention layers (no " + site->prefix +
                          "...attn2.to_k.weight), so its Stable Diffusion version cannot be told",
                      path);
  }
  switch (*base) {
    case Base::SD1:
      d.family = ModelFamily::ControlNetSD1;
      break;
    case Base::SD2:
      d.family = ModelFamily::ControlNetSD2;
      break;
    case Base::SDXL:
    case Base::SDXLRefiner:
      d.family = ModelFamily::ControlNetSDXL;
      break;
  }
  return d;
}

// LoRA tensors. kohya/A1111 names flatten the module path with '_' behind "lora_unet_",
// "lora_te_" (SD 1.x/2.x) or "lora_te1_"/"lora_te2_" (SDXL); diffusers and PEFT keep the dotted
// path and mark the tensor by its suffix.
constexpr std::array<std::string_view, 4> kKohyaPrefixes = {"lora_unet_", "lora_te_", "lora_te1_", "lora_te2_"};
// Tensors whose shape[1] is the adapted layer's input width: LoRA down/A matrices (kohya,
// PEFT, diffusers 0.21+, diffusers' attention processors and text-encoder patches) and
// LyCORIS LoHa's w1_b.
constexpr std::array<std::string_view, 6> kDownSuffixes = {
    ".lora_down.weight", ".lora_A.weight", ".lora.down.weight", "_lora.down.weight", ".lora_linear_layer.down.weight",
    ".hada_w1_b"};
constexpr std::array<std::string_view, 13> kOtherSuffixes = {
    ".lora_up.weight", ".lora_B.weight", ".lora.up.weight", "_lora.up.weight", ".lora_linear_layer.up.weight",
    ".hada_w1_a",      ".hada_w2_a",     ".hada_w2_b",      ".lokr_w1",        ".lokr_w2",
    ".lokr_w1_a",      ".lokr_w2_a",     ".lora_mid.weight"};

enum class LoRATarget { UNet, TextEncoder, TextEncoder2 };

// The tensor shown for a fact: the first match, replaced once by the first down tensor (whose
// shape shows the input width) when the first match was an alpha or up tensor.
struct Pick {
  const TensorEntry* entry = nullptr;
  bool down = false;
  void offer(const TensorEntry& e, bool is_down) {
    if (!entry || (is_down && !down)) {
      entry = &e;
      down = is_down;
    }
  }
  explicit operator bool() const { return entry != nullptr; }
};

struct LoRAScan {
  std::size_t tensors = 0;
  bool kohya = false;
  Pick first;
  const TensorEntry* cross_kv = nullptr;     // down of an attn2 to_k/to_v: input = context dim
  const TensorEntry* te_proj = nullptr;      // down of a text-encoder projection: input = width
  Pick sdxl_te;                              // lora_te1_/lora_te2_/text_encoder_2
  Pick deep_block;                           // transformer_blocks.1+: only SDXL stacks them
  Pick level_320;                            // attention at 320 channels: SD 1.x/2.x only
  const TensorEntry* linear_proj = nullptr;  // 2-D proj_in down: SD 2.x or SDXL
};

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool has_deep_transformer_block(std::string_view module) {
  for (std::size_t at = module.find("transformer_blocks_"); at != std::string_view::npos;
       at = module.find("transformer_blocks_", at + 1)) {
    const std::string_view rest = module.substr(at + std::string_view("transformer_blocks_").size());
    if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0])) && !rest.starts_with("0_")) return true;
  }
  return false;
}

// Flags one LoRA tensor; `module` is its module path with '.' turned into '_'.
void scan_lora_tensor(const TensorEntry& e, std::string_view module, LoRATarget target, bool down, LoRAScan& scan) {
  if (target != LoRATarget::UNet) {
    if (target == LoRATarget::TextEncoder2 || e.name.starts_with("lora_te1_")) {
      scan.sdxl_te.offer(e, down);
    } else if (down && e.shape.size() == 2 && !scan.te_proj &&
               (module.ends_with("q_proj") || module.ends_with("k_proj") || module.ends_with("v_proj") ||
                module.ends_with("out_proj") || module.ends_with("fc1"))) {
      scan.te_proj = &e;
    }
    return;
  }
  if (down && e.shape.size() == 2 && !scan.cross_kv && contains(module, "attn2_") &&
      (module.ends_with("to_k") || module.ends_with("to_v") || module.ends_with("to_k_lora") ||
       module.ends_with("to_v_lora"))) {
    scan.cross_kv = &e;
  }
  if (has_deep_transformer_block(module)) scan.deep_block.offer(e, down);
  // SD 1.x/2.x attend at 320 channels (diffusers down 0 / up 3, LDM input 1-2 / output 9-11);
  // SDXL's first and last levels have no attention.
  constexpr std::array<std::string_view, 7> k320 = {
      "down_blocks_0_attentions_", "up_blocks_3_attentions_", "input_blocks_1_1_",  "input_blocks_2_1_",
      "output_blocks_9_1_",        "output_blocks_10_1_",     "output_blocks_11_1_"};
  for (std::string_view level : k320) {
    if (contains(module, level)) {
      scan.level_320.offer(e, down);
      break;
    }
  }
  if (down && !scan.linear_proj && module.ends_with("proj_in") && e.shape.size() == 2) scan.linear_proj = &e;
}

LoRAScan scan_lora(const TensorIndex& index) {
  LoRAScan scan;
  std::string module;
  for (const auto& e : index.entries()) {
    const std::string_view name = e.name;
    bool kohya = false;
    for (std::string_view p : kKohyaPrefixes) kohya = kohya || name.starts_with(p);
    std::string_view suffix;
    bool down = false;
    for (std::string_view s : kDownSuffixes) {
      if (name.ends_with(s)) {
        suffix = s;
        down = true;
        break;
      }
    }
    for (std::size_t i = 0; suffix.empty() && i < kOtherSuffixes.size(); ++i) {
      if (name.ends_with(kOtherSuffixes[i])) suffix = kOtherSuffixes[i];
    }
    if (!kohya && suffix.empty()) continue;
    ++scan.tensors;
    scan.kohya = scan.kohya || kohya;
    scan.first.offer(e, down);
    // kohya module names have no dots: everything after the first one (".alpha", ".lora_down.weight",
    // LyCORIS extras) names the tensor.
    module.assign(kohya ? name.substr(0, name.find('.')) : name.substr(0, name.size() - suffix.size()));
    for (char& c : module) {
      if (c == '.') c = '_';
    }
    LoRATarget target = LoRATarget::UNet;
    if (name.starts_with("lora_te2_") || name.starts_with("text_encoder_2.")) {
      target = LoRATarget::TextEncoder2;
    } else if (name.starts_with("lora_te") || name.starts_with("text_encoder.") || contains(module, "text_model_")) {
      target = LoRATarget::TextEncoder;
    }
    scan_lora_tensor(e, module, target, down, scan);
  }
  return scan;
}

std::string input_width_fact(const char* what, const TensorEntry& e) {
  return std::string(what) + " " + std::to_string(dim(e, 1)) + " (" + describe(e) + ")";
}

// The base model of a LoRA, strongest evidence first: the cross-attention input width
// (768 / 1024 / 2048, refiner 1280), SDXL's second text encoder (or kohya's te1/te2 naming),
// the text encoder width (768 / 1024 / 1280), UNet block structure (stacked transformer blocks
// only in SDXL; attention at 320 channels only in SD 1.x/2.x, linear proj_in then says 2.x).
// Without any of these, SD 1.x is assumed and the evidence says so.
FamilyDetection classify_lora(const LoRAScan& scan) {
  FamilyDetection d{ModelFamily::LoRASD1, scan.kohya ? KeyLayout::SingleFile : KeyLayout::Diffusers, {}};
  d.evidence.push_back(std::to_string(scan.tensors) + " LoRA tensors with " +
                       (scan.kohya ? "kohya" : "diffusers/PEFT") + " names (" + describe(*scan.first.entry) + ")");
  if (scan.cross_kv) {
    d.evidence.push_back(input_width_fact("cross-attention input", *scan.cross_kv));
    switch (dim(*scan.cross_kv, 1)) {
      case 768:
        d.family = ModelFamily::LoRASD1;
        return d;
      case 1024:
        d.family = ModelFamily::LoRASD2;
        return d;
      case 1280:
        d.evidence.push_back("SDXL refiner width: reported as an SDXL LoRA");
        [[fallthrough]];
      case 2048:
        d.family = ModelFamily::LoRASDXL;
        return d;
      default:
        d.evidence.back() += ": not a standard width";
        break;
    }
  }
  if (scan.sdxl_te) {
    d.evidence.push_back("SDXL text encoder naming (" + describe(*scan.sdxl_te.entry) + ")");
    d.family = ModelFamily::LoRASDXL;
    return d;
  }
  if (scan.te_proj) {
    d.evidence.push_back(input_width_fact("text encoder width", *scan.te_proj));
    switch (dim(*scan.te_proj, 1)) {
      case 768:
        d.family = ModelFamily::LoRASD1;
        return d;
      case 1024:
        d.family = ModelFamily::LoRASD2;
        return d;
      case 1280:
        d.family = ModelFamily::LoRASDXL;
        return d;
      default:
        d.evidence.back() += ": not a standard width";
        break;
    }
  }
  if (scan.deep_block) {
    d.evidence.push_back("stacked transformer blocks as only SDXL has (" + describe(*scan.deep_block.entry) + ")");
    d.family = ModelFamily::LoRASDXL;
    return d;
  }
  if (scan.level_320) {
    d.evidence.push_back("attention at the 320-channel level as SD 1.x/2.x have (" + describe(*scan.level_320.entry) +
                         ")");
    if (scan.linear_proj) {
      d.evidence.push_back("linear proj_in as SD 2.x has (" + describe(*scan.linear_proj) + ")");
      d.family = ModelFamily::LoRASD2;
    } else {
      d.evidence.push_back("no SD 2.x sign: SD 1.x assumed");
      d.family = ModelFamily::LoRASD1;
    }
    return d;
  }
  d.evidence.push_back("base model could not be told from the keys: SD 1.x assumed");
  return d;
}

std::optional<FamilyDetection> detect_vae(const TensorIndex& index) {
  std::optional<Located> site = locate(index, "encoder.conv_in.weight");
  if (!site) site = locate(index, "decoder.conv_out.weight");
  if (!site) return std::nullopt;
  // Original (LDM) VAEs name blocks encoder.down.N.block.M / decoder.up.N; diffusers
  // encoder.down_blocks.N.resnets.M / decoder.up_blocks.N.
  const bool ldm =
      any_with_prefix(index, site->prefix + "encoder.down.") || any_with_prefix(index, site->prefix + "decoder.up.");
  FamilyDetection d{ModelFamily::VAE, ldm ? KeyLayout::SingleFile : KeyLayout::Diffusers, {}};
  d.evidence.push_back(std::string("VAE with ") + (ldm ? "original" : "diffusers") + " names (" +
                       describe(*site->entry) + ")");
  if (const TensorEntry* latent = index.find(site->prefix + "decoder.conv_in.weight")) {
    d.evidence.push_back("latent channels " + std::to_string(dim(*latent, 1)) + " (" + describe(*latent) + ")");
  }
  return d;
}

std::optional<FamilyDetection> detect_text_encoder(const TensorIndex& index) {
  const std::vector<TextEncoder> found = find_text_encoders(index);
  if (found.empty()) return std::nullopt;
  // transformers' names without a prefix, or under a diffusers folder's text_encoder(_2)/, are
  // diffusers; OpenCLIP names and the text_model inside LDM checkpoints (cond_stage_model.,
  // conditioner.) are single-file.
  const TextEncoder& te = found.front();
  const bool diffusers = !te.open_clip && (te.where.prefix.empty() || te.where.prefix.starts_with("text_encoder"));
  FamilyDetection d{ModelFamily::TextEncoder, diffusers ? KeyLayout::Diffusers : KeyLayout::SingleFile, {}};
  for (const TextEncoder& each : found) d.evidence.push_back(describe(each));
  return d;
}

[[noreturn]] void throw_unrecognised(const TensorIndex& index, const std::filesystem::path& path) {
  std::string message =
      "not a Stable Diffusion model: none of the keys Kiln looks for were found (looked for: "
      "model.diffusion_model.input_blocks.0.0.weight, unet.conv_in.weight, conv_in.weight with conv_out.weight, "
      "controlnet_cond_embedding.conv_in.weight, control_model.input_hint_block.0.weight, "
      "input_hint_block.0.weight, lora_unet_*, lora_te_*, *.lora_down.weight, *.lora_A.weight, "
      "*.lora.down.weight, *.hada_w1_b, encoder.conv_in.weight, decoder.conv_out.weight, "
      "text_model.embeddings.token_embedding.weight, transformer.resblocks.0.attn.in_proj_weight); "
      "first keys in the file: ";
  constexpr std::size_t kShown = 5;
  const auto& entries = index.entries();
  for (std::size_t i = 0; i < entries.size() && i < kShown; ++i) {
    if (i > 0) message += ", ";
    message += entries[i].name;
  }
  if (entries.size() > kShown) message += ", ... (" + std::to_string(entries.size()) + " tensors)";
  throw FormatError(std::move(message), path,
                    "Kiln reads Stable Diffusion 1.x, 2.x and SDXL checkpoints and diffusers folders, ControlNets, "
                    "LoRAs, VAEs and CLIP text encoders");
}

}  // namespace

std::string_view to_string(ModelFamily family) {
  switch (family) {
    case ModelFamily::SD1:
      return "sd1";
    case ModelFamily::SD2:
      return "sd2";
    case ModelFamily::SDXL:
      return "sdxl";
    case ModelFamily::SDXLRefiner:
      return "sdxl_refiner";
    case ModelFamily::SD1Inpaint:
      return "sd1_inpaint";
    case ModelFamily::SD2Inpaint:
      return "sd2_inpaint";
    case ModelFamily::ControlNetSD1:
      return "controlnet_sd1";
    case ModelFamily::ControlNetSD2:
      return "controlnet_sd2";
    case ModelFamily::ControlNetSDXL:
      return "controlnet_sdxl";
    case ModelFamily::LoRASD1:
      return "lora_sd1";
    case ModelFamily::LoRASD2:
      return "lora_sd2";
    case ModelFamily::LoRASDXL:
      return "lora_sdxl";
    case ModelFamily::VAE:
      return "vae";
    case ModelFamily::TextEncoder:
      return "text_encoder";
  }
  return "unknown";
}

std::string_view to_string(KeyLayout layout) {
  switch (layout) {
    case KeyLayout::Diffusers:
      return "diffusers";
    case KeyLayout::SingleFile:
      return "single_file";
  }
  return "unknown";
}

std::string_view display_name(ModelFamily family) {
  switch (family) {
    case ModelFamily::SD1:
      return "Stable Diffusion 1.x";
    case ModelFamily::SD2:
      return "Stable Diffusion 2.x";
    case ModelFamily::SDXL:
      return "SDXL";
    case ModelFamily::SDXLRefiner:
      return "SDXL refiner";
    case ModelFamily::SD1Inpaint:
      return "SD 1.x inpainting";
    case ModelFamily::SD2Inpaint:
      return "SD 2.x inpainting";
    case ModelFamily::ControlNetSD1:
      return "ControlNet (SD 1.x)";
    case ModelFamily::ControlNetSD2:
      return "ControlNet (SD 2.x)";
    case ModelFamily::ControlNetSDXL:
      return "ControlNet (SDXL)";
    case ModelFamily::LoRASD1:
      return "LoRA (SD 1.x)";
    case ModelFamily::LoRASD2:
      return "LoRA (SD 2.x)";
    case ModelFamily::LoRASDXL:
      return "LoRA (SDXL)";
    case ModelFamily::VAE:
      return "VAE";
    case ModelFamily::TextEncoder:
      return "Text encoder";
  }
  return "unknown";
}

// Precedence: a UNet makes a pipeline (full checkpoints also carry VAE and text encoder, and
// ControlNet 1.0 files a whole SD model), then ControlNet, LoRA, VAE, text encoder. Keys of
// no interest (EMA copies, schedule buffers, position_ids, logit_scale) are ignored.
FamilyDetection detect_family(const io::TensorIndex& index, const std::filesystem::path& path) {
  if (index.empty()) throw FormatError("the file holds no tensors", path);
  if (const std::optional<UNetSite> unet = find_unet(index)) return detect_pipeline(index, *unet, path);
  if (std::optional<FamilyDetection> d = detect_controlnet(index, path)) return *d;
  if (const LoRAScan lora = scan_lora(index); lora.tensors > 0) return classify_lora(lora);
  if (std::optional<FamilyDetection> d = detect_vae(index)) return *d;
  if (std::optional<FamilyDetection> d = detect_text_encoder(index)) return *d;
  throw_unrecognised(index, path);
}

}  // namespace kiln::convert
