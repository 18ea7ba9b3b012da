#pragma once
// Process-wide engine set-up. LibTorch starts with one intra-op thread on these machines;
// every entry point (kiln, kiln-cli, tests, benchmarks) calls init_engine() first.

namespace kiln {

struct EngineOptions {
  int threads = 0;  // intra-op threads; 0 = all cores (or $KILN_THREADS when set)
};

// Idempotent. Returns the intra-op thread count now in effect. Also fixes glibc's malloc
// thresholds (blocks under 32 MiB from the heap, the heap trimmed above 256 MiB free) instead of
// its adaptive ones, so that speed does not depend on what ran before (unless $KILN_MALLOC=system).
int init_engine(const EngineOptions& options = {});

// While alive (on any thread; nests), blocks of any size come from the heap and freed ones are
// reused instead of being unmapped. glibc otherwise maps every block above 32 MiB afresh and
// unmaps it on free, so each large activation of a VAE pass (128-512 MiB at 512x512) is
// page-faulted in again: 5 million page faults and 12 s of kernel time per three decodes here.
// The last guard to go gives the free memory back to the system (malloc_trim).
class ReuseLargeBlocks {
 public:
  ReuseLargeBlocks();
  ~ReuseLargeBlocks();
  ReuseLargeBlocks(const ReuseLargeBlocks&) = delete;
  ReuseLargeBlocks& operator=(const ReuseLargeBlocks&) = delete;
};

// Returns the heap's free pages to the system (malloc_trim).
void release_free_memory();

}  // namespace kiln
