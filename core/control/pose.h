#pragma once
// Poses as AUTOMATIC1111's ControlNet extension, huchenlei's sd-webui-openpose-editor and
// ComfyUI (comfyui_controlnet_aux) exchange them: people with the 18 OpenPose COCO body points,
// optional 21-point hands and a 70-point face, AP10K animals with 17 points, and the canvas they
// were drawn for. Points keep the numbers of the file: a part is in normalised (0..1) or pixel
// coordinates, decided per part by is_normalized() exactly as A1111's decoder does (README of
// ../shared/golden/control_maps, trap 18). Reading and writing: pose_json.h; drawing: pose_render.h.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace kiln::control {

// One point as stored: x, y and the confidence c. The reference draws a point only when
// c >= 1 (0.99 is dropped too); the editors write 1 for a shown point and 0, 0, 0 for a missing one.
struct Keypoint {
  double x = 0.0;
  double y = 0.0;
  double confidence = 0.0;

  bool drawn() const { return confidence >= 1.0; }
  friend bool operator==(const Keypoint&, const Keypoint&) = default;
};

inline constexpr std::size_t kBodyPoints = 18;
inline constexpr std::size_t kHandPoints = 21;
inline constexpr std::size_t kFacePoints = 70;    // 68 landmarks + the two pupils (OpenPose face)
inline constexpr std::size_t kAnimalPoints = 17;  // AP10K

// OpenPose COCO-18 order ("right" is the person's right: the image's left when they face us).
enum class BodyPoint : int {
  Nose = 0,
  Neck,
  RightShoulder,
  RightElbow,
  RightWrist,
  LeftShoulder,
  LeftElbow,
  LeftWrist,
  RightHip,
  RightKnee,
  RightAnkle,
  LeftHip,
  LeftKnee,
  LeftAnkle,
  RightEye,
  LeftEye,
  RightEar,
  LeftEar,
};
const char* to_string(BodyPoint point);  // "right_elbow"

struct PosePerson {
  std::array<Keypoint, kBodyPoints> body{};
  // Empty = absent (null in the JSON); otherwise exactly kHandPoints / kFacePoints points.
  std::vector<Keypoint> left_hand;
  std::vector<Keypoint> right_hand;
  std::vector<Keypoint> face;

  Keypoint& operator[](BodyPoint p) { return body[static_cast<std::size_t>(p)]; }
  const Keypoint& operator[](BodyPoint p) const { return body[static_cast<std::size_t>(p)]; }
  friend bool operator==(const PosePerson&, const PosePerson&) = default;
};

struct AnimalPose {
  std::array<Keypoint, kAnimalPoints> points{};  // AP10K order, always pixel coordinates
  friend bool operator==(const AnimalPose&, const AnimalPose&) = default;
};

// One canvas with its people and animals: one A1111 "OpenPose JSON" file, or one frame of a
// ComfyUI POSE_KEYPOINT list.
struct PoseScene {
  int canvas_width = 512;
  int canvas_height = 512;
  std::vector<PosePerson> people;
  std::vector<AnimalPose> animals;
  friend bool operator==(const PoseScene&, const PoseScene&) = default;
};

// Limits the readers and validate_scene() enforce: beyond them a file is broken or hostile.
inline constexpr int kMaxCanvasSide = 8192;
inline constexpr double kMaxCoordinate = 1e5;  // |x|, |y| in either unit
inline constexpr std::size_t kMaxPeople = 1000;

// A1111/Comfy `is_normalized`: true when every drawn point (c >= 1) has |x| <= 1 and |y| <= 1;
// false for a part without drawn points. A false part is drawn in pixels, so one body point at
// x = 1.03 turns the whole body into pixel coordinates.
bool is_normalized(std::span<const Keypoint> part);

// The problem with a scene (canvas size, non-finite or absurd numbers, negative confidence, a
// hand/face of the wrong length), naming the field as the JSON does ("people[1].hand_left_keypoints_2d[4]");
// empty when the scene is fine.
std::string scene_problem(const PoseScene& scene);
// Throws InvalidRequestError with scene_problem() when there is one.
void validate_scene(const PoseScene& scene);

// --- Helpers for the pose editor -------------------------------------------------------------

// A standing person facing the viewer, normalised, every body point shown, no hands or face.
PosePerson default_person();
// A 512x512 canvas with default_person().
PoseScene default_scene();

// Converts every part of every person to normalised coordinates (x / W, y / H for parts that are
// in pixels; normalised parts unchanged), so an editor works in one unit. Animals stay in pixels
// (the reference draws them so). Note: a pixel part drawn after this conversion may land one pixel
// off where x / W * W does not give x back exactly.
void normalize_coordinates(PoseScene& scene);

// Mirrors a person horizontally about the centre of its own shown points, swapping left and
// right: body points, hands, and the face landmarks (jaw, brows, eyes, nose, mouth, pupils).
// Points with confidence 0 keep their numbers (only their slot changes).
void mirror_person(PoseScene& scene, std::size_t person);
// Mirrors the whole scene about the canvas centre (people and animals).
void mirror_scene(PoseScene& scene);

// Appends a copy of people[person] shifted by (dx, dy) canvas fractions; returns its index.
std::size_t duplicate_person(PoseScene& scene, std::size_t person, double dx = 0.05, double dy = 0.0);
void remove_person(PoseScene& scene, std::size_t person);

// Hides a body point (confidence 0, position kept so that show_point brings it back) or shows it
// (confidence 1).
void hide_point(PosePerson& person, BodyPoint point);
void show_point(PosePerson& person, BodyPoint point);

// For an editor working in normalised coordinates (see normalize_coordinates): moves every
// present point (confidence > 0) of every person into [0, 1] x [0, 1], so that a joint dragged
// off the canvas does not turn its part into pixel coordinates (is_normalized); returns how many
// points moved.
std::size_t clamp_to_canvas(PoseScene& scene);

}  // namespace kiln::control
