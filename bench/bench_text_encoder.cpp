// Prompt encoding with a full-size SD 1.5 text encoder (CLIP ViT-L/14, random weights) on CPU:
// a 75-token prompt (one chunk) and a 225-token prompt (three chunks), A1111 syntax.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "base/engine.h"
#include "bench_util.h"
#include "models/clip_text_model.h"
#include "pipelines/prompt_encoder.h"
#include "text/clip_tokenizer.h"
#include "text/prompt.h"

int main(int argc, char** argv) {
  const int threads = kiln::init_engine();
  const std::filesystem::path vocab = argc > 1 ? argv[1] : KILN_SOURCE_DIR "/resources/clip";
  const auto tokenizer = kiln::text::CLIPTokenizer::from_folder(vocab);
  torch::manual_seed(0);
  kiln::models::CLIPTextModel encoder(kiln::models::CLIPTextConfig::sd1());
  encoder->eval();
  const kiln::pipelines::PromptEncoder prompt_encoder(encoder);
  std::printf("SD 1.5 text encoder (random weights), %d threads, fp32\n", threads);

  c10::InferenceMode guard;
  for (int tokens : {75, 225}) {
    // "cat" is one token: grow the prompt to exactly `tokens` tokens.
    std::string prompt = "photo";
    while (static_cast<int>(tokenizer.encode(prompt).size()) < tokens) prompt += " cat";
    const auto tokenized =
        kiln::text::tokenize_prompt(tokenizer, prompt, kiln::text::PromptSyntax::A1111, kiln::text::PadConvention::SD1);
    prompt_encoder.encode(tokenized);  // warm-up
    const double s = kiln::bench::median_seconds(7, [&] { prompt_encoder.encode(tokenized); });
    std::printf("%3d tokens (%zu chunk%s): %.1f ms (median of 7), %.1f ms per chunk\n", tokenized.token_count,
                tokenized.chunks.size(), tokenized.chunks.size() > 1 ? "s" : "", s * 1e3,
                s * 1e3 / static_cast<double>(tokenized.chunks.size()));
  }
  return 0;
}
