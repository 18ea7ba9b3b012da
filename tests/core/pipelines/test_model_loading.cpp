// Whole models from diffusers folders and single files (the golden tiny SD 1.x pipeline and its
// fp16 single-file conversion made by diffusers' own script), ControlNets, dtypes and errors.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include "base/error.h"
#include "convert/unet_keys.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "pipelines/model_loading.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::convert::ModelFamily;
using kiln::pipelines::ModelLoadOptions;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";
const fs::path kTinyFolder = kGolden / "pipeline/tiny_sd1";
const fs::path kTinyFile = kGolden / "pipeline/tiny_sd1.safetensors";

// Largest |a - b| over every parameter of two modules with the same names.
double max_param_diff(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pb = b.named_parameters();
  double worst = 0.0;
  std::size_t count = 0;
  for (const auto& p : a.named_parameters()) {
    const torch::Tensor* other = pb.find(p.key());
    REQUIRE_MESSAGE(other != nullptr, p.key());
    worst = std::max(worst, (p.value().to(torch::kDouble) - other->to(torch::kDouble)).abs().max().item<double>());
    ++count;
  }
  CHECK(count == pb.size());
  return worst;
}

ModelLoadOptions tiny_file_options() {
  ModelLoadOptions o;
  o.config_dir = kTinyFolder;
  return o;
}

}  // namespace

TEST_CASE("the tiny SD 1.x folder loads with every component") {
  const auto model = kiln::pipelines::load_stable_diffusion(kTinyFolder);
  CHECK(model.family == ModelFamily::SD1);
  CHECK(model.layout == kiln::convert::KeyLayout::Diffusers);
  CHECK(model.prediction_type == kiln::convert::PredictionType::Epsilon);
  CHECK(model.scheduler_config.at("_class_name") == "PNDMScheduler");
  CHECK(model.scheduler_config.at("prediction_type") == "epsilon");
  CHECK(model.tokenizer);
  CHECK(model.text_encoder);
  CHECK_FALSE(model.is_sdxl());
  CHECK_FALSE(model.is_inpainting());
  CHECK(model.unet->config().cross_attention_dim == 32);
  CHECK(model.vae->config().scaling_factor == doctest::Approx(0.18215));
  CHECK_FALSE(model.unet->is_training());
}

TEST_CASE("a scheduler config that Python wrote with -Infinity loads (DPM-Solver's lambda_min_clipped)") {
  kiln::test::ScratchDir dir;
  fs::copy(kTinyFolder, dir / "model", fs::copy_options::recursive);
  kiln::test::write_text(dir / "model/scheduler/scheduler_config.json",
                         R"({"_class_name": "DPMSolverMultistepScheduler", "beta_start": 0.00085, "beta_end": 0.012,
                             "beta_schedule": "scaled_linear", "lambda_min_clipped": -Infinity,
                             "prediction_type": "epsilon", "num_train_timesteps": 1000})");
  const auto model = kiln::pipelines::load_stable_diffusion(dir / "model");
  CHECK(model.scheduler_config.at("lambda_min_clipped").is_null());
  CHECK(model.scheduler_config.at("_class_name") == "DPMSolverMultistepScheduler");
}

TEST_CASE("the fp16 single file loads exactly the folder's weights (original names translated)") {
  auto folder = kiln::pipelines::load_stable_diffusion(kTinyFolder);
  auto file = kiln::pipelines::load_stable_diffusion(kTinyFile, tiny_file_options());
  CHECK(file.family == ModelFamily::SD1);
  CHECK(file.layout == kiln::convert::KeyLayout::SingleFile);
  CHECK(file.scheduler_config.at("_class_name") == "PNDMScheduler");
  CHECK(max_param_diff(*file.unet, *folder.unet) == 0.0);
  CHECK(max_param_diff(*file.vae, *folder.vae) == 0.0);
  CHECK(max_param_diff(*file.text_encoder, *folder.text_encoder) == 0.0);
  CHECK((file.unet->conv_in->weight.scalar_type() == torch::kFloat));
}

TEST_CASE("modules load into the requested dtype") {
  ModelLoadOptions bf16 = tiny_file_options();
  bf16.dtype = torch::kBFloat16;
  auto folder = kiln::pipelines::load_stable_diffusion(kTinyFolder);
  const auto model = kiln::pipelines::load_stable_diffusion(kTinyFile, bf16);
  CHECK((model.unet->conv_in->weight.scalar_type() == torch::kBFloat16));
  CHECK((model.vae->dtype() == torch::kBFloat16));
  // Every tiny weight is fp16-representable; bf16 keeps 8 bits of mantissa: relative 2^-9.
  const torch::Tensor a = model.unet->conv_in->weight.to(torch::kFloat);
  const torch::Tensor b = folder.unet->conv_in->weight;
  CHECK(((a - b).abs() <= b.abs() * (1.0 / 256) + 1e-30).all().item<bool>());
  CHECK((a == b.to(torch::kBFloat16).to(torch::kFloat)).all().item<bool>());
}

TEST_CASE("impossible device and dtype requests are refused before loading") {
  ModelLoadOptions fp16;
  fp16.dtype = torch::kHalf;
  CHECK_THROWS_WITH_AS(kiln::pipelines::load_stable_diffusion(kTinyFolder, fp16),
                       "fp16 needs a CUDA device: LibTorch's CPU kernels have no fp16 convolutions (use fp32 or bf16 on the "
                       "CPU)",
                       kiln::InvalidRequestError);
  if (!torch::cuda::is_available()) {
    ModelLoadOptions cuda;
    cuda.device = torch::Device(torch::kCUDA);
    CHECK_THROWS_WITH_AS(kiln::pipelines::load_stable_diffusion(kTinyFolder, cuda),
                         "device cuda was requested but no CUDA device is available (use --device cpu, or check the "
                         "NVIDIA driver)",
                         kiln::InvalidRequestError);
  }
}

TEST_CASE("loading errors name the file and the problem") {
  kiln::test::ScratchDir dir;
  SUBCASE("missing path") {
    CHECK_THROWS_AS(kiln::pipelines::load_stable_diffusion(dir / "nope.safetensors"), kiln::FileError);
  }
  SUBCASE("a single file without a vocabulary") {
    CHECK_THROWS_WITH_AS(kiln::pipelines::load_stable_diffusion(kTinyFile, {}),
                         doctest::Contains("no CLIP vocabulary to tokenize prompts for a single-file model"),
                         kiln::InvalidRequestError);
  }
  SUBCASE("weights that do not fit the configs: one report of every mismatch, naming the file") {
    ModelLoadOptions o = tiny_file_options();
    o.tokenizer_dir = kTinyFolder / "tokenizer";
    o.config_dir.clear();  // SD 1.5 reference configs: 768-wide text encoder vs the tiny 32
    try {
      kiln::pipelines::load_stable_diffusion(kTinyFile, o);
      FAIL("expected a WeightMismatchError");
    } catch (const kiln::WeightMismatchError& e) {
      CHECK(e.path() == kTinyFile);
      CHECK(std::string(e.what()).find("mis-shaped") != std::string::npos);
    }
  }
  SUBCASE("a truncated file") {
    const fs::path cut = dir / "cut.safetensors";
    fs::copy_file(kTinyFile, cut);
    fs::resize_file(cut, fs::file_size(cut) / 2);
    try {
      kiln::pipelines::load_stable_diffusion(cut, tiny_file_options());
      FAIL("expected an error");
    } catch (const kiln::Error& e) {
      CHECK(e.path() == cut);
    }
  }
  SUBCASE("a VAE is not a generation model") {
    CHECK_THROWS_WITH_AS(kiln::pipelines::load_stable_diffusion(kTinyFolder / "vae/diffusion_pytorch_model.safetensors"),
                         doctest::Contains("is a VAE model, not a model that generates images"),
                         kiln::InvalidRequestError);
  }
}

TEST_CASE("ControlNets load from a folder and from an original single file") {
  const fs::path folder = kGolden / "controlnet/model";
  auto from_folder = kiln::pipelines::load_controlnet_model(folder);
  CHECK(from_folder.family == ModelFamily::ControlNetSD1);
  CHECK(kiln::pipelines::controlnet_fits(from_folder.family, ModelFamily::SD1));
  CHECK_FALSE(kiln::pipelines::controlnet_fits(from_folder.family, ModelFamily::SDXL));

  // The original layout, written with the key table (control_model.*), then loaded back.
  kiln::test::ScratchDir dir;
  const auto diffusers = kiln::io::DiffusersFolder::open(folder);
  const auto& c = diffusers.components().front();
  const auto map = kiln::convert::controlnet_key_map_from_diffusers(c.index);
  const auto original = kiln::convert::to_original_tensors(
      map, [&](const std::string& name) { return diffusers.tensor(c.name, name); });
  const fs::path single = dir / "control_tiny.safetensors";
  kiln::io::write_safetensors(single, original);
  ModelLoadOptions o;
  o.config_dir = folder;
  auto from_file = kiln::pipelines::load_controlnet_model(single, o);
  CHECK(max_param_diff(*from_file.model, *from_folder.model) == 0.0);
  CHECK_THROWS_WITH_AS(kiln::pipelines::load_controlnet_model(kTinyFile),
                       doctest::Contains("is not a ControlNet"), kiln::InvalidRequestError);
}
