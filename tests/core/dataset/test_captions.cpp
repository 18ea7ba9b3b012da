// Captions: kohya's `.txt` beside the image, atomic UTF-8 writes, bulk edits, and
// fast-stable-diffusion's file-name rule.
#include <doctest/doctest.h>

#include "base/error.h"
#include "dataset/captions.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace kiln::dataset;
using kiln::test::read_text;
using kiln::test::write_text;

TEST_CASE("fast-stable-diffusion's file-name rule") {
  CHECK(caption_from_filename("phtmejhn (1).jpg") == "phtmejhn");
  CHECK(caption_from_filename("/data/set/phtmejhn (12).png") == "phtmejhn");
  CHECK(caption_from_filename("a_man_in_red-shirt (3).jpg") == "a man in redshirt");
  CHECK(caption_from_filename("sks_dog2.webp") == "sks dog");
  CHECK(caption_from_filename("___.jpg") == "");
  CHECK(caption_from_filename("Zoë_à_Paris.jpg") == "Zoë à Paris");
}

TEST_CASE("instance token, word search and find/replace on one caption") {
  CHECK(contains_word("photo of sks dog", "sks"));
  CHECK_FALSE(contains_word("photo of sksdog", "sks"));
  CHECK_FALSE(contains_word("tasks", "sks"));
  CHECK(contains_word("sks, a dog", "sks"));
  CHECK(add_instance_token("a dog on grass", "sks") == "sks, a dog on grass");
  CHECK(add_instance_token("  ", "sks") == "sks");
  CHECK(add_instance_token("photo of sks dog", "sks") == "photo of sks dog");
  CHECK(replace_all("a dog, a dog", "dog", "cat") == "a cat, a cat");
  CHECK(replace_all("aaa", "a", "aa") == "aaaaaa");
  CHECK_THROWS_AS(replace_all("x", "", "y"), kiln::InvalidRequestError);
}

TEST_CASE("UTF-8 validation") {
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("Zoë 日本 🙂"));
  CHECK_FALSE(is_valid_utf8("\xC3"));          // cut sequence
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
  CHECK_FALSE(is_valid_utf8("caf\xE9"));       // Latin-1
}

TEST_CASE("reading: .txt first, then .caption; BOM and whitespace stripped; Latin-1 converted") {
  kiln::test::ScratchDir dir;
  const fs::path image = dir / "a.jpg";
  CHECK_FALSE(read_caption(image).has_value());
  write_text(dir / "a.caption", "from caption file\n");
  CHECK(read_caption(image)->text == "from caption file");
  write_text(dir / "a.txt", "\xEF\xBB\xBF  sks dog, grass \r\n");
  const auto c = read_caption(image);
  REQUIRE(c.has_value());
  CHECK(c->text == "sks dog, grass");
  CHECK(c->path == dir / "a.txt");
  CHECK_FALSE(c->converted_from_latin1);
  write_text(dir / "a.txt", "caf\xE9");
  const auto latin = read_caption(image);
  CHECK(latin->text == "café");
  CHECK(latin->converted_from_latin1);
}

TEST_CASE("writing is atomic UTF-8 beside the image; invalid UTF-8 is refused") {
  kiln::test::ScratchDir dir;
  write_caption(dir / "b.png", "sks, Zoë");
  CHECK(read_text(dir / "b.txt") == "sks, Zoë");
  CHECK_THROWS_WITH_AS(write_caption(dir / "b.png", "caf\xE9"), "the caption for b.png is not valid UTF-8",
                       kiln::InvalidRequestError);
  CHECK(read_text(dir / "b.txt") == "sks, Zoë");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  CHECK(files == 1);  // no temporary left behind
  CHECK_THROWS_AS(write_caption(dir / "missing/c.png", "x"), kiln::FileError);
}

TEST_CASE("bulk edits: add the token, find/replace, fill only the empty captions") {
  kiln::test::ScratchDir dir;
  const std::vector<fs::path> images{dir / "1.png", dir / "2.png", dir / "3.png", dir / "4.png"};
  write_text(dir / "1.txt", "a dog on grass");
  write_text(dir / "2.txt", "sks dog asleep");
  write_text(dir / "3.txt", "   ");
  // 4 has no caption.

  auto fill = apply_caption_edit(images, {CaptionEdit::Kind::FillEmpty, "a dog", ""});
  CHECK(fill.changed == std::vector<fs::path>{images[2], images[3]});
  CHECK(fill.unchanged == 2);
  CHECK(read_text(dir / "3.txt") == "a dog");
  CHECK(read_text(dir / "4.txt") == "a dog");
  CHECK(read_text(dir / "1.txt") == "a dog on grass");

  auto token = apply_caption_edit(images, {CaptionEdit::Kind::AddToken, "sks", ""});
  CHECK(token.changed.size() == 3);  // 2 has it already
  CHECK(read_text(dir / "1.txt") == "sks, a dog on grass");
  CHECK(read_text(dir / "2.txt") == "sks dog asleep");

  auto replace = apply_caption_edit(images, {CaptionEdit::Kind::FindReplace, "dog", "corgi"});
  CHECK(replace.changed.size() == 4);
  CHECK(read_text(dir / "2.txt") == "sks corgi asleep");
  CHECK(read_text(dir / "4.txt") == "sks, a corgi");

  CHECK_THROWS_WITH_AS(apply_caption_edit(images, {CaptionEdit::Kind::AddToken, " ", ""}),
                       "the instance token is empty", kiln::InvalidRequestError);
  CHECK_THROWS_AS(apply_caption_edit(images, {CaptionEdit::Kind::FindReplace, "", "x"}), kiln::InvalidRequestError);
}
