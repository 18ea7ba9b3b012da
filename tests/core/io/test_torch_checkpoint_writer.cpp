// Writing torch.save checkpoints: Kiln's reader reads them back bit-exactly (every dtype, 0-d,
// empty and strided inputs, plain and ZIP64 archives), the layout is the one torch writes
// (64-byte aligned storages, CRC-32 of every entry), and Debian's python3 torch.load - also with
// weights_only=True, as ComfyUI loads - gives the same values.

// ATen before doctest: Debian's c10 pulls in glog, whose CHECK macro must be the one doctest
// redefines, not the other way round.
#include <ATen/ATen.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "io/torch_checkpoint.h"
#include "io/torch_checkpoint_writer.h"
#include "io/zip_reader.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::io::NamedTensors;
using kiln::io::TorchCheckpointFile;
using kiln::io::TorchCheckpointWriteOptions;

namespace {

// One tensor of every dtype Kiln stores, random values, a few odd shapes and a strided input.
NamedTensors sample_tensors() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  NamedTensors t;
  const at::Tensor f = at::randn({3, 5}, gen, at::kFloat);
  t.emplace_back("model.diffusion_model.conv.weight", f);
  t.emplace_back("f64", at::randn({4}, gen, at::kDouble));
  t.emplace_back("f16", at::randn({2, 3, 4}, gen, at::kFloat).to(at::kHalf));
  t.emplace_back("bf16", at::randn({7}, gen, at::kFloat).to(at::kBFloat16));
  t.emplace_back("i64", at::arange(-3, 300, 7, at::kLong));
  t.emplace_back("i32", at::arange(-70000, 70000, 9999, at::kInt));
  t.emplace_back("i16", at::arange(-5, 5, at::kShort));
  t.emplace_back("i8", at::arange(-128, 127, 17, at::kChar));
  t.emplace_back("u8", at::arange(0, 255, 13, at::kByte));
  t.emplace_back("bool", at::randn({9}, gen, at::kFloat) > 0);
  t.emplace_back("scalar", at::scalar_tensor(2.5, at::kFloat));
  t.emplace_back("empty", at::empty({0, 4}, at::kFloat));
  t.emplace_back("transposed", f.t());  // strided view: stored contiguous
  t.emplace_back("unicode \xc3\xa9t\xc3\xa9", at::ones({1, 1, 1, 1, 1}, at::kHalf));
  return t;
}

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

void check_round_trip(const fs::path& file, const NamedTensors& expected) {
  const auto ckpt = TorchCheckpointFile::open(file);
  CHECK(ckpt->warnings().empty());
  REQUIRE(ckpt->index().size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = ckpt->index().entries()[i];
    CAPTURE(e.name);
    CHECK(e.name == expected[i].first);  // dict order kept
    CHECK(e.strides.empty());            // stored contiguous
    CHECK(e.offset % 64 == 0);           // data aligned as torch aligns it
    CHECK(same_bytes(ckpt->tensor(e.name), expected[i].second));
  }
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs Python with torch (the pinned LibTorch's environment) on `file`: checks every CRC with Python's zipfile, loads it
// with torch.load (`weights_only` as asked) and writes every tensor's dtype, shape and values to
// `out` as JSON. Fails the test when the Python with torch is missing: the test set-up
// (scripts/setup-libtorch.sh) installs it.
nlohmann::json python_load(const fs::path& file, const fs::path& out, bool weights_only) {
  const int has_torch = std::system((std::string(KILN_PYTHON3) + " -c 'import torch' >/dev/null 2>&1").c_str());
  if (has_torch != 0) {
    FAIL("the Python with torch (" KILN_PYTHON3
         ") cannot import torch: run scripts/setup-libtorch.sh, which installs it");
  }
  const fs::path script = out.parent_path() / "load.py";
  kiln::test::write_text(script, R"(import collections, json, sys, zipfile, torch
assert zipfile.ZipFile(sys.argv[1]).testzip() is None
obj = torch.load(sys.argv[1], map_location="cpu", weights_only=sys.argv[3] == "1")
assert type(obj) is dict and list(obj.keys()) == ["state_dict"], type(obj)
sd = obj["state_dict"]
assert isinstance(sd, collections.OrderedDict), type(sd)
doc = {}
for k, v in sd.items():
    assert isinstance(v, torch.Tensor) and not v.requires_grad
    doc[k] = {"dtype": str(v.dtype), "shape": list(v.shape), "contiguous": v.is_contiguous(),
              "values": v.double().flatten().tolist() if v.dtype != torch.bool else v.flatten().tolist()}
json.dump({"keys": list(sd.keys()), "tensors": doc}, open(sys.argv[2], "w"))
)");
  const std::string cmd = std::string(KILN_PYTHON3) + " '" + script.string() + "' '" + file.string() + "' '" +
                          out.string() + "' " + (weights_only ? "1" : "0");
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "torch.load failed: " << cmd);
  return nlohmann::json::parse(kiln::test::read_text(out));
}

const char* torch_dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kDouble:
      return "torch.float64";
    case at::kFloat:
      return "torch.float32";
    case at::kHalf:
      return "torch.float16";
    case at::kBFloat16:
      return "torch.bfloat16";
    case at::kLong:
      return "torch.int64";
    case at::kInt:
      return "torch.int32";
    case at::kShort:
      return "torch.int16";
    case at::kChar:
      return "torch.int8";
    case at::kByte:
      return "torch.uint8";
    case at::kBool:
      return "torch.bool";
    default:
      return "?";
  }
}

void check_python_values(const nlohmann::json& doc, const NamedTensors& expected) {
  std::vector<std::string> names;
  for (const auto& [name, t] : expected) names.push_back(name);
  CHECK(doc["keys"].get<std::vector<std::string>>() == names);
  for (const auto& [name, t] : expected) {
    CAPTURE(name);
    const auto& d = doc["tensors"][name];
    CHECK(d["dtype"] == torch_dtype_name(t.scalar_type()));
    CHECK(d["shape"].get<std::vector<std::int64_t>>() == t.sizes().vec());
    CHECK(d["contiguous"] == true);
    const at::Tensor flat = t.flatten();
    REQUIRE(d["values"].size() == static_cast<std::size_t>(flat.numel()));
    // Every value of these dtypes is exact in a double (and in JSON's shortest repr).
    for (std::int64_t j = 0; j < flat.numel(); ++j) {
      if (t.scalar_type() == at::kBool) {
        CHECK(d["values"][static_cast<std::size_t>(j)].get<bool>() == flat[j].item<bool>());
      } else {
        CHECK(d["values"][static_cast<std::size_t>(j)].get<double>() == flat[j].item<double>());
      }
    }
  }
}

}  // namespace

TEST_CASE("CRC-32 of the standard check string") {
  const std::string s = "123456789";
  CHECK(kiln::io::crc32(std::as_bytes(std::span<const char>(s.data(), s.size()))) == 0xCBF43926u);
  // Continuing a CRC over two parts equals one pass (the zip writer streams parts).
  const auto whole = kiln::io::crc32(std::as_bytes(std::span<const char>(s.data(), s.size())));
  const auto part = kiln::io::crc32(std::as_bytes(std::span<const char>(s.data(), 4)));
  CHECK(kiln::io::crc32(std::as_bytes(std::span<const char>(s.data() + 4, 5)), part) == whole);
  CHECK(kiln::io::crc32({}) == 0u);
}

TEST_CASE("a written checkpoint reads back bit-exactly, plain and ZIP64") {
  kiln::test::ScratchDir dir;
  const NamedTensors tensors = sample_tensors();
  for (const bool zip64 : {false, true}) {
    CAPTURE(zip64);
    const fs::path file = dir / (zip64 ? "zip64.ckpt" : "plain.ckpt");
    TorchCheckpointWriteOptions options;
    options.force_zip64 = zip64;
    std::size_t calls = 0;
    options.progress = [&](std::size_t done, std::size_t total) {
      ++calls;
      CHECK(done <= total);
    };
    kiln::io::write_torch_checkpoint(file, tensors, options);
    CHECK(calls == tensors.size());
    check_round_trip(file, tensors);

    // The archive: torch's record names, stored entries with correct CRCs, version "3\n".
    const std::string bytes = read_bytes(file);
    const auto zip = kiln::io::ZipArchive::open(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), file);
    REQUIRE(zip.entries().size() == tensors.size() + 3);
    CHECK(zip.entries().front().name == "archive/data.pkl");
    CHECK(zip.entries().back().name == "archive/version");
    for (const auto& e : zip.entries()) {
      CAPTURE(e.name);
      CHECK(e.method == 0);
      CHECK(e.data_offset % 64 == 0);
      CHECK(kiln::io::crc32(zip.data(e)) == e.crc32);
    }
    const auto version = zip.data(*zip.find("archive/version"));
    CHECK(std::string(reinterpret_cast<const char*>(version.data()), version.size()) == "3\n");
  }
  // Without the "state_dict" level the dict itself is the state dict.
  const fs::path bare = dir / "bare.pt";
  TorchCheckpointWriteOptions options;
  options.nest_in_state_dict = false;
  kiln::io::write_torch_checkpoint(bare, tensors, options);
  check_round_trip(bare, tensors);
}

TEST_CASE("more than 1000 tensors (several SETITEMS batches) and an empty state dict") {
  kiln::test::ScratchDir dir;
  NamedTensors many;
  for (int i = 0; i < 2345; ++i) many.emplace_back("t." + std::to_string(i), at::full({1}, i, at::kInt));
  kiln::io::write_torch_checkpoint(dir / "many.ckpt", many);
  check_round_trip(dir / "many.ckpt", many);
  kiln::io::write_torch_checkpoint(dir / "none.ckpt", {});
  const auto ckpt = TorchCheckpointFile::open(dir / "none.ckpt");
  CHECK(ckpt->index().empty());
}

TEST_CASE("python3 torch.load reads Kiln's checkpoints, also with weights_only=True") {
  kiln::test::ScratchDir dir;
  const NamedTensors tensors = sample_tensors();
  // Two runs (python with torch takes seconds to start): a plain archive with the full
  // unpickler, a ZIP64 one with the restricted weights_only unpickler.
  for (const bool zip64 : {false, true}) {
    CAPTURE(zip64);
    const fs::path file = dir / "model.ckpt";
    TorchCheckpointWriteOptions options;
    options.force_zip64 = zip64;
    kiln::io::write_torch_checkpoint(file, tensors, options);
    check_python_values(python_load(file, dir / "values.json", /*weights_only=*/zip64), tensors);
  }
}

TEST_CASE("errors name the problem and leave no file behind") {
  kiln::test::ScratchDir dir;
  NamedTensors dup;
  dup.emplace_back("a", at::zeros({1}));
  dup.emplace_back("a", at::zeros({1}));
  CHECK_THROWS_WITH_AS(kiln::io::write_torch_checkpoint(dir / "dup.ckpt", dup), "tensor name \"a\" given twice",
                       kiln::InvalidRequestError);
  NamedTensors complex;
  complex.emplace_back("c", at::zeros({1}, at::kComplexFloat));
  CHECK_THROWS_AS(kiln::io::write_torch_checkpoint(dir / "complex.ckpt", complex), kiln::InvalidRequestError);
  CHECK_THROWS_AS(kiln::io::write_torch_checkpoint(dir / "missing" / "x.ckpt", sample_tensors()), kiln::FileError);
  CHECK(fs::is_empty(dir.path()));
}
