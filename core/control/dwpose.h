#pragma once
// DWPose whole-body pose detection (IDEA-Research/DWPose) as A1111's sd-webui-controlnet runs it
// with its cv2.dnn backend (annotator/openpose: cv_ox_det.py, cv_ox_pose.py, wholebody.py), on
// OpenCV's DNN module:
//   1. YOLOX person detector (yolox_l.onnx, "images" [1,3,640,640] -> [1,8400,85]): letterbox
//      (INTER_LINEAR resize by r = min(640/h, 640/w) into the top-left corner, 114 grey around,
//      uint8 values as float, no normalisation), grid/stride decode (strides 8, 16, 32), score =
//      objectness * class, class-aware NMS (IoU 0.45, score > 0.1), then persons (class 0) with
//      score > 0.3.
//   2. RTMPose-l whole-body model (dw-ll_ucoco_384.onnx, "input" [1,3,384,288] -> "simcc_x"
//      [1,133,576], "simcc_y" [1,133,768]) on each box: centre, scale * 1.25 widened to 288:384,
//      affine crop (cv2.getAffineTransform / warpAffine INTER_LINEAR, black border), (v - mean) /
//      std per channel, SimCC argmax / 2 and score min(max_x, max_y), back to image pixels.
//   3. The 133 COCO-WholeBody points to OpenPose: neck = mean of the shoulders (shown when both
//      shoulders score > 0.3), A1111's index mapping to the 18 body points, hands 92..133 and
//      the 68 face points plus the two eyes, every point kept when its score >= 0.3.
// The reference's quirk is kept: when the detector finds something but no person, the pose model
// runs once on the whole image. Results are in pixels of the image, as A1111's JSON callback
// writes them ([x, y, 1] kept, [0, 0, 0] dropped, absent hands/face null), so render_pose draws
// them as A1111's draw_poses does.
//
// Registered preprocessor (register_dwpose_preprocessors, called by
// register_network_preprocessors): dw_openpose_full, A1111's only DWPose module (its openpose,
// openpose_face, openpose_faceonly, openpose_full and openpose_hand run the CMU network, which is
// non-commercial, and are not offered). This header needs no OpenCV.

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include "control/control_image.h"
#include "control/pose.h"
#include "control/preprocessor.h"

namespace kiln::control {

// The published files (https://huggingface.co/yzd-v/DWPose), found directly in an annotator dir
// or in A1111's annotator/downloads/openpose, ComfyUI's yzd-v/DWPose or a DWPose folder.
AnnotatorWeights dwpose_detector_weights();  // yolox_l.onnx (YOLOX-L, Megvii, Apache-2.0)
AnnotatorWeights dwpose_pose_weights();      // dw-ll_ucoco_384.onnx (DWPose, IDEA-Research, Apache-2.0)

struct DwposeFiles {
  std::filesystem::path detector;
  std::filesystem::path pose;
};
// Both files from `dirs` (find_annotator_weights: FileError naming the missing file, where it
// looked, where to get it).
DwposeFiles find_dwpose_files(const std::vector<std::filesystem::path>& dirs);
// True when both files are there (what the pose editor's "Snap to Detected" needs).
bool dwpose_available(const std::vector<std::filesystem::path>& dirs);

inline constexpr int kYoloxInputSize = 640;
inline constexpr int kDwposeInputWidth = 288;
inline constexpr int kDwposeInputHeight = 384;
inline constexpr int kWholebodyPoints = 133;

// One person of the pose model, before the OpenPose conversion.
struct WholebodyPerson {
  std::array<double, 4> box{};  // x1, y1, x2, y2 in image pixels (the detector's, or the whole image)
  std::array<std::array<double, 2>, kWholebodyPoints> keypoints{};  // image pixels
  std::array<float, kWholebodyPoints> scores{};
};

// Detector + pose model on `image` (grey/RGB/RGBA, HWC3 first). nullopt when context.stop was
// requested (checked between the stages and between people). Errors: FileError / FormatError
// naming the file for a missing, unreadable or corrupt model or outputs of the wrong shape.
std::optional<std::vector<WholebodyPerson>> run_dwpose(const ControlImage& image, const DwposeFiles& files,
                                                       const std::stop_token& stop = {});

// A1111's Wholebody.__call__ conversion and format_result: the 18 OpenPose body points, hands
// and the 70-point face, pixel coordinates, confidence 1 for kept points and 0, 0, 0 for dropped
// ones, an absent (empty) hand or face when none of its points is kept.
PosePerson wholebody_to_openpose(const WholebodyPerson& person);

// run_dwpose + wholebody_to_openpose on the image as it is: a scene of the image's size with its
// people in pixels. nullopt when stopped.
std::optional<PoseScene> detect_dwpose(const ControlImage& image, const DwposeFiles& files,
                                       const std::stop_token& stop = {});

// A1111 dw_openpose_full: resize_image_with_pad(image, resolution), detect, draw the people
// (body, hands, face) on the padded canvas, remove the padding. RGB map of the resized size; an
// empty image when stopped. `scene` (optional) receives the detected people on the padded canvas
// (what A1111's JSON callback gets).
ControlImage dwpose_a1111(const ControlImage& image, int resolution, const DwposeFiles& files,
                          const PreprocessorContext& context = {}, PoseScene* scene = nullptr);

// Adds dw_openpose_full to the registry. Idempotent and thread-safe.
void register_dwpose_preprocessors();

// Drops the cached networks (loaded once per file; a changed file is loaded again).
void clear_dwpose_cache();

// --- The pieces, exposed for tests ----------------------------------------------------------

// cv_ox_det.preprocess: r = min(640 / h, 640 / w), the resized image int(w * r) x int(h * r).
struct Letterbox {
  double ratio = 1.0;
  int width = 0;
  int height = 0;
};
Letterbox yolox_letterbox(int image_width, int image_height, int input_size = kYoloxInputSize);

// cv_ox_det.nms on float32 boxes (x1, y1, x2, y2, areas with the +1 of pixel counts): indices
// kept, best score first; a box goes when its IoU with a kept one is above `threshold` (or NaN).
// Equal scores: the later index first (numpy's argsort()[::-1] of a stable sort).
std::vector<std::size_t> yolox_nms(std::span<const std::array<float, 4>> boxes, std::span<const float> scores,
                                   float threshold);

// demo_postprocess + inference_detector on the raw [anchors, channels] output (row-major;
// anchors = 8400 for 640): the person boxes in image pixels (divided by `ratio`), best first.
// nullopt when no class scores above 0.1 anywhere (the reference returns None: nobody); an empty
// list when something was found but no person above 0.3 (the reference then runs the pose model
// on the whole image).
std::optional<std::vector<std::array<double, 4>>> yolox_person_boxes(std::span<const float> output, int anchors,
                                                                     int channels, double ratio,
                                                                     int input_size = kYoloxInputSize);

// bbox_xyxy2cs(padding 1.25) + _fix_aspect_ratio(288 / 384): the crop's centre and size.
struct PoseCrop {
  double center_x = 0, center_y = 0;
  double scale_w = 0, scale_h = 0;
};
PoseCrop dwpose_crop(const std::array<double, 4>& box);

// get_simcc_maximum + decode: per keypoint the first argmax of each row / 2 (float32) and the
// score min(max_x, max_y); both coordinates -1 / 2 where the score is <= 0.
struct SimccPoint {
  float x = 0, y = 0, score = 0;
};
std::vector<SimccPoint> simcc_decode(std::span<const float> simcc_x, std::span<const float> simcc_y, int keypoints,
                                     int width_x, int width_y);

// postprocess: a decoded point (input pixels of the crop) back to image pixels.
std::array<double, 2> simcc_to_image(const SimccPoint& point, const PoseCrop& crop);

}  // namespace kiln::control
