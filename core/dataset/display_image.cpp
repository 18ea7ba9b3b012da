#include "dataset/display_image.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "dataset/image_loader.h"

namespace kiln::dataset {

RgbImage load_display_image(const std::filesystem::path& path, int max_side,
                            const std::array<std::uint8_t, 3>& background_rgb) {
  LoadOptions options;
  options.background_rgb = background_rgb;
  LoadedImage image = load_image(path, options);
  cv::Mat bgr = image.bgr;
  const int longer = std::max(bgr.cols, bgr.rows);
  if (max_side > 0 && longer > max_side) {
    const double scale = static_cast<double>(max_side) / longer;
    cv::resize(bgr, bgr, cv::Size(), scale, scale, cv::INTER_AREA);
  }
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  RgbImage out;
  out.width = rgb.cols;
  out.height = rgb.rows;
  out.displayed = image.displayed;
  out.pixels.resize(static_cast<std::size_t>(rgb.cols) * rgb.rows * 3);
  for (int y = 0; y < rgb.rows; ++y) {
    std::copy_n(rgb.ptr<std::uint8_t>(y), rgb.cols * 3, out.pixels.data() + static_cast<std::size_t>(y) * rgb.cols * 3);
  }
  return out;
}

}  // namespace kiln::dataset
