// parse_prompt_attention against AUTOMATIC1111's modules/prompt_parser.py (its doctests and
// the rules in docs/prompt-syntax.md). Expected weights are the doubles Python computes,
// rounded to float as the API returns them.
#include <doctest/doctest.h>

#include "base/error.h"
#include "text/prompt.h"

#include <iomanip>
#include <ostream>

// How doctest shows a failing comparison.
namespace kiln::text {
std::ostream& operator<<(std::ostream& os, const WeightedText& w) {
  return os << "{\"" << w.text << "\", " << std::setprecision(9) << w.weight << "}";
}
}  // namespace kiln::text

using kiln::text::parse_prompt_attention;
using kiln::text::WeightedText;
using Parsed = std::vector<WeightedText>;

namespace {
WeightedText wt(std::string text, double weight) { return {std::move(text), static_cast<float>(weight)}; }
}  // namespace

TEST_CASE("A1111's doctests") {
  CHECK(parse_prompt_attention("normal text") == Parsed{wt("normal text", 1.0)});
  CHECK(parse_prompt_attention("an (important) word") ==
        Parsed{wt("an ", 1.0), wt("important", 1.1), wt(" word", 1.0)});
  CHECK(parse_prompt_attention("(unbalanced") == Parsed{wt("unbalanced", 1.1)});
  CHECK(parse_prompt_attention("\\(literal\\]") == Parsed{wt("(literal]", 1.0)});
  CHECK(parse_prompt_attention("(unnecessary)(parens)") == Parsed{wt("unnecessaryparens", 1.1)});
  CHECK(parse_prompt_attention("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).") ==
        Parsed{wt("a ", 1.0), wt("house", 1.5730000000000004), wt(" ", 1.1), wt("on", 1.0), wt(" a ", 1.1),
               wt("hill", 0.55), wt(", sun, ", 1.1), wt("sky", 1.4641000000000006), wt(".", 1.1)});
}

TEST_CASE("emphasis") {
  CHECK(parse_prompt_attention("(x)") == Parsed{wt("x", 1.1)});
  CHECK(parse_prompt_attention("((x))") == Parsed{wt("x", 1.2100000000000002)});
  CHECK(parse_prompt_attention("[x]") == Parsed{wt("x", 1 / 1.1)});
  CHECK(parse_prompt_attention("[[x]]") == Parsed{wt("x", (1 / 1.1) * (1 / 1.1))});
  CHECK(parse_prompt_attention("(x:0.5)") == Parsed{wt("x", 0.5)});
  CHECK(parse_prompt_attention("(x:1.3)") == Parsed{wt("x", 1.3)});
  CHECK(parse_prompt_attention("(x : 1.5 )") == Parsed{wt("x ", 1.5)});  // spaces allowed, kept in the text
  CHECK(parse_prompt_attention("(x:+2)") == Parsed{wt("x", 2.0)});
  CHECK(parse_prompt_attention("(x:-1)") == Parsed{wt("x", -1.0)});
  CHECK(parse_prompt_attention("(x:.5)") == Parsed{wt("x", 0.5)});
  CHECK(parse_prompt_attention("(x:2.)") == Parsed{wt("x", 2.0)});
  CHECK(parse_prompt_attention("(x:\u0661.\u0665)") == Parsed{wt("x", 1.5)});  // Python's \d and float()
  CHECK(parse_prompt_attention("((x:1.5))") == Parsed{wt("x", 1.5 * 1.1)});
  CHECK(parse_prompt_attention("[(x)]") == Parsed{wt("x", 1.1 * (1 / 1.1))});
  CHECK(parse_prompt_attention("(red hair:1.3), (blue eyes:0.8), [smile]") ==
        Parsed{wt("red hair", 1.3), wt(", ", 1.0), wt("blue eyes", 0.8), wt(", ", 1.0), wt("smile", 1 / 1.1)});
  // Runs of equal weights merge, whatever brackets made them.
  CHECK(parse_prompt_attention("(a)(b:1.1) c") == Parsed{wt("ab", 1.1), wt(" c", 1.0)});
}

TEST_CASE("empty prompts") {
  CHECK(parse_prompt_attention("") == Parsed{wt("", 1.0)});
  CHECK(parse_prompt_attention("()") == Parsed{wt("", 1.0)});
  CHECK(parse_prompt_attention("   ") == Parsed{wt("   ", 1.0)});
}

TEST_CASE("escapes") {
  CHECK(parse_prompt_attention("\\(x\\)") == Parsed{wt("(x)", 1.0)});
  CHECK(parse_prompt_attention("\\[x\\]") == Parsed{wt("[x]", 1.0)});
  CHECK(parse_prompt_attention("a\\\\b") == Parsed{wt("a\\b", 1.0)});
  CHECK(parse_prompt_attention("(\\(x\\))") == Parsed{wt("(x)", 1.1)});
  // A backslash before anything else disappears (A1111 keeps only what follows it in the
  // match, which is nothing).
  CHECK(parse_prompt_attention("a\\b") == Parsed{wt("ab", 1.0)});
  CHECK(parse_prompt_attention("a\\") == Parsed{wt("a", 1.0)});
  CHECK(parse_prompt_attention("\\:") == Parsed{wt(":", 1.0)});
}

TEST_CASE("unbalanced brackets") {
  CHECK(parse_prompt_attention("a [b") == Parsed{wt("a ", 1.0), wt("b", 1 / 1.1)});
  CHECK(parse_prompt_attention("((a) b") == Parsed{wt("a", 1.2100000000000002), wt(" b", 1.1)});
  // Round brackets left open apply before square ones.
  CHECK(parse_prompt_attention("[a (b") == Parsed{wt("a ", 1 / 1.1), wt("b", 1.1 * (1 / 1.1))});
  // Closers without an opener are text.
  CHECK(parse_prompt_attention(")") == Parsed{wt(")", 1.0)});
  CHECK(parse_prompt_attention("x] y)") == Parsed{wt("x] y)", 1.0)});
  CHECK(parse_prompt_attention("a:1.2) b") == Parsed{wt("a:1.2) b", 1.0)});
  // A weight without ')' is text inside the still-open bracket.
  CHECK(parse_prompt_attention("a (b:1.2.3") == Parsed{wt("a ", 1.0), wt("b:1.2.3", 1.1)});
  CHECK(parse_prompt_attention("(a:b)") == Parsed{wt("a:b", 1.1)});
}

TEST_CASE("a weight that is not a number is an error, as in A1111") {
  CHECK_THROWS_AS(parse_prompt_attention("(b:1.2.3)"), kiln::InvalidRequestError);
  CHECK_THROWS_AS(parse_prompt_attention("(b:.)"), kiln::InvalidRequestError);
  try {
    parse_prompt_attention("a (b:1.2.3) c");
  } catch (const kiln::Error& e) {
    CHECK(e.kind() == kiln::ErrorKind::InvalidRequest);
    CHECK(e.message() == "prompt: the weight \"1.2.3\" in \":1.2.3)\" is not a number");
  }
  // Without an open '(' the same text is harmless.
  CHECK(parse_prompt_attention("b:1.2.3)") == Parsed{wt("b:1.2.3)", 1.0)});
}

TEST_CASE("BREAK") {
  const WeightedText brk = wt("BREAK", -1.0);
  CHECK(parse_prompt_attention("x BREAK y") == Parsed{wt("x", 1.0), brk, wt("y", 1.0)});
  CHECK(parse_prompt_attention("x\nBREAK\ty") == Parsed{wt("x", 1.0), brk, wt("y", 1.0)});
  CHECK(parse_prompt_attention("a BREAK BREAK b") == Parsed{wt("a", 1.0), brk, wt("", 1.0), brk, wt("b", 1.0)});
  CHECK(parse_prompt_attention("BREAK a") == Parsed{wt("", 1.0), brk, wt("a", 1.0)});
  CHECK(parse_prompt_attention("a BREAK") == Parsed{wt("a", 1.0), brk, wt("", 1.0)});
  CHECK(parse_prompt_attention("a,BREAK,b") == Parsed{wt("a,", 1.0), brk, wt(",b", 1.0)});
  CHECK(parse_prompt_attention("(a)BREAK(b)") == Parsed{wt("a", 1.1), wt("", 1.0), brk, wt("", 1.0), wt("b", 1.1)});
  // Only a whole uppercase word (Python's \b: letters, digits and '_' are word characters).
  CHECK(parse_prompt_attention("break BREAKfast _BREAK aBREAK BREAK2 \u00e9BREAK") ==
        Parsed{wt("break BREAKfast _BREAK aBREAK BREAK2 \u00e9BREAK", 1.0)});
  // Inside brackets A1111 multiplies the BREAK marker too: it stops being a break.
  CHECK(parse_prompt_attention("(a BREAK b)") == Parsed{wt("a", 1.1), wt("BREAK", -1.1), wt("b", 1.1)});
  CHECK(parse_prompt_attention("(x:-1) BREAK") == Parsed{wt("x", -1.0), wt("", 1.0), brk, wt("", 1.0)});
}

TEST_CASE("prompt-editing syntax is not interpreted (treated as emphasis and text)") {
  CHECK(parse_prompt_attention("[cat:dog:0.5]") == Parsed{wt("cat:dog:0.5", 1 / 1.1)});
  CHECK(parse_prompt_attention("{a|b} <lora:x:0.8>") == Parsed{wt("{a|b} <lora:x:0.8>", 1.0)});
}
