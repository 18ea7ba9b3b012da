#pragma once
// Helpers for the dataset tests: the face photos and their manifest, the manifest's crop
// acceptance rule, and hand-made PNG files (palette, eXIf, truncation) OpenCV cannot write.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dataset/geometry.h"

namespace kiln::test {

std::filesystem::path faces_dir();  // tests/data/faces
const nlohmann::json& faces_manifest();
const nlohmann::json& manifest_entry(const std::string& file);

// tests/data/faces/README.md's rule: "" when `crop` passes for `entry`, else why not.
std::string check_manifest_crop(const nlohmann::json& entry, const dataset::Box& crop, double tolerance = 0.05);

// A manifest face counts as found when a detection has IoU >= 0.4 with it or its centre inside.
bool detection_matches(const dataset::Box& truth, const dataset::Box& detected);

std::vector<std::byte> read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::vector<std::byte>& bytes);
std::vector<std::byte> to_bytes(const std::vector<unsigned char>& v);

// PNG assembly: a chunk with its CRC; a zlib stream of stored (uncompressed) deflate blocks.
std::uint32_t crc32(const std::uint8_t* data, std::size_t n, std::uint32_t crc = 0);
void append_png_chunk(std::vector<std::byte>& png, const char type[4], const std::vector<std::uint8_t>& data);
std::vector<std::uint8_t> zlib_stored(const std::vector<std::uint8_t>& raw);
// A TIFF structure (as in EXIF) holding only the Orientation tag.
std::vector<std::uint8_t> exif_orientation_tiff(int orientation, bool little_endian = true);
// Inserts a chunk right after IHDR of an existing PNG.
std::vector<std::byte> png_with_chunk(const std::vector<std::byte>& png, const char type[4],
                                      const std::vector<std::uint8_t>& data);

}  // namespace kiln::test
