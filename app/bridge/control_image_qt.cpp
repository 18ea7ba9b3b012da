#include "bridge/control_image_qt.h"

#include <cstring>

namespace kiln::bridge {

control::ControlImage toControlImage(const QImage& image) {
  if (image.isNull()) return {};
  QImage source;
  int channels = 3;
  if (image.format() == QImage::Format_Grayscale8) {
    source = image;
    channels = 1;
  } else if (image.hasAlphaChannel()) {
    source = image.convertToFormat(QImage::Format_RGBA8888);
    channels = 4;
  } else {
    source = image.convertToFormat(QImage::Format_RGB888);
  }
  control::ControlImage out(source.width(), source.height(), channels);
  const auto row = static_cast<std::size_t>(source.width()) * static_cast<std::size_t>(channels);
  // QImage rows are 4-byte aligned; ControlImage rows are packed.
  for (int y = 0; y < source.height(); ++y) std::memcpy(out.pixel(0, y), source.constScanLine(y), row);
  return out;
}

QImage toQImage(const control::ControlImage& image) {
  if (image.empty()) return {};
  QImage::Format format = QImage::Format_RGB888;
  if (image.channels == 1) format = QImage::Format_Grayscale8;
  if (image.channels == 4) format = QImage::Format_RGBA8888;
  QImage out(image.width, image.height, format);
  const auto row = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels);
  for (int y = 0; y < image.height; ++y) std::memcpy(out.scanLine(y), image.pixel(0, y), row);
  return out;
}

}  // namespace kiln::bridge
