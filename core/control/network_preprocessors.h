#pragma once
// The network preprocessors of kiln_control_nets (LibTorch), registered in the same registry as
// the OpenCV ones under A1111's module names, with its legacy keys as aliases:
//   softedge_hed (hed), softedge_hedsafe (hed_safe), scribble_hed   ControlNetHED.pth
//   lineart_realistic (lineart), lineart_coarse                      sk_model.pth, sk_model2.pth
//   depth_anything_v2                                                depth_anything_v2_vit?.pth
//   dw_openpose_full (dwpose.h, OpenCV DNN)           yolox_l.onnx + dw-ll_ucoco_384.onnx
// Each entry's `weights` names its file(s), the download page and the licence; the file is
// looked up in PreprocessorContext::annotator_dirs. Networks run fp32 under c10::InferenceMode
// on PreprocessorContext::device and are cached per file and device (annotator cache below), so
// repeated previews load a file once. This header needs no LibTorch.

#include <cstddef>
#include <filesystem>
#include <string>

#include "control/control_image.h"
#include "control/preprocessor.h"

namespace kiln::control {

// Adds the entries above to the registry. Idempotent and thread-safe; call it once at start-up
// (the app and kiln-cli do), nothing registers itself behind the linker's back.
void register_network_preprocessors();

// Drops every cached network (e.g. when the user changes the annotator folders or frees memory).
void clear_annotator_cache();
// Networks currently cached.
std::size_t annotator_cache_size();
// How many cached networks are kept (least recently used dropped first). Default 4.
void set_annotator_cache_capacity(std::size_t capacity);

// --- The same work with an explicit weight file (what the registered entries run once they
// found theirs). `image` is grey/RGB/RGBA (HWC3 first); results are 1-channel maps for the
// A1111 functions (run_preprocessor applies HWC3), RGB for the controlnet_aux ones. An empty
// image when context.stop is requested. Errors: FileError/FormatError/WeightMismatchError
// naming the file; InvalidRequestError for a bad device string or resolution.

enum class HedMode { Plain, Safe, Scribble };

// A1111 processor.hed / hed_safe / scribble_hed: resize_image_with_pad -> network -> fuse ->
// remove_pad (-> nms scribble on the cropped map).
ControlImage hed_a1111(const ControlImage& image, int resolution, const std::filesystem::path& weights, HedMode mode,
                       const PreprocessorContext& context = {});
// A1111 processor.lineart / lineart_coarse: 255 - line, on the padded image, cropped.
ControlImage lineart_a1111(const ControlImage& image, int resolution, const std::filesystem::path& weights,
                           const PreprocessorContext& context = {});
// A1111 processor.depth_anything_v2(colored=False): on the padded image (min-max includes the
// pad, trap 22), channels swapped by its BGR2RGB call, output bilinear with
// align_corners=False, cropped. `input_size` is the transform's 518 (a parameter for tests).
ControlImage depth_anything_v2_a1111(const ControlImage& image, int resolution, const std::filesystem::path& weights,
                                     const PreprocessorContext& context = {}, int input_size = 518);

// controlnet_aux 0.0.10 HEDdetector(img, detect_resolution, image_resolution, safe, scribble):
// resize_image to detect_resolution, network, HWC3, INTER_LINEAR to resize_image's size at
// image_resolution, then (scribble) nms + blur + threshold at that size.
ControlImage hed_controlnet_aux(const ControlImage& image, const std::filesystem::path& weights,
                                int detect_resolution = 512, int image_resolution = 512, bool safe = false,
                                bool scribble = false, const PreprocessorContext& context = {});
// controlnet_aux 0.0.10 LineartDetector (coarse = pass sk_model2.pth): 255 - the map resized
// INTER_LINEAR to image_resolution.
ControlImage lineart_controlnet_aux(const ControlImage& image, const std::filesystem::path& weights,
                                    int detect_resolution = 512, int image_resolution = 512,
                                    const PreprocessorContext& context = {});
// Depth-Anything-V2 upstream: infer_image(BGR image, input_size) (bilinear align_corners=True back
// to the image size) + run.py's min-max to uint8, for an RGB `image` (the BGR reading is
// accounted for). 1-channel map at the image's size.
ControlImage depth_anything_v2_upstream(const ControlImage& image, const std::filesystem::path& weights,
                                        int input_size = 518, const PreprocessorContext& context = {});

}  // namespace kiln::control
