#include "dataset/training_image.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "dataset/image_loader.h"
#include "dataset/image_preparer.h"

namespace kiln::dataset {

RGBImage load_training_image(const std::filesystem::path& path, int resolution) {
  const LoadedImage loaded = load_image(path);
  const cv::Mat& bgr = loaded.bgr;
  const double scale = static_cast<double>(resolution) / std::min(bgr.cols, bgr.rows);
  const int w = std::max(resolution, static_cast<int>(std::lround(bgr.cols * scale)));
  const int h = std::max(resolution, static_cast<int>(std::lround(bgr.rows * scale)));
  cv::Mat resized;
  if (w == bgr.cols && h == bgr.rows) {
    resized = bgr;
  } else {
    cv::resize(bgr, resized, cv::Size(w, h), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LANCZOS4);
  }
  const cv::Rect crop((w - resolution) / 2, (h - resolution) / 2, resolution, resolution);
  cv::Mat rgb;
  cv::cvtColor(resized(crop), rgb, cv::COLOR_BGR2RGB);
  RGBImage out;
  out.width = resolution;
  out.height = resolution;
  out.pixels.resize(static_cast<std::size_t>(resolution) * resolution * 3);
  for (int y = 0; y < resolution; ++y) {
    std::copy_n(rgb.ptr<std::uint8_t>(y), resolution * 3, out.pixels.data() + static_cast<std::size_t>(y) * resolution * 3);
  }
  return out;
}

void write_png(const std::filesystem::path& path, const RGBImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    throw InvalidRequestError("write_png: the pixel buffer does not match " + std::to_string(image.width) + "x" +
                              std::to_string(image.height) + " RGB");
  }
  const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  write_image(path, bgr);
}

}  // namespace kiln::dataset
