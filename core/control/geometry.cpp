#include "control/geometry.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "control/cv_ops.h"
#include "control/mat_convert.h"
#include "control/numpy_compat.h"

namespace kiln::control {

namespace {

void check_resolution(int resolution, const char* where) {
  if (resolution <= 0) {
    throw InvalidRequestError(std::string(where) + ": the resolution must be positive, got " +
                              std::to_string(resolution));
  }
}

void check_target(int height, int width, const char* where) {
  if (height <= 0 || width <= 0) {
    throw InvalidRequestError(
        std::string(where) + ": the image would become " + std::to_string(width) + "x" + std::to_string(height),
        "use a larger resolution");
  }
}

// A1111 `pad64`: int(np.ceil(float(x) / 64.0) * 64 - x).
int pad64(int x) { return static_cast<int>(std::ceil(static_cast<double>(x) / 64.0) * 64.0 - x); }

}  // namespace

const char* to_string(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::JustResize:
      return "Just Resize";
    case ResizeMode::CropAndResize:
      return "Crop and Resize";
    case ResizeMode::ResizeAndFill:
      return "Resize and Fill";
  }
  return "?";
}

ResizeMode parse_resize_mode(std::string_view text) {
  if (text == "Just Resize" || text == "just") return ResizeMode::JustResize;
  if (text == "Crop and Resize" || text == "crop") return ResizeMode::CropAndResize;
  if (text == "Resize and Fill" || text == "fill") return ResizeMode::ResizeAndFill;
  throw InvalidRequestError("unknown resize mode '" + std::string(text) + "'",
                            "use \"Just Resize\" (just), \"Crop and Resize\" (crop) or \"Resize and Fill\" (fill)");
}

namespace cv_ops {

cv::Mat hwc3(const cv::Mat& image) {
  CV_Assert(image.depth() == CV_8U);
  switch (image.channels()) {
    case 3:
      return image.clone();
    case 1: {
      cv::Mat out;
      cv::cvtColor(image, out, cv::COLOR_GRAY2RGB);  // copies the value into the 3 channels
      return out;
    }
    case 4: {
      // color * alpha + 255 * (1 - alpha) in float32 with alpha = A / 255, then clip + truncate.
      cv::Mat out(image.rows, image.cols, CV_8UC3);
      for (int y = 0; y < image.rows; ++y) {
        const std::uint8_t* in = image.ptr<std::uint8_t>(y);
        std::uint8_t* o = out.ptr<std::uint8_t>(y);
        for (int x = 0; x < image.cols; ++x, in += 4, o += 3) {
          const float alpha = static_cast<float>(in[3]) / 255.0f;
          const float background = 255.0f * (1.0f - alpha);
          for (int c = 0; c < 3; ++c) {
            const float colour = static_cast<float>(in[c]) * alpha;
            o[c] = numpy::clip_to_uint8(colour + background);
          }
        }
      }
      return out;
    }
    default:
      throw InvalidRequestError("HWC3: expected 1, 3 or 4 channels, got " + std::to_string(image.channels()));
  }
}

cv::Mat resize_image(const cv::Mat& image, int resolution) {
  check_resolution(resolution, "resize_image");
  // k = resolution / min(H, W); H, W scaled in double, then np.round(side / 64) * 64.
  const double k = static_cast<double>(resolution) / std::min<double>(image.rows, image.cols);
  const double h = image.rows * k;
  const double w = image.cols * k;
  const int target_h = numpy::round_to_int(h / 64.0) * 64;
  const int target_w = numpy::round_to_int(w / 64.0) * 64;
  check_target(target_h, target_w, "resize_image");
  cv::Mat out;
  // A resize to the current size is a plain copy inside OpenCV (photo_gray at 203).
  cv::resize(image, out, cv::Size(target_w, target_h), 0, 0, k > 1 ? cv::INTER_LANCZOS4 : cv::INTER_AREA);
  return out;
}

cv::Mat PaddedMat::remove_pad(const cv::Mat& map) const {
  const int h = std::min(target_height, map.rows);
  const int w = std::min(target_width, map.cols);
  return map(cv::Rect(0, 0, w, h)).clone();
}

PaddedMat resize_image_with_pad(const cv::Mat& image, int resolution) {
  check_resolution(resolution, "resize_image_with_pad");
  const cv::Mat img = image.channels() == 3 ? image : hwc3(image);
  const double k = static_cast<double>(resolution) / static_cast<double>(std::min(img.rows, img.cols));
  PaddedMat out;
  out.target_height = numpy::round_to_int(static_cast<double>(img.rows) * k);
  out.target_width = numpy::round_to_int(static_cast<double>(img.cols) * k);
  check_target(out.target_height, out.target_width, "resize_image_with_pad");
  cv::Mat resized;
  cv::resize(img, resized, cv::Size(out.target_width, out.target_height), 0, 0,
             k > 1 ? cv::INTER_CUBIC : cv::INTER_AREA);
  // np.pad(mode='edge') at the bottom and right.
  cv::copyMakeBorder(resized, out.padded, 0, pad64(out.target_height), 0, pad64(out.target_width),
                     cv::BORDER_REPLICATE);
  return out;
}

}  // namespace cv_ops

ControlImage hwc3(const ControlImage& image) { return from_mat(cv_ops::hwc3(to_mat(image))); }

ControlImage from_rgba_to_input(const ControlImage& image) {
  check_control_image(image, "control image");
  if (image.channels != 4) return image;
  bool all_low = true, all_high = true;
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t a = image.pixels[i * 4 + 3];
    all_low = all_low && a <= 5;
    all_high = all_high && a >= 250;
  }
  ControlImage out(image.width, image.height, 3);
  for (std::size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      out.pixels[i * 3 + c] = (all_low || all_high) ? image.pixels[i * 4 + c] : image.pixels[i * 4 + 3];
    }
  }
  return out;
}

ControlImage resize_image(const ControlImage& image, int resolution) {
  return from_mat(cv_ops::resize_image(to_mat(image), resolution));
}

PaddedImage resize_image_with_pad(const ControlImage& image, int resolution) {
  const cv_ops::PaddedMat p = cv_ops::resize_image_with_pad(to_mat(image), resolution);
  return PaddedImage{from_mat(p.padded), p.target_height, p.target_width};
}

ControlImage remove_pad(const PaddedImage& padding, const ControlImage& map) {
  cv_ops::PaddedMat p;
  p.target_height = padding.target_height;
  p.target_width = padding.target_width;
  return from_mat(p.remove_pad(to_mat(map)));
}

int align_dim_latent(int x) { return numpy::floor_div(x, 8) * 8; }

double pixel_perfect_estimation(int image_height, int image_width, int target_height, int target_width,
                                ResizeMode mode) {
  if (image_height <= 0 || image_width <= 0 || target_height <= 0 || target_width <= 0) {
    throw InvalidRequestError("Pixel Perfect needs positive sizes, got image " + std::to_string(image_width) + "x" +
                              std::to_string(image_height) + " and target " + std::to_string(target_width) + "x" +
                              std::to_string(target_height));
  }
  const double k0 = static_cast<double>(target_height) / static_cast<double>(image_height);
  const double k1 = static_cast<double>(target_width) / static_cast<double>(image_width);
  const double k = mode == ResizeMode::ResizeAndFill ? std::min(k0, k1) : std::max(k0, k1);
  return k * static_cast<double>(std::min(image_height, image_width));
}

int pixel_perfect_resolution(int image_height, int image_width, int target_height, int target_width, ResizeMode mode) {
  return numpy::round_to_int(pixel_perfect_estimation(image_height, image_width, target_height, target_width, mode));
}

}  // namespace kiln::control
