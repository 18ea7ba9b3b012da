// DWPose (dwpose.h) against tests/data/dwpose: tiny ONNX models with the real names and shapes,
// and the people a Python port of A1111's cv2.dnn pipeline finds with them (reference.json, made
// by make_dwpose_fixtures.py): boxes and keypoints within 1e-3 px, scores within 1e-4, the same
// people. Then the pieces that can be checked exactly (letterbox, NMS, YOLOX decoding, SimCC,
// the 133 -> OpenPose mapping), the registry entry, cancelling, and bad files.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <string>
#include <vector>

#include "base/error.h"
#include "control/dwpose.h"
#include "control/geometry.h"
#include "control/pose_render.h"
#include "control/preprocessor.h"
#include "control_test_util.h"
#include "support/test_support.h"

using namespace kiln::control;
using kiln::control::test::golden_input;
using kiln::control::test::read_json;
using kiln::control::test::sha256_hex;
using kiln::control::test::thrown;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path dwpose_dir() { return kiln::test::data_dir() / "dwpose"; }

DwposeFiles tiny_files() { return {dwpose_dir() / "yolox_tiny.onnx", dwpose_dir() / "dwpose_tiny.onnx"}; }

const json& reference() {
  static const json r = read_json(dwpose_dir() / "reference.json");
  return r;
}

// make_dwpose_fixtures.py's synthetic(): "synthetic:<kind>:<W>x<H>".
ControlImage synthetic_image(const std::string& spec) {
  const std::string rest = spec.substr(std::string("synthetic:").size());
  const std::string kind = rest.substr(0, rest.find(':'));
  const std::string size = rest.substr(rest.find(':') + 1);
  const int w = std::stoi(size.substr(0, size.find('x')));
  const int h = std::stoi(size.substr(size.find('x') + 1));
  ControlImage image(w, h, 3);
  if (kind == "bluish") {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        std::uint8_t* p = image.pixel(x, y);
        p[0] = static_cast<std::uint8_t>((x * 3 + y) % 40);
        p[1] = static_cast<std::uint8_t>((x + y * 2) % 60);
        p[2] = static_cast<std::uint8_t>(150 + (x * 7 + y * 5) % 100);
      }
    }
  }
  return image;
}

// The picture the reference ran on: HWC3, through resize_image_with_pad for the A1111 cases.
ControlImage case_input(const json& c) {
  const std::string input = c["input"];
  ControlImage image;
  if (input.rfind("synthetic:", 0) == 0) {
    image = synthetic_image(input);
  } else {
    const std::string file = fs::path(input).stem().string();
    image = hwc3(golden_input(file));
  }
  if (!c["resolution"].is_null()) image = resize_image_with_pad(image, c["resolution"].get<int>()).padded;
  return image;
}

void check_part(const std::vector<Keypoint>& got, const json& want, const std::string& what) {
  CAPTURE(what);
  if (want.is_null()) {
    CHECK(got.empty());
    return;
  }
  REQUIRE(got.size() * 3 == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(got[i].x - want[3 * i].get<double>()) <= 1e-3);
    CHECK(std::abs(got[i].y - want[3 * i + 1].get<double>()) <= 1e-3);
    CHECK(got[i].confidence == want[3 * i + 2].get<double>());
  }
}

Keypoint kp(double x, double y) { return {x, y, 1.0}; }

}  // namespace

TEST_CASE("dwpose: the tiny models give the reference's people (A1111 cv2.dnn port)") {
  const json& cases = reference()["cases"];
  REQUIRE(cases.size() >= 5);
  const DwposeFiles files = tiny_files();
  bool some_fallback = false;
  bool some_nobody = false;
  bool some_crowd = false;
  double worst_xy = 0, worst_score = 0;
  for (const json& c : cases) {
    CAPTURE(c["name"].get<std::string>());
    const ControlImage input = case_input(c);
    REQUIRE(input.width == c["canvas_width"].get<int>());
    REQUIRE(input.height == c["canvas_height"].get<int>());
    REQUIRE(sha256_hex(input) == c["input_sha256"].get<std::string>());

    const auto people = run_dwpose(input, files);
    REQUIRE(people.has_value());
    const json& raw = c["raw"];
    const std::size_t want_count = raw.is_array() ? 0 : raw["boxes"].size();
    REQUIRE(people->size() == want_count);
    REQUIRE(c["people"].size() == want_count);
    some_nobody = some_nobody || want_count == 0;
    some_crowd = some_crowd || want_count >= 3;
    const auto& classes = c["detector"]["classes_found"];
    some_fallback = some_fallback || (want_count == 1 && std::find(classes.begin(), classes.end(), 0) == classes.end());

    for (std::size_t p = 0; p < want_count; ++p) {
      CAPTURE(p);
      const WholebodyPerson& got = (*people)[p];
      for (int i = 0; i < 4; ++i) CHECK(std::abs(got.box[i] - raw["boxes"][p][i].get<double>()) <= 1e-3);
      const PoseCrop crop = dwpose_crop(got.box);
      CHECK(std::abs(crop.center_x - raw["center"][p][0].get<double>()) <= 1e-3);
      CHECK(std::abs(crop.scale_h - raw["scale"][p][1].get<double>()) <= 1e-3);
      double person_xy = 0, person_score = 0;
      for (int k = 0; k < kWholebodyPoints; ++k) {
        person_xy = std::max(person_xy, std::abs(got.keypoints[k][0] - raw["keypoints"][p][k][0].get<double>()));
        person_xy = std::max(person_xy, std::abs(got.keypoints[k][1] - raw["keypoints"][p][k][1].get<double>()));
        person_score = std::max(person_score, std::abs(got.scores[k] - raw["scores"][p][k].get<double>()));
      }
      CHECK(person_xy <= 1e-3);
      CHECK(person_score <= 1e-4);
      worst_xy = std::max(worst_xy, person_xy);
      worst_score = std::max(worst_score, person_score);

      const PosePerson person = wholebody_to_openpose(got);
      const json& want = c["people"][p];
      check_part(std::vector<Keypoint>(person.body.begin(), person.body.end()), want["pose_keypoints_2d"], "body");
      check_part(person.left_hand, want["hand_left_keypoints_2d"], "left hand");
      check_part(person.right_hand, want["hand_right_keypoints_2d"], "right hand");
      check_part(person.face, want["face_keypoints_2d"], "face");
    }
  }
  MESSAGE("largest keypoint difference " << worst_xy << " px, score difference " << worst_score);
  // The cases cover what they are meant to.
  CHECK(some_fallback);
  CHECK(some_nobody);
  CHECK(some_crowd);
}

TEST_CASE("dwpose: dw_openpose_full is registered with A1111's name, defaults and files") {
  register_dwpose_preprocessors();
  register_dwpose_preprocessors();  // idempotent
  const auto p = find_preprocessor("dw_openpose_full");
  REQUIRE(p);
  CHECK(p->takes_resolution);
  CHECK(p->default_resolution == 512);
  CHECK(p->params.empty());
  CHECK(p->weights.file_names == std::vector<std::string>{"dw-ll_ucoco_384.onnx"});
  REQUIRE(p->more_weights.size() == 1);
  CHECK(p->more_weights[0].file_names == std::vector<std::string>{"yolox_l.onnx"});
  CHECK(p->weights.source == "https://huggingface.co/yzd-v/DWPose");
  CHECK(p->weights.licence.find("Apache-2.0") != std::string::npos);
  // A1111's openpose* modules run the CMU network (non-commercial): not offered under those names.
  for (const char* cmu : {"openpose", "openpose_face", "openpose_faceonly", "openpose_full", "openpose_hand"})
    CHECK_FALSE(find_preprocessor(cmu));

  // The files in A1111's layout (annotator/downloads/openpose) under their published names.
  kiln::test::ScratchDir dir("kiln-dwpose");
  fs::create_directories(dir / "openpose");
  fs::copy_file(tiny_files().detector, dir.path() / "openpose" / "yolox_l.onnx");
  fs::copy_file(tiny_files().pose, dir.path() / "openpose" / "dw-ll_ucoco_384.onnx");
  PreprocessorContext context;
  context.annotator_dirs = {dir.path()};
  const auto found = find_preprocessor_weights(*p, context.annotator_dirs);
  REQUIRE(found.size() == 2);
  CHECK(found[1].filename() == "yolox_l.onnx");
  CHECK(dwpose_available(context.annotator_dirs));
  CHECK_FALSE(dwpose_available({}));

  // The A1111 chain gives the reference's people on the padded canvas and their drawing, cropped.
  const json* landscape = nullptr;
  for (const json& c : reference()["cases"])
    if (c["name"] == "landscape_a1111_512") landscape = &c;
  REQUIRE(landscape);
  const ControlImage photo = golden_input("photo_landscape");
  PoseScene scene;
  const ControlImage map = dwpose_a1111(photo, 512, find_dwpose_files(context.annotator_dirs), context, &scene);
  CHECK(scene.canvas_width == (*landscape)["canvas_width"].get<int>());
  CHECK(scene.canvas_height == (*landscape)["canvas_height"].get<int>());
  REQUIRE(scene.people.size() == (*landscape)["people"].size());
  const PaddedImage padded = resize_image_with_pad(photo, 512);
  const ControlImage drawn = remove_pad(padded, render_pose(scene));
  CHECK(map.width == padded.target_width);
  CHECK(map.height == padded.target_height);
  CHECK(sha256_hex(map) == sha256_hex(drawn));
  std::size_t lit = 0;
  for (const std::uint8_t v : map.pixels) lit += v != 0;
  CHECK(lit > 1000);  // people were drawn
  const ControlImage via_registry = run_preprocessor("dw_openpose_full", photo, 512, {}, context);
  CHECK(sha256_hex(via_registry) == sha256_hex(map));
}

TEST_CASE("dwpose: letterbox geometry") {
  const Letterbox portrait = yolox_letterbox(256, 300);
  CHECK(portrait.ratio == 640.0 / 300.0);
  CHECK(portrait.width == 546);  // int(256 * 2.1333...) = 546
  CHECK(portrait.height == 640);
  const Letterbox wide = yolox_letterbox(1000, 10);
  CHECK(wide.ratio == 0.64);
  CHECK(wide.width == 640);
  CHECK(wide.height == 6);  // int(6.4)
  const Letterbox small = yolox_letterbox(64, 48);
  CHECK(small.ratio == 10.0);
  CHECK(small.width == 640);
  CHECK(small.height == 480);
}

TEST_CASE("dwpose: NMS keeps the best box of each overlapping group") {
  const std::vector<std::array<float, 4>> boxes{
      {0, 0, 99, 99},        // 0: area 100x100
      {10, 0, 109, 99},      // 1: IoU with 0 = 90*100 / (2*10000 - 9000) = 0.818 -> dropped by 0
      {200, 200, 249, 249},  // 2: alone
      {50, 0, 149, 99},      // 3: IoU with 1 = 60*100 / (20000 - 6000) = 0.43: kept at 0.45, not at 0.4
      {225, 200, 274, 249},  // 4: IoU with 2 = 25*50/(2*2500-1250) = 0.3333 -> kept
  };
  const std::vector<float> scores{0.9f, 0.95f, 0.5f, 0.8f, 0.4f};
  // Sorted: 1 (0.95), 0 (0.9), 3 (0.8), 2, 4. 1 keeps; 0 overlaps 1 (0.818) -> out; 3 overlaps
  // 1: x 50..109 = 60 wide -> 6000 / (20000 - 6000) = 0.4286 <= 0.45 -> kept.
  CHECK(yolox_nms(boxes, scores, 0.45f) == std::vector<std::size_t>{1, 3, 2, 4});
  CHECK(yolox_nms(boxes, scores, 0.4f) == std::vector<std::size_t>{1, 2, 4});
  // Equal scores: the later index first, as numpy's argsort()[::-1].
  const std::vector<std::array<float, 4>> same{{0, 0, 9, 9}, {0, 0, 9, 9}};
  CHECK(yolox_nms(same, std::vector<float>{0.5f, 0.5f}, 0.45f) == std::vector<std::size_t>{1});
  CHECK(yolox_nms({}, {}, 0.45f).empty());
}

TEST_CASE("dwpose: YOLOX decoding, thresholds and the reference's None / empty outcomes") {
  const int anchors = 8400;
  const int channels = 7;  // 4 box numbers, objectness, person, one other class
  std::vector<float> out(static_cast<std::size_t>(anchors) * channels, 0.0f);
  const auto set = [&](int anchor, std::array<float, 7> v) {
    std::copy(v.begin(), v.end(), out.begin() + static_cast<std::ptrdiff_t>(anchor) * channels);
  };
  // nothing above 0.1: None
  CHECK_FALSE(yolox_person_boxes(out, anchors, channels, 1.0).has_value());
  // another class only: an empty list (the pose model then sees the whole image)
  set(5, {0, 0, 0, 0, 0.5f, 0.1f, 0.5f});
  auto boxes = yolox_person_boxes(out, anchors, channels, 1.0);
  REQUIRE(boxes.has_value());
  CHECK(boxes->empty());
  // a person at stride 8, cell (gx 3, gy 2) = anchor 2 * 80 + 3, and one at stride 32, cell (1, 0)
  const float log2 = std::log(2.0f);
  set(2 * 80 + 3, {0.5f, 0.25f, log2, 0.0f, 0.9f, 0.8f, 0.0f});
  set(6400 + 1600 + 1, {0.0f, 0.0f, 0.0f, 0.0f, 0.9f, 0.3f, 0.0f});  // 0.27: above 0.1, not 0.3
  boxes = yolox_person_boxes(out, anchors, channels, 2.0);
  REQUIRE(boxes.has_value());
  REQUIRE(boxes->size() == 1);
  // centre ((0.5 + 3) * 8, (0.25 + 2) * 8) = (28, 18), size (2 * 8, 1 * 8) = (16, 8), / 2
  CHECK((*boxes)[0][0] == doctest::Approx(10.0));
  CHECK((*boxes)[0][1] == doctest::Approx(7.0));
  CHECK((*boxes)[0][2] == doctest::Approx(18.0));
  CHECK((*boxes)[0][3] == doctest::Approx(11.0));
  CHECK_THROWS_AS(yolox_person_boxes(std::vector<float>(100), 20, 5, 1.0), kiln::InvalidRequestError);
}

TEST_CASE("dwpose: crop geometry (padding 1.25, 288:384)") {
  const PoseCrop tall = dwpose_crop({10, 20, 50, 220});  // 40 x 200 -> 50 x 250 -> 187.5 x 250
  CHECK(tall.center_x == 30);
  CHECK(tall.center_y == 120);
  CHECK(tall.scale_w == 187.5);
  CHECK(tall.scale_h == 250);
  const PoseCrop wide = dwpose_crop({0, 0, 300, 30});  // 375 x 37.5 -> 375 x 500
  CHECK(wide.scale_w == 375);
  CHECK(wide.scale_h == 500);
  // a decoded point back in the image: x / 288 * w + cx - w / 2
  const auto p = simcc_to_image({144.0f, 0.0f, 1.0f}, tall);
  CHECK(p[0] == 30);
  CHECK(p[1] == -5);
}

TEST_CASE("dwpose: SimCC decoding") {
  // 2 keypoints, 4 x bins, 3 y bins
  const std::vector<float> x{0.1f,  0.7f,  0.7f,  0.2f,  // first maximum: bin 1
                             -0.5f, -0.2f, -0.3f, -0.9f};
  const std::vector<float> y{0.9f,  0.3f,  0.1f,  //
                             -0.1f, -0.4f, 0.0f};
  const auto points = simcc_decode(x, y, 2, 4, 3);
  REQUIRE(points.size() == 2);
  CHECK(points[0].x == 0.5f);  // bin 1 / 2
  CHECK(points[0].y == 0.0f);
  CHECK(points[0].score == 0.7f);  // min(0.7, 0.9)
  CHECK(points[1].score == -0.2f);
  CHECK(points[1].x == -0.5f);  // score <= 0: -1 / 2
  CHECK(points[1].y == -0.5f);
  CHECK_THROWS_AS(simcc_decode(x, y, 2, 3, 3), kiln::InvalidRequestError);
}

TEST_CASE("dwpose: 133 COCO-WholeBody points to OpenPose as A1111 maps them") {
  WholebodyPerson w;
  for (int k = 0; k < kWholebodyPoints; ++k) {
    w.keypoints[k] = {static_cast<double>(k), 1000.0 + k};
    w.scores[k] = 0.9f;
  }
  for (int k = 91; k < 112; ++k) w.scores[k] = 0.29f;  // left hand: all below 0.3 -> absent
  w.scores[112] = 0.3f;                                // right hand: the first one kept (>= 0.3)
  for (int k = 113; k < 133; ++k) w.scores[k] = 0.1f;
  w.scores[1] = 0.2f;  // COCO left eye dropped
  PosePerson p = wholebody_to_openpose(w);
  // COCO: 0 nose, 1/2 left/right eye, 3/4 ears, 5/6 shoulders, 7/8 elbows, 9/10 wrists,
  // 11/12 hips, 13/14 knees, 15/16 ankles.
  const std::array<int, 18> coco{0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3};
  for (std::size_t i = 0; i < 18; ++i) {
    CAPTURE(i);
    if (coco[i] == -1) {
      CHECK(p.body[i] == kp(5.5, 1005.5));  // neck: mean of the shoulders
    } else if (coco[i] == 1) {
      CHECK(p.body[i] == Keypoint{});  // dropped
    } else {
      CHECK(p.body[i] == kp(coco[i], 1000.0 + coco[i]));
    }
  }
  CHECK(p.left_hand.empty());
  REQUIRE(p.right_hand.size() == kHandPoints);
  CHECK(p.right_hand[0] == kp(112, 1112));
  CHECK(p.right_hand[1] == Keypoint{});
  REQUIRE(p.face.size() == kFacePoints);
  CHECK(p.face[0] == kp(23, 1023));
  CHECK(p.face[67] == kp(90, 1090));
  CHECK(p.face[68] == p.body[14]);  // the reference appends body 14 and 15
  CHECK(p.face[69] == Keypoint{});  // body 15 (COCO left eye) was dropped

  // The neck needs both shoulders above 0.3.
  w.scores[6] = 0.29f;
  p = wholebody_to_openpose(w);
  CHECK(p.body[1] == Keypoint{});
  CHECK(p.body[2] == Keypoint{});  // the right shoulder itself is dropped too
  w.scores[6] = 0.3f;              // 0.3f is 0.30000001 as a double: above 0.3, so the neck is back
  CHECK(wholebody_to_openpose(w).body[1] == kp(5.5, 1005.5));
  // Points the renderer could not take (wild weights) are dropped, not passed on.
  w.keypoints[0] = {std::nan(""), 1.0};
  CHECK(wholebody_to_openpose(w).body[0] == Keypoint{});
  CHECK(scene_problem(PoseScene{64, 64, {wholebody_to_openpose(w)}, {}}).empty());
}

TEST_CASE("dwpose: cancelling between stages") {
  std::stop_source stop;
  stop.request_stop();
  const ControlImage photo = golden_input("photo_portrait");
  CHECK_FALSE(run_dwpose(photo, tiny_files(), stop.get_token()).has_value());
  CHECK_FALSE(detect_dwpose(photo, tiny_files(), stop.get_token()).has_value());
  PreprocessorContext context;
  context.stop = stop.get_token();
  CHECK(dwpose_a1111(photo, 256, tiny_files(), context).empty());
}

TEST_CASE("dwpose: missing, corrupt and wrong models name the file, where it looked and where to get it") {
  const ControlImage photo = golden_input("photo_wide");
  kiln::test::ScratchDir dir("kiln-dwpose-bad");

  // not found anywhere
  const auto missing = thrown<kiln::FileError>([&] { find_dwpose_files({dir.path()}); });
  const std::string what = missing.what();
  CHECK(what.find("dw-ll_ucoco_384.onnx") != std::string::npos);
  CHECK(what.find((dir.path() / "openpose").string()) != std::string::npos);
  CHECK(what.find("yzd-v/DWPose") != std::string::npos);
  // the pose model there, the detector not
  fs::copy_file(tiny_files().pose, dir / "dw-ll_ucoco_384.onnx");
  const auto no_detector = thrown<kiln::FileError>([&] { find_dwpose_files({dir.path()}); });
  CHECK(std::string(no_detector.what()).find("yolox_l.onnx") != std::string::npos);
  // a path that does not exist
  const auto gone = thrown<kiln::FileError>([&] { run_dwpose(photo, {dir / "nope.onnx", tiny_files().pose}); });
  CHECK(gone.path() == dir / "nope.onnx");

  // corrupt: not ONNX, truncated ONNX
  kiln::test::write_text(dir / "garbage.onnx", "this is not a protobuf");
  const auto garbage = thrown<kiln::FormatError>([&] { run_dwpose(photo, {dir / "garbage.onnx", tiny_files().pose}); });
  CHECK(garbage.path() == dir / "garbage.onnx");
  CHECK(std::string(garbage.what()).find("yzd-v/DWPose") != std::string::npos);
  {
    std::ifstream in(tiny_files().pose, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    kiln::test::write_text(dir / "truncated.onnx", bytes.substr(0, bytes.size() / 2));
  }
  const auto truncated = thrown<kiln::FormatError>([&] {
    run_dwpose(photo, {tiny_files().detector, dir / "truncated.onnx"});
  });
  CHECK(truncated.path() == dir / "truncated.onnx");

  // the right format, the wrong model: the files swapped (input shapes), a body-only RTMPose
  // (outputs of 17 points). A picture where the tiny detector finds something, so the pose model runs.
  const ControlImage portrait = golden_input("photo_portrait");
  const auto swapped_det = thrown<kiln::FormatError>([&] {
    run_dwpose(photo, {tiny_files().pose, tiny_files().pose});
  });
  CHECK(swapped_det.path() == tiny_files().pose);
  CHECK(std::string(swapped_det.what()).find("detector") != std::string::npos);
  const auto swapped_pose = thrown<kiln::FormatError>([&] {
    run_dwpose(portrait, {tiny_files().detector, tiny_files().detector});
  });
  CHECK(swapped_pose.path() == tiny_files().detector);
  CHECK(std::string(swapped_pose.what()).find("1x3x384x288") != std::string::npos);
  const fs::path body17 = dwpose_dir() / "rtmpose_body17_tiny.onnx";
  const auto wrong_outputs = thrown<kiln::FormatError>([&] { run_dwpose(portrait, {tiny_files().detector, body17}); });
  CHECK(wrong_outputs.path() == body17);
  const std::string said = wrong_outputs.what();
  CHECK(said.find("1x17x576, 1x17x768") != std::string::npos);
  CHECK(said.find("simcc_x 1x133x576") != std::string::npos);
  clear_dwpose_cache();
}
