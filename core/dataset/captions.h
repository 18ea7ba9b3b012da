#pragma once
// Captions as kohya's trainers read them: a UTF-8 `.txt` beside each image with the same stem.
// Every write is atomic (temporary file + rename), so a crash never leaves half a caption.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::dataset {

// `photo.jpg` -> `photo.txt` in the same folder.
std::filesystem::path caption_path_for(const std::filesystem::path& image);

struct CaptionText {
  std::string text;  // UTF-8, without BOM and surrounding whitespace
  std::filesystem::path path;
  bool converted_from_latin1 = false;  // the file was not valid UTF-8 (e.g. an old Notepad file)
};

// The caption beside `image`: `<stem>.txt`, else `<stem>.caption` (another kohya convention);
// nullopt when there is none. Throws FileError when one exists but cannot be read.
std::optional<CaptionText> read_caption(const std::filesystem::path& image);

// Writes `<stem>.txt` atomically. Throws InvalidRequestError when `caption` is not valid UTF-8.
void write_caption(const std::filesystem::path& image, std::string_view caption);

bool is_valid_utf8(std::string_view text);

// fast-stable-diffusion's rule for captioning by file name: the stem without digits, `_` as a
// space, `(`, `)` and `-` removed; then trimmed, with runs of spaces collapsed.
// `phtmejhn (1).jpg` -> `phtmejhn`; `a_man-in_red (12).png` -> `a manin red`.
std::string caption_from_filename(const std::filesystem::path& image);

// Whether `word` occurs in `caption` delimited by non-alphanumeric characters (or the ends).
bool contains_word(std::string_view caption, std::string_view word);
// `token, caption` (just `token` for an empty caption); unchanged when the token is already there.
std::string add_instance_token(std::string_view caption, std::string_view token);
// Every occurrence of `find` (literal, case-sensitive) replaced; `find` must not be empty.
std::string replace_all(std::string_view caption, std::string_view find, std::string_view replacement);

struct CaptionEdit {
  enum class Kind {
    AddToken,     // text = the instance token; images without a caption get just the token
    FindReplace,  // text -> replacement in every existing caption
    FillEmpty,    // text becomes the caption of images whose caption is missing or blank
  };
  Kind kind = Kind::AddToken;
  std::string text;
  std::string replacement;
};

struct CaptionEditResult {
  std::vector<std::filesystem::path> changed;  // the images whose caption was written
  std::size_t unchanged = 0;
};

// Applies one bulk edit to the captions of `images`. Throws InvalidRequestError for an empty
// token/find text or invalid UTF-8, FileError naming the caption that could not be written
// (the captions written before it keep their new text).
CaptionEditResult apply_caption_edit(std::span<const std::filesystem::path> images, const CaptionEdit& edit);

}  // namespace kiln::dataset
