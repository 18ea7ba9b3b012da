#pragma once
// The crop sidecar: `<output stem>.crop.json` beside each prepared image, recording where the
// output came from (original, orientation, crop box, faces) so that the app can show the box,
// let a person move it, and regenerate the output from the untouched original.
//
// {"kiln_crop": 1, "source": "../photos/a.jpg", "source_size": [W, H], "orientation": 6,
//  "output": "a.png", "resolution": 512, "crop": [x, y, s, s], "faces": [[x, y, w, h], ...],
//  "focal": [x, y] | null, "subject": "largest face", "adjusted": false, "status": "ok",
//  "warnings": [], "dhash": "0f1e...", "background": "#ffffff"}
// Boxes are in the original's displayed pixels (EXIF applied). `source` is relative to the
// sidecar's folder when it can be, so a dataset folder can move together with its originals.

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dataset/geometry.h"

namespace kiln::dataset {

struct CropSidecar {
  std::filesystem::path source;  // absolute once read
  std::filesystem::path output;  // file name, beside the sidecar
  ImageSize source_size;         // displayed, full size
  int orientation = 1;
  int resolution = 512;  // the output is resolution x resolution
  Box crop;
  std::vector<Box> faces;
  std::optional<Point> focal;
  std::string subject;        // see CropSubject's to_string, or "manual"
  bool adjusted = false;      // a person moved the box
  std::string status = "ok";  // "ok" or "warning"
  std::vector<std::string> warnings;
  std::string dhash;                                          // 16 hex digits; empty when unknown
  std::array<std::uint8_t, 3> background_rgb{255, 255, 255};  // under transparent pixels
};

// `a.png` -> `a.crop.json`.
std::filesystem::path sidecar_path_for(const std::filesystem::path& output);

// `sidecar_dir` makes `source` relative where possible.
nlohmann::json to_json(const CropSidecar& sidecar, const std::filesystem::path& sidecar_dir);
// Throws FormatError naming `path` for missing or mistyped fields.
CropSidecar sidecar_from_json(const nlohmann::json& json, const std::filesystem::path& path);

CropSidecar read_sidecar(const std::filesystem::path& path);
void write_sidecar(const std::filesystem::path& path, const CropSidecar& sidecar);  // atomic

}  // namespace kiln::dataset
