// The smart crop on the face photos of tests/data/faces against their manifest, with and
// without dlib's 68-point landmark model (optional: it may be absent, and the crop must work
// without it), through the real prepare_dataset pipeline.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "dataset/image_loader.h"
#include "dataset/prepare_dataset.h"
#include "dataset_test_util.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::dataset::Box;
using kiln::dataset::ImageResult;
using kiln::dataset::ImageStatus;
using kiln::test::faces_dir;
using kiln::test::faces_manifest;

namespace {

struct Run {
  kiln::test::ScratchDir out{"kiln-dataset-crop"};
  kiln::dataset::PrepareResult result;
  std::map<std::string, const ImageResult*> by_file;
};

// One prepare of the whole folder (corrupt/ included) per configuration, shared by the cases.
const Run& run(bool landmarks, int resolution = 512) {
  static std::map<std::pair<bool, int>, std::unique_ptr<Run>> runs;
  auto& slot = runs[{landmarks, resolution}];
  if (!slot) {
    slot = std::make_unique<Run>();
    kiln::dataset::PrepareRequest request;
    request.sources = {faces_dir()};
    request.output_dir = slot->out.path();
    request.resolution = resolution;
    request.faces.use_landmarks = landmarks;
    slot->result = kiln::dataset::prepare_dataset(request);
    for (const auto& r : slot->result.images) {
      slot->by_file[r.source.lexically_relative(faces_dir()).generic_string()] = &r;
    }
  }
  return *slot;
}

Box box_of(const nlohmann::json& f) { return {f[0], f[1], f[2], f[3]}; }

void check_manifest(bool landmarks) {
  const Run& r = run(landmarks);
  if (landmarks && !r.result.landmarks_available) {
    MESSAGE("no landmark model at " << kiln::dataset::kSystemLandmarkModel << ": the landmark run equals the other");
  }
  for (const auto& e : faces_manifest()["images"]) {
    const std::string file = e["file"];
    CAPTURE(file);
    REQUIRE(r.by_file.count(file) == 1);
    const ImageResult& img = *r.by_file.at(file);
    REQUIRE(img.status != ImageStatus::Skipped);
    REQUIRE(img.crop.has_value());
    CHECK(img.source_size.width == e["width"].get<int>());
    CHECK(img.source_size.height == e["height"].get<int>());
    CHECK(img.orientation == e["exif_orientation"].get<int>());
    const std::string why = kiln::test::check_manifest_crop(e, *img.crop);
    CHECK_MESSAGE(why.empty(), why);
    // Every listed face that dlib finds at upsample 0 is found here too.
    for (std::size_t i = 0; i < e["faces"].size(); ++i) {
      if (!e["dlib_finds"]["upsample0"][i].get<bool>()) continue;
      const Box truth = box_of(e["faces"][i]);
      bool found = false;
      for (const Box& d : img.faces) found = found || kiln::test::detection_matches(truth, d);
      CHECK_MESSAGE(found, "face " << i << " not detected");
    }
    if (e["faces"].empty()) {
      CHECK(img.faces.empty());
      CHECK(img.status == ImageStatus::Warning);
      CHECK(img.reason().find("no face found") != std::string::npos);
      CHECK(img.focal.has_value());
    }
    const cv::Mat out = cv::imread(img.output.string(), cv::IMREAD_UNCHANGED);
    REQUIRE(!out.empty());
    CHECK(out.cols == 512);
    CHECK(out.rows == 512);
    CHECK(out.channels() == 3);
    CHECK(out.depth() == CV_8U);
    // The measured figures (see the report of issue 6): where the true face centre lands in
    // the square, and how well the detection matches the true box.
    std::string placement = "no face";
    if (!e["faces"].empty()) {
      const Box truth = box_of(e["faces"][0]);
      double best_iou = 0;
      for (const Box& d : img.faces) best_iou = std::max(best_iou, kiln::dataset::iou(truth, d));
      char text[128];
      std::snprintf(text, sizeof text, "true face centre at (%.2f, %.2f) of the square, detection IoU %.2f",
                    (truth.centre_x() - img.crop->x) / img.crop->w, (truth.centre_y() - img.crop->y) / img.crop->w,
                    best_iou);
      placement = text;
    }
    MESSAGE(file << ": crop [" << img.crop->x << ", " << img.crop->y << ", " << img.crop->w << "] "
                 << std::string(kiln::dataset::to_string(img.subject)) << ", " << img.faces.size() << " face(s), "
                 << placement << ", " << std::string(kiln::dataset::to_string(img.status))
                 << (img.reasons.empty() ? std::string() : ": " + img.reason()));
  }
}

}  // namespace

TEST_CASE("smart crop passes the manifest rule on every face photo, with the landmark model") { check_manifest(true); }

TEST_CASE("smart crop passes the manifest rule without the landmark model") { check_manifest(false); }

TEST_CASE("exif6_hopper.jpg crops like hopper_portrait.jpg") {
  for (const bool landmarks : {true, false}) {
    CAPTURE(landmarks);
    const Run& r = run(landmarks);
    const ImageResult& upright = *r.by_file.at("hopper_portrait.jpg");
    const ImageResult& rotated = *r.by_file.at("exif6_hopper.jpg");
    CHECK(rotated.orientation == 6);
    CHECK(rotated.source_size == upright.source_size);
    REQUIRE(rotated.crop.has_value());
    REQUIRE(upright.crop.has_value());
    const int tolerance = std::max(2, upright.crop->w / 50);
    CHECK(std::abs(rotated.crop->x - upright.crop->x) <= tolerance);
    CHECK(std::abs(rotated.crop->y - upright.crop->y) <= tolerance);
    CHECK(rotated.crop->w == upright.crop->w);
    // The outputs show the same upright picture (JPEG generations differ a little).
    const cv::Mat a = cv::imread(upright.output.string());
    const cv::Mat b = cv::imread(rotated.output.string());
    CHECK(cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total() * a.channels()) < 6.0);
    // ... and are flagged as near-duplicates (the later one, in name order, of the earlier).
    REQUIRE(upright.duplicate_of.has_value());
    CHECK(r.result.images[*upright.duplicate_of].source.filename() == "exif6_hopper.jpg");
    CHECK(upright.reason().find("near-duplicate of exif6_hopper.jpg") != std::string::npos);
  }
}

TEST_CASE("the corrupt set is reported file by file with its reason, and the rest goes on") {
  const Run& r = run(true);
  const std::map<std::string, std::string> expected{
      {"corrupt/empty.jpg", "empty file"},
      {"corrupt/not_an_image.png", "not a supported image (JPEG, PNG, WebP, BMP or TIFF)"},
      {"corrupt/truncated.jpg", "truncated JPEG: the data ends before the end-of-image marker"},
      {"corrupt/one_pixel.png", "image too small: 1x1 pixels (the minimum is 64)"},
  };
  for (const auto& [file, reason] : expected) {
    CAPTURE(file);
    REQUIRE(r.by_file.count(file) == 1);
    const ImageResult& img = *r.by_file.at(file);
    CHECK(img.status == ImageStatus::Skipped);
    CHECK(img.reason() == reason);
    CHECK(img.output.empty());
    CHECK(!fs::exists(r.out.path() / (img.source.stem().string() + ".png")));
  }
  CHECK(r.result.images.size() == faces_manifest()["images"].size() + expected.size());
}

TEST_CASE("images smaller than the resolution are upscaled with a warning, never silently") {
  const Run& r = run(false);
  for (const char* file : {"small_320x240.jpg", "portrait_beach.jpg", "noface_cat.png"}) {
    CAPTURE(file);
    const ImageResult& img = *r.by_file.at(file);
    CHECK(img.upscaled);
    CHECK(img.status == ImageStatus::Warning);
    CHECK(img.reason().find("upscaled: the crop is") != std::string::npos);
  }
  CHECK_FALSE(r.by_file.at("hopper_portrait.jpg")->upscaled);
}

TEST_CASE("mirrored and re-framed copies of the face photos pass the same rule (no landmark model)") {
  // Not tuned to the manifest's coordinates: every face photo mirrored, and placed at a seeded
  // random spot on a larger canvas, with its boxes moved alike.
  kiln::test::ScratchDir src, out;
  std::map<std::string, nlohmann::json> entries;
  const cv::Mat texture = cv::imread((faces_dir() / "noface_coffee.png").string());
  std::mt19937 rng(2024);
  for (const auto& e : faces_manifest()["images"]) {
    if (e["faces"].empty()) continue;
    const std::string stem = fs::path(e["file"].get<std::string>()).stem().string();
    const cv::Mat img = kiln::dataset::load_image(faces_dir() / e["file"].get<std::string>()).bgr;
    nlohmann::json mirrored = e;
    cv::Mat flipped;
    cv::flip(img, flipped, 1);
    for (auto& f : mirrored["faces"]) f[0] = img.cols - f[0].get<int>() - f[2].get<int>();
    REQUIRE(cv::imwrite((src / (stem + "_mirrored.png")).string(), flipped));
    entries[stem + "_mirrored.png"] = mirrored;

    const int W = static_cast<int>(img.cols * std::uniform_real_distribution<double>(1.2, 2.0)(rng));
    const int H = static_cast<int>(img.rows * std::uniform_real_distribution<double>(1.0, 1.6)(rng));
    const int ox = std::uniform_int_distribution<int>(0, W - img.cols)(rng);
    const int oy = std::uniform_int_distribution<int>(0, H - img.rows)(rng);
    cv::Mat canvas;
    cv::resize(texture, canvas, cv::Size(W, H));
    img.copyTo(canvas(cv::Rect(ox, oy, img.cols, img.rows)));
    nlohmann::json placed = e;
    placed["width"] = W;
    placed["height"] = H;
    for (auto& f : placed["faces"]) {
      f[0] = f[0].get<int>() + ox;
      f[1] = f[1].get<int>() + oy;
    }
    REQUIRE(cv::imwrite((src / (stem + "_placed.jpg")).string(), canvas, {cv::IMWRITE_JPEG_QUALITY, 92}));
    entries[stem + "_placed.jpg"] = placed;
  }
  kiln::dataset::PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.faces.use_landmarks = false;
  request.duplicate_distance = -1;
  const auto result = kiln::dataset::prepare_dataset(request);
  REQUIRE(result.images.size() == entries.size());
  for (const auto& r : result.images) {
    const std::string file = r.source.filename().string();
    CAPTURE(file);
    REQUIRE(r.crop.has_value());
    CHECK_FALSE(r.faces.empty());
    const std::string why = kiln::test::check_manifest_crop(entries.at(file), *r.crop);
    CHECK_MESSAGE(why.empty(), why);
  }
}
