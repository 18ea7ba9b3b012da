#include "pipelines/model_loading.h"

#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/python_json.h"
#include "convert/reference_configs.h"
#include "convert/text_encoder_keys.h"
#include "convert/unet_keys.h"
#include "convert/vae_keys.h"
#include "io/diffusers_folder.h"
#include "io/weight_file.h"
#include "models/weight_loading.h"

namespace fs = std::filesystem;

namespace kiln::pipelines {

namespace {

using convert::ModelFamily;

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open the config", path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(sanitize_python_json(text.str()));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("invalid JSON: ") + e.what(), path);
  }
}

// The config of one component of a single file: from the caller's diffusers folder, else the
// family's reference.
nlohmann::json component_config(ModelFamily family, const std::string& component, convert::PredictionType prediction,
                                const fs::path& config_dir) {
  if (config_dir.empty()) return convert::reference_config(family, component, prediction);
  const std::string name = component == "scheduler" ? "scheduler_config.json" : "config.json";
  fs::path file = config_dir / component / name;
  // A single-component folder (a ControlNet's) holds config.json at its root.
  if (!fs::exists(file) && fs::exists(config_dir / name)) file = config_dir / name;
  if (!fs::exists(file)) {
    throw FileError("the config folder has no " + component + " config", config_dir,
                    "expected " + (fs::path(component) / name).string());
  }
  return read_json(file);
}

// Loads a module made unfilled (models::make_unfilled): its parameters are allocated on the
// requested device and dtype, its buffers moved there, then every tensor is copied in, converted.
void load_module(torch::nn::Module& module, const models::NamedTensorList& tensors, const std::string& name,
                 const fs::path& source, const ModelLoadOptions& options) {
  models::reallocate_parameters(module, torch::TensorOptions().device(options.device).dtype(options.dtype));
  module.to(options.device, options.dtype);
  models::WeightLoadOptions load;
  load.model_name = name;
  load.source = source;
  models::load_weights(module, tensors, load);
  module.eval();
}

const io::DiffusersComponent& require_component(const io::DiffusersFolder& folder, const std::string& name) {
  const io::DiffusersComponent* c = folder.component(name);
  if (!c) throw FormatError("the model folder has no " + name + " component", folder.root());
  if (name != "tokenizer" && name != "tokenizer_2" && name != "scheduler" && !c->has_weights())
    throw FormatError("the " + name + " component has no weights", c->folder);
  return *c;
}

bool is_generation_family(ModelFamily family) {
  switch (family) {
    case ModelFamily::SD1:
    case ModelFamily::SD2:
    case ModelFamily::SDXL:
    case ModelFamily::SD1Inpaint:
    case ModelFamily::SD2Inpaint:
      return true;
    default:
      return false;
  }
}

void require_generation_family(ModelFamily family, const fs::path& path) {
  if (is_generation_family(family)) return;
  throw InvalidRequestError("\"" + path.filename().string() + "\" is a " + std::string(convert::display_name(family)) +
                                " model, not a model that generates images",
                            "choose an SD 1.x, SD 2.x or SDXL checkpoint (LoRAs, VAEs and ControlNets are added to "
                            "one; the SDXL refiner is not supported yet)");
}

// Prediction type: the caller's override, else what the model says, else the reference
// scheduler's (epsilon, except SD 2.x 768 v_prediction).
void resolve_prediction(StableDiffusionModel& model, const ModelLoadOptions& options,
                        const std::map<std::string, std::string>& metadata) {
  if (options.prediction_type && *options.prediction_type != convert::PredictionType::Unknown) {
    model.prediction_type = *options.prediction_type;
    model.prediction_source = "requested";
  } else {
    const convert::PredictionTypeSource found = convert::detect_prediction_type(model.source, metadata);
    if (found.type != convert::PredictionType::Unknown) {
      model.prediction_type = found.type;
      model.prediction_source = found.source;
    } else {
      const std::string p = model.scheduler_config.value("prediction_type", std::string("epsilon"));
      model.prediction_type = p == "v_prediction" ? convert::PredictionType::VPrediction : convert::PredictionType::Epsilon;
      model.prediction_source = "the " + std::string(convert::display_name(model.family)) + " default";
    }
  }
  model.scheduler_config["prediction_type"] = std::string(convert::to_string(model.prediction_type));
}

std::shared_ptr<const text::CLIPTokenizer> tokenizer_from(const fs::path& folder) {
  return std::make_shared<const text::CLIPTokenizer>(text::CLIPTokenizer::from_folder(folder));
}

void load_from_folder(StableDiffusionModel& model, const ModelLoadOptions& options) {
  const io::DiffusersFolder folder = io::DiffusersFolder::open(model.source);
  if (!folder.is_pipeline()) {
    throw InvalidRequestError("\"" + model.source.filename().string() + "\" is a single component folder, not a whole model",
                              "choose the folder that holds model_index.json");
  }
  const convert::FamilyDetection detected = convert::detect_family(folder.combined_index(), model.source);
  model.family = detected.family;
  model.layout = convert::KeyLayout::Diffusers;
  require_generation_family(model.family, model.source);

  const io::DiffusersComponent& scheduler = require_component(folder, "scheduler");
  model.scheduler_config = scheduler.config;
  resolve_prediction(model, options, {});

  const io::DiffusersComponent& tokenizer = require_component(folder, "tokenizer");
  model.tokenizer = tokenizer_from(tokenizer.folder);

  const io::DiffusersComponent& te = require_component(folder, "text_encoder");
  model.text_encoder = models::make_unfilled<models::CLIPTextModel>(models::CLIPTextConfig::from_json(te.config, te.config_file));
  load_module(*model.text_encoder, folder.tensors(te.name), "CLIPTextModel text_encoder", te.folder, options);
  if (folder.component("text_encoder_2")) {
    const io::DiffusersComponent& te2 = require_component(folder, "text_encoder_2");
    model.text_encoder_2 = models::make_unfilled<models::CLIPTextModel>(models::CLIPTextConfig::from_json(te2.config, te2.config_file));
    load_module(*model.text_encoder_2, folder.tensors(te2.name), "CLIPTextModelWithProjection text_encoder_2",
                te2.folder, options);
  }
  const io::DiffusersComponent& unet = require_component(folder, "unet");
  model.unet = models::make_unfilled<models::UNet2DConditionModel>(models::UNet2DConditionConfig::from_json(unet.config, unet.config_file));
  load_module(*model.unet, folder.tensors(unet.name), "UNet2DConditionModel", unet.folder, options);
  const io::DiffusersComponent& vae = require_component(folder, "vae");
  model.vae = models::make_unfilled<models::AutoencoderKL>(models::AutoencoderKLConfig::from_json(vae.config, vae.config_file));
  load_module(*model.vae, folder.tensors(vae.name), "AutoencoderKL", vae.folder, options);
}

void load_from_single_file(StableDiffusionModel& model, const ModelLoadOptions& options) {
  const std::unique_ptr<io::WeightFile> file = io::open_weight_file(model.source);
  const convert::FamilyDetection detected = convert::detect_family(file->index(), model.source);
  model.family = detected.family;
  model.layout = convert::KeyLayout::SingleFile;
  require_generation_family(model.family, model.source);
  if (detected.layout != convert::KeyLayout::SingleFile) {
    throw FormatError("expected the original single-file names (model.diffusion_model.*)", model.source,
                      "a lone diffusers component is not a whole model");
  }
  // The prediction type picks the reference configs (SD 2.x 512 vs 768), so resolve it first
  // with a provisional scheduler config.
  const convert::PredictionTypeSource said = convert::detect_prediction_type(model.source, file->metadata());
  convert::PredictionType prediction = options.prediction_type.value_or(said.type);
  const auto config = [&](const std::string& component) {
    return component_config(model.family, component, prediction, options.config_dir);
  };
  model.scheduler_config = config("scheduler");
  resolve_prediction(model, options, file->metadata());
  prediction = model.prediction_type;

  if (!options.config_dir.empty() && fs::exists(options.config_dir / "tokenizer" / "vocab.json")) {
    model.tokenizer = tokenizer_from(options.config_dir / "tokenizer");
  } else if (!options.tokenizer_dir.empty()) {
    model.tokenizer = tokenizer_from(options.tokenizer_dir);
  } else {
    throw InvalidRequestError("no CLIP vocabulary to tokenize prompts for a single-file model",
                              "pass the folder holding vocab.json and merges.txt (Kiln installs one)");
  }
  const auto fetch = [&](const std::string& name) { return file->tensor(name); };

  for (const convert::SingleFileTextEncoder& encoder : convert::single_file_text_encoders(model.family)) {
    auto te = models::make_unfilled<models::CLIPTextModel>(models::CLIPTextConfig::from_json(config(encoder.component)));
    load_module(*te, convert::text_encoder_tensors(*file, encoder),
                (encoder.with_projection ? "CLIPTextModelWithProjection " : "CLIPTextModel ") + encoder.component,
                model.source, options);
    (encoder.component == "text_encoder_2" ? model.text_encoder_2 : model.text_encoder) = te;
  }
  if (!model.text_encoder) throw FormatError("the file holds no text encoder", model.source);

  model.unet = models::make_unfilled<models::UNet2DConditionModel>(models::UNet2DConditionConfig::from_json(config("unet")));
  load_module(*model.unet,
              convert::to_diffusers_tensors(convert::unet_key_map_from_original(file->index(), convert::kUNetPrefix), fetch),
              "UNet2DConditionModel", model.source, options);
  model.vae = models::make_unfilled<models::AutoencoderKL>(models::AutoencoderKLConfig::from_json(config("vae")));
  load_module(*model.vae,
              convert::to_diffusers_tensors(convert::vae_key_map_from_original(file->index(), convert::kVaePrefix), fetch),
              "AutoencoderKL", model.source, options);
}

}  // namespace

bool StableDiffusionModel::is_inpainting() const { return unet && unet->config().in_channels == 9; }

void attach_taesd(StableDiffusionModel& model, const fs::path& path) {
  if (path.empty()) {
    model.taesd = nullptr;
    model.taesd_source.clear();
    return;
  }
  models::AutoencoderTinyFile file = models::load_autoencoder_tiny(path);
  const bool sdxl = model.is_sdxl();
  if ((file.variant == "taesdxl" && !sdxl) || (file.variant == "taesd" && sdxl)) {
    throw InvalidRequestError(path.filename().string() + " is " + (file.variant == "taesdxl" ? "TAESDXL" : "TAESD") +
                                  ", made for " + (sdxl ? "SD 1.x / 2.x" : "SDXL") + " latents; this model is " +
                                  (sdxl ? "SDXL" : "SD 1.x / 2.x"),
                              sdxl ? "choose taesdxl_decoder" : "choose taesd_decoder");
  }
  const std::int64_t channels = model.vae ? model.vae->config().latent_channels : 4;
  if (file.model->config().latent_channels != channels) {
    throw InvalidRequestError(path.filename().string() + " decodes " + std::to_string(file.model->config().latent_channels) +
                              " latent channels; this model has " + std::to_string(channels));
  }
  if (model.vae) file.model->to(model.vae->device(), model.vae->dtype());
  // As the VAE: channels-last convolutions on the CPU (a 512x512 TAESD decode 8 % faster, bench_taesd).
  if (!model.vae || model.vae->device().is_cpu()) models::use_channels_last(*file.model);
  model.taesd = file.model;
  model.taesd_source = path;
}

void check_device_dtype(const torch::Device& device, torch::Dtype dtype) {
  if (dtype != torch::kFloat && dtype != torch::kHalf && dtype != torch::kBFloat16) {
    throw InvalidRequestError("unsupported model dtype", "use fp32, fp16 (CUDA) or bf16");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw InvalidRequestError("device cuda was requested but no CUDA device is available",
                              "use --device cpu, or check the NVIDIA driver");
  }
  if (device.is_cpu() && dtype == torch::kHalf) {
    throw InvalidRequestError("fp16 needs a CUDA device: LibTorch's CPU kernels have no fp16 convolutions",
                              "use fp32 or bf16 on the CPU");
  }
}

StableDiffusionModel load_stable_diffusion(const fs::path& path, const ModelLoadOptions& options) {
  check_device_dtype(options.device, options.dtype);
  if (!fs::exists(path)) throw FileError("no such file or folder", path);
  StableDiffusionModel model;
  model.source = path;
  if (fs::is_directory(path)) {
    load_from_folder(model, options);
  } else {
    load_from_single_file(model, options);
  }
  // The VAE works on 512x512 and larger images, where oneDNN's NHWC convolutions avoid a layout
  // reorder per call (11-18 % faster decodes on the CPU). The UNet's 64x64 latents gain nothing
  // measurable, and CUDA has not been measured: both stay as loaded.
  if (options.device.is_cpu()) models::use_channels_last(*model.vae);
  return model;
}

LoadedControlNet load_controlnet_model(const fs::path& path, const ModelLoadOptions& options) {
  check_device_dtype(options.device, options.dtype);
  if (!fs::exists(path)) throw FileError("no such file or folder", path);
  LoadedControlNet loaded;
  loaded.source = path;
  if (fs::is_directory(path)) {
    const io::DiffusersFolder folder = io::DiffusersFolder::open(path);
    if (folder.is_pipeline()) throw FormatError("expected a ControlNet folder (config.json + weights)", path);
    const io::DiffusersComponent& c = folder.components().front();
    loaded.family = convert::detect_family(folder.combined_index(), path).family;
    if (loaded.family != ModelFamily::ControlNetSD1 && loaded.family != ModelFamily::ControlNetSD2 &&
        loaded.family != ModelFamily::ControlNetSDXL)
      throw InvalidRequestError("\"" + path.filename().string() + "\" is not a ControlNet",
                                "it holds a " + std::string(convert::display_name(loaded.family)) + " model");
    loaded.model = models::make_unfilled<models::ControlNetModel>(models::ControlNetConfig::from_json(c.config, c.config_file));
    load_module(*loaded.model, folder.tensors(c.name), "ControlNetModel", c.folder, options);
    return loaded;
  }
  const std::unique_ptr<io::WeightFile> file = io::open_weight_file(path);
  loaded.family = convert::detect_family(file->index(), path).family;
  if (loaded.family != ModelFamily::ControlNetSD1 && loaded.family != ModelFamily::ControlNetSD2 &&
      loaded.family != ModelFamily::ControlNetSDXL)
    throw InvalidRequestError("\"" + path.filename().string() + "\" is not a ControlNet",
                              "it holds a " + std::string(convert::display_name(loaded.family)) + " model");
  const nlohmann::json config = component_config(loaded.family, "controlnet", convert::PredictionType::Unknown,
                                                 options.config_dir);
  loaded.model = models::make_unfilled<models::ControlNetModel>(models::ControlNetConfig::from_json(config));
  const auto fetch = [&](const std::string& name) { return file->tensor(name); };
  load_module(*loaded.model,
              convert::to_diffusers_tensors(
                  convert::controlnet_key_map_from_original(file->index(), convert::kControlNetPrefix), fetch),
              "ControlNetModel", path, options);
  return loaded;
}

bool controlnet_fits(ModelFamily controlnet, ModelFamily base) {
  switch (controlnet) {
    case ModelFamily::ControlNetSD1:
      return base == ModelFamily::SD1 || base == ModelFamily::SD1Inpaint;
    case ModelFamily::ControlNetSD2:
      return base == ModelFamily::SD2 || base == ModelFamily::SD2Inpaint;
    case ModelFamily::ControlNetSDXL:
      return base == ModelFamily::SDXL;
    default:
      return false;
  }
}

}  // namespace kiln::pipelines
