#pragma once
// What an image file is, told from its bytes before decoding: the format (from the content,
// never the extension), the stored size, the EXIF orientation, and whether the file is whole.
// A decoder fills a truncated JPEG with grey and only warns; walking the container to its end
// marker catches that before a half-grey picture reaches training.

#include <cstddef>
#include <filesystem>
#include <span>

#include "dataset/geometry.h"

namespace kiln::dataset {

enum class ImageFormat { Unknown, Jpeg, Png, WebP, Bmp, Tiff };

const char* to_string(ImageFormat format);

// From the magic bytes; Unknown for anything else.
ImageFormat sniff_format(std::span<const std::byte> bytes);

struct ImageProbe {
  ImageFormat format = ImageFormat::Unknown;
  ImageSize stored;     // as stored in the file, before orientation; {0, 0} when the header hides it
  int orientation = 1;  // EXIF orientation, 1..8
};

// Throws FormatError naming `path`: "empty file", "not a supported image (...)",
// "truncated JPEG: ...", "truncated PNG: ...", "truncated WebP: ...", or a broken structure.
ImageProbe probe_image(std::span<const std::byte> bytes, const std::filesystem::path& path);

}  // namespace kiln::dataset
