#include "control/preprocessor.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>

#include "base/error.h"
#include "control/cv_ops.h"
#include "control/geometry.h"
#include "control/mat_convert.h"

namespace kiln::control {

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// A preprocessor on HWC3 RGB through its cv::Mat implementation.
template <typename F>
auto on_mat(F f) {
  return [f](const ControlImage& image, int resolution, const PreprocessorParams& params, const PreprocessorContext&) {
    return from_mat(f(to_mat(image), resolution, params));
  };
}

Preprocessor describe(std::string name, std::string label, bool takes_resolution) {
  Preprocessor p;
  p.name = std::move(name);
  p.label = std::move(label);
  p.takes_resolution = takes_resolution;
  return p;
}

// Labels, ranges and defaults from A1111 sd-webui-controlnet (model_free_preprocessors.py and
// legacy preprocessor_compiled.py).
std::vector<Preprocessor> builtin_preprocessors() {
  std::vector<Preprocessor> all;

  Preprocessor none = describe("none", "none", false);
  none.run = [](const ControlImage& image, int, const PreprocessorParams&, const PreprocessorContext&) {
    return image;
  };
  all.push_back(std::move(none));

  Preprocessor invert = describe("invert", "invert (from white bg & black line)", false);
  invert.run = on_mat([](const cv::Mat& rgb, int, const PreprocessorParams&) { return cv_ops::invert(rgb); });
  all.push_back(std::move(invert));

  Preprocessor canny = describe("canny", "canny", true);
  canny.params = {{"low_threshold", "Low Threshold", 100, 0, 256, 1, 1},
                  {"high_threshold", "High Threshold", 200, 0, 256, 1, 2}};
  canny.run = on_mat([](const cv::Mat& rgb, int resolution, const PreprocessorParams& p) {
    return cv_ops::canny(rgb, resolution, p.at("low_threshold"), p.at("high_threshold"));
  });
  all.push_back(std::move(canny));

  Preprocessor threshold = describe("threshold", "threshold", true);
  threshold.params = {{"threshold", "Binarization Threshold", 127, 0, 255, 0.01, 1}};
  threshold.run = on_mat([](const cv::Mat& rgb, int resolution, const PreprocessorParams& p) {
    return cv_ops::threshold(rgb, resolution, p.at("threshold"));
  });
  all.push_back(std::move(threshold));

  Preprocessor xdog = describe("scribble_xdog", "scribble_xdog", true);
  xdog.params = {{"threshold", "XDoG Threshold", 32, 1, 64, 0.01, 1}};
  xdog.run = on_mat([](const cv::Mat& rgb, int resolution, const PreprocessorParams& p) {
    return cv_ops::scribble_xdog(rgb, resolution, p.at("threshold"));
  });
  all.push_back(std::move(xdog));

  Preprocessor lineart = describe("lineart_standard", "lineart_standard (from white bg & black line)", true);
  lineart.run = on_mat([](const cv::Mat& rgb, int resolution, const PreprocessorParams&) {
    return cv_ops::lineart_standard(rgb, resolution);
  });
  all.push_back(std::move(lineart));

  Preprocessor tile = describe("tile_resample", "tile_resample", false);
  tile.params = {{"down_sampling_rate", "Down Sampling Rate", 1.0, 1.0, 8.0, 0.01, 1}};
  tile.run = on_mat([](const cv::Mat& rgb, int, const PreprocessorParams& p) {
    return cv_ops::tile_resample(rgb, p.at("down_sampling_rate"));
  });
  all.push_back(std::move(tile));

  // The current A1111 class declares this slider as 64..2048 (default 512), a copy of the
  // resolution slider; the legacy table's range (0.01..64, default 9) is the intended one.
  Preprocessor blur = describe("blur_gaussian", "blur_gaussian", true);
  blur.params = {{"sigma", "Sigma", 9.0, 0.01, 64.0, 0.01, 1}};
  blur.run = on_mat([](const cv::Mat& rgb, int resolution, const PreprocessorParams& p) {
    return cv_ops::blur_gaussian(rgb, resolution, p.at("sigma"));
  });
  all.push_back(std::move(blur));

  // Both inpaint modules pass the RGBA (alpha = mask) through; inpaint_control makes the hint.
  for (const auto& [name, label] :
       {std::pair{"inpaint", "inpaint_global_harmonious"}, std::pair{"inpaint_only", "inpaint_only"}}) {
    Preprocessor inpaint = describe(name, label, false);
    inpaint.takes_mask = true;
    inpaint.run = [](const ControlImage& rgba, int, const PreprocessorParams&, const PreprocessorContext&) {
      return rgba;
    };
    all.push_back(std::move(inpaint));
  }
  return all;
}

void check_description(const Preprocessor& p) {
  if (p.name.empty()) throw InvalidRequestError("a preprocessor needs a name");
  for (const std::string& alias : p.aliases) {
    if (alias.empty() || alias == p.name) {
      throw InvalidRequestError("preprocessor '" + p.name + "': an alias must be another, non-empty name");
    }
  }
  if (!p.run) throw InvalidRequestError("preprocessor '" + p.name + "' has no implementation");
  for (const PreprocessorParam& param : p.params) {
    if (param.key.empty() || !(param.minimum <= param.default_value && param.default_value <= param.maximum)) {
      throw InvalidRequestError("preprocessor '" + p.name + "': parameter '" + param.key +
                                "' needs a name and a default within [minimum, maximum]");
    }
  }
}

class Registry {
 public:
  Registry() {
    for (Preprocessor& p : builtin_preprocessors()) add(std::move(p));
  }

  void add(Preprocessor p) {
    check_description(p);
    std::lock_guard lock(mutex_);
    const std::string name = p.name;
    std::vector<std::string> names = p.aliases;
    names.push_back(name);
    for (const std::string& n : names) {
      if (entries_.count(n) || aliases_.count(n)) {
        throw InvalidRequestError("preprocessor '" + n + "' is already registered");
      }
    }
    for (const std::string& alias : p.aliases) aliases_.emplace(alias, name);
    entries_.emplace(name, std::make_shared<const Preprocessor>(std::move(p)));
  }

  std::shared_ptr<const Preprocessor> find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    if (const auto alias = aliases_.find(name); alias != aliases_.end()) name = alias->second;
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : it->second;
  }

  std::vector<std::shared_ptr<const Preprocessor>> all() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<const Preprocessor>> out;
    if (const auto it = entries_.find("none"); it != entries_.end()) out.push_back(it->second);
    for (const auto& [name, p] : entries_) {
      if (name != "none") out.push_back(p);
    }
    return out;
  }

  std::string names() const {
    std::string out;
    for (const auto& p : all()) out += (out.empty() ? "" : ", ") + p->name;
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Preprocessor>, std::less<>> entries_;
  std::map<std::string, std::string, std::less<>> aliases_;  // alias -> name
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const PreprocessorParam* Preprocessor::find_param(std::string_view key) const {
  for (const PreprocessorParam& p : params) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

std::vector<std::shared_ptr<const Preprocessor>> preprocessors() { return registry().all(); }

std::shared_ptr<const Preprocessor> find_preprocessor(std::string_view name) { return registry().find(name); }

void register_preprocessor(Preprocessor preprocessor) { registry().add(std::move(preprocessor)); }

std::filesystem::path find_annotator_weights(const std::string& preprocessor, const AnnotatorWeights& weights,
                                             const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::string> subfolders{""};
  subfolders.insert(subfolders.end(), weights.subfolders.begin(), weights.subfolders.end());
  std::string looked;
  for (const std::filesystem::path& dir : dirs) {
    for (const std::string& sub : subfolders) {
      const std::filesystem::path folder = sub.empty() ? dir : dir / sub;
      looked += (looked.empty() ? "" : ", ") + folder.string();
      for (const std::string& name : weights.file_names) {
        std::error_code ec;
        const std::filesystem::path candidate = folder / name;
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
      }
    }
  }
  std::string names;
  for (const std::string& name : weights.file_names) names += (names.empty() ? "" : " or ") + name;
  std::string hint = "download " + weights.file_names.front() + " from " + weights.source;
  if (!weights.licence.empty()) hint += " (licence: " + weights.licence + ")";
  hint += " into an annotator folder (kiln-cli: --annotator-dir)";
  throw FileError("preprocessor '" + preprocessor + "' needs its weights " + names +
                      ", found in none of: " + (looked.empty() ? std::string("(no annotator folder is set)") : looked),
                  {}, hint);
}

std::vector<std::filesystem::path> find_preprocessor_weights(const Preprocessor& preprocessor,
                                                             const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::filesystem::path> found;
  if (!preprocessor.weights.file_names.empty())
    found.push_back(find_annotator_weights(preprocessor.name, preprocessor.weights, dirs));
  for (const AnnotatorWeights& more : preprocessor.more_weights) {
    if (!more.file_names.empty()) found.push_back(find_annotator_weights(preprocessor.name, more, dirs));
  }
  return found;
}

PreprocessorParams resolve_params(const Preprocessor& p, int resolution, const PreprocessorParams& params) {
  if (p.takes_resolution && (resolution < kMinResolution || resolution > kMaxResolution)) {
    throw InvalidRequestError("preprocessor '" + p.name + "': resolution " + std::to_string(resolution) +
                                  " is outside " + std::to_string(kMinResolution) + ".." +
                                  std::to_string(kMaxResolution),
                              "A1111's slider offers 64..2048 (default " + std::to_string(p.default_resolution) + ")");
  }
  for (const auto& [key, value] : params) {
    if (p.find_param(key)) continue;
    std::string allowed;
    for (const PreprocessorParam& param : p.params) allowed += (allowed.empty() ? "" : ", ") + param.key;
    throw InvalidRequestError("preprocessor '" + p.name + "' has no parameter '" + key + "'",
                              allowed.empty() ? "it takes no parameters" : "its parameters: " + allowed);
  }
  PreprocessorParams out;
  for (const PreprocessorParam& param : p.params) {
    const auto it = params.find(param.key);
    const double value = it == params.end() ? param.default_value : it->second;
    if (!std::isfinite(value) || value < param.minimum || value > param.maximum) {
      throw InvalidRequestError("preprocessor '" + p.name + "': " + param.key + " = " + number(value) + " is outside " +
                                    number(param.minimum) + ".." + number(param.maximum),
                                param.label + " (default " + number(param.default_value) + ")");
    }
    out.emplace(param.key, value);
  }
  return out;
}

ControlImage run_preprocessor(std::string_view name, const ControlImage& image, int resolution,
                              const PreprocessorParams& params, const PreprocessorContext& context) {
  const std::shared_ptr<const Preprocessor> p = find_preprocessor(name);
  if (!p) {
    throw InvalidRequestError("unknown preprocessor '" + std::string(name) + "'",
                              "known preprocessors: " + registry().names());
  }
  const PreprocessorParams resolved = resolve_params(*p, resolution, params);
  check_control_image(image, "input of preprocessor '" + p->name + "'");
  if (p->takes_mask) {
    if (image.channels != 4) {
      throw InvalidRequestError(
          "preprocessor '" + p->name + "' needs an RGBA image whose alpha is the mask, got " + image.describe(),
          "combine the image and the mask with make_inpaint_input");
    }
    return p->run(image, resolution, resolved, context);
  }
  // LegacyPreprocessor.__call__ / the new classes: HWC3 before, and the result HWC3 (trap 25).
  const ControlImage map = p->run(hwc3(image), resolution, resolved, context);
  if (map.empty() && context.stop.stop_requested()) return map;  // cancelled
  return hwc3(map);
}

ControlImage canny_controlnet_aux(const ControlImage& image, int low_threshold, int high_threshold,
                                  int detect_resolution, int image_resolution) {
  return from_mat(cv_ops::canny_controlnet_aux(cv_ops::hwc3(to_mat(image)), low_threshold, high_threshold,
                                               detect_resolution, image_resolution));
}

ControlImage lineart_standard_controlnet_aux(const ControlImage& image, double gaussian_sigma,
                                             double intensity_threshold, int detect_resolution) {
  return from_mat(cv_ops::lineart_standard_controlnet_aux(cv_ops::hwc3(to_mat(image)), gaussian_sigma,
                                                          intensity_threshold, detect_resolution));
}

}  // namespace kiln::control
