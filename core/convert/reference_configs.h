#pragma once
// The hub configs of the reference models, for single files (which carry none): what the
// diffusers folders on the Hugging Face hub hold, file by file.
//
//   SD 1.x          runwayml/stable-diffusion-v1-5 (unet, vae, text_encoder, scheduler: PNDM)
//   SD 1.x inpaint  runwayml/stable-diffusion-inpainting (unet in_channels 9, scheduler: DDIM)
//   SD 2.x          stabilityai/stable-diffusion-2-1 (768, v_prediction: upcast_attention,
//                   scheduler DDIM) or stable-diffusion-2-1-base (512, epsilon, PNDM); the text
//                   encoder is OpenCLIP ViT-H as diffusers keeps it (23 layers, gelu, hidden 1024)
//   SD 2.x inpaint  stabilityai/stable-diffusion-2-inpainting (unet in_channels 9)
//   SDXL            stabilityai/stable-diffusion-xl-base-1.0 (vae scaling 0.13025 + force_upcast,
//                   text_encoder ViT-L, text_encoder_2 bigG with projection, scheduler Euler)
//   ControlNet 1.5  lllyasviel/control_v11p_sd15_* (ControlNetModel)
//
// Deliberate differences from the hub files, each because the hub file is known wrong or
// names something a converted folder does not have:
//   - model_index.json is the one diffusers writes for a pipeline saved without safety checker
//     (safety_checker / feature_extractor / image_encoder [null, null]): converted folders have
//     no safety checker, and a model_index naming one would not load.
//   - the inpainting UNets say sample_size 32 on the hub; diffusers itself replaces that by 64
//     when loading (its "sample_size < 64" deprecation), so 64 is written.
//   - tokenizer_config.json / special_tokens_map.json are transformers' current spelling of the
//     hub files (as golden/tokenizer/hf and hf_sd2: pad "<|endoftext|>" for CLIP ViT-L, "!" for
//     the OpenCLIP tokenizers of SD 2.x and SDXL's tokenizer_2).

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "convert/model_family.h"
#include "convert/prediction_type.h"
#include "io/tensor_index.h"

namespace kiln::convert {

// The pipeline components of a family's diffusers folder, in model_index order (model_index
// itself is not listed): e.g. SD 1.x {"scheduler", "text_encoder", "tokenizer", "unet", "vae"};
// ControlNets {"controlnet"} (a single-component folder). Empty for families without reference
// configs (SDXL refiner, SD 2.x / SDXL ControlNets, LoRAs, lone VAEs and text encoders).
std::vector<std::string> reference_components(ModelFamily family);

// The config of one component: "unet", "vae", "text_encoder", "text_encoder_2", "controlnet"
// (config.json), "scheduler" (scheduler_config.json), "tokenizer", "tokenizer_2"
// (tokenizer_config.json) or "model_index" (model_index.json).
//
// `prediction` picks the SD 2.x variant (VPrediction or Unknown: 2.1 768, as diffusers' own
// single-file loader assumes; Epsilon: 2.1-base 512) and, for every family, sets the scheduler's
// prediction_type when it differs from the hub model's. Throws kiln::InvalidRequestError naming
// the family and component when there is no such reference.
nlohmann::json reference_config(ModelFamily family, const std::string& component,
                                PredictionType prediction = PredictionType::Unknown);

// special_tokens_map.json of a reference tokenizer ("tokenizer" or "tokenizer_2").
nlohmann::json reference_special_tokens_map(ModelFamily family, const std::string& tokenizer_component);

// The diffusers/transformers library and class of a component as model_index.json names them,
// e.g. {"diffusers", "UNet2DConditionModel"}; {"", ""} for an unknown component. The scheduler's
// class depends on `prediction` for SD 2.x (DDIM for 2.1 768, PNDM for 2.1-base).
std::pair<std::string, std::string> reference_component_class(ModelFamily family, const std::string& component,
                                                              PredictionType prediction = PredictionType::Unknown);

// Throws kiln::WeightMismatchError when `config` of `component` ("unet", "controlnet", "vae",
// "text_encoder", "text_encoder_2") contradicts the shapes of its diffusers-named weights: UNet
// in_channels, block_out_channels[0], the number of down blocks and cross_attention_dim; the VAE's
// latent channels and first block; the text encoder's hidden size, vocabulary, layer count and
// projection. Fields the config lacks are not checked. `source` names the config in the message.
void check_config_against_weights(const std::string& component, const nlohmann::json& config,
                                  const io::TensorIndex& weights, const std::string& source);

}  // namespace kiln::convert
