#pragma once
// Near-duplicate photos (the same shot twice, a resized or re-encoded copy, a burst) by a
// difference hash: 64 bits telling whether each pixel of a 9x8 grey thumbnail is brighter than
// its right neighbour. Robust to scaling, compression and small colour changes; two photos are
// near-duplicates when their hashes differ in at most a few bits.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cv {
class Mat;
}

namespace kiln::dataset {

inline constexpr int kDefaultDuplicateDistance = 6;

// `image`: CV_8UC3 BGR or CV_8UC1, at any size.
std::uint64_t difference_hash(const cv::Mat& image);

int hamming_distance(std::uint64_t a, std::uint64_t b);

std::string to_hex(std::uint64_t hash);

// For each entry, the index of the first earlier entry it is a near-duplicate of (transitively:
// groups are connected components), or nullopt. Entries without a hash join no group.
std::vector<std::optional<std::size_t>> find_near_duplicates(std::span<const std::optional<std::uint64_t>> hashes,
                                                             int max_distance = kDefaultDuplicateDistance);

}  // namespace kiln::dataset
