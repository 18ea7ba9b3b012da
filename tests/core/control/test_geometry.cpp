// Geometry against golden/control_maps/geometry: HWC3 and A1111's RGBA rule, the two resize
// helpers, Pixel Perfect, detectmap_proc's three resize modes (colour counting, Otsu, nake_nms,
// lvmin_thin, border median) and the A1111 unit chain Pixel Perfect -> canny -> detectmap_proc.
// Every map must match byte for byte.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "control/control_map_fit.h"
#include "control/geometry.h"
#include "control/preprocessor.h"
#include "control_test_util.h"

using namespace kiln::control;
using kiln::control::test::check_map;
using kiln::control::test::golden_dir;
using kiln::control::test::golden_input;
using kiln::control::test::MapCheck;
using kiln::control::test::read_json;
using kiln::control::test::thrown;
using nlohmann::json;

namespace {

const json& geometry_cases() {
  static const json cases = read_json(golden_dir() / "geometry" / "cases.json")["cases"];
  return cases;
}

// Runs every case, reports each mismatch, and requires all to match.
struct Tally {
  explicit Tally(std::string name) : section(std::move(name)) {}
  std::string section;
  int total = 0;
  std::vector<std::string> failures;

  void add(const std::string& name, const MapCheck& check) {
    ++total;
    if (!check.equal) failures.push_back(name + ": " + check.detail);
  }
  ~Tally() {
    MESSAGE(section << ": " << (total - failures.size()) << " of " << total << " golden cases exact");
    for (const std::string& f : failures) FAIL_CHECK(f);
    CHECK(total > 0);
  }
};

ControlImage cached_input(const std::string& name) {
  static std::map<std::string, ControlImage> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, golden_input(name)).first;
  return it->second;
}

ControlImage load_golden(const json& entry) {
  return load_control_image(golden_dir() / entry["file"].get<std::string>());
}

}  // namespace

TEST_CASE("HWC3: grey, RGB and RGBA composited over white in float32") {
  Tally tally("hwc3");
  for (const json& c : geometry_cases()["hwc3"]) {
    const std::string input = c["input"];
    tally.add(input, check_map(hwc3(cached_input(input)), c["output"], input));
  }
}

TEST_CASE("A1111 from_rgba_to_input: canvas scribble mode takes HWC3 of the alpha") {
  // geometry/hwc3/<input>_a1111_from_rgba.png = from_rgba_to_input(<input>) (not a case of its
  // own in cases.json: the stored PNG is the reference).
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(golden_dir() / "geometry" / "hwc3")) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = "_a1111_from_rgba.png";
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string input = file.substr(0, file.size() - suffix.size());
    const ControlImage ref = load_control_image(entry.path());
    const MapCheck check =
        check_map(from_rgba_to_input(cached_input(input)), json{{"file", "geometry/hwc3/" + file},
                                                                {"shape", kiln::control::test::shape_of(ref)},
                                                                {"sha256_raw", kiln::control::test::sha256_hex(ref)}});
    CHECK_MESSAGE(check.equal, input << ": " << check.detail);
    ++checked;
  }
  CHECK(checked > 0);

  // Alpha all >= 250 or all <= 5: the RGB is used as is.
  ControlImage opaque(2, 1, 4);
  opaque.pixels = {10, 20, 30, 250, 40, 50, 60, 255};
  CHECK(from_rgba_to_input(opaque).pixels == std::vector<std::uint8_t>{10, 20, 30, 40, 50, 60});
  ControlImage clear(2, 1, 4);
  clear.pixels = {10, 20, 30, 0, 40, 50, 60, 5};
  CHECK(from_rgba_to_input(clear).pixels == std::vector<std::uint8_t>{10, 20, 30, 40, 50, 60});
  ControlImage mixed(2, 1, 4);
  mixed.pixels = {10, 20, 30, 0, 40, 50, 60, 200};
  CHECK(from_rgba_to_input(mixed).pixels == std::vector<std::uint8_t>{0, 0, 0, 200, 200, 200});
}

TEST_CASE("resize_image (ControlNet 1.1 / controlnet_aux): multiples of 64, LANCZOS4 up, AREA down") {
  Tally tally("resize_image");
  for (const json& c : geometry_cases()["resize_image"]) {
    const std::string input = c["input"];
    const int resolution = c["resolution"];
    tally.add(input + " r" + std::to_string(resolution),
              check_map(resize_image(hwc3(cached_input(input)), resolution), c["output"], input));
  }
}

TEST_CASE("resize_image_with_pad (A1111): exact aspect, CUBIC up, AREA down, edge padding to 64") {
  Tally tally("resize_image_with_pad");
  for (const json& c : geometry_cases()["resize_image_with_pad"]) {
    const std::string input = c["input"];
    const int resolution = c["resolution"];
    const std::string name = input + " r" + std::to_string(resolution);
    const PaddedImage p = resize_image_with_pad(cached_input(input), resolution);
    CHECK_MESSAGE(p.target_height == c["H_target"].get<int>(), name);
    CHECK_MESSAGE(p.target_width == c["W_target"].get<int>(), name);
    tally.add(name + " padded", check_map(p.padded, c["padded"], input));
    // `unpadded` is hash-only; it equals padded[:H_target, :W_target] of the reference.
    ControlImage reference;
    if (c["padded"]["file"].is_string()) reference = remove_pad(p, load_golden(c["padded"]));
    tally.add(name + " unpadded",
              check_map(remove_pad(p, p.padded), c["unpadded"], input, reference.empty() ? nullptr : &reference));
  }
}

TEST_CASE("Pixel Perfect: half-to-even rounding, min for Resize and Fill, max otherwise") {
  int rows = 0;
  for (const json& c : geometry_cases()["pixel_perfect"]) {
    const ResizeMode mode = parse_resize_mode(c["resize_mode"].get<std::string>());
    const int gen_h = c["generation_H"], gen_w = c["generation_W"];
    REQUIRE(align_dim_latent(gen_h) == c["target_H"].get<int>());
    REQUIRE(align_dim_latent(gen_w) == c["target_W"].get<int>());
    const int raw_h = c["raw_H"], raw_w = c["raw_W"];
    INFO(raw_h << "x" << raw_w << " -> " << gen_h << "x" << gen_w << " " << to_string(mode));
    CHECK(pixel_perfect_estimation(raw_h, raw_w, align_dim_latent(gen_h), align_dim_latent(gen_w), mode) ==
          c["estimation"].get<double>());
    CHECK(pixel_perfect_resolution(raw_h, raw_w, align_dim_latent(gen_h), align_dim_latent(gen_w), mode) ==
          c["resolution"].get<int>());
    ++rows;
  }
  CHECK(rows > 0);
  CHECK(align_dim_latent(517) == 512);
  CHECK(align_dim_latent(7) == 0);
}

TEST_CASE("detectmap_proc: the three resize modes on binary, pose and photo maps") {
  Tally tally("detectmap_proc");
  std::map<std::string, ControlImage> sources;
  for (const json& c : geometry_cases()["detectmap_proc"]) {
    const std::string file = c["source"]["file"];
    if (!sources.count(file)) sources.emplace(file, load_golden(c["source"]));
    const ResizeMode mode = parse_resize_mode(c["resize_mode"].get<std::string>());
    const int h = c["h"], w = c["w"];
    const std::string name =
        c["map"].get<std::string>() + " " + to_string(mode) + " " + std::to_string(h) + "x" + std::to_string(w);
    tally.add(name, check_map(fit_control_map(sources.at(file), mode, h, w), c["output"]));
  }
}

TEST_CASE("A1111 unit chain: Pixel Perfect -> canny -> detectmap_proc at 768x512") {
  Tally tally("a1111_chain");
  for (const json& c : geometry_cases()["a1111_chain"]) {
    const std::string input = c["input"];
    const ResizeMode mode = parse_resize_mode(c["resize_mode"].get<std::string>());
    const int h = c["h"], w = c["w"];
    const ControlImage image = cached_input(input);
    const bool pp = c["pixel_perfect"];
    const int resolution =
        pp ? pixel_perfect_resolution(image.height, image.width, align_dim_latent(h), align_dim_latent(w), mode)
           : c["resolution"].get<int>();
    const std::string name = input + " " + to_string(mode) + (pp ? " pp" : " r203");
    CHECK_MESSAGE(resolution == c["resolution"].get<int>(), name);
    const auto thresholds = c["thresholds"].get<std::vector<double>>();
    const ControlImage map = run_preprocessor(c["preprocessor"].get<std::string>(), image, resolution,
                                              {{"low_threshold", thresholds[0]}, {"high_threshold", thresholds[1]}});
    tally.add(name + " canny", check_map(map, c["detected_map"]));
    tally.add(name + " final", check_map(fit_control_map(map, mode, h, w), c["output"]));
  }
}

TEST_CASE("geometry refuses impossible sizes") {
  const ControlImage tiny(3, 2, 3);
  CHECK_THROWS_AS(resize_image(tiny, 10), kiln::InvalidRequestError);  // 2 * 5 / 64 rounds to 0
  CHECK_THROWS_AS(resize_image_with_pad(tiny, 0), kiln::InvalidRequestError);
  CHECK_THROWS_AS(fit_control_map(tiny, ResizeMode::JustResize, 0, 8), kiln::InvalidRequestError);
  const auto e_fit = thrown<kiln::InvalidRequestError>(
      [] { fit_control_map(ControlImage(1000, 1, 3), ResizeMode::ResizeAndFill, 8, 8); });
  CHECK(e_fit.message() == "a 1000x1 control map would be resized to 8x0");
  CHECK_THROWS_AS(pixel_perfect_resolution(0, 4, 512, 512, ResizeMode::JustResize), kiln::InvalidRequestError);
  const auto e = thrown<kiln::InvalidRequestError>([] { parse_resize_mode("stretch"); });
  CHECK(e.message() == "unknown resize mode 'stretch'");
  CHECK(e.hint() == "use \"Just Resize\" (just), \"Crop and Resize\" (crop) or \"Resize and Fill\" (fill)");
  ControlImage broken(4, 4, 3);
  broken.pixels.pop_back();
  CHECK_THROWS_AS(hwc3(broken), kiln::InvalidRequestError);
}
