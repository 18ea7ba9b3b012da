#pragma once
// Reading and writing the two pose JSON formats of the ControlNet world:
//  - "OpenPose JSON" of AUTOMATIC1111's ControlNet extension and huchenlei's openpose editor:
//    {"people": [{"pose_keypoints_2d": [x, y, c] x 18, "hand_left_keypoints_2d": x 21 or null,
//    "hand_right_keypoints_2d", "face_keypoints_2d": x 70 or null}], "animals": [[x, y, c] x 17],
//    "canvas_width": W, "canvas_height": H};
//  - ComfyUI's POSE_KEYPOINT (comfyui_controlnet_aux): a list of such objects, one per frame,
//    animals as {"version": "ap10k", "animals": [...], "canvas_height", "canvas_width"}.
// The numbers are kept as written (normalised or pixels: see is_normalized in pose.h). Broken
// input (not JSON, truncated, wrong array lengths, NaN/Infinity, absurd sizes) throws
// kiln::FormatError naming the file and the field.

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/pose.h"

namespace kiln::control {

enum class PoseJsonFormat {
  OpenPose,      // one object (A1111 / openpose editor)
  PoseKeypoint,  // a list of objects (ComfyUI POSE_KEYPOINT)
};
const char* to_string(PoseJsonFormat format);  // "openpose", "pose_keypoint"

struct PoseFile {
  PoseJsonFormat format = PoseJsonFormat::OpenPose;
  std::vector<PoseScene> frames;  // exactly one for OpenPose JSON, at least one otherwise
};

// Larger texts are refused before parsing (a pose with hands and a face is ~3 KB a person).
inline constexpr std::size_t kMaxPoseJsonBytes = 64u << 20;

// `source` names the file in error messages.
PoseScene parse_openpose_json(std::string_view text, const std::filesystem::path& source = {});
std::vector<PoseScene> parse_pose_keypoint_json(std::string_view text, const std::filesystem::path& source = {});
// Either format, told apart by the top level (object or list).
PoseFile parse_pose_json(std::string_view text, const std::filesystem::path& source = {});
// Throws FileError when the file cannot be read, FormatError when its content is broken.
PoseFile read_pose_file(const std::filesystem::path& path);

// The editor's layout: one line per person / animal. Absent hands and faces are null.
std::string to_openpose_json(const PoseScene& scene);
// A POSE_KEYPOINT list; a frame with animals and no people is written as Comfy's ap10k object.
std::string to_pose_keypoint_json(std::span<const PoseScene> frames);
// Validates every frame (InvalidRequestError) and writes atomically (temporary file + rename).
// OpenPose JSON holds one frame: more is an InvalidRequestError.
void write_pose_file(const std::filesystem::path& path, const PoseFile& file);

}  // namespace kiln::control
