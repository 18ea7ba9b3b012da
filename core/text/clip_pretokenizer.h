#pragma once
// The text side of CLIPTokenizer._tokenize without ftfy: BasicTokenizer's clean-up
// (strip_accents=False, do_split_on_punc=False) followed by CLIP's regex
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (re.IGNORECASE, Python's `regex` module). The pieces it returns go through byte
// encoding and BPE in CLIPTokenizer.

#include <string>
#include <string_view>
#include <vector>

namespace kiln::text {

// BasicTokenizer.tokenize: drop NUL, U+FFFD and category C* except \t\n\r; whitespace
// (\t\n\r, Zs) -> space; spaces around CJK ideographs; NFC; split on str.isspace();
// lowercase each word (str.lower()). Returns the words as code points.
std::vector<std::u32string> basic_tokenize(std::string_view text);

// The regex matches of one word of basic_tokenize (words hold no whitespace, and no match
// spans one, so matching word by word equals matching the joined text), as UTF-8.
std::vector<std::string> split_clip_pieces(std::u32string_view word);

}  // namespace kiln::text
