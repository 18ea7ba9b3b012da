#include "text/prompt.h"

#include "text/prompt_parser.h"

namespace kiln::text {

namespace {

constexpr std::size_t kChunkLength = kContextLength - 2;  // 75 prompt tokens per chunk
// A1111's opts.comma_padding_backtrack default: when a chunk fills up, the text after its
// last comma moves to the next chunk if that comma is at most this many tokens back.
constexpr std::size_t kCommaBacktrack = 20;

PromptChunk make_chunk(const std::vector<std::int64_t>& tokens, const std::vector<float>& weights, PadConvention pad) {
  PromptChunk chunk;
  chunk.ids.reserve(kContextLength);
  chunk.weights.reserve(kContextLength);
  chunk.ids.push_back(kBosId);
  chunk.weights.push_back(1.0f);
  chunk.ids.insert(chunk.ids.end(), tokens.begin(), tokens.end());
  chunk.weights.insert(chunk.weights.end(), weights.begin(), weights.end());
  chunk.ids.push_back(kEosId);
  chunk.weights.push_back(1.0f);
  chunk.ids.resize(kContextLength, pad_id(pad));
  chunk.weights.resize(kContextLength, 1.0f);
  return chunk;
}

TokenizedPrompt tokenize_plain(const CLIPTokenizer& tokenizer, std::string_view prompt, PadConvention pad) {
  const auto ids = tokenizer.encode(prompt, pad);
  const std::size_t kept = std::min(ids.size(), kChunkLength);
  TokenizedPrompt out;
  out.chunks.push_back(
      make_chunk(std::vector<std::int64_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kept)),
                 std::vector<float>(kept, 1.0f), pad));
  out.token_count = static_cast<int>(ids.size());
  out.truncated = ids.size() > kChunkLength;
  return out;
}

// FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line (modules/sd_hijack_clip.py), without
// textual-inversion embeddings. Each parsed piece is tokenized on its own, as A1111 does.
// A1111 pads SD 2.x chunks with <|endoftext|> and then zeroes everything after the first
// <|endoftext|>; a chunk here is bos, tokens, eos, then pad_id(pad), which is the same
// except when the prompt itself types "<|endoftext|>" (A1111's SD 2.x tokenizer, OpenCLIP's,
// does not make that a special token; Kiln keeps the text after it).
TokenizedPrompt tokenize_a1111(const CLIPTokenizer& tokenizer, std::string_view prompt, PadConvention pad) {
  const auto parsed = parse_attention_exact(prompt);
  const std::int64_t comma = tokenizer.token_id(",</w>");

  TokenizedPrompt out;
  std::vector<std::int64_t> tokens;
  std::vector<float> weights;
  std::ptrdiff_t last_comma = -1;

  auto next_chunk = [&](bool is_last) {
    // The prompt's last chunk counts its tokens; every other one counts as full.
    out.token_count += static_cast<int>(is_last ? tokens.size() : kChunkLength);
    out.chunks.push_back(make_chunk(tokens, weights, pad));
    tokens.clear();
    weights.clear();
    last_comma = -1;
  };

  for (const auto& piece : parsed) {
    if (is_break(piece)) {
      next_chunk(false);
      continue;
    }
    const auto weight = static_cast<float>(piece.weight);
    for (const std::int64_t token : tokenizer.encode(piece.text)) {
      if (token == comma) {
        last_comma = static_cast<std::ptrdiff_t>(tokens.size());
      } else if (tokens.size() == kChunkLength && last_comma != -1 &&
                 tokens.size() - static_cast<std::size_t>(last_comma) <= kCommaBacktrack) {
        const auto split = static_cast<std::ptrdiff_t>(last_comma + 1);
        std::vector<std::int64_t> moved_tokens(tokens.begin() + split, tokens.end());
        std::vector<float> moved_weights(weights.begin() + split, weights.end());
        tokens.resize(static_cast<std::size_t>(split));
        weights.resize(static_cast<std::size_t>(split));
        next_chunk(false);
        tokens = std::move(moved_tokens);
        weights = std::move(moved_weights);
      }
      if (tokens.size() == kChunkLength) next_chunk(false);
      tokens.push_back(token);
      weights.push_back(weight);
    }
  }
  if (!tokens.empty() || out.chunks.empty()) next_chunk(true);
  return out;
}

}  // namespace

TokenizedPrompt tokenize_prompt(const CLIPTokenizer& tokenizer, std::string_view prompt, PromptSyntax syntax,
                                PadConvention pad) {
  return syntax == PromptSyntax::Plain ? tokenize_plain(tokenizer, prompt, pad)
                                       : tokenize_a1111(tokenizer, prompt, pad);
}

}  // namespace kiln::text
