#include "text/clip_tokenizer.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <climits>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "base/error.h"
#include "text/clip_pretokenizer.h"

namespace kiln::text {

namespace fs = std::filesystem;

namespace {

// transformers reads merges.txt lines 1 .. 49152 - 256 - 2 (the vocabulary is 256 bytes,
// 256 bytes + "</w>", the merges and the two specials: 49408).
constexpr std::size_t kMaxMerges = 49152 - 256 - 2;

constexpr std::string_view kStartOfText = "<|startoftext|>";
constexpr std::string_view kEndOfText = "<|endoftext|>";
constexpr std::string_view kEndOfWord = "</w>";

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others
// (controls, space, 0x7F-0xA0, 0xAD) are moved to U+0100 and up, so that no BPE symbol
// holds whitespace or a control character. Entries are UTF-8.
const std::array<std::string, 256>& byte_encoder() {
  static const auto table = [] {
    std::array<std::string, 256> t;
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable(b) ? static_cast<char32_t>(b) : next++;
      std::string utf8;
      if (cp < 0x80) {
        utf8.push_back(static_cast<char>(cp));
      } else {
        utf8.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        utf8.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
      t[static_cast<std::size_t>(b)] = std::move(utf8);
    }
    return t;
  }();
  return table;
}

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

std::string read_file(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw FileError(std::string("cannot open the ") + what + ": " + system_error_text(err), path,
                    "a CLIP tokenizer folder holds vocab.json and merges.txt");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw FileError(std::string("cannot read the ") + what, path);
  return std::move(buffer).str();
}

std::vector<std::string_view> split_ascii_whitespace(std::string_view line) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (i < line.size()) {
    while (i < line.size() && space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !space(line[i])) ++i;
    if (i > start) parts.push_back(line.substr(start, i - start));
  }
  return parts;
}

}  // namespace

std::int64_t pad_id(PadConvention pad) { return pad == PadConvention::SD1 ? kEosId : 0; }

struct CLIPTokenizer::Impl {
  std::unordered_map<std::string, std::int64_t> encoder;
  std::unordered_map<std::string, int> bpe_ranks;  // "first second" -> rank

  void load_vocab(const fs::path& path);
  void load_merges(const fs::path& path);

  std::vector<std::string> bpe(const std::string& token) const;
  void tokenize_plain(std::string_view text, std::vector<std::string>& out) const;
  std::vector<std::string> tokenize(std::string_view text, PadConvention specials) const;
  std::vector<std::int64_t> to_ids(const std::vector<std::string>& tokens) const;
};

void CLIPTokenizer::Impl::load_vocab(const fs::path& path) {
  const std::string text = read_file(path, "vocabulary");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError("not valid JSON (byte " + std::to_string(e.byte) + ")", path, "expected a CLIP vocab.json");
  } catch (const nlohmann::json::exception& e) {  // a number out of range (1e400)
    throw FormatError(std::string("not a vocabulary: ") + e.what(), path, "expected a CLIP vocab.json");
  }
  if (!json.is_object() || json.empty()) {
    throw FormatError("not a JSON object of token ids", path, "expected a CLIP vocab.json");
  }
  encoder.reserve(json.size());
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (!it->is_number_integer()) throw FormatError("the id of token \"" + it.key() + "\" is not an integer", path);
    encoder.emplace(it.key(), it->get<std::int64_t>());
  }
  for (const auto& [token, id] : {std::pair{kStartOfText, kBosId}, std::pair{kEndOfText, kEosId}}) {
    const auto found = encoder.find(std::string(token));
    if (found == encoder.end() || found->second != id) {
      throw FormatError("expected \"" + std::string(token) + "\" = " + std::to_string(id) +
                            (found == encoder.end() ? ", it is missing" : ", got " + std::to_string(found->second)),
                        path, "not the CLIP vocabulary of Stable Diffusion");
    }
  }
}

void CLIPTokenizer::Impl::load_merges(const fs::path& path) {
  const std::string text = read_file(path, "merges file");
  std::istringstream in(text);
  std::string line;
  std::size_t line_number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (split_ascii_whitespace(line).empty()) continue;
    header = line.rfind("#version", 0) == 0;
    break;
  }
  if (!header) {
    throw FormatError(line_number == 0 || split_ascii_whitespace(line).empty()
                          ? "empty merges file"
                          : "line " + std::to_string(line_number) + ": expected the \"#version: 0.2\" header",
                      path, "expected a CLIP merges.txt");
  }
  // Like transformers, only the first kMaxMerges lines after the header count (blank lines
  // included); a later duplicate of a pair overrides the earlier rank.
  std::vector<std::string> lines;
  while (lines.size() < kMaxMerges && std::getline(in, line)) lines.push_back(line);
  while (!lines.empty() && split_ascii_whitespace(lines.back()).empty()) lines.pop_back();
  bpe_ranks.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto parts = split_ascii_whitespace(lines[i]);
    if (parts.empty()) continue;
    if (parts.size() != 2) {
      throw FormatError(
          "line " + std::to_string(line_number + 1 + i) + ": expected two symbols, got " + std::to_string(parts.size()),
          path, "expected a CLIP merges.txt");
    }
    bpe_ranks[std::string(parts[0]) + ' ' + std::string(parts[1])] = static_cast<int>(i);
  }
  if (bpe_ranks.empty()) throw FormatError("no merges after the header", path, "expected a CLIP merges.txt");
}

// CLIPTokenizer.bpe: the word's symbols (characters, the last one + "</w>"); repeatedly
// merge every occurrence of the adjacent pair with the lowest rank until none is ranked.
std::vector<std::string> CLIPTokenizer::Impl::bpe(const std::string& token) const {
  std::vector<std::string> word;
  for (std::size_t i = 0; i < token.size();) {
    const std::size_t length = utf8_length(static_cast<unsigned char>(token[i]));
    word.push_back(token.substr(i, length));
    i += length;
  }
  if (word.empty()) return word;
  word.back() += kEndOfWord;

  std::string key;
  while (word.size() > 1) {
    int best_rank = INT_MAX;
    std::size_t best = 0;
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      key.assign(word[i]).append(1, ' ').append(word[i + 1]);
      const auto it = bpe_ranks.find(key);
      if (it != bpe_ranks.end() && it->second < best_rank) {
        best_rank = it->second;
        best = i;
      }
    }
    if (best_rank == INT_MAX) break;
    const std::string first = word[best];
    const std::string second = word[best + 1];
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(std::move(word[i]));
        ++i;
      }
    }
    word = std::move(merged);
  }
  return word;
}

void CLIPTokenizer::Impl::tokenize_plain(std::string_view text, std::vector<std::string>& out) const {
  const auto& bytes = byte_encoder();
  for (const auto& word : basic_tokenize(text)) {
    for (const auto& piece : split_clip_pieces(word)) {
      std::string encoded;
      for (unsigned char b : piece) encoded += bytes[b];
      // transformers' bpe cache starts with the two specials mapped to themselves, so a
      // special the regex finds after clean-up ("<|ENDOFTEXT|>" lowercased) stays whole.
      if (encoded == kStartOfText || encoded == kEndOfText) {
        out.push_back(std::move(encoded));
        continue;
      }
      for (auto& symbol : bpe(encoded)) out.push_back(std::move(symbol));
    }
  }
}

// PreTrainedTokenizer.tokenize: the added (special) tokens are cut out of the raw text
// first, case-sensitively; the text between them is tokenized piece by piece.
std::vector<std::string> CLIPTokenizer::Impl::tokenize(std::string_view text, PadConvention specials) const {
  std::vector<std::string> out;
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::string_view special;
    if (text.substr(i, kStartOfText.size()) == kStartOfText) {
      special = kStartOfText;
    } else if (text.substr(i, kEndOfText.size()) == kEndOfText) {
      special = kEndOfText;
    } else if (specials == PadConvention::SD2 && text[i] == '!') {
      special = "!";
    }
    if (special.empty()) {
      ++i;
      continue;
    }
    if (i > start) tokenize_plain(text.substr(start, i - start), out);
    out.emplace_back(special);
    i += special.size();
    start = i;
  }
  if (text.size() > start) tokenize_plain(text.substr(start), out);
  return out;
}

std::vector<std::int64_t> CLIPTokenizer::Impl::to_ids(const std::vector<std::string>& tokens) const {
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& token : tokens) {
    const auto it = encoder.find(token);
    ids.push_back(it != encoder.end() ? it->second : kEosId);  // unk_token is <|endoftext|>
  }
  return ids;
}

CLIPTokenizer::CLIPTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CLIPTokenizer::CLIPTokenizer(CLIPTokenizer&&) noexcept = default;
CLIPTokenizer& CLIPTokenizer::operator=(CLIPTokenizer&&) noexcept = default;
CLIPTokenizer::~CLIPTokenizer() = default;

CLIPTokenizer CLIPTokenizer::from_files(const fs::path& vocab_json, const fs::path& merges_txt) {
  auto impl = std::make_unique<Impl>();
  impl->load_vocab(vocab_json);
  impl->load_merges(merges_txt);
  return CLIPTokenizer(std::move(impl));
}

CLIPTokenizer CLIPTokenizer::from_folder(const fs::path& tokenizer_folder) {
  std::error_code ec;
  if (!fs::is_directory(tokenizer_folder, ec)) {
    throw FileError("not a folder", tokenizer_folder, "expected a tokenizer folder with vocab.json and merges.txt");
  }
  return from_files(tokenizer_folder / "vocab.json", tokenizer_folder / "merges.txt");
}

std::vector<std::int64_t> CLIPTokenizer::encode(std::string_view text) const {
  return encode(text, PadConvention::SD1);
}

std::vector<std::string> CLIPTokenizer::tokens(std::string_view text) const { return tokens(text, PadConvention::SD1); }

std::vector<std::int64_t> CLIPTokenizer::encode(std::string_view text, PadConvention specials) const {
  return impl_->to_ids(impl_->tokenize(text, specials));
}

std::vector<std::string> CLIPTokenizer::tokens(std::string_view text, PadConvention specials) const {
  return impl_->tokenize(text, specials);
}

std::vector<std::int64_t> CLIPTokenizer::encode_padded(std::string_view text, PadConvention pad) const {
  const auto ids = encode(text, pad);
  std::vector<std::int64_t> out;
  out.reserve(kContextLength);
  out.push_back(kBosId);
  const std::size_t kept = std::min<std::size_t>(ids.size(), kContextLength - 2);
  out.insert(out.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kept));
  out.push_back(kEosId);
  out.resize(kContextLength, pad_id(pad));
  return out;
}

std::int64_t CLIPTokenizer::token_id(const std::string& token) const {
  const auto it = impl_->encoder.find(token);
  return it != impl_->encoder.end() ? it->second : -1;
}

}  // namespace kiln::text
