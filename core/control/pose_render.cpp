#include "control/pose_render.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "base/error.h"

namespace kiln::control {

namespace {

// The OpenPose drawing tables as the reference spells them (1-based limb ends, RGB colours).
constexpr int kLimbs[17][2] = {{2, 3},  {2, 6},   {3, 4},   {4, 5}, {6, 7},  {7, 8},   {2, 9},  {9, 10}, {10, 11},
                               {2, 12}, {12, 13}, {13, 14}, {2, 1}, {1, 15}, {15, 17}, {1, 16}, {16, 18}};
constexpr int kColors[18][3] = {{255, 0, 0}, {255, 85, 0}, {255, 170, 0}, {255, 255, 0}, {170, 255, 0}, {85, 255, 0},
                                {0, 255, 0}, {0, 255, 85}, {0, 255, 170}, {0, 255, 255}, {0, 170, 255}, {0, 85, 255},
                                {0, 0, 255}, {85, 0, 255}, {170, 0, 255}, {255, 0, 255}, {255, 0, 170}, {255, 0, 85}};
constexpr int kHandEdges[20][2] = {{0, 1},   {1, 2},   {2, 3},  {3, 4},   {0, 5},   {5, 6},  {6, 7},
                                   {7, 8},   {0, 9},   {9, 10}, {10, 11}, {11, 12}, {0, 13}, {13, 14},
                                   {14, 15}, {15, 16}, {0, 17}, {17, 18}, {18, 19}, {19, 20}};
// AP10K (A1111 animalpose.py / Comfy): 1-based pairs and their colours.
constexpr int kAnimalPairs[17][2] = {{1, 2}, {2, 3}, {1, 3},  {3, 4},   {4, 9},   {9, 10}, {10, 11}, {4, 6},  {6, 7},
                                     {7, 8}, {4, 5}, {5, 15}, {15, 16}, {16, 17}, {5, 12}, {12, 13}, {13, 14}};
constexpr int kAnimalColors[17][3] = {
    {255, 255, 255}, {100, 255, 100}, {150, 255, 255}, {100, 50, 255}, {50, 150, 200}, {0, 255, 255},
    {0, 150, 0},     {0, 0, 255},     {0, 0, 150},     {255, 50, 255}, {255, 0, 255},  {255, 0, 0},
    {150, 0, 0},     {255, 255, 100}, {0, 150, 0},     {255, 255, 0},  {150, 150, 150}};

// The reference's `eps`: hand and face points are drawn only where int(x * W) > 0.01, i.e. >= 1.
constexpr double kEps = 0.01;
// CPython's math.degrees multiplies by this constant (not by 180 then divide by pi): the result is
// truncated by int(), so the order of operations shows at exact angles.
constexpr double kRadToDeg = 180.0 / std::numbers::pi;

cv::Scalar rgb(const int (&c)[3]) { return cv::Scalar(c[0], c[1], c[2]); }

// Pixels per stored unit, as draw_*pose picks them: (W, H) for a normalised part (or always, for
// controlnet_aux and ControlNet 1.1), (1, 1) for a part in pixels.
struct Scale {
  double w = 1.0;
  double h = 1.0;
};

Scale scale_of(std::span<const Keypoint> part, const cv::Mat& canvas, bool always_normalised) {
  if (always_normalised || is_normalized(part))
    return {static_cast<double>(canvas.cols), static_cast<double>(canvas.rows)};
  return {};
}

// One limb: an ellipse between the two points, `stick` pixels half-width, filled.
void draw_limb(cv::Mat& canvas, const Keypoint& a, const Keypoint& b, Scale s, int stick, const cv::Scalar& color) {
  // Names as in draw_bodypose: Y holds the x coordinates, X the y coordinates.
  const double y0 = a.x * s.w, y1 = b.x * s.w;
  const double x0 = a.y * s.h, x1 = b.y * s.h;
  const double mx = (x0 + x1) / 2.0, my = (y0 + y1) / 2.0;  // np.mean of two values
  // numpy float64 scalars: ** 2 and ** 0.5 are pow() calls.
  const double length = std::pow(std::pow(x0 - x1, 2.0) + std::pow(y0 - y1, 2.0), 0.5);
  const double angle = std::atan2(x0 - x1, y0 - y1) * kRadToDeg;
  std::vector<cv::Point> polygon;
  // Python int() truncates towards zero, as static_cast does.
  cv::ellipse2Poly(cv::Point(static_cast<int>(my), static_cast<int>(mx)),
                   cv::Size(static_cast<int>(length / 2.0), stick), static_cast<int>(angle), 0, 360, 1, polygon);
  cv::fillConvexPoly(canvas, polygon, color);
}

void draw_joint(cv::Mat& canvas, const Keypoint& k, Scale s, const int (&color)[3]) {
  cv::circle(canvas, cv::Point(static_cast<int>(k.x * s.w), static_cast<int>(k.y * s.h)), 4, rgb(color), -1);
}

// A1111 / Comfy / controlnet_aux draw_bodypose for one person: limbs at int(colour * 0.6), then joints.
void draw_body(cv::Mat& canvas, const PosePerson& p, bool always_normalised, int stick) {
  const Scale s = scale_of(p.body, canvas, always_normalised);
  for (int i = 0; i < 17; ++i) {
    const Keypoint& a = p.body[kLimbs[i][0] - 1];
    const Keypoint& b = p.body[kLimbs[i][1] - 1];
    if (!a.drawn() || !b.drawn()) continue;
    const auto dim = [&](int c) {
      return static_cast<double>(static_cast<int>(static_cast<double>(kColors[i][c]) * 0.6));
    };
    draw_limb(canvas, a, b, s, stick, cv::Scalar(dim(0), dim(1), dim(2)));
  }
  for (std::size_t i = 0; i < kBodyPoints; ++i) {
    if (p.body[i].drawn()) draw_joint(canvas, p.body[i], s, kColors[i]);
  }
}

void draw_hand(cv::Mat& canvas, std::span<const Keypoint> hand, bool always_normalised) {
  if (hand.empty()) return;
  const Scale s = scale_of(hand, canvas, always_normalised);
  for (int e = 0; e < 20; ++e) {
    const Keypoint& a = hand[kHandEdges[e][0]];
    const Keypoint& b = hand[kHandEdges[e][1]];
    if (!a.drawn() || !b.drawn()) continue;
    const int x1 = static_cast<int>(a.x * s.w), y1 = static_cast<int>(a.y * s.h);
    const int x2 = static_cast<int>(b.x * s.w), y2 = static_cast<int>(b.y * s.h);
    if (x1 > kEps && y1 > kEps && x2 > kEps && y2 > kEps) {
      // Float colours: OpenCV rounds them (half to even) as it does for the reference.
      const HandEdgeColor c = hand_edge_color(e);
      cv::line(canvas, cv::Point(x1, y1), cv::Point(x2, y2), cv::Scalar(c.r, c.g, c.b), 2);
    }
  }
  for (const Keypoint& k : hand) {
    if (!k.drawn()) continue;
    const int x = static_cast<int>(k.x * s.w), y = static_cast<int>(k.y * s.h);
    if (x > kEps && y > kEps) cv::circle(canvas, cv::Point(x, y), 4, cv::Scalar(0, 0, 255), -1);
  }
}

void draw_face(cv::Mat& canvas, std::span<const Keypoint> face, bool always_normalised) {
  if (face.empty()) return;
  const Scale s = scale_of(face, canvas, always_normalised);
  for (const Keypoint& k : face) {
    if (!k.drawn()) continue;
    const int x = static_cast<int>(k.x * s.w), y = static_cast<int>(k.y * s.h);
    if (x > kEps && y > kEps) cv::circle(canvas, cv::Point(x, y), 3, cv::Scalar(255, 255, 255), -1);
  }
}

// ControlNet 1.1 draw_pose: limb by limb over all people at full colour, canvas * 0.6 (float64,
// truncated), joint by joint over all people, then all hands (left, right per person), all faces.
void draw_cn11(cv::Mat& canvas, const PoseScene& scene, const PoseRenderOptions& o) {
  if (o.body) {
    const Scale s{static_cast<double>(canvas.cols), static_cast<double>(canvas.rows)};
    for (int i = 0; i < 17; ++i) {
      for (const PosePerson& p : scene.people) {
        const Keypoint& a = p.body[kLimbs[i][0] - 1];
        const Keypoint& b = p.body[kLimbs[i][1] - 1];
        if (a.drawn() && b.drawn()) draw_limb(canvas, a, b, s, 4, rgb(kColors[i]));
      }
    }
    for (auto it = canvas.begin<cv::Vec3b>(); it != canvas.end<cv::Vec3b>(); ++it) {
      for (int c = 0; c < 3; ++c) (*it)[c] = static_cast<std::uint8_t>(static_cast<double>((*it)[c]) * 0.6);
    }
    for (std::size_t i = 0; i < kBodyPoints; ++i) {
      for (const PosePerson& p : scene.people) {
        if (p.body[i].drawn()) draw_joint(canvas, p.body[i], s, kColors[i]);
      }
    }
  }
  if (o.hands) {
    for (const PosePerson& p : scene.people) {
      draw_hand(canvas, p.left_hand, true);
      draw_hand(canvas, p.right_hand, true);
    }
  }
  if (o.face) {
    for (const PosePerson& p : scene.people) draw_face(canvas, p.face, true);
  }
}

void draw_animals(cv::Mat& canvas, const PoseScene& scene) {
  for (const AnimalPose& animal : scene.animals) {
    for (int i = 0; i < 17; ++i) {
      const Keypoint& a = animal.points[kAnimalPairs[i][0] - 1];
      const Keypoint& b = animal.points[kAnimalPairs[i][1] - 1];
      if (!a.drawn() || !b.drawn()) continue;
      cv::line(canvas, cv::Point(static_cast<int>(a.x), static_cast<int>(a.y)),
               cv::Point(static_cast<int>(b.x), static_cast<int>(b.y)), rgb(kAnimalColors[i]), 5);
    }
  }
}

// comfyui_controlnet_aux draw_bodypose(xinsr_stick_scaling=True), by the longer canvas side.
int xinsr_stick(int width, int height) {
  const int side = std::max(width, height);
  const int scale = side < 500 ? 1 : std::min(2 + side / 1000, 7);
  return 4 * scale;
}

}  // namespace

const char* to_string(PoseRenderer renderer) {
  switch (renderer) {
    case PoseRenderer::A1111:
      return "a1111";
    case PoseRenderer::ComfyXinsr:
      return "comfy_xinsr";
    case PoseRenderer::ControlNetAux:
      return "controlnet_aux";
    case PoseRenderer::CN11:
      return "cn11";
  }
  return "?";
}

std::optional<PoseRenderer> parse_pose_renderer(std::string_view name) {
  if (name == "a1111" || name == "comfy") return PoseRenderer::A1111;
  if (name == "comfy_xinsr") return PoseRenderer::ComfyXinsr;
  if (name == "controlnet_aux") return PoseRenderer::ControlNetAux;
  if (name == "cn11") return PoseRenderer::CN11;
  return std::nullopt;
}

HandEdgeColor hand_edge_color(int edge) {
  // matplotlib.colors.hsv_to_rgb([h, 1, 1]) in float64, step by step (s = v = 1 keep every
  // product exact), then * 255.
  const double h = static_cast<double>(edge) / 20.0;
  const double h6 = h * 6.0;
  const int i = static_cast<int>(h6);
  const double f = h6 - i;
  const double p = 0.0, q = 1.0 - f, t = 1.0 - (1.0 - f), v = 1.0;
  double r = v, g = t, b = p;
  switch (i % 6) {
    case 0:
      r = v, g = t, b = p;
      break;
    case 1:
      r = q, g = v, b = p;
      break;
    case 2:
      r = p, g = v, b = t;
      break;
    case 3:
      r = p, g = q, b = v;
      break;
    case 4:
      r = t, g = p, b = v;
      break;
    default:
      r = v, g = p, b = q;
      break;
  }
  return {r * 255.0, g * 255.0, b * 255.0};
}

ControlImage render_pose(const PoseScene& scene, const PoseRenderOptions& options) {
  validate_scene(scene);
  const int width = options.width > 0 ? options.width : scene.canvas_width;
  const int height = options.height > 0 ? options.height : scene.canvas_height;
  if (options.width < 0 || options.height < 0 || width > kMaxCanvasSide || height > kMaxCanvasSide)
    throw InvalidRequestError("pose map size " + std::to_string(width) + "x" + std::to_string(height) +
                              " is out of range (1 to " + std::to_string(kMaxCanvasSide) + " pixels a side)");

  ControlImage image(width, height, 3);  // black
  // The Mat draws straight into the image's bytes, channel 0 first: the reference's RGB arrays.
  cv::Mat canvas(height, width, CV_8UC3, image.pixels.data());

  if (scene.people.empty()) {
    draw_animals(canvas, scene);
    return image;
  }
  if (options.renderer == PoseRenderer::CN11) {
    draw_cn11(canvas, scene, options);
    return image;
  }
  const bool always_normalised = options.renderer == PoseRenderer::ControlNetAux;
  const int stick = options.renderer == PoseRenderer::ComfyXinsr ? xinsr_stick(width, height) : 4;
  for (const PosePerson& p : scene.people) {
    if (options.body) draw_body(canvas, p, always_normalised, stick);
    if (options.hands) {
      draw_hand(canvas, p.left_hand, always_normalised);
      draw_hand(canvas, p.right_hand, always_normalised);
    }
    if (options.face) draw_face(canvas, p.face, always_normalised);
  }
  return image;
}

}  // namespace kiln::control
