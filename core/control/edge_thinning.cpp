// A1111 scripts/lvminthin.py ("High Quality Edge Thinning using Pure Python", Lvmin Zhang),
// used by detectmap_proc when a one-pixel edge map (canny, scribble) is resized.

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <vector>

#include "control/cv_ops.h"

namespace kiln::control::cv_ops {

namespace {

using Kernel = std::array<std::array<int, 3>, 3>;

// np.rot90(m, k=1, axes=(0, 1)): out[i][j] = m[j][2 - i] (counter-clockwise).
Kernel rot90(const Kernel& m) {
  Kernel out{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) out[i][j] = m[j][2 - i];
  return out;
}

// [raw0, raw1, rot90(raw0), rot90(raw1), rot180(raw0), ...]: the reference's list order, which
// matters because every kernel removes pixels before the next one looks.
std::vector<cv::Mat> rotated_kernels(const Kernel& a, const Kernel& b) {
  std::vector<cv::Mat> out;
  Kernel ra = a, rb = b;
  for (int k = 0; k < 4; ++k) {
    for (const Kernel* m : {&ra, &rb}) {
      cv::Mat mat(3, 3, CV_32S);  // hit-or-miss kernel: 1 foreground, -1 background, 0 don't care
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) mat.at<int>(i, j) = (*m)[i][j];
      out.push_back(mat);
    }
    ra = rot90(ra);
    rb = rot90(rb);
  }
  return out;
}

const std::vector<cv::Mat>& thinning_kernels() {
  static const std::vector<cv::Mat> k = rotated_kernels({{{-1, -1, -1}, {0, 1, 0}, {1, 1, 1}}},  //
                                                        {{{0, -1, -1}, {1, 1, -1}, {0, 1, 0}}});
  return k;
}

const std::vector<cv::Mat>& pruning_kernels() {
  static const std::vector<cv::Mat> k =
      rotated_kernels({{{-1, -1, -1}, {-1, 1, -1}, {0, 0, -1}}}, {{{-1, -1, -1}, {-1, 1, -1}, {-1, 0, 0}}});
  return k;
}

// remove_pattern: zero every pixel the hit-or-miss transform marks (> 127); true if any.
bool remove_pattern(cv::Mat& x, const cv::Mat& kernel) {
  cv::Mat hits;
  cv::morphologyEx(x, hits, cv::MORPH_HITMISS, kernel);
  const cv::Mat marked = hits > 127;
  if (cv::countNonZero(marked) == 0) return false;
  x.setTo(0, marked);
  return true;
}

// thin_one_time: true when no kernel changed anything.
bool thin_one_time(cv::Mat& x, const std::vector<cv::Mat>& kernels) {
  bool done = true;
  for (const cv::Mat& k : kernels) {
    if (remove_pattern(x, k)) done = false;
  }
  return done;
}

}  // namespace

cv::Mat nake_nms(const cv::Mat& map) {
  CV_Assert(map.type() == CV_8UC1);
  static const std::array<cv::Mat, 4> lines = {
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 0, 0, 0, 1, 1, 1, 0, 0, 0)),
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 0, 1, 0, 0, 1, 0, 0, 1, 0)),
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 1, 0, 0, 0, 1, 0, 0, 0, 1)),
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 0, 0, 1, 0, 1, 0, 1, 0, 0)),
  };
  cv::Mat out = cv::Mat::zeros(map.size(), CV_8UC1);
  for (const cv::Mat& f : lines) {
    cv::Mat dilated;
    cv::dilate(map, dilated, f);
    map.copyTo(out, dilated == map);  // np.putmask(y, dilate(x, f) == x, x)
  }
  return out;
}

cv::Mat lvmin_thin(const cv::Mat& map, bool prunings) {
  CV_Assert(map.type() == CV_8UC1);
  cv::Mat y = map.clone();
  for (int i = 0; i < 32; ++i) {
    if (thin_one_time(y, thinning_kernels())) break;
  }
  if (prunings) thin_one_time(y, pruning_kernels());
  return y;
}

}  // namespace kiln::control::cv_ops
