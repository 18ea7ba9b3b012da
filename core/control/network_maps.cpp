#include "control/network_maps.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

#include "base/error.h"
#include "control/cv_ops.h"
#include "control/mat_convert.h"
#include "control/numpy_compat.h"

namespace kiln::control {

namespace {

cv::Mat plane_mat(const FloatPlanes& p) {
  if (p.planes != 1 || p.width <= 0 || p.height <= 0 ||
      p.values.size() != static_cast<std::size_t>(p.width) * static_cast<std::size_t>(p.height)) {
    throw InvalidRequestError("a network output plane must be 1 x H x W float32 with H, W > 0");
  }
  return cv::Mat(p.height, p.width, CV_32FC1, const_cast<float*>(p.values.data()));
}

}  // namespace

FloatPlanes rgb_planes(const ControlImage& rgb, bool divide_by_255) {
  check_control_image(rgb, "network input");
  if (rgb.channels != 3) throw InvalidRequestError("a network input must be RGB, got " + rgb.describe());
  FloatPlanes out;
  out.width = rgb.width;
  out.height = rgb.height;
  out.planes = 3;
  const std::size_t plane = static_cast<std::size_t>(rgb.width) * static_cast<std::size_t>(rgb.height);
  out.values.resize(plane * 3);
  for (std::size_t i = 0; i < plane; ++i) {
    for (std::size_t c = 0; c < 3; ++c) {
      const float v = static_cast<float>(rgb.pixels[i * 3 + c]);
      out.values[c * plane + i] = divide_by_255 ? v / 255.0f : v;  // torch float32 `image / 255.0`
    }
  }
  return out;
}

ControlImage hed_edge_map(const std::vector<FloatPlanes>& projections, int width, int height, bool safe) {
  if (projections.size() != 5) throw InvalidRequestError("HED needs 5 projections");
  std::array<cv::Mat, 5> resized;
  for (std::size_t i = 0; i < 5; ++i) {
    const cv::Mat p = plane_mat(projections[i]);
    if (p.cols == width && p.rows == height) {
      resized[i] = p;  // cv2.resize to the same size copies
    } else {
      cv::resize(p, resized[i], cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
    }
  }
  ControlImage out(width, height, 1);
  for (int y = 0; y < height; ++y) {
    std::array<const float*, 5> rows{};
    for (std::size_t i = 0; i < 5; ++i) rows[i] = resized[i].ptr<float>(y);
    for (int x = 0; x < width; ++x) {
      // np.mean(np.stack(edges, axis=2), axis=2) in float32: sequential sum, then / 5.
      float sum = rows[0][x];
      for (std::size_t i = 1; i < 5; ++i) sum += rows[i][x];
      const float mean = sum / 5.0f;
      const double edge = 1.0 / (1.0 + std::exp(-static_cast<double>(mean)));
      std::uint8_t value = 0;
      if (safe) {
        // safe_step(x, 2): float32(x) * 3 truncated to int32, back to float32, / 2.
        const float stepped = static_cast<float>(static_cast<std::int32_t>(static_cast<float>(edge) * 3.0f)) / 2.0f;
        value = numpy::clip_to_uint8(stepped * 255.0f);
      } else {
        value = numpy::clip_to_uint8(edge * 255.0);
      }
      out.pixels[static_cast<std::size_t>(y) * width + x] = value;
    }
  }
  return out;
}

ControlImage hed_scribble(const ControlImage& edge_map) {
  check_control_image(edge_map, "scribble_hed map");
  if (edge_map.channels != 1) throw InvalidRequestError("scribble_hed expects a 1-channel map");
  const cv::Mat map = to_mat(edge_map);
  cv::Mat x;
  map.convertTo(x, CV_32F);
  cv::GaussianBlur(x, x, cv::Size(0, 0), 3.0);  // float32: 25 taps (trap 16)
  static const std::array<cv::Mat, 4> lines = {
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 0, 0, 0, 1, 1, 1, 0, 0, 0)),
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 0, 1, 0, 0, 1, 0, 0, 1, 0)),
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 1, 0, 0, 0, 1, 0, 0, 0, 1)),  // np.eye(3)
      cv::Mat((cv::Mat_<std::uint8_t>(3, 3) << 0, 0, 1, 0, 1, 0, 1, 0, 0)),  // np.rot90(np.eye(3))
  };
  cv::Mat y = cv::Mat::zeros(x.size(), CV_32FC1);
  for (const cv::Mat& f : lines) {
    cv::Mat dilated;
    cv::dilate(x, dilated, f);
    x.copyTo(y, dilated == x);  // np.putmask(y, cv2.dilate(x, kernel=f) == x, x)
  }
  cv::Mat z = cv::Mat::zeros(x.size(), CV_8UC1);
  z.setTo(255, y > 127.0f);
  cv::Mat blurred;
  cv::GaussianBlur(z, blurred, cv::Size(0, 0), 3.0);  // 8-bit: 19 taps
  cv::Mat out = cv::Mat::zeros(x.size(), CV_8UC1);
  out.setTo(255, blurred > 4);  // result[result > 4] = 255; result[result < 255] = 0
  return from_mat(out);
}

ControlImage lineart_line_map(const FloatPlanes& line) {
  const cv::Mat p = plane_mat(line);
  ControlImage out(p.cols, p.rows, 1);
  for (int y = 0; y < p.rows; ++y) {
    const float* row = p.ptr<float>(y);
    for (int x = 0; x < p.cols; ++x) {
      out.pixels[static_cast<std::size_t>(y) * p.cols + x] = numpy::clip_to_uint8(row[x] * 255.0f);
    }
  }
  return out;
}

ControlImage invert_map(const ControlImage& map) {
  ControlImage out = map;
  for (std::uint8_t& v : out.pixels) v = static_cast<std::uint8_t>(255 - v);
  return out;
}

ControlImage resize_linear(const ControlImage& image, int width, int height) {
  check_control_image(image, "map to resize");
  if (image.width == width && image.height == height) return image;
  cv::Mat out;
  cv::resize(to_mat(image), out, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  return from_mat(out);
}

std::pair<int, int> depth_anything_v2_input_size(int height, int width, int input_size) {
  // Resize.get_size with keep_aspect_ratio and "lower_bound": the larger scale for both sides.
  double scale_h = static_cast<double>(input_size) / height;
  double scale_w = static_cast<double>(input_size) / width;
  if (scale_w > scale_h) {
    scale_h = scale_w;
  } else {
    scale_w = scale_h;
  }
  // constrain_to_multiple_of(x, min_val=input_size): np.round (half to even, trap 2), ceil if
  // that falls below the minimum.
  const auto constrain = [input_size](double x) {
    int y = static_cast<int>(numpy::round_half_even(x / 14.0) * 14.0);
    if (y < input_size) y = static_cast<int>(std::ceil(x / 14.0) * 14.0);
    return y;
  };
  return {constrain(scale_h * height), constrain(scale_w * width)};
}

FloatPlanes depth_anything_v2_input(const ControlImage& rgb, int input_size, bool swap_rb) {
  check_control_image(rgb, "Depth Anything V2 input");
  if (rgb.channels != 3) throw InvalidRequestError("Depth Anything V2 needs RGB, got " + rgb.describe());
  if (input_size < 14) throw InvalidRequestError("Depth Anything V2: input size must be >= 14");
  const cv::Mat image = to_mat(rgb);
  // cv2.cvtColor(image, BGR2RGB) / 255.0: float64 division (not a multiplication by 1/255).
  cv::Mat f64(image.rows, image.cols, CV_64FC3);
  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* in = image.ptr<std::uint8_t>(y);
    double* o = f64.ptr<double>(y);
    for (int x = 0; x < image.cols; ++x, in += 3, o += 3) {
      for (int c = 0; c < 3; ++c) o[c] = static_cast<double>(in[swap_rb ? 2 - c : c]) / 255.0;
    }
  }
  const auto [h, w] = depth_anything_v2_input_size(image.rows, image.cols, input_size);
  cv::Mat resized;
  if (h == image.rows && w == image.cols) {
    resized = f64;
  } else {
    cv::resize(f64, resized, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  }
  static constexpr std::array<double, 3> kMean = {0.485, 0.456, 0.406};
  static constexpr std::array<double, 3> kStd = {0.229, 0.224, 0.225};
  FloatPlanes out;
  out.width = w;
  out.height = h;
  out.planes = 3;
  const std::size_t plane = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  out.values.resize(plane * 3);
  for (int y = 0; y < h; ++y) {
    const double* row = resized.ptr<double>(y);
    for (int x = 0; x < w; ++x) {
      for (std::size_t c = 0; c < 3; ++c) {
        const double v = (row[x * 3 + static_cast<int>(c)] - kMean[c]) / kStd[c];
        out.values[c * plane + static_cast<std::size_t>(y) * w + x] = static_cast<float>(v);
      }
    }
  }
  return out;
}

}  // namespace kiln::control
