#pragma once
// Loading a whole Stable Diffusion model (and ControlNets) for generation, from a diffusers folder
// or a single .safetensors/.ckpt file. Single files carry no configs: they come from the family's
// reference configs (convert/reference_configs), or from a diffusers folder the caller names
// (config_dir) for models that are not the reference size (the golden tiny model). Original key
// names are translated at this edge (convert/*_keys); every component is loaded strictly, one
// report of every missing, unexpected and mis-shaped key per component.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "convert/model_family.h"
#include "convert/prediction_type.h"
#include "models/autoencoder_kl.h"
#include "models/autoencoder_tiny.h"
#include "models/clip_text_model.h"
#include "models/controlnet_model.h"
#include "models/unet_2d_condition.h"
#include "text/clip_tokenizer.h"

namespace kiln::pipelines {

struct ModelLoadOptions {
  torch::Device device{torch::kCPU};
  // The modules' dtype (weights of any float dtype are converted while loading). F16 needs CUDA:
  // LibTorch's CPU kernels have no fp16 convolutions.
  torch::Dtype dtype = torch::kFloat;
  // Single files: a diffusers folder whose component configs describe the file (else the
  // family's reference configs).
  std::filesystem::path config_dir;
  // vocab.json + merges.txt for models without a tokenizer folder (single files).
  std::filesystem::path tokenizer_dir;
  // Overrides what the model says (scheduler config, metadata, a .yaml beside the file).
  std::optional<convert::PredictionType> prediction_type;
};

struct StableDiffusionModel {
  std::filesystem::path source;
  convert::ModelFamily family = convert::ModelFamily::SD1;
  convert::KeyLayout layout = convert::KeyLayout::Diffusers;
  convert::PredictionType prediction_type = convert::PredictionType::Epsilon;
  std::string prediction_source;  // where prediction_type came from
  std::shared_ptr<const text::CLIPTokenizer> tokenizer;
  models::CLIPTextModel text_encoder{nullptr};    // SD 1.x/2.x, SDXL's CLIP ViT-L
  models::CLIPTextModel text_encoder_2{nullptr};  // SDXL's OpenCLIP bigG (with projection)
  models::UNet2DConditionModel unet{nullptr};
  models::AutoencoderKL vae{nullptr};
  nlohmann::json scheduler_config;  // diffusers scheduler_config.json, prediction_type resolved
  // Optional TAESD / TAESDXL (attach_taesd): live previews while sampling and "Fast decode".
  models::AutoencoderTiny taesd{nullptr};
  std::filesystem::path taesd_source;

  bool is_sdxl() const { return static_cast<bool>(text_encoder_2); }
  // 9-channel UNet: latents, mask, masked-image latents.
  bool is_inpainting() const;
};

// Loads a TAESD (models::load_autoencoder_tiny: a diffusers folder, madebyollin's decoder file,
// ComfyUI's file) onto the model's device and VAE dtype and attaches it to `model`. Refuses
// (InvalidRequestError) a TAESDXL for an SD 1.x/2.x model and a TAESD for SDXL when the file says
// which it is, and one whose latent channels differ from the VAE's. An empty path detaches it.
void attach_taesd(StableDiffusionModel& model, const std::filesystem::path& path);

// Throws kiln::FileError / FormatError / WeightMismatchError naming the file, or
// InvalidRequestError for a model that is not a generation model (LoRA, VAE, ControlNet, refiner)
// or an impossible device/dtype.
StableDiffusionModel load_stable_diffusion(const std::filesystem::path& path, const ModelLoadOptions& options = {});

struct LoadedControlNet {
  std::filesystem::path source;
  convert::ModelFamily family = convert::ModelFamily::ControlNetSD1;
  models::ControlNetModel model{nullptr};
};

// A ControlNet diffusers folder (config.json + weights) or an original single file
// (control_model.*). config_dir: a ControlNet folder whose config.json describes a single file.
LoadedControlNet load_controlnet_model(const std::filesystem::path& path, const ModelLoadOptions& options = {});

// Whether a ControlNet family conditions a base family (SD 1.x ControlNets on SD 1.x models, ...).
bool controlnet_fits(convert::ModelFamily controlnet, convert::ModelFamily base);

// Throws InvalidRequestError when the device/dtype pair cannot run here (no CUDA, fp16 on CPU).
void check_device_dtype(const torch::Device& device, torch::Dtype dtype);

}  // namespace kiln::pipelines
