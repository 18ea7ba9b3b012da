// A1111 sd-webui-controlnet's preprocessors that need no network: model_free_preprocessors.py
// (canny, invert, blur_gaussian, scribble_xdog) and the legacy processor.py (threshold,
// lineart_standard, tile_resample), plus controlnet_aux 0.0.10's CannyDetector and
// LineartStandardDetector. Every input here is CV_8UC3 RGB (HWC3 already applied).

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "base/error.h"
#include "control/cv_ops.h"
#include "control/numpy_compat.h"

namespace kiln::control::cv_ops {

namespace {

cv::Mat gray_to_rgb(const cv::Mat& gray) {
  cv::Mat out;
  cv::cvtColor(gray, out, cv::COLOR_GRAY2RGB);
  return out;
}

// np.min(a, axis=2) of a 3-channel Mat of type T, as a 1-channel Mat of type T.
template <typename T>
cv::Mat channel_min(const cv::Mat& a) {
  cv::Mat out(a.rows, a.cols, CV_MAKETYPE(a.depth(), 1));
  for (int r = 0; r < a.rows; ++r) {
    const T* p = a.ptr<T>(r);
    T* o = out.ptr<T>(r);
    for (int c = 0; c < a.cols; ++c, p += 3) o[c] = std::min(std::min(p[0], p[1]), p[2]);
  }
  return out;
}

// np.median of float32 values: the middle one, or the float32 mean of the two middle ones.
// NaN for none.
float median_float32(std::vector<float> v) {
  if (v.empty()) return std::nanf("");
  const std::size_t n = v.size();
  auto upper = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(v.begin(), upper, v.end());
  const float hi = *upper;
  if (n % 2) return hi;
  const float lo = *std::max_element(v.begin(), upper);
  return (lo + hi) / 2.0f;
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

cv::Mat canny(const cv::Mat& rgb, int resolution, double low_threshold, double high_threshold) {
  const PaddedMat p = resize_image_with_pad(rgb, resolution);
  // On the 3-channel image (per pixel, the channel with the largest gradient: trap 11);
  // int(slider) truncates.
  cv::Mat edges;
  cv::Canny(p.padded, edges, static_cast<int>(low_threshold), static_cast<int>(high_threshold));
  return p.remove_pad(gray_to_rgb(edges));
}

cv::Mat invert(const cv::Mat& rgb) {
  cv::Mat out;
  cv::bitwise_not(rgb, out);  // 255 - x
  return out;
}

cv::Mat threshold(const cv::Mat& rgb, int resolution, double threshold) {
  const PaddedMat p = resize_image_with_pad(rgb, resolution);
  const cv::Mat lowest = channel_min<std::uint8_t>(p.padded);
  const double thr = numpy::as_float16(threshold);  // uint8 > Python float: compared in float16
  cv::Mat out = cv::Mat::zeros(lowest.size(), CV_8UC1);
  for (int r = 0; r < lowest.rows; ++r) {
    const std::uint8_t* l = lowest.ptr<std::uint8_t>(r);
    std::uint8_t* o = out.ptr<std::uint8_t>(r);
    for (int c = 0; c < lowest.cols; ++c) o[c] = l[c] > thr ? 255 : 0;
  }
  return p.remove_pad(gray_to_rgb(out));
}

cv::Mat scribble_xdog(const cv::Mat& rgb, int resolution, double threshold) {
  const PaddedMat p = resize_image_with_pad(rgb, resolution);
  cv::Mat x, g1, g2;
  p.padded.convertTo(x, CV_32F);
  // float32 blurs: kernel sizes from the float rule (trap 16: 5 and 41).
  cv::GaussianBlur(x, g1, cv::Size(0, 0), 0.5);
  cv::GaussianBlur(x, g2, cv::Size(0, 0), 5.0);
  const cv::Mat lowest = channel_min<float>(g2 - g1);
  const double thr = numpy::as_float16(threshold);
  cv::Mat out(lowest.size(), CV_8UC1);
  for (int r = 0; r < lowest.rows; ++r) {
    const float* l = lowest.ptr<float>(r);
    std::uint8_t* o = out.ptr<std::uint8_t>(r);
    for (int c = 0; c < lowest.cols; ++c) {
      const std::uint8_t dog = numpy::clip_to_uint8(255.0f - l[c]);
      // 2 * (255 - dog) stays uint8 in numpy and wraps (trap 5): 128 -> 0.
      const auto doubled = static_cast<std::uint8_t>(2 * (255 - dog));
      o[c] = doubled > thr ? 255 : 0;
    }
  }
  return p.remove_pad(gray_to_rgb(out));
}

cv::Mat lineart_standard_intensity(const cv::Mat& rgb, double gaussian_sigma, double intensity_threshold) {
  cv::Mat x, g;
  rgb.convertTo(x, CV_32F);
  cv::GaussianBlur(x, g, cv::Size(0, 0), gaussian_sigma);  // float32: sigma 6 -> 49 taps
  cv::Mat intensity = channel_min<float>(g - x);
  const float selection = static_cast<float>(intensity_threshold);  // float32 array > scalar
  std::vector<float> selected;
  for (int r = 0; r < intensity.rows; ++r) {
    float* v = intensity.ptr<float>(r);
    for (int c = 0; c < intensity.cols; ++c) {
      v[c] = std::clamp(v[c], 0.0f, 255.0f);
      if (v[c] > selection) selected.push_back(v[c]);
    }
  }
  // max(16, median): Python's max keeps 16 unless the median is larger (NaN is not) (trap 6).
  const float median = median_float32(std::move(selected));
  const float divisor = median > 16.0f ? median : 16.0f;
  cv::Mat out(intensity.size(), CV_8UC1);
  for (int r = 0; r < intensity.rows; ++r) {
    const float* v = intensity.ptr<float>(r);
    std::uint8_t* o = out.ptr<std::uint8_t>(r);
    for (int c = 0; c < intensity.cols; ++c) {
      float scaled = v[c] / divisor;  // intensity /= ...
      scaled = scaled * 127.0f;       // intensity *= 127
      o[c] = numpy::clip_to_uint8(scaled);
    }
  }
  return out;
}

cv::Mat lineart_standard(const cv::Mat& rgb, int resolution) {
  const PaddedMat p = resize_image_with_pad(rgb, resolution);
  return p.remove_pad(gray_to_rgb(lineart_standard_intensity(p.padded, 6.0, 8.0)));
}

cv::Mat tile_resample(const cv::Mat& rgb, double rate) {
  if (rate < 1.1) return rgb.clone();
  // int(H / rate): truncation (trap 3).
  const int h = static_cast<int>(static_cast<double>(rgb.rows) / rate);
  const int w = static_cast<int>(static_cast<double>(rgb.cols) / rate);
  if (h <= 0 || w <= 0) {
    throw InvalidRequestError("tile_resample: a " + std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows) +
                                  " image down-sampled by " + number(rate) + " would be empty",
                              "use a smaller down-sampling rate");
  }
  cv::Mat out;
  cv::resize(rgb, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat blur_gaussian(const cv::Mat& rgb, int resolution, double sigma) {
  const PaddedMat p = resize_image_with_pad(rgb, resolution);
  cv::Mat out;
  // After remove_pad, on uint8 (8-bit kernel size rule: sigma 9 -> 55 taps; trap 16).
  cv::GaussianBlur(p.remove_pad(p.padded), out, cv::Size(0, 0), sigma);
  return out;
}

cv::Mat canny_controlnet_aux(const cv::Mat& rgb, int low_threshold, int high_threshold, int detect_resolution,
                             int image_resolution) {
  const cv::Mat detect = resize_image(rgb, detect_resolution);
  cv::Mat edges;
  cv::Canny(detect, edges, low_threshold, high_threshold);
  // The output size is resize_image's for the *detection* image at image_resolution.
  const cv::Mat sized = resize_image(detect, image_resolution);
  cv::Mat out;
  cv::resize(gray_to_rgb(edges), out, sized.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat lineart_standard_controlnet_aux(const cv::Mat& rgb, double gaussian_sigma, double intensity_threshold,
                                        int detect_resolution) {
  const cv::Mat detect = resize_image(rgb, detect_resolution);
  const cv::Mat map = gray_to_rgb(lineart_standard_intensity(detect, gaussian_sigma, intensity_threshold));
  cv::Mat out;
  cv::resize(map, out, rgb.size(), 0, 0, cv::INTER_CUBIC);
  return out;
}

}  // namespace kiln::control::cv_ops
