#pragma once
// An upright RGB copy of an original for the app to show (e.g. under the crop editor), decoded
// exactly as the preparation sees it (same EXIF orientation, same alpha background), so that
// crop boxes drawn on it line up. Qt-free and OpenCV-free for the app layer.

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "dataset/geometry.h"

namespace kiln::dataset {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // RGB888, rows packed (stride = 3 * width)
  ImageSize displayed;               // the original's full displayed size (boxes refer to it)
};

// `max_side` > 0 shrinks the copy so that its longer side is at most that (INTER_AREA).
// Throws FileError / FormatError like load_image.
RgbImage load_display_image(const std::filesystem::path& path, int max_side = 0,
                            const std::array<std::uint8_t, 3>& background_rgb = {255, 255, 255});

}  // namespace kiln::dataset
