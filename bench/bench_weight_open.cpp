// Opening a large safetensors file: memory map + header (what Kiln does) against reading the
// whole file into memory. Usage: bench_weight_open [GiB=2] [folder=/tmp]
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "base/engine.h"
#include "bench_util.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  kiln::init_engine();
  const double gib = argc > 1 ? std::atof(argv[1]) : 2.0;
  const fs::path dir = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path();
  const fs::path file = dir / "kiln-bench-open.safetensors";

  // ~2 GiB of fp16 in 64 MiB tensors, like the UNet of a pruned SD 1.5 checkpoint.
  const int64_t per = 32ll << 20;  // elements per tensor (64 MiB in fp16)
  const int count = static_cast<int>(gib * 1024 / 64);
  {
    kiln::io::NamedTensors tensors;
    for (int i = 0; i < count; ++i) {
      tensors.emplace_back("model.diffusion_model.block." + std::to_string(i) + ".weight",
                           torch::full({per}, static_cast<double>(i), torch::kHalf));
    }
    kiln::io::write_safetensors(file, tensors);
  }
  const double size_gib = static_cast<double>(fs::file_size(file)) / (1 << 30);

  volatile float sink = 0;
  const double t_map = kiln::bench::median_seconds(5, [&] {
    auto f = kiln::io::SafetensorsFile::open(file);
    sink = sink + f->tensor(f->index().entries().back().name)[0].item<float>();
  });
  const double t_read = kiln::bench::median_seconds(3, [&] {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> all(fs::file_size(file));
    in.read(all.data(), static_cast<std::streamsize>(all.size()));
    sink = sink + static_cast<float>(all.back());
  });
  // Touching every page of the mapping: the cost deferred by mmap, paid only when used.
  const double t_map_touch = kiln::bench::median_seconds(3, [&] {
    auto f = kiln::io::SafetensorsFile::open(file);
    double sum = 0;
    for (const auto& e : f->index().entries()) sum += f->tensor(e.name).sum().item<double>();
    sink = sink + static_cast<float>(sum);
  });
  std::printf("file: %.2f GiB, %d tensors (page cache warm)\n", size_gib, count);
  std::printf("open by mmap + header, one tensor: %.3f ms (median of 5)\n", t_map * 1e3);
  std::printf("read whole file into memory:       %.1f ms (median of 3)  ratio read/mmap: x%.0f\n", t_read * 1e3,
              t_read / t_map);
  std::printf("mmap and sum every tensor:         %.1f ms (median of 3)\n", t_map_touch * 1e3);
  fs::remove(file);
  return 0;
}
