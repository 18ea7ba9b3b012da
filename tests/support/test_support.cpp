#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace kiln::test {

namespace fs = std::filesystem;

fs::path data_dir() { return fs::path(KILN_TEST_DATA); }

ScratchDir::ScratchDir(const std::string& tag) {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = fs::temp_directory_path() / (tag + "-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch folder");
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

io::TensorIndex read_key_list(const fs::path& path, DType dtype) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  io::TensorIndex index;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw std::runtime_error("bad key list line: " + line);
    io::TensorEntry e;
    e.name = line.substr(0, tab);
    e.dtype = dtype;
    std::string dims = line.substr(tab + 1);
    for (char& c : dims) {
      if (c == '[' || c == ']' || c == ',') c = ' ';
    }
    std::istringstream ds(dims);
    std::int64_t d = 0;
    while (ds >> d) e.shape.push_back(d);
    e.nbytes = static_cast<std::uint64_t>(e.numel()) * element_size(dtype);
    index.add(std::move(e));
  }
  return index;
}

void write_sparse_safetensors(const fs::path& path, const io::TensorIndex& index, const std::string& metadata_json) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  auto meta = nlohmann::ordered_json::parse(metadata_json);
  if (!meta.empty()) header["__metadata__"] = meta;
  std::uint64_t offset = 0;
  for (const auto& e : index.entries()) {
    const std::uint64_t n = static_cast<std::uint64_t>(e.numel()) * element_size(e.dtype);
    header[e.name] = {{"dtype", std::string(to_string(e.dtype))}, {"shape", e.shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::uint64_t n = text.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  fs::resize_file(path, 8 + text.size() + offset);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace kiln::test
