#include "dataset/crop_planner.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"

namespace kiln::dataset {

namespace {

// A closed range of allowed square origins along one axis.
struct Range {
  double lo = 0;
  double hi = 0;
  bool empty() const { return lo > hi + 1e-9; }
  Range operator&(const Range& o) const { return {std::max(lo, o.lo), std::min(hi, o.hi)}; }
  double clamp(double v) const { return std::clamp(v, lo, std::max(lo, hi)); }
};

// One axis of a box: start and length.
struct Span {
  double start = 0;
  double length = 0;
  double end() const { return start + length; }
  double centre() const { return start + length / 2; }
};

Span x_span(const Box& b) { return {static_cast<double>(b.x), static_cast<double>(b.w)}; }
Span y_span(const Box& b) { return {static_cast<double>(b.y), static_cast<double>(b.h)}; }

// Origins of a square of `side` that hold `s`; empty when it does not fit.
Range holding(const Span& s, double side) { return {s.end() - side, s.start}; }

Box clip(const Box& b, ImageSize image) { return intersect(b, {0, 0, image.width, image.height}); }

// A box grown by fractions of its size, in real coordinates (not clipped).
struct Extent {
  double x0, y0, x1, y1;
  Extent unite(const Extent& o) const {
    return {std::min(x0, o.x0), std::min(y0, o.y0), std::max(x1, o.x1), std::max(y1, o.y1)};
  }
};

Extent grown(const Box& b, double side, double top, double bottom) {
  return {b.x - side * b.w, b.y - top * b.h, b.right() + side * b.w, b.bottom() + bottom * b.h};
}

Box clip(const Extent& e, ImageSize image) {
  const int x0 = static_cast<int>(std::floor(e.x0)), y0 = static_cast<int>(std::floor(e.y0));
  return clip(Box{x0, y0, static_cast<int>(std::ceil(e.x1)) - x0, static_cast<int>(std::ceil(e.y1)) - y0}, image);
}

// The hard range along one axis: inside the image, the face inside (rule 2), its centre in the
// band (rule 3) or, when the band lies beyond the image, the square against that edge.
Range hard_range(const Span& face, const Span& face_with_slack, double length, double side, double band) {
  const Range image{0.0, length - side};
  Range banded = image & Range{face.centre() - (1.0 - band) * side, face.centre() - band * side};
  if (banded.empty()) {
    const double edge = face.centre() - band * side < 0 ? 0.0 : length - side;
    banded = {edge, edge};
  }
  Range r = banded;
  if (face_with_slack.length <= side)
    r = r & holding(face_with_slack, side);
  else if (face.length <= side)
    r = r & holding(face, side);
  // Rules 2 and 3 are compatible whenever the face fits (band >= 1/6 guarantees it); guard
  // against rounding by falling back to the face alone.
  if (r.empty()) r = image & (face.length <= side ? holding(face, side) : banded);
  if (r.empty()) r = banded;
  return r;
}

}  // namespace

const char* to_string(CropSubject subject) {
  switch (subject) {
    case CropSubject::Centre:
      return "centre";
    case CropSubject::FocalPoint:
      return "focal point";
    case CropSubject::LargestFace:
      return "largest face";
    case CropSubject::AllFaces:
      return "all faces";
    case CropSubject::OversizedFace:
      return "oversized face";
  }
  return "?";
}

CropPlan plan_crop(ImageSize image, std::span<const Box> faces_in, std::optional<Point> focal,
                   const CropOptions& options) {
  if (image.width <= 0 || image.height <= 0) {
    throw InvalidRequestError("cannot plan a crop for an empty image (" + std::to_string(image.width) + "x" +
                              std::to_string(image.height) + ")");
  }
  if (!(options.centre_band >= 1.0 / 6 && options.centre_band <= 0.5)) {
    throw InvalidRequestError("crop centre_band must be within [1/6, 0.5], got " + std::to_string(options.centre_band));
  }
  if (options.face_zoom < 0 || options.margin_top < 0 || options.margin_bottom < 0 || options.margin_side < 0 ||
      options.slack < 0) {
    throw InvalidRequestError("crop zoom, margins and slack must not be negative");
  }

  std::vector<Box> faces;
  for (const Box& f : faces_in) {
    const Box c = clip(f, image);
    if (!c.empty()) faces.push_back(c);
  }
  std::stable_sort(faces.begin(), faces.end(), [](const Box& a, const Box& b) { return a.area() > b.area(); });

  const int limit = image.short_side();
  int side = limit;
  if (!faces.empty() && options.face_zoom > 0) {
    const double wanted = options.face_zoom * std::max(faces[0].w, faces[0].h);
    side = std::clamp(static_cast<int>(std::lround(wanted)), std::clamp(options.min_side, 1, limit), limit);
  }
  const double s = side;
  const auto place = [&](double origin, int length) {
    return std::clamp(static_cast<int>(std::lround(origin)), 0, length - side);
  };

  CropPlan plan;
  if (faces.empty()) {
    const Point c = focal.value_or(Point{image.width / 2.0, image.height / 2.0});
    plan.subject = focal ? CropSubject::FocalPoint : CropSubject::Centre;
    plan.crop = {place(c.x - s / 2, image.width), place(c.y - s / 2, image.height), side, side};
    return plan;
  }

  const Box& primary = faces[0];
  const Box slack = clip(grown(primary, options.slack, options.slack, options.slack), image);
  Range rx = hard_range(x_span(primary), x_span(slack), image.width, s, options.centre_band);
  Range ry = hard_range(y_span(primary), y_span(slack), image.height, s, options.centre_band);
  plan.subject = std::max(primary.w, primary.h) > side ? CropSubject::OversizedFace : CropSubject::LargestFace;

  // Rule 4: the faces of a similar size, together, when both axes allow it.
  std::vector<Box> subject{primary};
  const double group_min = options.group_min_relative * std::max(primary.w, primary.h);
  std::vector<Box> group;
  for (const Box& f : faces) {
    if (std::max(f.w, f.h) >= group_min) group.push_back(f);
  }
  if (group.size() > 1 && plan.subject != CropSubject::OversizedFace) {
    Box all;
    for (const Box& f : group) all = unite(all, f);
    const Range gx = rx & holding(x_span(all), s);
    const Range gy = ry & holding(y_span(all), s);
    if (!gx.empty() && !gy.empty()) {
      rx = gx;
      ry = gy;
      subject = group;
      plan.subject = CropSubject::AllFaces;
    } else {
      plan.all_faces_included = false;
    }
  }

  // Rule 5: the head margins, per axis, where they fit. The aim is the heads' centre (hair
  // included), from boxes not clipped to the image so that an edge does not pull it inwards;
  // an oversized face is simply centred.
  std::optional<Extent> aim;
  for (const Box& f : subject) {
    const Extent e = grown(f, options.margin_side, options.margin_top, options.margin_bottom);
    aim = aim ? aim->unite(e) : e;
  }
  const Box heads = clip(*aim, image);
  const Range hx = rx & holding(x_span(heads), s);
  const Range hy = ry & holding(y_span(heads), s);
  if (!hx.empty()) rx = hx;
  if (!hy.empty()) ry = hy;
  plan.head_margin_included = !hx.empty() && !hy.empty();

  Point centre{(aim->x0 + aim->x1) / 2, (aim->y0 + aim->y1) / 2};
  if (plan.subject == CropSubject::OversizedFace) centre = {primary.centre_x(), primary.centre_y()};
  plan.crop = {place(rx.clamp(centre.x - s / 2), image.width), place(ry.clamp(centre.y - s / 2), image.height), side,
               side};
  return plan;
}

void check_crop_box(ImageSize image, const Box& crop) {
  const auto text = [](const Box& b) {
    return "[" + std::to_string(b.x) + ", " + std::to_string(b.y) + ", " + std::to_string(b.w) + ", " +
           std::to_string(b.h) + "]";
  };
  if (crop.w <= 0 || crop.w != crop.h) {
    throw InvalidRequestError("crop box " + text(crop) + " is not a square", "width and height must be equal and > 0");
  }
  if (crop.x < 0 || crop.y < 0 || crop.right() > image.width || crop.bottom() > image.height) {
    throw InvalidRequestError("crop box " + text(crop) + " lies outside the " + std::to_string(image.width) + "x" +
                              std::to_string(image.height) + " image");
  }
}

}  // namespace kiln::dataset
