#pragma once
// The image type of the control layer: plain 8-bit pixels as the reference preprocessors see
// them (numpy arrays from PIL: H x W x C, RGB order, no premultiplied alpha, no colour
// management). Qt-free and OpenCV-free, so the app and kiln-cli use it without OpenCV headers.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace kiln::control {

struct ControlImage {
  int width = 0;
  int height = 0;
  int channels = 0;                  // 1 (grey), 3 (RGB) or 4 (RGBA)
  std::vector<std::uint8_t> pixels;  // rows packed: stride = channels * width

  ControlImage() = default;
  // Zero-filled.
  ControlImage(int width, int height, int channels);

  bool empty() const { return pixels.empty(); }
  std::size_t byte_size() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(channels);
  }
  std::uint8_t* pixel(int x, int y) { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * channels; }
  const std::uint8_t* pixel(int x, int y) const {
    return pixels.data() + (static_cast<std::size_t>(y) * width + x) * channels;
  }
  // "768x512 RGB" (width x height), for messages.
  std::string describe() const;
};

// Throws InvalidRequestError (naming `what`) unless the image is non-empty, 1/3/4 channels and
// its pixel buffer has exactly width * height * channels bytes.
void check_control_image(const ControlImage& image, const std::string& what);

// PNG or JPEG (told by content) as stored: grey stays 1 channel, RGB 3, anything with alpha
// (grey + alpha, palette with transparency) 4; 16-bit samples are scaled to 8 bits (x/257,
// rounded). No EXIF rotation, no gamma or ICC handling (PIL's np.array(Image.open()) does none).
// Throws FileError for a missing/unreadable file and FormatError for another format or a
// corrupt/truncated image; both name the file.
ControlImage load_control_image(const std::filesystem::path& path);
// The same from bytes in memory; `name` is used in error messages.
ControlImage decode_control_image(std::span<const std::byte> bytes, const std::filesystem::path& name = {});

// Lossless 8-bit PNG (L, RGB or RGBA) without gamma/ICC chunks.
std::vector<std::byte> encode_control_png(const ControlImage& image);
// Written to a temporary file beside `path` and renamed over it (never a half file).
// Throws FileError.
void save_control_png(const std::filesystem::path& path, const ControlImage& image);

}  // namespace kiln::control
