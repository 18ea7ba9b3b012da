#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "convert/model_info.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::convert::inspect_model;

namespace {
kiln::convert::InspectOptions without_hash() {
  kiln::convert::InspectOptions options;
  options.hash = false;
  return options;
}
}  // namespace

TEST_CASE("inspecting the tiny pipeline as a folder and as a single file") {
  const fs::path folder = kiln::test::data_dir() / "golden/pipeline/tiny_sd1";
  const auto a = inspect_model(folder, without_hash());
  CHECK(a.is_folder);
  CHECK(a.format == "diffusers");
  CHECK(a.detection.family == kiln::convert::ModelFamily::SD1);
  CHECK_FALSE(a.sha256.has_value());
  CHECK(a.hashed_file.filename() == "diffusion_pytorch_model.safetensors");
  CHECK(a.hashed_file.parent_path().filename() == "unet");

  const auto b = inspect_model(kiln::test::data_dir() / "golden/pipeline/tiny_sd1.safetensors");
  CHECK_FALSE(b.is_folder);
  CHECK(b.format == "safetensors");
  CHECK(b.short_hash() == "fbecea6473");
  // The single file holds the same weights (fp16) as the folder, component by component.
  REQUIRE(a.components.size() == 3);
  for (const auto& c : a.components) {
    CAPTURE(c.name);
    const auto it = std::find_if(b.components.begin(), b.components.end(), [&](const auto& x) { return x.name == c.name; });
    REQUIRE(it != b.components.end());
    CHECK(it->parameters == c.parameters);
    CHECK(it->dtypes.count("F16") == 1);
  }
  CHECK(a.parameters() == b.parameters());

  const auto j = kiln::convert::to_json(b);
  CHECK(j.at("family") == "sd1");
  CHECK(j.at("layout") == "single_file");
  CHECK(j.at("prediction_type") == "unknown");
  CHECK(j.at("sha256") == "fbecea6473ec34a8b6e412122fe6cad99de33b69b8e8e0bf0e1cdb9c06f39852");
  CHECK(j.at("components").size() == 3);
}

TEST_CASE("keys outside the components of a full checkpoint are listed as other") {
  kiln::test::ScratchDir dir;
  auto index = kiln::test::read_key_list(kiln::test::data_dir() / "golden/keys/sd15/original_single_file.txt", kiln::DType::F16);
  kiln::io::TensorEntry betas;
  betas.name = "betas";
  betas.shape = {1000};
  index.add(betas);
  kiln::io::TensorEntry ema;
  ema.name = "model_ema.decay";
  ema.shape = {};
  index.add(ema);
  kiln::test::write_sparse_safetensors(dir / "sd15.safetensors", index);
  const auto info = inspect_model(dir / "sd15.safetensors", without_hash());
  std::map<std::string, std::int64_t> params;
  for (const auto& c : info.components) params[c.name] = c.parameters;
  CHECK(params.at("unet") == 859520964);  // ../shared/golden/keys/sd15/meta.json
  CHECK(params.at("vae") == 83653863);
  CHECK(params.at("text_encoder") == 123060480);
  CHECK(params.at("other") == 1000);
  CHECK(params.at("ema") == 1);
}

TEST_CASE("inspect errors name the path") {
  kiln::test::ScratchDir dir;
  CHECK_THROWS_AS(inspect_model(dir / "missing.safetensors"), kiln::FileError);
  kiln::test::write_text(dir / "x.safetensors", "garbage!");
  try {
    inspect_model(dir / "x.safetensors");
    FAIL("no error");
  } catch (const kiln::Error& e) {
    CHECK(e.path() == dir / "x.safetensors");
  }
}
