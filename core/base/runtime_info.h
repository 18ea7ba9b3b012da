#pragma once
// What this build runs on: Kiln's and LibTorch's versions, whether LibTorch was built with CUDA
// (and which CUDA / cuDNN), the CPU it dispatches for and the CUDA devices it sees. Shown by
// `kiln-cli --version` and Help > About. Never throws: a machine without an NVIDIA driver or a
// CPU-only LibTorch is a normal answer, with the reason in `cuda_status`.

#include <string>
#include <vector>

namespace kiln {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  double memory_gib = 0;
  int capability_major = 0;
  int capability_minor = 0;
};

struct RuntimeInfo {
  std::string kiln_version;
  std::string libtorch_version;  // the headers Kiln was compiled against, e.g. "2.11.0"
  bool built_with_cuda = false;  // libtorch_cuda is linked and registered its hooks
  std::string cuda_version;      // CUDA runtime LibTorch was built with, e.g. "13.0"; "" without
  std::string cudnn_version;     // cuDNN LibTorch was built with, e.g. "9.19.0"; "" without
  std::string cpu_capability;    // the kernels ATen dispatches to on this CPU: "AVX512", "AVX2", ...
  int cpu_threads = 0;
  std::vector<CudaDeviceInfo> cuda_devices;
  std::string cuda_status;  // one line: why no device is usable, or how many are
};

RuntimeInfo runtime_info();

// Several lines, one fact each (what --version prints after its first line).
std::string describe(const RuntimeInfo& info);

}  // namespace kiln
