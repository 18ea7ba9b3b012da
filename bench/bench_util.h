#pragma once
// Timing helpers for the benchmarks: run a callable several times, report the median.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace kiln::bench {

template <class F>
double median_seconds(int repeats, F&& f) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace kiln::bench
