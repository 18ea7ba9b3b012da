// prepare_dataset end to end on small folders: the report schema, captions (own .txt, file
// name rule, token), sidecars and regeneration from the untouched original, validation,
// cancellation, name clashes, what is skipped and why.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <stop_token>

#include "base/error.h"
#include "dataset/prepare_dataset.h"
#include "dataset_test_util.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace kiln::dataset;
using kiln::test::faces_dir;
using kiln::test::read_text;
using kiln::test::ScratchDir;

namespace {

void copy_photo(const char* name, const fs::path& to) { fs::copy_file(faces_dir() / name, to); }

void write_noise(const fs::path& path, int w, int h, int seed) {
  cv::Mat m(h, w, CV_8UC3);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
  REQUIRE(cv::imwrite(path.string(), m));
}

const ImageResult& by_name(const PrepareResult& r, const std::string& name) {
  for (const auto& i : r.images) {
    if (i.source.filename() == name) return i;
  }
  throw std::runtime_error("no result for " + name);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.message();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the report follows the issue's schema exactly") {
  ScratchDir src, out;
  copy_photo("hopper_portrait.jpg", src / "hopper.jpg");
  fs::copy_file(faces_dir() / "corrupt/empty.jpg", src / "empty.jpg");
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.faces.use_landmarks = false;
  const PrepareResult result = prepare_dataset(request);
  const nlohmann::json report = report_json(result);
  CHECK(report.size() == 1);
  REQUIRE(report["images"].size() == 2);
  const std::set<std::string> keys{"source", "output", "faces", "crop", "status", "reason"};
  for (const auto& e : report["images"]) {
    std::set<std::string> got;
    for (const auto& [k, v] : e.items()) got.insert(k);
    CHECK((got == keys));
  }
  const auto& empty = report["images"][0];
  CHECK(empty["source"] == (src / "empty.jpg").string());
  CHECK(empty["status"] == "skipped");
  CHECK(empty["reason"] == "empty file");
  CHECK(empty["output"].is_null());
  CHECK(empty["crop"].is_null());
  CHECK(empty["faces"] == nlohmann::json::array());
  const auto& ok = report["images"][1];
  CHECK(ok["status"] == "ok");
  CHECK(ok["reason"] == "");
  CHECK(ok["output"] == (out / "hopper.png").string());
  REQUIRE(ok["faces"].size() == 1);
  CHECK(ok["faces"][0].size() == 4);
  CHECK(ok["crop"] == nlohmann::json::array({0, 0, 512, 512}));
}

TEST_CASE("captions: the source's .txt, else the file name rule, then the instance token") {
  ScratchDir src, out;
  copy_photo("hopper_portrait.jpg", src / "phtmejhn (1).jpg");
  copy_photo("astronaut_512.png", src / "phtmejhn (2).png");
  kiln::test::write_text(src / "phtmejhn (2).txt", "an astronaut in front of a flag");
  copy_photo("noface_rocket.jpg", src / "rocket.jpg");
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.filename_captions = true;
  request.instance_token = "phtmejhn";
  request.faces.use_landmarks = false;
  request.duplicate_distance = -1;
  const PrepareResult result = prepare_dataset(request);
  REQUIRE(result.images.size() == 3);
  CHECK(read_text(out / "phtmejhn (1).txt") == "phtmejhn");
  CHECK(read_text(out / "phtmejhn (2).txt") == "phtmejhn, an astronaut in front of a flag");
  CHECK(read_text(out / "rocket.txt") == "phtmejhn, rocket");
  CHECK(by_name(result, "rocket.jpg").caption == out / "rocket.txt");

  // Without token and file-name rule, images without a .txt get no caption file.
  ScratchDir out2;
  request.output_dir = out2.path();
  request.filename_captions = false;
  request.instance_token.clear();
  const PrepareResult plain = prepare_dataset(request);
  CHECK_FALSE(fs::exists(out2 / "rocket.txt"));
  CHECK(by_name(plain, "rocket.jpg").caption.empty());
  CHECK(read_text(out2 / "phtmejhn (2).txt") == "an astronaut in front of a flag");
}

TEST_CASE("the sidecar records the crop; moving the box regenerates the output from the original") {
  ScratchDir src, out;
  copy_photo("edge_left_wide.jpg", src / "wide.jpg");
  const auto original = kiln::test::read_bytes(src / "wide.jpg");
  PrepareRequest request;
  request.sources = {src / "wide.jpg"};
  request.output_dir = out.path();
  request.faces.use_landmarks = false;
  const PrepareResult result = prepare_dataset(request);
  REQUIRE(result.images.size() == 1);
  const ImageResult& r = result.images[0];
  CHECK(r.sidecar == out / "wide.crop.json");
  const CropSidecar s = read_sidecar(r.sidecar);
  CHECK(s.source == fs::absolute(src / "wide.jpg"));
  CHECK(s.crop == *r.crop);
  CHECK((s.faces == r.faces));
  CHECK(s.resolution == 512);
  CHECK_FALSE(s.adjusted);
  const cv::Mat before = cv::imread(r.output.string());

  const Box moved{426, 0, 427, 427};  // a smaller square on the right: upscaled to 512
  const CropSidecar after = regenerate_output(r.output, moved);
  CHECK(after.crop == moved);
  CHECK(after.adjusted);
  CHECK(after.subject == "manual");
  CHECK(after.status == "warning");
  CHECK(after.warnings.back() == "upscaled: the crop is 427x427, smaller than 512x512");
  CHECK(read_sidecar(r.sidecar).crop == moved);
  const cv::Mat regenerated = cv::imread(r.output.string());
  CHECK(regenerated.cols == 512);
  CHECK(cv::norm(before, regenerated, cv::NORM_L1) > 0);
  // Going back to the planned box gives the first output again.
  regenerate_output(r.output, *r.crop);
  CHECK(cv::norm(before, cv::imread(r.output.string()), cv::NORM_INF) == 0);
  CHECK((kiln::test::read_bytes(src / "wide.jpg") == original));  // the original is untouched

  CHECK(message_of([&] {
          regenerate_output(r.output, {900, 0, 500, 500});
        }) == "crop box [900, 0, 500, 500] lies outside the 1280x854 image");
  fs::copy_file(faces_dir() / "hopper_portrait.jpg", src / "wide.jpg", fs::copy_options::overwrite_existing);
  CHECK(message_of([&] { regenerate_output(r.output, moved); }) ==
        "the original is 512x600 now, but the crop was planned on 1280x854");
  CHECK_THROWS_AS(regenerate_output(out / "nothing.png", moved), kiln::FileError);
}

TEST_CASE("requests are validated before any work") {
  ScratchDir src, out;
  copy_photo("small_320x240.jpg", src / "a.jpg");
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.resolution = 500;
  CHECK(message_of([&] { prepare_dataset(request); }) == "resolution must be 512 to 1024 in steps of 64, got 500");
  request.resolution = 1088;
  CHECK_THROWS_AS(prepare_dataset(request), kiln::InvalidRequestError);
  request.resolution = 768;
  request.output_dir = src.path();
  CHECK(message_of([&] { prepare_dataset(request); }) ==
        "the output folder " + src.path().string() + " holds the source images");
  request.output_dir = out.path();
  request.sources = {src / "missing"};
  CHECK(message_of([&] { prepare_dataset(request); }) == "source does not exist: " + (src / "missing").string());
  request.sources = {};
  CHECK(message_of([&] { prepare_dataset(request); }) == "no source images or folders given");
  CHECK(fs::is_empty(out.path()));
}

TEST_CASE("small images are skipped instead of upscaled when upscaling is off") {
  ScratchDir src, out;
  copy_photo("small_320x240.jpg", src / "small.jpg");
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.upscale_small = false;
  request.detect_faces = false;
  const PrepareResult result = prepare_dataset(request);
  REQUIRE(result.images.size() == 1);
  CHECK(result.images[0].status == ImageStatus::Skipped);
  CHECK(result.images[0].reason() == "smaller than the output: the crop is 240x240 for 512x512 (upscaling is off)");
  CHECK(fs::is_empty(out.path()));
}

TEST_CASE("names: clashes get a suffix; hidden entries and the output folder inside the source are skipped") {
  ScratchDir src;
  fs::create_directories(src / "sub");
  fs::create_directories(src / ".hidden");
  write_noise(src / "a.jpg", 600, 600, 1);
  write_noise(src / "a.png", 600, 600, 2);
  write_noise(src / "sub/A.webp", 600, 600, 3);
  write_noise(src / ".hidden/b.png", 600, 600, 4);
  write_noise(src / ".c.png", 600, 600, 5);
  kiln::test::write_text(src / "notes.md", "not an image");
  const fs::path out = src / "prepared";
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out;
  request.detect_faces = false;
  request.format = OutputFormat::Jpeg;
  const PrepareResult first = prepare_dataset(request);
  REQUIRE(first.images.size() == 3);
  CHECK(first.images[0].output == out / "a.jpg");
  CHECK(first.images[1].output == out / "a-2.jpg");
  CHECK(first.images[2].output == out / "A-3.jpg");
  for (const auto& r : first.images) CHECK(r.status == ImageStatus::Ok);
  // A second run does not pick up its own outputs.
  const PrepareResult second = prepare_dataset(request);
  CHECK(second.images.size() == 3);
  CHECK(cv::imread((out / "a-2.jpg").string()).cols == 512);
}

TEST_CASE("cancelling stops between images and reports what was done") {
  ScratchDir src, out;
  for (int i = 0; i < 6; ++i) write_noise(src / ("n" + std::to_string(i) + ".png"), 512, 512, 10 + i);
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.detect_faces = false;
  request.threads = 1;
  std::stop_source stop;
  std::vector<std::size_t> seen;
  const PrepareResult result = prepare_dataset(request, stop.get_token(), [&](const PrepareProgress& p) {
    seen.push_back(p.done);
    CHECK(p.total == 6);
    REQUIRE(p.last != nullptr);
    if (p.done == 2) stop.request_stop();
  });
  CHECK(result.cancelled);
  CHECK(result.images.size() == 2);
  CHECK(seen == std::vector<std::size_t>{1, 2});
}

TEST_CASE("without face detection, no image is flagged for a missing face") {
  ScratchDir src, out;
  copy_photo("noface_coffee.png", src / "coffee.png");
  PrepareRequest request;
  request.sources = {src.path()};
  request.output_dir = out.path();
  request.detect_faces = false;
  request.resolution = 512;
  const PrepareResult result = prepare_dataset(request);
  REQUIRE(result.images.size() == 1);
  CHECK(result.images[0].reason() == "upscaled: the crop is 400x400, smaller than 512x512");
  CHECK(result.images[0].focal.has_value());
  CHECK(result.images[0].subject == CropSubject::FocalPoint);
}
