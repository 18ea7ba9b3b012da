#include "models/autoencoder_tiny.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/weight_file.h"
#include "models/weight_loading.h"

namespace kiln::models {

namespace fs = std::filesystem;

namespace {

std::int64_t positive_int(const nlohmann::json& config, const char* key, std::int64_t fallback, const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 || it->get<std::int64_t>() > 4096) {
    throw FormatError(std::string("config field \"") + key + "\" must be a positive integer, got " + it->dump(), path);
  }
  return it->get<std::int64_t>();
}

std::vector<std::int64_t> int_list(const nlohmann::json& config, const char* key, std::vector<std::int64_t> fallback,
                                   const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_array() || it->empty() || it->size() > 8) {
    throw FormatError(std::string("config field \"") + key + "\" must be a list of 1 to 8 integers, got " + it->dump(),
                      path);
  }
  std::vector<std::int64_t> values;
  for (const auto& v : *it) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 4096) {
      throw FormatError(std::string("config field \"") + key + "\" must hold integers in [0, 4096], got " + it->dump(),
                        path);
    }
    values.push_back(v.get<std::int64_t>());
  }
  return values;
}

std::string string_field(const nlohmann::json& config, const char* key, const std::string& fallback, const fs::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw FormatError(std::string("config field \"") + key + "\" must be a string, got " + it->dump(), path);
  return it->get<std::string>();
}

Conv2d conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride = 1, bool bias = true) {
  return Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(bias));
}

}  // namespace

AutoencoderTinyConfig AutoencoderTinyConfig::from_json(const nlohmann::json& config, const fs::path& path) try {
  if (!config.is_object()) throw FormatError("AutoencoderTiny config is not a JSON object", path);
  AutoencoderTinyConfig c;
  c.in_channels = positive_int(config, "in_channels", c.in_channels, path);
  c.out_channels = positive_int(config, "out_channels", c.out_channels, path);
  c.latent_channels = positive_int(config, "latent_channels", c.latent_channels, path);
  c.encoder_block_out_channels = int_list(config, "encoder_block_out_channels", c.encoder_block_out_channels, path);
  c.decoder_block_out_channels = int_list(config, "decoder_block_out_channels", c.decoder_block_out_channels, path);
  c.num_encoder_blocks = int_list(config, "num_encoder_blocks", c.num_encoder_blocks, path);
  c.num_decoder_blocks = int_list(config, "num_decoder_blocks", c.num_decoder_blocks, path);
  c.upsampling_scaling_factor = positive_int(config, "upsampling_scaling_factor", c.upsampling_scaling_factor, path);
  if (c.encoder_block_out_channels.size() != c.num_encoder_blocks.size() ||
      c.decoder_block_out_channels.size() != c.num_decoder_blocks.size()) {
    throw FormatError("AutoencoderTiny config: the block channel and block count lists differ in length", path);
  }
  for (const auto* list : {&c.encoder_block_out_channels, &c.decoder_block_out_channels}) {
    if (std::any_of(list->begin(), list->end(), [](std::int64_t v) { return v <= 0; }))
      throw FormatError("AutoencoderTiny config: block channels must be positive", path);
  }
  const std::string act = string_field(config, "act_fn", "relu", path);
  if (act != "relu") throw FormatError("AutoencoderTiny config: unsupported act_fn \"" + act + "\" (Kiln has relu)", path);
  const std::string up = string_field(config, "upsample_fn", "nearest", path);
  if (up != "nearest") throw FormatError("AutoencoderTiny config: unsupported upsample_fn \"" + up + "\" (Kiln has nearest)", path);
  if (const auto it = config.find("scaling_factor"); it != config.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0)) {
      throw FormatError("config field \"scaling_factor\" must be a positive number, got " + it->dump(), path);
    }
    c.scaling_factor = it->get<double>();
  }
  return c;
} catch (const nlohmann::json::exception& e) {
  // A field of the wrong JSON type (a list where a string belongs, ...): a FormatError like the rest.
  throw FormatError(std::string("AutoencoderTinyConfig config: ") + e.what(), path);
}

TinyBlockImpl::TinyBlockImpl(std::int64_t channels) {
  conv = register_module("conv", torch::nn::Sequential(conv3x3(channels, channels), torch::nn::ReLU(),
                                                       conv3x3(channels, channels), torch::nn::ReLU(),
                                                       conv3x3(channels, channels)));
}

torch::Tensor TinyBlockImpl::forward(const torch::Tensor& x) { return torch::relu(conv->forward(x) + x); }

TinyEncoderImpl::TinyEncoderImpl(const AutoencoderTinyConfig& config) {
  torch::nn::Sequential seq;
  for (std::size_t i = 0; i < config.num_encoder_blocks.size(); ++i) {
    const std::int64_t channels = config.encoder_block_out_channels[i];
    if (i == 0) {
      seq->push_back(conv3x3(config.in_channels, channels));
    } else {
      seq->push_back(conv3x3(config.encoder_block_out_channels[i - 1], channels, 2, false));
    }
    for (std::int64_t b = 0; b < config.num_encoder_blocks[i]; ++b) seq->push_back(TinyBlock(channels));
  }
  seq->push_back(conv3x3(config.encoder_block_out_channels.back(), config.latent_channels));
  layers = register_module("layers", seq);
}

torch::Tensor TinyEncoderImpl::forward(const torch::Tensor& image) { return layers->forward(image.add(1).div(2)); }

TinyDecoderImpl::TinyDecoderImpl(const AutoencoderTinyConfig& config) {
  torch::nn::Sequential seq;
  seq->push_back(conv3x3(config.latent_channels, config.decoder_block_out_channels.front()));
  seq->push_back(torch::nn::ReLU());
  const std::size_t n = config.num_decoder_blocks.size();
  for (std::size_t i = 0; i < n; ++i) {
    const bool last = i + 1 == n;
    const std::int64_t channels = config.decoder_block_out_channels[i];
    for (std::int64_t b = 0; b < config.num_decoder_blocks[i]; ++b) seq->push_back(TinyBlock(channels));
    if (!last) {
      const double f = static_cast<double>(config.upsampling_scaling_factor);
      seq->push_back(torch::nn::Upsample(
          torch::nn::UpsampleOptions().scale_factor(std::vector<double>{f, f}).mode(torch::kNearest)));
    }
    const std::int64_t out = last ? config.out_channels : channels;
    seq->push_back(conv3x3(channels, out, 1, /*bias=*/last));
  }
  layers = register_module("layers", seq);
}

torch::Tensor TinyDecoderImpl::forward(const torch::Tensor& latents) {
  const torch::Tensor z = torch::tanh(latents / 3) * 3;
  return layers->forward(z).mul(2).sub(1);
}

AutoencoderTinyImpl::AutoencoderTinyImpl(const AutoencoderTinyConfig& config, bool with_encoder) : config_(config) {
  if (with_encoder) encoder = register_module("encoder", TinyEncoder(config));
  decoder = register_module("decoder", TinyDecoder(config));
}

torch::Tensor AutoencoderTinyImpl::encode(const torch::Tensor& image) {
  if (!has_encoder()) {
    throw InvalidRequestError("this TAESD has no encoder (only its decoder file was loaded)",
                              "put taesd_encoder beside taesd_decoder, or use the full VAE to encode");
  }
  return encoder->forward(image) * config_.scaling_factor;
}

torch::Tensor AutoencoderTinyImpl::decode(const torch::Tensor& latents) {
  return decoder->forward(latents / config_.scaling_factor);
}

torch::Device AutoencoderTinyImpl::device() const { return decoder->parameters().front().device(); }

torch::Dtype AutoencoderTinyImpl::dtype() const { return decoder->parameters().front().scalar_type(); }

// --- loading ------------------------------------------------------------------------------------------

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "12.conv.4.weight" -> (12, "conv.4.weight"); nothing for a name without a leading index.
std::optional<std::pair<std::int64_t, std::string>> split_index(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == 0 || dot == std::string::npos || dot > 4) return std::nullopt;
  std::int64_t index = 0;
  for (std::size_t i = 0; i < dot; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
    index = index * 10 + (name[i] - '0');
  }
  return std::make_pair(index, name.substr(dot + 1));
}

enum class Half { Encoder, Decoder };

// madebyollin's Sequential names -> diffusers': the encoder keeps its indices, the decoder's
// shift by one (its index 0 is the parameter-free Clamp). Throws on a name of neither form.
std::string diffusers_name(Half half, const std::string& original, const fs::path& file) {
  const auto split = split_index(original);
  if (!split || (half == Half::Decoder && split->first == 0)) {
    throw FormatError("\"" + original + "\" is not a TAESD " + (half == Half::Decoder ? "decoder" : "encoder") + " tensor name",
                      file);
  }
  const std::int64_t index = half == Half::Decoder ? split->first - 1 : split->first;
  return std::string(half == Half::Decoder ? "decoder.layers." : "encoder.layers.") + std::to_string(index) + "." +
         split->second;
}

struct HalfFile {
  NamedTensorList tensors;  // diffusers names
  std::int64_t latent_channels = 4;
};

// A madebyollin file: decoder when "1.weight" is a conv from the latents, encoder when
// "0.weight" takes 3 image channels.
std::optional<Half> standalone_half(const io::TensorIndex& index) {
  const io::TensorEntry* one = index.find("1.weight");
  const io::TensorEntry* zero = index.find("0.weight");
  if (one && one->shape.size() == 4 && !index.contains("0.weight")) return Half::Decoder;
  if (zero && zero->shape.size() == 4 && zero->shape[1] == 3) return Half::Encoder;
  return std::nullopt;
}

HalfFile read_standalone(const io::WeightFile& file, Half half) {
  HalfFile out;
  for (const auto& entry : file.index().entries()) {
    out.tensors.emplace_back(diffusers_name(half, entry.name, file.path()), file.tensor(entry.name));
  }
  if (half == Half::Decoder) {
    const io::TensorEntry* first = file.index().find("1.weight");
    out.latent_channels = first->shape[1];
  } else {
    std::int64_t last = -1;
    for (const auto& entry : file.index().entries()) {
      const auto split = split_index(entry.name);
      if (split && split->second == "weight" && split->first > last && entry.shape.size() == 4) {
        last = split->first;
        out.latent_channels = entry.shape[0];
      }
    }
  }
  return out;
}

std::string variant_from_name(const fs::path& path) {
  const std::string name = lower(path.filename().string());
  if (name.find("taesdxl") != std::string::npos || name.find("taesd_xl") != std::string::npos) return "taesdxl";
  if (name.find("taesd") != std::string::npos) return "taesd";
  return "";
}

AutoencoderTiny build_and_load(const AutoencoderTinyConfig& config, bool with_encoder, const NamedTensorList& tensors,
                               const fs::path& source) {
  AutoencoderTiny model = make_unfilled<AutoencoderTiny>(config, with_encoder);
  WeightLoadOptions options;
  options.model_name = "AutoencoderTiny";
  options.source = source;
  load_weights(*model, tensors, options);
  model->eval();
  return model;
}

// The sibling of a madebyollin half: taesd_decoder.safetensors <-> taesd_encoder.safetensors (any
// of the weight extensions).
std::optional<fs::path> sibling(const fs::path& path, Half want) {
  const std::string name = path.stem().string();
  const std::string from = want == Half::Encoder ? "decoder" : "encoder";
  const std::string to = want == Half::Encoder ? "encoder" : "decoder";
  const auto at = lower(name).find(from);
  if (at == std::string::npos) return std::nullopt;
  const std::string stem = name.substr(0, at) + to + name.substr(at + from.size());
  for (const char* ext : {".safetensors", ".pth", ".pt", ".bin"}) {
    fs::path candidate = path.parent_path() / (stem + ext);
    if (fs::exists(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace

bool looks_like_autoencoder_tiny(const std::vector<std::string>& names) {
  const auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  if (has("decoder.layers.0.weight") && has("decoder.layers.2.conv.0.weight")) return true;
  if (has("taesd_decoder.1.weight") || has("taesd_encoder.0.weight")) return true;
  return has("1.weight") && has("3.conv.0.weight") && !has("0.weight");  // a standalone decoder
}

AutoencoderTinyFile load_autoencoder_tiny(const fs::path& path) {
  AutoencoderTinyFile out;
  if (fs::is_directory(path)) {
    const io::DiffusersFolder folder = io::DiffusersFolder::open(path);
    const io::DiffusersComponent* c = folder.is_pipeline() ? folder.component("vae") : &folder.components().front();
    if (!c) throw FormatError("the pipeline folder has no vae", path);
    if (c->class_name != "AutoencoderTiny") {
      throw FormatError("not a TAESD: the VAE is a " + (c->class_name.empty() ? std::string("model of unknown class") : c->class_name),
                        c->folder, "TAESD folders name \"_class_name\": \"AutoencoderTiny\" in config.json");
    }
    if (!c->has_weights()) throw FormatError("the TAESD folder has no weights", c->folder);
    const AutoencoderTinyConfig config = AutoencoderTinyConfig::from_json(c->config, c->config_file);
    const NamedTensorList tensors = folder.tensors(c->name);
    const bool with_encoder = std::any_of(tensors.begin(), tensors.end(),
                                          [](const auto& t) { return t.first.rfind("encoder.", 0) == 0; });
    out.model = build_and_load(config, with_encoder, tensors, c->folder);
    out.variant = variant_from_name(folder.root());
    out.layout = "diffusers";
    return out;
  }

  const std::unique_ptr<io::WeightFile> file = io::open_weight_file(path);
  const io::TensorIndex& index = file->index();
  AutoencoderTinyConfig config;
  NamedTensorList tensors;
  bool with_encoder = false;
  if (index.contains("decoder.layers.0.weight")) {  // diffusers' names in one file
    for (const auto& entry : index.entries()) tensors.emplace_back(entry.name, file->tensor(entry.name));
    with_encoder = index.contains("encoder.layers.0.weight");
    config.latent_channels = index.find("decoder.layers.0.weight")->shape.at(1);
    out.layout = "diffusers";
    out.variant = variant_from_name(path);
  } else if (index.contains("taesd_decoder.1.weight")) {  // ComfyUI's combined state dict
    double scale = 0;
    for (const auto& entry : index.entries()) {
      const std::string& name = entry.name;
      if (name == "vae_scale" || name == "vae_shift") {
        if (name == "vae_scale" && entry.numel() == 1) scale = file->tensor(name).to(torch::kDouble).item<double>();
        continue;
      }
      if (name.rfind("taesd_decoder.", 0) == 0) {
        tensors.emplace_back(diffusers_name(Half::Decoder, name.substr(14), path), file->tensor(name));
      } else if (name.rfind("taesd_encoder.", 0) == 0) {
        tensors.emplace_back(diffusers_name(Half::Encoder, name.substr(14), path), file->tensor(name));
        with_encoder = true;
      } else {
        throw FormatError("\"" + name + "\" is not a tensor of ComfyUI's TAESD layout", path);
      }
    }
    config.latent_channels = index.find("taesd_decoder.1.weight")->shape.at(1);
    out.layout = "comfyui";
    out.variant = scale > 0.12 && scale < 0.14 ? "taesdxl" : scale > 0.17 && scale < 0.19 ? "taesd" : variant_from_name(path);
  } else if (const std::optional<Half> half = standalone_half(index)) {  // madebyollin's files
    const std::optional<fs::path> other = sibling(path, *half == Half::Decoder ? Half::Encoder : Half::Decoder);
    if (*half == Half::Encoder && !other) {
      throw FormatError("this is a TAESD encoder; decoding needs its decoder", path,
                        "put taesd_decoder (or taesdxl_decoder) beside it and choose that file");
    }
    HalfFile mine = read_standalone(*file, *half);
    tensors = std::move(mine.tensors);
    config.latent_channels = mine.latent_channels;
    if (other) {
      const std::unique_ptr<io::WeightFile> second = io::open_weight_file(*other);
      const std::optional<Half> other_half = standalone_half(second->index());
      if (other_half && *other_half != *half) {
        HalfFile theirs = read_standalone(*second, *other_half);
        tensors.insert(tensors.end(), std::make_move_iterator(theirs.tensors.begin()),
                       std::make_move_iterator(theirs.tensors.end()));
        with_encoder = true;
      }
    }
    out.layout = "taesd";
    out.variant = variant_from_name(path);
  } else {
    throw FormatError("not a TAESD file: no decoder tensors in diffusers', madebyollin's or ComfyUI's names", path,
                      "TAESD files are taesd_decoder.safetensors, taesdxl_decoder.safetensors or a diffusers AutoencoderTiny folder");
  }
  if (config.latent_channels <= 0 || config.latent_channels > 64)
    throw FormatError("not a TAESD file: " + std::to_string(config.latent_channels) + " latent channels", path);
  out.model = build_and_load(config, with_encoder, tensors, path);
  return out;
}

}  // namespace kiln::models
