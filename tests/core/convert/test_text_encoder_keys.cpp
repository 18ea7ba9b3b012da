#include <doctest/doctest.h>

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "base/error.h"
#include "convert/text_encoder_keys.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::convert::ModelFamily;
using kiln::convert::SingleFileTextEncoder;
using kiln::convert::TextEncoderKeyMap;
using kiln::convert::TextEncoderKeyStyle;
using kiln::io::TensorEntry;
using kiln::io::TensorIndex;

namespace {

fs::path keys_dir(const std::string& model) { return kiln::test::data_dir() / "golden" / "keys" / model; }

// "component<TAB>diffusers_key<TAB>original_key<TAB>note", as mapping.tsv spells a row.
using Row = std::string;

Row row(const std::string& component, const std::string& diffusers, const std::string& original,
        const std::string& note) {
  return component + "\t" + diffusers + "\t" + original + "\t" + note;
}

std::vector<Row> golden_rows(const std::string& model, const std::string& component) {
  std::ifstream in(keys_dir(model) / "mapping.tsv");
  REQUIRE(in);
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(component + "\t", 0) == 0) rows.push_back(line);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<Row> rows_of(const TextEncoderKeyMap& map, const std::string& component) {
  std::vector<Row> rows;
  for (const auto& m : map.mappings) rows.push_back(row(component, m.diffusers_key, m.original_key, m.note()));
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::map<std::string, std::vector<std::int64_t>> shapes_of(const TensorIndex& index) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& e : index.entries()) out[e.name] = e.shape;
  return out;
}

void add(TensorIndex& index, const std::string& name, std::vector<std::int64_t> shape) {
  TensorEntry e;
  e.name = name;
  e.shape = std::move(shape);
  index.add(std::move(e));
}

struct GoldenCase {
  const char* model;
  ModelFamily family;
  std::vector<std::string> components;
};

}  // namespace

TEST_CASE("single-file text encoders reproduce every text encoder row of mapping.tsv, names and shapes") {
  const GoldenCase cases[] = {{"sd15", ModelFamily::SD1, {"text_encoder"}},
                              {"sd21", ModelFamily::SD2, {"text_encoder"}},
                              {"sdxl_base", ModelFamily::SDXL, {"text_encoder", "text_encoder_2"}}};
  for (const GoldenCase& c : cases) {
    CAPTURE(c.model);
    const TensorIndex original = kiln::test::read_key_list(keys_dir(c.model) / "original_single_file.txt");
    const auto encoders = kiln::convert::single_file_text_encoders(c.family);
    REQUIRE(encoders.size() == c.components.size());
    for (std::size_t i = 0; i < encoders.size(); ++i) {
      const SingleFileTextEncoder& enc = encoders[i];
      CAPTURE(enc.component);
      CHECK(enc.component == c.components[i]);
      const TextEncoderKeyMap map = kiln::convert::text_encoder_key_map(original, enc);
      const auto expected = golden_rows(c.model, enc.component);
      REQUIRE(!expected.empty());
      CHECK(rows_of(map, enc.component) == expected);
      CHECK(map.ignored.empty());
      const TensorIndex translated = kiln::convert::translate_index(original, map);
      const TensorIndex diffusers =
          kiln::test::read_key_list(keys_dir(c.model) / ("diffusers_" + enc.component + ".txt"));
      CHECK(translated.size() == diffusers.size());
      CHECK(shapes_of(translated) == shapes_of(diffusers));
    }
  }
}

TEST_CASE("SD2: q/k/v split by the hidden size even with text_projection present; extra keys ignored") {
  TensorIndex original = kiln::test::read_key_list(keys_dir("sd21") / "original_single_file.txt");
  const auto enc = kiln::convert::single_file_text_encoders(ModelFamily::SD2).at(0);
  const auto expected_rows = rows_of(kiln::convert::text_encoder_key_map(original, enc), enc.component);
  // What real SD 2.x files add under the prefix: the unused 24th block, the projection, CLIP's
  // logit scale.
  const std::vector<std::pair<std::string, std::vector<std::int64_t>>> extra = {
      {"cond_stage_model.model.transformer.resblocks.23.attn.in_proj_weight", {3072, 1024}},
      {"cond_stage_model.model.transformer.resblocks.23.ln_1.weight", {1024}},
      {"cond_stage_model.model.text_projection", {1024, 1024}},
      {"cond_stage_model.model.logit_scale", {}}};
  for (const auto& [name, shape] : extra) add(original, name, shape);
  const TextEncoderKeyMap map = kiln::convert::text_encoder_key_map(original, enc);
  CHECK(rows_of(map, enc.component) == expected_rows);
  std::vector<std::string> ignored = map.ignored;
  std::sort(ignored.begin(), ignored.end());
  std::vector<std::string> expected_ignored;
  for (const auto& [name, shape] : extra) expected_ignored.push_back(name);
  std::sort(expected_ignored.begin(), expected_ignored.end());
  CHECK(ignored == expected_ignored);
}

TEST_CASE("transformers-style prefixes: position_ids ignored, old names without text_model. completed") {
  TensorIndex original;
  add(original, "cond_stage_model.transformer.embeddings.token_embedding.weight", {49408, 768});
  add(original, "cond_stage_model.transformer.text_model.embeddings.position_ids", {1, 77});
  add(original, "cond_stage_model.transformer.text_model.final_layer_norm.weight", {768});
  add(original, "model.diffusion_model.conv_in.weight", {320, 4, 3, 3});
  const auto enc = kiln::convert::single_file_text_encoders(ModelFamily::SD1).at(0);
  const TextEncoderKeyMap map = kiln::convert::text_encoder_key_map(original, enc);
  CHECK(rows_of(map, "te") ==
        std::vector<Row>{row("te", "text_model.embeddings.token_embedding.weight",
                             "cond_stage_model.transformer.embeddings.token_embedding.weight", ""),
                         row("te", "text_model.final_layer_norm.weight",
                             "cond_stage_model.transformer.text_model.final_layer_norm.weight", "")});
  CHECK(map.ignored == std::vector<std::string>{"cond_stage_model.transformer.text_model.embeddings.position_ids"});
}

TEST_CASE("OpenCLIP values: q, k, v are row blocks of in_proj; text_projection is transposed") {
  const std::int64_t hidden = 4, proj = 3;
  const std::string p = "conditioner.embedders.1.model.";
  std::map<std::string, torch::Tensor> sd;
  torch::manual_seed(0);
  sd[p + "token_embedding.weight"] = torch::randn({10, hidden});
  sd[p + "positional_embedding"] = torch::randn({5, hidden});
  sd[p + "transformer.resblocks.0.attn.in_proj_weight"] = torch::randn({3 * hidden, hidden});
  sd[p + "transformer.resblocks.0.attn.in_proj_bias"] = torch::randn({3 * hidden});
  sd[p + "transformer.resblocks.0.mlp.c_fc.weight"] = torch::randn({7, hidden});
  sd[p + "ln_final.bias"] = torch::randn({hidden});
  sd[p + "text_projection"] = torch::randn({hidden, proj});
  sd[p + "logit_scale"] = torch::randn({});
  TensorIndex index;
  for (const auto& [name, t] : sd) add(index, name, t.sizes().vec());

  const auto enc = kiln::convert::single_file_text_encoders(ModelFamily::SDXL).at(1);
  const TextEncoderKeyMap map = kiln::convert::text_encoder_key_map(index, enc);
  std::map<std::string, int> fetched;
  const auto tensors = kiln::convert::translate_tensors(map, [&](const std::string& name) {
    ++fetched[name];
    return sd.at(name);
  });
  std::map<std::string, torch::Tensor> out(tensors.begin(), tensors.end());
  CHECK(out.size() == 11);
  const torch::Tensor& w = sd[p + "transformer.resblocks.0.attn.in_proj_weight"];
  const torch::Tensor& b = sd[p + "transformer.resblocks.0.attn.in_proj_bias"];
  const std::string l = "text_model.encoder.layers.0.self_attn.";
  CHECK(torch::equal(out.at(l + "q_proj.weight"), w.slice(0, 0, 4)));
  CHECK(torch::equal(out.at(l + "k_proj.weight"), w.slice(0, 4, 8)));
  CHECK(torch::equal(out.at(l + "v_proj.weight"), w.slice(0, 8, 12)));
  CHECK(torch::equal(out.at(l + "q_proj.bias"), b.slice(0, 0, 4)));
  CHECK(torch::equal(out.at(l + "v_proj.bias"), b.slice(0, 8, 12)));
  CHECK(torch::equal(out.at("text_projection.weight"), sd[p + "text_projection"].t()));
  CHECK(out.at("text_projection.weight").sizes().vec() == std::vector<std::int64_t>{proj, hidden});
  CHECK(torch::equal(out.at("text_model.encoder.layers.0.mlp.fc1.weight"),
                     sd[p + "transformer.resblocks.0.mlp.c_fc.weight"]));
  CHECK(torch::equal(out.at("text_model.embeddings.position_embedding.weight"), sd[p + "positional_embedding"]));
  CHECK(torch::equal(out.at("text_model.final_layer_norm.bias"), sd[p + "ln_final.bias"]));
  CHECK(fetched[p + "transformer.resblocks.0.attn.in_proj_weight"] == 1);
  CHECK(map.ignored == std::vector<std::string>{p + "logit_scale"});
}

TEST_CASE("format errors: malformed in_proj, no text encoder under the prefix") {
  const auto enc = kiln::convert::single_file_text_encoders(ModelFamily::SD2).at(0);
  TensorIndex bad;
  add(bad, "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", {1024, 1024});
  try {
    kiln::convert::text_encoder_key_map(bad, enc, "m.safetensors");
    FAIL("no error");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()) ==
          "m.safetensors: cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight has shape [1024, 1024], "
          "expected [3 x hidden, hidden] (q, k, v stacked)");
  }
  TensorIndex none;
  add(none, "model.diffusion_model.conv_in.weight", {320, 4, 3, 3});
  try {
    kiln::convert::text_encoder_key_map(none, enc, "m.safetensors");
    FAIL("no error");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()) ==
          "m.safetensors: no text_encoder weights (no tensor named cond_stage_model.model.*) (the file is not a "
          "checkpoint of this model family or holds no text encoder)");
  }
}

TEST_CASE("which text encoders each family's single file holds") {
  using S = TextEncoderKeyStyle;
  const auto sd1 = kiln::convert::single_file_text_encoders(ModelFamily::SD1Inpaint);
  REQUIRE(sd1.size() == 1);
  CHECK(sd1[0].style == S::Transformers);
  const auto sd2 = kiln::convert::single_file_text_encoders(ModelFamily::SD2);
  REQUIRE(sd2.size() == 1);
  CHECK(sd2[0].max_layers == 23);
  CHECK_FALSE(sd2[0].with_projection);
  const auto refiner = kiln::convert::single_file_text_encoders(ModelFamily::SDXLRefiner);
  REQUIRE(refiner.size() == 1);
  CHECK(refiner[0].component == "text_encoder_2");
  CHECK(refiner[0].prefix == "conditioner.embedders.0.model.");
  CHECK(kiln::convert::single_file_text_encoders(ModelFamily::VAE).empty());
  CHECK(kiln::convert::single_file_text_encoders(ModelFamily::LoRASD1).empty());
}
