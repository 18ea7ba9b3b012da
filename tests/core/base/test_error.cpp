#include <doctest/doctest.h>

#include "base/dtype.h"
#include "base/error.h"

TEST_CASE("errors compose path, message and hint") {
  kiln::FormatError e("header is not valid JSON", "/models/a.safetensors", "re-download it");
  CHECK(std::string(e.what()) == "/models/a.safetensors: header is not valid JSON (re-download it)");
  CHECK(e.kind() == kiln::ErrorKind::Format);
  CHECK(e.message() == "header is not valid JSON");
  CHECK(e.path() == "/models/a.safetensors");

  kiln::InvalidRequestError r("steps must be >= 1, got 0");
  CHECK(std::string(r.what()) == "steps must be >= 1, got 0");
  CHECK(r.kind() == kiln::ErrorKind::InvalidRequest);
}

TEST_CASE("dtype names and sizes follow safetensors") {
  for (kiln::DType d : kiln::kAllDTypes) {
    const auto name = kiln::to_string(d);
    REQUIRE(kiln::dtype_from_string(name).has_value());
    CHECK(*kiln::dtype_from_string(name) == d);
    CHECK(kiln::from_scalar_type(kiln::to_scalar_type(d)) == d);
  }
  CHECK(kiln::element_size(kiln::DType::BF16) == 2);
  CHECK(kiln::element_size(kiln::DType::F64) == 8);
  CHECK(kiln::element_size(kiln::DType::Bool) == 1);
  CHECK(kiln::to_string(kiln::DType::Bool) == "BOOL");
  CHECK_FALSE(kiln::dtype_from_string("F8_E4M3").has_value());
  CHECK(kiln::is_floating(kiln::DType::BF16));
  CHECK_FALSE(kiln::is_floating(kiln::DType::I64));
}
