#include "base/precision.h"

#include <cctype>

#include "base/error.h"

namespace kiln {

std::string_view to_string(Precision precision) {
  switch (precision) {
    case Precision::Auto: return "auto";
    case Precision::FP32: return "fp32";
    case Precision::BF16: return "bf16";
    case Precision::FP16: return "fp16";
  }
  return "auto";
}

std::optional<Precision> precision_from_string(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (Precision p : kAllPrecisions) {
    if (to_string(p) == lower) return p;
  }
  return std::nullopt;
}

std::string precision_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::ScalarType::Float: return "fp32";
    case c10::ScalarType::BFloat16: return "bf16";
    case c10::ScalarType::Half: return "fp16";
    default: return c10::toString(dtype);
  }
}

ResolvedPrecision resolve_precision(Precision requested, const c10::Device& device, bool cpu_bf16) {
  const bool cuda = device.is_cuda();
  switch (requested) {
    case Precision::Auto:
      if (cuda) return {c10::ScalarType::Half, "fp16, automatic on CUDA"};
      if (kCpuAutoUsesBf16 && cpu_bf16) return {c10::ScalarType::BFloat16, "bf16, automatic on a CPU that computes bf16 natively"};
      if (kCpuAutoUsesBf16) return {c10::ScalarType::Float, "fp32, automatic on a CPU without native bf16"};
      return {c10::ScalarType::Float, "fp32, automatic on the CPU"};
    case Precision::FP32:
      return {c10::ScalarType::Float, "fp32, as chosen"};
    case Precision::BF16:
      if (cuda) return {c10::ScalarType::BFloat16, "bf16, as chosen, on CUDA"};
      if (!cpu_bf16)
        throw InvalidRequestError(
            "bf16 was chosen, but this CPU does not compute bf16 natively (no AVX512-BF16 or AMX-BF16 instructions): "
            "LibTorch emulates it there, and its bf16 matrix products run about 30x slower than fp32",
            "use fp32 (or auto) on this CPU");
      return {c10::ScalarType::BFloat16, "bf16, as chosen; this CPU computes it natively"};
    case Precision::FP16:
      if (!cuda)
        throw InvalidRequestError("fp16 needs a CUDA device: LibTorch's CPU kernels have no fp16 convolutions",
                                  cpu_bf16 ? "use fp32 or bf16 on the CPU" : "use fp32 on the CPU");
      return {c10::ScalarType::Half, "fp16, as chosen, on CUDA"};
  }
  return {c10::ScalarType::Float, "fp32"};
}

}  // namespace kiln
