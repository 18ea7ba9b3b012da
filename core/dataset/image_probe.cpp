#include "dataset/image_probe.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "base/error.h"
#include "dataset/exif.h"

namespace kiln::dataset {

namespace {

using Bytes = std::span<const std::byte>;

std::uint8_t u8(Bytes b, std::size_t at) { return std::to_integer<std::uint8_t>(b[at]); }
std::uint32_t be16(Bytes b, std::size_t at) { return (std::uint32_t{u8(b, at)} << 8) | u8(b, at + 1); }
std::uint32_t be32(Bytes b, std::size_t at) { return (be16(b, at) << 16) | be16(b, at + 2); }
std::uint32_t le16(Bytes b, std::size_t at) { return u8(b, at) | (std::uint32_t{u8(b, at + 1)} << 8); }
std::uint32_t le24(Bytes b, std::size_t at) { return le16(b, at) | (std::uint32_t{u8(b, at + 2)} << 16); }
std::uint32_t le32(Bytes b, std::size_t at) { return le16(b, at) | (le16(b, at + 2) << 16); }
bool starts_with(Bytes b, std::size_t at, const char* text, std::size_t n) {
  return at <= b.size() && n <= b.size() - at && std::memcmp(b.data() + at, text, n) == 0;
}

int to_int(std::uint32_t v) { return v > 1'000'000 ? 0 : static_cast<int>(v); }

// Segments up to EOI; each scan's entropy-coded data runs to the next marker that is not a
// stuffed 0xFF00 or a restart marker. Stray bytes between segments are skipped as libjpeg does.
ImageProbe probe_jpeg(Bytes b, const std::filesystem::path& path) {
  ImageProbe probe{ImageFormat::Jpeg, {}, 1};
  const auto truncated = [&]() {
    return FormatError("truncated JPEG: the data ends before the end-of-image marker", path,
                       "the file was cut short (an interrupted download or copy); use a complete copy");
  };
  bool have_exif = false;
  bool have_scan = false;
  std::size_t p = 2;
  const std::size_t n = b.size();
  for (;;) {
    while (p < n && u8(b, p) != 0xFF) ++p;
    while (p < n && u8(b, p) == 0xFF) ++p;
    if (p >= n) throw truncated();
    const std::uint8_t marker = u8(b, p++);
    if (marker == 0xD9) break;
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (p + 2 > n) throw truncated();
    const std::size_t length = be16(b, p);
    if (length < 2) throw FormatError("corrupt JPEG: a segment declares a length of " + std::to_string(length), path);
    if (p + length > n) throw truncated();
    const Bytes segment = b.subspan(p + 2, length - 2);
    if (marker == 0xE1 && !have_exif && starts_with(segment, 0, "Exif\0\0", 6)) {
      probe.orientation = read_exif_orientation(segment.subspan(6));
      have_exif = true;
    }
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && segment.size() >= 5) probe.stored = {to_int(be16(segment, 3)), to_int(be16(segment, 1))};
    p += length;
    if (marker != 0xDA) continue;
    have_scan = true;
    for (;;) {
      const void* ff = std::memchr(b.data() + p, 0xFF, n - p);
      if (ff == nullptr) throw truncated();
      p = static_cast<std::size_t>(static_cast<const std::byte*>(ff) - b.data());
      if (p + 1 >= n) throw truncated();
      const std::uint8_t next = u8(b, p + 1);
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        p += 2;
        continue;
      }
      if (next == 0xFF) {
        ++p;
        continue;
      }
      break;  // p is at the 0xFF of the next marker
    }
  }
  if (!have_scan) throw FormatError("corrupt JPEG: no image data (no start-of-scan segment)", path);
  return probe;
}

ImageProbe probe_png(Bytes b, const std::filesystem::path& path) {
  ImageProbe probe{ImageFormat::Png, {}, 1};
  std::size_t p = 8;
  const std::size_t n = b.size();
  for (;;) {
    if (p + 8 > n) {
      throw FormatError("truncated PNG: the data ends before the IEND chunk", path,
                        "the file was cut short; use a complete copy");
    }
    const std::size_t length = be32(b, p);
    if (length > 0x7fffffffu)
      throw FormatError("corrupt PNG: a chunk declares " + std::to_string(length) + " bytes", path);
    if (length + 12 > n - p) {
      throw FormatError("truncated PNG: the data ends before the IEND chunk", path,
                        "the file was cut short; use a complete copy");
    }
    const Bytes data = b.subspan(p + 8, length);
    if (starts_with(b, p + 4, "IHDR", 4) && length >= 8) probe.stored = {to_int(be32(data, 0)), to_int(be32(data, 4))};
    if (starts_with(b, p + 4, "eXIf", 4)) probe.orientation = read_exif_orientation(data);
    if (starts_with(b, p + 4, "IEND", 4)) break;
    p += length + 12;
  }
  return probe;
}

ImageProbe probe_webp(Bytes b, const std::filesystem::path& path) {
  ImageProbe probe{ImageFormat::WebP, {}, 1};
  const std::size_t declared = std::size_t{le32(b, 4)} + 8;
  if (declared > b.size()) {
    throw FormatError("truncated WebP: the file has " + std::to_string(b.size()) + " of the " +
                          std::to_string(declared) + " bytes its RIFF header declares",
                      path, "the file was cut short; use a complete copy");
  }
  std::size_t p = 12;
  while (p + 8 <= declared) {
    const std::size_t length = le32(b, p + 4);
    if (length > declared - p - 8) throw FormatError("corrupt WebP: a chunk runs past the end of the file", path);
    const Bytes data = b.subspan(p + 8, length);
    if (starts_with(b, p, "VP8X", 4) && length >= 10) {
      probe.stored = {to_int(le24(data, 4) + 1), to_int(le24(data, 7) + 1)};
    } else if (starts_with(b, p, "VP8 ", 4) && length >= 10 && probe.stored.width == 0) {
      probe.stored = {to_int(le16(data, 6) & 0x3fff), to_int(le16(data, 8) & 0x3fff)};
    } else if (starts_with(b, p, "VP8L", 4) && length >= 5 && probe.stored.width == 0) {
      const std::uint32_t bits = le32(data, 1);
      probe.stored = {to_int((bits & 0x3fff) + 1), to_int(((bits >> 14) & 0x3fff) + 1)};
    } else if (starts_with(b, p, "EXIF", 4)) {
      probe.orientation = read_exif_orientation(data);
    }
    p += 8 + length + (length & 1);
  }
  return probe;
}

ImageProbe probe_tiff(Bytes b) {
  ImageProbe probe{ImageFormat::Tiff, {}, read_exif_orientation(b)};
  const auto w = read_tiff_tag(b, 256);
  const auto h = read_tiff_tag(b, 257);
  if (w && h) probe.stored = {to_int(*w), to_int(*h)};
  return probe;
}

ImageProbe probe_bmp(Bytes b) {
  ImageProbe probe{ImageFormat::Bmp, {}, 1};
  if (b.size() >= 26) {
    // BITMAPINFOHEADER: signed width and height (negative height = top-down rows).
    const auto w = static_cast<std::int32_t>(le32(b, 18));
    const auto h = static_cast<std::int32_t>(le32(b, 22));
    if (w > 0 && h != 0 && h != INT32_MIN)
      probe.stored = {to_int(static_cast<std::uint32_t>(w)), to_int(static_cast<std::uint32_t>(h < 0 ? -h : h))};
  }
  return probe;
}

}  // namespace

const char* to_string(ImageFormat format) {
  switch (format) {
    case ImageFormat::Unknown:
      return "unknown";
    case ImageFormat::Jpeg:
      return "JPEG";
    case ImageFormat::Png:
      return "PNG";
    case ImageFormat::WebP:
      return "WebP";
    case ImageFormat::Bmp:
      return "BMP";
    case ImageFormat::Tiff:
      return "TIFF";
  }
  return "?";
}

ImageFormat sniff_format(Bytes b) {
  if (starts_with(b, 0, "\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (starts_with(b, 0, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::Png;
  if (starts_with(b, 0, "RIFF", 4) && starts_with(b, 8, "WEBP", 4)) return ImageFormat::WebP;
  if (starts_with(b, 0, "BM", 2) && b.size() >= 26) return ImageFormat::Bmp;
  if (starts_with(b, 0, "II*\0", 4) || starts_with(b, 0, "MM\0*", 4)) return ImageFormat::Tiff;
  return ImageFormat::Unknown;
}

ImageProbe probe_image(Bytes bytes, const std::filesystem::path& path) {
  if (bytes.empty()) throw FormatError("empty file", path);
  switch (sniff_format(bytes)) {
    case ImageFormat::Jpeg:
      return probe_jpeg(bytes, path);
    case ImageFormat::Png:
      return probe_png(bytes, path);
    case ImageFormat::WebP:
      return probe_webp(bytes, path);
    case ImageFormat::Bmp:
      return probe_bmp(bytes);
    case ImageFormat::Tiff:
      return probe_tiff(bytes);
    case ImageFormat::Unknown:
      break;
  }
  throw FormatError("not a supported image (JPEG, PNG, WebP, BMP or TIFF)", path);
}

}  // namespace kiln::dataset
