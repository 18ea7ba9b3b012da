#include "training/distributed_nccl.h"

#include "base/error.h"

#if KILN_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace kiln::training {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                                                    std::chrono::milliseconds timeout, c10::Device device) {
#if KILN_HAVE_NCCL
  if (device.has_index()) c10::cuda::set_device(device.index());
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
#else
  (void)store, (void)rank, (void)world_size, (void)timeout, (void)device;
  throw InvalidRequestError("data-parallel training on CUDA needs c10d's NCCL, which this build of Kiln has not",
                            "build against the pinned LibTorch with its nvidia-nccl wheel, or train with --device cpu");
#endif
}

}  // namespace kiln::training
