#pragma once
// Writes a state dict as torch.save does (zip format, PyTorch >= 1.6), so that `torch.load`
// (weights_only too), AUTOMATIC1111 and ComfyUI read it, and Kiln's own reader reads it back
// bit-exactly. Layout (what torch_checkpoint.h reads):
//   archive/data.pkl    pickle protocol 2 of {"state_dict": OrderedDict(name -> tensor)} (or the
//                       bare OrderedDict); each tensor is
//                       torch._utils._rebuild_tensor_v2(pid, 0, size, stride, False, OrderedDict())
//                       with pid the persistent id ('storage', torch.FloatStorage, "<key>", "cpu", numel)
//   archive/data/<key>  the tensor's contiguous little-endian bytes, one storage per tensor, its
//                       data starting on a 64-byte boundary (padding in the local header's extra field)
//   archive/version     "3\n"; archive/byteorder "little"
// Entries are stored (no compression) with their CRC-32; ZIP64 records are written when an
// offset, a size or the entry count exceeds the 32/16-bit fields. The file is written atomically.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

#include "io/safetensors.h"

namespace kiln::io {

struct TorchCheckpointWriteOptions {
  // {"state_dict": ...} as Stable Diffusion .ckpt files (and what A1111/ComfyUI unwrap); false
  // writes the bare dict, as nn.Module.state_dict() would be saved.
  bool nest_in_state_dict = true;
  // Writes ZIP64 records for every entry even when they are not needed (tests of the ZIP64 path
  // without writing 4 GiB).
  bool force_zip64 = false;
  // Called after each tensor is written with (tensors done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

// Tensors of any layout and device are stored contiguous, on the CPU. Throws
// kiln::InvalidRequestError for a dtype torch storages cannot hold or a duplicate/empty name, and
// kiln::FileError when the file cannot be written (nothing is left behind).
void write_torch_checkpoint(const std::filesystem::path& path, const NamedTensors& tensors,
                            const TorchCheckpointWriteOptions& options = {});

// CRC-32 (IEEE 802.3, as zip), continuing from `crc` (0 to start).
std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0);

}  // namespace kiln::io
