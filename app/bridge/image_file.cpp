#include "bridge/image_file.h"

#include <QBuffer>
#include <QFile>
#include <QImageReader>

#include <cstddef>
#include <span>

#include "base/error.h"
#include "dataset/image_probe.h"

namespace kiln::bridge {

OpenedImage readImageFile(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {{}, file.errorString()};
  QByteArray bytes = file.readAll();
  const std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes.constData()),
                                        static_cast<std::size_t>(bytes.size()));
  if (dataset::sniff_format(view) != dataset::ImageFormat::Unknown) {
    try {
      (void)dataset::probe_image(view, path.toStdString());
    } catch (const kiln::Error& e) {
      return {{}, QString::fromStdString(e.message())};
    }
  }
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::ReadOnly);
  QImageReader reader(&buffer);
  reader.setAutoTransform(true);
  QImage image = reader.read();
  if (image.isNull()) return {{}, reader.errorString()};
  return {std::move(image), {}};
}

}  // namespace kiln::bridge
