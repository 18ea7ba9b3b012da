#include "dataset_test_util.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/test_support.h"

namespace kiln::test {

namespace fs = std::filesystem;
using dataset::Box;
using nlohmann::json;

fs::path faces_dir() { return data_dir() / "faces"; }

const json& faces_manifest() {
  static const json manifest = [] {
    std::ifstream in(faces_dir() / "manifest.json");
    if (!in) throw std::runtime_error("cannot read tests/data/faces/manifest.json");
    return json::parse(in);
  }();
  return manifest;
}

const json& manifest_entry(const std::string& file) {
  for (const json& e : faces_manifest()["images"]) {
    if (e["file"] == file) return e;
  }
  throw std::runtime_error("no manifest entry " + file);
}

std::string check_manifest_crop(const json& e, const Box& crop, double tol) {
  const int W = e["width"], H = e["height"];
  const int x = crop.x, y = crop.y, S = crop.w;
  std::ostringstream why;
  why << e["file"].get<std::string>() << ": crop [" << x << ", " << y << ", " << S << ", " << crop.h << "]";
  if (crop.w != crop.h || x < 0 || y < 0 || x + S > W || y + S > H)
    return why.str() + " is not a square inside the image";
  if (e["faces"].empty()) return "";
  std::int64_t amax = 0;
  for (const json& f : e["faces"])
    amax = std::max<std::int64_t>(amax, f[2].get<std::int64_t>() * f[3].get<std::int64_t>());
  for (const json& f : e["faces"]) {
    const double fx = f[0], fy = f[1], fw = f[2], fh = f[3];
    if (fw * fh < 0.9 * static_cast<double>(amax)) continue;
    const double cx = fx + fw / 2, cy = fy + fh / 2, m = std::max(fw, fh);
    bool ok = false;
    if (m <= S) {
      const double t = tol * m;
      ok = x <= fx + t && y <= fy + t && fx + fw - t <= x + S && fy + fh - t <= y + S;
      ok = ok && (x == 0 || x + S == W || (1.0 / 3 <= (cx - x) / S && (cx - x) / S <= 2.0 / 3));
      ok = ok && (y == 0 || y + S == H || (1.0 / 3 <= (cy - y) / S && (cy - y) / S <= 2.0 / 3));
    } else {
      const double bx = std::min(std::max(cx - S / 2.0, 0.0), static_cast<double>(W - S));
      const double by = std::min(std::max(cy - S / 2.0, 0.0), static_cast<double>(H - S));
      ok = S == std::min(W, H) && std::abs(x - bx) <= 0.1 * S && std::abs(y - by) <= 0.1 * S;
    }
    if (ok) return "";
    why << " fails for face [" << fx << ", " << fy << ", " << fw << ", " << fh << "]";
  }
  return why.str();
}

bool detection_matches(const Box& truth, const Box& detected) {
  const double cx = detected.centre_x(), cy = detected.centre_y();
  const bool centre_inside = cx >= truth.x && cx <= truth.right() && cy >= truth.y && cy <= truth.bottom();
  return centre_inside || dataset::iou(truth, detected) >= 0.4;
}

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::transform(chars.begin(), chars.end(), bytes.begin(), [](char c) { return static_cast<std::byte>(c); });
  return bytes;
}

void write_bytes(const fs::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<std::byte> to_bytes(const std::vector<unsigned char>& v) {
  std::vector<std::byte> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](unsigned char c) { return static_cast<std::byte>(c); });
  return out;
}

std::uint32_t crc32(const std::uint8_t* data, std::size_t n, std::uint32_t crc) {
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

namespace {
void put_be32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
}
}  // namespace

void append_png_chunk(std::vector<std::byte>& png, const char type[4], const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> chunk;
  put_be32(chunk, static_cast<std::uint32_t>(data.size()));
  chunk.insert(chunk.end(), type, type + 4);
  chunk.insert(chunk.end(), data.begin(), data.end());
  put_be32(chunk, crc32(chunk.data() + 4, chunk.size() - 4));
  for (auto b : chunk) png.push_back(static_cast<std::byte>(b));
}

std::vector<std::uint8_t> zlib_stored(const std::vector<std::uint8_t>& raw) {
  std::vector<std::uint8_t> z{0x78, 0x01};
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<std::uint8_t>(n & 0xff));
    z.push_back(static_cast<std::uint8_t>(n >> 8));
    z.push_back(static_cast<std::uint8_t>(~n & 0xff));
    z.push_back(static_cast<std::uint8_t>((~n >> 8) & 0xff));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos),
             raw.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < raw.size());
  std::uint32_t a = 1, b = 0;
  for (auto c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(z, (b << 16) | a);
  return z;
}

std::vector<std::uint8_t> exif_orientation_tiff(int orientation, bool little) {
  const auto u16 = [&](std::vector<std::uint8_t>& v, std::uint16_t x) {
    if (little) {
      v.push_back(static_cast<std::uint8_t>(x & 0xff));
      v.push_back(static_cast<std::uint8_t>(x >> 8));
    } else {
      v.push_back(static_cast<std::uint8_t>(x >> 8));
      v.push_back(static_cast<std::uint8_t>(x & 0xff));
    }
  };
  const auto u32 = [&](std::vector<std::uint8_t>& v, std::uint32_t x) {
    if (little) {
      u16(v, static_cast<std::uint16_t>(x & 0xffff));
      u16(v, static_cast<std::uint16_t>(x >> 16));
    } else {
      u16(v, static_cast<std::uint16_t>(x >> 16));
      u16(v, static_cast<std::uint16_t>(x & 0xffff));
    }
  };
  std::vector<std::uint8_t> t;
  t.push_back(little ? 'I' : 'M');
  t.push_back(little ? 'I' : 'M');
  u16(t, 42);
  u32(t, 8);  // IFD0 right after the header
  u16(t, 1);  // one entry
  u16(t, 0x0112);
  u16(t, 3);  // SHORT
  u32(t, 1);
  u16(t, static_cast<std::uint16_t>(orientation));
  u16(t, 0);
  u32(t, 0);  // no next IFD
  return t;
}

std::vector<std::byte> png_with_chunk(const std::vector<std::byte>& png, const char type[4],
                                      const std::vector<std::uint8_t>& data) {
  // Signature (8) + IHDR chunk (4 + 4 + 13 + 4).
  std::vector<std::byte> out(png.begin(), png.begin() + 33);
  append_png_chunk(out, type, data);
  out.insert(out.end(), png.begin() + 33, png.end());
  return out;
}

}  // namespace kiln::test
