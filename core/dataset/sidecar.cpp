#include "dataset/sidecar.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>

#include "base/error.h"
#include "io/atomic_file.h"

namespace kiln::dataset {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kVersion = 1;

json box_json(const Box& b) { return json::array({b.x, b.y, b.w, b.h}); }

Box box_from(const json& j, const char* field, const fs::path& path) {
  if (!j.is_array() || j.size() != 4 ||
      !std::all_of(j.begin(), j.end(), [](const json& v) { return v.is_number_integer(); })) {
    throw FormatError(std::string("crop sidecar: \"") + field + "\" must be [x, y, w, h] integers", path);
  }
  return {j[0].get<int>(), j[1].get<int>(), j[2].get<int>(), j[3].get<int>()};
}

const json& field(const json& j, const char* name, const fs::path& path) {
  const auto it = j.find(name);
  if (it == j.end()) throw FormatError(std::string("crop sidecar: missing \"") + name + "\"", path);
  return *it;
}

template <class T>
T typed(const json& j, const char* name, const fs::path& path) {
  try {
    return field(j, name, path).get<T>();
  } catch (const json::exception&) {
    throw FormatError(std::string("crop sidecar: \"") + name + "\" has the wrong type", path);
  }
}

std::string colour_text(const std::array<std::uint8_t, 3>& rgb) {
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return text;
}

std::array<std::uint8_t, 3> colour_from(const std::string& text, const fs::path& path) {
  unsigned r = 0, g = 0, b = 0;
  if (text.size() != 7 || std::sscanf(text.c_str(), "#%02x%02x%02x", &r, &g, &b) != 3) {
    throw FormatError("crop sidecar: \"background\" must be a colour like \"#ffffff\", got \"" + text + "\"", path);
  }
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b)};
}

}  // namespace

fs::path sidecar_path_for(const fs::path& output) {
  fs::path p = output;
  p.replace_extension(".crop.json");
  return p;
}

json to_json(const CropSidecar& s, const fs::path& sidecar_dir) {
  fs::path source = s.source;
  if (!sidecar_dir.empty() && source.is_absolute()) {
    std::error_code ec;
    const fs::path rel = fs::proximate(source, fs::absolute(sidecar_dir, ec), ec);
    if (!ec && !rel.empty()) source = rel;
  }
  json faces = json::array();
  for (const Box& f : s.faces) faces.push_back(box_json(f));
  return json{{"kiln_crop", kVersion},
              {"source", source.generic_string()},
              {"source_size", json::array({s.source_size.width, s.source_size.height})},
              {"orientation", s.orientation},
              {"output", s.output.generic_string()},
              {"resolution", s.resolution},
              {"crop", box_json(s.crop)},
              {"faces", faces},
              {"focal", s.focal ? json::array({s.focal->x, s.focal->y}) : json(nullptr)},
              {"subject", s.subject},
              {"adjusted", s.adjusted},
              {"status", s.status},
              {"warnings", s.warnings},
              {"dhash", s.dhash},
              {"background", colour_text(s.background_rgb)}};
}

CropSidecar sidecar_from_json(const json& j, const fs::path& path) {
  if (!j.is_object()) throw FormatError("crop sidecar: not a JSON object", path);
  const int version = typed<int>(j, "kiln_crop", path);
  if (version != kVersion) {
    throw FormatError("crop sidecar version " + std::to_string(version) + " (this Kiln reads version 1)", path);
  }
  CropSidecar s;
  s.source = fs::path(typed<std::string>(j, "source", path));
  if (s.source.is_relative()) s.source = (path.parent_path() / s.source).lexically_normal();
  const auto size = typed<std::vector<int>>(j, "source_size", path);
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) {
    throw FormatError("crop sidecar: \"source_size\" must be [width, height] > 0", path);
  }
  s.source_size = {size[0], size[1]};
  s.orientation = typed<int>(j, "orientation", path);
  s.output = fs::path(typed<std::string>(j, "output", path));
  s.resolution = typed<int>(j, "resolution", path);
  s.crop = box_from(field(j, "crop", path), "crop", path);
  const json& faces = field(j, "faces", path);
  if (!faces.is_array()) throw FormatError("crop sidecar: \"faces\" must be an array", path);
  for (const json& f : faces) s.faces.push_back(box_from(f, "faces", path));
  if (const auto it = j.find("focal"); it != j.end() && !it->is_null()) {
    const auto focal = typed<std::vector<double>>(j, "focal", path);
    if (focal.size() != 2) throw FormatError("crop sidecar: \"focal\" must be [x, y] or null", path);
    s.focal = Point{focal[0], focal[1]};
  }
  s.subject = j.value("subject", std::string());
  s.adjusted = j.value("adjusted", false);
  s.status = j.value("status", std::string("ok"));
  if (const auto it = j.find("warnings"); it != j.end())
    s.warnings = typed<std::vector<std::string>>(j, "warnings", path);
  s.dhash = j.value("dhash", std::string());
  if (const auto it = j.find("background"); it != j.end()) {
    s.background_rgb = colour_from(typed<std::string>(j, "background", path), path);
  }
  return s;
}

CropSidecar read_sidecar(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open the crop sidecar: " + system_error_text(errno), path);
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw FormatError(std::string("crop sidecar is not valid JSON: ") + e.what(), path);
  }
  return sidecar_from_json(j, path);
}

void write_sidecar(const fs::path& path, const CropSidecar& sidecar) {
  io::write_file_atomically(path, to_json(sidecar, path.parent_path()).dump(1) + "\n");
}

}  // namespace kiln::dataset
