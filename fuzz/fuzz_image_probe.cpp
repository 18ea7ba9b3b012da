// What the dataset import reads of an image before any decoder sees it: the format by content,
// the container walked to its end (JPEG markers and entropy data, PNG chunks and CRCs, WebP,
// BMP, TIFF) and the EXIF orientation.
#include "dataset/exif.h"
#include "dataset/image_probe.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = kiln::fuzz::bytes(data, size);
  (void)kiln::dataset::sniff_format(in);
  (void)kiln::dataset::read_exif_orientation(in);
  kiln::fuzz::expect_kiln_errors_only([&] { (void)kiln::dataset::probe_image(in, "fuzz.jpg"); });
  return 0;
}
