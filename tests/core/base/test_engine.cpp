#include <doctest/doctest.h>

#include <ATen/Parallel.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/engine.h"

TEST_CASE("init_engine uses every core unless told otherwise") {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  CHECK(kiln::init_engine() == (cores > 0 ? cores : 1));
  CHECK(at::get_num_threads() == (cores > 0 ? cores : 1));
  CHECK(kiln::init_engine({.threads = 1}) == 1);
  CHECK(at::get_num_threads() == 1);
  kiln::init_engine();
}

#ifdef __GLIBC__
#include <fstream>

namespace {

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

TEST_CASE("ReuseLargeBlocks: a freed large block is reused while a guard lives, and given back after the last") {
  kiln::init_engine();
  const std::size_t size = std::size_t{96} << 20;  // above glibc's 32 MiB mmap threshold
  const long before = resident_kib();
  {
    const kiln::ReuseLargeBlocks outer;
    const kiln::ReuseLargeBlocks nested;
    void* a = std::malloc(size);
    REQUIRE(a);
    std::memset(a, 1, size);  // resident now
    std::free(a);
    void* b = std::malloc(size);  // from the heap: the same block, no new page faults
    CHECK(b == a);
    std::memset(b, 2, size);
    CHECK(resident_kib() - before < static_cast<long>(size / 1024) * 3 / 2);  // not twice
    std::free(b);
    CHECK(resident_kib() - before > static_cast<long>(size / 1024) / 2);  // kept while the guards live
  }
  CHECK(resident_kib() - before < static_cast<long>(size / 1024) / 4);  // trimmed by the last guard
}
#endif
