#pragma once
// Prompts as users write them. `a1111` mode follows AUTOMATIC1111: (text) x1.1, (text:1.3),
// [text] /1.1, \( \) escapes, BREAK, unbalanced brackets as A1111 treats them; prompts longer
// than 75 tokens split into 75-token chunks (with A1111's comma backtracking), each encoded
// with bos/eos. `plain` mode is diffusers': no syntax, one 77-token window, truncation.
// The rules are written down in docs/prompt-syntax.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/clip_tokenizer.h"

namespace kiln::text {

enum class PromptSyntax { A1111, Plain };

// One piece of parsed prompt text and its emphasis weight; BREAK is a piece with text "BREAK"
// and weight -1 (as A1111's parse_prompt_attention returns it).
struct WeightedText {
  std::string text;
  float weight = 1.0f;
  bool operator==(const WeightedText&) const = default;
};
std::vector<WeightedText> parse_prompt_attention(std::string_view prompt);

// One 77-token window: bos, 75 tokens (padded), eos, with a weight per position
// (1.0 for bos/eos/padding).
struct PromptChunk {
  std::vector<std::int64_t> ids;  // size 77
  std::vector<float> weights;     // size 77
};

struct TokenizedPrompt {
  std::vector<PromptChunk> chunks;  // at least one (an empty prompt is one chunk)
  int token_count = 0;              // tokens of the prompt, as A1111 shows "n/75"
  bool truncated = false;           // plain mode only: tokens beyond 75 were dropped
};

TokenizedPrompt tokenize_prompt(const CLIPTokenizer& tokenizer, std::string_view prompt, PromptSyntax syntax,
                                PadConvention pad);

}  // namespace kiln::text
