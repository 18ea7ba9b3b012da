#include "dataset/perceptual_hash.h"

#include <opencv2/imgproc.hpp>

#include <bit>
#include <cstdio>
#include <numeric>

namespace kiln::dataset {

std::uint64_t difference_hash(const cv::Mat& image) {
  cv::Mat gray = image;
  if (image.channels() == 3) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  cv::Mat thumb;
  cv::resize(gray, thumb, cv::Size(9, 8), 0, 0, cv::INTER_AREA);
  std::uint64_t hash = 0;
  for (int y = 0; y < 8; ++y) {
    const std::uint8_t* row = thumb.ptr<std::uint8_t>(y);
    for (int x = 0; x < 8; ++x) hash = (hash << 1) | (row[x] > row[x + 1] ? 1u : 0u);
  }
  return hash;
}

int hamming_distance(std::uint64_t a, std::uint64_t b) { return std::popcount(a ^ b); }

std::string to_hex(std::uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::vector<std::optional<std::size_t>> find_near_duplicates(std::span<const std::optional<std::uint64_t>> hashes,
                                                             int max_distance) {
  const std::size_t n = hashes.size();
  // Union-find whose root is always the smallest index of its set.
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  const auto root = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (!hashes[i]) continue;
    for (std::size_t j = i + 1; j < n; ++j) {
      if (!hashes[j] || hamming_distance(*hashes[i], *hashes[j]) > max_distance) continue;
      const std::size_t a = root(i), b = root(j);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  }
  std::vector<std::optional<std::size_t>> first(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!hashes[i]) continue;
    const std::size_t r = root(i);
    if (r != i) first[i] = r;
  }
  return first;
}

}  // namespace kiln::dataset
