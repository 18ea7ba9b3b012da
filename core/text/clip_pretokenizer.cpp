#include "text/clip_pretokenizer.h"

#include "text/unicode.h"

namespace kiln::text {

namespace {

// U+0345 COMBINING GREEK YPOGEGRAMMENI (category Mn) case-folds to a letter (ι). Under
// re.IGNORECASE the `regex` module then matches it with none of [\p{L}], [\p{N}] or
// [^\s\p{L}\p{N}], so findall skips it (checked on every code point with regex 2026.5:
// it is the only character whose classes IGNORECASE changes).
constexpr char32_t kYpogegrammeni = 0x0345;

bool is_other(char32_t cp) {
  return cp != kYpogegrammeni && !unicode::is_python_space(cp) && !unicode::is_letter(cp) && !unicode::is_number(cp);
}

// One pattern character against text under re.IGNORECASE. The literals of the CLIP regex
// are ASCII letters and punctuation; the only non-ASCII character that case-folds onto one
// of them is U+017F LATIN SMALL LETTER LONG S (onto 's').
bool equal_ignore_case(char32_t text, char pattern) {
  if (text == static_cast<char32_t>(pattern)) return true;
  if (pattern >= 'a' && pattern <= 'z') {
    if (text == static_cast<char32_t>(pattern - 'a' + 'A')) return true;
    if (pattern == 's' && text == 0x017F) return true;
  }
  return false;
}

// Length of the literal at `pos` (case-insensitively), 0 when it does not match.
std::size_t match_literal(std::u32string_view word, std::size_t pos, std::string_view literal) {
  if (word.size() - pos < literal.size()) return 0;
  for (std::size_t k = 0; k < literal.size(); ++k) {
    if (!equal_ignore_case(word[pos + k], literal[k])) return 0;
  }
  return literal.size();
}

// The alternatives before the character classes, in the regex's order.
constexpr std::string_view kLiterals[] = {
    "<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

}  // namespace

std::vector<std::u32string> basic_tokenize(std::string_view text) {
  const std::u32string input = unicode::decode_utf8(text);

  // _clean_text, then _tokenize_chinese_chars.
  std::u32string cleaned;
  cleaned.reserve(input.size());
  for (char32_t cp : input) {
    const bool tab_or_newline = cp == '\t' || cp == '\n' || cp == '\r';
    if (cp == 0 || cp == 0xFFFD || (!tab_or_newline && unicode::is_other_category_c(cp))) continue;
    if (tab_or_newline || cp == ' ' || unicode::is_space_separator(cp)) {
      cleaned.push_back(' ');
    } else if (unicode::is_cjk_ideograph(cp)) {
      cleaned.push_back(' ');
      cleaned.push_back(cp);
      cleaned.push_back(' ');
    } else {
      cleaned.push_back(cp);
    }
  }

  const std::u32string normalized = unicode::nfc(cleaned);

  // whitespace_tokenize (str.split()), then lowercase word by word: str.lower()'s
  // final-sigma rule looks at the word only.
  std::vector<std::u32string> words;
  std::size_t i = 0;
  while (i < normalized.size()) {
    if (unicode::is_python_space(normalized[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < normalized.size() && !unicode::is_python_space(normalized[end])) ++end;
    words.push_back(unicode::to_lower(std::u32string_view(normalized).substr(i, end - i)));
    i = end;
  }
  return words;
}

std::vector<std::string> split_clip_pieces(std::u32string_view word) {
  std::vector<std::string> pieces;
  std::size_t pos = 0;
  while (pos < word.size()) {
    std::size_t length = 0;
    for (std::string_view literal : kLiterals) {
      length = match_literal(word, pos, literal);
      if (length != 0) break;
    }
    if (length == 0) {
      const char32_t cp = word[pos];
      if (unicode::is_letter(cp)) {
        length = 1;
        while (pos + length < word.size() && unicode::is_letter(word[pos + length])) ++length;
      } else if (unicode::is_number(cp)) {
        length = 1;
      } else if (is_other(cp)) {
        length = 1;
        while (pos + length < word.size() && is_other(word[pos + length])) ++length;
      }
    }
    if (length == 0) {
      ++pos;  // no alternative matches here (U+0345): findall moves on
      continue;
    }
    pieces.push_back(unicode::encode_utf8(word.substr(pos, length)));
    pos += length;
  }
  return pieces;
}

}  // namespace kiln::text
