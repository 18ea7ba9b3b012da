#pragma once
// What every fuzz target shares: bytes as a span, and the rule that a parser of outside bytes
// answers bad input with a kiln::Error (caught here); anything else escaping (another exception,
// a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/error.h"

namespace kiln::fuzz {

inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

template <class F>
void expect_kiln_errors_only(F&& f) {
  try {
    f();
  } catch (const kiln::Error&) {
  }
}

}  // namespace kiln::fuzz
