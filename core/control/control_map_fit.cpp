// A1111 sd-webui-controlnet `Script.detectmap_proc` and its `high_quality_resize` (golden README
// traps 8, 13, 14, 26), on cv::Mats: CV_8UC3 maps, or CV_32FC4 for inpaint.

#include "control/control_map_fit.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "base/error.h"
#include "control/cv_ops.h"
#include "control/mat_convert.h"
#include "control/numpy_compat.h"

namespace kiln::control {

namespace cv_ops {

namespace {

// len(get_unique_axis0(x.reshape(-1, 3))): distinct RGB triples.
std::size_t unique_colour_count(const cv::Mat& x) {
  CV_Assert(x.channels() == 3);
  if (x.depth() == CV_8U) {
    std::vector<std::uint64_t> seen(std::size_t{1} << 18, 0);  // one bit per 24-bit colour
    std::size_t count = 0;
    for (int r = 0; r < x.rows; ++r) {
      const std::uint8_t* p = x.ptr<std::uint8_t>(r);
      for (int c = 0; c < x.cols; ++c, p += 3) {
        const std::uint32_t key = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
        std::uint64_t& word = seen[key >> 6];
        const std::uint64_t bit = std::uint64_t{1} << (key & 63);
        if (!(word & bit)) {
          word |= bit;
          ++count;
        }
      }
    }
    return count;
  }
  CV_Assert(x.depth() == CV_32F);
  std::vector<std::array<float, 3>> colours;
  colours.reserve(static_cast<std::size_t>(x.rows) * x.cols);
  for (int r = 0; r < x.rows; ++r) {
    const float* p = x.ptr<float>(r);
    for (int c = 0; c < x.cols; ++c, p += 3) colours.push_back({p[0], p[1], p[2]});
  }
  std::sort(colours.begin(), colours.end());
  return static_cast<std::size_t>(std::unique(colours.begin(), colours.end()) - colours.begin());
}

// Elements (pixels x channels) where the mask holds.
int count_elements(const cv::Mat& mask) { return cv::countNonZero(mask.reshape(1)); }

// np.mean(y.astype(np.float32), axis=2).clip(0, 255).astype(np.uint8) (trap 8): float32 sum in
// channel order, / 3, truncated.
cv::Mat channel_average(const cv::Mat& y) {
  cv::Mat yf;
  y.convertTo(yf, CV_32F);
  cv::Mat out(y.rows, y.cols, CV_8UC1);
  for (int r = 0; r < y.rows; ++r) {
    const float* p = yf.ptr<float>(r);
    std::uint8_t* o = out.ptr<std::uint8_t>(r);
    for (int c = 0; c < y.cols; ++c, p += 3) {
      float sum = p[0];
      sum += p[1];
      sum += p[2];
      o[c] = numpy::clip_to_uint8(sum / 3.0f);
    }
  }
  return out;
}

cv::Mat otsu(const cv::Mat& y) {
  cv::Mat out;
  cv::threshold(y, out, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  return out;
}

// np.median(borders, axis=0).astype(dtype) over the top row, bottom row, left column and right
// column (corners twice). uint8: the mean of the two middle values in float64, truncated
// (x.5 -> x); float32: their mean in float32.
cv::Scalar border_median(const cv::Mat& map) {
  const int channels = map.channels();
  cv::Scalar colour;
  for (int ch = 0; ch < channels; ++ch) {
    std::vector<double> v;
    v.reserve(2 * static_cast<std::size_t>(map.rows + map.cols));
    auto value = [&](int r, int c) -> double {
      return map.depth() == CV_8U ? map.ptr<std::uint8_t>(r)[c * channels + ch] : map.ptr<float>(r)[c * channels + ch];
    };
    for (int c = 0; c < map.cols; ++c) v.push_back(value(0, c));
    for (int c = 0; c < map.cols; ++c) v.push_back(value(map.rows - 1, c));
    for (int r = 0; r < map.rows; ++r) v.push_back(value(r, 0));
    for (int r = 0; r < map.rows; ++r) v.push_back(value(r, map.cols - 1));
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    if (map.depth() == CV_8U) {
      const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
      colour[ch] = numpy::clip_to_uint8(median);
    } else {
      const float median = n % 2 ? static_cast<float>(v[n / 2])
                                 : (static_cast<float>(v[n / 2 - 1]) + static_cast<float>(v[n / 2])) / 2.0f;
      colour[ch] = median;
    }
  }
  return colour;
}

}  // namespace

cv::Mat high_quality_resize(const cv::Mat& map, int width, int height) {
  CV_Assert((map.type() == CV_8UC3) || (map.type() == CV_32FC4));
  if (width <= 0 || height <= 0) {  // an extreme aspect ratio scaled into a small target
    throw InvalidRequestError("a " + std::to_string(map.cols) + "x" + std::to_string(map.rows) +
                                  " control map would be resized to " + std::to_string(width) + "x" +
                                  std::to_string(height),
                              "use a control image closer to the generation's aspect ratio");
  }
  cv::Mat x = map;
  cv::Mat mask;
  const bool has_mask = map.channels() == 4;
  if (has_mask) {
    std::vector<cv::Mat> planes;
    cv::split(map, planes);
    mask = planes[3];
    planes.pop_back();
    cv::merge(planes, x);
  }

  cv::Mat y;
  if (x.rows != height || x.cols != width) {
    const std::int64_t new_area = static_cast<std::int64_t>(width) * height;
    const std::int64_t old_area = static_cast<std::int64_t>(x.cols) * x.rows;
    const bool smaller = new_area < old_area;
    const bool bigger = new_area > old_area;
    const std::size_t colours = unique_colour_count(x);
    bool binary = false;
    bool one_pixel_edge = false;
    if (colours == 2) {
      double lo = 0, hi = 0;
      cv::minMaxLoc(x.reshape(1), &lo, &hi);
      binary = lo < 16 && hi > 240;
      if (binary) {
        // Most "on" elements vanish under an opening: the edges are one pixel wide.
        const cv::Mat ones = cv::Mat::ones(3, 3, CV_8U);
        cv::Mat opened;
        cv::erode(x, opened, ones);
        cv::dilate(opened, opened, ones);
        const int one_pixel = count_elements(opened < x);
        const int edges = count_elements(x > 127);
        one_pixel_edge = one_pixel * 2 > edges;
      }
    }
    int interpolation = cv::INTER_CUBIC;  // the reference insists on CUBIC up-scaling (nms follows)
    if (colours > 2 && colours < 200) {
      interpolation = cv::INTER_NEAREST;  // few colours: pose, segmentation
    } else if (smaller) {
      interpolation = cv::INTER_AREA;
    }
    cv::resize(x, y, cv::Size(width, height), 0, 0, interpolation);
    if (has_mask) cv::resize(mask, mask, cv::Size(width, height), 0, 0, interpolation);

    if (binary) {
      cv::Mat g = channel_average(y);
      if (one_pixel_edge) {
        g = nake_nms(g);
        g = otsu(g);
        g = lvmin_thin(g, bigger);
      } else {
        g = otsu(g);
      }
      cv::merge(std::vector<cv::Mat>{g, g, g}, y);
    }
  } else {
    y = x.clone();
  }

  if (has_mask) {
    // (mask > 127) * 255 as the 4th channel; the colour stays float32 (numpy's concatenation).
    const cv::Mat m = mask > 127;  // 0 / 255, CV_8U
    cv::Mat yf, mf;
    y.convertTo(yf, CV_32F);
    m.convertTo(mf, CV_32F);
    std::vector<cv::Mat> planes;
    cv::split(yf, planes);
    planes.push_back(mf);
    cv::merge(planes, y);
  }
  return y;
}

cv::Mat fit_control_map(const cv::Mat& input, ResizeMode mode, int height, int width) {
  if (height <= 0 || width <= 0) {
    throw InvalidRequestError("control map target size must be positive, got " + std::to_string(width) + "x" +
                              std::to_string(height));
  }
  // Inpaint maps stay float32 RGBA; every other map becomes HWC3.
  const cv::Mat map = input.type() == CV_32FC4 ? input : hwc3(input);
  if (mode == ResizeMode::JustResize) return high_quality_resize(map, width, height);

  const double old_h = map.rows;
  const double old_w = map.cols;
  const double k0 = static_cast<double>(height) / old_h;
  const double k1 = static_cast<double>(width) / old_w;

  if (mode == ResizeMode::ResizeAndFill) {
    const double k = std::min(k0, k1);
    cv::Scalar colour = border_median(map);
    if (map.channels() == 4) colour[3] = 255;  // inpaint: the filled area is masked
    cv::Mat canvas(height, width, map.type(), colour);
    const cv::Mat resized = high_quality_resize(map, numpy::round_to_int(old_w * k), numpy::round_to_int(old_h * k));
    const int pad_h = std::max(0, numpy::floor_div(height - resized.rows, 2));
    const int pad_w = std::max(0, numpy::floor_div(width - resized.cols, 2));
    const int rows = std::min(resized.rows, height - pad_h);
    const int cols = std::min(resized.cols, width - pad_w);
    resized(cv::Rect(0, 0, cols, rows)).copyTo(canvas(cv::Rect(pad_w, pad_h, cols, rows)));
    return canvas;
  }

  const double k = std::max(k0, k1);
  const cv::Mat resized = high_quality_resize(map, numpy::round_to_int(old_w * k), numpy::round_to_int(old_h * k));
  const int pad_h = std::max(0, numpy::floor_div(resized.rows - height, 2));
  const int pad_w = std::max(0, numpy::floor_div(resized.cols - width, 2));
  const int rows = std::min(height, resized.rows - pad_h);
  const int cols = std::min(width, resized.cols - pad_w);
  return resized(cv::Rect(pad_w, pad_h, cols, rows)).clone();
}

}  // namespace cv_ops

ControlImage fit_control_map(const ControlImage& map, ResizeMode mode, int height, int width) {
  return from_mat(cv_ops::fit_control_map(to_mat(map), mode, height, width));
}

ControlImage make_inpaint_input(const ControlImage& image, const ControlImage& mask) {
  check_control_image(image, "inpaint image");
  check_control_image(mask, "inpaint mask");
  if (image.width != mask.width || image.height != mask.height) {
    throw InvalidRequestError("the inpaint mask is " + mask.describe() + " but the image is " + image.describe(),
                              "draw or load the mask at the image's size");
  }
  const ControlImage rgb = hwc3(image);
  ControlImage out(image.width, image.height, 4);
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  for (std::size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) out.pixels[i * 4 + c] = rgb.pixels[i * 3 + c];
    out.pixels[i * 4 + 3] = mask.pixels[i * mask.channels];
  }
  return out;
}

InpaintControl inpaint_control(const ControlImage& rgba, ResizeMode mode, int height, int width) {
  check_control_image(rgba, "inpaint input");
  if (rgba.channels != 4) {
    throw InvalidRequestError("inpaint needs an RGBA image whose alpha is the mask, got " + rgba.describe(),
                              "combine the image and the mask with make_inpaint_input");
  }
  cv::Mat map;
  to_mat(rgba).convertTo(map, CV_32F);  // detectmap_proc: 'inpaint' maps go float32
  const cv::Mat fitted = cv_ops::fit_control_map(map, mode, height, width);
  CV_Assert(fitted.type() == CV_32FC4);

  InpaintControl out;
  out.height = fitted.rows;
  out.width = fitted.cols;
  const std::size_t plane = static_cast<std::size_t>(out.width) * out.height;
  out.control.resize(4 * plane);
  out.hint.resize(3 * plane);
  out.mask = ControlImage(out.width, out.height, 1);
  for (int r = 0; r < fitted.rows; ++r) {
    const float* p = fitted.ptr<float>(r);
    for (int c = 0; c < fitted.cols; ++c, p += 4) {
      const std::size_t i = static_cast<std::size_t>(r) * out.width + c;
      // get_pytorch_control: y.float() / 255.0 (float32).
      for (int ch = 0; ch < 4; ++ch) out.control[ch * plane + i] = p[ch] / 255.0f;
      // hook.py: m = control[:, 3] > 0.5; hint = c * (1 - m) - m.
      const bool masked = out.control[3 * plane + i] > 0.5f;
      for (int ch = 0; ch < 3; ++ch) out.hint[ch * plane + i] = masked ? -1.0f : out.control[ch * plane + i];
      out.mask.pixels[i] = numpy::clip_to_uint8(p[3]);
    }
  }
  return out;
}

}  // namespace kiln::control
