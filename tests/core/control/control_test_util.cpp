#include "control_test_util.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <stdexcept>

#include "io/sha256.h"
#include "support/test_support.h"

namespace kiln::control::test {

namespace fs = std::filesystem;

fs::path golden_dir() { return kiln::test::data_dir() / "golden" / "control_maps"; }

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

std::string sha256_hex(const ControlImage& image) {
  io::Sha256 h;
  h.update(std::as_bytes(std::span(image.pixels)));
  return h.finish_hex();
}

std::string sha256_hex(const std::vector<float>& values) {
  static_assert(std::endian::native == std::endian::little);
  io::Sha256 h;
  h.update(std::as_bytes(std::span(values)));
  return h.finish_hex();
}

std::vector<int> shape_of(const ControlImage& image) {
  if (image.channels == 1) return {image.height, image.width};
  return {image.height, image.width, image.channels};
}

ControlImage golden_input(const std::string& name) {
  static const nlohmann::json inputs = read_json(golden_dir() / "inputs" / "inputs.json");
  for (const auto& entry : inputs["inputs"]) {
    if (entry["name"] != name) continue;
    ControlImage image = load_control_image(golden_dir() / entry["file"].get<std::string>());
    if (sha256_hex(image) != entry["sha256_raw"].get<std::string>()) {
      throw std::runtime_error("golden input " + name + " does not decode to the stored array");
    }
    return image;
  }
  throw std::runtime_error("no golden input " + name);
}

MapCheck check_map(const ControlImage& got, const nlohmann::json& expected, const std::string& input_name,
                   const ControlImage* reference) {
  MapCheck out;
  const std::vector<int> want_shape = expected["shape"].get<std::vector<int>>();
  const std::vector<int> got_shape = shape_of(got);
  if (want_shape != got_shape) {
    out.detail = "shape " + nlohmann::json(got_shape).dump() + ", expected " + nlohmann::json(want_shape).dump();
    return out;
  }
  if (sha256_hex(got) == expected["sha256_raw"].get<std::string>()) {
    out.equal = true;
    return out;
  }
  // Decode the reference only to describe the difference.
  ControlImage want;
  if (expected.contains("file") && expected["file"].is_string()) {
    want = load_control_image(golden_dir() / expected["file"].get<std::string>());
  } else if (expected.contains("same_as") && expected["same_as"].is_string()) {
    want = load_control_image(golden_dir() / expected["same_as"].get<std::string>());
  } else if (expected.value("same_as_input", false) && !input_name.empty()) {
    want = golden_input(input_name);
  } else if (reference) {
    want = *reference;
  } else {
    out.detail = "sha256 differs (the reference array is stored as a hash only)";
    return out;
  }
  if (want.pixels.size() != got.pixels.size() || want.channels != got.channels) {
    out.detail = "sha256 differs and the reference file is " + want.describe();
    return out;
  }
  std::size_t differing = 0;
  int max_diff = 0;
  const std::size_t pixels = static_cast<std::size_t>(got.width) * got.height;
  for (std::size_t i = 0; i < pixels; ++i) {
    bool differs = false;
    for (int c = 0; c < got.channels; ++c) {
      const int d = std::abs(int{got.pixels[i * got.channels + c]} - int{want.pixels[i * got.channels + c]});
      max_diff = std::max(max_diff, d);
      differs = differs || d != 0;
    }
    differing += differs;
  }
  out.detail = std::to_string(differing) + " of " + std::to_string(pixels) + " pixels differ (max |diff| " +
               std::to_string(max_diff) + ")";
  return out;
}

std::vector<float> read_safetensors_f32(const fs::path& path, const std::string& name, std::vector<int>* shape) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::uint64_t header_size = 0;
  in.read(reinterpret_cast<char*>(&header_size), 8);
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  const nlohmann::json meta = nlohmann::json::parse(header);
  const auto& t = meta.at(name);
  if (t.at("dtype") != "F32") throw std::runtime_error(name + " is not F32");
  const auto offsets = t.at("data_offsets").get<std::vector<std::uint64_t>>();
  if (shape) *shape = t.at("shape").get<std::vector<int>>();
  std::vector<float> values((offsets[1] - offsets[0]) / sizeof(float));
  in.seekg(static_cast<std::streamoff>(8 + header_size + offsets[0]));
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(offsets[1] - offsets[0]));
  if (!in) throw std::runtime_error("truncated " + path.string());
  return values;
}

}  // namespace kiln::control::test
