#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "base/error.h"
#include "convert/model_family.h"
#include "io/safetensors.h"
#include "support/test_support.h"

using kiln::convert::detect_family;
using kiln::convert::FamilyDetection;
using kiln::convert::KeyLayout;
using kiln::convert::ModelFamily;
using kiln::io::TensorEntry;
using kiln::io::TensorIndex;
namespace fs = std::filesystem;

namespace {

fs::path keys_dir(const std::string& model) { return kiln::test::data_dir() / "golden" / "keys" / model; }

TensorIndex key_list(const std::string& model, const std::string& file) {
  return kiln::test::read_key_list(keys_dir(model) / file);
}

// A diffusers folder as the folder reader sees it: each component prefixed by its name.
TensorIndex diffusers_folder(const std::string& model, std::initializer_list<std::string> components) {
  TensorIndex index;
  for (const std::string& c : components) index.merge(key_list(model, "diffusers_" + c + ".txt"), c + ".");
  return index;
}

// A copy of `index` with `edit` applied to every entry; entries for which it returns false are dropped.
TensorIndex edited(const TensorIndex& index, const std::function<bool(TensorEntry&)>& edit) {
  TensorIndex out;
  for (TensorEntry e : index.entries()) {
    if (edit(e)) out.add(std::move(e));
  }
  return out;
}

TensorEntry entry(std::string name, std::vector<std::int64_t> shape) {
  TensorEntry e;
  e.name = std::move(name);
  e.shape = std::move(shape);
  return e;
}

bool ends_with(const std::string& s, const std::string& suffix) { return s.ends_with(suffix); }

// The cross-attention key/value projections read the text encoder's output: [inner, ctx].
TensorIndex with_context_dim(const TensorIndex& index, std::int64_t ctx) {
  return edited(index, [ctx](TensorEntry& e) {
    if (ends_with(e.name, "attn2.to_k.weight") || ends_with(e.name, "attn2.to_v.weight")) e.shape[1] = ctx;
    return true;
  });
}

TensorIndex with_conv_in_channels(const TensorIndex& index, const std::string& conv_in, std::int64_t channels) {
  return edited(index, [&](TensorEntry& e) {
    if (e.name == conv_in) e.shape[1] = channels;
    return true;
  });
}

TensorIndex safetensors_index(const fs::path& path) { return kiln::io::read_safetensors_header(path).index; }

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

void check(const TensorIndex& index, ModelFamily family, KeyLayout layout) {
  const FamilyDetection d = detect_family(index);
  INFO(joined(d.evidence));
  CHECK(to_string(d.family) == to_string(family));
  CHECK(to_string(d.layout) == to_string(layout));
  CHECK_FALSE(d.evidence.empty());
}

}  // namespace

TEST_CASE("to_string and display_name spell every family and layout") {
  CHECK(to_string(ModelFamily::SD1) == "sd1");
  CHECK(to_string(ModelFamily::SDXLRefiner) == "sdxl_refiner");
  CHECK(to_string(ModelFamily::SD2Inpaint) == "sd2_inpaint");
  CHECK(to_string(ModelFamily::ControlNetSDXL) == "controlnet_sdxl");
  CHECK(to_string(ModelFamily::LoRASD2) == "lora_sd2");
  CHECK(to_string(ModelFamily::TextEncoder) == "text_encoder");
  CHECK(to_string(KeyLayout::Diffusers) == "diffusers");
  CHECK(to_string(KeyLayout::SingleFile) == "single_file");
  CHECK(display_name(ModelFamily::SD1) == "Stable Diffusion 1.x");
  CHECK(display_name(ModelFamily::SDXLRefiner) == "SDXL refiner");
  CHECK(display_name(ModelFamily::SD1Inpaint) == "SD 1.x inpainting");
  CHECK(display_name(ModelFamily::ControlNetSD2) == "ControlNet (SD 2.x)");
  CHECK(display_name(ModelFamily::LoRASDXL) == "LoRA (SDXL)");
  CHECK(display_name(ModelFamily::TextEncoder) == "Text encoder");
}

TEST_CASE("full pipelines from the golden key lists") {
  SUBCASE("SD 1.5") {
    const TensorIndex single = key_list("sd15", "original_single_file.txt");
    check(single, ModelFamily::SD1, KeyLayout::SingleFile);
    check(diffusers_folder("sd15", {"unet", "vae", "text_encoder"}), ModelFamily::SD1, KeyLayout::Diffusers);
    check(key_list("sd15", "diffusers_unet.txt"), ModelFamily::SD1, KeyLayout::Diffusers);
    // A single file with nothing but its UNet is still the pipeline's family.
    check(single.with_prefix("model.diffusion_model.", "model.diffusion_model."), ModelFamily::SD1,
          KeyLayout::SingleFile);
  }
  SUBCASE("SD 2.1") {
    check(key_list("sd21", "original_single_file.txt"), ModelFamily::SD2, KeyLayout::SingleFile);
    check(diffusers_folder("sd21", {"unet", "vae", "text_encoder"}), ModelFamily::SD2, KeyLayout::Diffusers);
    check(key_list("sd21", "diffusers_unet.txt"), ModelFamily::SD2, KeyLayout::Diffusers);
  }
  SUBCASE("SDXL base") {
    check(key_list("sdxl_base", "original_single_file.txt"), ModelFamily::SDXL, KeyLayout::SingleFile);
    check(diffusers_folder("sdxl_base", {"unet", "vae", "text_encoder", "text_encoder_2"}), ModelFamily::SDXL,
          KeyLayout::Diffusers);
    check(key_list("sdxl_base", "diffusers_unet.txt"), ModelFamily::SDXL, KeyLayout::Diffusers);
  }
}

TEST_CASE("real checkpoints' extra keys change nothing") {
  TensorIndex index = key_list("sd15", "original_single_file.txt");
  for (const char* name : {"betas", "alphas_cumprod", "model_ema.decay", "model_ema.num_updates",
                           "cond_stage_model.transformer.text_model.embeddings.position_ids"}) {
    index.add(entry(name, {1000}));
  }
  check(index, ModelFamily::SD1, KeyLayout::SingleFile);
}

TEST_CASE("evidence names the cross-attention dim with its key and shape") {
  const FamilyDetection d = detect_family(key_list("sd15", "diffusers_unet.txt"));
  const std::string all = joined(d.evidence);
  CHECK(all.find("cross-attention dim 768 (down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight "
                 "[320, 768])") != std::string::npos);

  const FamilyDetection single = detect_family(key_list("sd15", "original_single_file.txt"));
  CHECK(joined(single.evidence).find("cross-attention dim 768 (model.diffusion_model.") != std::string::npos);
  CHECK(joined(single.evidence).find("CLIP text encoder, width 768") != std::string::npos);
}

TEST_CASE("inpainting UNets have 9 input channels") {
  check(with_conv_in_channels(key_list("sd15", "original_single_file.txt"),
                              "model.diffusion_model.input_blocks.0.0.weight", 9),
        ModelFamily::SD1Inpaint, KeyLayout::SingleFile);
  check(with_conv_in_channels(diffusers_folder("sd15", {"unet", "vae", "text_encoder"}), "unet.conv_in.weight", 9),
        ModelFamily::SD1Inpaint, KeyLayout::Diffusers);
  check(with_conv_in_channels(key_list("sd21", "original_single_file.txt"),
                              "model.diffusion_model.input_blocks.0.0.weight", 9),
        ModelFamily::SD2Inpaint, KeyLayout::SingleFile);
  check(with_conv_in_channels(key_list("sd21", "diffusers_unet.txt"), "conv_in.weight", 9), ModelFamily::SD2Inpaint,
        KeyLayout::Diffusers);
}

TEST_CASE("SDXL refiner: cross-attention 1280, addition embedding 2560") {
  const auto refiner = [](const TensorIndex& index, const std::string& add_embedding) {
    return edited(with_context_dim(index, 1280), [&](TensorEntry& e) {
      if (e.name == add_embedding) e.shape[1] = 2560;
      return true;
    });
  };
  check(refiner(key_list("sdxl_base", "diffusers_unet.txt"), "add_embedding.linear_1.weight"), ModelFamily::SDXLRefiner,
        KeyLayout::Diffusers);
  check(refiner(key_list("sdxl_base", "original_single_file.txt"), "model.diffusion_model.label_emb.0.0.weight"),
        ModelFamily::SDXLRefiner, KeyLayout::SingleFile);
}

TEST_CASE("ControlNets") {
  const TensorIndex diffusers = key_list("controlnet_sd15", "diffusers_controlnet.txt");
  const TensorIndex original = key_list("controlnet_sd15", "original_single_file.txt");
  SUBCASE("SD 1.5, every naming") {
    check(diffusers, ModelFamily::ControlNetSD1, KeyLayout::Diffusers);
    TensorIndex folder;
    folder.merge(diffusers, "controlnet.");
    check(folder, ModelFamily::ControlNetSD1, KeyLayout::Diffusers);
    check(original, ModelFamily::ControlNetSD1, KeyLayout::SingleFile);
    // lllyasviel's ControlNet 1.1 .pth files: bare input_hint_block, zero_convs, input_blocks.
    check(original.with_prefix("control_model."), ModelFamily::ControlNetSD1, KeyLayout::SingleFile);
  }
  SUBCASE("SD 2.x: cross-attention 1024") {
    check(with_context_dim(diffusers, 1024), ModelFamily::ControlNetSD2, KeyLayout::Diffusers);
    check(with_context_dim(original, 1024), ModelFamily::ControlNetSD2, KeyLayout::SingleFile);
  }
  SUBCASE("SDXL: the UNet's encoder half and addition embedding, plus the ControlNet heads") {
    // diffusers' ControlNetModel.from_unet copies conv_in, time/add embeddings, down and mid blocks.
    TensorIndex sdxl = edited(key_list("sdxl_base", "diffusers_unet.txt"), [](TensorEntry& e) {
      for (const char* keep : {"conv_in.", "time_embedding.", "add_embedding.", "down_blocks.", "mid_block."}) {
        if (e.name.starts_with(keep)) return true;
      }
      return false;
    });
    sdxl.add(entry("controlnet_cond_embedding.conv_in.weight", {16, 3, 3, 3}));
    sdxl.add(entry("controlnet_cond_embedding.conv_out.weight", {320, 256, 3, 3}));
    sdxl.add(entry("controlnet_down_blocks.0.weight", {320, 320, 1, 1}));
    sdxl.add(entry("controlnet_mid_block.weight", {1280, 1280, 1, 1}));
    check(sdxl, ModelFamily::ControlNetSDXL, KeyLayout::Diffusers);
  }
  SUBCASE("a full SD checkpoint with a ControlNet inside is the pipeline") {
    TensorIndex both = key_list("sd15", "original_single_file.txt");
    both.merge(original);
    check(both, ModelFamily::SD1, KeyLayout::SingleFile);
  }
}

TEST_CASE("standalone VAEs") {
  check(key_list("sd15", "diffusers_vae.txt"), ModelFamily::VAE, KeyLayout::Diffusers);
  check(diffusers_folder("sdxl_base", {"vae"}), ModelFamily::VAE, KeyLayout::Diffusers);
  const TensorIndex single = key_list("sd15", "original_single_file.txt");
  // vae-ft-mse-840000-ema-pruned style: original names without prefix, or with first_stage_model.
  check(single.with_prefix("first_stage_model."), ModelFamily::VAE, KeyLayout::SingleFile);
  check(single.with_prefix("first_stage_model.", "first_stage_model."), ModelFamily::VAE, KeyLayout::SingleFile);
}

TEST_CASE("standalone text encoders") {
  check(key_list("sd15", "diffusers_text_encoder.txt"), ModelFamily::TextEncoder, KeyLayout::Diffusers);
  check(diffusers_folder("sdxl_base", {"text_encoder", "text_encoder_2"}), ModelFamily::TextEncoder,
        KeyLayout::Diffusers);
  // SD 2.x's OpenCLIP ViT-H in its own names.
  const TensorIndex open_clip = key_list("sd21", "original_single_file.txt").with_prefix("cond_stage_model.model.");
  check(open_clip, ModelFamily::TextEncoder, KeyLayout::SingleFile);
  const FamilyDetection d = detect_family(open_clip);
  CHECK(joined(d.evidence).find("OpenCLIP text encoder, width 1024 (token_embedding.weight [49408, 1024])") !=
        std::string::npos);
}

TEST_CASE("the tiny SD 1.x pipeline (cross-attention 32) is SD 1.x by its conv proj_in") {
  const fs::path tiny = kiln::test::data_dir() / "golden" / "pipeline" / "tiny_sd1";
  TensorIndex folder;
  folder.merge(safetensors_index(tiny / "unet" / "diffusion_pytorch_model.safetensors"), "unet.");
  folder.merge(safetensors_index(tiny / "vae" / "diffusion_pytorch_model.safetensors"), "vae.");
  folder.merge(safetensors_index(tiny / "text_encoder" / "model.safetensors"), "text_encoder.");
  check(folder, ModelFamily::SD1, KeyLayout::Diffusers);
  check(safetensors_index(tiny / "unet" / "diffusion_pytorch_model.safetensors"), ModelFamily::SD1,
        KeyLayout::Diffusers);
  const FamilyDetection single = detect_family(safetensors_index(tiny.parent_path() / "tiny_sd1.safetensors"));
  CHECK(single.family == ModelFamily::SD1);
  CHECK(single.layout == KeyLayout::SingleFile);
  CHECK(joined(single.evidence).find("1x1-conv proj_in as SD 1.x has") != std::string::npos);

  // The same widths with SD 2.x's linear proj_in, and a tiny ControlNet with either.
  const auto linear_proj_in = [](TensorEntry& e) {
    if (ends_with(e.name, ".proj_in.weight") || ends_with(e.name, ".proj_out.weight")) e.shape.resize(2);
    return true;
  };
  check(edited(folder, linear_proj_in), ModelFamily::SD2, KeyLayout::Diffusers);
  TensorIndex controlnet = edited(folder.with_prefix("unet."), [](TensorEntry& e) {
    return e.name.starts_with("conv_in.") || e.name.starts_with("down_blocks.") || e.name.starts_with("mid_block.");
  });
  controlnet.add(entry("controlnet_cond_embedding.conv_in.weight", {8, 3, 3, 3}));
  check(controlnet, ModelFamily::ControlNetSD1, KeyLayout::Diffusers);
  check(edited(controlnet, linear_proj_in), ModelFamily::ControlNetSD2, KeyLayout::Diffusers);
}

TEST_CASE("LoRAs from the synthesised key lists") {
  struct Case {
    const char* file;
    ModelFamily family;
    KeyLayout layout;
    const char* evidence;
  };
  const Case cases[] = {
      {"kohya_sd1.txt", ModelFamily::LoRASD1, KeyLayout::SingleFile, "cross-attention input 768"},
      {"kohya_sd2.txt", ModelFamily::LoRASD2, KeyLayout::SingleFile, "cross-attention input 1024"},
      {"kohya_sdxl.txt", ModelFamily::LoRASDXL, KeyLayout::SingleFile, "cross-attention input 2048"},
      {"kohya_sdxl_unet_self_attn.txt", ModelFamily::LoRASDXL, KeyLayout::SingleFile, "stacked transformer blocks"},
      {"kohya_unknown_base.txt", ModelFamily::LoRASD1, KeyLayout::SingleFile, "SD 1.x assumed"},
      {"te_only_sd1.txt", ModelFamily::LoRASD1, KeyLayout::SingleFile, "text encoder width 768"},
      {"loha_sd1.txt", ModelFamily::LoRASD1, KeyLayout::SingleFile, "cross-attention input 768"},
      {"peft_sd1.txt", ModelFamily::LoRASD1, KeyLayout::Diffusers, "cross-attention input 768"},
      {"peft_base_model_sd2.txt", ModelFamily::LoRASD2, KeyLayout::Diffusers, "cross-attention input 1024"},
      {"peft_te_only_sd2.txt", ModelFamily::LoRASD2, KeyLayout::Diffusers, "text encoder width 1024"},
      {"diffusers_old_sdxl.txt", ModelFamily::LoRASDXL, KeyLayout::Diffusers, "cross-attention input 2048"},
      {"attn_procs_sd1.txt", ModelFamily::LoRASD1, KeyLayout::Diffusers, "cross-attention input 768"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const FamilyDetection d = detect_family(kiln::test::read_key_list(kiln::test::data_dir() / "lora" / c.file));
    INFO(joined(d.evidence));
    CHECK(to_string(d.family) == to_string(c.family));
    CHECK(to_string(d.layout) == to_string(c.layout));
    CHECK(joined(d.evidence).find(c.evidence) != std::string::npos);
  }
}

TEST_CASE("SDXL LoRA text encoders alone: te2 or kohya's te1 naming") {
  const TensorIndex sdxl = kiln::test::read_key_list(kiln::test::data_dir() / "lora" / "kohya_sdxl.txt");
  check(sdxl.with_prefix("lora_te1_", "lora_te1_"), ModelFamily::LoRASDXL, KeyLayout::SingleFile);
  const TensorIndex old = kiln::test::read_key_list(kiln::test::data_dir() / "lora" / "diffusers_old_sdxl.txt");
  check(old.with_prefix("text_encoder", "text_encoder"), ModelFamily::LoRASDXL, KeyLayout::Diffusers);
}

TEST_CASE("unrecognised and empty indexes throw FormatError") {
  TensorIndex unrelated;
  for (const char* name : {"backbone.stem.weight", "backbone.layer1.0.conv1.weight", "head.fc.weight", "head.fc.bias",
                           "head.norm.weight", "head.norm.bias"}) {
    unrelated.add(entry(name, {8, 8}));
  }
  try {
    detect_family(unrelated, "/models/resnet.safetensors");
    FAIL("expected a FormatError");
  } catch (const kiln::FormatError& e) {
    const std::string m = e.message();
    CHECK(
        m.starts_with("not a Stable Diffusion model: none of the keys Kiln looks for were found (looked for: "
                      "model.diffusion_model.input_blocks.0.0.weight, unet.conv_in.weight"));
    CHECK(m.find("lora_unet_*") != std::string::npos);
    CHECK(m.find("text_model.embeddings.token_embedding.weight") != std::string::npos);
    CHECK(
        m.ends_with("first keys in the file: backbone.stem.weight, backbone.layer1.0.conv1.weight, "
                    "head.fc.weight, head.fc.bias, head.norm.weight, ... (6 tensors)"));
    CHECK(e.path() == fs::path("/models/resnet.safetensors"));
  }
  try {
    detect_family(TensorIndex{}, "/models/empty.safetensors");
    FAIL("expected a FormatError");
  } catch (const kiln::FormatError& e) {
    CHECK(e.message() == "the file holds no tensors");
    CHECK(e.path() == fs::path("/models/empty.safetensors"));
  }
}
