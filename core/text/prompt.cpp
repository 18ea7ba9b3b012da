#include "text/prompt.h"

#include <algorithm>

#include "base/error.h"

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

// The embedding whose name's ids start at tokens[pos] (the longest; the first of equals), or null.
const PromptEmbedding* embedding_at(const std::vector<std::int64_t>& tokens, std::size_t pos,
                                    const std::vector<PromptEmbedding>& embeddings) {
  const PromptEmbedding* best = nullptr;
  for (const PromptEmbedding& e : embeddings) {
    if (e.ids.empty() || (best && e.ids.size() <= best->ids.size()) || pos + e.ids.size() > tokens.size()) continue;
    if (std::equal(e.ids.begin(), e.ids.end(), tokens.begin() + static_cast<std::ptrdiff_t>(pos))) best = &e;
  }
  return best;
}

TokenizedPrompt tokenize_plain(const CLIPTokenizer& tokenizer, std::string_view prompt, PadConvention pad,
                               const std::vector<PromptEmbedding>& embeddings) {
  const auto ids = tokenizer.encode(prompt, pad);
  // Embedding names expand to their vectors; the window keeps the first 75 tokens.
  std::vector<std::int64_t> tokens;
  std::vector<EmbeddingSlot> slots;
  for (std::size_t pos = 0; pos < ids.size();) {
    const PromptEmbedding* e = embeddings.empty() ? nullptr : embedding_at(ids, pos, embeddings);
    if (!e) {
      tokens.push_back(ids[pos++]);
      continue;
    }
    slots.push_back({tokens.size() + 1, e->vectors, e->name});
    tokens.insert(tokens.end(), static_cast<std::size_t>(e->vectors), 0);
    pos += e->ids.size();
  }
  const std::size_t kept = std::min(tokens.size(), kChunkLength);
  TokenizedPrompt out;
  out.chunks.push_back(
      make_chunk(std::vector<std::int64_t>(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(kept)),
                 std::vector<float>(kept, 1.0f), pad));
  for (EmbeddingSlot& slot : slots) {
    if (slot.offset > kept) break;
    slot.count = std::min(slot.count, static_cast<int>(kept + 1 - slot.offset));
    out.chunks.back().embeddings.push_back(std::move(slot));
  }
  out.token_count = static_cast<int>(tokens.size());
  out.truncated = tokens.size() > kChunkLength;
  return out;
}

// FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line (modules/sd_hijack_clip.py). Each parsed
// piece is tokenized on its own, as A1111 does; embedding names are found in a piece's tokens.
// A1111 pads SD 2.x chunks with <|endoftext|> and then zeroes everything after the first
// <|endoftext|>; a chunk here is bos, tokens, eos, then pad_id(pad), which is the same
// except when the prompt itself types "<|endoftext|>" (A1111's SD 2.x tokenizer, OpenCLIP's,
// does not make that a special token; Kiln keeps the text after it).
TokenizedPrompt tokenize_a1111(const CLIPTokenizer& tokenizer, std::string_view prompt, PadConvention pad,
                               const std::vector<PromptEmbedding>& embeddings) {
  const auto parsed = parse_attention_exact(prompt);
  const std::int64_t comma = tokenizer.token_id(",</w>");

  TokenizedPrompt out;
  std::vector<std::int64_t> tokens;
  std::vector<float> weights;
  std::vector<EmbeddingSlot> slots;
  std::ptrdiff_t last_comma = -1;

  auto next_chunk = [&](bool is_last) {
    // The prompt's last chunk counts its tokens; every other one counts as full.
    out.token_count += static_cast<int>(is_last ? tokens.size() : kChunkLength);
    out.chunks.push_back(make_chunk(tokens, weights, pad));
    out.chunks.back().embeddings = std::move(slots);
    tokens.clear();
    weights.clear();
    slots.clear();
    last_comma = -1;
  };

  for (const auto& piece : parsed) {
    if (is_break(piece)) {
      next_chunk(false);
      continue;
    }
    const auto weight = static_cast<float>(piece.weight);
    const std::vector<std::int64_t> piece_tokens = tokenizer.encode(piece.text);
    for (std::size_t pos = 0; pos < piece_tokens.size();) {
      const std::int64_t token = piece_tokens[pos];
      if (token == comma) {
        last_comma = static_cast<std::ptrdiff_t>(tokens.size());
      } else if (tokens.size() == kChunkLength && last_comma != -1 &&
                 tokens.size() - static_cast<std::size_t>(last_comma) <= kCommaBacktrack) {
        const auto split = static_cast<std::ptrdiff_t>(last_comma + 1);
        std::vector<std::int64_t> moved_tokens(tokens.begin() + split, tokens.end());
        std::vector<float> moved_weights(weights.begin() + split, weights.end());
        // Embeddings after the comma move with their tokens (never split: a slot lies wholly
        // before or after the comma).
        std::vector<EmbeddingSlot> moved_slots;
        for (auto it = slots.begin(); it != slots.end();) {
          if (it->offset > static_cast<std::size_t>(split)) {
            moved_slots.push_back({it->offset - static_cast<std::size_t>(split), it->count, it->name});
            it = slots.erase(it);
          } else {
            ++it;
          }
        }
        tokens.resize(static_cast<std::size_t>(split));
        weights.resize(static_cast<std::size_t>(split));
        next_chunk(false);
        tokens = std::move(moved_tokens);
        weights = std::move(moved_weights);
        slots = std::move(moved_slots);
      }
      if (tokens.size() == kChunkLength) next_chunk(false);
      const PromptEmbedding* e = embeddings.empty() ? nullptr : embedding_at(piece_tokens, pos, embeddings);
      if (!e) {
        tokens.push_back(token);
        weights.push_back(weight);
        ++pos;
        continue;
      }
      const auto n = static_cast<std::size_t>(e->vectors);
      if (tokens.size() + n > kChunkLength) next_chunk(false);
      slots.push_back({tokens.size() + 1, e->vectors, e->name});  // + 1: the chunk's bos
      tokens.insert(tokens.end(), n, 0);
      weights.insert(weights.end(), n, weight);
      pos += e->ids.size();
    }
  }
  if (!tokens.empty() || out.chunks.empty()) next_chunk(true);
  return out;
}

}  // namespace

TokenizedPrompt tokenize_prompt(const CLIPTokenizer& tokenizer, std::string_view prompt, PromptSyntax syntax,
                                PadConvention pad, const std::vector<PromptEmbedding>& embeddings) {
  for (const PromptEmbedding& e : embeddings) {
    if (e.vectors < 1 || static_cast<std::size_t>(e.vectors) > kChunkLength)
      throw InvalidRequestError("embedding \"" + e.name + "\" has " + std::to_string(e.vectors) +
                                " vectors; a prompt chunk holds 1 to " + std::to_string(kChunkLength));
  }
  return syntax == PromptSyntax::Plain ? tokenize_plain(tokenizer, prompt, pad, embeddings)
                                       : tokenize_a1111(tokenizer, prompt, pad, embeddings);
}

std::vector<std::string> embeddings_in_prompt(const CLIPTokenizer& tokenizer, std::string_view prompt,
                                              PromptSyntax syntax, const std::vector<PromptEmbedding>& embeddings) {
  std::vector<PromptEmbedding> single = embeddings;
  for (PromptEmbedding& e : single) e.vectors = 1;  // where names match does not depend on the counts
  std::vector<std::string> names;
  for (const PromptChunk& chunk : tokenize_prompt(tokenizer, prompt, syntax, PadConvention::SD1, single).chunks) {
    for (const EmbeddingSlot& slot : chunk.embeddings)
      if (std::find(names.begin(), names.end(), slot.name) == names.end()) names.push_back(slot.name);
  }
  return names;
}

}  // namespace kiln::text
