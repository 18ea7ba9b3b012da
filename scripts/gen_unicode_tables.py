#!/usr/bin/python3
"""Writes core/text/unicode_tables.inc: the Unicode data Kiln's CLIP tokenizer needs.

The reference tokenizer (transformers' CLIPTokenizer without ftfy) runs on Python's own
Unicode database, so the tables come from the same place: run this with the interpreter the
golden ids were made with (Debian's /usr/bin/python3, Python 3.11, Unicode 14.0.0):

    /usr/bin/python3 scripts/gen_unicode_tables.py

Tables (all sorted, searched with binary search):
  kPropertyRuns      (first code point, property bits) runs covering 0..0x10FFFF
  kLowerSingle       str.lower() for characters that lower to one other character
  kLowerMulti        str.lower() for characters that lower to several (U+0130)
  kCombiningClasses  (first, last, canonical combining class) for ccc != 0
  kDecompositions    canonical decompositions (one level) and whether the pair recomposes in NFC
  kDecimalZeros      the digit zero of every run of decimal digits (Nd)
"""

import argparse
import os
import sys
import unicodedata

EXPECTED_UNICODE = "14.0.0"
MAX_CP = 0x110000

# Property bits; core/text/unicode.cpp declares the same values.
LETTER = 1           # category L*: regex \p{L}
NUMBER = 2           # category N*: regex \p{N}
CONTROL = 4          # category C* (Cc Cf Cn Co Cs): BasicTokenizer._is_control drops these
SPACE_SEPARATOR = 8  # category Zs: BasicTokenizer._is_whitespace maps these to " "
PY_SPACE = 16        # str.isspace(): what str.split()/strip() and Python re's \s use
WORD = 32            # str.isalnum() or "_": Python re's \w (for \b around BREAK)
CASED = 64           # cased and not case-ignorable (final sigma rule of str.lower())
CASE_IGNORABLE = 128 # case-ignorable (final sigma rule of str.lower())
DECIMAL = 256        # str.isdecimal(): Python re's \d, digits float() accepts


def sigma_properties(ch):
    """(cased, case_ignorable) as CPython's str.lower() sees them.

    unicodedata does not expose Cased / Case_Ignorable, but lower() applies the Final_Sigma
    rule with them, so they can be read back from it: "AΣ" + ch keeps σ only when ch is
    cased and not case-ignorable; "AΣ" + ch + "B" keeps σ when ch is case-ignorable (it is
    skipped and B is cased) or cased. Characters that are both are always skipped, so
    only these two sets matter.
    """
    cased_not_ignorable = ("A\u03a3" + ch).lower()[1] == "\u03c3"
    ignorable_or_cased = ("A\u03a3" + ch + "B").lower()[1] == "\u03c3"
    return cased_not_ignorable, ignorable_or_cased and not cased_not_ignorable


def properties(cp):
    ch = chr(cp)
    cat = unicodedata.category(ch)
    bits = 0
    if cat[0] == "L":
        bits |= LETTER
    if cat[0] == "N":
        bits |= NUMBER
    if cat[0] == "C":
        bits |= CONTROL
    if cat == "Zs":
        bits |= SPACE_SEPARATOR
    if ch.isspace():
        bits |= PY_SPACE
    if ch.isalnum() or ch == "_":
        bits |= WORD
    if ch.isdecimal():
        bits |= DECIMAL
    if 0xD800 <= cp <= 0xDFFF:
        return bits
    cased, ignorable = sigma_properties(ch)
    if cased:
        bits |= CASED
    if ignorable:
        bits |= CASE_IGNORABLE
    return bits


def hexcp(cp):
    return f"0x{cp:X}"


def wrap(items, indent="    ", width=118):
    lines, line = [], indent
    for item in items:
        piece = item + ", "
        if len(line) + len(piece) > width:
            lines.append(line.rstrip())
            line = indent
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--output", default=os.path.join(root, "core", "text", "unicode_tables.inc"))
    parser.add_argument("--any-version", action="store_true",
                        help=f"allow a Unicode database other than {EXPECTED_UNICODE}")
    args = parser.parse_args()
    if unicodedata.unidata_version != EXPECTED_UNICODE and not args.any_version:
        sys.exit(f"this Python has Unicode {unicodedata.unidata_version}; the golden ids were made with "
                 f"{EXPECTED_UNICODE} (Python 3.11): run /usr/bin/python3 or pass --any-version")

    runs = []
    previous = None
    for cp in range(MAX_CP):
        bits = properties(cp)
        if bits != previous:
            runs.append((cp, bits))
            previous = bits

    lower_single, lower_multi = [], []
    for cp in range(MAX_CP):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        lowered = chr(cp).lower()
        if lowered == chr(cp):
            continue
        if cp == 0x03A3:
            continue  # Σ: final-sigma rule, applied in code
        if len(lowered) == 1:
            lower_single.append((cp, ord(lowered)))
        else:
            assert len(lowered) <= 3, hexcp(cp)
            lower_multi.append((cp, [ord(c) for c in lowered]))

    ccc_runs = []
    for cp in range(MAX_CP):
        ccc = unicodedata.combining(chr(cp))
        if ccc == 0:
            continue
        if ccc_runs and ccc_runs[-1][1] == cp - 1 and ccc_runs[-1][2] == ccc:
            ccc_runs[-1][1] = cp
        else:
            ccc_runs.append([cp, cp, ccc])

    decompositions = []
    for cp in range(MAX_CP):
        ch = chr(cp)
        text = unicodedata.decomposition(ch)
        if not text or text.startswith("<"):
            continue
        parts = [int(p, 16) for p in text.split()]
        assert 1 <= len(parts) <= 2, hexcp(cp)
        composes = len(parts) == 2 and unicodedata.normalize("NFC", ch) == ch
        decompositions.append((cp, parts[0], parts[1] if len(parts) == 2 else 0, 1 if composes else 0))

    zeros = [cp for cp in range(MAX_CP) if unicodedata.decimal(chr(cp), None) == 0]
    for cp in range(MAX_CP):
        value = unicodedata.decimal(chr(cp), None)
        if value is not None:
            zero = max(z for z in zeros if z <= cp)
            assert cp - zero == value, hexcp(cp)

    out = []
    out.append(f"// Generated by scripts/gen_unicode_tables.py from Python {sys.version.split()[0]}'s unicodedata "
               f"(Unicode {unicodedata.unidata_version}).")
    out.append("// Do not edit: rerun the script. Included by core/text/unicode.cpp only.")
    out.append("// clang-format off")
    out.append("")
    out.append(f"inline constexpr char const* kUnicodeVersion = \"{unicodedata.unidata_version}\";")
    out.append("")
    out.append(f"// {len(runs)} runs: each holds from its first code point to the next run's.")
    out.append("inline constexpr PropertyRun kPropertyRuns[] = {")
    out.append(wrap([f"{{{hexcp(cp)},{bits}}}" for cp, bits in runs]))
    out.append("};")
    out.append("")
    out.append("inline constexpr LowerSingle kLowerSingle[] = {")
    out.append(wrap([f"{{{hexcp(a)},{hexcp(b)}}}" for a, b in lower_single]))
    out.append("};")
    out.append("")
    out.append("inline constexpr LowerMulti kLowerMulti[] = {")
    out.append(wrap(["{" + hexcp(a) + ",{" + ",".join(hexcp(c) for c in cs) + "}," + str(len(cs)) + "}"
                     for a, cs in lower_multi]))
    out.append("};")
    out.append("")
    out.append("inline constexpr CombiningRun kCombiningClasses[] = {")
    out.append(wrap([f"{{{hexcp(a)},{hexcp(b)},{c}}}" for a, b, c in ccc_runs]))
    out.append("};")
    out.append("")
    out.append("// {code point, first, second (0: singleton), recomposes in NFC}")
    out.append("inline constexpr Decomposition kDecompositions[] = {")
    out.append(wrap([f"{{{hexcp(a)},{hexcp(b)},{hexcp(c)},{f}}}" for a, b, c, f in decompositions]))
    out.append("};")
    out.append("")
    out.append("inline constexpr char32_t kDecimalZeros[] = {")
    out.append(wrap([hexcp(z) for z in zeros]))
    out.append("};")
    out.append("")
    out.append("// clang-format on")
    text = "\n".join(out) + "\n"
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print(f"{args.output}: {len(text)} bytes; {len(runs)} property runs, {len(lower_single)}+{len(lower_multi)} "
          f"lowercase mappings, {len(ccc_runs)} combining-class runs, {len(decompositions)} decompositions, "
          f"{len(zeros)} digit runs")


if __name__ == "__main__":
    main()
