#include "text/prompt_parser.h"

#include <charconv>
#include <cmath>

#include "base/error.h"
#include "text/prompt.h"
#include "text/unicode.h"

namespace kiln::text {

namespace {

constexpr double kRoundMultiplier = 1.1;
constexpr double kSquareMultiplier = 1 / 1.1;

struct Piece {
  std::u32string text;
  double weight;
};

bool is_syntax_char(char32_t c) { return c == '\\' || c == '(' || c == ')' || c == '[' || c == ']' || c == ':'; }

// re.split(r"\s*\bBREAK\b\s*", text) with Python's Unicode \s and \b (\w = str.isalnum()
// or '_'): BREAK counts only as a whole, uppercase word; the whitespace around it goes.
std::vector<std::u32string> split_break(std::u32string_view text) {
  constexpr std::u32string_view kBreak = U"BREAK";
  std::vector<std::u32string> parts;
  std::size_t part_start = 0;
  std::size_t search = 0;
  while (true) {
    const std::size_t p = text.find(kBreak, search);
    if (p == std::u32string_view::npos) break;
    const std::size_t after = p + kBreak.size();
    const bool left = p == 0 || !unicode::is_python_word(text[p - 1]);
    const bool right = after == text.size() || !unicode::is_python_word(text[after]);
    if (!left || !right) {
      search = p + 1;
      continue;
    }
    std::size_t start = p;
    while (start > part_start && unicode::is_python_space(text[start - 1])) --start;
    std::size_t end = after;
    while (end < text.size() && unicode::is_python_space(text[end])) ++end;
    parts.emplace_back(text.substr(part_start, start - part_start));
    part_start = end;
    search = end;
  }
  parts.emplace_back(text.substr(part_start));
  return parts;
}

// `:\s*([+-]?[.\d]+)\s*\)` at `pos` (a ':'). Greedy matching is exact here: the classes
// that follow each other are disjoint. Returns the end of the match, 0 if none.
std::size_t match_weight(std::u32string_view text, std::size_t pos, std::u32string_view& number) {
  std::size_t j = pos + 1;
  while (j < text.size() && unicode::is_python_space(text[j])) ++j;
  const std::size_t number_start = j;
  if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
  const std::size_t digits_start = j;
  while (j < text.size() && (text[j] == '.' || unicode::is_decimal(text[j]))) ++j;
  if (j == digits_start) return 0;
  number = text.substr(number_start, j - number_start);
  while (j < text.size() && unicode::is_python_space(text[j])) ++j;
  if (j == text.size() || text[j] != ')') return 0;
  return j + 1;
}

// Python's float() of what the weight pattern captured: any Unicode decimal digits, at most
// one '.', at least one digit. A1111 raises ValueError otherwise ("1.2.3", ".").
double parse_weight(std::u32string_view number, std::u32string_view match) {
  std::string ascii;
  int digits = 0;
  int dots = 0;
  for (char32_t c : number) {
    if (c == '+') continue;  // from_chars takes no '+'; the pattern allows it only first
    if (c == '-' || c == '.') {
      dots += c == '.';
      ascii.push_back(static_cast<char>(c));
    } else {
      ascii.push_back(static_cast<char>('0' + unicode::decimal_value(c)));
      ++digits;
    }
  }
  double value = 0;
  if (digits > 0 && dots <= 1) {
    const auto [end, ec] = std::from_chars(ascii.data(), ascii.data() + ascii.size(), value);
    if (end == ascii.data() + ascii.size()) {
      if (ec == std::errc()) return value;
      if (ec == std::errc::result_out_of_range) {
        // Python gives inf for a huge literal and 0 for a vanishing one.
        const bool huge = ascii.find_first_of("123456789") < ascii.find('.');
        const double magnitude = huge ? HUGE_VAL : 0.0;
        return ascii.front() == '-' ? -magnitude : magnitude;
      }
    }
  }
  throw InvalidRequestError("prompt: the weight \"" + unicode::encode_utf8(number) + "\" in \"" +
                                unicode::encode_utf8(match) + "\" is not a number",
                            "write weights as (text:1.2)");
}

}  // namespace

std::vector<ParsedPiece> parse_attention_exact(std::string_view prompt) {
  const std::u32string text = unicode::decode_utf8(prompt);
  std::vector<Piece> res;
  std::vector<std::size_t> round_brackets;
  std::vector<std::size_t> square_brackets;

  auto multiply_range = [&res](std::size_t start, double multiplier) {
    for (std::size_t p = start; p < res.size(); ++p) res[p].weight *= multiplier;
  };
  auto append_text = [&res](std::u32string_view t) {
    const auto parts = split_break(t);
    for (std::size_t k = 0; k < parts.size(); ++k) {
      if (k > 0) res.push_back({U"BREAK", kBreakWeight});
      res.push_back({parts[k], 1.0});
    }
  };
  auto pop = [](std::vector<std::size_t>& stack) {
    const std::size_t top = stack.back();
    stack.pop_back();
    return top;
  };

  // re_attention's alternatives, tried in its order at each position; together they match
  // every character, so finditer leaves no gaps.
  const std::u32string_view view(text);
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = text[i];
    if (c == '\\') {
      const bool escape = i + 1 < text.size() && (text[i + 1] == '(' || text[i + 1] == ')' || text[i + 1] == '[' ||
                                                  text[i + 1] == ']' || text[i + 1] == '\\');
      // A lone backslash matches `\\` alone and, like an escape, keeps what follows it
      // in the match: nothing. So it disappears.
      res.push_back({escape ? std::u32string(1, text[i + 1]) : std::u32string(), 1.0});
      i += escape ? 2 : 1;
    } else if (c == '(') {
      round_brackets.push_back(res.size());
      ++i;
    } else if (c == '[') {
      square_brackets.push_back(res.size());
      ++i;
    } else if (c == ':') {
      std::u32string_view number;
      const std::size_t end = match_weight(view, i, number);
      if (end == 0) {
        append_text(U":");
        ++i;
      } else {
        if (!round_brackets.empty()) {
          multiply_range(pop(round_brackets), parse_weight(number, view.substr(i, end - i)));
        } else {
          append_text(view.substr(i, end - i));  // ":1.2)" with no open '(' is text
        }
        i = end;
      }
    } else if (c == ')' || c == ']') {
      auto& stack = c == ')' ? round_brackets : square_brackets;
      if (!stack.empty()) {
        multiply_range(pop(stack), c == ')' ? kRoundMultiplier : kSquareMultiplier);
      } else {
        append_text(view.substr(i, 1));  // an unmatched closer is text
      }
      ++i;
    } else {
      std::size_t end = i;
      while (end < text.size() && !is_syntax_char(text[end])) ++end;
      append_text(view.substr(i, end - i));
      i = end;
    }
  }

  // Brackets left open close at the end, round ones first, each from the outermost in.
  for (std::size_t pos : round_brackets) multiply_range(pos, kRoundMultiplier);
  for (std::size_t pos : square_brackets) multiply_range(pos, kSquareMultiplier);

  if (res.empty()) res.push_back({U"", 1.0});

  // Merge runs of identical weights (a BREAK marker too, when text next to it has weight -1).
  std::vector<ParsedPiece> out;
  for (const auto& piece : res) {
    if (!out.empty() && out.back().weight == piece.weight) {
      out.back().text += unicode::encode_utf8(piece.text);
    } else {
      out.push_back({unicode::encode_utf8(piece.text), piece.weight});
    }
  }
  return out;
}

std::vector<WeightedText> parse_prompt_attention(std::string_view prompt) {
  std::vector<WeightedText> out;
  for (auto& piece : parse_attention_exact(prompt)) {
    out.push_back({std::move(piece.text), static_cast<float>(piece.weight)});
  }
  return out;
}

}  // namespace kiln::text
