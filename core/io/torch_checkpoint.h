#pragma once
// PyTorch checkpoints written by torch.save (zip format, PyTorch >= 1.6): .ckpt, .pt, .pth,
// .bin. Read without executing anything.
//
// Layout: a zip of stored entries under one folder (the file stem or "archive"):
//   <folder>/data.pkl    pickle of the saved object; tensors appear as
//                        torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
//                        requires_grad, backward_hooks[, metadata]) with storage a persistent id
//                        ('storage', torch.FloatStorage, key, location, numel)
//   <folder>/data/<key>  the raw little-endian bytes of each storage, 64-byte aligned
//   <folder>/version     and, in newer PyTorch, byteorder, .data/serialization_id
//
// The tensors are those of the state dict: the dict under "state_dict" when there is one
// (PyTorch Lightning / original Stable Diffusion .ckpt files), else the one under "params_ema"
// or "params" (BasicSR / Real-ESRGAN upscalers, EMA first), else the top-level dict
// (nn.Module.state_dict(), diffusers .bin). Other objects of the pickle (optimizer state,
// Lightning callbacks, numpy scalars) are parsed as opaque values, never run, and named in
// warnings(). Every tensor is validated when the file is opened: its storage entry exists,
// holds exactly numel x element size bytes, and the view (offset, sizes, strides) lies inside.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "io/weight_file.h"

namespace kiln::io {

struct TorchCheckpointOptions {
  // Also index the tensors of dicts nested in the state dict (up to 4 levels), named with their
  // keys joined by "." (A1111's textual inversion {"string_to_param": {"*": tensor}} gives
  // "string_to_param.*"). Off: nested dicts are skipped values, as for model checkpoints.
  bool nested_dicts = false;
};

class TorchCheckpointFile final : public WeightFile {
 public:
  // Throws kiln::FileError when the file cannot be read, kiln::FormatError (naming the file
  // and the entry, offset or tensor) when it is not a readable torch.save zip.
  static std::unique_ptr<TorchCheckpointFile> open(const std::filesystem::path& path,
                                                   const TorchCheckpointOptions& options = {});

  WeightFormat format() const override { return WeightFormat::TorchZip; }
  const std::filesystem::path& path() const override { return map_->path(); }
  const TensorIndex& index() const override { return index_; }
  const std::map<std::string, std::string>& metadata() const override { return metadata_; }
  const std::vector<std::string>& warnings() const override { return warnings_; }
  // A view of the mapped file (strided when the checkpoint holds a strided view) when the
  // data is aligned for its dtype, else a copy.
  at::Tensor tensor(const std::string& name) const override;

 private:
  std::shared_ptr<const MappedFile> map_;
  TensorIndex index_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> warnings_;
};

}  // namespace kiln::io
