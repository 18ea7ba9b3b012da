#pragma once
// Decoding any supported image into upright 8-bit BGR (OpenCV's channel order), explicitly:
// the EXIF orientation is read by image_probe and applied here (OpenCV's own auto-rotation is
// switched off so that it never happens silently), alpha is composited onto a background
// colour, grayscale/palette/16-bit/float images become 8-bit, and a truncated file is an error.
// Internal to kiln_dataset and its tests: this header exposes OpenCV.

#include <opencv2/core/mat.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "dataset/geometry.h"
#include "dataset/image_probe.h"

namespace kiln::dataset {

struct LoadOptions {
  std::array<std::uint8_t, 3> background_rgb{255, 255, 255};  // under transparent pixels
  std::int64_t max_pixels = 150'000'000;                      // larger images are refused before decoding
  std::uintmax_t max_file_bytes = 512ull << 20;
  // JPEG only: decode at 1/2, 1/4 or 1/8 (libjpeg's DCT scaling, far cheaper than a full decode
  // and a resize) while the shorter side stays at or above this. 0 decodes at full size.
  int reduce_to_short_side = 0;
  // ... and the longer side at or above this (the face detector's working size).
  int reduce_keep_long_side = 0;
};

struct LoadedImage {
  cv::Mat bgr;  // CV_8UC3, upright
  ImageFormat format = ImageFormat::Unknown;
  int orientation = 1;  // the EXIF orientation that was applied
  ImageSize stored;     // full size as stored in the file
  ImageSize displayed;  // full size upright: what every box refers to
  int reduction = 1;    // bgr is displayed / reduction (1, 2, 4 or 8)
  int source_channels = 0;
  int source_bit_depth = 8;
  bool had_alpha = false;
};

// Throws FileError (cannot read) or FormatError (see probe_image; also "cannot decode",
// "image too large", unsupported pixel formats), naming the file.
LoadedImage load_image(const std::filesystem::path& path, const LoadOptions& options = {});
LoadedImage decode_image(std::span<const std::byte> bytes, const std::filesystem::path& path,
                         const LoadOptions& options = {});

std::vector<std::byte> read_file_bytes(const std::filesystem::path& path, std::uintmax_t max_bytes);

// Turns stored pixels upright for an EXIF orientation 1..8.
cv::Mat apply_orientation(const cv::Mat& stored, int orientation);

// Any depth/channel count OpenCV decodes -> CV_8UC3 BGR; alpha composited onto `background_rgb`.
// Throws FormatError for pixel formats it cannot map (signed integers, > 4 channels).
cv::Mat to_bgr8(const cv::Mat& decoded, const std::array<std::uint8_t, 3>& background_rgb,
                const std::filesystem::path& path = {});

}  // namespace kiln::dataset
