#pragma once
// Faces by dlib's HOG frontal face detector, optionally refined by the 68-point landmark model.
// The landmark model is never bundled (its training data excludes commercial use): it is used
// only when the system has it (Debian's libdlib-data), and the crop works without it.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dataset/geometry.h"

namespace cv {
class Mat;
}

namespace kiln::dataset {

// Where Debian's libdlib-data puts the landmark model.
inline constexpr const char* kSystemLandmarkModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

struct FaceDetectorOptions {
  // The detector runs on a copy whose longer side is at most this (HOG cost grows with pixels;
  // dlib's window is 80 px, so faces under ~6 % of the longer side need the second pass).
  int detect_max_side = 1280;
  // While a pass finds no face of at least weak_score: once more at twice the scale (dlib's
  // "upsample"), up to twice the full resolution and detect_max_pixels.
  bool upsample_when_none = true;
  double detect_max_pixels = 14e6;
  double min_score = 0.0;   // dlib's adjust_threshold
  double weak_score = 0.3;  // weaker detections are dropped when a stronger one exists
  bool use_landmarks = true;
  std::filesystem::path landmark_model = kSystemLandmarkModel;  // a missing file means "none"
};

struct DetectedFace {
  Box box;               // displayed pixels, full size
  double score = 0;      // dlib's detection confidence
  bool refined = false;  // box is the bounding box of the 68 landmarks, else dlib's square
};

// Not thread-safe (dlib's detector keeps scratch state): one per thread. Copies share the
// landmark model, which is loaded once per process.
class FaceDetector {
 public:
  explicit FaceDetector(const FaceDetectorOptions& options = {});
  ~FaceDetector();
  FaceDetector(FaceDetector&&) noexcept;
  FaceDetector& operator=(FaceDetector&&) noexcept;

  // `bgr`: upright CV_8UC3, `reduction` times smaller than the displayed image (see
  // LoadedImage); boxes come back in full-size displayed pixels, largest first.
  std::vector<DetectedFace> detect(const cv::Mat& bgr, int reduction = 1);

  bool has_landmarks() const;
  // Why the landmark model is not used although asked for (unreadable file); empty otherwise.
  const std::string& landmark_warning() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::dataset
