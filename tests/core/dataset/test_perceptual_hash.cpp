// Near-duplicates by difference hash: copies that were resized or re-encoded match, different
// photos do not, and groups are transitive.
#include <doctest/doctest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dataset/image_loader.h"
#include "dataset/perceptual_hash.h"
#include "dataset_test_util.h"

using namespace kiln::dataset;
using kiln::test::faces_dir;

namespace {
cv::Mat photo(const char* name) { return load_image(faces_dir() / name).bgr; }
}  // namespace

TEST_CASE("resized, re-encoded and rotated-by-EXIF copies are near-duplicates; other photos are not") {
  const cv::Mat hopper = photo("hopper_portrait.jpg");
  const std::uint64_t h = difference_hash(hopper);
  cv::Mat small;
  cv::resize(hopper, small, cv::Size(), 0.37, 0.37, cv::INTER_AREA);
  std::vector<uchar> jpg;
  cv::imencode(".jpg", small, jpg, {cv::IMWRITE_JPEG_QUALITY, 60});
  CHECK(hamming_distance(h, difference_hash(cv::imdecode(jpg, cv::IMREAD_COLOR))) <= kDefaultDuplicateDistance);
  CHECK(hamming_distance(h, difference_hash(photo("exif6_hopper.jpg"))) <= kDefaultDuplicateDistance);
  for (const char* other : {"astronaut_512.png", "noface_coffee.png", "noface_rocket.jpg", "two_people_bar.jpg",
                            "portrait_beach.jpg", "grayscale_portrait.jpg"}) {
    CAPTURE(other);
    CHECK(hamming_distance(h, difference_hash(photo(other))) > 2 * kDefaultDuplicateDistance);
  }
  CHECK(to_hex(0x0123456789abcdefull) == "0123456789abcdef");
}

TEST_CASE("grouping: connected components, pointing at the first member; unhashed entries stay out") {
  const std::vector<std::optional<std::uint64_t>> hashes{0x00ull,      0xFFFF0000ull, 0x07ull,
                                                         std::nullopt, 0x3Full,       0xFFFF0001ull};
  const auto first = find_near_duplicates(hashes, 3);
  CHECK_FALSE(first[0].has_value());
  CHECK_FALSE(first[1].has_value());
  CHECK(first[2] == std::optional<std::size_t>(0));  // 3 bits from 0
  CHECK_FALSE(first[3].has_value());
  CHECK(first[4] == std::optional<std::size_t>(0));  // 3 bits from #2, 6 from #0: same group
  CHECK(first[5] == std::optional<std::size_t>(1));
  CHECK(find_near_duplicates(hashes, -1)[2] == std::nullopt);
}
