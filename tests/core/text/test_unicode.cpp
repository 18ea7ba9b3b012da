// The Unicode helpers against answers Python 3.11 gives (unicodedata 14.0.0).
#include <doctest/doctest.h>

#include "text/unicode.h"

namespace u = kiln::text::unicode;

TEST_CASE("tables come from Unicode 14.0.0, the golden ids' Python") {
  CHECK(std::string(u::tables_version()) == "14.0.0");
}

TEST_CASE("UTF-8 round trip and invalid input") {
  const std::string text = "a\u00e9\u6f22\U0001F431";
  CHECK(u::decode_utf8(text) == U"a\u00e9\u6f22\U0001F431");
  CHECK(u::encode_utf8(u::decode_utf8(text)) == text);
  CHECK(u::decode_utf8("\xff") == U"\uFFFD");
  CHECK(u::decode_utf8("a\xc3") == U"a\uFFFD");                    // truncated
  CHECK(u::decode_utf8("\xc0\xaf") == U"\uFFFD\uFFFD");            // overlong
  CHECK(u::decode_utf8("\xed\xa0\x80") == U"\uFFFD\uFFFD\uFFFD");  // encoded surrogate
}

TEST_CASE("character classes") {
  CHECK(u::is_letter(U'a'));
  CHECK(u::is_letter(U'\u6f22'));
  CHECK(u::is_letter(U'\u02b0'));  // Lm
  CHECK_FALSE(u::is_letter(U'1'));
  CHECK(u::is_number(U'\u00bd'));  // No
  CHECK(u::is_number(U'\u2160'));  // Nl
  CHECK(u::is_other_category_c(U'\u200b'));
  CHECK(u::is_other_category_c(U'\u00ad'));
  CHECK(u::is_other_category_c(U'\u0378'));  // unassigned
  CHECK(u::is_other_category_c(U'\ue000'));  // private use
  CHECK_FALSE(u::is_other_category_c(U' '));
  CHECK(u::is_space_separator(U'\u3000'));
  CHECK_FALSE(u::is_space_separator(U'\u2028'));
  CHECK(u::is_python_space(U'\u2028'));
  CHECK(u::is_python_space(U'\u001c'));
  CHECK_FALSE(u::is_python_space(U'\u200b'));
  CHECK(u::is_python_word(U'_'));
  CHECK(u::is_python_word(U'\u00e9'));
  CHECK(u::is_python_word(U'\u00b2'));  // '²'.isalnum()
  CHECK_FALSE(u::is_python_word(U','));
  CHECK(u::decimal_value(U'7') == 7);
  CHECK(u::decimal_value(U'\u0665') == 5);   // ARABIC-INDIC DIGIT FIVE
  CHECK(u::decimal_value(U'\uff19') == 9);   // FULLWIDTH DIGIT NINE
  CHECK(u::decimal_value(U'\u00b2') == -1);  // superscript two is a digit, not decimal
  CHECK(u::is_cjk_ideograph(U'\u6f22'));
  CHECK_FALSE(u::is_cjk_ideograph(U'\u3042'));  // hiragana
  CHECK_FALSE(u::is_cjk_ideograph(U'\uac01'));  // hangul
}

TEST_CASE("str.lower()") {
  CHECK(u::to_lower(U"ABC xyz") == U"abc xyz");
  CHECK(u::to_lower(U"\u00c5NGSTR\u00d6M STRA\u00dfE") == U"\u00e5ngstr\u00f6m stra\u00dfe");
  CHECK(u::to_lower(U"\u0130stanbul") == U"i\u0307stanbul");
  CHECK(u::to_lower(U"\u212a") == U"k");  // Kelvin sign
  CHECK(u::to_lower(U"\uff21") == U"\uff41");
  CHECK(u::to_lower(U"\u2160") == U"\u2170");
  // Final sigma: after a cased letter and not before one, skipping case-ignorables.
  CHECK(u::to_lower(U"\u039f\u0394\u039f\u03a3") == U"\u03bf\u03b4\u03bf\u03c2");
  CHECK(u::to_lower(U"\u03a3") == U"\u03c3");
  CHECK(u::to_lower(U"\u0391\u03a3'") == U"\u03b1\u03c2'");
  CHECK(u::to_lower(U"\u0391\u03a3'\u0391") == U"\u03b1\u03c3'\u03b1");
  CHECK(u::to_lower(U"\u0391\u03a3.") == U"\u03b1\u03c2.");
}

TEST_CASE("NFC") {
  CHECK(u::nfc(U"e\u0301") == U"\u00e9");
  CHECK(u::nfc(U"\u00e9") == U"\u00e9");
  CHECK(u::nfc(U"u\u0308\u0304") == U"\u01d6");  // two-step composition
  CHECK(u::nfc(U"a\u0323\u0302") == U"\u1ead");  // reordered marks compose
  CHECK(u::nfc(U"a\u0302\u0323") == U"\u1ead");
  CHECK(u::nfc(U"\u212b") == U"\u00c5");               // singleton: angstrom sign
  CHECK(u::nfc(U"\uf900") == U"\u8c48");               // CJK compatibility ideograph
  CHECK(u::nfc(U"\u0344") == U"\u0308\u0301");         // excluded, non-starter decomposition
  CHECK(u::nfc(U"\u1100\u1161\u11a8") == U"\uac01");   // Hangul L V T
  CHECK(u::nfc(U"\uac00\u11a8") == U"\uac01");         // Hangul LV + T
  CHECK(u::nfc(U"\u0915\u093c") == U"\u0915\u093c");   // composition exclusion (QA)
  CHECK(u::nfc(U"\u0301e") == U"\u0301e");             // leading mark stays
  CHECK(u::nfc(U"e\u0315\u0301") == U"\u00e9\u0315");  // a higher class does not block
  CHECK(u::nfc(U"\u1e0b\u0323") == U"\u1e0d\u0307");   // d + dot above + dot below
}
