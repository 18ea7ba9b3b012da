#include <doctest/doctest.h>

#include "base/python_json.h"

TEST_CASE("Python's non-JSON float tokens become null, strings are left alone") {
  CHECK(kiln::sanitize_python_json(R"({"a": -Infinity, "b": Infinity, "c": NaN, "d": 1.5})") ==
        R"({"a": null, "b": null, "c": null, "d": 1.5})");
  CHECK(kiln::sanitize_python_json(R"({"NaN": "Infinity \" NaN", "x": [NaN]})") ==
        R"({"NaN": "Infinity \" NaN", "x": [null]})");
  CHECK(kiln::sanitize_python_json("") == "");
}
