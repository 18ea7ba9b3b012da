// tokenize_prompt: A1111's chunking (75 tokens a chunk, comma backtracking, BREAK, its
// token count) and per-token weights; plain mode. Expected layouts follow
// modules/sd_hijack_clip.py's tokenize_line (see docs/prompt-syntax.md).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "text/prompt.h"

namespace fs = std::filesystem;
using namespace kiln::text;
using Ids = std::vector<std::int64_t>;

namespace {

constexpr std::int64_t kComma = 267;

const CLIPTokenizer& tokenizer() {
  static const CLIPTokenizer t =
      CLIPTokenizer::from_folder(kiln::test::data_dir() / "golden/pipeline/tiny_sd1/tokenizer");
  return t;
}

std::string golden_prompt(int index) {
  static const nlohmann::json prompts =
      nlohmann::json::parse(kiln::test::read_text(kiln::test::data_dir() / "golden/tokenizer/prompts.json"))["prompts"];
  return prompts.at(static_cast<std::size_t>(index))["prompt"];
}

TokenizedPrompt a1111(std::string_view prompt, PadConvention pad = PadConvention::SD1) {
  return tokenize_prompt(tokenizer(), prompt, PromptSyntax::A1111, pad);
}

// The chunk a list of prompt tokens makes: bos, tokens, eos, padding.
Ids chunk_of(const Ids& tokens, PadConvention pad = PadConvention::SD1) {
  Ids ids{kBosId};
  ids.insert(ids.end(), tokens.begin(), tokens.end());
  ids.push_back(kEosId);
  ids.resize(kContextLength, pad_id(pad));
  return ids;
}

Ids slice(const Ids& ids, std::size_t begin, std::size_t end) {
  return Ids(ids.begin() + static_cast<std::ptrdiff_t>(begin), ids.begin() + static_cast<std::ptrdiff_t>(end));
}

void check_shapes(const TokenizedPrompt& t) {
  for (const auto& chunk : t.chunks) {
    CHECK(chunk.ids.size() == 77);
    CHECK(chunk.weights.size() == 77);
  }
}

}  // namespace

TEST_CASE("a short prompt is one chunk; weights follow the emphasis") {
  const auto t = a1111("a (red:1.5) [car]");
  check_shapes(t);
  REQUIRE(t.chunks.size() == 1);
  CHECK(t.token_count == 3);
  CHECK(!t.truncated);
  CHECK(t.chunks[0].ids == chunk_of({320, 736, 1615}));
  std::vector<float> weights(77, 1.0f);
  weights[2] = 1.5f;
  weights[3] = static_cast<float>(1 / 1.1);
  CHECK(t.chunks[0].weights == weights);
}

TEST_CASE("each parsed piece is tokenized on its own, as A1111 does") {
  // "(b)c" splits the word: b</w> c</w>, not bc</w>.
  const auto t = a1111("a (b)c");
  CHECK(t.chunks[0].ids == chunk_of(Ids{320, 321, 322}));
  CHECK(t.chunks[0].weights[2] == doctest::Approx(1.1f));
  CHECK(a1111("a bc").chunks[0].ids == chunk_of(Ids{320, 2162}));
  // Nested emphasis: 1.1 * 1.1 in double, then float.
  CHECK(a1111("((x))").chunks[0].weights[1] == static_cast<float>(1.2100000000000002));
}

TEST_CASE("empty prompts are one chunk of padding with count 0") {
  for (const char* prompt : {"", "   ", "()", "[]"}) {
    const auto t = a1111(prompt);
    REQUIRE(t.chunks.size() == 1);
    CHECK(t.token_count == 0);
    CHECK(t.chunks[0].ids == chunk_of({}));
    CHECK(t.chunks[0].weights == std::vector<float>(77, 1.0f));
    CHECK(a1111(prompt, PadConvention::SD2).chunks[0].ids == chunk_of({}, PadConvention::SD2));
  }
}

TEST_CASE("exactly 75, 76 and 77 tokens (golden prompts 52-54)") {
  const auto t75 = a1111(golden_prompt(52));
  REQUIRE(t75.chunks.size() == 1);
  CHECK(t75.token_count == 75);
  CHECK(t75.chunks[0].ids == tokenizer().encode_padded(golden_prompt(52), PadConvention::SD1));
  CHECK(t75.chunks[0].ids[76] == kEosId);

  for (int index : {53, 54}) {
    const Ids flat = tokenizer().encode(golden_prompt(index));
    const auto t = a1111(golden_prompt(index));
    REQUIRE(t.chunks.size() == 2);
    CHECK(t.token_count == static_cast<int>(flat.size()));
    CHECK(t.chunks[0].ids == chunk_of(slice(flat, 0, 75)));
    CHECK(t.chunks[1].ids == chunk_of(slice(flat, 75, flat.size())));
  }
}

TEST_CASE("80 comma-separated words: a full chunk takes the next comma along") {
  const char* words[] = {"cat", "dog", "red", "car", "sky", "sun"};
  std::string prompt;
  for (int i = 0; i < 80; ++i) prompt += (i ? ", " : "") + std::string(words[i % 6]);
  const Ids flat = tokenizer().encode(prompt);
  REQUIRE(flat.size() == 159);
  const auto t = a1111(prompt);
  check_shapes(t);
  // Word, comma, ...: a chunk fills on a word (no backtracking: the comma right after it is
  // the one that starts the next chunk), the second fills on a comma.
  REQUIRE(t.chunks.size() == 3);
  CHECK(t.token_count == 159);
  CHECK(t.chunks[0].ids == chunk_of(slice(flat, 0, 75)));
  CHECK(t.chunks[1].ids == chunk_of(slice(flat, 75, 150)));
  CHECK(t.chunks[1].ids[1] == kComma);
  CHECK(t.chunks[2].ids == chunk_of(slice(flat, 150, 159)));
}

TEST_CASE("comma backtracking moves the words after the last comma to the next chunk") {
  std::string prompt;
  for (int i = 0; i < 14; ++i) prompt += (i ? ", " : "") + std::string("one two three four five");
  const Ids flat = tokenizer().encode(prompt);
  REQUIRE(flat.size() == 83);
  REQUIRE(flat[71] == kComma);
  const auto t = a1111(prompt);
  REQUIRE(t.chunks.size() == 2);
  // The chunk ends after the comma at token 71; "one two three" go along to chunk 2. The
  // moved chunk still counts as 75.
  CHECK(t.chunks[0].ids == chunk_of(slice(flat, 0, 72)));
  CHECK(t.chunks[1].ids == chunk_of(slice(flat, 72, 83)));
  CHECK(t.token_count == 75 + 11);

  // Golden prompt 49 (119 tokens of "colour, "): chunk 1 fills on a word, chunk 2 starts
  // with the comma after it.
  const Ids flat49 = tokenizer().encode(golden_prompt(49));
  const auto t49 = a1111(golden_prompt(49));
  REQUIRE(t49.chunks.size() == 2);
  CHECK(t49.token_count == 119);
  CHECK(t49.chunks[0].ids == chunk_of(slice(flat49, 0, 75)));
  CHECK(t49.chunks[1].ids == chunk_of(slice(flat49, 75, 119)));
}

TEST_CASE("a comma further back than 20 tokens does not move anything") {
  std::string prompt = "start,";
  for (int i = 0; i < 80; ++i) prompt += " cat";
  const Ids flat = tokenizer().encode(prompt);
  REQUIRE(flat.size() == 82);
  const auto t = a1111(prompt);
  REQUIRE(t.chunks.size() == 2);
  CHECK(t.chunks[0].ids == chunk_of(slice(flat, 0, 75)));
  CHECK(t.chunks[1].ids == chunk_of(slice(flat, 75, 82)));
  CHECK(t.token_count == 82);
}

TEST_CASE("BREAK starts a new chunk") {
  const std::string prompt = "a portrait of a woman, (detailed face:1.2) BREAK a city at night, neon lights";
  const auto t = a1111(prompt);
  check_shapes(t);
  REQUIRE(t.chunks.size() == 2);
  const Ids first = tokenizer().encode("a portrait of a woman, detailed face");
  const Ids second = tokenizer().encode("a city at night, neon lights");
  CHECK(t.chunks[0].ids == chunk_of(first));
  CHECK(t.chunks[1].ids == chunk_of(second));
  CHECK(t.token_count == 75 + static_cast<int>(second.size()));
  CHECK(t.chunks[0].weights[first.size() - 1] == 1.2f);
  CHECK(t.chunks[0].weights[first.size()] == 1.2f);
  CHECK(t.chunks[0].weights[first.size() - 2] == 1.0f);

  // Edge cases, with A1111's counts: a trailing BREAK adds nothing, a leading one an empty chunk.
  const auto trailing = a1111("a BREAK");
  CHECK(trailing.chunks.size() == 1);
  CHECK(trailing.token_count == 75);
  const auto leading = a1111("BREAK a");
  REQUIRE(leading.chunks.size() == 2);
  CHECK(leading.chunks[0].ids == chunk_of({}));
  CHECK(leading.chunks[1].ids == chunk_of({320}));
  CHECK(leading.token_count == 76);
  const auto twice = a1111("a BREAK BREAK b");
  REQUIRE(twice.chunks.size() == 3);
  CHECK(twice.chunks[1].ids == chunk_of({}));
  CHECK(twice.token_count == 151);
  // Inside brackets BREAK is a word with weight -1.1 (A1111 multiplies its marker).
  const auto inner = a1111("(a BREAK b)");
  REQUIRE(inner.chunks.size() == 1);
  CHECK(inner.chunks[0].ids == chunk_of({320, 2568, 321}));
  CHECK(inner.chunks[0].weights[2] == static_cast<float>(-1.1));
}

TEST_CASE("a BREAK in a full chunk's place: the next piece starts fresh") {
  std::string prompt;
  for (int i = 0; i < 75; ++i) prompt += "cat ";
  prompt += "BREAK dog";
  const auto t = a1111(prompt);
  REQUIRE(t.chunks.size() == 2);
  CHECK(t.chunks[1].ids == chunk_of({1929}));
  CHECK(t.token_count == 76);
}

TEST_CASE("SD 2.x padding: zeros after the chunk's eos") {
  const auto t = a1111("a (b) c", PadConvention::SD2);
  CHECK(t.chunks[0].ids == chunk_of({320, 321, 322}, PadConvention::SD2));
  CHECK(t.chunks[0].ids[4] == kEosId);
  CHECK(t.chunks[0].ids[5] == 0);
  // A1111's SD 2.x tokenizer (OpenCLIP) has no special "!": it stays BPE text here.
  CHECK(a1111("hello!!", PadConvention::SD2).chunks[0].ids == chunk_of({3306, 748}, PadConvention::SD2));
  // A full chunk has no padding either way.
  const auto full = a1111(golden_prompt(53), PadConvention::SD2);
  CHECK(full.chunks[0].ids[76] == kEosId);
  CHECK(full.chunks[1].ids[3] == 0);
}

TEST_CASE("typed special tokens in a1111 mode") {
  const auto t = a1111("<|startoftext|>a photo<|endoftext|> of a dog");
  CHECK(t.chunks[0].ids == chunk_of({49406, 320, 1125, 49407, 539, 320, 1929}));
  CHECK(t.token_count == 7);
}

TEST_CASE("plain mode: diffusers' single window, weights 1, syntax untouched") {
  const std::string prompt = "a (red:1.5) [car] BREAK x";
  const auto t = tokenize_prompt(tokenizer(), prompt, PromptSyntax::Plain, PadConvention::SD1);
  REQUIRE(t.chunks.size() == 1);
  CHECK(t.chunks[0].ids == tokenizer().encode_padded(prompt, PadConvention::SD1));
  CHECK(t.chunks[0].weights == std::vector<float>(77, 1.0f));
  CHECK(t.token_count == static_cast<int>(tokenizer().encode(prompt).size()));
  CHECK(!t.truncated);

  const auto long_prompt = tokenize_prompt(tokenizer(), golden_prompt(49), PromptSyntax::Plain, PadConvention::SD2);
  REQUIRE(long_prompt.chunks.size() == 1);
  CHECK(long_prompt.token_count == 119);
  CHECK(long_prompt.truncated);
  CHECK(long_prompt.chunks[0].ids == tokenizer().encode_padded(golden_prompt(49), PadConvention::SD2));
}
