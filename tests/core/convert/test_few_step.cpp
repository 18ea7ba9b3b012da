// Few-step models and LoRAs recognised from metadata, file names and (for generic file names)
// their folder, with the publishers' settings; ordinary names are left alone.
#include <doctest/doctest.h>

#include "convert/few_step.h"

using kiln::convert::detect_few_step;
using kiln::convert::FewStepKind;

TEST_CASE("LCM, Turbo, Lightning, Hyper-SD and TCD files are recognised by name with their settings") {
  struct Case {
    const char* path;
    FewStepKind kind;
    const char* sampler;
    int steps;
    double cfg;
  };
  const Case cases[] = {
      {"/m/Lora/lcm-lora-sdv1-5.safetensors", FewStepKind::LCM, "LCM", 4, 1.5},
      {"/m/Lora/lcm_lora_sdxl.safetensors", FewStepKind::LCM, "LCM", 4, 1.5},
      {"/m/LCM_Dreamshaper_v7.safetensors", FewStepKind::LCM, "LCM", 4, 1.5},
      {"/m/sd_xl_turbo_1.0_fp16.safetensors", FewStepKind::Turbo, "Euler a Trailing", 1, 1.0},
      {"/m/sd_turbo.safetensors", FewStepKind::Turbo, "Euler a Trailing", 1, 1.0},
      {"/m/sdxl_lightning_4step_lora.safetensors", FewStepKind::Lightning, "Euler Trailing", 4, 1.0},
      {"/m/sdxl_lightning_8step_unet.safetensors", FewStepKind::Lightning, "Euler Trailing", 8, 1.0},
      {"/m/Hyper-SD15-8steps-lora.safetensors", FewStepKind::HyperSD, "Euler Trailing", 8, 1.0},
      {"/m/Hyper-SDXL-1step-Unet.safetensors", FewStepKind::HyperSD, "TCD", 1, 1.0},
      {"/m/Hyper-SDXL-8steps-CFG-lora.safetensors", FewStepKind::HyperSD, "Euler Trailing", 8, 5.0},
      {"/m/TCD-SD15-LoRA.safetensors", FewStepKind::TCD, "TCD", 4, 1.0},
      // A generic diffusers name: the folder tells.
      {"/m/latent-consistency/lcm-lora-sdxl/pytorch_lora_weights.safetensors", FewStepKind::LCM, "LCM", 4, 1.5},
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    const auto r = detect_few_step(c.path);
    REQUIRE(r);
    CHECK(r->kind == c.kind);
    CHECK(r->sampler == c.sampler);
    CHECK(r->steps == c.steps);
    CHECK(r->cfg == c.cfg);
    CHECK_FALSE(r->reason.empty());
  }
  CHECK(detect_few_step("/m/lcm_lora_sdxl.safetensors")->reason == "the name \"lcm_lora_sdxl.safetensors\" says LCM");
  CHECK(detect_few_step("/m/x/lcm-lora-sdv1-5/pytorch_lora_weights.safetensors")->reason ==
        "the folder name \"lcm-lora-sdv1-5\" says LCM");
}

TEST_CASE("metadata is read before the name; ordinary models and look-alike words are not few-step") {
  const auto r = detect_few_step("/m/my_model.safetensors", {{"modelspec.title", "SDXL Turbo"}});
  REQUIRE(r);
  CHECK(r->kind == FewStepKind::Turbo);
  CHECK(r->reason == "its metadata's modelspec.title \"SDXL Turbo\" says SDXL-Turbo");
  CHECK(r->source == kiln::convert::FewStepRecommendation::Source::Metadata);
  CHECK(r->metadata_key == "modelspec.title");
  CHECK(r->evidence == "SDXL Turbo");
  const auto folder = detect_few_step("/m/x/lcm-lora-sdv1-5/pytorch_lora_weights.safetensors");
  CHECK(folder->source == kiln::convert::FewStepRecommendation::Source::FolderName);
  CHECK(folder->evidence == "lcm-lora-sdv1-5");
  CHECK(detect_few_step("/m/x.safetensors", {{"ss_output_name", "my_lcm_style"}})->kind == FewStepKind::LCM);

  for (const char* path : {"/m/v1-5-pruned-emaonly.safetensors", "/m/talcman_portrait.safetensors",
                           "/m/turbocharged_cars.safetensors", "/m/Lora/film_grain.safetensors",
                           "/m/lightningbolt.safetensors",
                           // a generic name in an ordinary folder
                           "/m/my-style/pytorch_lora_weights.safetensors"}) {
    CAPTURE(path);
    CHECK_FALSE(detect_few_step(path));
  }
  // A telling folder does not override a file's own ordinary name.
  CHECK_FALSE(detect_few_step("/m/lcm-stuff/portrait_v2.safetensors"));
}
