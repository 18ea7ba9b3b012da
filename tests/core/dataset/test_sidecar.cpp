// The crop sidecar: round trip, a source path relative to the sidecar, exact errors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "dataset/sidecar.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace kiln::dataset;

TEST_CASE("a sidecar round-trips, with its source relative to the sidecar's folder") {
  kiln::test::ScratchDir dir;
  fs::create_directories(dir / "photos");
  fs::create_directories(dir / "out");
  CropSidecar s;
  s.source = dir / "photos/a.jpg";
  s.output = "a.png";
  s.source_size = {600, 512};
  s.orientation = 6;
  s.resolution = 768;
  s.crop = {0, 44, 512, 512};
  s.faces = {{181, 153, 188, 178}, {10, 10, 40, 40}};
  s.focal = std::nullopt;
  s.subject = "largest face";
  s.status = "warning";
  s.warnings = {"near-duplicate of b.jpg"};
  s.dhash = "0123456789abcdef";
  s.background_rgb = {0, 128, 255};
  const fs::path path = sidecar_path_for(dir / "out/a.png");
  CHECK(path == dir / "out/a.crop.json");
  write_sidecar(path, s);
  const auto json = nlohmann::json::parse(kiln::test::read_text(path));
  CHECK(json["source"] == "../photos/a.jpg");
  CHECK(json["crop"] == nlohmann::json::array({0, 44, 512, 512}));
  CHECK(json["background"] == "#0080ff");
  CHECK(json["focal"].is_null());
  const CropSidecar back = read_sidecar(path);
  CHECK(back.source == (dir / "photos/a.jpg").lexically_normal());
  CHECK(back.output == "a.png");
  CHECK(back.source_size == s.source_size);
  CHECK(back.orientation == 6);
  CHECK(back.resolution == 768);
  CHECK(back.crop == s.crop);
  CHECK((back.faces == s.faces));
  CHECK(back.warnings == s.warnings);
  CHECK(back.background_rgb == s.background_rgb);
  CHECK_FALSE(back.adjusted);
  s.focal = Point{1.5, 2};
  write_sidecar(path, s);
  CHECK(read_sidecar(path).focal == Point{1.5, 2});
}

TEST_CASE("broken sidecars are reported with the field") {
  kiln::test::ScratchDir dir;
  const fs::path path = dir / "x.crop.json";
  const auto message = [&](const std::string& text) {
    kiln::test::write_text(path, text);
    try {
      read_sidecar(path);
    } catch (const kiln::FormatError& e) {
      return e.message();
    }
    return std::string("(no error)");
  };
  CHECK(message("{").rfind("crop sidecar is not valid JSON", 0) == 0);
  CHECK(message("[]") == "crop sidecar: not a JSON object");
  CHECK(message("{\"kiln_crop\": 2}") == "crop sidecar version 2 (this Kiln reads version 1)");
  CHECK(message("{\"kiln_crop\": 1}") == "crop sidecar: missing \"source\"");
  const std::string base =
      "{\"kiln_crop\": 1, \"source\": \"a.jpg\", \"source_size\": [10, 10], \"orientation\": 1, \"output\": \"a.png\", "
      "\"resolution\": 512, \"faces\": [], ";
  CHECK(message(base + "\"crop\": [0, 0, 10]}") == "crop sidecar: \"crop\" must be [x, y, w, h] integers");
  CHECK(message(base + "\"crop\": [0, 0, 10, 10], \"background\": \"white\"}") ==
        "crop sidecar: \"background\" must be a colour like \"#ffffff\", got \"white\"");
  CHECK(message(base + "\"crop\": [0, 0, 10, 10], \"resolution\": \"big\"}") ==  // the last duplicate wins
        "crop sidecar: \"resolution\" has the wrong type");
  CHECK(message(base + "\"crop\": [0, 0, 10, 10]}") == "(no error)");
  CHECK_THROWS_AS(read_sidecar(dir / "missing.crop.json"), kiln::FileError);
}
