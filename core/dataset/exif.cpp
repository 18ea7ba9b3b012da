#include "dataset/exif.h"

#include <cstdint>
#include <cstring>

namespace kiln::dataset {

namespace {

class TiffReader {
 public:
  TiffReader(std::span<const std::byte> data, bool little) : data_(data), little_(little) {}
  bool has(std::size_t offset, std::size_t n) const { return offset <= data_.size() && n <= data_.size() - offset; }
  std::uint16_t u16(std::size_t at) const {
    const auto a = std::to_integer<std::uint16_t>(data_[at]);
    const auto b = std::to_integer<std::uint16_t>(data_[at + 1]);
    return little_ ? static_cast<std::uint16_t>(a | (b << 8)) : static_cast<std::uint16_t>((a << 8) | b);
  }
  std::uint32_t u32(std::size_t at) const {
    const std::uint32_t hi = u16(at);
    const std::uint32_t lo = u16(at + 2);
    return little_ ? (lo << 16) | hi : (hi << 16) | lo;
  }

 private:
  std::span<const std::byte> data_;
  bool little_;
};

}  // namespace

std::optional<std::uint32_t> read_tiff_tag(std::span<const std::byte> tiff, std::uint16_t tag) {
  // Some writers keep the "Exif\0\0" prefix of the JPEG segment in PNG/WebP chunks too.
  if (tiff.size() >= 6 && std::memcmp(tiff.data(), "Exif\0\0", 6) == 0) tiff = tiff.subspan(6);
  if (tiff.size() < 8) return std::nullopt;
  bool little = false;
  if (std::memcmp(tiff.data(), "II", 2) == 0)
    little = true;
  else if (std::memcmp(tiff.data(), "MM", 2) != 0)
    return std::nullopt;
  const TiffReader r(tiff, little);
  if (r.u16(2) != 42) return std::nullopt;
  const std::size_t ifd = r.u32(4);
  if (!r.has(ifd, 2)) return std::nullopt;
  const std::size_t count = r.u16(ifd);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t entry = ifd + 2 + i * 12;
    if (!r.has(entry, 12)) return std::nullopt;
    if (r.u16(entry) != tag) continue;
    // A single SHORT or LONG sits in the entry's value field.
    const std::uint16_t type = r.u16(entry + 2);
    if (type == 3) return r.u16(entry + 8);
    if (type == 4) return r.u32(entry + 8);
    return std::nullopt;
  }
  return std::nullopt;
}

int read_exif_orientation(std::span<const std::byte> tiff) {
  const auto value = read_tiff_tag(tiff, 0x0112);
  return value && *value >= 1 && *value <= 8 ? static_cast<int>(*value) : 1;
}

bool orientation_swaps_axes(int orientation) { return orientation >= 5 && orientation <= 8; }

ImageSize displayed_size(ImageSize stored, int orientation) {
  return orientation_swaps_axes(orientation) ? ImageSize{stored.height, stored.width} : stored;
}

}  // namespace kiln::dataset
