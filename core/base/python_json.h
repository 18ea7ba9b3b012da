#pragma once
// Python's json module writes float('inf') and float('nan') as the bare tokens Infinity,
// -Infinity and NaN, which are not JSON (diffusers' DPMSolver configs hold
// "lambda_min_clipped": -Infinity). Every config reader passes the text through this first.

#include <string>
#include <string_view>

namespace kiln {

// The text with the bare tokens NaN, Infinity and -Infinity (outside strings) replaced by null.
std::string sanitize_python_json(std::string_view text);

}  // namespace kiln
