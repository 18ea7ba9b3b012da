#pragma once
// Element types of weight files, independent of torch so that indexes and headers can be
// parsed without it. Names are the safetensors spellings.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace c10 {
enum class ScalarType : int8_t;
}

namespace kiln {

enum class DType : std::uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

inline constexpr DType kAllDTypes[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                       DType::I32, DType::I16, DType::I8,  DType::U8,   DType::Bool};

std::size_t element_size(DType dtype);
std::string_view to_string(DType dtype);                // "F32", "BF16", ...
std::optional<DType> dtype_from_string(std::string_view name);
bool is_floating(DType dtype);

c10::ScalarType to_scalar_type(DType dtype);
std::optional<DType> from_scalar_type(c10::ScalarType type);

}  // namespace kiln
