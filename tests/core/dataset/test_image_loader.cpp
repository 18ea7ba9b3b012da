// Decoding: formats told by content, EXIF orientation read by hand and applied explicitly
// (JPEG APP1, PNG eXIf, WebP EXIF), alpha, grayscale, palette and 16-bit conversion, and the
// exact errors for broken files.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "dataset/exif.h"
#include "dataset/image_loader.h"
#include "dataset_test_util.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::dataset::decode_image;
using kiln::dataset::ImageFormat;
using kiln::dataset::ImageSize;
using kiln::dataset::load_image;
using kiln::dataset::LoadedImage;
using kiln::test::faces_dir;

namespace {

// A 6x4 picture whose every pixel is distinct, so any wrong turn or flip shows.
cv::Mat upright_pattern() {
  cv::Mat m(4, 6, CV_8UC3);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(40 * x), static_cast<uchar>(60 * y), 200);
  }
  return m;
}

// The stored pixels that a viewer turns into `upright` for `orientation`, from the EXIF
// specification's table of where the stored row 0 / column 0 are shown:
// 1 top/left, 2 top/right, 3 bottom/right, 4 bottom/left, 5 left/top, 6 right/top,
// 7 right/bottom, 8 left/bottom.
cv::Mat stored_for(const cv::Mat& upright, int orientation) {
  const int W = upright.cols, H = upright.rows;
  const bool swap = orientation >= 5;
  cv::Mat stored(swap ? W : H, swap ? H : W, CV_8UC3);
  for (int r = 0; r < stored.rows; ++r) {
    for (int c = 0; c < stored.cols; ++c) {
      int x = 0, y = 0;  // displayed position of stored (r, c)
      switch (orientation) {
        case 1:
          x = c, y = r;
          break;
        case 2:
          x = W - 1 - c, y = r;
          break;
        case 3:
          x = W - 1 - c, y = H - 1 - r;
          break;
        case 4:
          x = c, y = H - 1 - r;
          break;
        case 5:
          x = r, y = c;
          break;
        case 6:
          x = W - 1 - r, y = c;
          break;
        case 7:
          x = W - 1 - r, y = H - 1 - c;
          break;
        case 8:
          x = r, y = H - 1 - c;
          break;
      }
      stored.at<cv::Vec3b>(r, c) = upright.at<cv::Vec3b>(y, x);
    }
  }
  return stored;
}

std::vector<std::byte> encode(const cv::Mat& m, const char* ext, std::vector<int> params = {}) {
  std::vector<uchar> buf;
  REQUIRE(cv::imencode(ext, m, buf, params));
  return kiln::test::to_bytes(buf);
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.message();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("EXIF orientation: read from little- and big-endian TIFF, absent or hostile data gives 1") {
  for (int o = 1; o <= 8; ++o) {
    const auto le = kiln::test::exif_orientation_tiff(o, true);
    const auto be = kiln::test::exif_orientation_tiff(o, false);
    CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(le))) == o);
    CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(be))) == o);
  }
  auto bad = kiln::test::exif_orientation_tiff(9);
  CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(bad))) == 1);
  // IFD offset past the end, entry count past the end, truncated header.
  auto far = kiln::test::exif_orientation_tiff(6);
  far[4] = 0xff;
  CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(far))) == 1);
  auto many = kiln::test::exif_orientation_tiff(6);
  many[8] = 0xff;
  many[9] = 0xff;
  CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(many))) == 6);  // found before running off
  many[10] = 0;  // tag no longer 0x0112: the scan runs to the end of the data and stops
  CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(many))) == 1);
  const std::vector<std::uint8_t> tiny{'I', 'I', 42};
  CHECK(kiln::dataset::read_exif_orientation(std::as_bytes(std::span(tiny))) == 1);
  CHECK(kiln::dataset::displayed_size({600, 512}, 6) == ImageSize{512, 600});
  CHECK(kiln::dataset::displayed_size({600, 512}, 3) == ImageSize{600, 512});
}

TEST_CASE("apply_orientation turns each of the 8 stored layouts upright") {
  const cv::Mat upright = upright_pattern();
  for (int o = 1; o <= 8; ++o) {
    CAPTURE(o);
    CHECK(same(kiln::dataset::apply_orientation(stored_for(upright, o), o), upright));
  }
}

TEST_CASE("exif6_hopper.jpg is decoded upright: 512x600 like hopper_portrait.jpg") {
  const LoadedImage rotated = load_image(faces_dir() / "exif6_hopper.jpg");
  const LoadedImage upright = load_image(faces_dir() / "hopper_portrait.jpg");
  CHECK(rotated.format == ImageFormat::Jpeg);
  CHECK(rotated.orientation == 6);
  CHECK(rotated.stored == ImageSize{600, 512});
  CHECK(rotated.displayed == ImageSize{512, 600});
  CHECK(rotated.bgr.cols == 512);
  CHECK(rotated.bgr.rows == 600);
  CHECK(upright.orientation == 1);
  // Same picture up to a JPEG generation (a wrong turn would differ by ~60 grey levels).
  CHECK(cv::norm(rotated.bgr, upright.bgr, cv::NORM_L1) / static_cast<double>(upright.bgr.total() * 3) < 6.0);
}

TEST_CASE("PNG eXIf and WebP EXIF orientations are applied too") {
  const cv::Mat upright = upright_pattern();
  kiln::test::ScratchDir dir;
  for (const int o : {3, 6, 8}) {
    CAPTURE(o);
    const auto exif = kiln::test::exif_orientation_tiff(o, o != 6);
    const auto png = kiln::test::png_with_chunk(encode(stored_for(upright, o), ".png"), "eXIf", exif);
    const LoadedImage p = decode_image(png, "x.png");
    CHECK(p.format == ImageFormat::Png);
    CHECK(p.orientation == o);
    CHECK(same(p.bgr, upright));

    // WebP: the extended layout (VP8X with the EXIF flag, the lossless bitstream, EXIF chunk).
    const auto simple = encode(stored_for(upright, o), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
    std::vector<std::uint8_t> body{'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0, 0x08, 0, 0, 0};
    const int w = o >= 5 ? upright.rows : upright.cols, h = o >= 5 ? upright.cols : upright.rows;
    for (const int v : {w - 1, h - 1}) {
      body.push_back(static_cast<std::uint8_t>(v & 0xff));
      body.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
      body.push_back(static_cast<std::uint8_t>((v >> 16) & 0xff));
    }
    for (std::size_t i = 12; i < simple.size(); ++i) body.push_back(std::to_integer<std::uint8_t>(simple[i]));
    if (body.size() % 2) body.push_back(0);
    body.insert(body.end(), {'E', 'X', 'I', 'F', static_cast<std::uint8_t>(exif.size()), 0, 0, 0});
    body.insert(body.end(), exif.begin(), exif.end());
    std::vector<std::uint8_t> riff{'R', 'I', 'F', 'F'};
    const auto n = static_cast<std::uint32_t>(body.size());
    for (int s = 0; s < 32; s += 8) riff.push_back(static_cast<std::uint8_t>(n >> s));
    riff.insert(riff.end(), body.begin(), body.end());
    const LoadedImage wp = decode_image(std::as_bytes(std::span(riff)), "x.webp");
    CHECK(wp.format == ImageFormat::WebP);
    CHECK(wp.orientation == o);
    CHECK(same(wp.bgr, upright));
  }
}

TEST_CASE("alpha is composited onto the background colour; the result is 8-bit BGR") {
  cv::Mat rgba(2, 2, CV_8UC4);
  rgba.at<cv::Vec4b>(0, 0) = {10, 20, 30, 255};   // opaque
  rgba.at<cv::Vec4b>(0, 1) = {10, 20, 30, 0};     // transparent
  rgba.at<cv::Vec4b>(1, 0) = {200, 100, 0, 128};  // half
  rgba.at<cv::Vec4b>(1, 1) = {0, 0, 0, 0};
  kiln::dataset::LoadOptions options;
  options.background_rgb = {255, 0, 64};  // RGB: BGR (64, 0, 255)
  const LoadedImage img = decode_image(encode(rgba, ".png"), "a.png", options);
  CHECK(img.had_alpha);
  REQUIRE(img.bgr.type() == CV_8UC3);
  CHECK(img.bgr.at<cv::Vec3b>(0, 0) == cv::Vec3b(10, 20, 30));
  CHECK(img.bgr.at<cv::Vec3b>(0, 1) == cv::Vec3b(64, 0, 255));
  CHECK(img.bgr.at<cv::Vec3b>(1, 0) ==
        cv::Vec3b((200 * 128 + 64 * 127 + 127) / 255, (100 * 128 + 127) / 255, (255 * 127 + 127) / 255));
  // The face photo with a transparent background becomes a 3-channel image.
  const LoadedImage cutout = load_image(faces_dir() / "alpha_cutout.png");
  CHECK(cutout.had_alpha);
  CHECK(cutout.source_channels == 4);
  CHECK(cutout.bgr.type() == CV_8UC3);
  // Gray + alpha (2 channels, as TIFF may give) goes the same way.
  cv::Mat ga(1, 2, CV_8UC2);
  ga.at<cv::Vec2b>(0, 0) = {100, 255};
  ga.at<cv::Vec2b>(0, 1) = {100, 0};
  const cv::Mat out = kiln::dataset::to_bgr8(ga, {255, 255, 255});
  CHECK(out.at<cv::Vec3b>(0, 0) == cv::Vec3b(100, 100, 100));
  CHECK(out.at<cv::Vec3b>(0, 1) == cv::Vec3b(255, 255, 255));
}

TEST_CASE("grayscale, 16-bit, palette, BMP and TIFF inputs become 8-bit BGR") {
  cv::Mat gray(3, 3, CV_8UC1, cv::Scalar(77));
  const LoadedImage g = decode_image(encode(gray, ".png"), "g.png");
  CHECK(g.source_channels == 1);
  CHECK(g.bgr.type() == CV_8UC3);
  CHECK(g.bgr.at<cv::Vec3b>(1, 1) == cv::Vec3b(77, 77, 77));
  CHECK(load_image(faces_dir() / "grayscale_portrait.jpg").bgr.type() == CV_8UC3);

  cv::Mat deep(2, 2, CV_16UC3, cv::Scalar(65535, 257 * 100, 0));
  const LoadedImage d16 = decode_image(encode(deep, ".png"), "d.png");
  CHECK(d16.source_bit_depth == 16);
  CHECK(d16.bgr.type() == CV_8UC3);
  CHECK(d16.bgr.at<cv::Vec3b>(0, 0) == cv::Vec3b(255, 100, 0));
  const LoadedImage t16 = decode_image(encode(deep, ".tiff"), "d.tiff");
  CHECK(t16.format == ImageFormat::Tiff);
  CHECK(t16.bgr.at<cv::Vec3b>(1, 1) == cv::Vec3b(255, 100, 0));

  // An 8-bit palette PNG (OpenCV cannot write one): index 0 red, 1 blue, with tRNS making 1
  // half transparent over white.
  std::vector<std::byte> png = kiln::test::to_bytes({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
  kiln::test::append_png_chunk(png, "IHDR", {0, 0, 0, 2, 0, 0, 0, 1, 8, 3, 0, 0, 0});
  kiln::test::append_png_chunk(png, "PLTE", {255, 0, 0, 0, 0, 255});
  kiln::test::append_png_chunk(png, "tRNS", {255, 128});
  kiln::test::append_png_chunk(png, "IDAT", kiln::test::zlib_stored({0, 0, 1}));
  kiln::test::append_png_chunk(png, "IEND", {});
  const LoadedImage pal = decode_image(png, "p.png");
  CHECK(pal.displayed == ImageSize{2, 1});
  CHECK(pal.bgr.at<cv::Vec3b>(0, 0) == cv::Vec3b(0, 0, 255));
  CHECK(pal.bgr.at<cv::Vec3b>(0, 1) == cv::Vec3b(255, 127, 127));

  cv::Mat colour(5, 7, CV_8UC3, cv::Scalar(1, 2, 3));
  const LoadedImage bmp = decode_image(encode(colour, ".bmp"), "c.bmp");
  CHECK(bmp.format == ImageFormat::Bmp);
  CHECK(same(bmp.bgr, colour));
}

TEST_CASE("JPEGs decode scaled down in the DCT while the short side stays large enough") {
  cv::Mat big(1200, 1600, CV_8UC3, cv::Scalar(90, 120, 150));
  const auto jpg = encode(big, ".jpg");
  kiln::dataset::LoadOptions options;
  options.reduce_to_short_side = 512;
  const LoadedImage r2 = decode_image(jpg, "b.jpg", options);
  CHECK(r2.reduction == 2);
  CHECK(r2.displayed == ImageSize{1600, 1200});
  CHECK(r2.bgr.cols == 800);
  options.reduce_to_short_side = 256;
  CHECK(decode_image(jpg, "b.jpg", options).reduction == 4);
  options.reduce_keep_long_side = 1280;
  CHECK(decode_image(jpg, "b.jpg", options).reduction == 1);
  options = {};
  CHECK(decode_image(jpg, "b.jpg", options).reduction == 1);
}

TEST_CASE("broken files: exact reasons, named by file") {
  const fs::path corrupt = faces_dir() / "corrupt";
  CHECK(error_message([&] { load_image(corrupt / "empty.jpg"); }) == "empty file");
  CHECK(error_message([&] { load_image(corrupt / "not_an_image.png"); }) ==
        "not a supported image (JPEG, PNG, WebP, BMP or TIFF)");
  CHECK(error_message([&] { load_image(corrupt / "truncated.jpg"); }) ==
        "truncated JPEG: the data ends before the end-of-image marker");
  try {
    load_image(corrupt / "truncated.jpg");
    FAIL("no error");
  } catch (const kiln::FormatError& e) {
    CHECK(e.path() == corrupt / "truncated.jpg");
    CHECK(std::string(e.what()).find("truncated.jpg: truncated JPEG") != std::string::npos);
  }
  const LoadedImage pixel = load_image(corrupt / "one_pixel.png");  // valid: the pipeline rejects it as too small
  CHECK(pixel.displayed == ImageSize{1, 1});
  CHECK_THROWS_AS(load_image(corrupt / "no_such_file.jpg"), kiln::FileError);

  // Every cut of a JPEG and a PNG is caught before decoding, however short.
  const auto whole_jpg = kiln::test::read_bytes(faces_dir() / "hopper_portrait.jpg");
  for (const std::size_t n : {std::size_t{3}, std::size_t{200}, whole_jpg.size() / 2, whole_jpg.size() - 2}) {
    const std::vector<std::byte> cut(whole_jpg.begin(), whole_jpg.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(error_message([&] { decode_image(cut, "cut.jpg"); }) ==
          "truncated JPEG: the data ends before the end-of-image marker");
  }
  const auto whole_png = encode(upright_pattern(), ".png");
  const std::vector<std::byte> cut_png(whole_png.begin(), whole_png.end() - 5);
  CHECK(error_message([&] { decode_image(cut_png, "cut.png"); }) ==
        "truncated PNG: the data ends before the IEND chunk");
  // A header announcing 40000x40000 is refused before any decoding.
  std::vector<std::byte> huge = kiln::test::to_bytes({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
  kiln::test::append_png_chunk(huge, "IHDR", {0, 0, 0x9c, 0x40, 0, 0, 0x9c, 0x40, 8, 2, 0, 0, 0});
  kiln::test::append_png_chunk(huge, "IEND", {});
  CHECK(error_message([&] { decode_image(huge, "huge.png"); }) ==
        "image too large: 40000x40000 (the limit is 150 megapixels)");
}
