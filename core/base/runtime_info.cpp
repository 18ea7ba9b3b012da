#include "base/runtime_info.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <cstdio>
#include <sstream>

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

}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.kiln_version = KILN_VERSION_STRING;
  info.libtorch_version = TORCH_VERSION;
  info.cpu_capability = at::get_cpu_capability();
  info.cpu_threads = at::get_num_threads();
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
      << " kernels\n";
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
