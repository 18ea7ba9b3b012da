#include <doctest/doctest.h>

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "base/error.h"
#include "convert/unet_keys.h"
#include "convert/vae_keys.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::convert::KeyMapping;
using kiln::io::TensorEntry;
using kiln::io::TensorIndex;

namespace {

fs::path keys_dir(const std::string& model) { return kiln::test::data_dir() / "golden" / "keys" / model; }

// "component<TAB>diffusers_key<TAB>original_key<TAB>note", as mapping.tsv spells a row.
using Row = std::string;

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

std::vector<Row> rows_of(const std::vector<KeyMapping>& map, const std::string& component) {
  std::vector<Row> rows;
  for (const auto& m : map) rows.push_back(component + "\t" + m.diffusers + "\t" + m.original + "\t" + m.note());
  std::sort(rows.begin(), rows.end());
  return rows;
}

using Shapes = std::map<std::string, std::vector<std::int64_t>>;

Shapes shapes_of(const TensorIndex& index, const std::string& prefix = {}) {
  Shapes out;
  for (const auto& e : index.entries()) {
    if (e.name.rfind(prefix, 0) == 0) out[e.name] = e.shape;
  }
  return out;
}

void add(TensorIndex& index, const std::string& name, std::vector<std::int64_t> shape) {
  TensorEntry e;
  e.name = name;
  e.shape = std::move(shape);
  index.add(std::move(e));
}

struct Component {
  std::string name;    // mapping.tsv component, diffusers_<name>.txt
  std::string prefix;  // single-file prefix
  std::vector<KeyMapping> (*from_diffusers)(const TensorIndex&, const std::string&);
  std::vector<KeyMapping> (*from_original)(const TensorIndex&, const std::string&);
};

const Component kUNet{"unet", kiln::convert::kUNetPrefix, kiln::convert::unet_key_map_from_diffusers,
                      kiln::convert::unet_key_map_from_original};
const Component kVae{"vae", kiln::convert::kVaePrefix, kiln::convert::vae_key_map_from_diffusers,
                     kiln::convert::vae_key_map_from_original};
const Component kControlNet{"controlnet", kiln::convert::kControlNetPrefix,
                            kiln::convert::controlnet_key_map_from_diffusers,
                            kiln::convert::controlnet_key_map_from_original};

void check_component(const std::string& model, const Component& c) {
  CAPTURE(model);
  CAPTURE(c.name);
  const TensorIndex original = kiln::test::read_key_list(keys_dir(model) / "original_single_file.txt");
  const TensorIndex diffusers = kiln::test::read_key_list(keys_dir(model) / ("diffusers_" + c.name + ".txt"));
  const auto expected = golden_rows(model, c.name);
  REQUIRE(!expected.empty());

  // diffusers -> original: every diffusers key, exactly the golden rows.
  const auto forward = c.from_diffusers(diffusers, c.prefix);
  CHECK(forward.size() == diffusers.size());
  const auto forward_rows = rows_of(forward, c.name);
  CHECK(forward_rows == expected);
  // original -> diffusers: every key under the prefix, exactly the golden rows.
  const auto backward = c.from_original(original, c.prefix);
  const Shapes original_shapes = shapes_of(original, c.prefix);
  CHECK(backward.size() == original_shapes.size());
  const auto backward_rows = rows_of(backward, c.name);
  CHECK(backward_rows == expected);

  // Shapes translate both ways (reshape rows included).
  CHECK(shapes_of(kiln::convert::to_original_index(diffusers, forward)) == original_shapes);
  CHECK(shapes_of(kiln::convert::to_diffusers_index(original, backward)) == shapes_of(diffusers));

  const auto matched =
      static_cast<std::size_t>(std::count_if(forward_rows.begin(), forward_rows.end(), [&](const Row& r) {
        return std::binary_search(expected.begin(), expected.end(), r);
      }));
  MESSAGE(model << " " << c.name << ": diffusers->original " << matched << "/" << expected.size()
                << ", original->diffusers " << backward.size() << "/" << original_shapes.size());
}

}  // namespace

TEST_CASE("UNet / VAE / ControlNet key tables reproduce every row of mapping.tsv, both ways, with shapes") {
  for (const char* model : {"sd15", "sd21", "sdxl_base"}) {
    check_component(model, kUNet);
    check_component(model, kVae);
  }
  check_component("controlnet_sd15", kControlNet);
}

TEST_CASE("layouts inferred from the names") {
  const TensorIndex sdxl = kiln::test::read_key_list(keys_dir("sdxl_base") / "diffusers_unet.txt");
  const auto l = kiln::convert::unet_layout_from_diffusers(sdxl);
  CHECK(l.down_layers == 2);
  CHECK(l.up_layers == 3);
  CHECK(l.up_has_attentions == std::vector<bool>{true, true, false});
  const TensorIndex sd15 = kiln::test::read_key_list(keys_dir("sd15") / "original_single_file.txt");
  const auto lo = kiln::convert::unet_layout_from_original(sd15, kiln::convert::kUNetPrefix);
  CHECK(lo.down_layers == 2);
  CHECK(lo.up_layers == 3);
  const TensorIndex cn = kiln::test::read_key_list(keys_dir("controlnet_sd15") / "diffusers_controlnet.txt");
  CHECK(kiln::convert::unet_layout_from_diffusers(cn).hint_blocks == 6);
  CHECK(kiln::convert::vae_up_blocks_from_original(sd15, kiln::convert::kVaePrefix) == 4);

  // A smaller structure: one resnet per block, no attention anywhere.
  kiln::convert::UNetLayout one;
  one.down_layers = 1;
  one.up_layers = 2;
  one.up_has_attentions = {false, false};
  CHECK(kiln::convert::unet_original_name("down_blocks.1.resnets.0.conv1.weight", one) ==
        "input_blocks.3.0.in_layers.2.weight");
  CHECK(kiln::convert::unet_original_name("down_blocks.1.downsamplers.0.conv.bias", one) == "input_blocks.4.0.op.bias");
  CHECK(kiln::convert::unet_original_name("up_blocks.1.upsamplers.0.conv.bias", one) == "output_blocks.3.1.conv.bias");
  CHECK(kiln::convert::unet_diffusers_name("input_blocks.4.0.op.bias", one) ==
        "down_blocks.1.downsamplers.0.conv.bias");
  CHECK(kiln::convert::unet_diffusers_name("output_blocks.3.1.conv.bias", one) == "up_blocks.1.upsamplers.0.conv.bias");
}

TEST_CASE("values: VAE attention Linear <-> 1x1 conv reshape is exact both ways, other tensors pass through") {
  torch::manual_seed(0);
  const std::int64_t c = 8;
  std::map<std::string, torch::Tensor> diffusers = {
      {"encoder.mid_block.attentions.0.to_q.weight", torch::randn({c, c})},
      {"encoder.mid_block.attentions.0.to_q.bias", torch::randn({c})},
      {"decoder.mid_block.attentions.0.to_out.0.weight", torch::randn({c, c})},
      {"decoder.mid_block.attentions.0.group_norm.weight", torch::randn({c})},
      {"decoder.up_blocks.0.resnets.0.conv1.weight", torch::randn({c, c, 3, 3})},
      {"decoder.up_blocks.1.resnets.0.conv_shortcut.weight", torch::randn({c, 2 * c, 1, 1})},
  };
  TensorIndex index;
  for (const auto& [name, t] : diffusers) add(index, name, t.sizes().vec());
  const auto map = kiln::convert::vae_key_map_from_diffusers(index);
  const auto original = kiln::convert::to_original_tensors(map, [&](const std::string& n) { return diffusers.at(n); });
  std::map<std::string, torch::Tensor> orig(original.begin(), original.end());
  const std::string p = "first_stage_model.";
  REQUIRE(orig.size() == diffusers.size());
  const auto& q = orig.at(p + "encoder.mid.attn_1.q.weight");
  CHECK(q.sizes().vec() == std::vector<std::int64_t>{c, c, 1, 1});
  CHECK(torch::equal(q.view({c, c}), diffusers.at("encoder.mid_block.attentions.0.to_q.weight")));
  CHECK(torch::equal(orig.at(p + "decoder.mid.attn_1.proj_out.weight").view({c, c}),
                     diffusers.at("decoder.mid_block.attentions.0.to_out.0.weight")));
  CHECK(
      torch::equal(orig.at(p + "encoder.mid.attn_1.q.bias"), diffusers.at("encoder.mid_block.attentions.0.to_q.bias")));
  // Two up blocks: up_blocks.0 is up.1.
  CHECK(torch::equal(orig.at(p + "decoder.up.1.block.0.conv1.weight"),
                     diffusers.at("decoder.up_blocks.0.resnets.0.conv1.weight")));
  CHECK(torch::equal(orig.at(p + "decoder.up.0.block.0.nin_shortcut.weight"),
                     diffusers.at("decoder.up_blocks.1.resnets.0.conv_shortcut.weight")));

  // And back, from the original names alone.
  TensorIndex original_index;
  for (const auto& [name, t] : orig) add(original_index, name, t.sizes().vec());
  const auto back_map = kiln::convert::vae_key_map_from_original(original_index);
  const auto back = kiln::convert::to_diffusers_tensors(back_map, [&](const std::string& n) { return orig.at(n); });
  REQUIRE(back.size() == diffusers.size());
  for (const auto& [name, t] : back) {
    CAPTURE(name);
    REQUIRE(diffusers.count(name) == 1);
    CHECK(t.sizes().vec() == diffusers.at(name).sizes().vec());
    CHECK(torch::equal(t, diffusers.at(name)));
  }
  // An original already stored as [C, C] (some converted files) is taken as is.
  const auto flat = kiln::convert::to_diffusers_tensors(back_map, [&](const std::string& n) {
    const auto& t = orig.at(n);
    return t.dim() == 4 && t.size(2) == 1 && t.size(0) == t.size(1) ? t.view({t.size(0), t.size(1)}) : t;
  });
  CHECK(flat.size() == diffusers.size());
}

TEST_CASE("format errors name the key that cannot be mapped") {
  TensorIndex unet;
  add(unet, "down_blocks.0.resnets.0.conv1.weight", {320, 320, 3, 3});
  add(unet, "down_blocks.0.resnets.0.mystery.weight", {320});
  try {
    kiln::convert::unet_key_map_from_diffusers(unet);
    FAIL("no error");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()).find("down_blocks.0.resnets.0.mystery.weight") != std::string::npos);
  }
  TensorIndex original = kiln::test::read_key_list(keys_dir("sd15") / "original_single_file.txt");
  add(original, "model.diffusion_model.output_blocks.0.7.weird", {1});
  try {
    kiln::convert::unet_key_map_from_original(original);
    FAIL("no error");
  } catch (const kiln::FormatError& e) {
    CHECK(std::string(e.what()).find("output_blocks.0.7.weird") != std::string::npos);
  }
  TensorIndex vae;
  add(vae, "first_stage_model.decoder.mid.attn_2.q.weight", {4, 4, 1, 1});
  CHECK_THROWS_AS(kiln::convert::vae_key_map_from_original(vae), kiln::FormatError);
  TensorIndex no_down;
  add(no_down, "conv_in.weight", {320, 4, 3, 3});
  CHECK_THROWS_AS(kiln::convert::unet_layout_from_diffusers(no_down), kiln::FormatError);
  // A reshape row whose tensor is not [C, C].
  TensorIndex bad;
  add(bad, "encoder.mid_block.attentions.0.to_q.weight", {4, 4, 3});
  const auto map = kiln::convert::vae_key_map_from_diffusers(bad);
  CHECK_THROWS_AS(kiln::convert::to_original_index(bad, map), kiln::FormatError);
}
