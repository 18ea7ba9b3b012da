// Poses: every openpose render of the golden (fixtures x canvases x renderers) byte for byte,
// the readers on every fixture, round trips of both JSON formats, exact errors for broken files,
// and the editor helpers.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <map>
#include <set>
#include <span>

#include "base/error.h"
#include "control/pose.h"
#include "control/pose_json.h"
#include "control/pose_render.h"
#include "io/sha256.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace kiln::control;

namespace {

fs::path golden_dir() { return kiln::test::data_dir() / "golden/control_maps"; }

json cases() { return json::parse(kiln::test::read_text(golden_dir() / "openpose/cases.json")); }

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  kiln::io::Sha256 h;
  h.update(std::as_bytes(std::span(bytes)));
  return h.finish_hex();
}

// Pixels that differ from the golden PNG (-1 when it cannot be read or has another size).
long differing_pixels(const ControlImage& image, const fs::path& png) {
  cv::Mat bgr = cv::imread(png.string(), cv::IMREAD_COLOR);
  if (bgr.empty() || bgr.cols != image.width || bgr.rows != image.height) return -1;
  cv::Mat ref;
  cv::cvtColor(bgr, ref, cv::COLOR_BGR2RGB);
  long n = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const auto* a = image.pixel(x, y);
      const auto& b = ref.at<cv::Vec3b>(y, x);
      n += a[0] != b[0] || a[1] != b[1] || a[2] != b[2];
    }
  }
  return n;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string parse_error(const std::string& text) {
  return error_of([&] { parse_pose_json(text, "pose.json"); });
}

const PoseScene& only_frame(const PoseFile& f) {
  REQUIRE(f.frames.size() == 1);
  return f.frames.front();
}

}  // namespace

TEST_CASE("every golden openpose render is byte-identical") {
  const json doc = cases();
  int checked = 0, matched = 0;
  for (const json& c : doc["cases"]) {
    const PoseFile a1111 = read_pose_file(golden_dir() / c["a1111_json"].get<std::string>());
    const PoseFile comfy = read_pose_file(golden_dir() / c["comfy_json"].get<std::string>());
    CHECK(a1111.format == PoseJsonFormat::OpenPose);
    CHECK(comfy.format == PoseJsonFormat::PoseKeypoint);
    for (const json& r : c["renders"]) {
      const std::string name = r["renderer"];
      const bool from_comfy = name == "comfy" || name == "comfy_xinsr";
      const auto renderer = parse_pose_renderer(name);
      REQUIRE(renderer.has_value());
      PoseRenderOptions options;
      options.renderer = *renderer;
      const ControlImage image = render_pose(only_frame(from_comfy ? comfy : a1111), options);
      const json& out = r["output"];
      CAPTURE(name);
      CAPTURE(out["file"].get<std::string>());
      CHECK(image.width == c["canvas_width"].get<int>());
      CHECK(image.height == c["canvas_height"].get<int>());
      const bool same = sha256_hex(image.pixels) == out["sha256_raw"].get<std::string>();
      if (!same) {
        const long diff = differing_pixels(image, golden_dir() / out["file"].get<std::string>());
        FAIL_CHECK("render differs from the golden in " << diff << " pixels");
      }
      ++checked;
      matched += same;
    }
  }
  MESSAGE(matched << " of " << checked << " golden pose renders match exactly");
  CHECK(checked == 50);
}

TEST_CASE("hand edge colours are the reference's floats, drawn as OpenCV rounds them") {
  for (const json& e : cases()["hand_edge_colors"]) {
    const HandEdgeColor c = hand_edge_color(e["edge"].get<int>());
    CAPTURE(e["edge"].get<int>());
    const double got[3] = {c.r, c.g, c.b};
    for (int k = 0; k < 3; ++k) {
      CHECK(got[k] == e["float_color"][k].get<double>());  // bit-exact
      CHECK(static_cast<int>(std::nearbyint(got[k])) == e["drawn_uint8"][k].get<int>());
    }
  }
}

TEST_CASE("both formats of every fixture read as the same scene") {
  std::set<std::string> seen;
  for (const auto& entry : fs::directory_iterator(golden_dir() / "openpose/fixtures")) {
    const std::string file = entry.path().filename().string();
    const auto dot = file.find('.');
    const std::string stem = file.substr(0, dot);
    if (!seen.insert(stem).second) continue;
    CAPTURE(stem);
    const auto dir = entry.path().parent_path();
    const PoseFile a = read_pose_file(dir / (stem + ".a1111.json"));
    const PoseFile c = read_pose_file(dir / (stem + ".comfy_pose_keypoint.json"));
    CHECK(only_frame(a) == only_frame(c));
  }
  CHECK(seen.size() == 11);
}

TEST_CASE("fixture contents: confidences, pixel parts, normalisation per part") {
  const fs::path dir = golden_dir() / "openpose/fixtures";
  const PoseScene missing = only_frame(read_pose_file(dir / "missing_512x768.a1111.json"));
  REQUIRE(missing.people.size() == 1);
  const PosePerson& m = missing.people[0];
  CHECK(m[BodyPoint::RightElbow].confidence == 0.0);
  CHECK(m[BodyPoint::LeftKnee].confidence == 0.5);
  CHECK(m[BodyPoint::LeftAnkle].confidence == 0.99);
  CHECK_FALSE(m[BodyPoint::LeftAnkle].drawn());
  CHECK(m.left_hand.empty());
  CHECK(m.face.empty());
  CHECK(is_normalized(m.body));

  const PoseScene pixels = only_frame(read_pose_file(dir / "pixels_512x768.a1111.json"));
  CHECK(pixels.canvas_width == 512);
  CHECK(pixels.canvas_height == 768);
  const PosePerson& p = pixels.people.at(0);
  CHECK(p.left_hand.size() == kHandPoints);
  CHECK(p.left_hand[20].x == -3.7);
  CHECK_FALSE(is_normalized(p.body));
  CHECK_FALSE(is_normalized(p.left_hand));

  const PoseScene oor = only_frame(read_pose_file(dir / "out_of_range_512x512.a1111.json"));
  CHECK(oor.people.at(0)[BodyPoint::LeftWrist].x == 1.03);
  CHECK_FALSE(is_normalized(oor.people[0].body));  // one point past 1: the whole body is in pixels

  const PoseScene hf = only_frame(read_pose_file(dir / "hands_face_512x512.a1111.json"));
  CHECK(hf.people.at(0).face.size() == kFacePoints);
  CHECK(is_normalized(hf.people[0].face));

  const PoseFile animal = read_pose_file(dir / "animal_512x512.comfy_pose_keypoint.json");
  CHECK(only_frame(animal).people.empty());
  REQUIRE(only_frame(animal).animals.size() == 1);
  CHECK(only_frame(animal).animals[0].points[16].x == 470.0);
}

TEST_CASE("both formats round-trip: the written JSON equals the fixture's") {
  for (const auto& entry : fs::directory_iterator(golden_dir() / "openpose/fixtures")) {
    CAPTURE(entry.path().filename().string());
    const std::string text = kiln::test::read_text(entry.path());
    const PoseFile file = parse_pose_json(text);
    const std::string written = file.format == PoseJsonFormat::OpenPose ? to_openpose_json(file.frames.front())
                                                                        : to_pose_keypoint_json(file.frames);
    CHECK(json::parse(written) == json::parse(text));
    const PoseFile back = parse_pose_json(written);
    CHECK(back.format == file.format);
    CHECK((back.frames == file.frames));
    // And across formats.
    const PoseFile other =
        parse_pose_json(file.format == PoseJsonFormat::OpenPose ? to_pose_keypoint_json(file.frames)
                                                                : to_openpose_json(file.frames.front()));
    CHECK((other.frames == file.frames));
  }
}

TEST_CASE("write_pose_file writes atomically and refuses what it cannot write") {
  kiln::test::ScratchDir dir;
  PoseFile file{PoseJsonFormat::PoseKeypoint, {default_scene(), default_scene()}};
  file.frames[1].canvas_width = 768;
  write_pose_file(dir / "two.json", file);
  const PoseFile back = read_pose_file(dir / "two.json");
  CHECK(back.format == PoseJsonFormat::PoseKeypoint);
  CHECK((back.frames == file.frames));
  file.format = PoseJsonFormat::OpenPose;
  CHECK(error_of([&] { write_pose_file(dir / "one.json", file); }) ==
        "an OpenPose JSON file holds one pose, got 2 frames (write POSE_KEYPOINT instead)");
  file.frames.resize(1);
  file.frames[0].people[0].body[3].x = std::nan("");
  CHECK(error_of([&] { write_pose_file(dir / "one.json", file); }) ==
        "pose: people[0].pose_keypoints_2d[9] is not a finite number");
  CHECK_FALSE(fs::exists(dir / "one.json"));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);  // no temporary left
}

TEST_CASE("broken pose JSON is reported with the file and the field") {
  const std::string body =
      "[0.5, 0.18, 1.0, 0.5, 0.27, 1.0, 0.4, 0.27, 1.0, 0.36, 0.4, 1.0, 0.34, 0.52, 1.0, "
      "0.6, 0.27, 1.0, 0.65, 0.39, 1.0, 0.7, 0.5, 1.0, 0.44, 0.53, 1.0, 0.43, 0.7, 1.0, 0.42, "
      "0.87, 1.0, 0.56, 0.53, 1.0, 0.58, 0.7, 1.0, 0.6, 0.87, 1.0, 0.48, 0.165, 1.0, 0.52, "
      "0.165, 1.0, 0.46, 0.175, 1.0, 0.54, 0.175, 1.0]";
  const auto with = [&](const std::string& person,
                        const std::string& canvas = R"("canvas_width": 512, "canvas_height": 512)") {
    return R"({"people": [)" + person + "], " + canvas + "}";
  };
  // Sanity: the template itself is fine.
  CHECK(only_frame(parse_pose_json(with(R"({"pose_keypoints_2d": )" + body + "}"))).people.size() == 1);

  CHECK(parse_error(R"({"people": [{"pose_keypoints_2d": [0.5, 0.18)") ==
        "pose.json: not valid JSON (line 1, column 45: syntax error while parsing array - unexpected end of input; "
        "expected ']') (a truncated or edited file?)");
  CHECK(parse_error("") ==
        "pose.json: not valid JSON (line 1, column 1: syntax error while parsing value - unexpected end of input; "
        "expected '[', '{', or a literal) (a truncated or edited file?)");
  CHECK(parse_error("42") ==
        "pose.json: the pose is a number, expected an object with people and canvas_width/canvas_height");
  CHECK(parse_error(R"({"canvas_width": 512, "canvas_height": 512})") ==
        "pose.json: people: missing (neither people nor animals: not an OpenPose JSON pose)");
  CHECK(parse_error(R"({"people": []})") == "pose.json: no canvas_width: not a pose JSON");
  CHECK(parse_error(with("", R"("canvas_width": 512.5, "canvas_height": 512)")) ==
        "pose.json: canvas_width = 512.5 is not a whole number of pixels");
  CHECK(parse_error(with("", R"("canvas_width": 0, "canvas_height": 512)")) ==
        "pose.json: canvas_width = 0 is out of range (1 to 8192)");
  CHECK(parse_error(with("", R"("canvas_width": 512, "canvas_height": 100000)")) ==
        "pose.json: canvas_height = 100000 is out of range (1 to 8192)");
  CHECK(parse_error(with("", R"("canvas_width": "512", "canvas_height": 512)")) ==
        "pose.json: canvas_width is a string, expected a whole number");
  CHECK(parse_error(with("[1, 2]")) == "pose.json: people[0] is a list, expected an object");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": [0.5, 0.18, 1.0]})")) ==
        "pose.json: people[0].pose_keypoints_2d has 3 numbers, expected 54 (18 points as x, y, confidence)");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + body + R"(, "hand_left_keypoints_2d": [1, 2, 1]})")) ==
        "pose.json: people[0].hand_left_keypoints_2d has 3 numbers, expected 63 (21 points as x, y, confidence)");
  CHECK(parse_error(with(R"({"face_keypoints_2d": {"x": 1}})")) ==
        "pose.json: people[0].face_keypoints_2d is an object, expected a list of numbers");

  std::string nan_body = body;
  nan_body.replace(nan_body.find("0.36"), 4, "NaN");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + nan_body + "}")) ==
        "pose.json: people[0].pose_keypoints_2d[9] is NaN, Infinity or null, not a number");
  std::string inf_body = body;
  inf_body.replace(inf_body.find("0.36"), 4, "-Infinity");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + inf_body + "}")) ==
        "pose.json: people[0].pose_keypoints_2d[9] is NaN, Infinity or null, not a number");
  std::string huge_body = body;
  huge_body.replace(huge_body.find("0.36"), 4, "1e400");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + huge_body + "}")) ==
        "pose.json: holds a number no pose can have (number overflow parsing '1e400')");
  std::string far_body = body;
  far_body.replace(far_body.find("0.36"), 4, "3e7");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + far_body + "}")) ==
        "pose.json: people[0].pose_keypoints_2d[9] = 30000000.000000 is out of range (|coordinate| <= 100000)");
  std::string neg_body = body;
  neg_body.replace(neg_body.find("1.0"), 3, "-1.0");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + neg_body + "}")) ==
        "pose.json: people[0].pose_keypoints_2d[2] = -1.000000 is a negative confidence");
  std::string text_body = body;
  text_body.replace(text_body.find("0.36"), 4, "\"x\"");
  CHECK(parse_error(with(R"({"pose_keypoints_2d": )" + text_body + "}")) ==
        "pose.json: people[0].pose_keypoints_2d[9] is a string, not a number");

  // POSE_KEYPOINT lists.
  CHECK(parse_error("[]") == "pose.json: an empty POSE_KEYPOINT list (no frame)");
  CHECK(parse_error(R"([{"people": [], "canvas_width": 512, "canvas_height": 512}, 7])") ==
        "pose.json: [1] is a number, expected an object with people and canvas_width/canvas_height");
  CHECK(parse_error(R"([{"version": "ap10k", "animals": [[1, 2, 1]], "canvas_width": 64, "canvas_height": 64}])") ==
        "pose.json: [0].animals[0] has 3 numbers, expected 51 (17 points as x, y, confidence)");
  CHECK(parse_error(R"([{"version": "ap10k", "animals": [null], "canvas_width": 64, "canvas_height": 64}])") ==
        "pose.json: [0].animals[0] is empty, expected 17 AP10K points");
  CHECK(error_of([] { parse_openpose_json("[]", "p.json"); }) ==
        "p.json: a list at the top: this is a ComfyUI POSE_KEYPOINT file, not an OpenPose JSON object");
  CHECK(error_of([] { parse_pose_keypoint_json("{}", "p.json"); }) ==
        "p.json: POSE_KEYPOINT is a list of frames, got an object at the top");

  // Files.
  kiln::test::ScratchDir dir;
  CHECK(error_of([&] {
          read_pose_file(dir / "none.json");
        }).starts_with((dir / "none.json").string() + ": cannot read the pose file: "));
  kiln::test::write_text(
      dir / "cut.json",
      kiln::test::read_text(golden_dir() / "openpose/fixtures/single_512x512.a1111.json").substr(0, 200));
  const std::string cut = error_of([&] { read_pose_file(dir / "cut.json"); });
  CHECK(cut.starts_with((dir / "cut.json").string() + ": not valid JSON (line "));
  // The kind is a format error (the app turns it into a user message by kind).
  try {
    read_pose_file(dir / "cut.json");
  } catch (const kiln::Error& e) {
    CHECK(e.kind() == kiln::ErrorKind::Format);
  }
}

TEST_CASE("empty and null parts are absent; the body may be missing") {
  const PoseScene s = only_frame(parse_pose_json(
      R"({"people": [{"pose_keypoints_2d": null, "hand_left_keypoints_2d": [], "face_keypoints_2d": null}],)"
      R"( "canvas_width": 64, "canvas_height": 32})"));
  REQUIRE(s.people.size() == 1);
  for (const Keypoint& k : s.people[0].body) CHECK(k == Keypoint{});
  CHECK(s.people[0].left_hand.empty());
  const ControlImage image = render_pose(s);
  CHECK(image.width == 64);
  CHECK(image.height == 32);
  CHECK(std::all_of(image.pixels.begin(), image.pixels.end(), [](std::uint8_t v) { return v == 0; }));
}

TEST_CASE("render options: canvas override, parts, renderer names") {
  const PoseScene scene = default_scene();
  PoseRenderOptions o;
  o.width = 256;
  o.height = 384;
  const ControlImage image = render_pose(scene, o);
  CHECK(image.width == 256);
  CHECK(image.height == 384);
  CHECK(image.channels == 3);  // one image type for every control map: RGB
  CHECK(image.pixels.size() == 256u * 384u * 3u);
  // The neck joint (normalised 0.5, 0.26) lands at (128, 99) in its own colour.
  const auto* neck = image.pixel(128, static_cast<int>(0.26 * 384));
  CHECK(neck[0] == 255);
  CHECK(neck[1] == 85);
  CHECK(neck[2] == 0);
  o.body = false;
  const ControlImage none = render_pose(scene, o);
  CHECK(std::all_of(none.pixels.begin(), none.pixels.end(), [](std::uint8_t v) { return v == 0; }));
  o.width = 9000;
  CHECK(error_of([&] { render_pose(scene, o); }) == "pose map size 9000x384 is out of range (1 to 8192 pixels a side)");

  for (const auto r : {PoseRenderer::A1111, PoseRenderer::ComfyXinsr, PoseRenderer::ControlNetAux, PoseRenderer::CN11})
    CHECK(parse_pose_renderer(to_string(r)) == r);
  CHECK(parse_pose_renderer("comfy") == PoseRenderer::A1111);
  CHECK_FALSE(parse_pose_renderer("openpose").has_value());
}

TEST_CASE("editor helpers: default pose, mirror, duplicate, remove, hide, clamp, normalise") {
  PoseScene scene = default_scene();
  CHECK(scene_problem(scene).empty());
  CHECK(is_normalized(scene.people[0].body));
  const PosePerson original = scene.people[0];
  // The default figure faces the viewer: its right shoulder is on the image's left.
  CHECK(original[BodyPoint::RightShoulder].x < original[BodyPoint::LeftShoulder].x);

  // Mirror: left and right swap places; twice is the identity (up to rounding).
  mirror_person(scene, 0);
  const PosePerson& m = scene.people[0];
  CHECK(m[BodyPoint::RightShoulder].x == doctest::Approx(1.0 - original[BodyPoint::LeftShoulder].x + 0.0));
  CHECK(m[BodyPoint::Nose].x == doctest::Approx(original[BodyPoint::Nose].x));
  mirror_person(scene, 0);
  for (std::size_t i = 0; i < kBodyPoints; ++i) {
    CHECK(scene.people[0].body[i].x == doctest::Approx(original.body[i].x));
    CHECK(scene.people[0].body[i].y == original.body[i].y);
  }

  // Hands and face swap with the body.
  PoseScene hf = only_frame(read_pose_file(golden_dir() / "openpose/fixtures/hands_face_512x512.a1111.json"));
  const PosePerson before = hf.people[0];
  mirror_scene(hf);
  CHECK(hf.people[0].left_hand.size() == kHandPoints);
  CHECK(hf.people[0].left_hand[0].x == doctest::Approx(1.0 - before.right_hand[0].x));
  CHECK(hf.people[0].face[0].x == doctest::Approx(1.0 - before.face[16].x));   // jaw ends swap
  CHECK(hf.people[0].face[68].x == doctest::Approx(1.0 - before.face[69].x));  // pupils swap
  CHECK(hf.people[0].face[30].x == doctest::Approx(1.0 - before.face[30].x));  // nose tip stays
  mirror_scene(hf);
  for (std::size_t i = 0; i < kFacePoints; ++i) CHECK(hf.people[0].face[i].x == doctest::Approx(before.face[i].x));

  // Duplicate, hide, remove.
  const std::size_t copy = duplicate_person(scene, 0, 0.1, 0.0);
  CHECK(copy == 1);
  CHECK(scene.people[1][BodyPoint::Neck].x == doctest::Approx(original[BodyPoint::Neck].x + 0.1));
  hide_point(scene.people[1], BodyPoint::LeftEar);
  CHECK_FALSE(scene.people[1][BodyPoint::LeftEar].drawn());
  show_point(scene.people[1], BodyPoint::LeftEar);
  CHECK(scene.people[1][BodyPoint::LeftEar].drawn());
  remove_person(scene, 0);
  CHECK(scene.people.size() == 1);
  CHECK(error_of([&] { remove_person(scene, 3); }) == "remove_person: no person 3 (the pose has 1)");

  // Clamp: a wrist dragged off the canvas comes back to its edge (and the body stays normalised).
  scene.people[0][BodyPoint::LeftWrist].x = 1.2;
  scene.people[0][BodyPoint::LeftWrist].y = -0.1;
  CHECK_FALSE(is_normalized(scene.people[0].body));
  CHECK(clamp_to_canvas(scene) == 1);
  CHECK(scene.people[0][BodyPoint::LeftWrist].x == 1.0);
  CHECK(scene.people[0][BodyPoint::LeftWrist].y == 0.0);
  CHECK(is_normalized(scene.people[0].body));
  CHECK(clamp_to_canvas(scene) == 0);

  // Normalising a pixel pose keeps where it draws (to within a pixel).
  PoseScene px = only_frame(read_pose_file(golden_dir() / "openpose/fixtures/pixels_512x768.a1111.json"));
  const PoseScene px_before = px;
  normalize_coordinates(px);
  CHECK(is_normalized(px.people[0].body));
  CHECK(px.people[0].body[0].x == doctest::Approx(px_before.people[0].body[0].x / 512));
  CHECK(is_normalized(px.people[0].left_hand));
  CHECK(px.people[0].left_hand[20].x == doctest::Approx(-3.7 / 512));
}
