#include "base/dtype.h"

#include <c10/core/ScalarType.h>

namespace kiln {

std::size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    case DType::I8:
    case DType::U8:
    case DType::Bool: return 1;
  }
  return 1;
}

std::string_view to_string(DType dtype) {
  switch (dtype) {
    case DType::F64: return "F64";
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

std::optional<DType> dtype_from_string(std::string_view name) {
  for (DType d : kAllDTypes) {
    if (to_string(d) == name) return d;
  }
  return std::nullopt;
}

bool is_floating(DType dtype) {
  return dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

c10::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::F64: return c10::ScalarType::Double;
    case DType::F32: return c10::ScalarType::Float;
    case DType::F16: return c10::ScalarType::Half;
    case DType::BF16: return c10::ScalarType::BFloat16;
    case DType::I64: return c10::ScalarType::Long;
    case DType::I32: return c10::ScalarType::Int;
    case DType::I16: return c10::ScalarType::Short;
    case DType::I8: return c10::ScalarType::Char;
    case DType::U8: return c10::ScalarType::Byte;
    case DType::Bool: return c10::ScalarType::Bool;
  }
  return c10::ScalarType::Float;
}

std::optional<DType> from_scalar_type(c10::ScalarType type) {
  for (DType d : kAllDTypes) {
    if (to_scalar_type(d) == type) return d;
  }
  return std::nullopt;
}

}  // namespace kiln
