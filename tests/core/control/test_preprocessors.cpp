// The OpenCV-only preprocessors against golden/control_maps/opencv (A1111's modules through
// run_preprocessor, controlnet_aux's two variants), the inpaint control/hint tensors, and the
// registry's errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "base/error.h"
#include "control/control_map_fit.h"
#include "control/numpy_compat.h"
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

const json& opencv_cases() {
  static const json cases = read_json(golden_dir() / "opencv" / "cases.json");
  return cases;
}

ControlImage run_case(const json& c, const ControlImage& image) {
  const std::string annotator = c["annotator"];
  const json& p = c["params"];
  if (annotator == "canny") {
    return run_preprocessor("canny", image, p["resolution"],
                            {{"low_threshold", p["low"]}, {"high_threshold", p["high"]}});
  }
  if (annotator == "canny_aux") {
    return canny_controlnet_aux(image, p["low"], p["high"], p["detect_resolution"], p["image_resolution"]);
  }
  if (annotator == "invert") return run_preprocessor("invert", image, 512);
  if (annotator == "threshold") {
    return run_preprocessor("threshold", image, p["resolution"], {{"threshold", p["thr_a"]}});
  }
  if (annotator == "scribble_xdog") {
    return run_preprocessor("scribble_xdog", image, p["resolution"], {{"threshold", p["slider_1"]}});
  }
  if (annotator == "lineart_standard") return run_preprocessor("lineart_standard", image, p["resolution"]);
  if (annotator == "lineart_standard_aux") {
    return lineart_standard_controlnet_aux(image, p["guassian_sigma"], p["intensity_threshold"],
                                           p["detect_resolution"]);
  }
  if (annotator == "tile_resample") {
    return run_preprocessor("tile_resample", image, 512, {{"down_sampling_rate", p["thr_a"]}});
  }
  if (annotator == "blur_gaussian") {
    return run_preprocessor("blur_gaussian", image, p["resolution"], {{"sigma", p["sigma"]}});
  }
  throw std::runtime_error("unknown annotator " + annotator);
}

}  // namespace

TEST_CASE("OpenCV-only preprocessors match A1111 / controlnet_aux byte for byte") {
  int total = 0;
  std::vector<std::string> failures;
  for (const json& c : opencv_cases()["cases"]) {
    const std::string input = c["input"];
    const std::string name = c["annotator"].get<std::string>() + " " + input + " " + c["params"].dump();
    ++total;
    const MapCheck check = check_map(run_case(c, golden_input(input)), c["output"], input);
    if (!check.equal) failures.push_back(name + ": " + check.detail);
  }
  MESSAGE("opencv: " << (total - static_cast<int>(failures.size())) << " of " << total << " golden cases exact");
  for (const std::string& f : failures) FAIL_CHECK(f);
  CHECK(total > 0);
}

TEST_CASE("inpaint: control and hint tensors of detectmap_proc + hook.py") {
  int total = 0;
  for (const json& c : opencv_cases()["inpaint"]) {
    const ControlImage rgba = load_control_image(golden_dir() / c["rgba_input"]["file"].get<std::string>());
    REQUIRE(check_map(rgba, c["rgba_input"]).equal);
    const ResizeMode mode = parse_resize_mode(c["resize_mode"].get<std::string>());
    const int h = c["h"], w = c["w"];
    INFO(c["file"].get<std::string>());
    // The preprocessor passes the RGBA through.
    CHECK(run_preprocessor("inpaint_only", rgba, 512).pixels == rgba.pixels);
    const InpaintControl got = inpaint_control(rgba, mode, h, w);
    REQUIRE(got.height == h);
    REQUIRE(got.width == w);

    const MapCheck mask = check_map(got.mask, c["mask_png"]);
    CHECK_MESSAGE(mask.equal, "mask: " << mask.detail);
    CHECK(kiln::control::test::sha256_hex(got.control) == c["control"]["sha256_f32"].get<std::string>());

    std::vector<int> shape;
    const std::vector<float> hint =
        kiln::control::test::read_safetensors_f32(golden_dir() / c["file"].get<std::string>(), "hint", &shape);
    CHECK(shape == std::vector<int>{1, 3, h, w});
    REQUIRE(hint.size() == got.hint.size());
    int differing = 0;
    double max_diff = 0;
    for (std::size_t i = 0; i < hint.size(); ++i) {
      differing += hint[i] != got.hint[i];
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(hint[i]) - got.hint[i]));
    }
    CHECK_MESSAGE(differing == 0, differing << " hint values differ, max |diff| " << max_diff);
    ++total;
  }
  CHECK(total > 0);
}

TEST_CASE("the registry describes A1111's modules") {
  const auto all = preprocessors();
  REQUIRE(!all.empty());
  CHECK(all.front()->name == "none");
  for (const char* name : {"none", "invert", "canny", "threshold", "scribble_xdog", "lineart_standard", "tile_resample",
                           "blur_gaussian", "inpaint", "inpaint_only"}) {
    CHECK_MESSAGE(find_preprocessor(name) != nullptr, name);
  }
  const auto canny = find_preprocessor("canny");
  CHECK(canny->takes_resolution);
  REQUIRE(canny->params.size() == 2);
  CHECK(canny->params[0].key == "low_threshold");
  CHECK(canny->params[0].label == "Low Threshold");
  CHECK(canny->params[0].default_value == 100);
  CHECK(canny->params[1].default_value == 200);
  CHECK(canny->params[1].slot == 2);
  CHECK_FALSE(find_preprocessor("invert")->takes_resolution);
  CHECK_FALSE(find_preprocessor("tile_resample")->takes_resolution);
  CHECK(find_preprocessor("inpaint_only")->takes_mask);
  CHECK(find_preprocessor("hed") == nullptr);

  // Defaults fill in what is not given.
  const PreprocessorParams p = resolve_params(*canny, 512, {{"high_threshold", 150}});
  CHECK(p.at("low_threshold") == 100);
  CHECK(p.at("high_threshold") == 150);
}

TEST_CASE("later preprocessors register into the same registry") {
  Preprocessor flip;
  flip.name = "test_flip_rows";
  flip.label = "test_flip_rows";
  flip.params = {{"amount", "Amount", 1, 0, 2, 1, 1}};
  flip.run = [](const ControlImage& image, int, const PreprocessorParams&, const PreprocessorContext& context) {
    if (context.stop.stop_requested()) return ControlImage();
    ControlImage out = image;
    for (int y = 0; y < image.height; ++y)
      std::copy(image.pixel(0, y), image.pixel(0, y) + image.width * 3, out.pixel(0, image.height - 1 - y));
    return out;
  };
  register_preprocessor(flip);
  ControlImage image(1, 2, 1);
  image.pixels = {10, 20};
  CHECK(run_preprocessor("test_flip_rows", image, 0).pixels == std::vector<std::uint8_t>{20, 20, 20, 10, 10, 10});
  std::stop_source cancel;
  cancel.request_stop();
  PreprocessorContext cancelled;
  cancelled.stop = cancel.get_token();
  CHECK(run_preprocessor("test_flip_rows", image, 0, {}, cancelled).empty());
  const auto e = thrown<kiln::InvalidRequestError>([&] { register_preprocessor(flip); });
  CHECK(e.message() == "preprocessor 'test_flip_rows' is already registered");
}

TEST_CASE("preprocessor errors: unknown name, unknown or out-of-range parameter, bad input") {
  ControlImage image(384, 256, 3);
  std::fill(image.pixels.begin(), image.pixels.end(), std::uint8_t{200});

  auto e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("cany", image, 512); });
  CHECK(e.message() == "unknown preprocessor 'cany'");
  CHECK(e.hint().find("known preprocessors: none, blur_gaussian, canny,") == 0);

  e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("canny", image, 512, {{"low", 50}}); });
  CHECK(e.message() == "preprocessor 'canny' has no parameter 'low'");
  CHECK(e.hint() == "its parameters: low_threshold, high_threshold");

  e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("invert", image, 512, {{"sigma", 2}}); });
  CHECK(e.hint() == "it takes no parameters");

  e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("canny", image, 512, {{"high_threshold", 300}}); });
  CHECK(e.message() == "preprocessor 'canny': high_threshold = 300 is outside 0..256");
  CHECK(e.hint() == "High Threshold (default 200)");

  e = thrown<kiln::InvalidRequestError>([&] {
    run_preprocessor("blur_gaussian", image, 512, {{"sigma", std::nan("")}});
  });
  CHECK(e.message() == "preprocessor 'blur_gaussian': sigma = nan is outside 0.01..64");

  e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("scribble_xdog", image, 0); });
  CHECK(e.message() == "preprocessor 'scribble_xdog': resolution 0 is outside 1..16384");

  e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("inpaint_only", image, 512); });
  CHECK(e.message() == "preprocessor 'inpaint_only' needs an RGBA image whose alpha is the mask, got 384x256 RGB");

  ControlImage two_channels(4, 4, 2);
  e = thrown<kiln::InvalidRequestError>([&] { run_preprocessor("invert", two_channels, 512); });
  CHECK(e.message() == "input of preprocessor 'invert': expected 1, 3 or 4 channels (grey, RGB, RGBA), got 2");

  e = thrown<kiln::InvalidRequestError>([&] {
    run_preprocessor("tile_resample", ControlImage(5, 5, 3), 0, {{"down_sampling_rate", 8}});
  });
  CHECK(e.message() == "tile_resample: a 5x5 image down-sampled by 8 would be empty");

  e = thrown<kiln::InvalidRequestError>([&] { inpaint_control(image, ResizeMode::JustResize, 64, 64); });
  CHECK(e.message() == "inpaint needs an RGBA image whose alpha is the mask, got 384x256 RGB");

  e = thrown<kiln::InvalidRequestError>([&] { make_inpaint_input(image, ControlImage(3, 3, 1)); });
  CHECK(e.message() == "the inpaint mask is 3x3 grey but the image is 384x256 RGB");
}

TEST_CASE("make_inpaint_input puts the mask's first channel into alpha") {
  ControlImage image(2, 1, 1);
  image.pixels = {7, 9};
  ControlImage mask(2, 1, 3);
  mask.pixels = {255, 0, 0, 0, 255, 255};
  const ControlImage rgba = make_inpaint_input(image, mask);
  CHECK(rgba.channels == 4);
  CHECK(rgba.pixels == std::vector<std::uint8_t>{7, 7, 7, 255, 9, 9, 9, 0});
}

TEST_CASE("numpy's arithmetic where it decides pixels") {
  using namespace kiln::control::numpy;
  // A uint8 array compared with a Python float is compared in float16 (numpy < 2).
  CHECK(as_float16(63.99) == 64.0);
  CHECK(as_float16(63.9) == 63.90625);
  CHECK(as_float16(32.3) == 32.3125);
  CHECK(as_float16(127.0) == 127.0);
  CHECK(as_float16(0.1) == 0.0999755859375);
  CHECK(round_half_even(48.5) == 48.0);
  CHECK(round_half_even(341.5) == 342.0);
  CHECK(round_to_int(436.49999999999994) == 436);
  CHECK(floor_div(-3, 2) == -2);
  CHECK(floor_div(3, 2) == 1);
  CHECK(clip_to_uint8(254.99f) == 254);
  CHECK(clip_to_uint8(-0.5f) == 0);
  CHECK(clip_to_uint8(300.0) == 255);

  // threshold 63.99 does not pass a pixel of 64 in A1111 (float16 64.0 > 64.0 is false).
  ControlImage flat(64, 64, 3);
  std::fill(flat.pixels.begin(), flat.pixels.end(), std::uint8_t{64});
  CHECK(run_preprocessor("threshold", flat, 64, {{"threshold", 63.99}}).pixels[0] == 0);
  CHECK(run_preprocessor("threshold", flat, 64, {{"threshold", 63.9}}).pixels[0] == 255);
}
