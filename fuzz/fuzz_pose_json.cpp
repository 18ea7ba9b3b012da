// Pose files users import: AUTOMATIC1111's OpenPose JSON and ComfyUI's POSE_KEYPOINT, parsed,
// then written back and parsed again.
#include "control/pose_json.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto file = kiln::control::parse_pose_json(kiln::fuzz::text(data, size), "pose.json");
    for (const auto& scene : file.frames) (void)kiln::control::parse_openpose_json(kiln::control::to_openpose_json(scene));
  });
  return 0;
}
