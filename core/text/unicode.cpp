#include "text/unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <unordered_map>

namespace kiln::text::unicode {

namespace {

// Bits of PropertyRun::bits; scripts/gen_unicode_tables.py writes the same values.
enum PropertyBit : std::uint16_t {
  kLetter = 1,
  kNumber = 2,
  kControl = 4,
  kSpaceSeparator = 8,
  kPythonSpace = 16,
  kWord = 32,
  kCased = 64,
  kCaseIgnorable = 128,
  kDecimal = 256,
};

struct PropertyRun {
  char32_t first;
  std::uint16_t bits;
};
struct LowerSingle {
  char32_t from;
  char32_t to;
};
struct LowerMulti {
  char32_t from;
  char32_t to[3];
  int count;
};
struct CombiningRun {
  char32_t first;
  char32_t last;
  int ccc;
};
struct Decomposition {
  char32_t cp;
  char32_t first;
  char32_t second;  // 0 for a singleton
  int recomposes;   // 1: a primary composite, NFC composes first + second back into cp
};

#include "text/unicode_tables.inc"

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

// Hangul syllables decompose and compose algorithmically (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

std::uint16_t bits_of(char32_t cp) {
  if (cp > kMaxCodePoint) return kControl;
  const auto it = std::upper_bound(std::begin(kPropertyRuns), std::end(kPropertyRuns), cp,
                                   [](char32_t value, const PropertyRun& run) { return value < run.first; });
  return std::prev(it)->bits;
}

int combining_class(char32_t cp) {
  if (cp < 0x300) return 0;  // nothing below U+0300 combines
  const auto it = std::upper_bound(std::begin(kCombiningClasses), std::end(kCombiningClasses), cp,
                                   [](char32_t value, const CombiningRun& run) { return value < run.first; });
  if (it == std::begin(kCombiningClasses)) return 0;
  const auto& run = *std::prev(it);
  return cp <= run.last ? run.ccc : 0;
}

const Decomposition* find_decomposition(char32_t cp) {
  const auto it = std::lower_bound(std::begin(kDecompositions), std::end(kDecompositions), cp,
                                   [](const Decomposition& d, char32_t value) { return d.cp < value; });
  return it != std::end(kDecompositions) && it->cp == cp ? &*it : nullptr;
}

void decompose(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const int s = static_cast<int>(cp - kSBase);
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const Decomposition* d = cp >= 0xC0 ? find_decomposition(cp) : nullptr;
  if (d == nullptr) {
    out.push_back(cp);
    return;
  }
  decompose(d->first, out);
  if (d->second != 0) decompose(d->second, out);
}

const std::unordered_map<std::uint64_t, char32_t>& composition_pairs() {
  static const auto pairs = [] {
    std::unordered_map<std::uint64_t, char32_t> map;
    for (const auto& d : kDecompositions) {
      if (d.recomposes) map.emplace((std::uint64_t{d.first} << 21) | d.second, d.cp);
    }
    return map;
  }();
  return pairs;
}

bool compose_pair(char32_t a, char32_t b, char32_t& composite) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    composite = kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    return true;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount) {
    composite = a + (b - kTBase);
    return true;
  }
  const auto& pairs = composition_pairs();
  const auto it = pairs.find((std::uint64_t{a} << 21) | b);
  if (it == pairs.end()) return false;
  composite = it->second;
  return true;
}

// Python's Final_Sigma test: Σ preceded by a cased letter and not followed by one, with
// case-ignorable characters (apostrophes, combining marks, ...) skipped on both sides.
bool is_final_sigma(std::u32string_view text, std::size_t i) {
  std::size_t j = i;
  bool cased_before = false;
  while (j > 0) {
    const auto bits = bits_of(text[--j]);
    if (bits & kCaseIgnorable) continue;
    cased_before = (bits & kCased) != 0;
    break;
  }
  if (!cased_before) return false;
  for (j = i + 1; j < text.size(); ++j) {
    const auto bits = bits_of(text[j]);
    if (bits & kCaseIgnorable) continue;
    return (bits & kCased) == 0;
  }
  return true;
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int length = 0;
    char32_t cp = 0;
    char32_t minimum = 0;
    if ((b & 0xE0) == 0xC0) {
      length = 2, cp = b & 0x1F, minimum = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      length = 3, cp = b & 0x0F, minimum = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      length = 4, cp = b & 0x07, minimum = 0x10000;
    }
    bool valid = length > 0 && i + length <= n;
    for (int k = 1; valid && k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80)
        valid = false;
      else
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (valid && (cp < minimum || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))) valid = false;
    if (!valid) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(length);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

bool is_letter(char32_t cp) { return (bits_of(cp) & kLetter) != 0; }
bool is_number(char32_t cp) { return (bits_of(cp) & kNumber) != 0; }
bool is_other_category_c(char32_t cp) { return (bits_of(cp) & kControl) != 0; }
bool is_space_separator(char32_t cp) { return (bits_of(cp) & kSpaceSeparator) != 0; }
bool is_python_space(char32_t cp) { return (bits_of(cp) & kPythonSpace) != 0; }
bool is_python_word(char32_t cp) { return (bits_of(cp) & kWord) != 0; }
bool is_decimal(char32_t cp) { return (bits_of(cp) & kDecimal) != 0; }

int decimal_value(char32_t cp) {
  if (!is_decimal(cp)) return -1;
  // Every run of decimal digits is 0..9 in code point order (checked by the generator).
  const auto it = std::upper_bound(std::begin(kDecimalZeros), std::end(kDecimalZeros), cp);
  return static_cast<int>(cp - *std::prev(it));
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::u32string to_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t cp = text[i];
    if (cp >= 'A' && cp <= 'Z') {
      out.push_back(cp + ('a' - 'A'));
      continue;
    }
    if (cp < 0x80) {
      out.push_back(cp);
      continue;
    }
    if (cp == 0x03A3) {
      out.push_back(is_final_sigma(text, i) ? 0x03C2 : 0x03C3);
      continue;
    }
    const auto multi = std::find_if(std::begin(kLowerMulti), std::end(kLowerMulti),
                                    [cp](const LowerMulti& m) { return m.from == cp; });
    if (multi != std::end(kLowerMulti)) {
      out.append(multi->to, static_cast<std::size_t>(multi->count));
      continue;
    }
    const auto it = std::lower_bound(std::begin(kLowerSingle), std::end(kLowerSingle), cp,
                                     [](const LowerSingle& m, char32_t value) { return m.from < value; });
    out.push_back(it != std::end(kLowerSingle) && it->from == cp ? it->to : cp);
  }
  return out;
}

std::u32string nfc(std::u32string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char32_t cp) { return cp < 0x300; })) return std::u32string(text);

  std::u32string decomposed;
  decomposed.reserve(text.size());
  for (char32_t cp : text) decompose(cp, decomposed);

  // Canonical ordering: stable sort of every run of non-starters by combining class.
  for (std::size_t i = 0; i < decomposed.size();) {
    if (combining_class(decomposed[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < decomposed.size() && combining_class(decomposed[end]) != 0) ++end;
    std::stable_sort(decomposed.begin() + static_cast<std::ptrdiff_t>(i),
                     decomposed.begin() + static_cast<std::ptrdiff_t>(end),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = end;
  }

  // Canonical composition: a character joins the last starter unless something between
  // them blocks it (a starter, or a mark of the same or a higher class). After ordering,
  // the last character kept is the only one that can block.
  std::u32string out;
  out.reserve(decomposed.size());
  std::size_t starter = std::u32string::npos;
  int last_class = 0;
  for (char32_t cp : decomposed) {
    const int cls = combining_class(cp);
    if (starter != std::u32string::npos) {
      const bool adjacent = starter == out.size() - 1;
      char32_t composite = 0;
      if ((adjacent || (last_class != 0 && last_class < cls)) && compose_pair(out[starter], cp, composite)) {
        out[starter] = composite;
        continue;
      }
    }
    if (cls == 0) starter = out.size();
    out.push_back(cp);
    last_class = cls;
  }
  return out;
}

const char* tables_version() { return kUnicodeVersion; }

}  // namespace kiln::text::unicode
