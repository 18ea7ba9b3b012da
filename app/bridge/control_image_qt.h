#pragma once
// QImage <-> kiln::control::ControlImage, the control layer's plain 8-bit pixels (RGB order, no
// premultiplied alpha), so preprocessors and pose maps cross between Qt and the engine here.

#include <QImage>

#include "control/control_image.h"

namespace kiln::bridge {

// Grayscale8 -> 1 channel; anything with an alpha channel -> 4 (RGBA, not premultiplied);
// everything else -> 3 (RGB). Empty for a null image.
control::ControlImage toControlImage(const QImage& image);
// 1 -> Grayscale8, 3 -> RGB888, 4 -> RGBA8888. Null for an empty image.
QImage toQImage(const control::ControlImage& image);

}  // namespace kiln::bridge
