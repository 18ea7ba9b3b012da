#include "base/engine.h"

#include <ATen/Parallel.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace kiln {

namespace {

#ifdef __GLIBC__
constexpr int kGlibcDefaultMmapMax = 65536;
std::mutex malloc_mutex;
int reuse_depth = 0;

bool malloc_tuning_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("KILN_MALLOC");
    return !(env && std::string_view(env) == "system");
  }();
  return enabled;
}
#endif

}  // namespace

int init_engine(const EngineOptions& options) {
  int threads = options.threads;
  if (threads <= 0) {
    if (const char* env = std::getenv("KILN_THREADS"); env && *env) {
      try {
        threads = std::stoi(env);
      } catch (const std::exception&) {
        threads = 0;
      }
    }
  }
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
#ifdef __GLIBC__
  static const bool tuned = [] {
    if (!malloc_tuning_enabled()) return false;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)tuned;
#endif
  return at::get_num_threads();
}

ReuseLargeBlocks::ReuseLargeBlocks() {
#ifdef __GLIBC__
  std::lock_guard lock(malloc_mutex);
  if (malloc_tuning_enabled() && reuse_depth++ == 0) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
  }
#endif
}

ReuseLargeBlocks::~ReuseLargeBlocks() {
#ifdef __GLIBC__
  std::lock_guard lock(malloc_mutex);
  if (malloc_tuning_enabled() && --reuse_depth == 0) {
    mallopt(M_MMAP_MAX, kGlibcDefaultMmapMax);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    malloc_trim(0);
  }
#endif
}

void release_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace kiln
