#pragma once
// Process-wide engine set-up. LibTorch starts with one intra-op thread on these machines;
// every entry point (kiln, kiln-cli, tests, benchmarks) calls init_engine() first.

namespace kiln {

struct EngineOptions {
  int threads = 0;  // intra-op threads; 0 = all cores (or $KILN_THREADS when set)
};

// Idempotent. Returns the intra-op thread count now in effect.
int init_engine(const EngineOptions& options = {});

}  // namespace kiln
