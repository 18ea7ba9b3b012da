#pragma once
// Data-parallel training on PyTorch's distributed engine (c10d): one process per device, a
// TCPStore rendezvous (rank 0 hosts it at MASTER_ADDR:MASTER_PORT, or torchrun's agent does),
// gradients averaged with c10d all-reduces (Gloo on the CPU, NCCL on CUDA when this build has
// its headers) in flat buckets before clipping and the optimizer step.
//
// A rank that dies or hangs: the others' next collective fails (a closed connection at once, a
// hung peer after `timeout`); ProcessGroup then asks the store which rank fell behind (each
// rank records there how many collectives it entered, and a heartbeat) and throws
// DistributedError naming it.

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "base/error.h"
#include "training/distributed_settings.h"
#include "training/optimizer.h"

namespace kiln::training {

// A failure of the distributed run itself: a rank died or hung, the rendezvous failed.
class DistributedError : public ComputeError {
 public:
  using ComputeError::ComputeError;
};

// A c10d process group for one rank of the run.
class ProcessGroup {
 public:
  // Joins the rendezvous: waits up to settings.timeout for all ranks, and on ranks other than 0
  // until rank 0 has joined (so what rank 0 wrote before, the session, is there). Throws
  // DistributedError when the others do not come.
  explicit ProcessGroup(const DistributedSettings& settings);
  // Builds the backend: NCCL for a CUDA device, Gloo otherwise; before any collective.
  void connect(torch::Device device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  const std::string& backend() const;  // "gloo" or "nccl"

  // Replaces every parameter's gradient with its average over the ranks: flat buckets of up to
  // 25 MiB, each one c10d all-reduce (sum) then divided by the world size. Every rank passes the
  // same parameters; those without a gradient (unused by the graph, which does not depend on
  // the data) are left out on every rank alike.
  void average_gradients(const NamedParameters& parameters);
  // The element-wise sum of `values` (fp64) over the ranks.
  std::vector<double> sum(const std::vector<double>& values);
  // Waits for every rank.
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::training
