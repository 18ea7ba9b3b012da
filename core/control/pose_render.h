#pragma once
// Draws poses into the control map an OpenPose ControlNet expects, byte for byte as the reference
// implementations do (same OpenCV 4.6 calls, same integer truncations; see the openpose section
// and traps 3, 9, 18-20 of ../shared/golden/control_maps/README.md):
//  - A1111:          sd-webui-controlnet `decode_json_as_poses` + `draw_poses` (per person: limbs as
//                    filled ellipse polygons in colour * 0.6, joints r = 4, left hand, right hand,
//                    face; normalised or pixel coordinates per part). ComfyUI's RenderPeopleKps
//                    gives the same image.
//  - ComfyXinsr:     ComfyUI's `draw_poses(..., xinsr_stick_scaling=True)`: limbs 4 * scale wide,
//                    scale 1 below a 500-pixel side, else min(2 + side / 1000, 7).
//  - ControlNetAux:  huggingface controlnet_aux `draw_poses`: as A1111 but always normalised.
//  - CN11:           ControlNet 1.1 `draw_pose`: every limb of every person, the whole canvas * 0.6,
//                    then every joint, then hands and faces; always normalised.
// A scene without people draws its animals (AP10K, lines of width 5, pixel coordinates).

#include <optional>
#include <string_view>

#include "control/control_image.h"
#include "control/pose.h"

namespace kiln::control {

enum class PoseRenderer {
  A1111,  // also ComfyUI (RenderPeopleKps / RenderAnimalKps)
  ComfyXinsr,
  ControlNetAux,
  CN11,
};
const char* to_string(PoseRenderer renderer);  // "a1111", "comfy_xinsr", "controlnet_aux", "cn11"
// Accepts the names above and "comfy" (= A1111).
std::optional<PoseRenderer> parse_pose_renderer(std::string_view name);

struct PoseRenderOptions {
  PoseRenderer renderer = PoseRenderer::A1111;
  bool body = true;
  bool hands = true;
  bool face = true;
  // Canvas size of the map; 0 = the scene's canvas. Normalised parts scale with it, pixel parts
  // stay where they are (as the reference's draw_poses(poses, H, W) with another H, W).
  int width = 0;
  int height = 0;
};

// Validates the scene and the size (InvalidRequestError) and draws it on black. The map is an
// RGB ControlImage (3 channels), like every other control map.
ControlImage render_pose(const PoseScene& scene, const PoseRenderOptions& options = {});

// matplotlib's hsv_to_rgb([edge / 20, 1, 1]) * 255 for the 20 hand edges: the float colours the
// reference hands to cv2.line, which OpenCV rounds half to even (76.50000000000001 -> 77,
// 127.5 -> 128). Exposed for tests.
struct HandEdgeColor {
  double r, g, b;
};
HandEdgeColor hand_edge_color(int edge);

}  // namespace kiln::control
