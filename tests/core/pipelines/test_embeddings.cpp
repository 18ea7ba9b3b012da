// Textual inversion embeddings: every file layout A1111 reads (A1111's .pt, diffusers' .bin,
// kohya's emb_params and string_to_param safetensors, SDXL clip_l/clip_g), the names expanded in
// the prompt's 75-token chunks, and the conditioning equal to the text encoder run with the
// vectors put in by hand (written into unused rows of the token embedding matrix); every refusal.
#include <doctest/doctest.h>

#include <fstream>
#include <ostream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "io/torch_checkpoint_writer.h"
#include "pipelines/embeddings.h"
#include "pipelines/pipeline_stages.h"
#include "pipelines/prompt_encoder.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "support/test_support.h"

namespace kiln::text {
std::ostream& operator<<(std::ostream& out, const EmbeddingSlot& s) {
  return out << "{" << s.offset << ", " << s.count << ", " << s.name << "}";
}
}  // namespace kiln::text

namespace fs = std::filesystem;
using kiln::pipelines::GenerationRequest;
using kiln::pipelines::PromptEncodeOptions;
using kiln::pipelines::PromptEncoder;
using kiln::pipelines::StableDiffusionModel;
using kiln::text::PromptSyntax;
using kiln::text::TokenizedPrompt;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";
const fs::path kMore = kGolden / "pipeline_more";

// As test_more_pipelines.cpp: the SDXL folder with its shared files copied in.
fs::path assemble(const std::string& model, const fs::path& scratch) {
  const fs::path out = scratch / model;
  fs::copy(kMore / model, out, fs::copy_options::recursive);
  const nlohmann::json shared = nlohmann::json::parse(kiln::test::read_text(out / "shared_files.json"));
  for (const auto& [key, entry] : shared.at("files").items()) {
    fs::create_directories((out / key).parent_path());
    fs::copy_file(kGolden / entry.at("source").get<std::string>(), out / key);
  }
  fs::remove(out / "shared_files.json");
  return out;
}

const kiln::test::ScratchDir& scratch() {
  static kiln::test::ScratchDir dir("kiln-embeddings");
  return dir;
}

const StableDiffusionModel& sd1() {
  static const StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  return model;
}

const StableDiffusionModel& sdxl() {
  static const StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(assemble("tiny_sdxl", scratch().path()));
  return model;
}

// ---- torch.save files with A1111's nested dict (hand-assembled pickle in a stored zip) ----

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t crc(const std::string& data) {
  return kiln::io::crc32(std::as_bytes(std::span(data.data(), data.size())));
}

std::string make_zip(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out, central;
  for (const auto& [name, data] : items) {
    const std::uint64_t local = out.size();
    std::uint64_t pad = (64 - (local + 30 + name.size()) % 64) % 64;  // data 64-byte aligned, as torch.save
    if (pad < 4) pad += 64;
    std::string extra = "FB";
    put(extra, pad - 4, 2);
    extra.append(pad - 4, 'Z');
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, 0, 2);
    put(out, 0, 2);
    put(out, 0, 4);
    put(out, crc(data), 4);
    put(out, data.size(), 4);
    put(out, data.size(), 4);
    put(out, name.size(), 2);
    put(out, extra.size(), 2);
    out += name + extra + data;
    put(central, 0x02014b50, 4);
    put(central, 20, 2);
    put(central, 20, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 4);
    put(central, crc(data), 4);
    put(central, data.size(), 4);
    put(central, data.size(), 4);
    put(central, name.size(), 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 4);
    put(central, local, 4);
    central += name;
  }
  const std::uint64_t cd_offset = out.size();
  out += central;
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, items.size(), 2);
  put(out, items.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  return out;
}

std::string pk_str(const std::string& s) {
  std::string out = "X";
  put(out, s.size(), 4);
  return out + s;
}
std::string pk_int(std::int64_t v) {
  std::string out = "J";
  put(out, static_cast<std::uint64_t>(v), 4);
  return out;
}
std::string pk_global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string pk_tuple(const std::vector<std::int64_t>& v) {
  std::string out = "(";
  for (auto x : v) out += pk_int(x);
  return out + "t";
}
// torch._utils._rebuild_tensor_v2 of float storage "0" (requires_grad True, as A1111 saves a
// trained vector).
std::string pk_tensor(const torch::Tensor& t) {
  const std::string storage =
      "(" + pk_str("storage") + pk_global("torch", "FloatStorage") + pk_str("0") + pk_str("cpu") + pk_int(t.numel()) + "tQ";
  std::vector<std::int64_t> stride(static_cast<std::size_t>(t.dim()));
  for (std::int64_t d = t.dim(), s = 1; d-- > 0;) {
    stride[static_cast<std::size_t>(d)] = s;
    s *= t.size(d);
  }
  return pk_global("torch._utils", "_rebuild_tensor_v2") + "(" + storage + pk_int(0) + pk_tuple(t.sizes().vec()) +
         pk_tuple(stride) + "\x88" + pk_global("collections", "OrderedDict") + ")R" + "tR";
}

// AUTOMATIC1111's Embedding.save: {"string_to_token": {"*": 265}, "string_to_param": {"*": vec},
// "name", "step", "sd_checkpoint", "sd_checkpoint_name"}.
void write_a1111_pt(const fs::path& path, const torch::Tensor& vec, int terms = 1) {
  std::string params = "}(";
  for (int i = 0; i < terms; ++i) params += pk_str(i == 0 ? "*" : "*" + std::to_string(i)) + pk_tensor(vec);
  params += "u";
  const std::string pkl = "\x80\x02}(" + pk_str("string_to_token") + "}(" + pk_str("*") + pk_int(265) + "u" +
                          pk_str("string_to_param") + params + pk_str("name") + pk_str(path.stem().string()) +
                          pk_str("step") + pk_int(500) + pk_str("sd_checkpoint") + "N" + pk_str("sd_checkpoint_name") +
                          "N" + "u.";
  const torch::Tensor c = vec.to(torch::kFloat).contiguous();
  const std::string data(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<std::size_t>(c.numel()) * 4);
  const std::string zip = make_zip({{"emb/data.pkl", pkl}, {"emb/data/0", data}, {"emb/version", "3\n"}});
  std::ofstream(path, std::ios::binary).write(zip.data(), static_cast<std::streamsize>(zip.size()));
}

torch::Tensor random_vectors(std::int64_t n, std::int64_t width, std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({n, width});
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Unused vocabulary rows that stand for the embedding's vectors in the reference run.
constexpr std::int64_t kSpareId = 40000;

// The same prompt with the embedding slots given spare ids, the vectors written into those rows
// of the token embedding (restored afterwards): the text encoder's own path, no injection.
struct HandPlaced {
  TokenizedPrompt prompt;
  std::vector<std::pair<kiln::models::CLIPTextModel, torch::Tensor>> saved;
  HandPlaced(TokenizedPrompt p, const std::vector<std::pair<kiln::models::CLIPTextModel, torch::Tensor>>& rows)
      : prompt(std::move(p)) {
    torch::NoGradGuard no_grad;
    for (auto& chunk : prompt.chunks) {
      for (const auto& slot : chunk.embeddings)
        for (int i = 0; i < slot.count; ++i) chunk.ids[slot.offset + static_cast<std::size_t>(i)] = kSpareId + i;
      chunk.embeddings.clear();
    }
    for (const auto& [encoder, vectors] : rows) {
      torch::Tensor w = encoder->text_model->embeddings->token_embedding->weight;
      saved.emplace_back(encoder, w.narrow(0, kSpareId, vectors.size(0)).clone());
      w.narrow(0, kSpareId, vectors.size(0)).copy_(vectors);
    }
  }
  ~HandPlaced() {
    torch::NoGradGuard no_grad;
    for (auto& [encoder, old] : saved)
      encoder->text_model->embeddings->token_embedding->weight.narrow(0, kSpareId, old.size(0)).copy_(old);
  }
};

kiln::pipelines::Conditioning condition(const StableDiffusionModel& model, const std::string& prompt,
                                        const fs::path& folder) {
  GenerationRequest r;
  r.prompt = prompt;
  r.embedding_folders = {folder};
  return kiln::pipelines::encode_conditioning(model, r, /*cfg=*/false);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("embedding files: every layout A1111 reads, name = file stem") {
  const fs::path dir = scratch() / "formats";
  fs::create_directories(dir);
  const torch::Tensor v = random_vectors(3, 32, 1);

  write_a1111_pt(dir / "a1111.pt", v);
  kiln::io::TorchCheckpointWriteOptions bare;
  bare.nest_in_state_dict = false;
  kiln::io::write_torch_checkpoint(dir / "diffusers.bin", {{"<cat-toy>", v[1]}}, bare);
  kiln::io::write_safetensors(dir / "kohya.safetensors", {{"emb_params", v}});
  kiln::io::write_safetensors(dir / "flat.safetensors", {{"string_to_param.*", v.to(torch::kFloat16)}});
  kiln::io::write_safetensors(dir / "xl.safetensors", {{"clip_g", v.narrow(1, 0, 16)}, {"clip_l", v.narrow(1, 16, 16)}});

  const auto a = kiln::pipelines::load_textual_inversion(dir / "a1111.pt");
  CHECK(a.name == "a1111");
  CHECK(!a.is_sdxl());
  CHECK(a.count() == 3);
  CHECK(torch::equal(a.vectors, v));
  const auto d = kiln::pipelines::load_textual_inversion(dir / "diffusers.bin");
  CHECK(d.count() == 1);
  CHECK(torch::equal(d.vectors, v[1].unsqueeze(0)));
  CHECK(torch::equal(kiln::pipelines::load_textual_inversion(dir / "kohya.safetensors").vectors, v));
  const auto f = kiln::pipelines::load_textual_inversion(dir / "flat.safetensors");
  CHECK((f.vectors.scalar_type() == torch::kFloat32));
  CHECK(max_abs_diff(f.vectors, v) < 1e-2);
  const auto xl = kiln::pipelines::load_textual_inversion(dir / "xl.safetensors");
  CHECK(xl.is_sdxl());
  CHECK(xl.count() == 3);
  CHECK(torch::equal(xl.clip_l, v.narrow(1, 16, 16)));
  CHECK(torch::equal(xl.clip_g, v.narrow(1, 0, 16)));

  // The folder: recursive, by extension, empty and hidden files skipped.
  fs::create_directories(dir / "sub");
  kiln::io::write_safetensors(dir / "sub" / "nested.safetensors", {{"emb_params", v}});
  kiln::test::write_text(dir / "empty.pt", "");
  kiln::test::write_text(dir / "notes.txt", "not an embedding");
  const auto library = kiln::pipelines::EmbeddingLibrary::scan({dir});
  std::string names;
  for (const auto& [name, file] : library.files()) names += name + " ";
  CHECK(names == "a1111 diffusers flat kohya nested xl ");
  CHECK_THROWS_AS(kiln::pipelines::EmbeddingLibrary::scan({dir / "missing"}), kiln::FileError);

  // A1111's short hash: the first 12 hex digits of the file's SHA-256.
  const std::string hash = kiln::pipelines::textual_inversion_short_hash(dir / "kohya.safetensors");
  CHECK(hash.size() == 12);
  CHECK(hash == kiln::io::sha256_file(dir / "kohya.safetensors").substr(0, 12));
}

TEST_CASE("embedding files of the wrong kind are refused, naming the file") {
  const fs::path dir = scratch() / "bad";
  fs::create_directories(dir);
  const torch::Tensor v = random_vectors(2, 32, 2);
  kiln::test::write_text(dir / "text.pt", "hello, not a checkpoint");
  kiln::io::write_safetensors(dir / "model.safetensors", {{"a.weight", v}, {"b.weight", v}});
  kiln::io::write_safetensors(dir / "no_g.safetensors", {{"clip_l", v}});
  kiln::io::write_safetensors(dir / "ints.safetensors", {{"emb_params", torch::ones({2, 32}, torch::kInt32)}});
  kiln::io::write_safetensors(dir / "long.safetensors", {{"emb_params", torch::zeros({76, 32})}});
  kiln::io::write_safetensors(dir / "uneven.safetensors", {{"clip_l", torch::zeros({2, 16})}, {"clip_g", torch::zeros({3, 16})}});
  write_a1111_pt(dir / "two_terms.pt", v, 2);

  const auto refused = [&](const std::string& file, const std::string& words) {
    const std::string message = error_of([&] { kiln::pipelines::load_textual_inversion(dir / file); });
    MESSAGE(message);
    CHECK(message.find(file) != std::string::npos);
    CHECK(message.find(words) != std::string::npos);
  };
  refused("text.pt", "not a weight file");
  refused("model.safetensors", "not a textual inversion embedding");
  refused("no_g.safetensors", "has no clip_g");
  refused("ints.safetensors", "not floating point");
  refused("long.safetensors", "76 vectors");
  refused("uneven.safetensors", "clip_l has 2 vectors and clip_g 3");
  refused("two_terms.pt", "2 terms");

  // Used in a prompt: the same error, before anything is encoded.
  const std::string message = error_of([&] { condition(sd1(), "a photo of model", dir); });
  CHECK(message.find("model.safetensors") != std::string::npos);
  CHECK(message.find("not a textual inversion embedding") != std::string::npos);
  // Unused, a bad file is never read.
  CHECK_NOTHROW(condition(sd1(), "a photo of a cat", dir));
}

TEST_CASE("SD 1.x: a name expands to its vectors at the transformer's input") {
  const StableDiffusionModel& model = sd1();
  const fs::path dir = scratch() / "sd1";
  fs::create_directories(dir);
  const torch::Tensor v = random_vectors(2, 32, 3) * 0.05;
  write_a1111_pt(dir / "tiemb.pt", v);
  const auto library = kiln::pipelines::EmbeddingLibrary::scan({dir});

  for (const std::string prompt : {"a photo of tiemb, detailed", "a photo of (tiemb:1.3), detailed", "TiEmb"}) {
    CAPTURE(prompt);
    const auto used = kiln::pipelines::resolve_embeddings(model, library, {prompt}, PromptSyntax::A1111);
    REQUIRE(used.used.size() == 1);
    CHECK(used.used[0].name == "tiemb");
    const TokenizedPrompt tokens =
        kiln::text::tokenize_prompt(*model.tokenizer, prompt, PromptSyntax::A1111, kiln::text::PadConvention::SD1, used.prompt);
    // Two vectors count as two tokens; the name's own tokens are gone.
    const std::size_t before = prompt == "TiEmb" ? 0 : model.tokenizer->encode("a photo of").size();
    REQUIRE(tokens.chunks.size() == 1);
    REQUIRE(tokens.chunks[0].embeddings.size() == 1);
    CHECK(tokens.chunks[0].embeddings[0] == kiln::text::EmbeddingSlot{before + 1, 2, "tiemb"});
    const float weight = prompt.find("1.3") != std::string::npos ? 1.3f : 1.0f;
    CHECK(tokens.chunks[0].weights[before + 1] == doctest::Approx(weight));
    CHECK(tokens.chunks[0].weights[before + 2] == doctest::Approx(weight));
    const int words_after = prompt.find("detailed") != std::string::npos ? 2 : 0;  // ", detailed"
    CHECK(tokens.token_count == static_cast<int>(before) + 2 + words_after);

    const torch::Tensor got = condition(model, prompt, dir).embeds;
    const HandPlaced hand(tokens, {{model.text_encoder, v}});
    PromptEncodeOptions o;
    const torch::Tensor expected = PromptEncoder(model.text_encoder).encode(hand.prompt, o).embeds;
    const double diff = max_abs_diff(got, expected);
    MESSAGE("max abs diff " << diff);
    CHECK(diff <= 1e-5);
    // And it differs from the prompt without the embedding.
    GenerationRequest plain;
    plain.prompt = prompt;
    CHECK(max_abs_diff(kiln::pipelines::encode_conditioning(model, plain, false).embeds, got) > 1e-3);
  }
}

TEST_CASE("plain syntax and the negative prompt take embeddings too") {
  const StableDiffusionModel& model = sd1();
  const fs::path dir = scratch() / "plain";
  fs::create_directories(dir);
  const torch::Tensor v = random_vectors(1, 32, 6) * 0.05, n = random_vectors(3, 32, 7) * 0.05;
  kiln::io::write_safetensors(dir / "plainemb.safetensors", {{"emb_params", v}});
  kiln::io::write_safetensors(dir / "negemb.safetensors", {{"emb_params", n}});
  GenerationRequest r;
  r.prompt = "plainemb in a field";
  r.negative_prompt = "negemb";
  r.prompt_syntax = PromptSyntax::Plain;
  r.embedding_folders = {dir};
  const auto got = kiln::pipelines::encode_conditioning(model, r, /*cfg=*/true);  // [negative, positive]
  const auto used = kiln::pipelines::resolve_embeddings(model, kiln::pipelines::EmbeddingLibrary::scan({dir}),
                                                        {r.prompt, r.negative_prompt}, PromptSyntax::Plain);
  REQUIRE(used.used.size() == 2);
  CHECK(used.used[0].name == "plainemb");
  CHECK(used.used[1].name == "negemb");
  const auto tokenize = [&](const std::string& text) {
    return kiln::text::tokenize_prompt(*model.tokenizer, text, PromptSyntax::Plain, kiln::text::PadConvention::SD1,
                                       used.prompt);
  };
  PromptEncodeOptions o;
  o.syntax = PromptSyntax::Plain;
  const PromptEncoder encoder(model.text_encoder);
  {
    const HandPlaced hand(tokenize(r.prompt), {{model.text_encoder, v}});
    CHECK(max_abs_diff(got.embeds[1].unsqueeze(0), encoder.encode(hand.prompt, o).embeds) <= 1e-5);
  }
  {
    const HandPlaced hand(tokenize(r.negative_prompt), {{model.text_encoder, n}});
    CHECK(max_abs_diff(got.embeds[0].unsqueeze(0), encoder.encode(hand.prompt, o).embeds) <= 1e-5);
  }
}

TEST_CASE("embeddings in the 75-token chunks: never split, moved whole to the next chunk") {
  const StableDiffusionModel& model = sd1();
  const std::vector<kiln::text::PromptEmbedding> embeddings{{"tiemb", model.tokenizer->encode("tiemb"), 3}};
  std::string prompt;
  for (int i = 0; i < 74; ++i) prompt += "cat ";
  prompt += "tiemb";
  const TokenizedPrompt t = kiln::text::tokenize_prompt(*model.tokenizer, prompt, PromptSyntax::A1111,
                                                        kiln::text::PadConvention::SD1, embeddings);
  REQUIRE(t.chunks.size() == 2);
  CHECK(t.chunks[0].embeddings.empty());
  CHECK(t.chunks[1].embeddings == std::vector<kiln::text::EmbeddingSlot>{{1, 3, "tiemb"}});
  CHECK(t.token_count == 75 + 3);
  CHECK(t.chunks[1].ids[4] == kiln::text::kEosId);
  // A1111's comma backtrack: the text after the last comma moves on, its embedding with it.
  std::string comma;
  for (int i = 0; i < 70; ++i) comma += "cat ";
  comma += ", tiemb cat dog";  // 70 + comma + 3 vectors + 1 = 75, then "dog" overflows
  const TokenizedPrompt c = kiln::text::tokenize_prompt(*model.tokenizer, comma, PromptSyntax::A1111,
                                                        kiln::text::PadConvention::SD1, embeddings);
  REQUIRE(c.chunks.size() == 2);
  CHECK(c.chunks[0].embeddings.empty());
  CHECK(c.chunks[0].ids[72] == kiln::text::kEosId);  // bos, 70 cats, the comma, eos
  CHECK(c.chunks[1].embeddings == std::vector<kiln::text::EmbeddingSlot>{{1, 3, "tiemb"}});
  CHECK(c.token_count == 75 + 5);
  // Plain syntax: one window, the embedding cut at its end.
  std::string plain;
  for (int i = 0; i < 73; ++i) plain += "cat ";
  plain += "tiemb";
  const TokenizedPrompt p = kiln::text::tokenize_prompt(*model.tokenizer, plain, PromptSyntax::Plain,
                                                        kiln::text::PadConvention::SD1, embeddings);
  REQUIRE(p.chunks.size() == 1);
  CHECK(p.chunks[0].embeddings == std::vector<kiln::text::EmbeddingSlot>{{74, 2, "tiemb"}});
  CHECK(p.truncated);
  CHECK(p.token_count == 76);
  // The longest name wins where two start at the same token.
  const std::vector<kiln::text::PromptEmbedding> two{{"cat", model.tokenizer->encode("cat"), 1},
                                                     {"cat toy", model.tokenizer->encode("cat toy"), 2}};
  const TokenizedPrompt both = kiln::text::tokenize_prompt(*model.tokenizer, "a cat toy and a cat", PromptSyntax::A1111,
                                                           kiln::text::PadConvention::SD1, two);
  CHECK(both.chunks[0].embeddings == std::vector<kiln::text::EmbeddingSlot>{{2, 2, "cat toy"}, {6, 1, "cat"}});
  const auto found = kiln::text::embeddings_in_prompt(*model.tokenizer, "a cat toy and a cat", PromptSyntax::A1111, two);
  REQUIRE(found.size() == 2);
  CHECK(found[0] == "cat toy");
  CHECK(found[1] == "cat");
}

TEST_CASE("SDXL: clip_l and clip_g vectors go to their encoders; SD 1.x files are refused") {
  const StableDiffusionModel& model = sdxl();
  const fs::path dir = scratch() / "sdxl";
  fs::create_directories(dir);
  const torch::Tensor l = random_vectors(2, 16, 4) * 0.05, g = random_vectors(2, 16, 5) * 0.05;
  kiln::io::write_safetensors(dir / "xlemb.safetensors", {{"clip_g", g}, {"clip_l", l}});
  kiln::io::write_safetensors(dir / "oneemb.safetensors", {{"emb_params", l}});

  const std::string prompt = "a photo of (xlemb:1.2)";
  const auto used = kiln::pipelines::resolve_embeddings(model, kiln::pipelines::EmbeddingLibrary::scan({dir}), {prompt},
                                                        PromptSyntax::A1111);
  const TokenizedPrompt first = kiln::text::tokenize_prompt(*model.tokenizer, prompt, PromptSyntax::A1111,
                                                            kiln::text::PadConvention::SD1, used.prompt);
  const TokenizedPrompt second = kiln::text::tokenize_prompt(*model.tokenizer, prompt, PromptSyntax::A1111,
                                                             kiln::text::PadConvention::SD2, used.prompt);
  const auto got = condition(model, prompt, dir);
  torch::Tensor expected_embeds, expected_pooled;
  {
    const HandPlaced a(first, {{model.text_encoder, l}, {model.text_encoder_2, g}});
    const HandPlaced b(second, {});
    const auto expected = PromptEncoder(model.text_encoder, model.text_encoder_2).encode(a.prompt, b.prompt, {});
    expected_embeds = expected.embeds;
    expected_pooled = expected.pooled;
  }
  CHECK(max_abs_diff(got.embeds, expected_embeds) <= 1e-5);
  CHECK(max_abs_diff(got.pooled, expected_pooled) <= 1e-5);

  const std::string message = error_of([&] { condition(model, "a photo of oneemb", dir); });
  MESSAGE(message);
  CHECK(message.find("oneemb.safetensors") != std::string::npos);
  CHECK(message.find("the model is SDXL") != std::string::npos);
  // And an SDXL file with an SD 1.x model.
  const std::string other = error_of([&] { condition(sd1(), "a photo of xlemb", dir); });
  MESSAGE(other);
  CHECK(other.find("xlemb.safetensors") != std::string::npos);
  CHECK(other.find("is an SDXL embedding") != std::string::npos);
}

TEST_CASE("a vector width that does not fit the text encoder is refused before sampling") {
  const fs::path dir = scratch() / "width";
  fs::create_directories(dir);
  kiln::io::write_safetensors(dir / "sd2emb.safetensors", {{"emb_params", torch::zeros({1, 1024})}});
  GenerationRequest r;
  r.prompt = "sd2emb portrait";
  r.width = r.height = 64;
  r.steps = 2;
  r.embedding_folders = {dir};
  bool stepped = false;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.on_step = [&](const kiln::pipelines::StepInfo&) { stepped = true; };
  const std::string message = error_of([&] { kiln::pipelines::generate(sd1(), r, {}, callbacks); });
  MESSAGE(message);
  CHECK(message.find("sd2emb.safetensors") != std::string::npos);
  CHECK(message.find("1024-wide vectors (SD 2.x)") != std::string::npos);
  CHECK(message.find("takes 32-wide vectors") != std::string::npos);
  CHECK(!stepped);
}
