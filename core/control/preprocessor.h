#pragma once
// The registry of control-map preprocessors ("annotators"), named and parametrised as A1111's
// ControlNet extension names them (its `module`), and run the A1111 way: the image is HWC3'd,
// the preprocessor pads it to its resolution when it takes one (resize_image_with_pad), runs,
// crops the padding off, and the result is HWC3 again. Built in: the OpenCV-only preprocessors
// (none, invert, canny, threshold, scribble_xdog, lineart_standard, tile_resample,
// blur_gaussian, inpaint, inpaint_only). Network preprocessors and pose detection register
// themselves here too (`register_preprocessor`; the networks of kiln_control_nets and DWPose
// (dwpose.h) through network_preprocessors.h's register_network_preprocessors()).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "control/control_image.h"

namespace kiln::control {

// One slider of a preprocessor. `key` names it in PreprocessorParams and on the command line
// (`--param low_threshold=50`); `slot` is A1111's slider (1 = threshold_a, 2 = threshold_b),
// which its PNG parameters and API use.
struct PreprocessorParam {
  std::string key;
  std::string label;  // A1111's label, e.g. "Low Threshold"
  double default_value = 0;
  double minimum = 0;
  double maximum = 0;
  double step = 1;
  int slot = 1;
};

using PreprocessorParams = std::map<std::string, double, std::less<>>;

// What a run may need beyond the image. Network preprocessors check `stop` between stages and
// return an empty image when it is requested (cancelling is an outcome, not an error); the
// OpenCV ones take milliseconds and ignore it.
struct PreprocessorContext {
  std::stop_token stop;
  // Folders where annotator weights live (the app: its model library folders; kiln-cli:
  // --annotator-dir). Each is searched directly and in the preprocessor's subfolders
  // (AnnotatorWeights::subfolders), in order; the first file found wins.
  std::vector<std::filesystem::path> annotator_dirs;
  // Where networks run: "cpu" (default) or a LibTorch device string ("cuda", "cuda:1"). fp32.
  std::string device = "cpu";
};

// The weight file a network preprocessor needs, and where a user gets it.
struct AnnotatorWeights {
  // Accepted file names in order of preference: the published name (A1111 / controlnet_aux)
  // first, then variants (.safetensors conversions, other sizes).
  std::vector<std::string> file_names;
  // Subfolders of an annotator dir that are searched too, after the dir itself: A1111's
  // extension layout (annotator/downloads/<folder>) and the Hugging Face repo name.
  std::vector<std::string> subfolders;
  std::string source;   // download page, e.g. "https://huggingface.co/lllyasviel/Annotators"
  std::string licence;  // of the weights, e.g. "Apache-2.0"
};

// The first existing `dir[/subfolder]/file_name` over the dirs (in order), subfolders ("" first)
// and file names. Throws FileError naming the preprocessor, every file name, where it looked,
// where to get the file and its licence.
std::filesystem::path find_annotator_weights(const std::string& preprocessor, const AnnotatorWeights& weights,
                                             const std::vector<std::filesystem::path>& dirs);

struct Preprocessor {
  std::string name;   // A1111 module name: "canny", "lineart_standard", "inpaint_only", ...
  std::string label;  // A1111's UI label, e.g. "lineart_standard (from white bg & black line)"
  bool takes_resolution = false;
  int default_resolution = 512;  // A1111's slider: 64..2048, default 512
  std::vector<PreprocessorParam> params;
  // Older names that find this preprocessor too (A1111's legacy keys: "hed" for softedge_hed).
  std::vector<std::string> aliases;
  // Network preprocessors: the weight file they need (file_names empty for the others).
  AnnotatorWeights weights;
  // Further files a preprocessor needs beside `weights` (DWPose: the person detector beside the
  // pose model). Checked like `weights` (find_preprocessor_weights).
  std::vector<AnnotatorWeights> more_weights;
  // Inpaint: the input is RGBA whose alpha is the mask (make_inpaint_input), returned as RGBA;
  // control_map_fit's inpaint_control turns it into the ControlNet hint.
  bool takes_mask = false;
  // The work: `image` is already HWC3 (RGBA for takes_mask), `params` complete and validated,
  // `resolution` meaningful only with takes_resolution. Returns the map (HWC3 is applied after).
  std::function<ControlImage(const ControlImage& image, int resolution, const PreprocessorParams& params,
                             const PreprocessorContext& context)>
      run;

  const PreprocessorParam* find_param(std::string_view key) const;
};

// Every file `preprocessor` needs (`weights`, then `more_weights`) from `dirs`; empty for the
// OpenCV-only ones. Throws find_annotator_weights' FileError for the first one missing.
std::vector<std::filesystem::path> find_preprocessor_weights(const Preprocessor& preprocessor,
                                                             const std::vector<std::filesystem::path>& dirs);

// Every registered preprocessor, "none" first, then by name.
std::vector<std::shared_ptr<const Preprocessor>> preprocessors();
// By name or alias; nullptr when unknown.
std::shared_ptr<const Preprocessor> find_preprocessor(std::string_view name);
// Adds a preprocessor (network and pose preprocessors do this once at start-up). Throws
// InvalidRequestError if the name or an alias is taken or the description is inconsistent.
// Thread-safe.
void register_preprocessor(Preprocessor preprocessor);

// Range accepted for a resolution. A1111's slider is 64..2048, but Pixel Perfect computes the
// resolution from the sizes and uses it unclamped (a 1x7 image at 512x768 asks for 73, a large
// output for more than 2048), so only nonsense is refused.
inline constexpr int kMinResolution = 1;
inline constexpr int kMaxResolution = 16384;

// The parameters with defaults filled in. Throws InvalidRequestError for an unknown preprocessor
// or parameter name, a value that is not finite or outside [minimum, maximum] (never clamped),
// and a resolution outside [kMinResolution, kMaxResolution].
PreprocessorParams resolve_params(const Preprocessor& preprocessor, int resolution, const PreprocessorParams& params);

// Runs `name` on `image` (grey, RGB or RGBA; RGBA is composited over white by HWC3 unless the
// preprocessor takes a mask: apply from_rgba_to_input first for A1111's canvas-scribble rule).
// `resolution` is ignored by preprocessors that take none. Returns RGB (RGBA for inpaint), or
// an empty image when `context.stop` cancelled the run.
ControlImage run_preprocessor(std::string_view name, const ControlImage& image, int resolution,
                              const PreprocessorParams& params = {}, const PreprocessorContext& context = {});

// controlnet_aux 0.0.10 variants (not A1111 modules): ControlNet 1.1's `resize_image` (multiples
// of 64, LANCZOS4/AREA) instead of padding, and their own way back to an output size.
// CannyDetector: canny at detect_resolution, then INTER_LINEAR to resize_image's size at
// image_resolution (so the map is no longer binary).
ControlImage canny_controlnet_aux(const ControlImage& image, int low_threshold, int high_threshold,
                                  int detect_resolution = 512, int image_resolution = 512);
// LineartStandardDetector: lineart_standard at detect_resolution, back to the input's size with
// INTER_CUBIC.
ControlImage lineart_standard_controlnet_aux(const ControlImage& image, double gaussian_sigma = 6.0,
                                             double intensity_threshold = 8, int detect_resolution = 512);

}  // namespace kiln::control
