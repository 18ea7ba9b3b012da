#pragma once
// Pixels for the trainer, without exposing OpenCV: an image file as a square RGB array at the
// training resolution (diffusers' train_dreambooth transform: resize the shorter side to the
// resolution, centre crop), and sample images written back as PNG.

#include <cstdint>
#include <filesystem>
#include <vector>

namespace kiln::dataset {

struct RGBImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // row-major RGB, width * height * 3
};

// Upright (EXIF applied), alpha on white; shorter side resized to `resolution` (area when
// shrinking, Lanczos when enlarging), centre-cropped to resolution x resolution. Throws FileError /
// FormatError naming the file.
RGBImage load_training_image(const std::filesystem::path& path, int resolution);

// Writes `image` as a PNG, atomically. Throws FileError.
void write_png(const std::filesystem::path& path, const RGBImage& image);

}  // namespace kiln::dataset
