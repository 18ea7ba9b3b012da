// AUTOMATIC1111's prompt syntax (emphasis, weights, BREAK, escapes, <lora:...>) and the CLIP
// tokenizer with 75-token chunking over any text, as the Generate page and the API feed them.
#include <memory>

#include "fuzz_util.h"
#include "text/clip_tokenizer.h"
#include "text/prompt.h"
#include "text/prompt_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto tokenizer = std::make_unique<kiln::text::CLIPTokenizer>(kiln::text::CLIPTokenizer::from_files(
      KILN_SOURCE_DIR "/resources/clip/vocab.json", KILN_SOURCE_DIR "/resources/clip/merges.txt"));
  const std::string_view prompt = kiln::fuzz::text(data, size);
  kiln::fuzz::expect_kiln_errors_only([&] {
    (void)kiln::text::parse_attention_exact(prompt);
    (void)kiln::text::parse_prompt_attention(prompt);
    for (auto syntax : {kiln::text::PromptSyntax::A1111, kiln::text::PromptSyntax::Plain})
      (void)kiln::text::tokenize_prompt(*tokenizer, prompt, syntax, kiln::text::PadConvention::SD1);
  });
  return 0;
}
