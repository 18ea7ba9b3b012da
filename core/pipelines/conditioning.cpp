// Stage 1 of generate(): the prompts' text conditioning, as diffusers' encode_prompt (plain
// syntax) or AUTOMATIC1111 (weights, BREAK, 75-token chunks), for the whole UNet batch.
#include "pipelines/pipeline_stages.h"

#include <algorithm>

#include "pipelines/embeddings.h"
#include "pipelines/prompt_encoder.h"

namespace kiln::pipelines {

namespace {

// Appends copies of `chunk` ([1, 77, C]) until `embeds` has `tokens` positions (AUTOMATIC1111 pads
// the shorter of prompt and negative prompt with the empty prompt's encoding).
torch::Tensor pad_to(const torch::Tensor& embeds, const torch::Tensor& chunk, std::int64_t tokens) {
  std::vector<torch::Tensor> parts{embeds};
  for (std::int64_t t = embeds.size(1); t < tokens; t += chunk.size(1)) parts.push_back(chunk);
  return torch::cat(parts, 1);
}

}  // namespace

Conditioning encode_conditioning(const StableDiffusionModel& model, const GenerationRequest& r, bool cfg) {
  const bool sdxl = model.is_sdxl();
  const PromptEncoder encoder =
      sdxl ? PromptEncoder(model.text_encoder, model.text_encoder_2) : PromptEncoder(model.text_encoder);
  const bool sd2 = model.family == convert::ModelFamily::SD2 || model.family == convert::ModelFamily::SD2Inpaint;
  const text::PadConvention pad = sd2 ? text::PadConvention::SD2 : text::PadConvention::SD1;
  // Textual inversion: the names the prompts use, loaded and checked before anything is encoded.
  const PromptEmbeddings embeddings =
      r.embedding_folders.empty()
          ? PromptEmbeddings{}
          : resolve_embeddings(model, EmbeddingLibrary::scan(r.embedding_folders), {r.prompt, r.negative_prompt},
                               r.prompt_syntax);
  PromptEncodeOptions options;
  options.syntax = r.prompt_syntax;
  options.clip_skip = r.clip_skip;
  options.token_vectors = embeddings.vectors;
  options.token_vectors_2 = embeddings.vectors_2;
  // diffusers' encode_prompt (SD and SDXL) applies clip_skip to the prompt only, never to the
  // negative prompt; AUTOMATIC1111 applies it to both. Plain syntax is diffusers' semantics.
  PromptEncodeOptions negative_options = options;
  if (r.prompt_syntax == text::PromptSyntax::Plain) negative_options.clip_skip = 1;
  const auto encode = [&](const std::string& prompt, const PromptEncodeOptions& o) {
    const text::TokenizedPrompt first =
        text::tokenize_prompt(*model.tokenizer, prompt, r.prompt_syntax, pad, embeddings.prompt);
    if (!sdxl) return encoder.encode(first, o);
    const text::TokenizedPrompt second =
        text::tokenize_prompt(*model.tokenizer, prompt, r.prompt_syntax, text::PadConvention::SD2, embeddings.prompt);
    return encoder.encode(first, second, o);
  };
  TextConditioning positive = encode(r.prompt, options);
  TextConditioning negative;
  if (cfg) {
    if (sdxl && r.negative_prompt.empty()) {
      // force_zeros_for_empty_prompt (SDXL base): no negative prompt = zero embeddings.
      negative.embeds = torch::zeros_like(positive.embeds);
      negative.pooled = torch::zeros_like(positive.pooled);
    } else {
      negative = encode(r.negative_prompt, negative_options);
    }
    if (negative.embeds.size(1) != positive.embeds.size(1)) {
      const torch::Tensor empty = sdxl && r.negative_prompt.empty()
                                      ? torch::zeros_like(positive.embeds.narrow(1, 0, 77))
                                      : encode("", negative_options).embeds;
      const std::int64_t tokens = std::max(negative.embeds.size(1), positive.embeds.size(1));
      negative.embeds = pad_to(negative.embeds, empty, tokens);
      positive.embeds = pad_to(positive.embeds, empty, tokens);
    }
  }
  const std::int64_t b = r.batch_size;
  Conditioning c;
  // num_images_per_prompt: every image of the batch gets the same conditioning.
  c.embeds = positive.embeds.repeat({b, 1, 1});
  if (cfg) c.embeds = torch::cat({negative.embeds.repeat({b, 1, 1}), c.embeds});
  if (sdxl) {
    c.pooled = positive.pooled.repeat({b, 1});
    if (cfg) c.pooled = torch::cat({negative.pooled.repeat({b, 1}), c.pooled});
    // (original size, crop top-left, target size): the output size, uncropped.
    const auto h = static_cast<float>(r.height), w = static_cast<float>(r.width);
    c.time_ids =
        torch::tensor({h, w, 0.0f, 0.0f, h, w}).view({1, 6}).repeat({c.pooled.size(0), 1}).to(c.pooled.options());
  }
  return c;
}

Conditioning Conditioning::conditional_half(bool cfg) const {
  if (!cfg) return *this;
  Conditioning half;
  half.embeds = embeds.chunk(2)[1];
  if (pooled.defined()) half.pooled = pooled.chunk(2)[1];
  if (time_ids.defined()) half.time_ids = time_ids.chunk(2)[1];
  return half;
}

}  // namespace kiln::pipelines
