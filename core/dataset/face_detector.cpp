#include "dataset/face_detector.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

namespace kiln::dataset {

namespace fs = std::filesystem;

namespace {

// One landmark model per file per process (~100 MB, ~1 s to read); shape_predictor's
// operator() is const, so threads share it.
std::shared_ptr<const dlib::shape_predictor> shared_landmark_model(const fs::path& path, std::string& warning) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const dlib::shape_predictor>> cache;
  const std::lock_guard lock(mutex);
  auto& slot = cache[path.string()];
  if (auto model = slot.lock()) return model;
  try {
    auto model = std::make_shared<dlib::shape_predictor>();
    dlib::deserialize(path.string()) >> *model;
    if (model->num_parts() != 68) {
      warning = path.string() + ": not a 68-point landmark model (" + std::to_string(model->num_parts()) + " points)";
      return nullptr;
    }
    slot = model;
    return model;
  } catch (const std::exception& e) {
    warning = path.string() + ": cannot read the landmark model: " + e.what();
    return nullptr;
  }
}

}  // namespace

struct FaceDetector::Impl {
  FaceDetectorOptions options;
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  std::shared_ptr<const dlib::shape_predictor> landmarks;
  std::string landmark_warning;

  std::vector<dlib::rect_detection> scan(const cv::Mat& image) {
    const dlib::cv_image<dlib::bgr_pixel> view(image);
    std::vector<dlib::rect_detection> found;
    detector(view, found, options.min_score);
    return found;
  }

  void refine(const cv::Mat& bgr, int reduction, DetectedFace& face);
};

// dlib's boxes come in the sizes of its image pyramid (steps of 6/5) and as the whole 80 px
// window for faces near that size, so two faces of quite different sizes can get the same box.
// Detecting again on the face's surroundings, scaled so that the face is ~120 px, at three
// offsets a third of a pyramid step apart, and averaging gives a finer box. The landmark model
// (when present) then starts from a box drawn by dlib at a scale where the face is 100-200 px.
void FaceDetector::Impl::refine(const cv::Mat& bgr, int reduction, DetectedFace& face) {
  constexpr double kFaceSide = 120.0;      // pixels: dlib's detector measures well from here
  constexpr double kLandmarkSide = 200.0;  // ... and its landmark model fits well up to here
  const double to_bgr = 1.0 / reduction;
  const int side = std::max(1, static_cast<int>(std::lround(std::max(face.box.w, face.box.h) * to_bgr)));
  // The face and its size again around it: with less room, dlib's boxes near the region's
  // border come out worse (measured on tests/data/faces).
  const Box around = intersect({static_cast<int>(std::lround(face.box.x * to_bgr)) - side,
                                static_cast<int>(std::lround(face.box.y * to_bgr)) - side, 3 * side, 3 * side},
                               {0, 0, bgr.cols, bgr.rows});
  if (around.empty()) return;
  const cv::Mat crop = bgr(cv::Rect(around.x, around.y, around.w, around.h));
  const auto to_full = [&](double v, double scale, int origin) { return (v / scale + origin) * reduction; };
  // In `crop` scaled by `scale`: the detection whose centre lies in the face's box, nearest its
  // centre.
  const auto match = [&](const cv::Mat& image, double scale) -> std::optional<dlib::rect_detection> {
    std::optional<dlib::rect_detection> chosen;
    double nearest = 0;
    for (const auto& d : scan(image)) {
      const double cx = to_full((d.rect.left() + d.rect.right() + 1) / 2.0, scale, around.x);
      const double cy = to_full((d.rect.top() + d.rect.bottom() + 1) / 2.0, scale, around.y);
      if (cx < face.box.x || cx > face.box.right() || cy < face.box.y || cy > face.box.bottom()) continue;
      const double dist = std::hypot(cx - face.box.centre_x(), cy - face.box.centre_y());
      if (!chosen || dist < nearest) {
        nearest = dist;
        chosen = d;
      }
    }
    return chosen;
  };

  // At most twice the full resolution (dlib's "upsample 1").
  const double base = std::min(kFaceSide / side, 2.0 * reduction);
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int matches = 0;
  for (int k = 0; k < 3; ++k) {
    const double scale = base * std::pow(1.2, k / 3.0);
    cv::Mat region;
    cv::resize(crop, region, cv::Size(), scale, scale, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    const auto d = match(region, scale);
    if (!d) continue;
    x0 += to_full(d->rect.left(), scale, around.x);
    y0 += to_full(d->rect.top(), scale, around.y);
    x1 += to_full(d->rect.right() + 1, scale, around.x);
    y1 += to_full(d->rect.bottom() + 1, scale, around.y);
    face.score = std::max(face.score, d->detection_confidence);
    ++matches;
  }
  if (matches > 0) {
    const double n = matches;
    face.box = {static_cast<int>(std::lround(x0 / n)), static_cast<int>(std::lround(y0 / n)),
                static_cast<int>(std::lround((x1 - x0) / n)), static_cast<int>(std::lround((y1 - y0) / n))};
  }
  if (!landmarks) return;

  // The landmark model was trained on dlib's own boxes: start it from one, found again where
  // the face is 100-200 px (upscaled when smaller, at most to twice the full resolution).
  const double refined_side = std::max(face.box.w, face.box.h) * to_bgr;
  const double lscale = refined_side >= 100 ? std::min(1.0, kLandmarkSide / refined_side)
                                            : std::min(kFaceSide / std::max(refined_side, 1.0), 2.0 * reduction);
  cv::Mat image = crop;
  if (lscale != 1.0) cv::resize(crop, image, cv::Size(), lscale, lscale, cv::INTER_LINEAR);
  const auto to_image = [&](double v, int origin) { return std::lround((v / reduction - origin) * lscale); };
  dlib::rectangle init(to_image(face.box.x, around.x), to_image(face.box.y, around.y),
                       to_image(face.box.right(), around.x) - 1, to_image(face.box.bottom(), around.y) - 1);
  if (const auto d = match(image, lscale)) init = d->rect;
  const dlib::full_object_detection shape = (*landmarks)(dlib::cv_image<dlib::bgr_pixel>(image), init);
  double lx0 = 1e18, ly0 = 1e18, lx1 = -1e18, ly1 = -1e18;
  for (unsigned long i = 0; i < shape.num_parts(); ++i) {
    const dlib::point& p = shape.part(i);
    lx0 = std::min(lx0, to_full(p.x(), lscale, around.x));
    ly0 = std::min(ly0, to_full(p.y(), lscale, around.y));
    lx1 = std::max(lx1, to_full(p.x() + 1, lscale, around.x));
    ly1 = std::max(ly1, to_full(p.y() + 1, lscale, around.y));
  }
  const Box fitted{static_cast<int>(std::lround(lx0)), static_cast<int>(std::lround(ly0)),
                   static_cast<int>(std::lround(lx1 - lx0)), static_cast<int>(std::lround(ly1 - ly0))};
  // A fit that wandered off the detection (profile, occlusion) is worse than dlib's box.
  if (!fitted.empty() && iou(fitted, face.box) >= 0.3) {
    face.box = fitted;
    face.refined = true;
  }
}

FaceDetector::FaceDetector(const FaceDetectorOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  if (options.use_landmarks && !options.landmark_model.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(options.landmark_model, ec)) {
      impl_->landmarks = shared_landmark_model(options.landmark_model, impl_->landmark_warning);
    }
  }
}

FaceDetector::~FaceDetector() = default;
FaceDetector::FaceDetector(FaceDetector&&) noexcept = default;
FaceDetector& FaceDetector::operator=(FaceDetector&&) noexcept = default;

bool FaceDetector::has_landmarks() const { return impl_->landmarks != nullptr; }
const std::string& FaceDetector::landmark_warning() const { return impl_->landmark_warning; }

std::vector<DetectedFace> FaceDetector::detect(const cv::Mat& bgr, int reduction) {
  // dlib's HOG needs a few cells around an 80 px window; smaller images have no face to find.
  if (bgr.empty() || std::min(bgr.cols, bgr.rows) < 40) return {};
  const FaceDetectorOptions& o = impl_->options;
  const int longer = std::max(bgr.cols, bgr.rows);
  const double pixels = static_cast<double>(bgr.cols) * bgr.rows;
  const Box bounds{0, 0, bgr.cols * reduction, bgr.rows * reduction};

  std::vector<DetectedFace> faces;  // the best pass so far
  double best = -1;
  for (double scale = std::min(1.0, static_cast<double>(o.detect_max_side) / longer);; scale *= 2) {
    cv::Mat scaled;
    if (scale == 1.0)
      scaled = bgr;
    else
      cv::resize(bgr, scaled, cv::Size(), scale, scale, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    // Back to full-size displayed pixels, then refined one by one.
    const double to_full = reduction / scale;
    std::vector<DetectedFace> found;
    for (const auto& d : impl_->scan(scaled)) {
      const double x0 = d.rect.left() * to_full, y0 = d.rect.top() * to_full;
      const double x1 = (d.rect.right() + 1) * to_full, y1 = (d.rect.bottom() + 1) * to_full;
      DetectedFace f{{static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0)),
                      static_cast<int>(std::lround(x1 - x0)), static_cast<int>(std::lround(y1 - y0))},
                     d.detection_confidence,
                     false};
      impl_->refine(bgr, reduction, f);
      f.box = intersect(f.box, bounds);
      if (!f.box.empty()) found.push_back(f);
    }
    double top = -1;
    for (const auto& f : found) top = std::max(top, f.score);
    if (top > best) {
      best = top;
      faces = std::move(found);
    }
    // A confident face ends the search; weak ones (texture, patches) may hide a small real face
    // that the next, finer pass finds.
    const double next = 2 * scale;
    if (best >= o.weak_score || !o.upsample_when_none) break;
    if (next / reduction > 2.0 || pixels * next * next > o.detect_max_pixels) break;
  }
  std::erase_if(faces, [&](const DetectedFace& f) { return f.score < o.weak_score && f.score < best; });
  std::stable_sort(faces.begin(), faces.end(),
                   [](const DetectedFace& a, const DetectedFace& b) { return a.box.area() > b.box.area(); });
  return faces;
}

}  // namespace kiln::dataset
