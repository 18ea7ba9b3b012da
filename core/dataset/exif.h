#pragma once
// The EXIF Orientation tag (0x0112), read from a TIFF structure: the payload of a JPEG APP1
// "Exif" segment, a PNG eXIf chunk, a WebP EXIF chunk, or a TIFF file itself. Only IFD0 is
// read; every offset is bounds-checked, so a hostile file gives "no orientation", never a crash.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dataset/geometry.h"

namespace kiln::dataset {

// The value of a SHORT or LONG tag of IFD0 (e.g. 256/257: a TIFF file's width/height).
std::optional<std::uint32_t> read_tiff_tag(std::span<const std::byte> tiff, std::uint16_t tag);

// 1..8 as in the EXIF specification; 1 (upright) when absent, unreadable or out of range.
int read_exif_orientation(std::span<const std::byte> tiff);

// Orientations 5-8 swap width and height.
bool orientation_swaps_axes(int orientation);
ImageSize displayed_size(ImageSize stored, int orientation);

}  // namespace kiln::dataset
