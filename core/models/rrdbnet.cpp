#include "models/rrdbnet.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "base/error.h"
#include "io/weight_file.h"

namespace kiln::models {

namespace {

namespace F = torch::nn::functional;

Conv2d conv3x3(std::int64_t in, std::int64_t out) { return Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)); }

torch::Tensor lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)); }

bool has_key(const NamedTensorList& tensors, const std::string& name) {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; });
}

const torch::Tensor* find_tensor(const NamedTensorList& tensors, const std::string& name) {
  for (const auto& [key, value] : tensors)
    if (key == name) return &value;
  return nullptr;
}

bool any_key(const NamedTensorList& tensors, const std::function<bool(const std::string&)>& pred) {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& t) { return pred(t.first); });
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// What a file that is no RRDBNet looks like, for the refusal.
std::string describe_other(const NamedTensorList& tensors) {
  if (tensors.empty()) return "it holds no tensors";
  auto has = [&](const char* part) {
    return any_key(tensors, [&](const std::string& k) { return contains(k, part); });
  };
  auto starts = [&](const char* prefix) {
    return any_key(tensors, [&](const std::string& k) { return k.starts_with(prefix); });
  };
  if (has("relative_position_bias_table") || has("attn.qkv") || has("relative_position_index"))
    return "it is a transformer upscaler (SwinIR, HAT, DAT or similar), which Kiln does not run";
  if (starts("model.diffusion_model.") || starts("first_stage_model.") || starts("cond_stage_model.") ||
      starts("conditioner.") || starts("down_blocks.") || starts("encoder.down") || starts("text_model."))
    return "it is a Stable Diffusion model or part of one";
  if (has("lora_") || has(".lora.") || has("hada_") || has("lokr_")) return "it is a LoRA";
  if (has("string_to_param") || has("emb_params") || has("clip_l") || has("clip_g"))
    return "it is a textual inversion embedding";
  if (has_key(tensors, "body.0.weight") && has_key(tensors, "body.1.weight"))
    return "it is an SRVGGNet (Real-ESRGAN compact / animevideo) model, which Kiln does not run";
  return "none of its " + std::to_string(tensors.size()) + " tensors is named like one (first: \"" +
         tensors.front().first + "\")";
}

// "model.1.sub.3.RDB2.conv5.0.weight" -> "body.3.rdb2.conv5.weight" and the rest of the old layout.
NamedTensorList rename_old_layout(const NamedTensorList& in, std::int64_t& upsamplings,
                                  const std::filesystem::path& source) {
  static const std::regex block(R"(model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias))");
  static const std::regex sub(R"(model\.1\.sub\.(\d+)\.(weight|bias))");
  static const std::regex top(R"(model\.(\d+)\.(weight|bias))");
  std::int64_t last = -1;
  for (const auto& [key, value] : in) {
    std::smatch m;
    if (std::regex_match(key, m, top)) last = std::max<std::int64_t>(last, std::stoll(m[1].str()));
  }
  if (last < 4 || (last - 4) % 3 != 0)
    throw FormatError("an old-layout ESRGAN file whose last layer is model." + std::to_string(last) +
                          " (expected model.4, model.7, model.10, ...): not a plain RRDBNet",
                      source);
  upsamplings = (last - 4) / 3;
  std::map<std::int64_t, std::string> names{{0, "conv_first"}, {last - 2, "conv_hr"}, {last, "conv_last"}};
  for (std::int64_t k = 1; k <= upsamplings; ++k) names[3 * k] = "conv_up" + std::to_string(k);
  NamedTensorList out;
  out.reserve(in.size());
  for (const auto& [key, value] : in) {
    std::smatch m;
    std::string name = key;
    if (std::regex_match(key, m, block)) {
      name = "body." + m[1].str() + ".rdb" + m[2].str() + ".conv" + m[3].str() + "." + m[4].str();
    } else if (std::regex_match(key, m, sub)) {
      name = "conv_body." + m[2].str();  // the trunk conv after the blocks (model.1.sub.<nb>)
    } else if (std::regex_match(key, m, top)) {
      if (auto it = names.find(std::stoll(m[1].str())); it != names.end()) name = it->second + "." + m[2].str();
    }
    out.emplace_back(std::move(name), value);
  }
  return out;
}

// ESRGAN's own repository: RRDB_trunk / trunk_conv / upconvN / HRconv.
NamedTensorList rename_repo_layout(const NamedTensorList& in) {
  NamedTensorList out;
  out.reserve(in.size());
  static const std::regex block(R"(RRDB_trunk\.(\d+)\.RDB(\d)\.(.*))");
  static const std::regex up(R"(upconv(\d+)\.(.*))");
  for (const auto& [key, value] : in) {
    std::smatch m;
    std::string name = key;
    if (std::regex_match(key, m, block))
      name = "body." + m[1].str() + ".rdb" + m[2].str() + "." + m[3].str();
    else if (key.starts_with("trunk_conv."))
      name = "conv_body." + key.substr(11);
    else if (std::regex_match(key, m, up))
      name = "conv_up" + m[1].str() + "." + m[2].str();
    else if (key.starts_with("HRconv."))
      name = "conv_hr." + key.substr(7);
    out.emplace_back(std::move(name), value);
  }
  return out;
}

// Drops a prefix every key has ("module." of DataParallel, "params_ema." of a flattened BasicSR file).
NamedTensorList strip_common_prefix(const NamedTensorList& in) {
  for (const char* prefix : {"params_ema.", "params.", "module."}) {
    const std::string p = prefix;
    bool some = false;
    NamedTensorList kept;
    for (const auto& [key, value] : in) {
      if (key.starts_with(p)) {
        kept.emplace_back(key.substr(p.size()), value);
        some = true;
      }
    }
    // params_ema wins over params when a flattened file has both; "module." must be on every key.
    if (some && (p != "module." || kept.size() == in.size())) return strip_common_prefix(kept);
  }
  return in;
}

}  // namespace

const char* to_string(RRDBKeyLayout layout) {
  switch (layout) {
    case RRDBKeyLayout::BasicSR:
      return "BasicSR / Real-ESRGAN";
    case RRDBKeyLayout::OldESRGAN:
      return "old ESRGAN";
    case RRDBKeyLayout::ESRGANRepo:
      return "ESRGAN repository";
  }
  return "?";
}

ResidualDenseBlockImpl::ResidualDenseBlockImpl(std::int64_t nf, std::int64_t gc) {
  conv1 = register_module("conv1", conv3x3(nf, gc));
  conv2 = register_module("conv2", conv3x3(nf + gc, gc));
  conv3 = register_module("conv3", conv3x3(nf + 2 * gc, gc));
  conv4 = register_module("conv4", conv3x3(nf + 3 * gc, gc));
  conv5 = register_module("conv5", conv3x3(nf + 4 * gc, nf));
}

torch::Tensor ResidualDenseBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor x1 = lrelu(conv1(x));
  const torch::Tensor x2 = lrelu(conv2(torch::cat({x, x1}, 1)));
  const torch::Tensor x3 = lrelu(conv3(torch::cat({x, x1, x2}, 1)));
  const torch::Tensor x4 = lrelu(conv4(torch::cat({x, x1, x2, x3}, 1)));
  const torch::Tensor x5 = conv5(torch::cat({x, x1, x2, x3, x4}, 1));
  return x5 * 0.2 + x;
}

RRDBImpl::RRDBImpl(std::int64_t nf, std::int64_t gc) {
  rdb1 = register_module("rdb1", ResidualDenseBlock(nf, gc));
  rdb2 = register_module("rdb2", ResidualDenseBlock(nf, gc));
  rdb3 = register_module("rdb3", ResidualDenseBlock(nf, gc));
}

torch::Tensor RRDBImpl::forward(const torch::Tensor& x) { return rdb3(rdb2(rdb1(x))) * 0.2 + x; }

RRDBNetImpl::RRDBNetImpl(const RRDBNetConfig& config) : config_(config) {
  const std::int64_t nf = config.num_features;
  conv_first = register_module("conv_first", conv3x3(config.in_channels(), nf));
  body = register_module("body", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.num_blocks; ++i) body->push_back(RRDB(nf, config.growth_channels));
  conv_body = register_module("conv_body", conv3x3(nf, nf));
  for (std::int64_t k = 1; k <= config.upsamplings; ++k)
    conv_ups.push_back(register_module("conv_up" + std::to_string(k), conv3x3(nf, nf)));
  conv_hr = register_module("conv_hr", conv3x3(nf, nf));
  conv_last = register_module("conv_last", conv3x3(nf, config.out_channels));
}

torch::Tensor RRDBNetImpl::forward(const torch::Tensor& input) {
  const std::int64_t h = input.size(2), w = input.size(3), u = config_.unshuffle;
  torch::Tensor x = input;
  if (u > 1) {
    const std::int64_t pad_h = (u - h % u) % u, pad_w = (u - w % u) % u;
    if (pad_h || pad_w) x = F::pad(x, F::PadFuncOptions({0, pad_w, 0, pad_h}).mode(torch::kReflect));
    x = torch::pixel_unshuffle(x, u);
  }
  torch::Tensor feat = conv_first(x);
  torch::Tensor trunk = feat;
  for (const auto& block : *body) trunk = block->as<RRDB>()->forward(trunk);
  feat = feat + conv_body(trunk);
  for (Conv2d& up : conv_ups)
    feat = lrelu(up(F::interpolate(
        feat, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest))));
  torch::Tensor out = conv_last(lrelu(conv_hr(feat)));
  const std::int64_t s = config_.scale();
  if (out.size(2) != h * s || out.size(3) != w * s) out = out.narrow(2, 0, h * s).narrow(3, 0, w * s);
  return out;
}

RRDBNetWeights normalize_rrdbnet_weights(const NamedTensorList& raw, const std::filesystem::path& source) {
  const NamedTensorList tensors = strip_common_prefix(raw);
  RRDBNetWeights out;
  std::int64_t old_upsamplings = -1;
  const bool old_layout = has_key(tensors, "model.0.weight") &&
                          any_key(tensors, [](const std::string& k) { return k.starts_with("model.1.sub."); });
  if (old_layout) {
    out.layout = RRDBKeyLayout::OldESRGAN;
    out.tensors = rename_old_layout(tensors, old_upsamplings, source);
  } else if (has_key(tensors, "conv_first.weight") && has_key(tensors, "RRDB_trunk.0.RDB1.conv1.weight")) {
    out.layout = RRDBKeyLayout::ESRGANRepo;
    out.tensors = rename_repo_layout(tensors);
  } else if (has_key(tensors, "conv_first.weight") && has_key(tensors, "body.0.rdb1.conv1.weight")) {
    out.layout = RRDBKeyLayout::BasicSR;
    out.tensors = tensors;
  } else {
    throw FormatError("not an ESRGAN-family (RRDBNet) upscaler: " + describe_other(tensors), source,
                      "Kiln runs RRDBNet upscalers: RealESRGAN x4plus / x2plus, 4x-UltraSharp and the like");
  }

  auto shape_of = [&](const std::string& name) -> std::vector<std::int64_t> {
    const torch::Tensor* t = find_tensor(out.tensors, name);
    if (!t || t->dim() != 4)
      throw FormatError("an RRDBNet file without a 4-D \"" + name + "\" (" + to_string(out.layout) + " layout)",
                        source);
    return t->sizes().vec();
  };
  const auto first = shape_of("conv_first.weight");
  const auto last = shape_of("conv_last.weight");
  const auto dense = shape_of("body.0.rdb1.conv1.weight");
  RRDBNetConfig& c = out.config;
  c.num_features = first[0];
  c.out_channels = last[0];
  c.growth_channels = dense[0];
  static const std::regex body_index(R"(body\.(\d+)\..*)");
  std::set<std::int64_t> blocks;
  for (const auto& [key, value] : out.tensors) {
    std::smatch m;
    if (std::regex_match(key, m, body_index)) blocks.insert(std::stoll(m[1].str()));
  }
  c.num_blocks = static_cast<std::int64_t>(blocks.size());
  if (old_upsamplings >= 0) {
    c.upsamplings = old_upsamplings;
  } else {
    c.upsamplings = 0;
    while (has_key(out.tensors, "conv_up" + std::to_string(c.upsamplings + 1) + ".weight")) ++c.upsamplings;
  }
  if (c.out_channels != 3)
    throw FormatError(
        "an RRDBNet with " + std::to_string(c.out_channels) + " output channels: Kiln upscales RGB images (3 channels)",
        source);
  const std::int64_t in = first[1];
  if (in == 3)
    c.unshuffle = 1;
  else if (in == 12)
    c.unshuffle = 2;
  else if (in == 48)
    c.unshuffle = 4;
  else
    throw FormatError("an RRDBNet whose first conv takes " + std::to_string(in) +
                          " channels (expected 3, or 12 / 48 for a pixel-unshuffled RGB input)",
                      source);
  if (c.upsamplings > 4 || (std::int64_t{1} << c.upsamplings) < c.unshuffle)
    throw FormatError("an RRDBNet with " + std::to_string(c.upsamplings) + " upsamplings and an unshuffle by " +
                          std::to_string(c.unshuffle) + ": not an upscaler Kiln knows",
                      source);
  return out;
}

LoadedUpscaler load_upscaler(const std::filesystem::path& path, torch::Device device, torch::Dtype dtype) {
  if (!std::filesystem::is_regular_file(path)) throw FileError("no such upscaler model file", path);
  const auto file = io::open_weight_file(path);
  NamedTensorList tensors;
  tensors.reserve(file->index().size());
  for (const io::TensorEntry& e : file->index().entries()) tensors.emplace_back(e.name, file->tensor(e.name));
  RRDBNetWeights weights = normalize_rrdbnet_weights(tensors, path);

  LoadedUpscaler loaded;
  loaded.config = weights.config;
  loaded.layout = weights.layout;
  loaded.path = path;
  loaded.device = device;
  loaded.dtype = dtype;
  loaded.model = make_unfilled<RRDBNet>(weights.config);
  reallocate_parameters(*loaded.model, torch::TensorOptions().dtype(dtype).device(device));
  WeightLoadOptions options;
  options.model_name = "RRDBNet";
  options.source = path;
  load_weights(*loaded.model, weights.tensors, options);
  loaded.model->eval();
  return loaded;
}

}  // namespace kiln::models
