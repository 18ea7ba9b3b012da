// A diffusers component config.json (Python's JSON: NaN, Infinity): read as the model loaders
// read it, then validated into the UNet, VAE, text encoder and ControlNet configs. Every
// refusal must be a kiln::Error (the loaders turn a JSON error into a FormatError).
#include <nlohmann/json.hpp>

#include "base/python_json.h"
#include "fuzz_util.h"
#include "models/autoencoder_kl.h"
#include "models/clip_text_model.h"
#include "models/controlnet_model.h"
#include "models/unet_2d_condition.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(kiln::sanitize_python_json(kiln::fuzz::text(data, size)));
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  using namespace kiln::models;
  kiln::fuzz::expect_kiln_errors_only([&] { (void)UNet2DConditionConfig::from_json(config, "unet/config.json"); });
  kiln::fuzz::expect_kiln_errors_only([&] { (void)AutoencoderKLConfig::from_json(config, "vae/config.json"); });
  kiln::fuzz::expect_kiln_errors_only([&] { (void)CLIPTextConfig::from_json(config, "text_encoder/config.json"); });
  kiln::fuzz::expect_kiln_errors_only([&] { (void)ControlNetConfig::from_json(config, "controlnet/config.json"); });
  return 0;
}
