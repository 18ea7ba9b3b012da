#pragma once
// Golden data of tests/data/golden/control_maps: case lists, input images, and comparison of
// uint8 maps by the sha256 of their raw bytes (H x W x C, RGB), with the number of differing
// pixels on a mismatch.

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "control/control_image.h"

namespace kiln::control::test {

std::filesystem::path golden_dir();
nlohmann::json read_json(const std::filesystem::path& path);
// inputs/<name>.png, checked against inputs.json's sha256.
ControlImage golden_input(const std::string& name);

std::string sha256_hex(const ControlImage& image);
std::string sha256_hex(const std::vector<float>& values);  // little-endian float32 bytes

// Outcome of comparing a map with a cases.json entry ({file|same_as|same_as_input, shape,
// sha256_raw}). `reference`, when given, is used to count differing pixels of hash-only entries.
struct MapCheck {
  bool equal = false;
  std::string detail;  // on a mismatch: shapes or "N of M pixels differ (max |diff| D)"
};
MapCheck check_map(const ControlImage& got, const nlohmann::json& expected, const std::string& input_name = {},
                   const ControlImage* reference = nullptr);

// "[H, W, C]" of an image as numpy gives it (2-D for grey images stored as mode L).
std::vector<int> shape_of(const ControlImage& image);

// A float32 tensor from a safetensors file (the golden inpaint hints).
std::vector<float> read_safetensors_f32(const std::filesystem::path& path, const std::string& name,
                                        std::vector<int>* shape = nullptr);

// The exception of type E that f throws (a test failure if it throws none or another type).
template <typename E, typename F>
E thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  FAIL("expected an exception");
  throw;  // not reached
}

}  // namespace kiln::control::test
