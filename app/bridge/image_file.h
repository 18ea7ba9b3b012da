#pragma once
// An image file the user opens (the Generate page's input and ControlNet inputs, kiln-cli
// generate's --init-image and --mask, kiln-cli upscale's input). JPEG, PNG, WebP, BMP and TIFF
// are walked by Kiln's own probe first (dataset::probe_image), as the dataset import does: a file cut short is refused by name rather
// than decoded with a grey bottom, and a chunk longer than the file never reaches libpng (which
// allocates what a chunk declares). Then Qt decodes it with the EXIF orientation applied. Other
// formats Qt reads (GIF, ...) go to Qt directly.

#include <QImage>
#include <QString>

namespace kiln::bridge {

struct OpenedImage {
  QImage image;     // null when the file cannot be used
  QString problem;  // why, in the probe's or Qt's words
};

OpenedImage readImageFile(const QString& path);

}  // namespace kiln::bridge
