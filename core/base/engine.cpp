#include "base/engine.h"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace kiln {

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
    const char* env = std::getenv("KILN_MALLOC");
    if (env && std::string_view(env) == "system") return false;
    mallopt(M_MMAP_MAX, 0);                   // large blocks from the heap, reused
    mallopt(M_TRIM_THRESHOLD, 1 << 30);       // returned by release_free_memory(), not on every free
    return true;
  }();
  (void)tuned;
#endif
  return at::get_num_threads();
}

void release_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace kiln
