#include "control/control_image.h"

#include <zlib.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "base/error.h"
#include "control/mat_convert.h"
#include "io/atomic_file.h"

namespace kiln::control {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxFileBytes = 512ull << 20;
// Decoded size limit: 16k x 16k RGBA is 1 GiB, far beyond any control image.
constexpr std::int64_t kMaxPixels = 16384ll * 16384ll;

const char* channel_name(int channels) {
  switch (channels) {
    case 1:
      return "grey";
    case 3:
      return "RGB";
    case 4:
      return "RGBA";
    default:
      return "?";
  }
}

enum class Codec { Png, Jpeg, Unknown };

Codec codec_of(std::span<const std::byte> bytes) {
  static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png, 8) == 0) return Codec::Png;
  if (bytes.size() >= 3 && bytes[0] == std::byte{0xFF} && bytes[1] == std::byte{0xD8} && bytes[2] == std::byte{0xFF})
    return Codec::Jpeg;
  return Codec::Unknown;
}

// libjpeg decodes a truncated JPEG with a warning and grey rows instead of failing, so the
// container is walked first: marker segments, entropy-coded data after each SOS, up to EOI.
std::uint32_t big_endian_u32(std::span<const std::byte> bytes, std::size_t at) {
  return (std::to_integer<std::uint32_t>(bytes[at]) << 24) | (std::to_integer<std::uint32_t>(bytes[at + 1]) << 16) |
         (std::to_integer<std::uint32_t>(bytes[at + 2]) << 8) | std::to_integer<std::uint32_t>(bytes[at + 3]);
}

// CRC-32 of PNG chunks (ISO 3309): zlib's.
std::uint32_t png_crc(std::span<const std::byte> bytes) {
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Every chunk lies within the file, the critical ones (IHDR, PLTE, IDAT, IEND: upper-case first
// letter) with a matching CRC, up to IEND. Checked before libpng sees the file: on a truncated or
// damaged one libpng prints its own "libpng error: ..." line to stderr before OpenCV gives up,
// and a command-line tool owes the user one line.
bool png_chunks_intact(std::span<const std::byte> bytes) {
  std::size_t at = 8;  // after the signature
  while (at + 12 <= bytes.size()) {
    const std::size_t length = big_endian_u32(bytes, at);
    if (length > bytes.size() - at - 12) return false;
    const auto type = bytes.subspan(at + 4, 4);
    const bool critical = (std::to_integer<unsigned>(type[0]) & 0x20) == 0;
    if (critical && png_crc(bytes.subspan(at + 4, length + 4)) != big_endian_u32(bytes, at + 8 + length)) return false;
    if (std::memcmp(type.data(), "IEND", 4) == 0) return true;
    at += 12 + length;
  }
  return false;
}

bool jpeg_reaches_end_marker(std::span<const std::byte> bytes) {
  const auto at = [&](std::size_t i) { return std::to_integer<unsigned>(bytes[i]); };
  const std::size_t n = bytes.size();
  std::size_t pos = 2;  // after SOI
  while (pos + 1 < n) {
    if (at(pos) != 0xFF) return false;
    const unsigned marker = at(pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD9) return true;                             // EOI
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      pos += 2;
      continue;
    }
    if (pos + 3 >= n) return false;
    const std::size_t length = (at(pos + 2) << 8) | at(pos + 3);
    if (length < 2 || pos + 2 + length > n) return false;
    pos += 2 + length;
    if (marker == 0xDA) {  // SOS: skip entropy-coded data up to the next real marker
      while (pos + 1 < n) {
        const unsigned next = at(pos + 1);
        if (at(pos) == 0xFF && next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
        ++pos;
      }
    }
  }
  return false;
}

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw FileError("no such file", path);
  if (!fs::is_regular_file(status)) throw FileError("not a regular file", path);
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw FileError("cannot read the file size: " + ec.message(), path);
  if (size > kMaxFileBytes) {
    throw FormatError("file too large for a control image: " + std::to_string(size >> 20) + " MiB (the limit is " +
                          std::to_string(kMaxFileBytes >> 20) + " MiB)",
                      path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open for reading: " + system_error_text(errno), path);
  std::vector<std::byte> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) throw FileError("cannot read the whole file", path);
  return bytes;
}

}  // namespace

ControlImage::ControlImage(int w, int h, int c)
    : width(w), height(h), channels(c), pixels(static_cast<std::size_t>(w) * h * c, 0) {}

std::string ControlImage::describe() const {
  return std::to_string(width) + "x" + std::to_string(height) + " " + channel_name(channels);
}

void check_control_image(const ControlImage& image, const std::string& what) {
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    throw InvalidRequestError(what + ": expected 1, 3 or 4 channels (grey, RGB, RGBA), got " +
                              std::to_string(image.channels));
  }
  if (image.width <= 0 || image.height <= 0) {
    throw InvalidRequestError(what + ": the image is empty (" + std::to_string(image.width) + "x" +
                              std::to_string(image.height) + ")");
  }
  if (image.pixels.size() != image.byte_size()) {
    throw InvalidRequestError(what + ": " + image.describe() + " needs " + std::to_string(image.byte_size()) +
                              " bytes of pixels, got " + std::to_string(image.pixels.size()));
  }
}

ControlImage decode_control_image(std::span<const std::byte> bytes, const fs::path& name) {
  const Codec codec = codec_of(bytes);
  if (codec == Codec::Unknown) {
    throw FormatError("not a PNG or JPEG image", name, "control images are read from PNG or JPEG files");
  }
  const char* codec_name = codec == Codec::Png ? "PNG" : "JPEG";
  if (codec == Codec::Png && !png_chunks_intact(bytes)) throw FormatError("corrupt or truncated PNG image", name);
  if (codec == Codec::Jpeg && !jpeg_reaches_end_marker(bytes)) {
    throw FormatError("corrupt or truncated JPEG image (no end marker)", name);
  }
  cv::Mat decoded;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::byte*>(bytes.data()));
    // IMREAD_UNCHANGED: no EXIF rotation, no conversion to BGR of grey or alpha images.
    decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw FormatError(std::string("corrupt ") + codec_name + " image: " + e.msg, name);
  }
  if (decoded.empty()) throw FormatError(std::string("corrupt or truncated ") + codec_name + " image", name);
  if (static_cast<std::int64_t>(decoded.rows) * decoded.cols > kMaxPixels) {
    throw FormatError(
        "image too large for a control image: " + std::to_string(decoded.cols) + "x" + std::to_string(decoded.rows),
        name);
  }
  if (decoded.depth() == CV_16U) {
    cv::Mat eight;
    decoded.convertTo(eight, CV_8U, 1.0 / 257.0);
    decoded = eight;
  } else if (decoded.depth() != CV_8U) {
    throw FormatError(std::string("unsupported ") + codec_name + " sample type (OpenCV depth " +
                          std::to_string(decoded.depth()) + ")",
                      name);
  }
  cv::Mat rgb;
  switch (decoded.channels()) {
    case 1:
      rgb = decoded;
      break;
    case 3:
      cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(decoded, rgb, cv::COLOR_BGRA2RGBA);
      break;
    default:
      throw FormatError(
          std::string("unsupported ") + codec_name + " channel count " + std::to_string(decoded.channels()), name);
  }
  return from_mat(rgb);
}

ControlImage load_control_image(const fs::path& path) {
  const std::vector<std::byte> bytes = read_bytes(path);
  return decode_control_image(bytes, path);
}

std::vector<std::byte> encode_control_png(const ControlImage& image) {
  check_control_image(image, "PNG output");
  const cv::Mat rgb = to_mat(image);
  cv::Mat bgr;
  if (image.channels == 3) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  } else if (image.channels == 4) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
  } else {
    bgr = rgb;
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) throw InvalidRequestError("PNG encoding failed for " + image.describe());
  std::vector<std::byte> out(png.size());
  std::memcpy(out.data(), png.data(), png.size());
  return out;
}

void save_control_png(const fs::path& path, const ControlImage& image) {
  const std::vector<std::byte> png = encode_control_png(image);
  io::AtomicFileWriter writer(path);
  writer.write(png);
  writer.commit();
}

}  // namespace kiln::control
