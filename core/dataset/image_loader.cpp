#include "dataset/image_loader.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>

#include "base/error.h"
#include "dataset/exif.h"

namespace kiln::dataset {

namespace fs = std::filesystem;

namespace {

std::string size_text(ImageSize s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

// out = (c * a + bg * (255 - a)) / 255, rounded; `src` is BGRA or gray + alpha, 8-bit.
cv::Mat composite(const cv::Mat& src, const std::array<std::uint8_t, 3>& bg_rgb) {
  const int channels = src.channels();
  cv::Mat out(src.rows, src.cols, CV_8UC3);
  const int bg[3] = {bg_rgb[2], bg_rgb[1], bg_rgb[0]};  // BGR
  for (int y = 0; y < src.rows; ++y) {
    const std::uint8_t* in = src.ptr<std::uint8_t>(y);
    std::uint8_t* o = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < src.cols; ++x, in += channels, o += 3) {
      const int a = in[channels - 1];
      for (int c = 0; c < 3; ++c) {
        const int v = channels == 2 ? in[0] : in[c];
        o[c] = static_cast<std::uint8_t>((v * a + bg[c] * (255 - a) + 127) / 255);
      }
    }
  }
  return out;
}

int reduction_for(ImageSize stored, int min_short_side, int min_long_side) {
  const int short_side = stored.short_side();
  const int long_side = std::max(stored.width, stored.height);
  if (min_short_side <= 0 || short_side <= 0) return 1;
  for (int r : {8, 4, 2}) {
    if ((short_side + r - 1) / r >= min_short_side && (long_side + r - 1) / r >= min_long_side) return r;
  }
  return 1;
}

}  // namespace

std::vector<std::byte> read_file_bytes(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw FileError("no such file", path);
  if (!fs::is_regular_file(status)) throw FileError("not a regular file", path);
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw FileError("cannot read the file size: " + ec.message(), path);
  if (size > max_bytes) {
    throw FormatError("file too large: " + std::to_string(size >> 20) + " MiB (the limit is " +
                          std::to_string(max_bytes >> 20) + " MiB)",
                      path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open: " + system_error_text(errno), path);
  std::vector<std::byte> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) throw FileError("cannot read the whole file", path);
  return bytes;
}

cv::Mat apply_orientation(const cv::Mat& stored, int orientation) {
  // EXIF 2.32, tag 0x0112: where the stored row 0 / column 0 are shown.
  cv::Mat out;
  if (orientation == 2) {  // top / right: mirrored left-right
    cv::flip(stored, out, 1);
  } else if (orientation == 3) {  // bottom / right: upside down
    cv::rotate(stored, out, cv::ROTATE_180);
  } else if (orientation == 4) {  // bottom / left: mirrored top-bottom
    cv::flip(stored, out, 0);
  } else if (orientation == 5) {  // left / top: mirrored about the main diagonal
    cv::transpose(stored, out);
  } else if (orientation == 6) {  // right / top: turn 90 degrees clockwise
    cv::rotate(stored, out, cv::ROTATE_90_CLOCKWISE);
  } else if (orientation == 7) {  // right / bottom: mirrored about the other diagonal
    cv::transpose(stored, out);
    cv::rotate(out, out, cv::ROTATE_180);
  } else if (orientation == 8) {  // left / bottom: turn 90 degrees counter-clockwise
    cv::rotate(stored, out, cv::ROTATE_90_COUNTERCLOCKWISE);
  } else {
    out = stored;
  }
  return out;
}

cv::Mat to_bgr8(const cv::Mat& decoded, const std::array<std::uint8_t, 3>& background_rgb, const fs::path& path) {
  cv::Mat m;
  switch (decoded.depth()) {
    case CV_8U:
      m = decoded;
      break;
    case CV_16U:
      decoded.convertTo(m, CV_8U, 1.0 / 257.0);
      break;  // 65535 -> 255 exactly
    case CV_32F:
    case CV_64F:
      decoded.convertTo(m, CV_8U, 255.0);
      break;  // float images are 0..1
    default:
      throw FormatError("unsupported pixel format (signed integer samples)", path);
  }
  switch (m.channels()) {
    case 1: {
      cv::Mat out;
      cv::cvtColor(m, out, cv::COLOR_GRAY2BGR);
      return out;
    }
    case 2:
    case 4:
      return composite(m, background_rgb);
    case 3:
      return m;
    default:
      throw FormatError("unsupported pixel format (" + std::to_string(m.channels()) + " channels)", path);
  }
}

LoadedImage decode_image(std::span<const std::byte> bytes, const fs::path& path, const LoadOptions& options) {
  const ImageProbe probe = probe_image(bytes, path);
  const std::int64_t header_pixels = static_cast<std::int64_t>(probe.stored.width) * probe.stored.height;
  if (header_pixels > options.max_pixels) {
    throw FormatError("image too large: " + size_text(probe.stored) + " (the limit is " +
                          std::to_string(options.max_pixels / 1'000'000) + " megapixels)",
                      path);
  }
  // cv::Mat over the caller's bytes: imdecode only reads them.
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::byte*>(bytes.data()));
  LoadedImage image;
  image.format = probe.format;
  image.orientation = probe.orientation;
  cv::Mat decoded;
  try {
    if (probe.format == ImageFormat::Jpeg) {
      // JPEG has no alpha and 8-bit samples: decode straight to BGR (gray and CMYK converted by
      // libjpeg), optionally scaled down in the DCT. IMREAD_IGNORE_ORIENTATION: we apply it.
      image.reduction = reduction_for(probe.stored, options.reduce_to_short_side, options.reduce_keep_long_side);
      int flags = cv::IMREAD_COLOR;
      if (image.reduction == 2) flags = cv::IMREAD_REDUCED_COLOR_2;
      if (image.reduction == 4) flags = cv::IMREAD_REDUCED_COLOR_4;
      if (image.reduction == 8) flags = cv::IMREAD_REDUCED_COLOR_8;
      decoded = cv::imdecode(buffer, flags | cv::IMREAD_IGNORE_ORIENTATION);
    } else {
      // IMREAD_UNCHANGED keeps alpha and 16-bit samples and never applies EXIF orientation.
      decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    }
  } catch (const cv::Exception& e) {
    throw FormatError(std::string("cannot decode the ") + to_string(probe.format) + " data: " + e.msg, path);
  }
  if (decoded.empty()) {
    throw FormatError(std::string("cannot decode the ") + to_string(probe.format) + " data", path,
                      "the file is damaged or uses a variant the decoder does not support");
  }
  image.source_channels = decoded.channels();
  image.source_bit_depth = static_cast<int>(8 * decoded.elemSize1());
  image.had_alpha = decoded.channels() == 2 || decoded.channels() == 4;
  image.stored =
      probe.stored.width > 0 ? probe.stored : ImageSize{decoded.cols * image.reduction, decoded.rows * image.reduction};
  if (probe.format != ImageFormat::Jpeg) image.stored = {decoded.cols, decoded.rows};
  image.displayed = displayed_size(image.stored, image.orientation);
  image.bgr = apply_orientation(to_bgr8(decoded, options.background_rgb, path), image.orientation);
  return image;
}

LoadedImage load_image(const fs::path& path, const LoadOptions& options) {
  const std::vector<std::byte> bytes = read_file_bytes(path, options.max_file_bytes);
  return decode_image(bytes, path, options);
}

}  // namespace kiln::dataset
