// The network preprocessors (HED, lineart, Depth Anything V2) against golden/control_maps/nets:
// tiny networks built from the golden weights, their float outputs from the stored inputs
// (<= 1e-4), the post-processing from the stored outputs (byte-exact), the whole chains end to
// end (every pixel within +-1), the full-size key lists, the registry entries, and the errors.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "base/error.h"
#include "control/annotator_loading.h"
#include "control/geometry.h"
#include "control/network_maps.h"
#include "control/network_preprocessors.h"
#include "control/preprocessor.h"
#include "control_test_util.h"
#include "io/safetensors.h"
#include "support/test_support.h"

using namespace kiln::control;
using kiln::control::test::check_map;
using kiln::control::test::golden_dir;
using kiln::control::test::golden_input;
using kiln::control::test::read_json;
using kiln::control::test::sha256_hex;
using kiln::control::test::thrown;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const json& nets() {
  static const json cases = read_json(golden_dir() / "nets" / "cases.json");
  return cases["nets"];
}

fs::path net_file(const std::string& relative) { return golden_dir() / relative; }

std::unique_ptr<kiln::io::SafetensorsFile> tensors_of(const json& c) {
  return kiln::io::SafetensorsFile::open(net_file(c["tensors_file"]));
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

FloatPlanes plane_of(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat32).contiguous();
  FloatPlanes p;
  p.height = static_cast<int>(c.size(-2));
  p.width = static_cast<int>(c.size(-1));
  p.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return p;
}

// Counts pixels that differ from the golden PNG, and the largest difference.
struct Closeness {
  std::size_t differing = 0;
  int max_diff = 0;
  std::size_t pixels = 0;
};
Closeness compare_png(const ControlImage& got, const json& expected) {
  const ControlImage want = load_control_image(golden_dir() / expected["file"].get<std::string>());
  REQUIRE(got.width == want.width);
  REQUIRE(got.height == want.height);
  REQUIRE(got.channels == want.channels);
  Closeness c;
  c.pixels = static_cast<std::size_t>(got.width) * got.height;
  for (std::size_t i = 0; i < got.pixels.size(); ++i) {
    const int d = std::abs(int{got.pixels[i]} - int{want.pixels[i]});
    c.max_diff = std::max(c.max_diff, d);
  }
  for (std::size_t p = 0; p < c.pixels; ++p) {
    bool differs = false;
    for (int ch = 0; ch < got.channels; ++ch)
      differs = differs || got.pixels[p * got.channels + ch] != want.pixels[p * got.channels + ch];
    c.differing += differs;
  }
  return c;
}

void check_end_to_end(const std::string& what, const ControlImage& got, const json& expected) {
  const Closeness c = compare_png(got, expected);
  MESSAGE(what << ": end to end " << (c.pixels - c.differing) << " of " << c.pixels << " pixels exact, max |diff| "
               << c.max_diff);
  CHECK(c.max_diff <= 1);
}

void check_exact(const std::string& what, const ControlImage& got, const json& expected) {
  const auto check = check_map(got, expected);
  INFO(what << ": " << check.detail);
  CHECK(check.equal);
}

// A folder holding `source` under `name`, as a user's annotator folder would.
struct AnnotatorDir {
  kiln::test::ScratchDir dir{"kiln-annotators"};
  AnnotatorDir(const fs::path& source, const std::string& name) { fs::copy_file(source, dir / name); }
  PreprocessorContext context() const {
    PreprocessorContext c;
    c.annotator_dirs = {dir.path()};
    return c;
  }
};

PaddedImage crop_to(int height, int width) {
  PaddedImage p;
  p.target_height = height;
  p.target_width = width;
  return p;
}

// [name, shape] of a golden key list, sorted by name.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> golden_keys(const std::string& file) {
  const json keys = read_json(golden_dir() / "nets" / "keys" / (file + ".json"));
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
  for (const json& k : keys["keys"]) out.emplace_back(k[0].get<std::string>(), k[1].get<std::vector<std::int64_t>>());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> module_keys(torch::nn::Module& m) {
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : m.named_buffers()) out.emplace_back(b.key(), b.value().sizes().vec());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("HED: projections, fusion, safe and scribble maps") {
  const json& hed = nets()["hed"];
  ControlNetHED net = load_hed_network(net_file(hed["weights"]));
  c10::InferenceMode guard;
  for (const json& c : hed["cases"]) {
    const std::string input = c["input"];
    const bool a1111 = c["implementation"] == "a1111";
    const auto t = tensors_of(c);
    const std::vector<torch::Tensor> projections = net->forward(t->tensor("input"));
    std::vector<FloatPlanes> stored;
    for (int i = 1; i <= 5; ++i) {
      const std::string name = "projection" + std::to_string(i);
      const double diff = max_abs_diff(projections[static_cast<std::size_t>(i - 1)], t->tensor(name));
      MESSAGE("hed " << input << " " << name << ": max abs diff " << diff);
      CHECK(diff <= 1e-4);
      stored.push_back(plane_of(t->tensor(name)));
    }
    // Post-processing from the stored projections: exact.
    const int h = stored[0].height, w = stored[0].width;
    const json& out = c["outputs"];
    const auto shape = out["plain"]["shape"].get<std::vector<int>>();
    const auto finish = [&](const ControlImage& map) {
      return a1111 ? remove_pad(crop_to(shape[0], shape[1]), map) : map;
    };
    check_exact("hed plain post " + input, hwc3(finish(hed_edge_map(stored, w, h, false))), out["plain"]);
    check_exact("hed safe post " + input, hwc3(finish(hed_edge_map(stored, w, h, true))), out["safe"]);
    check_exact("hed scribble post " + input, hwc3(hed_scribble(finish(hed_edge_map(stored, w, h, false)))),
                out["scribble"]);
  }
}

TEST_CASE("HED end to end: A1111 modules through the registry, controlnet_aux HEDdetector") {
  register_network_preprocessors();
  const json& hed = nets()["hed"];
  const AnnotatorDir dir(net_file(hed["weights"]), "ControlNetHED.safetensors");
  for (const json& c : hed["cases"]) {
    const std::string input = c["input"];
    const ControlImage image = golden_input(input);
    const json& out = c["outputs"];
    if (c["implementation"] == "a1111") {
      const int res = c["params"]["resolution"];
      check_end_to_end("softedge_hed " + input, run_preprocessor("softedge_hed", image, res, {}, dir.context()),
                       out["plain"]);
      check_end_to_end("hed (alias) " + input, run_preprocessor("hed", image, res, {}, dir.context()), out["plain"]);
      check_end_to_end("softedge_hedsafe " + input, run_preprocessor("softedge_hedsafe", image, res, {}, dir.context()),
                       out["safe"]);
      check_end_to_end("scribble_hed " + input, run_preprocessor("scribble_hed", image, res, {}, dir.context()),
                       out["scribble"]);
    } else {
      const fs::path weights = net_file(hed["weights"]);
      const int detect = c["params"]["detect_resolution"], target = c["params"]["image_resolution"];
      check_end_to_end("HEDdetector " + input, hed_controlnet_aux(image, weights, detect, target), out["plain"]);
      check_end_to_end("HEDdetector safe " + input, hed_controlnet_aux(image, weights, detect, target, true),
                       out["safe"]);
      check_end_to_end("HEDdetector scribble " + input, hed_controlnet_aux(image, weights, detect, target, false, true),
                       out["scribble"]);
    }
  }
}

TEST_CASE("lineart: output, map, end to end") {
  register_network_preprocessors();
  const json& lineart = nets()["lineart"];
  LineartGenerator net = load_lineart_network(net_file(lineart["weights"]));
  const AnnotatorDir dir(net_file(lineart["weights"]), "sk_model.safetensors");
  for (const json& c : lineart["cases"]) {
    const std::string input = c["input"];
    const bool a1111 = c["implementation"] == "a1111";
    const auto t = tensors_of(c);
    {
      c10::InferenceMode guard;
      const double diff = max_abs_diff(net->forward(t->tensor("input")), t->tensor("output"));
      MESSAGE("lineart " << input << " output: max abs diff " << diff);
      CHECK(diff <= 1e-4);
    }
    const auto shape = c["output"]["shape"].get<std::vector<int>>();
    const ControlImage inverted = invert_map(lineart_line_map(plane_of(t->tensor("output"))));
    check_exact("lineart post " + input, hwc3(a1111 ? remove_pad(crop_to(shape[0], shape[1]), inverted) : inverted),
                c["output"]);
    const ControlImage image = golden_input(input);
    if (a1111) {
      const int res = c["params"]["resolution"];
      check_end_to_end("lineart_realistic " + input,
                       run_preprocessor("lineart_realistic", image, res, {}, dir.context()), c["output"]);
      check_end_to_end("lineart (alias) " + input, run_preprocessor("lineart", image, res, {}, dir.context()),
                       c["output"]);
    } else {
      check_end_to_end("LineartDetector " + input,
                       lineart_controlnet_aux(image, net_file(lineart["weights"]), c["params"]["detect_resolution"],
                                              c["params"]["image_resolution"]),
                       c["output"]);
    }
  }
}

TEST_CASE("Depth Anything V2: input transform, output, map, end to end") {
  register_network_preprocessors();
  const json& depth = nets()["depth_anything_v2"];
  const fs::path weights = net_file(depth["weights"]);
  DepthAnythingV2 net = load_depth_anything_v2_network(weights);
  for (const json& c : depth["cases"]) {
    const std::string input = c["input"];
    const bool a1111 = c["implementation"] == "a1111";
    const auto t = tensors_of(c);
    const ControlImage image = golden_input(input);
    const int input_size = a1111 ? c["a1111_transform_size"].get<int>() : c["input_size"].get<int>();
    // The input transform (resize to multiples of 14, cubic on float64, normalise) from the image.
    const ControlImage rgb = a1111 ? resize_image_with_pad(image, c["resolution"]).padded : image;
    const FloatPlanes transformed = depth_anything_v2_input(rgb, input_size, a1111);
    const torch::Tensor stored_input = t->tensor("input");
    REQUIRE(transformed.height == stored_input.size(2));
    REQUIRE(transformed.width == stored_input.size(3));
    const torch::Tensor mine =
        torch::from_blob(const_cast<float*>(transformed.values.data()), stored_input.sizes(), torch::kFloat32);
    const double input_diff = max_abs_diff(mine, stored_input);
    MESSAGE("depth " << input << " input transform: max abs diff " << input_diff);
    CHECK(input_diff <= 1e-6);
    if (c.contains("input_sha256_f32")) {
      CHECK(kiln::control::test::sha256_hex(transformed.values) == c["input_sha256_f32"].get<std::string>());
    }
    {
      c10::InferenceMode guard;
      const double diff = max_abs_diff(net->forward(stored_input), t->tensor("output"));
      MESSAGE("depth " << input << " output: max abs diff " << diff);
      CHECK(diff <= 1e-4);
    }
    // Post-processing from the stored output: exact.
    const auto shape = c["output"]["shape"].get<std::vector<int>>();
    const ControlImage post = depth_output_to_map(t->tensor("output"), rgb.height, rgb.width, !a1111);
    check_exact("depth post " + input, a1111 ? hwc3(remove_pad(crop_to(shape[0], shape[1]), post)) : post, c["output"]);
    // End to end.
    const ControlImage map = a1111 ? hwc3(depth_anything_v2_a1111(image, c["resolution"], weights, {}, input_size))
                                   : depth_anything_v2_upstream(image, weights, input_size);
    check_end_to_end(std::string(a1111 ? "depth_anything_v2 " : "infer_image ") + input, map, c["output"]);
  }
  // The registered module (transform size 518) runs on the tiny network and keeps the size.
  const AnnotatorDir dir(weights, "depth_anything_v2_vits.safetensors");
  const ControlImage map =
      run_preprocessor("depth_anything_v2", golden_input("photo_landscape"), 64, {}, dir.context());
  CHECK(map.width == 96);
  CHECK(map.height == 64);
  CHECK(map.channels == 3);
}

TEST_CASE("full-size networks have the reference state_dict names and shapes") {
  {
    ControlNetHED hed;
    CHECK(module_keys(*hed) == golden_keys("hed_ControlNetHED_Apache2"));
  }
  {
    LineartGenerator lineart;
    CHECK(module_keys(*lineart) == golden_keys("lineart_Generator_3_1_3"));
  }
  for (const char* encoder : {"vits", "vitb"}) {
    DepthAnythingV2 depth(DepthAnythingV2Config::for_encoder(encoder));
    INFO(encoder);
    CHECK(module_keys(*depth) == golden_keys(std::string("depth_anything_v2_") + encoder));
  }
}

TEST_CASE("registry entries: A1111 names, aliases, weight files, licences") {
  register_network_preprocessors();
  register_network_preprocessors();  // idempotent
  for (const auto& [name, alias, file] :
       {std::tuple{"softedge_hed", "hed", "ControlNetHED.pth"},
        std::tuple{"softedge_hedsafe", "hed_safe", "ControlNetHED.pth"},
        std::tuple{"scribble_hed", "", "ControlNetHED.pth"}, std::tuple{"lineart_realistic", "lineart", "sk_model.pth"},
        std::tuple{"lineart_coarse", "", "sk_model2.pth"},
        std::tuple{"depth_anything_v2", "", "depth_anything_v2_vits.pth"}}) {
    INFO(name);
    const auto p = find_preprocessor(name);
    REQUIRE(p);
    CHECK(p->takes_resolution);
    CHECK(p->default_resolution == 512);
    REQUIRE(!p->weights.file_names.empty());
    CHECK(p->weights.file_names.front() == file);
    CHECK(!p->weights.licence.empty());
    CHECK(p->weights.source.rfind("https://huggingface.co/", 0) == 0);
    if (std::string(alias).size()) CHECK(find_preprocessor(alias) == p);
  }
  CHECK(find_preprocessor("softedge_hed")->weights.licence.find("Apache-2.0") != std::string::npos);
  CHECK(find_preprocessor("depth_anything_v2")->weights.licence.find("Apache-2.0 (Small, vits)") == 0);
  // DWPose (dwpose.h, OpenCV DNN) comes with the networks, needing its two ONNX files.
  const auto dwpose = find_preprocessor("dw_openpose_full");
  REQUIRE(dwpose);
  CHECK(dwpose->weights.file_names.front() == "dw-ll_ucoco_384.onnx");
  REQUIRE(dwpose->more_weights.size() == 1);
  CHECK(dwpose->more_weights.front().file_names.front() == "yolox_l.onnx");
  // The registry lists names once (aliases are not entries).
  int hed_entries = 0;
  for (const auto& p : preprocessors()) hed_entries += p->name == "softedge_hed" || p->name == "hed";
  CHECK(hed_entries == 1);
}

TEST_CASE("annotator cache: a file is loaded once per device") {
  register_network_preprocessors();
  clear_annotator_cache();
  const json& lineart = nets()["lineart"];
  const AnnotatorDir dir(net_file(lineart["weights"]), "sk_model2.safetensors");
  const ControlImage image = golden_input("lines");
  const ControlImage a = run_preprocessor("lineart_coarse", image, 64, {}, dir.context());
  const ControlImage b = run_preprocessor("lineart_coarse", image, 64, {}, dir.context());
  CHECK(annotator_cache_size() == 1);
  CHECK(a.pixels == b.pixels);
  clear_annotator_cache();
  CHECK(annotator_cache_size() == 0);
}

TEST_CASE("network preprocessors: missing, mis-shaped and truncated weight files") {
  register_network_preprocessors();
  const ControlImage image = golden_input("photo_landscape");

  SUBCASE("no weight file in the annotator folders") {
    kiln::test::ScratchDir empty("kiln-annotators");
    PreprocessorContext context;
    context.annotator_dirs = {empty.path()};
    const auto e = thrown<kiln::FileError>([&] { run_preprocessor("hed", image, 64, {}, context); });
    CHECK(e.message() ==
          "preprocessor 'softedge_hed' needs its weights ControlNetHED.pth or ControlNetHED.safetensors, "
          "found in none of: " +
              empty.path().string() + ", " + (empty.path() / "hed").string() + ", " +
              (empty.path() / "lllyasviel/Annotators").string() + ", " + (empty.path() / "Annotators").string());
    CHECK(e.hint() ==
          "download ControlNetHED.pth from https://huggingface.co/lllyasviel/Annotators (licence: Apache-2.0 "
          "(ControlNetHED_Apache2; the Hugging Face repo is marked 'other')) into an annotator folder (kiln-cli: "
          "--annotator-dir)");
    const auto none = thrown<kiln::FileError>([&] { run_preprocessor("depth_anything_v2", image, 64); });
    CHECK(none.message().find("(no annotator folder is set)") != std::string::npos);
    CHECK(none.hint().find("https://huggingface.co/depth-anything/Depth-Anything-V2-Small") != std::string::npos);
  }

  SUBCASE("weights of another network") {
    const AnnotatorDir dir(net_file(nets()["lineart"]["weights"]), "ControlNetHED.safetensors");
    const auto e =
        thrown<kiln::WeightMismatchError>([&] { run_preprocessor("softedge_hed", image, 64, {}, dir.context()); });
    CHECK(e.message().rfind("HED: not a ControlNetHED checkpoint: no 4-D block1.convs.0.weight", 0) == 0);
    CHECK(e.path() == dir.dir / "ControlNetHED.safetensors");
    CHECK(e.hint().find("expected ControlNetHED.pth, ControlNetHED.safetensors from "
                        "https://huggingface.co/lllyasviel/Annotators") != std::string::npos);
  }

  SUBCASE("a mis-shaped tensor and a missing one are reported together") {
    kiln::test::ScratchDir dir("kiln-annotators");
    const auto source = kiln::io::SafetensorsFile::open(net_file(nets()["hed"]["weights"]));
    kiln::io::NamedTensors tensors;
    for (const auto& entry : source->index().entries()) {
      if (entry.name == "block5.projection.bias") continue;
      torch::Tensor t = source->tensor(entry.name);
      if (entry.name == "norm") t = torch::zeros({1, 4, 1, 1});
      tensors.emplace_back(entry.name, t);
    }
    kiln::io::write_safetensors(dir / "ControlNetHED.safetensors", tensors);
    PreprocessorContext context;
    context.annotator_dirs = {dir.path()};
    const auto e = thrown<kiln::WeightMismatchError>([&] { run_preprocessor("softedge_hed", image, 64, {}, context); });
    CHECK(e.message() ==
          "HED: weights do not fit ControlNetHED_Apache2: 1 missing, 0 unexpected, 1 mis-shaped\n"
          "  missing (1):\n    block5.projection.bias\n"
          "  mis-shaped (1):\n    norm: expected [1, 3, 1, 1] Float, got [1, 4, 1, 1] Float");
    CHECK(e.path() == dir / "ControlNetHED.safetensors");
  }

  SUBCASE("a truncated file") {
    kiln::test::ScratchDir dir("kiln-annotators");
    const fs::path source = net_file(nets()["depth_anything_v2"]["weights"]);
    const fs::path cut = dir / "depth_anything_v2_vits.safetensors";
    fs::copy_file(source, cut);
    fs::resize_file(cut, fs::file_size(source) / 2);
    PreprocessorContext context;
    context.annotator_dirs = {dir.path()};
    const auto e = thrown<kiln::FormatError>([&] { run_preprocessor("depth_anything_v2", image, 64, {}, context); });
    CHECK(e.message().rfind("Depth Anything V2: ", 0) == 0);
    CHECK(e.path() == cut);
    CHECK(e.hint().find("depth_anything_v2_vits.pth") != std::string::npos);
  }

  SUBCASE("a bad device") {
    const AnnotatorDir dir(net_file(nets()["hed"]["weights"]), "ControlNetHED.pth");
    PreprocessorContext context = dir.context();
    context.device = "toaster";
    CHECK_THROWS_AS(run_preprocessor("softedge_hed", image, 64, {}, context), kiln::InvalidRequestError);
  }
}
