// Reading and writing control images: PNG/JPEG as plain 8-bit arrays (grey, RGB, RGBA as
// stored, RGB order, no premultiplication), atomic PNG output, and the errors for missing,
// foreign, truncated and corrupt files.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "base/error.h"
#include "control/control_image.h"
#include "control_test_util.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace kiln::control;
using kiln::control::test::golden_dir;
using kiln::control::test::read_json;
using kiln::control::test::sha256_hex;
using kiln::control::test::thrown;
using kiln::test::ScratchDir;

namespace {

void write_bytes(const fs::path& path, const std::vector<std::byte>& bytes, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(count));
}

std::vector<std::byte> to_bytes(const std::vector<uchar>& v) {
  std::vector<std::byte> out(v.size());
  std::memcpy(out.data(), v.data(), v.size());
  return out;
}

ControlImage pattern(int w, int h, int channels) {
  ControlImage image(w, h, channels);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<std::uint8_t>(i * 37 + 11);
  return image;
}

}  // namespace

TEST_CASE("golden inputs decode to the stored arrays: grey stays 2-D, RGBA keeps its colour under alpha 0") {
  const nlohmann::json inputs = read_json(golden_dir() / "inputs" / "inputs.json");
  int count = 0;
  for (const auto& entry : inputs["inputs"]) {
    const ControlImage image = load_control_image(golden_dir() / entry["file"].get<std::string>());
    INFO(entry["name"].get<std::string>());
    CHECK(kiln::control::test::shape_of(image) == entry["shape"].get<std::vector<int>>());
    CHECK(sha256_hex(image) == entry["sha256_raw"].get<std::string>());
    ++count;
  }
  CHECK(count == static_cast<int>(inputs["inputs"].size()));
  CHECK(count > 0);
}

TEST_CASE("PNG round trip: grey, RGB and RGBA, written atomically") {
  ScratchDir dir("kiln-control");
  for (int channels : {1, 3, 4}) {
    const ControlImage image = pattern(7, 5, channels);
    const fs::path path = dir / ("map" + std::to_string(channels) + ".png");
    save_control_png(path, image);
    const ControlImage back = load_control_image(path);
    CHECK(back.channels == channels);
    CHECK(back.width == 7);
    CHECK(back.height == 5);
    CHECK(back.pixels == image.pixels);
  }
  // Overwriting replaces the file; no temporary file is left beside it.
  save_control_png(dir / "map3.png", pattern(3, 3, 3));
  CHECK(load_control_image(dir / "map3.png").width == 3);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file();
  CHECK(files == 3);
}

TEST_CASE("16-bit PNGs become 8-bit, JPEGs decode as RGB") {
  ScratchDir dir("kiln-control");
  cv::Mat wide(1, 3, CV_16UC3);
  wide.at<cv::Vec3w>(0, 0) = {65535, 0, 257 * 100};  // stored BGR
  wide.at<cv::Vec3w>(0, 1) = {128, 385, 257};
  wide.at<cv::Vec3w>(0, 2) = {0, 0, 0};
  std::vector<uchar> png;
  REQUIRE(cv::imencode(".png", wide, png));
  const ControlImage eight = decode_control_image(to_bytes(png), "wide.png");
  CHECK(eight.channels == 3);
  CHECK(std::vector<std::uint8_t>(eight.pixels.begin(), eight.pixels.begin() + 6) ==
        std::vector<std::uint8_t>{100, 0, 255, 1, 1, 0});

  cv::Mat red(8, 8, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR red
  std::vector<uchar> jpg;
  REQUIRE(cv::imencode(".jpg", red, jpg, {cv::IMWRITE_JPEG_QUALITY, 100}));
  write_bytes(dir / "red.jpg", to_bytes(jpg), jpg.size());
  const ControlImage rgb = load_control_image(dir / "red.jpg");
  REQUIRE(rgb.channels == 3);
  CHECK(rgb.pixels[0] > 240);
  CHECK(rgb.pixels[2] < 16);
}

TEST_CASE("missing, foreign, truncated and corrupt files name the file") {
  ScratchDir dir("kiln-control");

  const auto missing = thrown<kiln::FileError>([&] { load_control_image(dir / "nope.png"); });
  CHECK(missing.message() == "no such file");
  CHECK(missing.path() == dir / "nope.png");

  const auto folder = thrown<kiln::FileError>([&] { load_control_image(dir.path()); });
  CHECK(folder.message() == "not a regular file");

  kiln::test::write_text(dir / "notes.png", "this is not an image");
  const auto foreign = thrown<kiln::FormatError>([&] { load_control_image(dir / "notes.png"); });
  CHECK(foreign.message() == "not a PNG or JPEG image");
  CHECK(foreign.path() == dir / "notes.png");

  const std::vector<std::byte> png = encode_control_png(pattern(64, 64, 3));
  write_bytes(dir / "cut.png", png, png.size() / 2);
  const auto cut = thrown<kiln::FormatError>([&] { load_control_image(dir / "cut.png"); });
  CHECK(cut.message() == "corrupt or truncated PNG image");
  CHECK(cut.path() == dir / "cut.png");

  std::vector<std::byte> damaged = png;
  damaged[damaged.size() / 2] ^= std::byte{0x5A};  // inside IDAT: the CRC no longer matches
  write_bytes(dir / "damaged.png", damaged, damaged.size());
  CHECK(thrown<kiln::FormatError>([&] { load_control_image(dir / "damaged.png"); }).message() ==
        "corrupt or truncated PNG image");

  cv::Mat noise(32, 32, CV_8UC3);
  cv::randu(noise, 0, 255);
  std::vector<uchar> jpg;
  REQUIRE(cv::imencode(".jpg", noise, jpg));
  write_bytes(dir / "cut.jpg", to_bytes(jpg), jpg.size() - 100);
  const auto cut_jpeg = thrown<kiln::FormatError>([&] { load_control_image(dir / "cut.jpg"); });
  CHECK(cut_jpeg.message() == "corrupt or truncated JPEG image (no end marker)");
  CHECK(cut_jpeg.path() == dir / "cut.jpg");
}

TEST_CASE("writing refuses inconsistent images and unwritable places") {
  ControlImage broken(4, 4, 3);
  broken.pixels.resize(10);
  const auto e = thrown<kiln::InvalidRequestError>([&] { encode_control_png(broken); });
  CHECK(e.message() == "PNG output: 4x4 RGB needs 48 bytes of pixels, got 10");
  CHECK_THROWS_AS(save_control_png("/nonexistent-folder/map.png", pattern(2, 2, 3)), kiln::FileError);
}
