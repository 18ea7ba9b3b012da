#pragma once
// Process-wide engine set-up. LibTorch starts with one intra-op thread on these machines;
// every entry point (kiln, kiln-cli, tests, benchmarks) calls init_engine() first.

namespace kiln {

struct EngineOptions {
  int threads = 0;  // intra-op threads; 0 = all cores (or $KILN_THREADS when set)
};

// Idempotent. Returns the intra-op thread count now in effect.
//
// Also tunes glibc's malloc for tensors (unless $KILN_MALLOC=system): by default every block
// above 32 MiB is a fresh mmap, so each large activation of a VAE decode (128-512 MiB at 512x512)
// is page-faulted in and unmapped again: 5 million page faults and 12 s of kernel time per three
// decodes measured here. Kiln keeps such blocks in the heap for reuse (M_MMAP_MAX 0, no automatic
// trim) and gives free memory back with release_free_memory() when a job ends.
int init_engine(const EngineOptions& options = {});

// Returns the heap's free pages to the system (malloc_trim); called after each generation,
// training run and model unload so that an idle Kiln does not keep its peak. Cheap when there is
// nothing to give back.
void release_free_memory();

}  // namespace kiln
