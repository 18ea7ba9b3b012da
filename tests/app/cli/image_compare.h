#pragma once
// Comparing PNGs written by kiln-cli with the golden ones (tests that link Qt Gui).

#include <QImage>

#include <algorithm>
#include <cstdlib>

namespace kiln::test {

// The largest difference of one RGB byte between two images of the same size; -1 when the sizes
// differ or one is not an image.
inline int maxByteDiff(const QImage& a, const QImage& b) {
  if (a.isNull() || b.isNull() || a.size() != b.size()) return -1;
  const QImage x = a.convertToFormat(QImage::Format_RGB888), y = b.convertToFormat(QImage::Format_RGB888);
  int worst = 0;
  for (int row = 0; row < x.height(); ++row) {
    const uchar* p = x.constScanLine(row);
    const uchar* q = y.constScanLine(row);
    for (int i = 0; i < x.width() * 3; ++i) worst = std::max(worst, std::abs(int(p[i]) - int(q[i])));
  }
  return worst;
}

}  // namespace kiln::test
