#pragma once
// The precision the diffusion models compute in, as users choose it (GUI Generate page,
// `kiln-cli generate --dtype`) and as Kiln resolves it for a device:
//
//   Auto  CUDA: fp16. CPU: bf16 when kCpuAutoUsesBf16 and the CPU computes bf16 natively,
//         else fp32.
//   FP32  anywhere.
//   BF16  CUDA, or a CPU that computes bf16 natively (cpu_computes_bf16_natively()); elsewhere
//         refused: LibTorch emulates bf16 there and its matrix products run about 30x slower
//         than fp32.
//   FP16  CUDA only: LibTorch's CPU kernels have no fp16 convolutions.
//
// Refusals are InvalidRequestErrors whose message says why and whose hint names what to use.

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <string_view>

namespace kiln {

enum class Precision { Auto, FP32, BF16, FP16 };

inline constexpr Precision kAllPrecisions[] = {Precision::Auto, Precision::FP32, Precision::BF16, Precision::FP16};

// What Auto means on a CPU with native bf16: the one switch of the CPU default, set from the
// measured error and speed of bf16 against fp32 (docs/performance.md, "bf16 as a choice"): a whole
// 512x512 20-step generation is 1.69x faster in bf16 and its image is 49.5 dB from fp32's (mean
// difference 0.6 of 255: invisible), but not the same image. Kiln promises that a seed gives
// diffusers' (and A1111's CPU) image, so the default stays fp32 and bf16 is one choice away,
// offered with what it means. false: fp32.
inline constexpr bool kCpuAutoUsesBf16 = false;

// "auto", "fp32", "bf16", "fp16": the CLI's and the settings' spelling.
std::string_view to_string(Precision precision);
// Case-insensitive; nullopt for another text.
std::optional<Precision> precision_from_string(std::string_view name);

// "fp32", "bf16", "fp16" for the three model dtypes; the ScalarType's name for another.
std::string precision_name(c10::ScalarType dtype);

struct ResolvedPrecision {
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::string reason;  // one line naming the dtype and why, e.g. "fp16, automatic on CUDA"
};

// The dtype `requested` means on `device`; `cpu_bf16`: whether this CPU computes bf16 natively
// (cpu_computes_bf16_natively(), passed in so both answers can be tested on any machine).
// Throws InvalidRequestError for bf16 on a CPU without native bf16 and for fp16 on a CPU.
ResolvedPrecision resolve_precision(Precision requested, const c10::Device& device, bool cpu_bf16);

}  // namespace kiln
