// GEMM throughput of the LibTorch in use, with the thread count the engine sets: the peak
// that model benchmarks compare their GFLOP/s against.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "base/engine.h"
#include "bench_util.h"

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 2048;
  const int before = at::get_num_threads();
  const int threads = kiln::init_engine();
  std::printf("LibTorch %s, intra-op threads: %d at start-up, %d after init_engine\n", TORCH_VERSION, before, threads);
  std::printf("%s\n", at::get_parallel_info().c_str());

  auto run = [&](at::ScalarType dtype, int use_threads) {
    at::set_num_threads(use_threads);
    auto a = torch::randn({n, n}).to(dtype);
    auto b = torch::randn({n, n}).to(dtype);
    auto c = torch::matmul(a, b);  // warm-up
    const double s = kiln::bench::median_seconds(5, [&] { c = torch::matmul(a, b); });
    return 2.0 * n * n * n / s / 1e9;
  };
  const double f32_1 = run(at::kFloat, 1);
  const double f32_n = run(at::kFloat, threads);
  std::printf("GEMM %lldx%lld fp32: %.1f GFLOP/s with 1 thread, %.1f GFLOP/s with %d threads (x%.2f)\n",
              static_cast<long long>(n), static_cast<long long>(n), f32_1, f32_n, threads, f32_n / f32_1);
  const double bf16_n = run(at::kBFloat16, threads);
  std::printf("GEMM %lldx%lld bf16: %.1f GFLOP/s with %d threads (x%.2f of fp32)\n", static_cast<long long>(n),
              static_cast<long long>(n), bf16_n, threads, bf16_n / f32_n);
  return 0;
}
