#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cstring>
#include <fstream>

#include "base/error.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/weight_file.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::io::SafetensorsFile;
using kiln::test::ScratchDir;

namespace {

// A file made of a raw header text and `data_bytes` bytes of data.
void write_raw(const fs::path& path, const std::string& header, std::size_t data_bytes, std::uint64_t declared = 0) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::uint64_t n = declared ? declared : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  out << header;
  out << std::string(data_bytes, '\0');
}

std::string open_error(const fs::path& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const kiln::Error& e) {
    CHECK(e.kind() == kiln::ErrorKind::Format);
    CHECK(e.path() == path);
    return e.message();
  }
  FAIL("opened without error: " << path);
  return {};
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype, with metadata") {
  ScratchDir dir;
  const auto path = dir / "all.safetensors";
  kiln::io::NamedTensors tensors = {
      {"f64", torch::arange(6, torch::kDouble).reshape({2, 3})},
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(torch::kHalf)},
      {"bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
      {"i64", torch::arange(-3, 4, torch::kLong)},
      {"i32", torch::arange(7, torch::kInt)},
      {"i16", torch::arange(3, torch::kShort)},
      {"i8", torch::arange(-4, 4, torch::kChar)},
      {"u8", torch::arange(250, 256, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5f)},
      {"empty", torch::zeros({0, 4})},
      {"strided", torch::arange(12, torch::kFloat).reshape({3, 4}).t()},
  };
  kiln::io::write_safetensors(path, tensors, {{"format", "pt"}, {"kiln.note", "ü"}});
  auto file = SafetensorsFile::open(path);
  CHECK(file->metadata().at("format") == "pt");
  CHECK(file->metadata().at("kiln.note") == "ü");
  CHECK(file->index().size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    const auto* e = file->index().find(name);
    REQUIRE(e != nullptr);
    CHECK(e->shape == t.sizes().vec());
    at::Tensor back = file->tensor(name);
    CHECK((back.scalar_type() == t.scalar_type()));
    CHECK((back.sizes() == t.sizes()));
    CHECK(torch::equal(back, t.contiguous()));
  }
  // Larger elements come first, so every tensor is aligned and mapped without a copy.
  for (const auto& e : file->index().entries()) {
    CHECK(e.offset % kiln::element_size(e.dtype) == 0);
  }
}

TEST_CASE("mapped tensors are views of the file and outlive the file object") {
  ScratchDir dir;
  const auto path = dir / "view.safetensors";
  kiln::io::write_safetensors(path, {{"w", torch::arange(1024, torch::kFloat)}});
  at::Tensor t;
  {
    auto file = SafetensorsFile::open(path);
    t = file->tensor("w");
  }
  CHECK(t[1023].item<float>() == 1023.0f);
  t.mul_(2);  // copy-on-write: the file keeps its bytes
  CHECK(SafetensorsFile::open(path)->tensor("w")[5].item<float>() == 5.0f);
}

namespace {

// Resident pages of this process (file-backed included), from /proc/self/statm.
long resident_pages() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident;
}

}  // namespace

TEST_CASE("release_mapped_pages gives back a mapped tensor's pages, keeps its bytes, and leaves other memory alone") {
  ScratchDir dir;
  const auto path = dir / "big.safetensors";
  const std::int64_t n = 16 << 20;  // 64 MiB of fp32
  kiln::io::write_safetensors(path, {{"w", torch::arange(n, torch::kFloat)}});
  auto file = SafetensorsFile::open(path);
  const at::Tensor t = file->tensor("w");
  const double sum = t.sum(torch::kDouble).item<double>();  // touches every page
  const long before = resident_pages();
  const std::size_t released = kiln::io::release_mapped_pages(t.const_data_ptr(), t.nbytes());
  CHECK(released >= t.nbytes() - 2 * 4096);
  const long after = resident_pages();
  CHECK(before - after >= static_cast<long>(released / 4096) * 9 / 10);
  CHECK(t.sum(torch::kDouble).item<double>() == sum);  // read again from the page cache
  CHECK(t[n - 1].item<float>() == static_cast<float>(n - 1));

  // Heap memory, a range that is not wholly inside a mapping, and a tiny range: untouched.
  const at::Tensor heap = torch::arange(n, torch::kFloat);
  CHECK(kiln::io::release_mapped_pages(heap.const_data_ptr(), heap.nbytes()) == 0);
  CHECK(heap[12345].item<float>() == 12345.0f);
  CHECK(kiln::io::release_mapped_pages(t.const_data_ptr(), t.nbytes() + (1 << 20)) == 0);
  CHECK(kiln::io::release_mapped_pages(t.const_data_ptr(), 100) == 0);
}

TEST_CASE("writing is atomic: a failed write leaves the previous file intact") {
  ScratchDir dir;
  const auto path = dir / "keep.safetensors";
  kiln::io::write_safetensors(path, {{"a", torch::ones({4})}});
  CHECK_THROWS_AS(kiln::io::write_safetensors(path, {{"a", torch::ones({4})}, {"a", torch::zeros({2})}}),
                  kiln::InvalidRequestError);
  CHECK_THROWS_AS(kiln::io::write_safetensors(path, {{"c", torch::ones({2}, torch::kComplexFloat)}}), kiln::InvalidRequestError);
  CHECK(torch::equal(SafetensorsFile::open(path)->tensor("a"), torch::ones({4})));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  CHECK(files == 1);  // no temporary left behind
}

TEST_CASE("hostile safetensors headers give an error naming the problem") {
  ScratchDir dir;
  const auto p = dir / "bad.safetensors";
  struct Case {
    const char* what;
    std::string header;
    std::size_t data;
    std::uint64_t declared;
    const char* expect;
  };
  const Case cases[] = {
      {"absurd header length", "{}", 0, 1ull << 40, "header length 1099511627776 is absurd"},
      {"header beyond the file", "{}", 0, 4096, "goes beyond the end of the file"},
      {"invalid JSON", "{\"a\": [", 0, 0, "header is not valid JSON"},
      {"not an object", "[1, 2]", 0, 0, "header is not a JSON object"},
      {"unknown dtype", R"({"a":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[0,2]}})", 2, 0,
       "tensor \"a\": unknown dtype \"F8_E5M2\""},
      {"missing dtype", R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8, 0, "tensor \"a\": missing \"dtype\""},
      {"negative dimension", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, 0,
       "has a dimension that is not a non-negative integer"},
      {"offsets out of range", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, 0,
       "go beyond the data section (8 bytes"},
      {"reversed offsets", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8, 0,
       "are not an increasing pair"},
      {"byte size vs shape", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, 0,
       "holds 8 bytes but shape [3] x F32 needs 12"},
      {"overflowing shape", R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", 8, 0,
       "absurdly large"},
      {"overlap", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, 0, "overlap in the data section"},
      {"gap", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
       12, 0, "gap of 4 bytes before tensor \"b\""},
      {"trailing bytes", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 12, 0, "8 bytes after the last tensor"},
      {"duplicate names", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       8, 0, "tensor name \"a\" appears twice"},
      {"bad metadata", R"({"__metadata__":{"k":1}})", 0, 0, "__metadata__ value of \"k\" is not a string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    write_raw(p, c.header, c.data, c.declared);
    const std::string msg = open_error(p);
    CHECK_MESSAGE(msg.find(c.expect) != std::string::npos, msg);
  }
  // Too small to hold the length.
  kiln::test::write_text(p, "abc");
  CHECK(open_error(p).find("too small to be safetensors (3 bytes)") != std::string::npos);
}

TEST_CASE("a real file truncated anywhere is refused, never read out of bounds") {
  ScratchDir dir;
  const fs::path real = kiln::test::data_dir() / "golden/pipeline/tiny_sd1/vae/diffusion_pytorch_model.safetensors";
  const std::string bytes = kiln::test::read_text(real);
  const auto whole = SafetensorsFile::open(real);
  REQUIRE(whole->index().size() > 10);
  const auto cut = dir / "cut.safetensors";
  std::vector<std::size_t> points;
  for (std::size_t n = 0; n < 200; ++n) points.push_back(n);  // inside the length and header
  for (std::size_t n = 200; n < bytes.size(); n += 4099) points.push_back(n);
  for (std::size_t n = bytes.size() - 16; n < bytes.size(); ++n) points.push_back(n);
  for (std::size_t n : points) {
    CAPTURE(n);
    kiln::test::write_text(cut, bytes.substr(0, n));
    CHECK_THROWS_AS(SafetensorsFile::open(cut), kiln::FormatError);
    CHECK_THROWS_AS(kiln::io::read_safetensors_header(cut), kiln::FormatError);
  }
}

TEST_CASE("header-only reading agrees with the mapped reader") {
  const fs::path real = kiln::test::data_dir() / "golden/pipeline/tiny_sd1/unet/diffusion_pytorch_model.safetensors";
  const auto header = kiln::io::read_safetensors_header(real);
  const auto file = SafetensorsFile::open(real);
  REQUIRE(header.index.size() == file->index().size());
  for (std::size_t i = 0; i < header.index.size(); ++i) {
    CHECK(header.index.entries()[i].name == file->index().entries()[i].name);
    CHECK(header.index.entries()[i].offset == file->index().entries()[i].offset);
  }
  const auto* conv = file->index().find("conv_in.weight");
  REQUIRE(conv != nullptr);
  CHECK(conv->shape_string() == "[32, 4, 3, 3]");
}

TEST_CASE("open_weight_file recognises content, not extensions") {
  ScratchDir dir;
  const auto st = dir / "weights.bin";
  kiln::io::write_safetensors(st, {{"x", torch::ones({2})}});
  CHECK(kiln::io::open_weight_file(st)->format() == kiln::io::WeightFormat::Safetensors);
  // A header whose length ends in byte 0x80 (also the first byte of a bare pickle) is still
  // safetensors: grow the metadata until the length's low byte is 0x80.
  const auto odd = dir / "odd.bin";
  for (std::size_t pad = 0; pad < 256; ++pad) {
    kiln::io::write_safetensors(odd, {{"x", torch::ones({2})}}, {{"pad", std::string(pad, 'p')}});
    if ((kiln::io::read_safetensors_header(odd).data_start - 8) % 256 == 0x80) break;
  }
  REQUIRE((kiln::io::read_safetensors_header(odd).data_start - 8) % 256 == 0x80);
  CHECK(kiln::io::open_weight_file(odd)->format() == kiln::io::WeightFormat::Safetensors);
  const auto junk = dir / "junk.ckpt";
  kiln::test::write_text(junk, "hello world, not weights");
  CHECK_THROWS_AS(kiln::io::open_weight_file(junk), kiln::FormatError);
  CHECK_THROWS_AS(kiln::io::open_weight_file(dir / "missing.safetensors"), kiln::FileError);
  CHECK(kiln::io::is_weight_file_name("a/B.SafeTensors"));
  CHECK(kiln::io::is_weight_file_name("model.ckpt"));
  CHECK_FALSE(kiln::io::is_weight_file_name("model.yaml"));
}

TEST_CASE("a header number out of range is a format error, not a crash (found by fuzz_safetensors_header)") {
  const auto path = kiln::test::data_dir() / "fuzz_regressions/safetensors_number_overflow.safetensors";
  CHECK_THROWS_WITH_AS(kiln::io::read_safetensors_header(path), doctest::Contains("out of range"), kiln::FormatError);
  CHECK_THROWS_AS(kiln::io::SafetensorsFile::open(path), kiln::FormatError);
}

TEST_CASE("an empty tensor whose other dimensions multiply past 2^63 is refused (fuzz_safetensors_header coverage)") {
  // U8 [2^32, 2^32 - 1, 0]: 0 bytes, but TensorEntry::numel() multiplied 2^32 x (2^32 - 1) in an
  // int64 before reaching the 0.
  const auto path = kiln::test::data_dir() / "fuzz_regressions/safetensors_u8_numel_overflow.safetensors";
  CHECK_THROWS_WITH_AS(kiln::io::read_safetensors_header(path), doctest::Contains("absurdly large"), kiln::FormatError);
  // A shape with a 0 whose other dimensions stay below 2^63 is still an empty tensor.
  ScratchDir dir;
  const auto p = dir / "empty.safetensors";
  write_raw(p, R"({"a":{"dtype":"U8","shape":[4294967296,0,4294967296],"data_offsets":[0,0]}})", 0, 0);
  const auto file = kiln::io::SafetensorsFile::open(p);
  CHECK(file->index().find("a")->numel() == 0);
  CHECK(file->tensor("a").numel() == 0);
}
