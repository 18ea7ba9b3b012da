// Model conversion against its oracles:
//   - full-size names and shapes, both directions, from the golden key lists (index only: what
//     diffusers' own scripts write, mapping.tsv rows for the text encoders' reverse mapping);
//   - the tiny SD 1.x pipeline: folder -> single file fp16 equals tiny_sd1.safetensors (made by
//     diffusers' convert_diffusers_to_original_stable_diffusion.py --half) bit for bit, and back;
//   - round trips of tiny SD 2.x, SDXL and ControlNet folders through .safetensors and .ckpt;
//   - a converted .ckpt read by python3 torch.load, re-saved by torch, read back bit-exactly;
//   - errors: clear messages, no output and no temporary file left.

// ATen before doctest (glog's CHECK, see test_torch_checkpoint.cpp).
#include <ATen/ATen.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "base/error.h"
#include "convert/checkpoint_export.h"
#include "convert/text_encoder_keys.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "io/weight_file.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using kiln::convert::ConvertRequest;
using kiln::convert::ExportDType;
using kiln::convert::KeyLayout;
using kiln::convert::ModelFamily;
using kiln::convert::SingleFileFormat;
using kiln::io::TensorIndex;

namespace {

fs::path golden() { return kiln::test::data_dir() / "golden"; }
fs::path tiny() { return golden() / "pipeline" / "tiny_sd1"; }
fs::path keys_dir(const std::string& model) { return golden() / "keys" / model; }

using Shapes = std::map<std::string, std::vector<std::int64_t>>;
Shapes shapes_of(const TensorIndex& index) {
  Shapes out;
  for (const auto& e : index.entries()) out[e.name] = e.shape;
  return out;
}

// The golden per-component lists as one "<component>.<key>" index (bare for a ControlNet).
TensorIndex combined_diffusers(const std::string& model, const std::vector<std::string>& components,
                               bool bare = false) {
  TensorIndex out;
  for (const auto& c : components) {
    out.merge(kiln::test::read_key_list(keys_dir(model) / ("diffusers_" + c + ".txt")), bare ? "" : c + ".");
  }
  return out;
}

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

// Files and folders directly in `dir` (hidden temporaries included).
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

ConvertRequest request(const fs::path& in, const fs::path& out) {
  ConvertRequest r;
  r.input = in;
  r.output = out;
  r.clip_vocab_dir = kiln::test::data_dir().parent_path().parent_path() / "resources" / "clip";
  return r;
}

// The message of the kiln::Error `f` throws, or "<no error>".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Every tensor of every component of two diffusers folders, `b` after converting `a` to `dtype`.
void check_same_folders(const fs::path& a_root, const fs::path& b_root, at::ScalarType dtype) {
  const auto a = kiln::io::DiffusersFolder::open(a_root);
  const auto b = kiln::io::DiffusersFolder::open(b_root);
  std::size_t n = 0;
  for (const auto& c : a.components()) {
    if (!c.has_weights()) continue;
    const auto* other = b.is_pipeline() ? b.component(c.name) : &b.components().front();
    REQUIRE_MESSAGE(other, c.name);
    CHECK(other->index.size() == c.index.size());
    for (const auto& e : c.index.entries()) {
      CAPTURE(e.name);
      const at::Tensor want = a.tensor(c.name, e.name).to(dtype);
      CHECK(same_bytes(b.tensor(other->name, e.name), want));
      ++n;
    }
  }
  CHECK(n > 0);
}

void copy_component(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

// A tiny SDXL pipeline from the golden test models (too small for family detection).
fs::path make_tiny_sdxl(const fs::path& root) {
  copy_component(golden() / "unet/sdxl/model", root / "unet");
  copy_component(tiny() / "vae", root / "vae");
  copy_component(tiny() / "text_encoder", root / "text_encoder");
  copy_component(golden() / "clip_text/gelu/model", root / "text_encoder_2");
  copy_component(tiny() / "tokenizer", root / "tokenizer");
  copy_component(tiny() / "tokenizer", root / "tokenizer_2");
  copy_component(tiny() / "scheduler", root / "scheduler");
  kiln::test::write_text(root / "model_index.json", R"({"_class_name": "StableDiffusionXLPipeline",
    "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"], "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"]})");
  return root;
}

// A tiny SD 2.x pipeline: the golden SD 2 UNet and the gelu text encoder without projection.
fs::path make_tiny_sd2(const fs::path& root) {
  copy_component(golden() / "unet/sd2/model", root / "unet");
  copy_component(tiny() / "vae", root / "vae");
  copy_component(tiny() / "tokenizer", root / "tokenizer");
  copy_component(tiny() / "scheduler", root / "scheduler");
  fs::create_directories(root / "text_encoder");
  json config = json::parse(kiln::test::read_text(golden() / "clip_text/gelu/model/config.json"));
  config["architectures"] = {"CLIPTextModel"};
  kiln::test::write_text(root / "text_encoder/config.json", config.dump(2));
  const auto te = kiln::io::open_weight_file(golden() / "clip_text/gelu/model/model.safetensors");
  kiln::io::NamedTensors tensors;
  for (const auto& e : te->index().entries()) {
    if (e.name != "text_projection.weight") tensors.emplace_back(e.name, te->tensor(e.name));
  }
  kiln::io::write_safetensors(root / "text_encoder/model.safetensors", tensors, {{"format", "pt"}});
  kiln::test::write_text(root / "model_index.json", R"({"_class_name": "StableDiffusionPipeline",
    "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"]})");
  return root;
}

}  // namespace

TEST_CASE("full-size names and shapes equal diffusers' conversion scripts, both directions") {
  struct Case {
    std::string model;
    ModelFamily family;
    std::vector<std::string> components;
  };
  const std::vector<Case> cases = {
      {"sd15", ModelFamily::SD1, {"unet", "vae", "text_encoder"}},
      {"sd21", ModelFamily::SD2, {"unet", "vae", "text_encoder"}},
      {"sdxl_base", ModelFamily::SDXL, {"unet", "vae", "text_encoder", "text_encoder_2"}},
      {"controlnet_sd15", ModelFamily::ControlNetSD1, {"controlnet"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.model);
    const bool bare = c.family == ModelFamily::ControlNetSD1;
    const TensorIndex diffusers = combined_diffusers(c.model, c.components, bare);
    const TensorIndex original = kiln::test::read_key_list(keys_dir(c.model) / "original_single_file.txt");
    std::vector<std::string> left_out;
    const TensorIndex written = kiln::convert::single_file_index(diffusers, c.family, &left_out);
    CHECK(left_out.empty());
    CHECK(written.size() == original.size());
    CHECK(shapes_of(written) == shapes_of(original));
    const TensorIndex read = kiln::convert::diffusers_index(original, c.family, &left_out);
    CHECK(left_out.empty());
    CHECK(shapes_of(read) == shapes_of(diffusers));
  }
}

TEST_CASE("the reverse text encoder mapping reproduces every text encoder row of mapping.tsv") {
  struct Case {
    std::string model;
    ModelFamily family;
  };
  for (const auto& [model, family] :
       std::vector<Case>{{"sd15", ModelFamily::SD1}, {"sd21", ModelFamily::SD2}, {"sdxl_base", ModelFamily::SDXL}}) {
    for (const auto& enc : kiln::convert::single_file_text_encoders(family)) {
      CAPTURE(model);
      CAPTURE(enc.component);
      std::vector<std::string> want;
      std::ifstream in(keys_dir(model) / "mapping.tsv");
      for (std::string line; std::getline(in, line);) {
        if (line.rfind(enc.component + "\t", 0) == 0) want.push_back(line);
      }
      const TensorIndex local = kiln::test::read_key_list(keys_dir(model) / ("diffusers_" + enc.component + ".txt"));
      const auto map = kiln::convert::text_encoder_key_map_from_diffusers(local, enc);
      std::vector<std::string> got;
      for (const auto& m : map.mappings) {
        got.push_back(enc.component + "\t" + m.diffusers_key + "\t" + m.original_key + "\t" + m.note());
      }
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      CHECK(!got.empty());
      CHECK(got == want);
    }
  }
}

TEST_CASE("reverse text encoder mapping: stacked q/k/v, transposed projection, refused keys") {
  const auto enc = kiln::convert::single_file_text_encoders(ModelFamily::SDXL).at(1);
  kiln::io::NamedTensors src;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  for (const char* p : {"q", "k", "v"}) {
    src.emplace_back(std::string("text_model.encoder.layers.0.self_attn.") + p + "_proj.weight",
                     at::randn({4, 4}, gen, at::kFloat));
  }
  src.emplace_back("text_projection.weight", at::randn({6, 4}, gen, at::kFloat));
  TensorIndex index;
  for (const auto& [n, t] : src) {
    kiln::io::TensorEntry e;
    e.name = n;
    e.shape = t.sizes().vec();
    index.add(std::move(e));
  }
  const auto map = kiln::convert::text_encoder_key_map_from_diffusers(index, enc);
  auto fetch = [&](const std::string& n) {
    for (const auto& [k, t] : src)
      if (k == n) return t;
    return at::Tensor();
  };
  const auto out = kiln::convert::translate_tensors_to_original(map, fetch);
  REQUIRE(out.size() == 2);
  CHECK(out[0].first == "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight");
  CHECK(same_bytes(out[0].second, at::cat({src[0].second, src[1].second, src[2].second}, 0)));
  CHECK(out[1].first == "conditioner.embedders.1.model.text_projection");
  CHECK(same_bytes(out[1].second.contiguous(), src[3].second.t().contiguous()));
  CHECK(shapes_of(kiln::convert::translate_index_to_original(index, map)) ==
        Shapes{{out[0].first, {12, 4}}, {out[1].first, {4, 6}}});
  // A lone q projection cannot be stacked; an SD 2 encoder has no place for a projection.
  TensorIndex lone;
  lone.add(index.entries()[0]);
  CHECK(error_of([&] {
          kiln::convert::text_encoder_key_map_from_diffusers(lone, enc);
        }).find("needs q, k and v projections of one shape") != std::string::npos);
  const auto sd2 = kiln::convert::single_file_text_encoders(ModelFamily::SD2).at(0);
  CHECK(error_of([&] {
          kiln::convert::text_encoder_key_map_from_diffusers(index, sd2);
        }).find("no single-file name for text_encoder key text_projection.weight") != std::string::npos);
}

TEST_CASE("tiny SD 1.x folder -> fp16 single file equals diffusers' own conversion bit for bit") {
  kiln::test::ScratchDir dir;
  const fs::path want_file = golden() / "pipeline" / "tiny_sd1.safetensors";
  const auto want = kiln::io::open_weight_file(want_file);
  for (const auto format : {SingleFileFormat::Safetensors, SingleFileFormat::Ckpt}) {
    const fs::path out = dir / (format == SingleFileFormat::Ckpt ? "tiny.ckpt" : "tiny.safetensors");
    auto r = request(tiny(), out);
    r.dtype = ExportDType::F16;
    std::vector<kiln::convert::ConvertProgress::Stage> stages;
    const auto result =
        kiln::convert::convert_model(r, [&](const kiln::convert::ConvertProgress& p) { stages.push_back(p.stage); });
    CHECK_FALSE(result.cancelled);
    CHECK(result.family == ModelFamily::SD1);
    CHECK(result.format == format);
    CHECK(result.tensors == want->index().size());
    CHECK(result.bytes == fs::file_size(out));
    CHECK(std::count(stages.begin(), stages.end(), kiln::convert::ConvertProgress::Stage::Verifying) ==
          static_cast<std::ptrdiff_t>(want->index().size()));
    const auto got = kiln::io::open_weight_file(out);
    REQUIRE(got->index().size() == want->index().size());
    for (const auto& e : want->index().entries()) {
      CAPTURE(e.name);
      REQUIRE(got->index().contains(e.name));
      CHECK(same_bytes(got->tensor(e.name), want->tensor(e.name)));
    }
    if (format == SingleFileFormat::Safetensors) {
      CHECK(got->metadata().at("modelspec.prediction_type") == "epsilon");
    }
  }
  CHECK(listing(dir.path()) == std::set<std::string>{"tiny.ckpt", "tiny.safetensors"});
}

TEST_CASE("tiny_sd1.safetensors -> diffusers folder with the tiny configs gives the folder's tensors") {
  kiln::test::ScratchDir dir;
  const fs::path single = golden() / "pipeline" / "tiny_sd1.safetensors";
  // Kept fp16, and converted to fp32: both equal the folder's fp32 tensors rounded to fp16.
  for (const auto dtype : {ExportDType::Keep, ExportDType::F32}) {
    const fs::path out = dir / (dtype == ExportDType::Keep ? "keep" : "f32");
    auto r = request(single, out);
    r.config_dir = tiny();
    r.dtype = dtype;
    const auto result = kiln::convert::convert_model(r);
    CHECK(result.to == KeyLayout::Diffusers);
    CHECK(result.tensors == 564);
    const auto folder = kiln::io::DiffusersFolder::open(out);
    const auto src = kiln::io::DiffusersFolder::open(tiny());
    for (const auto& c : src.components()) {
      if (!c.has_weights()) continue;
      const auto* o = folder.component(c.name);
      REQUIRE(o);
      CHECK(o->index.size() == c.index.size());
      for (const auto& e : c.index.entries()) {
        CAPTURE(e.name);
        at::Tensor want = src.tensor(c.name, e.name).to(at::kHalf);
        if (dtype == ExportDType::F32) want = want.to(at::kFloat);
        CHECK(same_bytes(folder.tensor(c.name, e.name), want));
      }
      // Configs come from the config folder as they are.
      CHECK(kiln::test::read_text(out / c.name / "config.json") ==
            kiln::test::read_text(tiny() / c.name / "config.json"));
    }
    CHECK(kiln::test::read_text(out / "scheduler/scheduler_config.json") ==
          kiln::test::read_text(tiny() / "scheduler/scheduler_config.json"));
    CHECK(kiln::test::read_text(out / "tokenizer/vocab.json") ==
          kiln::test::read_text(tiny() / "tokenizer/vocab.json"));
    CHECK(json::parse(kiln::test::read_text(out / "model_index.json")) ==
          json::parse(kiln::test::read_text(tiny() / "model_index.json")));
    CHECK(fs::exists(out / "text_encoder/model.safetensors"));
    CHECK(fs::exists(out / "unet/diffusion_pytorch_model.safetensors"));
  }
  // The hub SD 1.5 config does not fit the tiny weights: refused with both numbers.
  auto r = request(single, dir / "reference");
  const std::string err = error_of([&] { kiln::convert::convert_model(r); });
  CHECK(err.find("config (reference Stable Diffusion 1.x unet config) does not fit the weights") != std::string::npos);
  CHECK(err.find("block_out_channels[0] is 320 in the config but 32 in conv_in.weight") != std::string::npos);
  CHECK(listing(dir.path()) == std::set<std::string>{"f32", "keep"});
}

TEST_CASE("real-world single files: older key spellings, extra buffers and EMA copies") {
  kiln::test::ScratchDir dir;
  // tiny_sd1.safetensors as older tools wrote it: the text encoder without the text_model. level,
  // VAE attention as [C, C], plus what real checkpoints carry besides the weights.
  const auto src = kiln::io::open_weight_file(golden() / "pipeline" / "tiny_sd1.safetensors");
  kiln::io::NamedTensors tensors;
  const std::string te = "cond_stage_model.transformer.text_model.";
  for (const auto& e : src->index().entries()) {
    at::Tensor t = src->tensor(e.name);
    std::string name = e.name;
    if (name.rfind(te, 0) == 0) name = "cond_stage_model.transformer." + name.substr(te.size());
    if (name.find("mid.attn_1.") != std::string::npos && t.dim() == 4) t = t.flatten(1);
    tensors.emplace_back(name, t);
  }
  tensors.emplace_back("alphas_cumprod", at::ones({1000}));
  tensors.emplace_back("model_ema.decay", at::ones({}));
  tensors.emplace_back("cond_stage_model.transformer.embeddings.position_ids", at::arange(77).unsqueeze(0));
  const fs::path old = dir / "old.safetensors";
  kiln::io::write_safetensors(old, tensors);

  auto r = request(old, dir / "folder");
  r.config_dir = tiny();
  const auto result = kiln::convert::convert_model(r);
  CHECK(result.tensors == 564);
  REQUIRE_FALSE(result.notes.empty());
  CHECK(result.notes.front().find("left out 3 tensors the diffusers layout has no place for") != std::string::npos);
  check_same_folders(tiny(), dir / "folder", at::kHalf);

  // Re-exported, the file has today's canonical names: those of diffusers' own conversion.
  auto again = request(dir / "folder", dir / "canonical.safetensors");
  kiln::convert::convert_model(again);
  const auto canonical = kiln::io::open_weight_file(dir / "canonical.safetensors");
  CHECK(shapes_of(canonical->index()) == shapes_of(src->index()));
}

TEST_CASE("a config-only folder: tokenizer, scheduler and model_index from the references") {
  kiln::test::ScratchDir dir;
  // Only the models' config.json files, no weights, no tokenizer, no scheduler, no model_index.
  auto configs_of = [&](const fs::path& src, const fs::path& dst) {
    for (const char* c : {"unet", "vae", "text_encoder"}) {
      fs::create_directories(dst / c);
      fs::copy_file(src / c / "config.json", dst / c / "config.json");
    }
    return dst;
  };
  const fs::path clip = kiln::test::data_dir().parent_path().parent_path() / "resources" / "clip";

  auto r = request(golden() / "pipeline" / "tiny_sd1.safetensors", dir / "sd1");
  r.config_dir = configs_of(tiny(), dir / "sd1-configs");
  const auto result = kiln::convert::convert_model(r);
  CHECK(result.tensors == 564);
  CHECK(kiln::test::read_text(dir / "sd1/tokenizer/vocab.json") == kiln::test::read_text(clip / "vocab.json"));
  CHECK(kiln::test::read_text(dir / "sd1/tokenizer/merges.txt") == kiln::test::read_text(clip / "merges.txt"));
  auto parsed = [&](const fs::path& p) { return json::parse(kiln::test::read_text(p)); };
  CHECK(parsed(dir / "sd1/tokenizer/tokenizer_config.json") == parsed(tiny() / "tokenizer/tokenizer_config.json"));
  CHECK(parsed(dir / "sd1/tokenizer/special_tokens_map.json") == parsed(tiny() / "tokenizer/special_tokens_map.json"));
  CHECK(parsed(dir / "sd1/scheduler/scheduler_config.json") == parsed(tiny() / "scheduler/scheduler_config.json"));
  CHECK(parsed(dir / "sd1/model_index.json") == parsed(tiny() / "model_index.json"));
  check_same_folders(tiny(), dir / "sd1", at::kHalf);

  // SD 2.x, 512 epsilon asked: the 2.1-base scheduler (PNDM) and the OpenCLIP tokenizer (pad "!").
  const fs::path sd2 = make_tiny_sd2(dir / "sd2-src");
  auto to_single = request(sd2, dir / "sd2.safetensors");
  to_single.family = ModelFamily::SD2;
  kiln::convert::convert_model(to_single);
  auto back = request(dir / "sd2.safetensors", dir / "sd2");
  back.family = ModelFamily::SD2;
  back.prediction = kiln::convert::PredictionType::Epsilon;
  back.config_dir = configs_of(sd2, dir / "sd2-configs");
  const auto sd2_result = kiln::convert::convert_model(back);
  CHECK(sd2_result.prediction == kiln::convert::PredictionType::Epsilon);
  const json scheduler = parsed(dir / "sd2/scheduler/scheduler_config.json");
  CHECK(scheduler["_class_name"] == "PNDMScheduler");
  CHECK(scheduler["prediction_type"] == "epsilon");
  CHECK(parsed(dir / "sd2/model_index.json")["scheduler"] == json{"diffusers", "PNDMScheduler"});
  CHECK(parsed(dir / "sd2/tokenizer/special_tokens_map.json")["pad_token"] == "!");
  check_same_folders(sd2, dir / "sd2", at::kFloat);
}

TEST_CASE("tiny SD 2.x, SDXL and ControlNet round trips through .safetensors and .ckpt") {
  kiln::test::ScratchDir dir;
  struct Case {
    std::string name;
    fs::path folder;
    ModelFamily family;
  };
  const std::vector<Case> cases = {{"sd2", make_tiny_sd2(dir / "sd2"), ModelFamily::SD2},
                                   {"sdxl", make_tiny_sdxl(dir / "sdxl"), ModelFamily::SDXL},
                                   {"controlnet", golden() / "controlnet" / "model", ModelFamily::ControlNetSD1}};
  for (const auto& c : cases) {
    for (const auto format : {SingleFileFormat::Safetensors, SingleFileFormat::Ckpt}) {
      CAPTURE(c.name);
      CAPTURE(kiln::convert::to_string(format));
      const fs::path single = dir / (c.name + (format == SingleFileFormat::Ckpt ? ".ckpt" : ".safetensors"));
      auto r = request(c.folder, single);
      r.family = c.family;
      r.dtype = ExportDType::BF16;
      kiln::convert::convert_model(r);
      const auto file = kiln::io::open_weight_file(single);
      if (c.family == ModelFamily::SDXL) {
        const auto te2 = kiln::io::DiffusersFolder::open(c.folder);
        const std::string p = "conditioner.embedders.1.model.";
        CHECK(same_bytes(file->tensor(p + "text_projection"),
                         te2.tensor("text_encoder_2", "text_projection.weight").t().to(at::kBFloat16)));
        const std::string l = "text_model.encoder.layers.1.self_attn.";
        CHECK(same_bytes(
            file->tensor(p + "transformer.resblocks.1.attn.in_proj_bias"),
            at::cat({te2.tensor("text_encoder_2", l + "q_proj.bias"), te2.tensor("text_encoder_2", l + "k_proj.bias"),
                     te2.tensor("text_encoder_2", l + "v_proj.bias")})
                .to(at::kBFloat16)));
        CHECK(file->index().contains("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight"));
      }
      if (c.family == ModelFamily::SD2) {
        CHECK(file->index().contains("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"));
        CHECK_FALSE(file->index().contains("cond_stage_model.model.text_projection"));  // never a placeholder
      }
      if (c.family == ModelFamily::ControlNetSD1) {
        for (const auto& e : file->index().entries()) CHECK(e.name.rfind("control_model.", 0) == 0);
      }
      const fs::path back = dir / (c.name + "-back-" + std::string(kiln::convert::to_string(format)));
      auto b = request(single, back);
      b.family = c.family;
      b.config_dir = c.folder;
      kiln::convert::convert_model(b);
      check_same_folders(c.folder, back, at::kBFloat16);
    }
  }
}

TEST_CASE("python3 torch.load reads a converted .ckpt; torch's re-save reads back bit-exactly") {
  kiln::test::ScratchDir dir;
  const fs::path ckpt = dir / "tiny.ckpt";
  auto r = request(tiny(), ckpt);
  r.dtype = ExportDType::F16;
  kiln::convert::convert_model(r);
  if (std::system(KILN_PYTHON3 " -c 'import torch' >/dev/null 2>&1") != 0) {
    FAIL("the Python with torch (" KILN_PYTHON3 ") cannot import torch: run scripts/setup-libtorch.sh, which installs it");
  }
  const fs::path resaved = dir / "resaved.pt";
  const std::string cmd =
      std::string(KILN_PYTHON3) +
      " -c 'import sys, torch; sd = torch.load(sys.argv[1], "
      "weights_only=True)[\"state_dict\"]; assert len(sd) == 564; torch.save(dict(sd), sys.argv[2])' '" +
      ckpt.string() + "' '" + resaved.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto want = kiln::io::open_weight_file(golden() / "pipeline" / "tiny_sd1.safetensors");
  const auto got = kiln::io::open_weight_file(resaved);
  REQUIRE(got->index().size() == want->index().size());
  for (const auto& e : want->index().entries()) CHECK(same_bytes(got->tensor(e.name), want->tensor(e.name)));
}

TEST_CASE("single file -> single file re-saves every tensor (ckpt <-> safetensors, dtype)") {
  kiln::test::ScratchDir dir;
  const fs::path src = golden() / "pipeline" / "tiny_sd1.safetensors";
  auto r = request(src, dir / "a.ckpt");
  r.to = KeyLayout::SingleFile;
  kiln::convert::convert_model(r);
  auto s = request(dir / "a.ckpt", dir / "b.safetensors");
  s.to = KeyLayout::SingleFile;
  s.dtype = ExportDType::BF16;
  const auto result = kiln::convert::convert_model(s);
  CHECK(result.format == SingleFileFormat::Safetensors);
  const auto want = kiln::io::open_weight_file(src);
  const auto got = kiln::io::open_weight_file(dir / "b.safetensors");
  REQUIRE(got->index().size() == want->index().size());
  for (const auto& e : want->index().entries()) {
    CHECK(same_bytes(got->tensor(e.name), want->tensor(e.name).to(at::kBFloat16)));
  }
}

TEST_CASE("errors: clear messages, nothing written, no temporary left") {
  kiln::test::ScratchDir dir;
  const fs::path single = golden() / "pipeline" / "tiny_sd1.safetensors";

  CHECK(error_of([&] {
          kiln::convert::convert_model(request(dir / "nope.safetensors", dir / "out"));
        }).find("does not exist") != std::string::npos);

  // An existing output is refused without overwrite, and left as it was.
  kiln::test::write_text(dir / "exists.safetensors", "keep me");
  auto r = request(tiny(), dir / "exists.safetensors");
  CHECK(error_of([&] { kiln::convert::convert_model(r); }).find("exists.safetensors exists") != std::string::npos);
  CHECK(kiln::test::read_text(dir / "exists.safetensors") == "keep me");
  r.overwrite = true;
  kiln::convert::convert_model(r);
  CHECK(kiln::io::open_weight_file(dir / "exists.safetensors")->index().size() == 564);

  // Replacing: only a diffusers folder by a folder.
  fs::create_directories(dir / "photos");
  kiln::test::write_text(dir / "photos" / "a.jpg", "x");
  auto f = request(single, dir / "photos");
  f.config_dir = tiny();
  f.overwrite = true;
  CHECK(error_of([&] { kiln::convert::convert_model(f); }).find("is a folder that is not a diffusers model") !=
        std::string::npos);
  CHECK(fs::exists(dir / "photos" / "a.jpg"));

  // A file Kiln cannot tell the family of.
  kiln::io::NamedTensors junk;
  junk.emplace_back("foo.weight", at::zeros({2}));
  kiln::io::write_safetensors(dir / "junk.safetensors", junk);
  CHECK(error_of([&] {
          kiln::convert::convert_model(request(dir / "junk.safetensors", dir / "junk-out"));
        }).find("none of the keys Kiln looks for") != std::string::npos);

  // A truncated file: the header promises more than the file holds.
  const std::string bytes = kiln::test::read_text(single);
  kiln::test::write_text(dir / "cut.safetensors", bytes.substr(0, bytes.size() / 2));
  auto t = request(dir / "cut.safetensors", dir / "cut-out");
  t.config_dir = tiny();
  CHECK(error_of([&] { kiln::convert::convert_model(t); }).find("cut.safetensors") != std::string::npos);

  // Requests that contradict themselves.
  auto fmt = request(tiny(), dir / "x.safetensors");
  fmt.format = SingleFileFormat::Ckpt;
  CHECK(error_of([&] {
          kiln::convert::convert_model(fmt);
        }).find("is named .safetensors but the format asked is ckpt") != std::string::npos);
  auto same = request(tiny(), dir / "y");
  same.to = KeyLayout::Diffusers;
  CHECK(error_of([&] { kiln::convert::convert_model(same); }).find("is already a diffusers folder") !=
        std::string::npos);
  auto lora = request(single, dir / "z");
  lora.family = ModelFamily::LoRASD1;
  CHECK(error_of([&] { kiln::convert::convert_model(lora); }).find("converting LoRA") != std::string::npos);

  // A stop request: cancelled, nothing written.
  std::stop_source stop;
  stop.request_stop();
  const auto cancelled =
      kiln::convert::convert_model(request(tiny(), dir / "stopped.safetensors"), {}, stop.get_token());
  CHECK(cancelled.cancelled);

  CHECK(listing(dir.path()) ==
        std::set<std::string>{"exists.safetensors", "photos", "junk.safetensors", "cut.safetensors"});
}
