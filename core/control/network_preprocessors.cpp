// The network preprocessors: weight loading with readable errors, a small cache of loaded
// networks, the A1111 / controlnet_aux / upstream chains around the three networks, and their
// registry entries. Image work is in network_maps.cpp (OpenCV, no torch); this file is the one
// place where images become tensors and back.

#include "control/network_preprocessors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <list>
#include <mutex>
#include <utility>

#include "base/error.h"
#include "control/annotator_loading.h"
#include "control/dwpose.h"
#include "control/geometry.h"
#include "control/network_maps.h"
#include "io/weight_file.h"
#include "models/weight_loading.h"

namespace kiln::control {

namespace {

namespace fs = std::filesystem;

// --- what each network needs, and where users get it -------------------------------------------

// lllyasviel/Annotators is marked "License: other" on Hugging Face; the HED weights are the
// Apache-2.0 re-training (header of annotator/hed: "an improved version and model of HED edge
// detection with Apache License, Version 2.0").
AnnotatorWeights hed_weights() {
  return {{"ControlNetHED.pth", "ControlNetHED.safetensors"},
          {"hed", "lllyasviel/Annotators", "Annotators"},
          "https://huggingface.co/lllyasviel/Annotators",
          "Apache-2.0 (ControlNetHED_Apache2; the Hugging Face repo is marked 'other')"};
}

// The lineart Generator is carolineec/informative-drawings ("Learning to generate line
// drawings", Chan et al. 2022); neither that repository nor lllyasviel/Annotators ("other")
// states a licence we could verify.
AnnotatorWeights lineart_weights(bool coarse) {
  const std::string stem = coarse ? "sk_model2" : "sk_model";
  return {{stem + ".pth", stem + ".safetensors"},
          {"lineart", "lllyasviel/Annotators", "Annotators"},
          "https://huggingface.co/lllyasviel/Annotators",
          "unverified: lllyasviel/Annotators is marked 'other'; upstream carolineec/informative-drawings ships no "
          "licence file"};
}

// Small first: it is the Apache-2.0 one. A1111 itself downloads vitl (safetensors conversion of
// MackinationsAi/Depth-Anything-V2_Safetensors), which is CC-BY-NC-4.0 like vitb and vitg.
AnnotatorWeights depth_anything_v2_weights() {
  AnnotatorWeights w;
  for (const char* size : {"vits", "vitb", "vitl", "vitg"}) {
    w.file_names.push_back(std::string("depth_anything_v2_") + size + ".pth");
    w.file_names.push_back(std::string("depth_anything_v2_") + size + ".safetensors");
  }
  w.subfolders = {"depth_anything_v2", "depth-anything/Depth-Anything-V2-Small", "Depth-Anything-V2-Small"};
  w.source = "https://huggingface.co/depth-anything/Depth-Anything-V2-Small";
  w.licence = "Apache-2.0 (Small, vits); the vitb, vitl and vitg weights are CC-BY-NC-4.0 (non-commercial)";
  return w;
}

std::string expected_names(const AnnotatorWeights& w) {
  std::string out;
  for (const std::string& n : w.file_names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The same kind of error with what the user needs to fix it: which file was expected and where
// it comes from.
[[noreturn]] void rethrow_for_weights(const Error& e, const std::string& network, const AnnotatorWeights& w) {
  const std::string message = network + ": " + e.message();
  const std::string hint = (e.hint().empty() ? std::string() : e.hint() + "; ") + "expected " + expected_names(w) +
                           " from " + w.source + " (licence: " + w.licence + ")";
  switch (e.kind()) {
    case ErrorKind::WeightMismatch:
      throw WeightMismatchError(message, e.path(), hint);
    case ErrorKind::Format:
      throw FormatError(message, e.path(), hint);
    case ErrorKind::File:
      throw FileError(message, e.path(), hint);
    default:
      throw;
  }
}

std::unique_ptr<io::WeightFile> open_weights(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw FileError("weight file not found", path);
  return io::open_weight_file(path);
}

template <typename Module>
void copy_weights(Module& module, const io::WeightFile& file, const std::string& model_name) {
  models::NamedTensorList tensors;
  tensors.reserve(file.index().size());
  for (const io::TensorEntry& entry : file.index().entries()) tensors.emplace_back(entry.name, file.tensor(entry.name));
  models::WeightLoadOptions options;
  options.model_name = model_name;
  options.source = file.path();
  models::load_weights(*module, tensors, options);
  module->eval();
}

// --- the cache ---------------------------------------------------------------------------------

enum class NetKind { Hed, Lineart, DepthAnythingV2 };

struct CacheKey {
  NetKind kind;
  std::string path;
  std::string device;
  fs::file_time_type modified;
  std::uintmax_t size;
  bool operator==(const CacheKey& o) const {
    return kind == o.kind && path == o.path && device == o.device && modified == o.modified && size == o.size;
  }
};

class AnnotatorCache {
 public:
  // The cached module for (file, device), loading it on a miss. Loads are serialised: previews
  // of one canvas ask for the same file, and a second load of it would only waste memory.
  std::shared_ptr<torch::nn::Module> get(NetKind kind, const fs::path& path, const torch::Device& device) {
    std::error_code ec;
    CacheKey key{kind, fs::absolute(path, ec).lexically_normal().string(), device.str(), fs::last_write_time(path, ec),
                 fs::file_size(path, ec)};
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);  // most recently used first
        return it->second;
      }
    }
    std::shared_ptr<torch::nn::Module> module = load(kind, path);
    module->to(device);
    entries_.emplace_front(std::move(key), module);
    trim();
    return module;
  }

  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  void set_capacity(std::size_t capacity) {
    std::lock_guard lock(mutex_);
    capacity_ = std::max<std::size_t>(capacity, 1);
    trim();
  }

 private:
  static std::shared_ptr<torch::nn::Module> load(NetKind kind, const fs::path& path) {
    switch (kind) {
      case NetKind::Hed:
        return load_hed_network(path).ptr();
      case NetKind::Lineart:
        return load_lineart_network(path).ptr();
      case NetKind::DepthAnythingV2:
        return load_depth_anything_v2_network(path).ptr();
    }
    return nullptr;
  }
  void trim() {
    while (entries_.size() > capacity_) entries_.pop_back();
  }

  mutable std::mutex mutex_;
  std::list<std::pair<CacheKey, std::shared_ptr<torch::nn::Module>>> entries_;
  std::size_t capacity_ = 4;
};

AnnotatorCache& cache() {
  static AnnotatorCache c;
  return c;
}

torch::Device parse_device(const std::string& text) {
  try {
    return torch::Device(text);
  } catch (const c10::Error&) {
    throw InvalidRequestError("unknown device '" + text + "' for a preprocessor",
                              "use \"cpu\", \"cuda\" or \"cuda:N\"");
  }
}

// --- tensors <-> planes ------------------------------------------------------------------------

torch::Tensor to_input(const FloatPlanes& planes, const torch::Device& device) {
  const torch::Tensor cpu = torch::from_blob(const_cast<float*>(planes.values.data()),
                                             {1, planes.planes, planes.height, planes.width}, torch::kFloat32);
  return cpu.to(device, torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
}

// A [1, 1, H, W] or [1, H, W] float tensor as one plane (copied to the CPU).
FloatPlanes to_plane(const torch::Tensor& t) {
  const torch::Tensor cpu = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  FloatPlanes p;
  p.height = static_cast<int>(cpu.size(-2));
  p.width = static_cast<int>(cpu.size(-1));
  p.values.assign(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
  return p;
}

std::string describe_run(const char* stage, int width, int height, const std::string& device) {
  return std::string(stage) + ", " + std::to_string(width) + "x" + std::to_string(height) + ", fp32, " + device;
}

// Runs `f` under InferenceMode, turning LibTorch errors into ComputeError naming the stage.
template <typename F>
auto guarded(const std::string& stage, F&& f) {
  try {
    c10::InferenceMode guard;
    return f();
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("out of memory") != std::string::npos) throw OutOfMemoryError(stage + ": " + what);
    throw ComputeError(stage + ": " + what);
  }
}

std::vector<FloatPlanes> hed_projections(const ControlImage& rgb, const fs::path& weights, const std::string& device) {
  const torch::Device dev = parse_device(device);
  const auto net = std::dynamic_pointer_cast<ControlNetHEDImpl>(cache().get(NetKind::Hed, weights, dev));
  return guarded(describe_run("HED", rgb.width, rgb.height, device), [&] {
    const std::vector<torch::Tensor> out = net->forward(to_input(rgb_planes(rgb, false), dev));
    std::vector<FloatPlanes> planes;
    for (const torch::Tensor& p : out) planes.push_back(to_plane(p));
    return planes;
  });
}

ControlImage lineart_map(const ControlImage& rgb, const fs::path& weights, const std::string& device) {
  const torch::Device dev = parse_device(device);
  const auto net = std::dynamic_pointer_cast<LineartGeneratorImpl>(cache().get(NetKind::Lineart, weights, dev));
  return guarded(describe_run("lineart", rgb.width, rgb.height, device),
                 [&] { return lineart_line_map(to_plane(net->forward(to_input(rgb_planes(rgb, true), dev)))); });
}

ControlImage depth_map(const ControlImage& rgb, const fs::path& weights, const std::string& device, int input_size,
                       bool swap_rb, bool align_corners) {
  const torch::Device dev = parse_device(device);
  const auto net = std::dynamic_pointer_cast<DepthAnythingV2Impl>(cache().get(NetKind::DepthAnythingV2, weights, dev));
  const FloatPlanes input = depth_anything_v2_input(rgb, input_size, swap_rb);
  return guarded(describe_run("Depth Anything V2", input.width, input.height, device), [&] {
    const torch::Tensor out = net->forward(to_input(input, dev)).to(torch::kCPU);  // [1, h, w]
    return depth_output_to_map(out, rgb.height, rgb.width, align_corners);
  });
}

bool stopped(const PreprocessorContext& context) { return context.stop.stop_requested(); }

// --- registry entries --------------------------------------------------------------------------

Preprocessor network_entry(std::string name, std::vector<std::string> aliases, AnnotatorWeights weights) {
  Preprocessor p;
  p.label = name;  // A1111's labels are these names
  p.name = std::move(name);
  p.aliases = std::move(aliases);
  p.takes_resolution = true;
  p.default_resolution = 512;
  p.weights = std::move(weights);
  return p;
}

// The entry's weight file, found in context.annotator_dirs.
fs::path weights_for(const Preprocessor& p, const PreprocessorContext& context) {
  return find_annotator_weights(p.name, p.weights, context.annotator_dirs);
}

}  // namespace

// --- loading (annotator_loading.h) ---------------------------------------------------------------

ControlNetHED load_hed_network(const fs::path& path) {
  try {
    const auto file = open_weights(path);
    ControlNetHED net(ControlNetHEDConfig::from_index(file->index()));
    copy_weights(net, *file, "ControlNetHED_Apache2");
    return net;
  } catch (const Error& e) {
    rethrow_for_weights(e, "HED", hed_weights());
  }
}

LineartGenerator load_lineart_network(const fs::path& path) {
  try {
    const auto file = open_weights(path);
    LineartGenerator net(LineartGeneratorConfig::from_index(file->index()));
    copy_weights(net, *file, "lineart Generator(3, 1, 3)");
    return net;
  } catch (const Error& e) {
    AnnotatorWeights either = lineart_weights(false);
    either.file_names = {"sk_model.pth (lineart_realistic)", "sk_model2.pth (lineart_coarse)"};
    rethrow_for_weights(e, "lineart", either);
  }
}

DepthAnythingV2 load_depth_anything_v2_network(const fs::path& path) {
  try {
    const auto file = open_weights(path);
    DepthAnythingV2Config config;
    const auto& meta = file->metadata();
    const auto vit = meta.find("vit");
    const auto head = meta.find("head");
    if (vit != meta.end() && head != meta.end()) {
      // The reference constructors' arguments (dinov2 vit_config, DepthAnythingV2 head_config).
      const nlohmann::json v = nlohmann::json::parse(vit->second);
      const nlohmann::json h = nlohmann::json::parse(head->second);
      config = DepthAnythingV2Config::for_encoder(h.at("encoder").get<std::string>());
      config.img_size = v.value("img_size", config.img_size);
      config.patch_size = v.value("patch_size", config.patch_size);
      config.embed_dim = v.at("embed_dim").get<std::int64_t>();
      config.depth = v.at("depth").get<std::int64_t>();
      config.num_heads = v.at("num_heads").get<std::int64_t>();
      config.mlp_ratio = v.value("mlp_ratio", config.mlp_ratio);
      config.swiglu = v.value("ffn_layer", std::string("mlp")) != "mlp";
      config.interpolate_offset = v.value("interpolate_offset", config.interpolate_offset);
      config.features = h.at("features").get<std::int64_t>();
      const auto out = h.at("out_channels").get<std::vector<std::int64_t>>();
      if (out.size() != 4) throw FormatError("Depth Anything V2 metadata: out_channels needs 4 entries", path);
      std::copy(out.begin(), out.end(), config.out_channels.begin());
    } else {
      config = DepthAnythingV2Config::from_index(file->index());
    }
    DepthAnythingV2 net(config);
    copy_weights(net, *file, "DepthAnythingV2 (" + config.encoder + ")");
    return net;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("Depth Anything V2 metadata is not readable: ") + e.what(), path);
  } catch (const Error& e) {
    rethrow_for_weights(e, "Depth Anything V2", depth_anything_v2_weights());
  }
}

ControlImage depth_output_to_map(const torch::Tensor& output, int height, int width, bool align_corners) {
  namespace F = torch::nn::functional;
  c10::InferenceMode guard;
  // depth[None] / depth[:, None]: [1, 1, h, w] -> bilinear -> [0, 0]
  const torch::Tensor depth = F::interpolate(output.to(torch::kCPU, torch::kFloat32).unsqueeze(0),
                                             F::InterpolateFuncOptions()
                                                 .size(std::vector<std::int64_t>{height, width})
                                                 .mode(torch::kBilinear)
                                                 .align_corners(align_corners))[0][0];
  const torch::Tensor lo = depth.min();
  const torch::Tensor hi = depth.max();
  ControlImage map(width, height, 1);
  if (!(hi.item<float>() > lo.item<float>())) return map;                        // 0/0: the reference gives NaN -> 0
  const torch::Tensor scaled = ((depth - lo) / (hi - lo) * 255.0).contiguous();  // float32 ops
  const float* v = scaled.data_ptr<float>();
  for (std::size_t i = 0; i < map.pixels.size(); ++i) {
    map.pixels[i] = v[i] >= 255.0f ? 255 : (v[i] > 0.0f ? static_cast<std::uint8_t>(v[i]) : 0);  // astype: truncate
  }
  return map;
}

// --- public API --------------------------------------------------------------------------------

void clear_annotator_cache() { cache().clear(); }
std::size_t annotator_cache_size() { return cache().size(); }
void set_annotator_cache_capacity(std::size_t capacity) { cache().set_capacity(capacity); }

ControlImage hed_a1111(const ControlImage& image, int resolution, const fs::path& weights, HedMode mode,
                       const PreprocessorContext& context) {
  const PaddedImage padded = resize_image_with_pad(image, resolution);
  if (stopped(context)) return {};
  const ControlImage& rgb = padded.padded;
  const std::vector<FloatPlanes> projections = hed_projections(rgb, weights, context.device);
  if (stopped(context)) return {};
  const ControlImage edge = hed_edge_map(projections, rgb.width, rgb.height, mode == HedMode::Safe);
  const ControlImage map = remove_pad(padded, edge);
  // processor.scribble_hed: nms etc. on hed()'s result, i.e. after remove_pad.
  return mode == HedMode::Scribble ? hed_scribble(map) : map;
}

ControlImage lineart_a1111(const ControlImage& image, int resolution, const fs::path& weights,
                           const PreprocessorContext& context) {
  const PaddedImage padded = resize_image_with_pad(image, resolution);
  if (stopped(context)) return {};
  const ControlImage line = lineart_map(padded.padded, weights, context.device);
  if (stopped(context)) return {};
  return remove_pad(padded, invert_map(line));  // 255 - model_lineart(img)
}

ControlImage depth_anything_v2_a1111(const ControlImage& image, int resolution, const fs::path& weights,
                                     const PreprocessorContext& context, int input_size) {
  const PaddedImage padded = resize_image_with_pad(image, resolution);
  if (stopped(context)) return {};
  const ControlImage map = depth_map(padded.padded, weights, context.device, input_size, /*swap_rb=*/true,
                                     /*align_corners=*/false);
  if (stopped(context)) return {};
  return remove_pad(padded, map);
}

ControlImage hed_controlnet_aux(const ControlImage& image, const fs::path& weights, int detect_resolution,
                                int image_resolution, bool safe, bool scribble, const PreprocessorContext& context) {
  const ControlImage input = resize_image(hwc3(image), detect_resolution);
  const std::vector<FloatPlanes> projections = hed_projections(input, weights, context.device);
  if (stopped(context)) return {};
  const ControlImage edge = hed_edge_map(projections, input.width, input.height, safe);
  const ControlImage target = resize_image(input, image_resolution);
  // The reference resizes the HWC3 map; its three equal channels stay equal, so the grey map
  // is resized and expanded afterwards.
  ControlImage map = resize_linear(edge, target.width, target.height);
  if (scribble) map = hed_scribble(map);
  return hwc3(map);
}

ControlImage lineart_controlnet_aux(const ControlImage& image, const fs::path& weights, int detect_resolution,
                                    int image_resolution, const PreprocessorContext& context) {
  const ControlImage input = resize_image(hwc3(image), detect_resolution);
  const ControlImage line = lineart_map(input, weights, context.device);
  if (stopped(context)) return {};
  const ControlImage target = resize_image(input, image_resolution);
  return hwc3(invert_map(resize_linear(line, target.width, target.height)));
}

ControlImage depth_anything_v2_upstream(const ControlImage& image, const fs::path& weights, int input_size,
                                        const PreprocessorContext& context) {
  const ControlImage rgb = hwc3(image);
  const ControlImage map = depth_map(rgb, weights, context.device, input_size, /*swap_rb=*/false,
                                     /*align_corners=*/true);
  if (stopped(context)) return {};
  return map;
}

void register_network_preprocessors() {
  static std::once_flag once;
  std::call_once(once, [] {
    const auto hed_entry = [](std::string name, std::vector<std::string> aliases, HedMode mode) {
      Preprocessor p = network_entry(std::move(name), std::move(aliases), hed_weights());
      p.run = [mode, name = p.name](const ControlImage& image, int resolution, const PreprocessorParams&,
                                    const PreprocessorContext& context) {
        const auto self = find_preprocessor(name);
        return hed_a1111(image, resolution, weights_for(*self, context), mode, context);
      };
      return p;
    };
    register_preprocessor(hed_entry("softedge_hed", {"hed"}, HedMode::Plain));
    register_preprocessor(hed_entry("softedge_hedsafe", {"hed_safe"}, HedMode::Safe));
    register_preprocessor(hed_entry("scribble_hed", {}, HedMode::Scribble));

    for (const bool coarse : {false, true}) {
      Preprocessor p = coarse ? network_entry("lineart_coarse", {}, lineart_weights(true))
                              : network_entry("lineart_realistic", {"lineart"}, lineart_weights(false));
      p.run = [name = p.name](const ControlImage& image, int resolution, const PreprocessorParams&,
                              const PreprocessorContext& context) {
        const auto self = find_preprocessor(name);
        return lineart_a1111(image, resolution, weights_for(*self, context), context);
      };
      register_preprocessor(std::move(p));
    }

    Preprocessor depth = network_entry("depth_anything_v2", {}, depth_anything_v2_weights());
    depth.run = [](const ControlImage& image, int resolution, const PreprocessorParams&,
                   const PreprocessorContext& context) {
      const auto self = find_preprocessor("depth_anything_v2");
      return depth_anything_v2_a1111(image, resolution, weights_for(*self, context), context);
    };
    register_preprocessor(std::move(depth));

    // DWPose (OpenCV DNN, kiln_control): registered with the networks so that every caller of
    // this function offers it.
    register_dwpose_preprocessors();
  });
}

}  // namespace kiln::control
