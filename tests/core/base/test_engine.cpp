#include <doctest/doctest.h>

#include <ATen/Parallel.h>

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
