#include "bridge/image_tensor.h"

#include <cstring>

namespace kiln::bridge {

namespace {

// RGB888 copy of `image` at width x height, scaled smoothly when the size differs.
QImage rgbAt(const QImage& image, int width, int height) {
  QImage scaled = image.size() == QSize(width, height)
                      ? image
                      : image.scaled(width, height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  return scaled.convertToFormat(QImage::Format_RGB888);
}

// [1, 3, H, W] float in [0, 1] from an RGB888 image (rows may be padded).
torch::Tensor chwUnit(const QImage& rgb) {
  const int w = rgb.width(), h = rgb.height();
  torch::Tensor hwc = torch::empty({h, w, 3}, torch::kUInt8);
  for (int y = 0; y < h; ++y) std::memcpy(hwc[y].data_ptr(), rgb.constScanLine(y), static_cast<std::size_t>(w) * 3);
  return hwc.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat) / 255.0;
}

}  // namespace

QImage imageFromUint8(const torch::Tensor& hwc) {
  const torch::Tensor t = hwc.to(torch::kCPU, torch::kUInt8).contiguous();
  const int h = static_cast<int>(t.size(0)), w = static_cast<int>(t.size(1));
  QImage image(w, h, QImage::Format_RGB888);
  for (int y = 0; y < h; ++y) std::memcpy(image.scanLine(y), t[y].data_ptr(), static_cast<std::size_t>(w) * 3);
  return image;
}

QImage imageFromTensor(const torch::Tensor& hwc) {
  return imageFromUint8((hwc.to(torch::kFloat) * 255).round().clamp(0, 255).to(torch::kUInt8));
}

torch::Tensor initImageTensor(const QImage& image, int width, int height) {
  return chwUnit(rgbAt(image, width, height)) * 2.0 - 1.0;
}

torch::Tensor controlImageTensor(const QImage& image, int width, int height) {
  return chwUnit(rgbAt(image, width, height));
}

torch::Tensor maskTensor(const QImage& mask, int width, int height) {
  QImage scaled = mask.size() == QSize(width, height)
                      ? mask
                      : mask.scaled(width, height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  // A painted mask layer is transparent where nothing was painted: alpha decides; an opaque
  // mask image (A1111 style, white = repaint) is read as gray.
  const bool useAlpha = scaled.hasAlphaChannel();
  const QImage argb = scaled.convertToFormat(QImage::Format_ARGB32);
  torch::Tensor out = torch::empty({1, 1, height, width}, torch::kFloat);
  auto acc = out.accessor<float, 4>();
  for (int y = 0; y < height; ++y) {
    const auto* row = reinterpret_cast<const QRgb*>(argb.constScanLine(y));
    for (int x = 0; x < width; ++x) {
      acc[0][0][y][x] = static_cast<float>(useAlpha ? qAlpha(row[x]) : qGray(row[x])) / 255.0f;
    }
  }
  return out;
}

}  // namespace kiln::bridge
