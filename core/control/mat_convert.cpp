#include "control/mat_convert.h"

#include <cstring>

#include "base/error.h"

namespace kiln::control {

cv::Mat to_mat(const ControlImage& image) {
  check_control_image(image, "control image");
  const cv::Mat view(image.height, image.width, CV_8UC(image.channels), const_cast<std::uint8_t*>(image.pixels.data()));
  return view.clone();
}

ControlImage from_mat(const cv::Mat& mat) {
  if (mat.depth() != CV_8U || (mat.channels() != 1 && mat.channels() != 3 && mat.channels() != 4)) {
    throw InvalidRequestError("internal: a control map must be 8-bit with 1, 3 or 4 channels, got OpenCV type " +
                              std::to_string(mat.type()));
  }
  ControlImage out(mat.cols, mat.rows, mat.channels());
  const std::size_t row_bytes = static_cast<std::size_t>(mat.cols) * mat.channels();
  for (int y = 0; y < mat.rows; ++y) std::memcpy(out.pixel(0, y), mat.ptr<std::uint8_t>(y), row_bytes);
  return out;
}

}  // namespace kiln::control
