#pragma once
// Where one process stands in a data-parallel training run (docs/distributed.md), read from the
// launchers' standard environment. Light on purpose: trainer.h includes it; the c10d process
// group itself is in distributed.h.

#include <chrono>
#include <optional>
#include <string>

namespace kiln::training {

// The launch of one process of a data-parallel run. world_size 1: a plain single-process run.
struct DistributedSettings {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                    // the device index on its node (cuda:LOCAL_RANK)
  std::string master_addr = "127.0.0.1";  // where the TCPStore listens
  int master_port = 29500;
  // Rank 0 hosts the TCPStore; false when a launcher's agent already serves it (torchrun sets
  // TORCHELASTIC_USE_AGENT_STORE=True).
  bool rank0_hosts_store = true;
  // How long a collective (and the rendezvous) waits for the other ranks before the run stops.
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};

  bool active() const { return world_size > 1; }
};

// The standard environment of PyTorch launchers (torchrun, srun with the usual exports,
// Kubernetes operators): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE. nullopt when WORLD_SIZE is not set. Throws InvalidRequestError
// naming the variable for a value that is not a number, a rank outside 0..WORLD_SIZE-1, or a
// missing MASTER_ADDR/MASTER_PORT when WORLD_SIZE > 1.
std::optional<DistributedSettings> distributed_from_environment();

// Throws InvalidRequestError for an impossible combination (rank outside the world, port).
void validate_distributed(const DistributedSettings& settings);

}  // namespace kiln::training
