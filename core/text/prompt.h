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

// A textual inversion embedding as the tokenizer sees it (A1111's EmbeddingDatabase): the token
// ids of its name (tokenizer.encode(name)) and how many vectors it holds. Wherever a prompt
// piece's tokens contain `ids`, the name stands for `vectors` tokens (id 0 as a placeholder,
// the piece's weight each); the longest name wins where several start at one token.
struct PromptEmbedding {
  std::string name;
  std::vector<std::int64_t> ids;
  int vectors = 1;
};

// Where an embedding's vectors go in a chunk: ids[offset .. offset + count) (offset counts the
// bos, so it is >= 1). `count` is below the embedding's vectors only when A1111 cuts it at the
// end of a chunk (an embedding longer than 75 vectors).
struct EmbeddingSlot {
  std::size_t offset = 0;
  int count = 0;
  std::string name;
  bool operator==(const EmbeddingSlot&) const = default;
};

// One 77-token window: bos, 75 tokens (padded), eos, with a weight per position
// (1.0 for bos/eos/padding).
struct PromptChunk {
  std::vector<std::int64_t> ids;  // size 77
  std::vector<float> weights;     // size 77
  std::vector<EmbeddingSlot> embeddings;  // in order of offset
};

struct TokenizedPrompt {
  std::vector<PromptChunk> chunks;  // at least one (an empty prompt is one chunk)
  int token_count = 0;              // tokens of the prompt, as A1111 shows "n/75"
  bool truncated = false;           // plain mode only: tokens beyond 75 were dropped
};

// `embeddings`: textual inversion names to expand (see PromptEmbedding); an embedding never
// straddles two chunks (A1111 starts a new chunk when it would not fit).
TokenizedPrompt tokenize_prompt(const CLIPTokenizer& tokenizer, std::string_view prompt, PromptSyntax syntax,
                                PadConvention pad, const std::vector<PromptEmbedding>& embeddings = {});

// The names of `embeddings` that `prompt` uses, in order of first use, without repeats.
std::vector<std::string> embeddings_in_prompt(const CLIPTokenizer& tokenizer, std::string_view prompt,
                                              PromptSyntax syntax, const std::vector<PromptEmbedding>& embeddings);

}  // namespace kiln::text
