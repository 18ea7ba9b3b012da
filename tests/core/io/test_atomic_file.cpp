#include <doctest/doctest.h>

#include "base/error.h"
#include "io/atomic_file.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

TEST_CASE("atomic writes replace the file whole or not at all") {
  kiln::test::ScratchDir dir;
  const auto path = dir / "captions.txt";
  kiln::io::write_file_atomically(path, "first");
  CHECK(kiln::test::read_text(path) == "first");
  {
    kiln::io::AtomicFileWriter writer(path);
    writer.write(std::string_view("second, never committed"));
  }  // abandoned: the old content stays and the temporary is gone
  CHECK(kiln::test::read_text(path) == "first");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  CHECK(files == 1);
  kiln::io::write_file_atomically(path, "third");
  CHECK(kiln::test::read_text(path) == "third");
  CHECK_THROWS_AS(kiln::io::write_file_atomically(dir / "no/such/folder/x.txt", "x"), kiln::FileError);
}
