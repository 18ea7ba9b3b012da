#pragma once
// What this build runs on: Kiln's and LibTorch's versions, whether LibTorch was built with CUDA
// (and which CUDA / cuDNN), the CPU it dispatches for and the CUDA devices it sees. Shown by
// `kiln-cli --version` and Help > About. Never throws: a machine without an NVIDIA driver or a
// CPU-only LibTorch is a normal answer, with the reason in `cuda_status`. Also whether the CPU
// computes bf16 natively, which decides whether bf16 is offered on the CPU (base/precision.h).

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
  bool cpu_bf16 = false;        // cpu_bf16_support().native
  std::string cpu_bf16_detail;  // cpu_bf16_support().detail
  std::vector<CudaDeviceInfo> cuda_devices;
  std::string cuda_status;  // one line: why no device is usable, or how many are
};

RuntimeInfo runtime_info();

// Whether this CPU computes bf16 natively, as cpuinfo (through LibTorch's
// at::cpu::get_cpu_capabilities()) reports it: on x86-64 the AVX512-BF16 or AMX-BF16
// instructions, on 64-bit Arm the BF16 extension (FEAT_BF16; no finer check: oneDNN/ACL use it
// where it exists). Anywhere else LibTorch emulates bf16 in fp32 arithmetic, and its bf16
// matrix products run about 30x slower than fp32 (5 GFLOP/s on an AVX2 CPU).
//
// KILN_ASSUME_NO_BF16=1 in the environment makes the answer "no" on any CPU: a testing and
// diagnostic switch (see how Kiln behaves on a CPU without bf16). It is read here and nowhere
// else; every part of Kiln asks this function.
struct CpuBf16Support {
  bool native = false;
  // Why, for --version and tooltips: "AVX512-BF16", "AMX-BF16 and AVX512-BF16", "Arm BF16",
  // "no AVX512-BF16 or AMX-BF16", "KILN_ASSUME_NO_BF16 is set", ...
  std::string detail;
};
CpuBf16Support cpu_bf16_support();
bool cpu_computes_bf16_natively();

// Several lines, one fact each (what --version prints after its first line).
std::string describe(const RuntimeInfo& info);

}  // namespace kiln
