#include "control/pose.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "base/error.h"

namespace kiln::control {

namespace {

constexpr std::array<const char*, kBodyPoints> kBodyNames = {
    "nose",       "neck",       "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip",      "right_knee",  "right_ankle", "left_hip",
    "left_knee",  "left_ankle", "right_eye",      "left_eye",    "right_ear",   "left_ear",
};

// Body slots swapped by a mirror (COCO-18: shoulders, elbows, wrists, hips, knees, ankles, eyes, ears).
constexpr std::array<std::pair<int, int>, 8> kBodyMirrorPairs = {
    {{2, 5}, {3, 6}, {4, 7}, {8, 11}, {9, 12}, {10, 13}, {14, 15}, {16, 17}}};

// AP10K: eyes, shoulders, elbows, front paws, hips, knees, back paws.
constexpr std::array<std::pair<int, int>, 7> kAnimalMirrorPairs = {
    {{0, 1}, {5, 8}, {6, 9}, {7, 10}, {11, 14}, {12, 15}, {13, 16}}};

// The face slot a landmark moves to in a mirror image: the 68 iBUG landmarks (jaw 0-16, brows
// 17-26, nose bridge 27-30, nostrils 31-35, eyes 36-47, mouth 48-67) and the pupils 68/69.
constexpr int face_mirror_slot(int i) {
  if (i <= 16) return 16 - i;
  if (i <= 26) return 43 - i;
  if (i <= 30) return i;
  if (i <= 35) return 66 - i;
  if (i <= 47) {
    // 36..41 one eye (corner, upper lid x2, corner, lower lid x2), 42..47 the other.
    constexpr int eyes[12] = {45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40};
    return eyes[i - 36];
  }
  if (i <= 54) return 102 - i;
  if (i <= 59) return 114 - i;
  if (i <= 64) return 124 - i;
  if (i <= 67) return 132 - i;
  return i == 68 ? 69 : 68;
}

// Pixels per stored unit of a part: the canvas size for a normalised part, 1 for pixels.
struct PartScale {
  double x = 1.0;
  double y = 1.0;
};

PartScale part_scale(std::span<const Keypoint> part, const PoseScene& scene) {
  if (is_normalized(part)) return {static_cast<double>(scene.canvas_width), static_cast<double>(scene.canvas_height)};
  return {};
}

bool present(const Keypoint& k) { return k.confidence > 0.0; }

// Applies `f(keypoint, scale)` to every present point of a person, part by part.
template <typename F>
void for_each_present(PosePerson& person, const PoseScene& scene, F&& f) {
  const auto visit = [&](std::span<Keypoint> part) {
    const PartScale s = part_scale(part, scene);
    for (Keypoint& k : part) {
      if (present(k)) f(k, s);
    }
  };
  visit(person.body);
  visit(person.left_hand);
  visit(person.right_hand);
  visit(person.face);
}

void mirror_person_about(PosePerson& person, const PoseScene& scene, double axis_px) {
  for_each_present(person, scene, [&](Keypoint& k, PartScale s) { k.x = (2.0 * axis_px - k.x * s.x) / s.x; });
  for (const auto& [a, b] : kBodyMirrorPairs) std::swap(person.body[a], person.body[b]);
  std::swap(person.left_hand, person.right_hand);
  if (person.face.size() == kFacePoints) {
    std::vector<Keypoint> mirrored(kFacePoints);
    for (int i = 0; i < static_cast<int>(kFacePoints); ++i) mirrored[face_mirror_slot(i)] = person.face[i];
    person.face = std::move(mirrored);
  }
}

std::string check_part(std::span<const Keypoint> part, const std::string& field) {
  for (std::size_t i = 0; i < part.size(); ++i) {
    const Keypoint& k = part[i];
    const double values[3] = {k.x, k.y, k.confidence};
    for (int c = 0; c < 3; ++c) {
      const std::string where = field + "[" + std::to_string(3 * i + c) + "]";
      if (!std::isfinite(values[c])) return where + " is not a finite number";
      if (c < 2 && std::abs(values[c]) > kMaxCoordinate)
        return where + " = " + std::to_string(values[c]) + " is out of range (|coordinate| <= 100000)";
      if (c == 2 && values[c] < 0.0) return where + " = " + std::to_string(values[c]) + " is a negative confidence";
    }
  }
  return {};
}

std::string check_length(std::size_t got, std::size_t expected, const std::string& field) {
  if (got == 0 || got == expected) return {};
  return field + " has " + std::to_string(got) + " points, expected " + std::to_string(expected) + " (or none)";
}

}  // namespace

const char* to_string(BodyPoint point) {
  const auto i = static_cast<std::size_t>(point);
  return i < kBodyNames.size() ? kBodyNames[i] : "?";
}

bool is_normalized(std::span<const Keypoint> part) {
  bool any = false;
  for (const Keypoint& k : part) {
    if (!k.drawn()) continue;  // the reference drops c < 1 before it looks
    any = true;
    if (!(std::abs(k.x) <= 1.0 && std::abs(k.y) <= 1.0)) return false;
  }
  return any;
}

std::string scene_problem(const PoseScene& scene) {
  const auto side = [](int v) { return v >= 1 && v <= kMaxCanvasSide; };
  if (!side(scene.canvas_width) || !side(scene.canvas_height))
    return "canvas " + std::to_string(scene.canvas_width) + "x" + std::to_string(scene.canvas_height) +
           " is out of range (1 to " + std::to_string(kMaxCanvasSide) + " pixels a side)";
  if (scene.people.size() > kMaxPeople || scene.animals.size() > kMaxPeople)
    return std::to_string(scene.people.size()) + " people and " + std::to_string(scene.animals.size()) +
           " animals: more than " + std::to_string(kMaxPeople) + " is not a pose";
  for (std::size_t p = 0; p < scene.people.size(); ++p) {
    const PosePerson& person = scene.people[p];
    const std::string base = "people[" + std::to_string(p) + "].";
    for (const auto& [part, name, expected] :
         {std::tuple{std::span<const Keypoint>(person.body), "pose_keypoints_2d", kBodyPoints},
          std::tuple{std::span<const Keypoint>(person.left_hand), "hand_left_keypoints_2d", kHandPoints},
          std::tuple{std::span<const Keypoint>(person.right_hand), "hand_right_keypoints_2d", kHandPoints},
          std::tuple{std::span<const Keypoint>(person.face), "face_keypoints_2d", kFacePoints}}) {
      if (std::string e = check_length(part.size(), expected, base + name); !e.empty()) return e;
      if (std::string e = check_part(part, base + name); !e.empty()) return e;
    }
  }
  for (std::size_t a = 0; a < scene.animals.size(); ++a) {
    if (std::string e = check_part(scene.animals[a].points, "animals[" + std::to_string(a) + "]"); !e.empty()) return e;
  }
  return {};
}

void validate_scene(const PoseScene& scene) {
  if (std::string problem = scene_problem(scene); !problem.empty()) throw InvalidRequestError("pose: " + problem);
}

PosePerson default_person() {
  // A relaxed standing figure, a little under the canvas height, centred.
  constexpr double xy[kBodyPoints][2] = {
      {0.500, 0.160}, {0.500, 0.260}, {0.410, 0.260}, {0.380, 0.390}, {0.360, 0.510}, {0.590, 0.260},
      {0.620, 0.390}, {0.640, 0.510}, {0.445, 0.520}, {0.435, 0.690}, {0.430, 0.860}, {0.555, 0.520},
      {0.565, 0.690}, {0.570, 0.860}, {0.480, 0.145}, {0.520, 0.145}, {0.455, 0.160}, {0.545, 0.160},
  };
  PosePerson person;
  for (std::size_t i = 0; i < kBodyPoints; ++i) person.body[i] = {xy[i][0], xy[i][1], 1.0};
  return person;
}

PoseScene default_scene() {
  PoseScene scene;
  scene.people.push_back(default_person());
  return scene;
}

void normalize_coordinates(PoseScene& scene) {
  const double w = scene.canvas_width, h = scene.canvas_height;
  const auto convert = [&](std::span<Keypoint> part) {
    const bool has_drawn = std::any_of(part.begin(), part.end(), [](const Keypoint& k) { return k.drawn(); });
    if (!has_drawn || is_normalized(part)) return;
    for (Keypoint& k : part) {
      k.x /= w;
      k.y /= h;
    }
  };
  for (PosePerson& person : scene.people) {
    convert(person.body);
    convert(person.left_hand);
    convert(person.right_hand);
    convert(person.face);
  }
}

void mirror_person(PoseScene& scene, std::size_t person) {
  if (person >= scene.people.size())
    throw InvalidRequestError("mirror_person: no person " + std::to_string(person) + " (the pose has " +
                              std::to_string(scene.people.size()) + ")");
  PosePerson& p = scene.people[person];
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for_each_present(p, scene, [&](Keypoint& k, PartScale s) {
    lo = std::min(lo, k.x * s.x);
    hi = std::max(hi, k.x * s.x);
  });
  if (lo > hi) return;  // nothing shown: nothing to mirror about
  mirror_person_about(p, scene, 0.5 * (lo + hi));
}

void mirror_scene(PoseScene& scene) {
  const double axis = 0.5 * scene.canvas_width;
  for (PosePerson& p : scene.people) mirror_person_about(p, scene, axis);
  for (AnimalPose& animal : scene.animals) {
    for (Keypoint& k : animal.points) {
      if (present(k)) k.x = 2.0 * axis - k.x;
    }
    for (const auto& [a, b] : kAnimalMirrorPairs) std::swap(animal.points[a], animal.points[b]);
  }
}

std::size_t duplicate_person(PoseScene& scene, std::size_t person, double dx, double dy) {
  if (person >= scene.people.size())
    throw InvalidRequestError("duplicate_person: no person " + std::to_string(person) + " (the pose has " +
                              std::to_string(scene.people.size()) + ")");
  PosePerson copy = scene.people[person];
  const double px = dx * scene.canvas_width, py = dy * scene.canvas_height;
  for_each_present(copy, scene, [&](Keypoint& k, PartScale s) {
    k.x += px / s.x;
    k.y += py / s.y;
  });
  scene.people.push_back(std::move(copy));
  return scene.people.size() - 1;
}

void remove_person(PoseScene& scene, std::size_t person) {
  if (person >= scene.people.size())
    throw InvalidRequestError("remove_person: no person " + std::to_string(person) + " (the pose has " +
                              std::to_string(scene.people.size()) + ")");
  scene.people.erase(scene.people.begin() + static_cast<std::ptrdiff_t>(person));
}

void hide_point(PosePerson& person, BodyPoint point) { person[point].confidence = 0.0; }
void show_point(PosePerson& person, BodyPoint point) { person[point].confidence = 1.0; }

std::size_t clamp_to_canvas(PoseScene& scene) {
  std::size_t moved = 0;
  const auto clamp_part = [&](std::span<Keypoint> part) {
    for (Keypoint& k : part) {
      if (!present(k)) continue;
      const double x = std::clamp(k.x, 0.0, 1.0), y = std::clamp(k.y, 0.0, 1.0);
      if (x != k.x || y != k.y) ++moved;
      k.x = x;
      k.y = y;
    }
  };
  for (PosePerson& person : scene.people) {
    clamp_part(person.body);
    clamp_part(person.left_hand);
    clamp_part(person.right_hand);
    clamp_part(person.face);
  }
  return moved;
}

}  // namespace kiln::control
