#include "io/weight_file.h"

#include <fstream>

#include "base/error.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"

namespace kiln::io {

const char* to_string(WeightFormat format) {
  switch (format) {
    case WeightFormat::Safetensors: return "safetensors";
    case WeightFormat::TorchZip: return "ckpt";
  }
  return "?";
}

bool is_weight_file_name(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".safetensors" || ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".bin";
}

std::unique_ptr<WeightFile> open_weight_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw FileError("no such file", path);
    throw FileError("cannot open for reading", path);
  }
  unsigned char magic[9] = {};
  in.read(reinterpret_cast<char*>(magic), sizeof magic);
  const auto got = in.gcount();
  // torch.save writes a zip ("PK\3\4"); before PyTorch 1.6 it wrote a bare pickle (0x80).
  if (got >= 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return TorchCheckpointFile::open(path);
  // safetensors: 8-byte header length, then the JSON header's '{'. Checked before the bare
  // pickle's 0x80, which is also what a header length ending in 0x80 starts with. (A legacy
  // torch.save pickle has byte 8 inside its magic number, 0xf9.)
  if (got == 9 && magic[8] == '{') return SafetensorsFile::open(path);
  if (got >= 1 && magic[0] == 0x80) return TorchCheckpointFile::open(path);
  if (path.extension() == ".safetensors") return SafetensorsFile::open(path);
  throw FormatError("not a weight file Kiln can read: neither safetensors nor a PyTorch checkpoint", path);
}

}  // namespace kiln::io
