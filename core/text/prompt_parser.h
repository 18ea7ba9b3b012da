#pragma once
// AUTOMATIC1111's parse_prompt_attention (modules/prompt_parser.py) with the weights kept
// as doubles, as Python keeps them: runs are merged when their doubles are equal, and
// nested brackets multiply in the order they close, so the float a chunk finally gets is
// the same as A1111's. parse_prompt_attention (prompt.h) rounds these to float.

#include <string>
#include <string_view>
#include <vector>

namespace kiln::text {

struct ParsedPiece {
  std::string text;  // UTF-8
  double weight = 1.0;
};

inline constexpr double kBreakWeight = -1.0;

// Throws kiln::InvalidRequestError for a weight that is not a number ("(x:1.2.3)"), where
// A1111 fails with a ValueError.
std::vector<ParsedPiece> parse_attention_exact(std::string_view prompt);

inline bool is_break(const ParsedPiece& piece) { return piece.text == "BREAK" && piece.weight == kBreakWeight; }

}  // namespace kiln::text
