// DWPose on OpenCV's DNN module: the reference's pre- and post-processing in the reference's
// number types (float32 where numpy keeps float32, double where it widens), so that the same
// ONNX files give the same people as A1111's cv2.dnn backend. See dwpose.h for the steps.

#include "control/dwpose.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "base/error.h"
#include "control/geometry.h"
#include "control/mat_convert.h"
#include "control/pose_render.h"

namespace kiln::control {

namespace {

namespace fs = std::filesystem;

constexpr float kNmsThreshold = 0.45f;    // multiclass_nms(nms_thr=0.45)
constexpr float kClassScoreFloor = 0.1f;  // multiclass_nms(score_thr=0.1)
constexpr double kPersonScore = 0.3;      // final_scores > 0.3 (float64 by then)
constexpr double kKeypointScore = 0.3;    // format_result: score >= 0.3; neck: both shoulders > 0.3
constexpr double kBoxPadding = 1.25;      // bbox_xyxy2cs(padding=1.25)
constexpr double kSimccSplitRatio = 2.0;
constexpr std::array<int, 3> kStrides{8, 16, 32};
constexpr std::array<double, 3> kMean{123.675, 116.28, 103.53};
constexpr std::array<double, 3> kStd{58.395, 57.12, 57.375};

const char* const kSource = "https://huggingface.co/yzd-v/DWPose";
const std::vector<std::string> kSubfolders{"openpose", "yzd-v/DWPose", "DWPose"};

std::string hint_for(const AnnotatorWeights& w) {
  return "expected " + w.file_names.front() + " from " + w.source + " (licence: " + w.licence +
         "), e.g. in A1111's extensions/sd-webui-controlnet/annotator/downloads/openpose";
}

// --- the network cache -------------------------------------------------------------------------

struct LoadedNet {
  std::mutex mutex;  // a cv::dnn::Net runs one forward at a time
  cv::dnn::Net net;
};

struct NetKey {
  std::string path;
  fs::file_time_type modified;
  std::uintmax_t size;
  bool operator==(const NetKey&) const = default;
};

class NetCache {
 public:
  std::shared_ptr<LoadedNet> get(const fs::path& path, const std::string& what, const AnnotatorWeights& weights) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw FileError(what + " model not found", path, hint_for(weights));
    NetKey key{fs::absolute(path, ec).lexically_normal().string(), fs::last_write_time(path, ec),
               fs::file_size(path, ec)};
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);
        return it->second;
      }
    }
    auto loaded = std::make_shared<LoadedNet>();
    try {
      loaded->net = cv::dnn::readNetFromONNX(path.string());
    } catch (const cv::Exception& e) {
      throw FormatError(what + " model is not an ONNX file OpenCV " CV_VERSION " can read (" + e.err + ")", path,
                        hint_for(weights));
    }
    if (loaded->net.empty()) throw FormatError(what + " model has no layers", path, hint_for(weights));
    loaded->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    loaded->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    entries_.emplace_front(std::move(key), loaded);
    while (entries_.size() > 4) entries_.pop_back();
    return loaded;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }

 private:
  std::mutex mutex_;
  std::list<std::pair<NetKey, std::shared_ptr<LoadedNet>>> entries_;
};

NetCache& cache() {
  static NetCache c;
  return c;
}

std::string shape_text(const cv::Mat& m) {
  std::string out;
  for (int i = 0; i < m.dims; ++i) out += (i ? "x" : "") + std::to_string(m.size[i]);
  return out.empty() ? "empty" : out;
}

// Runs `net` on `blob`, returning its unconnected outputs in the reference's order.
std::vector<cv::Mat> forward(LoadedNet& loaded, const cv::Mat& blob, const fs::path& path, const std::string& what,
                             const std::string& input_shape, const AnnotatorWeights& weights) {
  std::lock_guard lock(loaded.mutex);
  std::vector<cv::Mat> outs;
  try {
    loaded.net.setInput(blob);
    loaded.net.forward(outs, loaded.net.getUnconnectedOutLayersNames());
  } catch (const cv::Exception& e) {
    throw FormatError(what + " model does not run on a " + input_shape + " input (" + e.err + ")", path,
                      hint_for(weights));
  }
  for (cv::Mat& m : outs) {
    if (m.type() != CV_32F) throw FormatError(what + " model gives non-float32 outputs", path, hint_for(weights));
    m = m.clone();  // the outputs live in the net's buffers, which the next forward (another thread) reuses
  }
  return outs;
}

// --- stage 1: detector ---------------------------------------------------------------------------

cv::Mat letterbox_blob(const cv::Mat& rgb, const Letterbox& box) {
  cv::Mat resized;
  cv::resize(rgb, resized, cv::Size(box.width, box.height), 0, 0, cv::INTER_LINEAR);
  cv::Mat padded(kYoloxInputSize, kYoloxInputSize, CV_8UC3, cv::Scalar(114, 114, 114));
  resized.copyTo(padded(cv::Rect(0, 0, box.width, box.height)));
  const int dims[] = {1, 3, kYoloxInputSize, kYoloxInputSize};
  cv::Mat blob(4, dims, CV_32F);
  float* out = blob.ptr<float>();
  const std::size_t plane = static_cast<std::size_t>(kYoloxInputSize) * kYoloxInputSize;
  for (int y = 0; y < kYoloxInputSize; ++y) {
    const std::uint8_t* row = padded.ptr<std::uint8_t>(y);
    for (int x = 0; x < kYoloxInputSize; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * kYoloxInputSize + x;
      for (int c = 0; c < 3; ++c) out[c * plane + at] = static_cast<float>(row[x * 3 + c]);
    }
  }
  return blob;
}

int yolox_anchors(int input_size) {
  int n = 0;
  for (const int s : kStrides) n += (input_size / s) * (input_size / s);
  return n;
}

// --- stage 2: pose model -------------------------------------------------------------------------

cv::Mat pose_blob(const cv::Mat& rgb, const PoseCrop& crop) {
  // get_warp_matrix(center, scale, rot=0, (288, 384)): three float32 point pairs.
  const float cx = static_cast<float>(crop.center_x);
  const float cy = static_cast<float>(crop.center_y);
  cv::Point2f src[3];
  src[0] = {cx, cy};
  src[1] = {static_cast<float>(crop.center_x + 0.0), static_cast<float>(crop.center_y + crop.scale_w * -0.5)};
  const float dx = src[0].x - src[1].x;
  const float dy = src[0].y - src[1].y;
  src[2] = {src[1].x + -dy, src[1].y + dx};
  const float w = static_cast<float>(kDwposeInputWidth);
  const float h = static_cast<float>(kDwposeInputHeight);
  cv::Point2f dst[3];
  dst[0] = {w * 0.5f, h * 0.5f};
  dst[1] = {w * 0.5f, h * 0.5f + w * -0.5f};
  const float ddx = dst[0].x - dst[1].x;
  const float ddy = dst[0].y - dst[1].y;
  dst[2] = {dst[1].x + -ddy, dst[1].y + ddx};
  const cv::Mat warp = cv::getAffineTransform(src, dst);
  cv::Mat cropped;
  cv::warpAffine(rgb, cropped, warp, cv::Size(kDwposeInputWidth, kDwposeInputHeight), cv::INTER_LINEAR);

  const int dims[] = {1, 3, kDwposeInputHeight, kDwposeInputWidth};
  cv::Mat blob(4, dims, CV_32F);
  float* out = blob.ptr<float>();
  const std::size_t plane = static_cast<std::size_t>(kDwposeInputHeight) * kDwposeInputWidth;
  for (int y = 0; y < kDwposeInputHeight; ++y) {
    const std::uint8_t* row = cropped.ptr<std::uint8_t>(y);
    for (int x = 0; x < kDwposeInputWidth; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * kDwposeInputWidth + x;
      for (int c = 0; c < 3; ++c) {
        // (img - mean) / std in float64, then the DNN input's float32
        out[c * plane + at] = static_cast<float>((static_cast<double>(row[x * 3 + c]) - kMean[c]) / kStd[c]);
      }
    }
  }
  return blob;
}

bool is_shape(const cv::Mat& m, std::initializer_list<int> shape) {
  if (m.dims != static_cast<int>(shape.size())) return false;
  int i = 0;
  for (const int s : shape) {
    if (m.size[i++] != s) return false;
  }
  return true;
}

}  // namespace

// --- weights -------------------------------------------------------------------------------------

AnnotatorWeights dwpose_detector_weights() {
  return {
      {"yolox_l.onnx"}, kSubfolders, kSource, "Apache-2.0 (YOLOX-L, Megvii; the file as yzd-v/DWPose publishes it)"};
}

AnnotatorWeights dwpose_pose_weights() {
  return {{"dw-ll_ucoco_384.onnx"},
          kSubfolders,
          kSource,
          "Apache-2.0 (DWPose, IDEA-Research; the yzd-v/DWPose model page itself names no licence)"};
}

DwposeFiles find_dwpose_files(const std::vector<fs::path>& dirs) {
  DwposeFiles files;
  files.pose = find_annotator_weights("dw_openpose_full", dwpose_pose_weights(), dirs);
  files.detector = find_annotator_weights("dw_openpose_full", dwpose_detector_weights(), dirs);
  return files;
}

bool dwpose_available(const std::vector<fs::path>& dirs) {
  try {
    find_dwpose_files(dirs);
    return true;
  } catch (const FileError&) {
    return false;
  }
}

void clear_dwpose_cache() { cache().clear(); }

// --- pieces ----------------------------------------------------------------------------------------

Letterbox yolox_letterbox(int image_width, int image_height, int input_size) {
  if (image_width <= 0 || image_height <= 0) throw InvalidRequestError("DWPose: the image is empty");
  Letterbox box;
  box.ratio = std::min(static_cast<double>(input_size) / image_height, static_cast<double>(input_size) / image_width);
  box.width = static_cast<int>(image_width * box.ratio);  // int(): truncation
  box.height = static_cast<int>(image_height * box.ratio);
  return box;
}

std::vector<std::size_t> yolox_nms(std::span<const std::array<float, 4>> boxes, std::span<const float> scores,
                                   float threshold) {
  const std::size_t n = boxes.size();
  std::vector<float> areas(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& b = boxes[i];
    areas[i] = (b[2] - b[0] + 1.0f) * (b[3] - b[1] + 1.0f);
  }
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] > scores[b] || (!(scores[b] > scores[a]) && a > b); });
  std::vector<std::size_t> keep;
  while (!order.empty()) {
    const std::size_t i = order.front();
    keep.push_back(i);
    std::vector<std::size_t> rest;
    rest.reserve(order.size());
    for (std::size_t k = 1; k < order.size(); ++k) {
      const std::size_t j = order[k];
      const float xx1 = std::max(boxes[i][0], boxes[j][0]);
      const float yy1 = std::max(boxes[i][1], boxes[j][1]);
      const float xx2 = std::min(boxes[i][2], boxes[j][2]);
      const float yy2 = std::min(boxes[i][3], boxes[j][3]);
      const float w = std::max(0.0f, xx2 - xx1 + 1.0f);
      const float h = std::max(0.0f, yy2 - yy1 + 1.0f);
      const float inter = w * h;
      const float ovr = inter / (areas[i] + areas[j] - inter);
      if (ovr <= threshold) rest.push_back(j);
    }
    order = std::move(rest);
  }
  return keep;
}

std::optional<std::vector<std::array<double, 4>>> yolox_person_boxes(std::span<const float> output, int anchors,
                                                                     int channels, double ratio, int input_size) {
  if (channels < 6 || anchors != yolox_anchors(input_size) ||
      output.size() != static_cast<std::size_t>(anchors) * static_cast<std::size_t>(channels)) {
    throw InvalidRequestError("YOLOX output of " + std::to_string(anchors) + "x" + std::to_string(channels) +
                              " numbers, expected " + std::to_string(yolox_anchors(input_size)) +
                              " anchors of 4 box numbers, objectness and at least one class");
  }
  const float fratio = static_cast<float>(ratio);  // boxes_xyxy /= ratio: a float32 division
  std::vector<std::array<float, 4>> person_boxes;
  std::vector<float> person_scores;
  bool anything = false;
  int anchor = 0;
  for (const int stride : kStrides) {
    const int cells = input_size / stride;
    for (int gy = 0; gy < cells; ++gy) {
      for (int gx = 0; gx < cells; ++gx, ++anchor) {
        const float* o = output.data() + static_cast<std::size_t>(anchor) * channels;
        // demo_postprocess: float64 arithmetic stored back into the float32 array
        const float cx = static_cast<float>((static_cast<double>(o[0]) + gx) * stride);
        const float cy = static_cast<float>((static_cast<double>(o[1]) + gy) * stride);
        const float w = static_cast<float>(static_cast<double>(std::exp(o[2])) * stride);
        const float h = static_cast<float>(static_cast<double>(std::exp(o[3])) * stride);
        const float objectness = o[4];
        if (!anything) {
          for (int c = 5; c < channels; ++c) {
            if (objectness * o[c] > kClassScoreFloor) {
              anything = true;
              break;
            }
          }
        }
        const float score = objectness * o[5];
        if (!(score > kClassScoreFloor)) continue;
        person_boxes.push_back(
            {(cx - w / 2.0f) / fratio, (cy - h / 2.0f) / fratio, (cx + w / 2.0f) / fratio, (cy + h / 2.0f) / fratio});
        person_scores.push_back(score);
      }
    }
  }
  if (!anything) return std::nullopt;
  std::vector<std::array<double, 4>> out;
  for (const std::size_t i : yolox_nms(person_boxes, person_scores, kNmsThreshold)) {
    if (!(static_cast<double>(person_scores[i]) > kPersonScore)) continue;
    const auto& b = person_boxes[i];
    out.push_back({b[0], b[1], b[2], b[3]});
  }
  return out;
}

PoseCrop dwpose_crop(const std::array<double, 4>& box) {
  PoseCrop crop;
  crop.center_x = (box[0] + box[2]) * 0.5;
  crop.center_y = (box[1] + box[3]) * 0.5;
  const double w = (box[2] - box[0]) * kBoxPadding;
  const double h = (box[3] - box[1]) * kBoxPadding;
  const double aspect = static_cast<double>(kDwposeInputWidth) / kDwposeInputHeight;  // w / h = 0.75
  if (w > h * aspect) {
    crop.scale_w = w;
    crop.scale_h = w / aspect;
  } else {
    crop.scale_w = h * aspect;
    crop.scale_h = h;
  }
  return crop;
}

std::vector<SimccPoint> simcc_decode(std::span<const float> simcc_x, std::span<const float> simcc_y, int keypoints,
                                     int width_x, int width_y) {
  if (keypoints <= 0 || width_x <= 0 || width_y <= 0 ||
      simcc_x.size() != static_cast<std::size_t>(keypoints) * static_cast<std::size_t>(width_x) ||
      simcc_y.size() != static_cast<std::size_t>(keypoints) * static_cast<std::size_t>(width_y)) {
    throw InvalidRequestError("SimCC outputs do not hold " + std::to_string(keypoints) + " rows of " +
                              std::to_string(width_x) + " and " + std::to_string(width_y) + " bins");
  }
  // np.argmax: the first maximum (a NaN counts as the maximum, the first one wins).
  const auto argmax = [](const float* row, int n) {
    int best = 0;
    for (int i = 1; i < n; ++i) {
      if (std::isnan(row[best])) break;
      if (std::isnan(row[i]) || row[i] > row[best]) best = i;
    }
    return best;
  };
  std::vector<SimccPoint> out(static_cast<std::size_t>(keypoints));
  for (int k = 0; k < keypoints; ++k) {
    const float* rx = simcc_x.data() + static_cast<std::size_t>(k) * width_x;
    const float* ry = simcc_y.data() + static_cast<std::size_t>(k) * width_y;
    const int ix = argmax(rx, width_x);
    const int iy = argmax(ry, width_y);
    const float mx = rx[ix];
    const float my = ry[iy];
    SimccPoint& p = out[static_cast<std::size_t>(k)];
    p.score = mx > my ? my : mx;
    float lx = static_cast<float>(ix);
    float ly = static_cast<float>(iy);
    if (p.score <= 0.0f) lx = ly = -1.0f;
    p.x = lx / static_cast<float>(kSimccSplitRatio);
    p.y = ly / static_cast<float>(kSimccSplitRatio);
  }
  return out;
}

std::array<double, 2> simcc_to_image(const SimccPoint& point, const PoseCrop& crop) {
  return {static_cast<double>(point.x) / kDwposeInputWidth * crop.scale_w + crop.center_x - crop.scale_w / 2,
          static_cast<double>(point.y) / kDwposeInputHeight * crop.scale_h + crop.center_y - crop.scale_h / 2};
}

// --- the pipeline ----------------------------------------------------------------------------------

std::optional<std::vector<WholebodyPerson>> run_dwpose(const ControlImage& image, const DwposeFiles& files,
                                                       const std::stop_token& stop) {
  check_control_image(image, "DWPose input");
  const cv::Mat rgb = to_mat(hwc3(image));
  const AnnotatorWeights det_weights = dwpose_detector_weights();
  const AnnotatorWeights pose_weights = dwpose_pose_weights();

  // 1. detector
  const Letterbox box = yolox_letterbox(rgb.cols, rgb.rows);
  if (box.width < 1 || box.height < 1) {
    throw InvalidRequestError("DWPose: a " + image.describe() + " image is too thin for the 640x640 detector");
  }
  const auto detector = cache().get(files.detector, "DWPose detector", det_weights);
  if (stop.stop_requested()) return std::nullopt;
  const std::vector<cv::Mat> det_out =
      forward(*detector, letterbox_blob(rgb, box), files.detector, "DWPose detector", "1x3x640x640", det_weights);
  const int anchors = yolox_anchors(kYoloxInputSize);
  if (det_out.empty() || det_out[0].dims != 3 || det_out[0].size[0] != 1 || det_out[0].size[1] != anchors ||
      det_out[0].size[2] < 6) {
    throw FormatError("DWPose detector gives " + (det_out.empty() ? std::string("no output") : shape_text(det_out[0])) +
                          ", expected 1x" + std::to_string(anchors) + "x85 (YOLOX: 4 box numbers, objectness, classes)",
                      files.detector, hint_for(det_weights));
  }
  const cv::Mat& raw = det_out[0];
  const auto boxes =
      yolox_person_boxes(std::span<const float>(raw.ptr<float>(), raw.total()), raw.size[1], raw.size[2], box.ratio);
  if (!boxes) return std::vector<WholebodyPerson>{};
  if (stop.stop_requested()) return std::nullopt;

  // 2. pose model, one box at a time; no person among the detections: the whole image.
  std::vector<std::array<double, 4>> crops = *boxes;
  if (crops.empty()) crops.push_back({0.0, 0.0, static_cast<double>(rgb.cols), static_cast<double>(rgb.rows)});
  const auto pose = cache().get(files.pose, "DWPose pose", pose_weights);
  std::vector<WholebodyPerson> people;
  for (const auto& b : crops) {
    if (stop.stop_requested()) return std::nullopt;
    const PoseCrop crop = dwpose_crop(b);
    const std::vector<cv::Mat> out =
        forward(*pose, pose_blob(rgb, crop), files.pose, "DWPose pose", "1x3x384x288", pose_weights);
    const int wx = 2 * kDwposeInputWidth;
    const int wy = 2 * kDwposeInputHeight;
    if (out.size() != 2 || !is_shape(out[0], {1, kWholebodyPoints, wx}) ||
        !is_shape(out[1], {1, kWholebodyPoints, wy})) {
      std::string got;
      for (const cv::Mat& m : out) got += (got.empty() ? "" : ", ") + shape_text(m);
      throw FormatError("DWPose pose model gives " + (got.empty() ? std::string("no output") : got) +
                            ", expected simcc_x 1x133x576 and simcc_y 1x133x768 (COCO-WholeBody, 288x384 input)",
                        files.pose, hint_for(pose_weights));
    }
    const std::vector<SimccPoint> points =
        simcc_decode(std::span<const float>(out[0].ptr<float>(), out[0].total()),
                     std::span<const float>(out[1].ptr<float>(), out[1].total()), kWholebodyPoints, wx, wy);
    WholebodyPerson person;
    person.box = b;
    for (int k = 0; k < kWholebodyPoints; ++k) {
      person.keypoints[static_cast<std::size_t>(k)] = simcc_to_image(points[static_cast<std::size_t>(k)], crop);
      person.scores[static_cast<std::size_t>(k)] = points[static_cast<std::size_t>(k)].score;
    }
    people.push_back(person);
  }
  return people;
}

PosePerson wholebody_to_openpose(const WholebodyPerson& p) {
  // keypoints_info with the neck inserted at 17: 134 points of (x, y, score) in float64.
  struct Point {
    double x, y, score;
  };
  std::array<Point, kWholebodyPoints + 1> info{};
  for (int k = 0, at = 0; k < kWholebodyPoints; ++k, ++at) {
    if (k == 17) ++at;
    info[static_cast<std::size_t>(at)] = {p.keypoints[static_cast<std::size_t>(k)][0],
                                          p.keypoints[static_cast<std::size_t>(k)][1],
                                          static_cast<double>(p.scores[static_cast<std::size_t>(k)])};
  }
  const Point& ls = info[5];
  const Point& rs = info[6];
  info[17] = {(ls.x + rs.x) / 2.0, (ls.y + rs.y) / 2.0,
              (ls.score > kKeypointScore && rs.score > kKeypointScore) ? 1.0 : 0.0};
  // new_keypoints_info[:, openpose_idx] = new_keypoints_info[:, mmpose_idx] (all read first)
  constexpr std::array<int, 15> mmpose{17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3};
  constexpr std::array<int, 15> openpose{1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17};
  const auto before = info;
  for (std::size_t i = 0; i < mmpose.size(); ++i) {
    info[static_cast<std::size_t>(openpose[i])] = before[static_cast<std::size_t>(mmpose[i])];
  }

  // format_result: kept (score >= 0.3) -> [x, y, 1]; dropped -> [0, 0, 0]. A point whose numbers
  // are not finite or beyond the pose limits (wild weights) is dropped too.
  const auto keypoint = [](const Point& q) {
    const bool sane =
        std::isfinite(q.x) && std::isfinite(q.y) && std::abs(q.x) <= kMaxCoordinate && std::abs(q.y) <= kMaxCoordinate;
    return (q.score >= kKeypointScore && sane) ? Keypoint{q.x, q.y, 1.0} : Keypoint{};
  };
  const auto part = [&](int begin, int end) {
    std::vector<Keypoint> points;
    bool any = false;
    for (int i = begin; i < end; ++i) {
      points.push_back(keypoint(info[static_cast<std::size_t>(i)]));
      any = any || points.back().confidence > 0;
    }
    return any ? points : std::vector<Keypoint>{};
  };
  PosePerson person;
  for (std::size_t i = 0; i < kBodyPoints; ++i) person.body[i] = keypoint(info[i]);
  person.left_hand = part(92, 113);
  person.right_hand = part(113, 134);
  person.face = part(24, 92);
  if (!person.face.empty()) {
    // OpenPose faces have 70 points; DWPose 68: the reference appends body points 14 and 15.
    person.face.push_back(person.body[14]);
    person.face.push_back(person.body[15]);
  }
  return person;
}

std::optional<PoseScene> detect_dwpose(const ControlImage& image, const DwposeFiles& files,
                                       const std::stop_token& stop) {
  const auto people = run_dwpose(image, files, stop);
  if (!people) return std::nullopt;
  PoseScene scene;
  scene.canvas_width = image.width;
  scene.canvas_height = image.height;
  for (const WholebodyPerson& p : *people) scene.people.push_back(wholebody_to_openpose(p));
  return scene;
}

ControlImage dwpose_a1111(const ControlImage& image, int resolution, const DwposeFiles& files,
                          const PreprocessorContext& context, PoseScene* scene_out) {
  const PaddedImage padded = resize_image_with_pad(image, resolution);
  if (context.stop.stop_requested()) return {};
  const auto scene = detect_dwpose(padded.padded, files, context.stop);
  if (!scene) return {};
  if (scene_out) *scene_out = *scene;
  PoseRenderOptions options;  // A1111's draw_poses, body + hands + face
  return remove_pad(padded, render_pose(*scene, options));
}

void register_dwpose_preprocessors() {
  static std::once_flag once;
  std::call_once(once, [] {
    Preprocessor p;
    p.name = "dw_openpose_full";
    p.label = "dw_openpose_full";
    p.takes_resolution = true;
    p.default_resolution = 512;
    p.weights = dwpose_pose_weights();
    p.more_weights = {dwpose_detector_weights()};
    p.run = [](const ControlImage& image, int resolution, const PreprocessorParams&,
               const PreprocessorContext& context) {
      return dwpose_a1111(image, resolution, find_dwpose_files(context.annotator_dirs), context);
    };
    register_preprocessor(std::move(p));
  });
}

}  // namespace kiln::control
