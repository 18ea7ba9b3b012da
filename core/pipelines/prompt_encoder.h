#pragma once
// Text conditioning for the UNet from tokenized prompts.
//
// Layer choice, with `clip_skip` in AUTOMATIC1111's numbering (1 = last layer; diffusers'
// clip_skip = this - 1):
//   SD 1.x / 2.x  final_layer_norm(hidden_states[-clip_skip]); 1 = last_hidden_state. For SD 2.x
//                 the default is already the penultimate layer of OpenCLIP's 24: diffusers keeps 23.
//                 (A1111 ignores CLIP skip for SD 2.x; Kiln applies it as diffusers does.)
//   SDXL          hidden_states[-(clip_skip + 1)] of both encoders, no final LN, concatenated on
//                 channels (768 + 1280); pooled = text_embeds of text_encoder_2 (the projected
//                 final-LN output at the first eos), as diffusers' StableDiffusionXLPipeline.
// A1111 syntax: every 77-token chunk is encoded on its own, its embeddings are multiplied by the
// token weights and rescaled to the chunk's original mean (A1111's "Original" emphasis, applied
// per encoder), and chunks are concatenated on the token axis; SDXL's pooled vector comes from
// the first chunk. Plain syntax: one chunk, no weights - diffusers' encode_prompt.

#include <map>
#include <string>

#include <torch/torch.h>

#include "models/clip_text_model.h"
#include "text/prompt.h"

namespace kiln::pipelines {

struct TextConditioning {
  torch::Tensor embeds;  // [1, 77 x chunks, C] on the encoders' device and dtype
  torch::Tensor pooled;  // SDXL: [1, projection_dim of text_encoder_2]; undefined otherwise
};

struct PromptEncodeOptions {
  text::PromptSyntax syntax = text::PromptSyntax::A1111;
  int clip_skip = 1;  // A1111 numbering, >= 1
  // Textual inversion vectors for the chunks' EmbeddingSlots, by name: [n, C] for text_encoder
  // and (SDXL) text_encoder_2. They replace the token embeddings at the slots' positions (the
  // transformer's input, before the position embeddings are added), as A1111's
  // EmbeddingsWithFixes; a slot without its vectors, or of another width, is an error.
  std::map<std::string, torch::Tensor> token_vectors;
  std::map<std::string, torch::Tensor> token_vectors_2;
};

class PromptEncoder {
 public:
  // SD 1.x / 2.x.
  explicit PromptEncoder(models::CLIPTextModel text_encoder);
  // SDXL: CLIP ViT-L (CLIPTextModel) and OpenCLIP bigG (CLIPTextModelWithProjection).
  PromptEncoder(models::CLIPTextModel text_encoder, models::CLIPTextModel text_encoder_2);

  bool is_sdxl() const { return static_cast<bool>(text_encoder_2_); }

  // SD 1.x / 2.x. Throws kiln::InvalidRequestError for an SDXL encoder, a clip_skip beyond the
  // encoder's layers, several chunks in plain syntax, or chunks that are not 77 ids + 77 weights.
  TextConditioning encode(const text::TokenizedPrompt& prompt, const PromptEncodeOptions& options = {}) const;
  // SDXL: the prompt tokenized for each encoder (text_encoder pads with <|endoftext|>,
  // text_encoder_2 with "!" = 0, as the two SDXL tokenizers do); both must have as many chunks.
  TextConditioning encode(const text::TokenizedPrompt& prompt, const text::TokenizedPrompt& prompt_2,
                          const PromptEncodeOptions& options = {}) const;

 private:
  models::CLIPTextModel text_encoder_;
  models::CLIPTextModel text_encoder_2_{nullptr};
};

// A1111's "Original" emphasis (modules/sd_emphasis.py): z [B, T, C] times weights [B, T] per token,
// then z * (mean before / mean after), the means taken over the whole tensor.
torch::Tensor apply_emphasis(const torch::Tensor& z, const torch::Tensor& weights);

}  // namespace kiln::pipelines
