#include "base/runtime_info.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/cpu/Utils.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <unordered_map>

#include "base/build_config.h"

#if KILN_TORCH_CUDA
#include <ATen/cuda/CUDAContextLight.h>
#endif

namespace kiln {
namespace {

// LibTorch reports a missing driver as a warning on first use ("Found no NVIDIA driver on your
// system..."): collect it as the reason instead of letting it reach stderr.
class CollectWarnings : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override {
    if (first.empty()) first = warning.msg();
  }
  std::string first;
};

std::string first_sentence(std::string text) {
  if (const auto dot = text.find(". "); dot != std::string::npos) text.resize(dot + 1);
  return text;
}

// What the hardware says, asked once per process (cpuinfo's answer does not change).
const CpuBf16Support& hardware_bf16_support() {
  static const CpuBf16Support support = [] {
    CpuBf16Support s;
    std::unordered_map<std::string, c10::IValue> caps;
    try {
      caps = at::cpu::get_cpu_capabilities();
    } catch (const c10::Error& e) {
      s.detail = "unknown (" + first_sentence(e.what_without_backtrace()) + ")";
      return s;
    }
    const auto has = [&](const char* key) {
      const auto it = caps.find(key);
      return it != caps.end() && it->second.isBool() && it->second.toBool();
    };
#if defined(__x86_64__) || defined(_M_X64)
    const bool avx512 = has("avx512_bf16"), amx = has("amx_bf16");
    s.native = avx512 || amx;
    s.detail = amx && avx512 ? "AMX-BF16 and AVX512-BF16" : amx ? "AMX-BF16" : avx512 ? "AVX512-BF16" : "no AVX512-BF16 or AMX-BF16";
#elif defined(__aarch64__) || defined(_M_ARM64)
    s.native = has("bf16");
    s.detail = s.native ? "Arm BF16" : "no Arm BF16 extension";
#else
    s.detail = "no bf16 instructions known for this architecture";
#endif
    return s;
  }();
  return support;
}

}  // namespace

CpuBf16Support cpu_bf16_support() {
  const char* assume_no = std::getenv("KILN_ASSUME_NO_BF16");
  if (assume_no != nullptr && std::strcmp(assume_no, "1") == 0) return {false, "KILN_ASSUME_NO_BF16 is set"};
  return hardware_bf16_support();
}

bool cpu_computes_bf16_natively() { return cpu_bf16_support().native; }

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.kiln_version = KILN_VERSION_STRING;
  info.libtorch_version = TORCH_VERSION;
  info.cpu_capability = at::get_cpu_capability();
  info.cpu_threads = at::get_num_threads();
  const CpuBf16Support bf16 = cpu_bf16_support();
  info.cpu_bf16 = bf16.native;
  info.cpu_bf16_detail = bf16.detail;
#if KILN_TORCH_CUDA
  const auto& hooks = at::detail::getCUDAHooks();
  info.built_with_cuda = hooks.isBuilt();
  if (!info.built_with_cuda) {
    info.cuda_status = "CUDA: this LibTorch was built with CUDA, but libtorch_cuda is not loaded";
    return info;
  }
  try {
    const long cudart = hooks.versionCUDART();  // e.g. 13000
    info.cuda_version = std::to_string(cudart / 1000) + "." + std::to_string(cudart % 1000 / 10);
    if (hooks.compiledWithCuDNN()) {
      const long cudnn = hooks.versionCuDNN();  // major * 10000 + minor * 100 + patch (cuDNN >= 9)
      info.cudnn_version = std::to_string(cudnn / 10000) + "." + std::to_string(cudnn % 10000 / 100) + "." +
                           std::to_string(cudnn % 100);
    }
    CollectWarnings warnings;
    int count = 0;
    {
      c10::WarningUtils::WarningHandlerGuard guard(&warnings);
      count = hooks.getNumGPUs();
    }
    for (int i = 0; i < count; ++i) {
      const cudaDeviceProp* prop = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
      info.cuda_devices.push_back({i, prop->name, static_cast<double>(prop->totalGlobalMem) / (1ull << 30),
                                   prop->major, prop->minor});
    }
    if (count > 0) {
      info.cuda_status = std::to_string(count) + (count == 1 ? " CUDA device" : " CUDA devices");
    } else if (!warnings.first.empty()) {
      info.cuda_status = "no CUDA device: " + first_sentence(warnings.first);
    } else if (void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL); driver == nullptr) {
      info.cuda_status = "no CUDA device: no NVIDIA driver (libcuda.so.1 not found)";
    } else {
      dlclose(driver);
      info.cuda_status = "no CUDA device: the NVIDIA driver reports none";
    }
  } catch (const c10::Error& e) {
    info.cuda_status = "CUDA unusable: " + first_sentence(e.what_without_backtrace());
  }
#else
  info.cuda_status = "no CUDA: this LibTorch is CPU-only";
#endif
  return info;
}

std::string describe(const RuntimeInfo& info) {
  std::ostringstream out;
  out << "LibTorch " << info.libtorch_version;
  if (info.built_with_cuda) {
    out << ", built with CUDA " << info.cuda_version;
    if (!info.cudnn_version.empty()) out << " and cuDNN " << info.cudnn_version;
  } else {
    out << ", CPU only";
  }
  out << "\nCPU: " << info.cpu_threads << (info.cpu_threads == 1 ? " thread, " : " threads, ") << info.cpu_capability
      << " kernels, " << (info.cpu_bf16 ? "native bf16 (" : "no native bf16 (") << info.cpu_bf16_detail << ")\n";
  for (const auto& d : info.cuda_devices) {
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f", d.memory_gib);
    out << "CUDA device " << d.index << ": " << d.name << ", " << memory << " GiB, compute capability "
        << d.capability_major << "." << d.capability_minor << "\n";
  }
  if (info.cuda_devices.empty()) out << "GPU: " << info.cuda_status << "\n";
  return out.str();
}

}  // namespace kiln
