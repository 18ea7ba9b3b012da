#include "pipelines/prompt_encoder.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/error.h"

namespace kiln::pipelines {

namespace {

// Which hidden state conditions the UNet: hidden_states[-from_end], optionally final-LN'ed.
struct LayerChoice {
  int from_end = 1;
  bool final_layer_norm = true;
};

struct ChunkOutput {
  torch::Tensor z;       // [1, T, C]
  torch::Tensor pooled;  // [1, projection_dim] with projection, else undefined
};

void validate_chunks(const text::TokenizedPrompt& prompt, const PromptEncodeOptions& options,
                     const models::CLIPTextConfig& config, const char* which) {
  if (prompt.chunks.empty()) throw InvalidRequestError(std::string(which) + " has no token chunk");
  if (options.syntax == text::PromptSyntax::Plain && prompt.chunks.size() != 1) {
    throw InvalidRequestError(std::string(which) + " has " + std::to_string(prompt.chunks.size()) +
                                  " chunks; plain syntax encodes one 77-token window",
                              "tokenize with PromptSyntax::Plain, which truncates");
  }
  for (const text::PromptChunk& c : prompt.chunks) {
    const auto n = static_cast<std::int64_t>(c.ids.size());
    if (n == 0 || n > config.max_position_embeddings || c.weights.size() != c.ids.size()) {
      throw InvalidRequestError(std::string(which) + ": a chunk has " + std::to_string(c.ids.size()) + " ids and " +
                                std::to_string(c.weights.size()) + " weights, expected as many ids as weights, 1 to " +
                                std::to_string(config.max_position_embeddings));
    }
  }
}

void validate_clip_skip(int clip_skip, int extra, const models::CLIPTextConfig& config) {
  const std::int64_t max = config.num_hidden_layers - extra;
  if (clip_skip < 1 || clip_skip > max) {
    throw InvalidRequestError("clip_skip " + std::to_string(clip_skip) + " is out of range 1.." + std::to_string(max),
                              "the text encoder has " + std::to_string(config.num_hidden_layers) + " layers");
  }
}

// The transformer of `encoder` from token embeddings instead of ids: CLIPTextTransformer's
// forward with its first step (token_embedding(ids)) done by the caller. `ids` still choose the
// pooling position (the embeddings' placeholders are 0, never the eos).
models::CLIPTextOutput forward_from_token_embeds(models::CLIPTextModel& encoder, const torch::Tensor& ids,
                                                 const torch::Tensor& token_embeds, bool output_hidden_states) {
  models::CLIPTextTransformer& t = encoder->text_model;
  const models::CLIPTextConfig& config = encoder->config();
  const std::int64_t n = ids.size(1);
  const torch::Tensor positions = torch::arange(n, ids.options());
  torch::Tensor h = token_embeds + t->embeddings->position_embedding(positions).unsqueeze(0);  // [1, T, C]
  const torch::Tensor causal_mask = torch::full({n, n}, -std::numeric_limits<float>::infinity(), h.options()).triu(1);
  models::CLIPTextOutput out;
  if (output_hidden_states) out.hidden_states.push_back(h);
  for (const auto& layer : *t->encoder->layers) {
    h = layer->as<models::CLIPEncoderLayer>()->forward(h, causal_mask);
    if (output_hidden_states) out.hidden_states.push_back(h);
  }
  out.last_hidden_state = t->final_layer_norm(h);
  const torch::Tensor eos_index =
      config.eos_token_id == 2 ? ids.argmax(-1) : ids.eq(config.eos_token_id).to(torch::kInt).argmax(-1);
  const torch::Tensor rows = torch::arange(ids.size(0), ids.options());
  out.pooler_output = out.last_hidden_state.index({rows, eos_index});
  if (encoder->text_projection) out.text_embeds = encoder->text_projection(out.pooler_output);
  return out;
}

// The token embeddings of `ids` [1, T] with the chunk's embedding slots filled from `vectors`.
torch::Tensor token_embeds_with_vectors(models::CLIPTextModel& encoder, const torch::Tensor& ids,
                                        const text::PromptChunk& chunk,
                                        const std::map<std::string, torch::Tensor>& vectors, const char* which) {
  torch::Tensor embeds = encoder->text_model->embeddings->token_embedding(ids).clone();  // [1, T, C]
  const std::int64_t width = embeds.size(2);
  for (const text::EmbeddingSlot& slot : chunk.embeddings) {
    const auto found = vectors.find(slot.name);
    if (found == vectors.end())
      throw InvalidRequestError("no vectors for embedding \"" + slot.name + "\" in " + which);
    const torch::Tensor& v = found->second;
    const auto offset = static_cast<std::int64_t>(slot.offset);
    if (v.dim() != 2 || v.size(1) != width || slot.count < 1 || slot.count > v.size(0) ||
        offset + slot.count > embeds.size(1) - 1) {
      throw InvalidRequestError("embedding \"" + slot.name + "\" of shape " + std::to_string(v.size(0)) + " x " +
                                std::to_string(v.dim() == 2 ? v.size(1) : 0) + " does not fit " + which + " (" +
                                std::to_string(width) + " wide) at tokens " + std::to_string(offset) + ".." +
                                std::to_string(offset + slot.count - 1));
    }
    embeds.index_put_({0, torch::indexing::Slice(offset, offset + slot.count)},
                      v.narrow(0, 0, slot.count).to(embeds.device(), embeds.scalar_type()));
  }
  return embeds;
}

// By value: a module holder copy (shared pointer) gives the non-const access forward needs.
ChunkOutput run_chunk(models::CLIPTextModel encoder, const text::PromptChunk& chunk, LayerChoice choice,
                      const std::map<std::string, torch::Tensor>& vectors, const char* which) {
  const torch::Tensor ids = torch::tensor(chunk.ids, torch::kLong).unsqueeze(0).to(encoder->device());  // [1, T]
  const bool last = choice.from_end == 1 && choice.final_layer_norm;
  models::CLIPTextOutput out =
      chunk.embeddings.empty()
          ? encoder->forward(ids, /*output_hidden_states=*/!last)
          : forward_from_token_embeds(encoder, ids, token_embeds_with_vectors(encoder, ids, chunk, vectors, which),
                                      /*output_hidden_states=*/!last);
  if (last) return {out.last_hidden_state, out.text_embeds};
  const torch::Tensor& h = out.hidden_states[out.hidden_states.size() - static_cast<std::size_t>(choice.from_end)];
  return {choice.final_layer_norm ? encoder->text_model->final_layer_norm(h) : h, out.text_embeds};
}

// A1111 applies emphasis to every chunk; with all weights 1 it is the identity (z * 1, and the
// mean ratio is exactly 1), so such chunks are left alone.
torch::Tensor emphasize(const torch::Tensor& z, const text::PromptChunk& chunk) {
  if (std::all_of(chunk.weights.begin(), chunk.weights.end(), [](float w) { return w == 1.0f; })) return z;
  const torch::Tensor weights =
      torch::tensor(chunk.weights, torch::kFloat).unsqueeze(0).to(z.device(), z.scalar_type());
  return apply_emphasis(z, weights);
}

}  // namespace

torch::Tensor apply_emphasis(const torch::Tensor& z, const torch::Tensor& weights) {
  TORCH_CHECK(z.dim() == 3 && weights.dim() == 2 && weights.size(0) == z.size(0) && weights.size(1) == z.size(1),
              "emphasis: z must be [B, T, C] and weights [B, T], got ", z.sizes(), " and ", weights.sizes());
  const torch::Tensor original_mean = z.mean();
  const torch::Tensor weighted = z * weights.unsqueeze(-1).expand(z.sizes());
  const torch::Tensor new_mean = weighted.mean();
  return weighted * (original_mean / new_mean);
}

PromptEncoder::PromptEncoder(models::CLIPTextModel text_encoder) : text_encoder_(std::move(text_encoder)) {}

PromptEncoder::PromptEncoder(models::CLIPTextModel text_encoder, models::CLIPTextModel text_encoder_2)
    : text_encoder_(std::move(text_encoder)), text_encoder_2_(std::move(text_encoder_2)) {
  if (!text_encoder_2_->config().with_projection) {
    throw InvalidRequestError("SDXL's text_encoder_2 has no text_projection",
                              "it must be a CLIPTextModelWithProjection (OpenCLIP bigG)");
  }
}

TextConditioning PromptEncoder::encode(const text::TokenizedPrompt& prompt, const PromptEncodeOptions& options) const {
  if (is_sdxl()) {
    throw InvalidRequestError("SDXL needs the prompt tokenized for each of its two text encoders",
                              "call encode(prompt, prompt_2)");
  }
  const models::CLIPTextConfig& config = text_encoder_->config();
  validate_chunks(prompt, options, config, "the prompt");
  validate_clip_skip(options.clip_skip, 0, config);
  const LayerChoice choice{options.clip_skip, true};

  c10::InferenceMode guard;
  std::vector<torch::Tensor> zs;
  for (const text::PromptChunk& chunk : prompt.chunks) {
    torch::Tensor z = run_chunk(text_encoder_, chunk, choice, options.token_vectors, "the text encoder").z;
    if (options.syntax == text::PromptSyntax::A1111) z = emphasize(z, chunk);
    zs.push_back(std::move(z));
  }
  return {torch::cat(zs, 1), {}};  // [1, 77 x chunks, C]
}

TextConditioning PromptEncoder::encode(const text::TokenizedPrompt& prompt, const text::TokenizedPrompt& prompt_2,
                                       const PromptEncodeOptions& options) const {
  if (!is_sdxl()) throw InvalidRequestError("encode(prompt, prompt_2) is for SDXL's two text encoders");
  validate_chunks(prompt, options, text_encoder_->config(), "the prompt for text_encoder");
  validate_chunks(prompt_2, options, text_encoder_2_->config(), "the prompt for text_encoder_2");
  if (prompt.chunks.size() != prompt_2.chunks.size()) {
    throw InvalidRequestError("the prompts of the two text encoders have " + std::to_string(prompt.chunks.size()) +
                              " and " + std::to_string(prompt_2.chunks.size()) + " chunks; they must match");
  }
  // "+1": SDXL conditions on the penultimate layer by default (diffusers' hidden_states[-2]).
  validate_clip_skip(options.clip_skip, 1, text_encoder_->config());
  validate_clip_skip(options.clip_skip, 1, text_encoder_2_->config());
  const LayerChoice choice{options.clip_skip + 1, false};

  c10::InferenceMode guard;
  std::vector<torch::Tensor> zs;
  torch::Tensor pooled;
  for (std::size_t i = 0; i < prompt.chunks.size(); ++i) {
    ChunkOutput a = run_chunk(text_encoder_, prompt.chunks[i], choice, options.token_vectors, "text_encoder (clip_l)");
    ChunkOutput b =
        run_chunk(text_encoder_2_, prompt_2.chunks[i], choice, options.token_vectors_2, "text_encoder_2 (clip_g)");
    if (options.syntax == text::PromptSyntax::A1111) {
      a.z = emphasize(a.z, prompt.chunks[i]);
      b.z = emphasize(b.z, prompt_2.chunks[i]);
    }
    if (i == 0) pooled = b.pooled;
    zs.push_back(torch::cat({a.z, b.z}, -1));  // [1, T, C1 + C2]
  }
  return {torch::cat(zs, 1), pooled};
}

}  // namespace kiln::pipelines
