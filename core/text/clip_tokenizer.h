#pragma once
// CLIP's byte-level BPE tokenizer, as transformers' CLIPTokenizer without ftfy (what a plain
// `pip install diffusers transformers` gives): BasicTokenizer clean-up (control characters
// removed, whitespace normalised, CJK ideographs split, NFC, lowercase, no accent stripping),
// the CLIP regex, byte-to-unicode mapping, BPE with the merges file.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::text {

inline constexpr std::int64_t kBosId = 49406;  // <|startoftext|>
inline constexpr std::int64_t kEosId = 49407;  // <|endoftext|>
inline constexpr int kContextLength = 77;      // bos + 75 tokens + eos

// SD 1.x tokenizers pad with <|endoftext|> (49407); SD 2.x / OpenCLIP ones with "!" (0).
enum class PadConvention { SD1, SD2 };
std::int64_t pad_id(PadConvention pad);

class CLIPTokenizer {
 public:
  // vocab.json + merges.txt (a diffusers `tokenizer/` folder). Throws kiln::FileError /
  // kiln::FormatError naming the file.
  static CLIPTokenizer from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt);
  static CLIPTokenizer from_folder(const std::filesystem::path& tokenizer_folder);

  // BPE ids of the text, without bos/eos, untruncated.
  std::vector<std::int64_t> encode(std::string_view text) const;
  // The BPE strings ("photo</w>") of the text, for display and tests.
  std::vector<std::string> tokens(std::string_view text) const;
  // The same with the special tokens of an SD 1.x or SD 2.x tokenizer folder. The SD 2.x
  // folders declare their pad token "!" a special token, so a typed "!" is split off before
  // BPE and becomes id 0 ("hi!!" -> hi</w> ! ! instead of hi</w> !!</w>); SD1 is the
  // one-argument form. Typed "<|startoftext|>" / "<|endoftext|>" are special in both.
  std::vector<std::int64_t> encode(std::string_view text, PadConvention specials) const;
  std::vector<std::string> tokens(std::string_view text, PadConvention specials) const;
  // diffusers' call: bos + first 75 ids + eos, padded to 77, with the specials of `pad`'s
  // tokenizer folder.
  std::vector<std::int64_t> encode_padded(std::string_view text, PadConvention pad) const;
  // Id of one vocabulary entry, -1 if absent.
  std::int64_t token_id(const std::string& token) const;

  CLIPTokenizer(CLIPTokenizer&&) noexcept;
  CLIPTokenizer& operator=(CLIPTokenizer&&) noexcept;
  ~CLIPTokenizer();

 private:
  struct Impl;
  explicit CLIPTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::text
