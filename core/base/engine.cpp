#include "base/engine.h"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <string>
#include <thread>

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
  return at::get_num_threads();
}

}  // namespace kiln
