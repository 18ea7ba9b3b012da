#pragma once
// Pixel geometry of the dataset layer. Boxes are [x, y, w, h] in the displayed image (EXIF
// orientation applied), origin top-left, like the face manifest and the prepare report.

#include <algorithm>
#include <cstdint>

namespace kiln::dataset {

struct ImageSize {
  int width = 0;
  int height = 0;
  int short_side() const { return std::min(width, height); }
  bool operator==(const ImageSize&) const = default;
};

struct Box {
  int x = 0;
  int y = 0;
  int w = 0;
  int h = 0;

  int right() const { return x + w; }
  int bottom() const { return y + h; }
  std::int64_t area() const { return static_cast<std::int64_t>(w) * h; }
  bool empty() const { return w <= 0 || h <= 0; }
  double centre_x() const { return x + w / 2.0; }
  double centre_y() const { return y + h / 2.0; }
  bool contains(const Box& o) const { return o.x >= x && o.y >= y && o.right() <= right() && o.bottom() <= bottom(); }
  bool operator==(const Box&) const = default;
};

struct Point {
  double x = 0;
  double y = 0;
  bool operator==(const Point&) const = default;
};

// The smallest box holding both (an empty box is ignored).
Box unite(const Box& a, const Box& b);
// The overlap, or an empty box.
Box intersect(const Box& a, const Box& b);
// Intersection over union, 0 when either is empty.
double iou(const Box& a, const Box& b);

}  // namespace kiln::dataset
