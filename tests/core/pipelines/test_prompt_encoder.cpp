#include <doctest/doctest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/diffusers_folder.h"
#include "io/safetensors.h"
#include "models/clip_text_model.h"
#include "pipelines/prompt_encoder.h"
#include "support/test_support.h"
#include "text/clip_tokenizer.h"

namespace fs = std::filesystem;
using kiln::models::CLIPTextModel;
using kiln::pipelines::PromptEncodeOptions;
using kiln::pipelines::PromptEncoder;
using kiln::text::PromptChunk;
using kiln::text::PromptSyntax;
using kiln::text::TokenizedPrompt;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";

struct Golden {
  CLIPTextModel model{nullptr};
  std::unique_ptr<kiln::io::SafetensorsFile> io;
  torch::Tensor ids;  // [5, 77]
};

Golden sd1() {
  Golden g;
  g.model = kiln::models::load_clip_text_model(kGolden / "pipeline/tiny_sd1/text_encoder");
  g.io = kiln::io::SafetensorsFile::open(kGolden / "clip_text/sd1/io.safetensors");
  g.ids = g.io->tensor("input_ids");
  return g;
}

// The gelu model stands in for SDXL's bigG: CLIPTextModelWithProjection, ids padded with 0.
Golden gelu() {
  Golden g;
  g.model = kiln::models::load_clip_text_model(kGolden / "clip_text/gelu/model");
  g.io = kiln::io::SafetensorsFile::open(kGolden / "clip_text/gelu/io.safetensors");
  g.ids = g.io->tensor("input_ids");
  return g;
}

PromptChunk chunk_of(const torch::Tensor& row, std::vector<float> weights = {}) {
  PromptChunk c;
  c.ids.assign(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
  c.weights = weights.empty() ? std::vector<float>(c.ids.size(), 1.0f) : std::move(weights);
  return c;
}

TokenizedPrompt prompt_of(std::initializer_list<PromptChunk> chunks) {
  TokenizedPrompt p;
  p.chunks = chunks;
  return p;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

void check_close(const std::string& what, const torch::Tensor& got, const torch::Tensor& expected) {
  const double diff = max_abs_diff(got, expected);
  MESSAGE(what << ": max abs diff " << diff);
  CHECK(diff <= 1e-4);
}

PromptEncodeOptions options(PromptSyntax syntax, int clip_skip = 1) {
  PromptEncodeOptions o;
  o.syntax = syntax;
  o.clip_skip = clip_skip;
  return o;
}

std::string invalid_request(const std::function<void()>& f) {
  try {
    f();
  } catch (const kiln::InvalidRequestError& e) {
    return e.what();
  }
  FAIL("no InvalidRequestError");
  return {};
}

}  // namespace

TEST_CASE(
    "SD 1.x plain prompt = diffusers' encode_prompt: last_hidden_state; clip skip 2 = final LN of the penultimate") {
  Golden g = sd1();
  const PromptEncoder encoder(g.model);
  for (std::int64_t row = 0; row < g.ids.size(0); ++row) {
    CAPTURE(row);
    const TokenizedPrompt p = prompt_of({chunk_of(g.ids[row])});
    const auto plain = encoder.encode(p, options(PromptSyntax::Plain));
    CHECK_FALSE(plain.pooled.defined());
    check_close("plain clip_skip 1", plain.embeds, g.io->tensor("last_hidden_state").slice(0, row, row + 1));
    const auto skip2 = encoder.encode(p, options(PromptSyntax::Plain, 2));
    check_close("plain clip_skip 2", skip2.embeds, g.io->tensor("penultimate_final_layer_norm").slice(0, row, row + 1));
    // A1111 syntax with every weight 1 is the same computation.
    CHECK(torch::equal(encoder.encode(p, options(PromptSyntax::A1111)).embeds, plain.embeds));
    CHECK(torch::equal(encoder.encode(p, options(PromptSyntax::A1111, 2)).embeds, skip2.embeds));
  }
  // Deeper skips: final_layer_norm(hidden_states[-k]).
  c10::InferenceMode guard;
  const auto out = g.model->forward(g.ids.slice(0, 0, 1), true);
  const auto skip4 = encoder.encode(prompt_of({chunk_of(g.ids[0])}), options(PromptSyntax::A1111, 4));
  CHECK(torch::equal(skip4.embeds,
                     g.model->text_model->final_layer_norm(out.hidden_states[out.hidden_states.size() - 4])));
}

TEST_CASE("A1111 emphasis: weights times embeddings, original mean restored") {
  // Hand computation: z = [[1, 2], [3, 4]], weights [1, 2] -> [[1, 2], [6, 8]], mean 2.5 -> 4.25,
  // times 2.5 / 4.25.
  const torch::Tensor z = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({1, 2, 2});
  const torch::Tensor w = torch::tensor({1.0f, 2.0f}).reshape({1, 2});
  const torch::Tensor expected = torch::tensor({1.0f, 2.0f, 6.0f, 8.0f}).reshape({1, 2, 2}) * (2.5f / 4.25f);
  CHECK(max_abs_diff(kiln::pipelines::apply_emphasis(z, w), expected) < 1e-6);
  CHECK(torch::equal(kiln::pipelines::apply_emphasis(z, torch::ones({1, 2})), z));

  Golden g = sd1();
  const PromptEncoder encoder(g.model);
  // Prompt 1 is "(red hair:1.3), (blue eyes:0.8), ..." - give its tokens A1111-like weights.
  std::vector<float> weights(77, 1.0f);
  for (int i = 1; i <= 3; ++i) weights[i] = 1.3f;
  for (int i = 5; i <= 7; ++i) weights[i] = 0.8f;
  weights[9] = 1.0f / 1.1f;
  const auto out = encoder.encode(prompt_of({chunk_of(g.ids[1], weights)}), options(PromptSyntax::A1111));
  const torch::Tensor base = g.io->tensor("last_hidden_state").slice(0, 1, 2);  // [1, 77, 32]
  const torch::Tensor wt = torch::tensor(weights).reshape({1, 77, 1});
  const torch::Tensor hand = base * wt * (base.mean() / (base * wt).mean());
  check_close("emphasis vs hand computation", out.embeds, hand);
  CHECK(std::abs(out.embeds.mean().item<double>() - base.mean().item<double>()) < 1e-6);
  CHECK_FALSE(torch::allclose(out.embeds, base));
  // Plain syntax ignores weights.
  check_close("plain ignores weights",
              encoder.encode(prompt_of({chunk_of(g.ids[1], weights)}), options(PromptSyntax::Plain)).embeds, base);
}

TEST_CASE("A1111 chunks are encoded one by one and concatenated on the token axis") {
  Golden g = sd1();
  const PromptEncoder encoder(g.model);
  std::vector<float> weights(77, 1.0f);
  weights[2] = 1.21f;
  const auto out =
      encoder.encode(prompt_of({chunk_of(g.ids[0]), chunk_of(g.ids[3], weights)}), options(PromptSyntax::A1111, 2));
  REQUIRE(out.embeds.sizes() == torch::IntArrayRef({1, 154, 32}));
  const torch::Tensor first = g.io->tensor("penultimate_final_layer_norm").slice(0, 0, 1);
  const torch::Tensor second = g.io->tensor("penultimate_final_layer_norm").slice(0, 3, 4);
  const torch::Tensor wt = torch::tensor(weights).reshape({1, 77, 1});
  check_close("chunk 0", out.embeds.slice(1, 0, 77), first);
  // The second chunk's mean is restored on its own.
  check_close("chunk 1", out.embeds.slice(1, 77, 154), second * wt * (second.mean() / (second * wt).mean()));

  CHECK(invalid_request([&] {
          encoder.encode(prompt_of({chunk_of(g.ids[0]), chunk_of(g.ids[3])}), options(PromptSyntax::Plain));
        }) ==
        "the prompt has 2 chunks; plain syntax encodes one 77-token window (tokenize with "
        "PromptSyntax::Plain, which truncates)");
}

TEST_CASE("SDXL: both penultimate layers without final LN, concatenated; pooled = text_embeds of text_encoder_2") {
  Golden a = sd1();
  Golden b = gelu();
  const PromptEncoder encoder(a.model, b.model);
  CHECK(encoder.is_sdxl());
  for (std::int64_t row = 0; row < a.ids.size(0); ++row) {
    CAPTURE(row);
    const TokenizedPrompt p1 = prompt_of({chunk_of(a.ids[row])});
    const TokenizedPrompt p2 = prompt_of({chunk_of(b.ids[row])});
    const auto out = encoder.encode(p1, p2, options(PromptSyntax::Plain));
    const torch::Tensor expected = torch::cat({a.io->tensor("penultimate_hidden_state").slice(0, row, row + 1),
                                               b.io->tensor("penultimate_hidden_state").slice(0, row, row + 1)},
                                              -1);
    REQUIRE(out.embeds.sizes() == torch::IntArrayRef({1, 77, 48}));
    check_close("sdxl embeds", out.embeds, expected);
    check_close("sdxl pooled", out.pooled, b.io->tensor("text_embeds").slice(0, row, row + 1));
  }
  // clip_skip 2 (diffusers' clip_skip=1): hidden_states[-3] of both.
  c10::InferenceMode guard;
  const auto o1 = a.model->forward(a.ids.slice(0, 0, 1), true);
  const auto o2 = b.model->forward(b.ids.slice(0, 0, 1), true);
  const auto skip2 =
      encoder.encode(prompt_of({chunk_of(a.ids[0])}), prompt_of({chunk_of(b.ids[0])}), options(PromptSyntax::A1111, 2));
  CHECK(torch::equal(
      skip2.embeds,
      torch::cat({o1.hidden_states[o1.hidden_states.size() - 3], o2.hidden_states[o2.hidden_states.size() - 3]}, -1)));
  CHECK(torch::equal(skip2.pooled, o2.text_embeds));
}

TEST_CASE("SDXL A1111: emphasis per encoder, pooled from the first chunk") {
  Golden a = sd1();
  Golden b = gelu();
  const PromptEncoder encoder(a.model, b.model);
  std::vector<float> weights(77, 1.0f);
  weights[1] = 1.5f;
  weights[3] = 0.5f;
  const auto out =
      encoder.encode(prompt_of({chunk_of(a.ids[3], weights), chunk_of(a.ids[0])}),
                     prompt_of({chunk_of(b.ids[3], weights), chunk_of(b.ids[0])}), options(PromptSyntax::A1111));
  REQUIRE(out.embeds.sizes() == torch::IntArrayRef({1, 154, 48}));
  const torch::Tensor wt = torch::tensor(weights).reshape({1, 77, 1});
  const torch::Tensor z1 = a.io->tensor("penultimate_hidden_state").slice(0, 3, 4);
  const torch::Tensor z2 = b.io->tensor("penultimate_hidden_state").slice(0, 3, 4);
  check_close("sdxl chunk 0, text_encoder", out.embeds.slice(1, 0, 77).slice(2, 0, 32),
              z1 * wt * (z1.mean() / (z1 * wt).mean()));
  check_close("sdxl chunk 0, text_encoder_2", out.embeds.slice(1, 0, 77).slice(2, 32, 48),
              z2 * wt * (z2.mean() / (z2 * wt).mean()));
  check_close("sdxl chunk 1", out.embeds.slice(1, 77, 154),
              torch::cat({a.io->tensor("penultimate_hidden_state").slice(0, 0, 1),
                          b.io->tensor("penultimate_hidden_state").slice(0, 0, 1)},
                         -1));
  check_close("sdxl pooled of chunk 0", out.pooled, b.io->tensor("text_embeds").slice(0, 3, 4));
}

TEST_CASE("invalid requests: clip skip range, wrong encoder count, chunk shape") {
  Golden a = sd1();
  Golden b = gelu();
  const PromptEncoder sd(a.model);
  const PromptEncoder xl(a.model, b.model);
  const TokenizedPrompt p = prompt_of({chunk_of(a.ids[0])});
  CHECK(invalid_request([&] { sd.encode(p, options(PromptSyntax::A1111, 0)); }) ==
        "clip_skip 0 is out of range 1..5 (the text encoder has 5 layers)");
  CHECK(invalid_request([&] { sd.encode(p, options(PromptSyntax::A1111, 6)); }) ==
        "clip_skip 6 is out of range 1..5 (the text encoder has 5 layers)");
  // SDXL counts from the penultimate layer: the gelu encoder's 3 layers allow clip skip 1..2.
  CHECK(invalid_request([&] { xl.encode(p, p, options(PromptSyntax::A1111, 3)); }) ==
        "clip_skip 3 is out of range 1..2 (the text encoder has 3 layers)");
  CHECK(invalid_request([&] { xl.encode(p); }) ==
        "SDXL needs the prompt tokenized for each of its two text encoders (call encode(prompt, prompt_2))");
  CHECK(invalid_request([&] { sd.encode(p, p); }) == "encode(prompt, prompt_2) is for SDXL's two text encoders");
  CHECK(invalid_request([&] {
          xl.encode(p, prompt_of({chunk_of(b.ids[0]), chunk_of(b.ids[1])}));
        }) == "the prompts of the two text encoders have 1 and 2 chunks; they must match");
  TokenizedPrompt bad = p;
  bad.chunks[0].weights.pop_back();
  CHECK(invalid_request([&] { sd.encode(bad); }) ==
        "the prompt: a chunk has 77 ids and 76 weights, expected as many ids as weights, 1 to 77");
  CHECK(invalid_request([&] { sd.encode(TokenizedPrompt{}); }) == "the prompt has no token chunk");
  CHECK(invalid_request([&] { PromptEncoder(a.model, a.model); }) ==
        "SDXL's text_encoder_2 has no text_projection (it must be a CLIPTextModelWithProjection (OpenCLIP bigG))");
}

TEST_CASE("end to end with the tokenizer: plain prompts give the golden ids and outputs") {
  Golden a = sd1();
  Golden b = gelu();
  const auto tokenizer = kiln::text::CLIPTokenizer::from_folder(kGolden / "pipeline/tiny_sd1/tokenizer");
  const auto meta = nlohmann::json::parse(kiln::test::read_text(kGolden / "clip_text/meta.json"));
  const auto prompts = meta.at("sd1").at("prompts").get<std::vector<std::string>>();
  REQUIRE(prompts.size() == 5);
  const PromptEncoder sd(a.model);
  const PromptEncoder xl(a.model, b.model);
  for (std::int64_t row = 0; row < 5; ++row) {
    CAPTURE(prompts[row]);
    const auto p1 =
        kiln::text::tokenize_prompt(tokenizer, prompts[row], PromptSyntax::Plain, kiln::text::PadConvention::SD1);
    const auto p2 =
        kiln::text::tokenize_prompt(tokenizer, prompts[row], PromptSyntax::Plain, kiln::text::PadConvention::SD2);
    REQUIRE(p1.chunks.size() == 1);
    CHECK(p1.chunks[0].ids == chunk_of(a.ids[row]).ids);
    CHECK(p2.chunks[0].ids == chunk_of(b.ids[row]).ids);
    check_close("tokenized sd1", sd.encode(p1, options(PromptSyntax::Plain)).embeds,
                a.io->tensor("last_hidden_state").slice(0, row, row + 1));
    const auto out = xl.encode(p1, p2, options(PromptSyntax::Plain));
    check_close("tokenized sdxl pooled", out.pooled, b.io->tensor("text_embeds").slice(0, row, row + 1));
  }
  // A1111 syntax: prompt 1 carries weights (so differs from plain), prompt 3 (>75 tokens) two chunks.
  const auto weighted =
      kiln::text::tokenize_prompt(tokenizer, prompts[1], PromptSyntax::A1111, kiln::text::PadConvention::SD1);
  auto unweighted = weighted;
  for (auto& c : unweighted.chunks) std::fill(c.weights.begin(), c.weights.end(), 1.0f);
  CHECK(unweighted.chunks[0].weights != weighted.chunks[0].weights);
  const torch::Tensor base = sd.encode(unweighted).embeds;  // the syntax removed: other ids than plain
  const torch::Tensor emphasized = sd.encode(weighted).embeds;
  CHECK_FALSE(torch::allclose(emphasized, base));
  CHECK(std::abs(emphasized.mean().item<double>() - base.mean().item<double>()) < 1e-6);
  const auto long_prompt =
      kiln::text::tokenize_prompt(tokenizer, prompts[3], PromptSyntax::A1111, kiln::text::PadConvention::SD1);
  CHECK(long_prompt.chunks.size() == 2);
  CHECK(sd.encode(long_prompt).embeds.sizes() == torch::IntArrayRef({1, 154, 32}));
}
