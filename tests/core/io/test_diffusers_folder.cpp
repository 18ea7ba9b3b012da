#include <doctest/doctest.h>

#include <torch/torch.h>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::io::DiffusersFolder;
using kiln::test::ScratchDir;

namespace {
const fs::path kTiny = kiln::test::data_dir() / "golden/pipeline/tiny_sd1";

void copy_tree(const fs::path& from, const fs::path& to) {
  fs::copy(from, to, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
}

std::string error_of(const fs::path& root) {
  try {
    DiffusersFolder::open(root);
  } catch (const kiln::Error& e) {
    return e.what();
  }
  FAIL("no error for " << root);
  return {};
}
}  // namespace

TEST_CASE("the tiny pipeline folder: components, configs, weights") {
  REQUIRE(DiffusersFolder::looks_like(kTiny));
  const auto folder = DiffusersFolder::open(kTiny);
  CHECK(folder.is_pipeline());
  std::vector<std::string> names;
  for (const auto& c : folder.components()) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"scheduler", "text_encoder", "tokenizer", "unet", "vae"});
  const auto* unet = folder.component("unet");
  REQUIRE(unet);
  CHECK(unet->class_name == "UNet2DConditionModel");
  CHECK(unet->config.at("cross_attention_dim") == 32);
  CHECK(unet->weight_files.size() == 1);
  CHECK(unet->index.contains("conv_in.weight"));
  const auto* scheduler = folder.component("scheduler");
  REQUIRE(scheduler);
  CHECK_FALSE(scheduler->has_weights());
  CHECK(scheduler->config.at("_class_name") == "PNDMScheduler");
  CHECK(folder.component("tokenizer")->config_file.filename() == "tokenizer_config.json");

  const auto all = folder.combined_index();
  CHECK(all.contains("unet.conv_in.weight"));
  CHECK(all.contains("vae.decoder.conv_out.weight"));
  CHECK(all.contains("text_encoder.text_model.final_layer_norm.weight"));
  CHECK(all.size() == folder.component("unet")->index.size() + folder.component("vae")->index.size() +
                          folder.component("text_encoder")->index.size());
  const at::Tensor w = folder.tensor("unet", "conv_in.weight");
  CHECK((w.sizes() == at::IntArrayRef({32, 4, 3, 3})));
  CHECK_THROWS_AS(folder.tensor("unet", "nope"), kiln::FormatError);
}

TEST_CASE("a single-component folder is read as that component") {
  const auto folder = DiffusersFolder::open(kTiny / "vae");
  CHECK_FALSE(folder.is_pipeline());
  REQUIRE(folder.components().size() == 1);
  CHECK(folder.components()[0].name == "vae");
  CHECK(folder.combined_index().contains("encoder.conv_in.weight"));
}

TEST_CASE("fp16 variants and sharded weights") {
  ScratchDir dir;
  const fs::path root = dir / "model";
  copy_tree(kTiny, root);
  const fs::path unet = root / "unet";
  const auto plain = kiln::io::SafetensorsFile::open(unet / "diffusion_pytorch_model.safetensors");

  // A variant beside the plain file: chosen only when asked for.
  kiln::io::NamedTensors half;
  for (const auto& e : plain->index().entries()) half.emplace_back(e.name, plain->tensor(e.name).to(torch::kHalf));
  kiln::io::write_safetensors(unet / "diffusion_pytorch_model.fp16.safetensors", half);
  CHECK(DiffusersFolder::open(root).component("unet")->variant.empty());
  const auto fp16 = DiffusersFolder::open(root, {.variant = "fp16"});
  CHECK(fp16.component("unet")->variant == "fp16");
  CHECK(fp16.component("unet")->index.find("conv_in.weight")->dtype == kiln::DType::F16);

  // Only the variant present: it is used.
  fs::remove(unet / "diffusion_pytorch_model.safetensors");
  CHECK(DiffusersFolder::open(root).component("unet")->variant == "fp16");
  fs::remove(unet / "diffusion_pytorch_model.fp16.safetensors");

  // Two shards and their index.
  kiln::io::NamedTensors a, b;
  std::string map = "{\"metadata\": {}, \"weight_map\": {";
  std::size_t i = 0;
  for (const auto& e : plain->index().entries()) {
    const bool first = i++ < plain->index().size() / 2;
    (first ? a : b).emplace_back(e.name, plain->tensor(e.name));
    map += (i > 1 ? ", \"" : "\"") + e.name + "\": \"diffusion_pytorch_model-0000" + (first ? "1" : "2") + "-of-00002.safetensors\"";
  }
  map += "}}";
  kiln::io::write_safetensors(unet / "diffusion_pytorch_model-00001-of-00002.safetensors", a);
  kiln::io::write_safetensors(unet / "diffusion_pytorch_model-00002-of-00002.safetensors", b);
  kiln::test::write_text(unet / "diffusion_pytorch_model.safetensors.index.json", map);
  const auto sharded = DiffusersFolder::open(root);
  CHECK(sharded.component("unet")->weight_files.size() == 2);
  CHECK(sharded.component("unet")->index.size() == plain->index().size());
  CHECK(torch::equal(sharded.tensor("unet", plain->index().entries().back().name),
                     plain->tensor(plain->index().entries().back().name)));

  // A shard that is missing is named.
  fs::remove(unet / "diffusion_pytorch_model-00002-of-00002.safetensors");
  const std::string msg = error_of(root);
  CHECK_MESSAGE(msg.find("shard \"diffusion_pytorch_model-00002-of-00002.safetensors\"") != std::string::npos, msg);
}

TEST_CASE("broken folders are reported with the file and the problem") {
  ScratchDir dir;
  const fs::path root = dir / "model";
  copy_tree(kTiny, root);
  fs::remove_all(root / "vae");
  CHECK(error_of(root).find("lists component \"vae\" but its folder is missing") != std::string::npos);

  copy_tree(kTiny / "vae", root / "vae");
  fs::remove(root / "vae/diffusion_pytorch_model.safetensors");
  CHECK(error_of(root).find("no weights found") != std::string::npos);

  copy_tree(kTiny / "vae", dir / "vae2");
  fs::remove_all(root / "vae");
  fs::rename(dir / "vae2", root / "vae");
  kiln::test::write_text(root / "model_index.json", "{ not json");
  const std::string msg = error_of(root);
  CHECK(msg.find("model_index.json: not valid JSON") != std::string::npos);
  CHECK(error_of(dir.path()).find("neither model_index.json nor config.json") != std::string::npos);
}
