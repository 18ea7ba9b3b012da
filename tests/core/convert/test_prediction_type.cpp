#include <doctest/doctest.h>

#include "convert/prediction_type.h"
#include "support/test_support.h"

using kiln::convert::detect_prediction_type;
using kiln::convert::PredictionType;
namespace fs = std::filesystem;

TEST_CASE("prediction type of a diffusers folder comes from its scheduler config") {
  kiln::test::ScratchDir dir;
  fs::create_directories(dir / "m/scheduler");
  CHECK(detect_prediction_type(dir / "m").type == PredictionType::Unknown);  // no scheduler at all
  kiln::test::write_text(dir / "m/scheduler/scheduler_config.json", R"({"prediction_type": "v_prediction"})");
  auto found = detect_prediction_type(dir / "m");
  CHECK(found.type == PredictionType::VPrediction);
  CHECK(found.source.find("scheduler_config.json") != std::string::npos);
  // The SD 1.5 hub file has no prediction_type key: diffusers' default is epsilon.
  CHECK(detect_prediction_type(kiln::test::data_dir() / "golden/pipeline/tiny_sd1").type == PredictionType::Epsilon);
}

TEST_CASE("prediction type of a single file: metadata, then a .yaml beside it") {
  kiln::test::ScratchDir dir;
  const fs::path file = dir / "model.safetensors";
  kiln::test::write_text(file, "");
  CHECK(detect_prediction_type(file).type == PredictionType::Unknown);
  CHECK(detect_prediction_type(file, {{"modelspec.prediction_type", "v"}}).type == PredictionType::VPrediction);
  CHECK(detect_prediction_type(file, {{"prediction_type", "epsilon"}}).type == PredictionType::Epsilon);
  CHECK(detect_prediction_type(file, {{"ss_v_parameterization", "True"}}).type == PredictionType::VPrediction);
  CHECK(detect_prediction_type(file, {{"ss_v_parameterization", "False"}}).type == PredictionType::Unknown);

  // A1111's convention: model.yaml with the LDM config.
  kiln::test::write_text(dir / "model.yaml",
                         "model:\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n  params:\n    parameterization: \"v\"  # 768-v\n");
  auto found = detect_prediction_type(file);
  CHECK(found.type == PredictionType::VPrediction);
  CHECK(found.source == "model.yaml (parameterization: v)");
  kiln::test::write_text(dir / "model.yaml", "model:\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n  params:\n    linear_start: 0.00085\n");
  CHECK(detect_prediction_type(file).type == PredictionType::Epsilon);
  // Metadata wins over the yaml.
  CHECK(detect_prediction_type(file, {{"prediction_type", "v_prediction"}}).type == PredictionType::VPrediction);
  kiln::test::write_text(dir / "model.yaml", "unrelated: true\n");
  CHECK(detect_prediction_type(file).type == PredictionType::Unknown);
}
