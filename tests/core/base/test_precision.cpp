// The precision rules (base/precision.h) for both answers of "does the CPU compute bf16
// natively", on any machine, and the detection itself against /proc/cpuinfo.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/error.h"
#include "base/precision.h"
#include "base/runtime_info.h"

using kiln::Precision;
using kiln::resolve_precision;

namespace {

const c10::Device kCpu(c10::kCPU);
const c10::Device kCuda(c10::kCUDA);

// The dtype's name: doctest cannot print a ScalarType.
std::string dtype(const kiln::ResolvedPrecision& r) { return kiln::precision_name(r.dtype); }

std::string refusal(Precision p, const c10::Device& device, bool cpu_bf16) {
  try {
    resolve_precision(p, device, cpu_bf16);
  } catch (const kiln::InvalidRequestError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("precision names round-trip, case-insensitively") {
  for (Precision p : kiln::kAllPrecisions) {
    REQUIRE(kiln::precision_from_string(kiln::to_string(p)).has_value());
    CHECK(*kiln::precision_from_string(kiln::to_string(p)) == p);
  }
  CHECK(kiln::precision_from_string("BF16") == Precision::BF16);
  CHECK(kiln::precision_from_string("Auto") == Precision::Auto);
  CHECK_FALSE(kiln::precision_from_string("fp8").has_value());
  CHECK_FALSE(kiln::precision_from_string("").has_value());
  CHECK(kiln::precision_name(c10::ScalarType::Float) == "fp32");
  CHECK(kiln::precision_name(c10::ScalarType::BFloat16) == "bf16");
  CHECK(kiln::precision_name(c10::ScalarType::Half) == "fp16");
}

TEST_CASE("automatic precision: fp16 on CUDA, the one constant on a CPU with bf16, fp32 on one without") {
  for (bool cpu_bf16 : {false, true}) {
    CAPTURE(cpu_bf16);
    const auto cuda = resolve_precision(Precision::Auto, kCuda, cpu_bf16);
    CHECK(dtype(cuda) == "fp16");
    CHECK(cuda.reason == "fp16, automatic on CUDA");
  }
  const auto with = resolve_precision(Precision::Auto, kCpu, true);
  CHECK(dtype(with) == (kiln::kCpuAutoUsesBf16 ? "bf16" : "fp32"));
  CHECK(with.reason.rfind(kiln::kCpuAutoUsesBf16 ? "bf16, automatic" : "fp32, automatic", 0) == 0);
  const auto without = resolve_precision(Precision::Auto, kCpu, false);
  CHECK(dtype(without) == "fp32");
  CHECK(without.reason.rfind("fp32, automatic", 0) == 0);
}

TEST_CASE("fp32 is taken anywhere") {
  for (bool cpu_bf16 : {false, true}) {
    CHECK(dtype(resolve_precision(Precision::FP32, kCpu, cpu_bf16)) == "fp32");
    CHECK(dtype(resolve_precision(Precision::FP32, kCuda, cpu_bf16)) == "fp32");
  }
}

TEST_CASE("bf16: on CUDA and on a CPU that computes it natively, refused with the reason elsewhere") {
  CHECK(dtype(resolve_precision(Precision::BF16, kCuda, false)) == "bf16");
  CHECK(dtype(resolve_precision(Precision::BF16, kCuda, true)) == "bf16");
  const auto native = resolve_precision(Precision::BF16, kCpu, true);
  CHECK(dtype(native) == "bf16");
  CHECK(native.reason.find("natively") != std::string::npos);

  const std::string why = refusal(Precision::BF16, kCpu, false);
  REQUIRE_FALSE(why.empty());
  CHECK(why.find("does not compute bf16 natively") != std::string::npos);
  CHECK(why.find("30x slower") != std::string::npos);
  CHECK(why.find("use fp32") != std::string::npos);
}

TEST_CASE("fp16 needs CUDA") {
  CHECK(dtype(resolve_precision(Precision::FP16, kCuda, false)) == "fp16");
  for (bool cpu_bf16 : {false, true}) {
    const std::string why = refusal(Precision::FP16, kCpu, cpu_bf16);
    CHECK(why.find("fp16 needs a CUDA device") != std::string::npos);
    // The hint offers bf16 only where it would be taken.
    CHECK((why.find("bf16") != std::string::npos) == cpu_bf16);
  }
}

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
TEST_CASE("native bf16 is what /proc/cpuinfo reports, and KILN_ASSUME_NO_BF16=1 turns it off") {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  bool avx512_bf16 = false, amx_bf16 = false, arm_bf16 = false;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) {
      avx512_bf16 |= w == "avx512_bf16";
      amx_bf16 |= w == "amx_bf16";
      arm_bf16 |= w == "bf16";
    }
  }
#if defined(__x86_64__)
  const bool expected = avx512_bf16 || amx_bf16;
#else
  const bool expected = arm_bf16;
#endif
  ::unsetenv("KILN_ASSUME_NO_BF16");
  CHECK(kiln::cpu_computes_bf16_natively() == expected);
  const kiln::CpuBf16Support hardware = kiln::cpu_bf16_support();
  CHECK_FALSE(hardware.detail.empty());
  CHECK(kiln::runtime_info().cpu_bf16 == expected);
  CHECK(kiln::describe(kiln::runtime_info()).find(expected ? "native bf16 (" : "no native bf16 (") != std::string::npos);

  ::setenv("KILN_ASSUME_NO_BF16", "1", 1);
  CHECK_FALSE(kiln::cpu_computes_bf16_natively());
  CHECK(kiln::cpu_bf16_support().detail == "KILN_ASSUME_NO_BF16 is set");
  ::setenv("KILN_ASSUME_NO_BF16", "0", 1);  // only "1" switches it
  CHECK(kiln::cpu_computes_bf16_natively() == expected);
  ::unsetenv("KILN_ASSUME_NO_BF16");
}
#endif
