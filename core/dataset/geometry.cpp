#include "dataset/geometry.h"

namespace kiln::dataset {

Box unite(const Box& a, const Box& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  const int x = std::min(a.x, b.x);
  const int y = std::min(a.y, b.y);
  return {x, y, std::max(a.right(), b.right()) - x, std::max(a.bottom(), b.bottom()) - y};
}

Box intersect(const Box& a, const Box& b) {
  const int x = std::max(a.x, b.x);
  const int y = std::max(a.y, b.y);
  const int r = std::min(a.right(), b.right());
  const int btm = std::min(a.bottom(), b.bottom());
  if (r <= x || btm <= y) return {};
  return {x, y, r - x, btm - y};
}

double iou(const Box& a, const Box& b) {
  if (a.empty() || b.empty()) return 0.0;
  const auto inter = static_cast<double>(intersect(a, b).area());
  const double uni = static_cast<double>(a.area() + b.area()) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace kiln::dataset
