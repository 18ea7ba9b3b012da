// The CLIP tokenizer against golden/tokenizer/prompts.json (transformers' slow CLIPTokenizer
// without ftfy), loaded from the tiny pipeline's tokenizer folder and from the bundled
// resources/clip copy; loading errors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/sha256.h"
#include "support/test_support.h"
#include "text/clip_tokenizer.h"
#include "text/prompt.h"

namespace fs = std::filesystem;
using kiln::text::CLIPTokenizer;
using kiln::text::PadConvention;

namespace {

fs::path tiny_sd1_tokenizer() { return kiln::test::data_dir() / "golden/pipeline/tiny_sd1/tokenizer"; }
fs::path bundled_vocabulary() { return fs::path(KILN_CLIP_RESOURCES); }

const nlohmann::json& golden_prompts() {
  static const nlohmann::json prompts =
      nlohmann::json::parse(kiln::test::read_text(kiln::test::data_dir() / "golden/tokenizer/prompts.json"))["prompts"];
  return prompts;
}

const CLIPTokenizer& tokenizer() {
  static const CLIPTokenizer t = CLIPTokenizer::from_folder(tiny_sd1_tokenizer());
  return t;
}

std::vector<std::int64_t> ids_of(const nlohmann::json& array) { return array.get<std::vector<std::int64_t>>(); }

void check_golden(const CLIPTokenizer& t) {
  REQUIRE(golden_prompts().size() == 62);
  for (const auto& p : golden_prompts()) {
    const std::string prompt = p["prompt"];
    INFO("prompt " << p["index"].get<int>() << ": " << prompt);
    CHECK(t.tokens(prompt) == p["tokens"].get<std::vector<std::string>>());
    auto full = ids_of(p["ids_full"]);
    REQUIRE(full.size() >= 2);
    CHECK(t.encode(prompt) == std::vector<std::int64_t>(full.begin() + 1, full.end() - 1));
    CHECK(t.encode_padded(prompt, PadConvention::SD1) == ids_of(p["ids_sd1"]));
    CHECK(t.encode_padded(prompt, PadConvention::SD2) == ids_of(p["ids_sd2"]));

    const auto plain = kiln::text::tokenize_prompt(t, prompt, kiln::text::PromptSyntax::Plain, PadConvention::SD1);
    REQUIRE(plain.chunks.size() == 1);
    CHECK(plain.chunks[0].ids == ids_of(p["ids_sd1"]));
    CHECK(plain.chunks[0].weights == std::vector<float>(77, 1.0f));
    CHECK(plain.token_count == p["n_tokens"].get<int>());
    CHECK(plain.truncated == p["truncated"].get<bool>());
    const auto plain_sd2 = kiln::text::tokenize_prompt(t, prompt, kiln::text::PromptSyntax::Plain, PadConvention::SD2);
    CHECK(plain_sd2.chunks[0].ids == ids_of(p["ids_sd2"]));
  }
}

}  // namespace

TEST_CASE("golden prompts: tiny_sd1 tokenizer folder") { check_golden(tokenizer()); }

TEST_CASE("golden prompts: bundled resources/clip vocabulary") {
  // The bundled copy is the golden hf/ vocabulary byte for byte (sha256 from golden/MANIFEST.json).
  CHECK(kiln::io::sha256_file(bundled_vocabulary() / "vocab.json") ==
        "e089ad92ba36837a0d31433e555c8f45fe601ab5c221d4f607ded32d9f7a4349");
  CHECK(kiln::io::sha256_file(bundled_vocabulary() / "merges.txt") ==
        "9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a");
  check_golden(CLIPTokenizer::from_files(bundled_vocabulary() / "vocab.json", bundled_vocabulary() / "merges.txt"));
}

TEST_CASE("special tokens typed in the text") {
  const auto& t = tokenizer();
  // Prompt 40: cut out of the raw text before clean-up, so the first 49407 is mid-sentence.
  CHECK(t.encode("<|startoftext|>a photo<|endoftext|> of a dog") ==
        std::vector<std::int64_t>{49406, 320, 1125, 49407, 539, 320, 1929});
  CHECK(t.encode("a<|endoftext|>b") == std::vector<std::int64_t>{320, 49407, 321});
  // Not special in the raw text (case), but lowercased by the clean-up and then kept whole
  // by transformers' bpe cache.
  CHECK(t.encode("<|ENDOFTEXT|> x") == std::vector<std::int64_t>{49407, 343});
  // The regex's others-run swallows "<|" after punctuation: no special token then.
  CHECK(t.tokens("!<|ENDOFTEXT|>") == std::vector<std::string>{"!", "<", "|</w>", "endof", "text</w>", "|", "></w>"});
}

TEST_CASE("the SD 2.x tokenizer folder makes its pad token \"!\" special") {
  const auto& t = tokenizer();
  CHECK(t.encode("hello!!") == std::vector<std::int64_t>{3306, 748});
  CHECK(t.encode("hello!!", PadConvention::SD2) == std::vector<std::int64_t>{3306, 0, 0});
  CHECK(t.tokens("hello!!", PadConvention::SD2) == std::vector<std::string>{"hello</w>", "!", "!"});
  CHECK(t.encode("!<|endoftext|>", PadConvention::SD2) == std::vector<std::int64_t>{0, 49407});
  CHECK(kiln::text::pad_id(PadConvention::SD1) == 49407);
  CHECK(kiln::text::pad_id(PadConvention::SD2) == 0);
}

TEST_CASE("clean-up, case and regex corner cases match transformers without ftfy") {
  const auto& t = tokenizer();
  // Cf/Cc characters vanish and join words; U+0085 and U+000B are controls, not spaces.
  CHECK(t.encode("x\u200by\u0085z\u000bw") == std::vector<std::int64_t>{20023, 42188});
  // U+2028 is not whitespace to the clean-up but str.split() splits on it.
  CHECK(t.encode("a\u2028b") == std::vector<std::int64_t>{320, 321});
  // NFC: e + combining acute == é.
  CHECK(t.encode("e\u0301") == t.encode("\u00e9"));
  CHECK(t.encode("e\u0301") == std::vector<std::int64_t>{4166});
  // Final sigma: ΟΔΟΣ -> οδος (ς), a lone Σ -> σ, ΑΣ. -> ας.
  CHECK(t.encode("ΟΔΟΣ Σ ΑΣ.") ==
        std::vector<std::int64_t>{138, 123, 138, 112, 138, 123, 139, 480, 139, 481, 138, 109, 139, 480, 269});
  // CJK ideographs become words of their own; a compatibility ideograph is NFC-mapped.
  CHECK(t.encode("漢字x") == std::vector<std::int64_t>{162, 120, 351, 35751, 501, 343});
  CHECK(t.encode("\uf900") == std::vector<std::int64_t>{164, 109, 486});
  // re.IGNORECASE: 's also matches 'ſ (long s); the `regex` module skips U+0345.
  CHECK(t.tokens("it'\u017f ok") == std::vector<std::string>{"it</w>", "'", "Å", "¿</w>", "ok</w>"});
  CHECK(t.encode("a\u0345b") == std::vector<std::int64_t>{320, 321});
  CHECK(t.encode("<|\u017ftartoftext|>") == std::vector<std::int64_t>{27, 91, 129, 123, 2002, 6659, 18169, 91, 285});
  CHECK(t.encode("") == std::vector<std::int64_t>{});
  CHECK(t.encode(" \t\n") == std::vector<std::int64_t>{});
  // Invalid UTF-8 decodes to U+FFFD, which the clean-up drops.
  CHECK(t.encode("ca\xfft") == t.encode("cat"));
}

TEST_CASE("token ids") {
  const auto& t = tokenizer();
  CHECK(t.token_id("<|startoftext|>") == 49406);
  CHECK(t.token_id("<|endoftext|>") == 49407);
  CHECK(t.token_id(",</w>") == 267);
  CHECK(t.token_id("!") == 0);
  CHECK(t.token_id("no such token") == -1);
}

TEST_CASE("loading errors name the file") {
  kiln::test::ScratchDir dir("kiln-text");
  const fs::path vocab = tiny_sd1_tokenizer() / "vocab.json";
  const fs::path merges = tiny_sd1_tokenizer() / "merges.txt";

  auto expect = [](auto&& load, kiln::ErrorKind kind, const fs::path& path, const std::string& message) {
    try {
      load();
      FAIL("no error");
    } catch (const kiln::Error& e) {
      CHECK(e.kind() == kind);
      CHECK(e.path() == path);
      CHECK(e.message() == message);
    }
  };

  SUBCASE("missing vocab.json") {
    expect([&] { CLIPTokenizer::from_files(dir / "vocab.json", merges); }, kiln::ErrorKind::File, dir / "vocab.json",
           "cannot open the vocabulary: No such file or directory");
  }
  SUBCASE("missing folder") {
    expect([&] { CLIPTokenizer::from_folder(dir / "nope"); }, kiln::ErrorKind::File, dir / "nope", "not a folder");
  }
  SUBCASE("folder without merges.txt") {
    fs::copy_file(vocab, dir / "vocab.json");
    expect([&] { CLIPTokenizer::from_folder(dir.path()); }, kiln::ErrorKind::File, dir / "merges.txt",
           "cannot open the merges file: No such file or directory");
  }
  SUBCASE("corrupt JSON") {
    kiln::test::write_text(dir / "vocab.json", "{\"a\": 1,");
    expect([&] { CLIPTokenizer::from_files(dir / "vocab.json", merges); }, kiln::ErrorKind::Format, dir / "vocab.json",
           "not valid JSON (byte 9)");
  }
  SUBCASE("JSON that is not a vocabulary") {
    kiln::test::write_text(dir / "vocab.json", "[1, 2]");
    expect([&] { CLIPTokenizer::from_files(dir / "vocab.json", merges); }, kiln::ErrorKind::Format, dir / "vocab.json",
           "not a JSON object of token ids");
    kiln::test::write_text(dir / "vocab.json", "{\"a\": \"b\"}");
    expect([&] { CLIPTokenizer::from_files(dir / "vocab.json", merges); }, kiln::ErrorKind::Format, dir / "vocab.json",
           "the id of token \"a\" is not an integer");
    kiln::test::write_text(dir / "vocab.json", "{\"a\": 0, \"<|startoftext|>\": 1}");
    expect([&] { CLIPTokenizer::from_files(dir / "vocab.json", merges); }, kiln::ErrorKind::Format, dir / "vocab.json",
           "expected \"<|startoftext|>\" = 49406, got 1");
  }
  SUBCASE("merges file without header") {
    kiln::test::write_text(dir / "merges.txt", "i n\nt h\n");
    expect([&] { CLIPTokenizer::from_files(vocab, dir / "merges.txt"); }, kiln::ErrorKind::Format, dir / "merges.txt",
           "line 1: expected the \"#version: 0.2\" header");
    kiln::test::write_text(dir / "merges.txt", "");
    expect([&] { CLIPTokenizer::from_files(vocab, dir / "merges.txt"); }, kiln::ErrorKind::Format, dir / "merges.txt",
           "empty merges file");
  }
  SUBCASE("malformed merge line") {
    kiln::test::write_text(dir / "merges.txt", "#version: 0.2\ni n\nt h e\n");
    expect([&] { CLIPTokenizer::from_files(vocab, dir / "merges.txt"); }, kiln::ErrorKind::Format, dir / "merges.txt",
           "line 3: expected two symbols, got 3");
  }
  SUBCASE("error text carries the path") {
    try {
      CLIPTokenizer::from_files(dir / "vocab.json", merges);
    } catch (const kiln::FileError& e) {
      CHECK(std::string(e.what()).find((dir / "vocab.json").string()) == 0);
    }
  }
}

TEST_CASE("a merges file with CRLF line ends and a trailing blank line reads the same") {
  kiln::test::ScratchDir dir("kiln-text");
  std::string text = kiln::test::read_text(tiny_sd1_tokenizer() / "merges.txt");
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  kiln::test::write_text(dir / "merges.txt", crlf + "\n\n");
  const auto t = CLIPTokenizer::from_files(tiny_sd1_tokenizer() / "vocab.json", dir / "merges.txt");
  for (const auto& p : golden_prompts())
    CHECK(t.encode(p["prompt"].get<std::string>()) == tokenizer().encode(p["prompt"].get<std::string>()));
}
