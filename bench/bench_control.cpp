// Control-map preprocessors at resolution 512 on the CPU: the OpenCV-only ones and the network
// ones (HED, lineart, Depth Anything V2 vits) with full-size random weights written to a
// temporary annotator folder (the published files are not needed: timing does not depend on the
// values). Input: the golden 256x300 portrait, which A1111's resize_image_with_pad takes to
// 512x600 padded to 512x640 (Depth Anything then sees 518x606). Prints the median of 3 warm runs
// per preprocessor and the cold first run (loading the weights) of the networks.
// Usage: bench_control [runs=3]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "base/engine.h"
#include "bench_util.h"
#include "control/control_image.h"
#include "control/depth_anything_v2.h"
#include "control/hed_network.h"
#include "control/lineart_network.h"
#include "control/network_preprocessors.h"
#include "control/preprocessor.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;
using namespace kiln::control;

namespace {

template <typename Module>
void write_random_weights(Module& module, const fs::path& path) {
  kiln::io::NamedTensors tensors;
  for (const auto& p : module->named_parameters()) tensors.emplace_back(p.key(), p.value().detach());
  kiln::io::write_safetensors(path, tensors);
}

struct Row {
  std::string name;
  PreprocessorParams params;
};

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  const int threads = kiln::init_engine();
  torch::manual_seed(0);

  const fs::path dir = fs::temp_directory_path() / "kiln-bench-control";
  fs::create_directories(dir);
  {
    ControlNetHED hed;
    write_random_weights(hed, dir / "ControlNetHED.safetensors");
    LineartGenerator lineart;
    write_random_weights(lineart, dir / "sk_model.safetensors");
    DepthAnythingV2 depth(DepthAnythingV2Config::for_encoder("vits"));
    write_random_weights(depth, dir / "depth_anything_v2_vits.safetensors");
  }
  register_network_preprocessors();
  PreprocessorContext context;
  context.annotator_dirs = {dir};

  const ControlImage image =
      load_control_image(fs::path(KILN_SOURCE_DIR) / "tests/data/golden/control_maps/inputs/photo_portrait.png");
  const std::vector<Row> rows = {
      {"invert", {}},
      {"canny", {}},
      {"threshold", {}},
      {"scribble_xdog", {}},
      {"lineart_standard", {}},
      {"blur_gaussian", {}},
      {"tile_resample", {{"down_sampling_rate", 2.0}}},
      {"softedge_hed", {}},
      {"softedge_hedsafe", {}},
      {"scribble_hed", {}},
      {"lineart_realistic", {}},
      {"depth_anything_v2", {}},
  };

  std::printf("control preprocessors, input %dx%d RGB, resolution 512, CPU, %d intra-op threads, median of %d\n",
              image.width, image.height, threads, runs);
  std::printf("%-20s %-12s %12s %12s\n", "preprocessor", "map", "median ms", "first ms");
  for (const Row& row : rows) {
    ControlImage map;
    const double first =
        kiln::bench::median_seconds(1, [&] { map = run_preprocessor(row.name, image, 512, row.params, context); });
    const double median =
        kiln::bench::median_seconds(runs, [&] { map = run_preprocessor(row.name, image, 512, row.params, context); });
    const std::string size = std::to_string(map.width) + "x" + std::to_string(map.height);
    std::printf("%-20s %-12s %12.1f %12.1f\n", row.name.c_str(), size.c_str(), median * 1e3, first * 1e3);
  }
  fs::remove_all(dir);
  return 0;
}
