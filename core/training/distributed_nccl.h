#pragma once
// c10d's NCCL process group, in a file of its own: its header needs NCCL's and the CUDA
// runtime's headers (the nvidia-* wheels beside LibTorch bring them). A build without them
// compiles the function as one that throws.

#include <chrono>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

namespace kiln::training {

// Makes `device` (a CUDA device) this process's current one, as torch.cuda.set_device before
// init_process_group, and builds the group. Throws InvalidRequestError when this build has no NCCL.
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                                    std::chrono::milliseconds timeout, c10::Device device);

}  // namespace kiln::training
