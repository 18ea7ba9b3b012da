#include "dataset/captions.h"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <iterator>

#include "base/error.h"
#include "io/atomic_file.h"

namespace kiln::dataset {

namespace fs = std::filesystem;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool is_word_char(char c) {
  // Bytes of multi-byte UTF-8 sequences count as letters, so "über" is one word.
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || u >= 0x80 || c == '_';
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open the caption: " + system_error_text(errno), path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw FileError("cannot read the caption", path);
  return text;
}

}  // namespace

fs::path caption_path_for(const fs::path& image) {
  fs::path p = image;
  p.replace_extension(".txt");
  return p;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    int extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF)
      extra = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      extra = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      extra = 3, cp = c & 0x07;
    else
      return false;
    if (i + static_cast<std::size_t>(extra) >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

std::optional<CaptionText> read_caption(const fs::path& image) {
  for (const char* ext : {".txt", ".caption"}) {
    fs::path path = image;
    path.replace_extension(ext);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) continue;
    std::string raw = read_all(path);
    if (raw.size() >= 3 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);
    CaptionText caption;
    caption.path = path;
    if (!is_valid_utf8(raw)) {
      raw = latin1_to_utf8(raw);
      caption.converted_from_latin1 = true;
    }
    caption.text = trim(raw);
    return caption;
  }
  return std::nullopt;
}

void write_caption(const fs::path& image, std::string_view caption) {
  if (!is_valid_utf8(caption)) {
    throw InvalidRequestError("the caption for " + image.filename().string() + " is not valid UTF-8");
  }
  io::write_file_atomically(caption_path_for(image), caption);
}

std::string caption_from_filename(const fs::path& image) {
  std::string out;
  for (const char c : image.stem().string()) {
    if (c >= '0' && c <= '9') continue;
    if (c == '(' || c == ')' || c == '-') continue;
    const char ch = c == '_' ? ' ' : c;
    if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += ch;
  }
  return trim(out);
}

bool contains_word(std::string_view caption, std::string_view word) {
  if (word.empty()) return false;
  for (std::size_t pos = caption.find(word); pos != std::string_view::npos; pos = caption.find(word, pos + 1)) {
    const bool starts = pos == 0 || !is_word_char(caption[pos - 1]);
    const std::size_t end = pos + word.size();
    const bool ends = end == caption.size() || !is_word_char(caption[end]);
    if (starts && ends) return true;
  }
  return false;
}

std::string add_instance_token(std::string_view caption, std::string_view token) {
  const std::string text = trim(caption);
  const std::string t = trim(token);
  if (t.empty() || contains_word(text, t)) return text;
  return text.empty() ? t : t + ", " + text;
}

std::string replace_all(std::string_view caption, std::string_view find, std::string_view replacement) {
  if (find.empty()) throw InvalidRequestError("find/replace needs a non-empty text to find");
  std::string out;
  std::size_t from = 0;
  for (std::size_t pos = caption.find(find); pos != std::string_view::npos; pos = caption.find(find, from)) {
    out.append(caption.substr(from, pos - from));
    out.append(replacement);
    from = pos + find.size();
  }
  out.append(caption.substr(from));
  return out;
}

CaptionEditResult apply_caption_edit(std::span<const fs::path> images, const CaptionEdit& edit) {
  if (!is_valid_utf8(edit.text) || !is_valid_utf8(edit.replacement)) {
    throw InvalidRequestError("caption edit text is not valid UTF-8");
  }
  if (edit.kind == CaptionEdit::Kind::AddToken && trim(edit.text).empty()) {
    throw InvalidRequestError("the instance token is empty");
  }
  if (edit.kind == CaptionEdit::Kind::FindReplace && edit.text.empty()) {
    throw InvalidRequestError("find/replace needs a non-empty text to find");
  }
  CaptionEditResult result;
  for (const fs::path& image : images) {
    const auto current = read_caption(image);
    const bool converted = current && current->converted_from_latin1;
    std::optional<std::string> next;
    switch (edit.kind) {
      case CaptionEdit::Kind::AddToken:
        next = add_instance_token(current ? current->text : std::string(), edit.text);
        break;
      case CaptionEdit::Kind::FindReplace:
        if (current) next = replace_all(current->text, edit.text, edit.replacement);
        break;
      case CaptionEdit::Kind::FillEmpty:
        if (!current || current->text.empty()) next = trim(edit.text);
        break;
    }
    // A caption read from `.caption` or converted from Latin-1 is rewritten as `.txt` UTF-8.
    const bool same =
        current && next && *next == current->text && !converted && current->path == caption_path_for(image);
    if (!next || same) {
      ++result.unchanged;
      continue;
    }
    write_caption(image, *next);
    result.changed.push_back(image);
  }
  return result;
}

}  // namespace kiln::dataset
