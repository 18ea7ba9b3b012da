// Reading torch.save checkpoints: the fixtures of tests/data/ckpt (made by make_fixtures.py,
// each with a .json of the expected index and values), archives rewritten by a small zip
// writer below (ZIP64 or plain, aligned or not), and hand-assembled hostile pickles.
//
// Hostile pickles: Kiln's answer is never to run anything. Unknown callables (os.system,
// builtins.eval, Lightning callbacks) become opaque values; inside a state dict they are
// skipped and named in warnings(); as the whole pickle they give a FormatError.

// ATen before doctest: Debian's c10 pulls in glog, whose CHECK macro must be the one doctest
// redefines, not the other way round (the torch PCH gives this order too).
#include <ATen/ATen.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "base/error.h"
#include "io/pickle.h"
#include "io/torch_checkpoint.h"
#include "io/zip_reader.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::io::TorchCheckpointFile;
using json = nlohmann::ordered_json;

namespace {

fs::path fixture(const std::string& name) { return kiln::test::data_dir() / "ckpt" / name; }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

// The message of the kiln::Error `f` throws, or "<no error>".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string open_error(const fs::path& path) {
  return error_of([&] { TorchCheckpointFile::open(path); });
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string all_warnings(const kiln::io::WeightFile& file) {
  std::string s;
  for (const auto& w : file.warnings()) s += w + "\n";
  return s;
}

// Checks index entries and tensor values against a fixture's .json. Offsets are compared only
// for the file the json was made from (rewritten archives place data elsewhere).
void check_against_json(const TorchCheckpointFile& file, const json& expected, bool check_offsets) {
  const auto& tensors = expected.at("tensors");
  REQUIRE(file.index().size() == tensors.size());
  std::size_t i = 0;
  for (const auto& item : tensors.items()) {
    const std::string name = item.key();
    const json& t = item.value();
    CAPTURE(name);
    const auto& entry = file.index().entries()[i++];
    CHECK(entry.name == name);  // dict order
    CHECK(std::string(kiln::to_string(entry.dtype)) == t.at("dtype").get<std::string>());
    CHECK(entry.shape == t.at("shape").get<std::vector<std::int64_t>>());
    const auto strides =
        t.at("strides").is_null() ? std::vector<std::int64_t>{} : t.at("strides").get<std::vector<std::int64_t>>();
    CHECK(entry.strides == strides);
    CHECK(entry.nbytes == t.at("nbytes").get<std::uint64_t>());
    CHECK(entry.file == file.path());
    if (check_offsets) CHECK(entry.offset == t.at("offset").get<std::uint64_t>());

    const at::Tensor x = file.tensor(name);
    CHECK(x.device().is_cpu());
    CHECK((x.scalar_type() == kiln::to_scalar_type(entry.dtype)));
    CHECK(x.sizes().vec() == entry.shape);
    if (!strides.empty()) CHECK(x.strides().vec() == strides);
    const auto values = t.at("values").get<std::vector<double>>();
    const at::Tensor flat = x.to(at::kDouble).contiguous().flatten();
    REQUIRE(flat.numel() == static_cast<std::int64_t>(values.size()));
    const double* got = flat.data_ptr<double>();
    for (std::size_t k = 0; k < values.size(); ++k) {
      CAPTURE(k);
      CHECK(got[k] == values[k]);
    }
  }
}

json load_json(const std::string& name) { return json::parse(read_bytes(fixture(name))); }

// ---- a small zip writer for rewritten and hostile archives ----

std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xffffffff;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

struct ZipItem {
  std::string name;
  std::string data;
  std::uint16_t method = 0;
};

struct ZipOptions {
  bool zip64 = false;  // ZIP64 EOCD + locator, and 0xffffffff fields with ZIP64 extras
  bool align = true;   // pad local headers so data starts at multiples of 64, as torch.save
};

std::string make_zip(const std::vector<ZipItem>& items, ZipOptions options = {}) {
  std::string out, central;
  for (const auto& item : items) {
    const std::uint64_t local = out.size();
    std::string extra;
    if (options.align) {
      std::uint64_t pad = (64 - (local + 30 + item.name.size()) % 64) % 64;
      if (pad < 4) pad += 64;
      extra = "FB";
      put(extra, pad - 4, 2);
      extra.append(pad - 4, 'Z');
    }
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, 0, 2);
    put(out, item.method, 2);
    put(out, 0, 4);
    put(out, crc32(item.data), 4);
    put(out, item.data.size(), 4);
    put(out, item.data.size(), 4);
    put(out, item.name.size(), 2);
    put(out, extra.size(), 2);
    out += item.name + extra + item.data;

    std::string zip64_extra;
    if (options.zip64) {
      put(zip64_extra, 0x0001, 2);
      put(zip64_extra, 24, 2);
      put(zip64_extra, item.data.size(), 8);
      put(zip64_extra, item.data.size(), 8);
      put(zip64_extra, local, 8);
    }
    const std::uint64_t all_ones = 0xffffffff;
    put(central, 0x02014b50, 4);
    put(central, 45, 2);
    put(central, 45, 2);
    put(central, 0, 2);
    put(central, item.method, 2);
    put(central, 0, 4);
    put(central, crc32(item.data), 4);
    put(central, options.zip64 ? all_ones : item.data.size(), 4);
    put(central, options.zip64 ? all_ones : item.data.size(), 4);
    put(central, item.name.size(), 2);
    put(central, zip64_extra.size(), 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 4);
    put(central, options.zip64 ? all_ones : local, 4);
    central += item.name + zip64_extra;
  }
  const std::uint64_t cd_offset = out.size();
  out += central;
  if (options.zip64) {
    const std::uint64_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, items.size(), 8);
    put(out, items.size(), 8);
    put(out, central.size(), 8);
    put(out, cd_offset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, options.zip64 ? 0xffff : items.size(), 2);
  put(out, options.zip64 ? 0xffff : items.size(), 2);
  put(out, options.zip64 ? 0xffffffff : central.size(), 4);
  put(out, options.zip64 ? 0xffffffff : cd_offset, 4);
  put(out, 0, 2);
  return out;
}

std::vector<kiln::io::ZipEntry> zip_archive_entries(const std::string& bytes) {
  return kiln::io::ZipArchive::open(std::as_bytes(std::span(bytes.data(), bytes.size())), "mem").entries();
}

// The entries of an archive on disk, read back through ZipArchive.
std::vector<ZipItem> zip_items(const fs::path& path) {
  const std::string bytes = read_bytes(path);
  const auto zip = kiln::io::ZipArchive::open(std::as_bytes(std::span(bytes.data(), bytes.size())), path);
  std::vector<ZipItem> items;
  for (const auto& e : zip.entries()) {
    const auto data = zip.data(e);
    items.push_back({e.name, std::string(reinterpret_cast<const char*>(data.data()), data.size())});
  }
  return items;
}

ZipItem* item_named(std::vector<ZipItem>& items, const std::string& name) {
  for (auto& item : items)
    if (item.name == name) return &item;
  FAIL("no entry " << name);
  return nullptr;
}

// ---- hand-assembled pickles (opcodes as torch.save writes them) ----

namespace pk {

std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string str(const std::string& s) {
  std::string out = "X";
  put(out, s.size(), 4);
  return out + s;
}
std::string int_op(std::int64_t v) {
  std::string out;
  if (v >= INT32_MIN && v <= INT32_MAX) {
    out = "J";
    put(out, static_cast<std::uint64_t>(v), 4);
  } else {
    out = "\x8a\x08";
    put(out, static_cast<std::uint64_t>(v), 8);
  }
  return out;
}
std::string ints(const std::vector<std::int64_t>& v) {
  std::string out = "(";
  for (auto x : v) out += int_op(x);
  return out + "t";
}
std::string storage(const std::string& key, std::int64_t numel, const std::string& cls = "FloatStorage") {
  return "(" + str("storage") + global("torch", cls) + str(key) + str("cpu") + int_op(numel) + "tQ";
}
std::string rebuild(const std::string& storage_ops, std::int64_t offset, const std::vector<std::int64_t>& size,
                    const std::vector<std::int64_t>& stride) {
  return global("torch._utils", "_rebuild_tensor_v2") + "(" + storage_ops + int_op(offset) + ints(size) + ints(stride) +
         "\x89" + global("collections", "OrderedDict") + ")R" + "tR";
}
std::string state_dict(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "\x80\x02}(";
  for (const auto& [key, value] : entries) out += str(key) + value;
  return out + "u.";
}

}  // namespace pk

// A checkpoint folder "x" with one F32 storage "0" of {1, 2, 3, 4} and the given data.pkl.
fs::path write_checkpoint(const kiln::test::ScratchDir& dir, const std::string& pkl, const std::string& name = "x.pt") {
  std::string storage;
  for (float f : {1.0f, 2.0f, 3.0f, 4.0f}) storage.append(reinterpret_cast<const char*>(&f), 4);
  fs::path path = dir / name;
  write_bytes(path, make_zip({{"x/data.pkl", pkl}, {"x/data/0", storage}, {"x/version", "3\n"}}));
  return path;
}

std::string rebuild_x(std::int64_t offset, const std::vector<std::int64_t>& size,
                      const std::vector<std::int64_t>& stride, std::int64_t numel = 4) {
  return pk::state_dict({{"w", pk::rebuild(pk::storage("0", numel), offset, size, stride)}});
}

}  // namespace

TEST_CASE("dtypes.pt: every dtype, 0-d, empty, transposed, expanded, shared storage, parameter") {
  const auto file = TorchCheckpointFile::open(fixture("dtypes.pt"));
  CHECK(file->format() == kiln::io::WeightFormat::TorchZip);
  CHECK(file->metadata().empty());
  CHECK(file->warnings().empty());
  check_against_json(*file, load_json("dtypes.json"), true);

  // Zero-copy: aligned tensors are views of the one mapping, so views of one storage share it.
  const at::Tensor base = file->tensor("shared_base");
  const at::Tensor view = file->tensor("shared_view");
  CHECK(view.data_ptr<float>() == base.data_ptr<float>() + 4);
  CHECK((file->index().find("transposed")->strides == std::vector<std::int64_t>{1, 3}));
  CHECK((file->index().find("expanded")->strides == std::vector<std::int64_t>{0, 1}));
  CHECK(file->index().find("scalar")->shape.empty());
  CHECK(file->tensor("scalar").dim() == 0);
  CHECK_THROWS_AS(file->tensor("nope"), kiln::FormatError);

  // A view keeps the mapping alive after the file object is gone.
  at::Tensor kept;
  {
    const auto other = TorchCheckpointFile::open(fixture("dtypes.pt"));
    kept = other->tensor("f32");
  }
  CHECK(at::equal(kept, at::arange(12, at::kFloat).view({3, 4}) * 0.5 - 2));

  // Dispatch by content goes to this reader.
  CHECK(kiln::io::open_weight_file(fixture("dtypes.pt"))->format() == kiln::io::WeightFormat::TorchZip);
}

TEST_CASE("lightning.ckpt: the nested state_dict; callbacks and ints are reported, not read") {
  const auto file = TorchCheckpointFile::open(fixture("lightning.ckpt"));
  const json expected = load_json("lightning.json");
  check_against_json(*file, expected, true);
  const std::string warnings = all_warnings(*file);
  for (const auto& name : expected.at("skipped")) CHECK(contains(warnings, name.get<std::string>()));
  for (const auto& name : expected.at("unknown")) CHECK(contains(warnings, name.get<std::string>()));
  CHECK(contains(
      warnings,
      "skipped objects the reader does not know: pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint"));
  CHECK(contains(warnings, "skipped 1 values of the \"state_dict\" that are not tensors: some_int (int 3)"));
  CHECK_FALSE(file->index().contains("best_model_score"));  // a tensor of the callback, outside the state dict
}

TEST_CASE("module.bin: nn.Module state dict (OrderedDict with _metadata via BUILD)") {
  const auto file = TorchCheckpointFile::open(fixture("module.bin"));
  check_against_json(*file, load_json("module.json"), true);
  CHECK(file->warnings().empty());
  CHECK(file->index().find("1.num_batches_tracked")->dtype == kiln::DType::I64);
}

TEST_CASE("malicious.pt: os.system and builtins.eval are reported, never run") {
  // The payloads would create these files if anything executed them.
  const fs::path markers[] = {"/tmp/kiln_pwned_system", "/tmp/kiln_pwned_eval"};
  for (const auto& m : markers) fs::remove(m);
  const auto file = TorchCheckpointFile::open(fixture("malicious.pt"));
  const json expected = load_json("malicious.json");
  // The storage is not 4-byte aligned in this zip (written by Python's zipfile): a copy.
  CHECK(file->index().find("weight")->offset % 4 != 0);
  check_against_json(*file, expected, true);
  const std::string warnings = all_warnings(*file);
  CHECK(contains(warnings, "skipped objects the reader does not know: os.system, builtins.eval"));
  CHECK(contains(warnings, "payload (object os.system)"));
  CHECK(contains(warnings, "payload2 (object builtins.eval)"));
  for (const auto& m : markers) CHECK_FALSE(fs::exists(m));

  const std::string root = open_error(fixture("malicious_root.pt"));
  CHECK(contains(root,
                 "malicious_root/data.pkl holds object os.system, not a state dict of tensors; nothing in it was run"));
  for (const auto& m : markers) CHECK_FALSE(fs::exists(m));
}

TEST_CASE("legacy and non-checkpoint files") {
  const std::string legacy = open_error(fixture("legacy.pt"));
  CHECK(contains(legacy,
                 "legacy.pt: legacy (pre-1.6) PyTorch format is not supported; re-save it with torch.save in a current "
                 "PyTorch, or convert it to safetensors"));

  kiln::test::ScratchDir dir;
  write_bytes(dir / "text.ckpt", "hello, I am not a checkpoint");
  CHECK(contains(open_error(dir / "text.ckpt"), "not a PyTorch zip checkpoint"));
  write_bytes(dir / "empty.ckpt", "");
  CHECK(contains(open_error(dir / "empty.ckpt"), "not a PyTorch zip checkpoint"));
  write_bytes(dir / "other.zip", make_zip({{"docs/readme.txt", "hi"}}));
  CHECK(
      contains(open_error(dir / "other.zip"), "not a PyTorch zip checkpoint: the zip has no <folder>/data.pkl entry"));
  CHECK(contains(open_error(dir / "missing.ckpt"), "missing.ckpt"));
}

TEST_CASE("zip: ZIP64 and plain archives from other writers, aligned or not") {
  const json expected = load_json("dtypes.json");
  const auto items = zip_items(fixture("dtypes.pt"));
  kiln::test::ScratchDir dir;
  for (bool zip64 : {false, true}) {
    for (bool align : {false, true}) {
      CAPTURE(zip64);
      CAPTURE(align);
      write_bytes(dir / "dtypes.pt", make_zip(items, {zip64, align}));
      const auto file = TorchCheckpointFile::open(dir / "dtypes.pt");
      check_against_json(*file, expected, false);
      CHECK((file->index().find("f32")->offset % 64 == 0) == align);
    }
  }

  // ZipArchive itself: torch.save aligns every entry's data to 64 bytes.
  const std::string bytes = read_bytes(fixture("dtypes.pt"));
  const auto zip = kiln::io::ZipArchive::open(std::as_bytes(std::span(bytes.data(), bytes.size())), "dtypes.pt");
  REQUIRE(zip.find("dtypes/data.pkl"));
  CHECK(zip.find("dtypes/version"));
  CHECK_FALSE(zip.find("dtypes/nothing"));
  for (const auto& e : zip.entries()) CHECK(e.data_offset % 64 == 0);
}

TEST_CASE("zip: truncated at many points gives an error, never wrong data") {
  const std::string bytes = read_bytes(fixture("dtypes.pt"));
  const auto original = TorchCheckpointFile::open(fixture("dtypes.pt"));
  std::vector<std::size_t> cuts;
  for (std::size_t n = 0; n < bytes.size(); n += 97) cuts.push_back(n);
  for (std::size_t n = 0; n < 64; ++n) cuts.push_back(n), cuts.push_back(bytes.size() - 1 - n);
  kiln::test::ScratchDir dir;
  int opened = 0;
  for (std::size_t n : cuts) {
    CAPTURE(n);
    write_bytes(dir / "cut.pt", bytes.substr(0, n));
    try {
      const auto file = TorchCheckpointFile::open(dir / "cut.pt");
      ++opened;  // acceptable only with every tensor intact
      REQUIRE(file->index().size() == original->index().size());
      for (const auto& e : original->index().entries())
        CHECK(at::equal(file->tensor(e.name), original->tensor(e.name)));
    } catch (const kiln::Error&) {
    }
  }
  CHECK(opened == 0);  // the central directory is at the end: every cut loses it
  write_bytes(dir / "cut.pt", bytes.substr(0, bytes.size() - 1));
  CHECK(contains(open_error(dir / "cut.pt"), "zip: no end of central directory record"));
}

TEST_CASE("zip: corrupted directory fields pointing outside the file") {
  const std::string bytes = read_bytes(fixture("dtypes.pt"));
  // torch.save writes: entries, central directory, ZIP64 EOCD record, locator, EOCD.
  const std::size_t eocd = bytes.size() - 22;
  const std::size_t locator = eocd - 20;
  const std::size_t record = locator - 56;
  REQUIRE(bytes.substr(record, 4) == std::string("PK\x06\x06", 4));
  std::uint64_t cd_offset = 0;
  std::memcpy(&cd_offset, bytes.data() + record + 48, 8);
  kiln::test::ScratchDir dir;
  auto patched = [&](std::size_t at, std::uint64_t value, int width) {
    std::string b = bytes;
    for (int i = 0; i < width; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
    write_bytes(dir / "bad.pt", b);
    return open_error(dir / "bad.pt");
  };
  CHECK(contains(patched(record + 48, bytes.size() + 100, 8), "zip: central directory (offset"));
  CHECK(contains(patched(record + 40, UINT64_MAX, 8), "goes beyond its end record"));
  CHECK(contains(patched(record + 32, 1'000'000, 8), "central directory claims 1000000 entries"));
  CHECK(contains(patched(locator + 8, UINT64_MAX - 5, 8), "ZIP64 locator points to offset"));
  CHECK(contains(patched(locator + 8, 0, 8), "no ZIP64 end of central directory record at offset 0"));
  CHECK(contains(patched(cd_offset, 0x12345678, 4),
                 "central directory entry 0 at offset " + std::to_string(cd_offset) + " has a bad signature"));
  CHECK(contains(patched(cd_offset + 42, 0xfffffff0, 4), "local header offset"));
  const std::uint64_t second = zip_archive_entries(bytes)[1].local_header_offset;
  CHECK(contains(patched(cd_offset + 42, second, 4), "entry dtypes/data.pkl: local header at offset " +
                                                         std::to_string(second) + " names a different entry"));
  CHECK(contains(patched(cd_offset + 20, 0xfffffff0, 4), "runs past the start of the central directory"));
  CHECK(contains(patched(cd_offset + 28, 0xffff, 2), "runs past the directory's end"));
}

TEST_CASE("nested dicts (A1111's textual inversion): dotted names only when asked for") {
  kiln::test::ScratchDir dir;
  const std::string t = pk::rebuild(pk::storage("0", 4), 0, {2, 2}, {2, 1});
  const std::string pkl = "\x80\x02}(" + pk::str("string_to_token") + "}(" + pk::str("*") + pk::int_op(265) + "u" +
                          pk::str("string_to_param") + "}(" + pk::str("*") + t + "u" + pk::str("name") + pk::str("x") +
                          "u.";
  const fs::path path = write_checkpoint(dir, pkl);
  const auto flat = TorchCheckpointFile::open(path);
  CHECK(flat->index().empty());
  REQUIRE(!flat->warnings().empty());
  CHECK(contains(flat->warnings().back(), "string_to_param (dict of 1 entries)"));
  kiln::io::TorchCheckpointOptions options;
  options.nested_dicts = true;
  const auto nested = TorchCheckpointFile::open(path, options);
  REQUIRE(nested->index().size() == 1);
  CHECK(nested->index().entries()[0].name == "string_to_param.*");
  CHECK(torch::equal(nested->tensor("string_to_param.*"), torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2})));
}

TEST_CASE("zip: random corruptions of headers and directory never crash") {
  const std::string bytes = read_bytes(fixture("dtypes.pt"));
  std::vector<std::size_t> header_bytes;  // local headers, central directory and end records
  for (const auto& e : zip_archive_entries(bytes))
    for (std::uint64_t i = e.local_header_offset; i < e.data_offset; ++i) header_bytes.push_back(i);
  std::uint64_t cd_offset = 0;
  std::memcpy(&cd_offset, bytes.data() + bytes.size() - 22 - 20 - 56 + 48, 8);
  for (std::size_t i = cd_offset; i < bytes.size(); ++i) header_bytes.push_back(i);
  kiln::test::ScratchDir dir;
  std::mt19937 rng(99);
  for (int trial = 0; trial < 1000; ++trial) {
    std::string b = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) b[header_bytes[rng() % header_bytes.size()]] = static_cast<char>(rng() & 0xff);
    write_bytes(dir / "bad.pt", b);
    try {
      const auto file = TorchCheckpointFile::open(dir / "bad.pt");
      for (const auto& e : file->index().entries()) (void)file->tensor(e.name).sum();
    } catch (const kiln::Error&) {
    }
  }
}

TEST_CASE("zip: compressed entries and short storages") {
  kiln::test::ScratchDir dir;
  auto items = zip_items(fixture("dtypes.pt"));
  item_named(items, "dtypes/data.pkl")->method = 8;
  write_bytes(dir / "deflated.pt", make_zip(items));
  CHECK(contains(
      open_error(dir / "deflated.pt"),
      "entry dtypes/data.pkl is compressed (method 8); Kiln reads only stored entries as torch.save writes them"));

  items = zip_items(fixture("dtypes.pt"));
  ZipItem* f32 = item_named(items, "dtypes/data/0");  // the storage of "f32", 12 floats
  f32->data.resize(44);
  write_bytes(dir / "short.pt", make_zip(items));
  CHECK(contains(open_error(dir / "short.pt"),
                 "tensor \"f32\": storage entry dtypes/data/0 holds 44 bytes but its 12 F32 elements need 48"));
}

TEST_CASE("tensor views are checked against their storage") {
  kiln::test::ScratchDir dir;
  auto error = [&](const std::string& pkl) { return open_error(write_checkpoint(dir, pkl)); };

  const auto ok = TorchCheckpointFile::open(write_checkpoint(dir, rebuild_x(1, {3}, {1})));
  CHECK(ok->index().find("w")->offset % 64 == 4);
  CHECK(at::equal(ok->tensor("w"), at::tensor({2.0f, 3.0f, 4.0f})));
  const auto strided = TorchCheckpointFile::open(write_checkpoint(dir, rebuild_x(0, {2, 2}, {1, 2})));
  CHECK(at::equal(strided->tensor("w"), at::tensor({1.0f, 3.0f, 2.0f, 4.0f}).view({2, 2})));

  CHECK(contains(error(rebuild_x(0, {5}, {1})),
                 "tensor \"w\": view (offset 0, size [5]) reaches beyond its storage of 4 elements in x/data/0"));
  CHECK(contains(error(rebuild_x(0, {2, 2}, {3, 1})), "reaches beyond its storage of 4 elements"));
  CHECK(contains(error(rebuild_x(5, {0}, {1})), "starts beyond its storage"));
  CHECK(contains(error(rebuild_x(-1, {2}, {1})), "tensor \"w\": storage offset is int -1, not a non-negative int"));
  CHECK(contains(error(rebuild_x(0, {-1}, {1})), "size holds int -1, not a non-negative int"));
  CHECK(contains(error(rebuild_x(0, {INT32_MAX, INT32_MAX, INT32_MAX}, {1, 1, 1})), "has more than 2^63 elements"));
  CHECK(contains(error(rebuild_x(0, {3}, {INT64_MAX})), "reaches beyond its storage"));  // (3-1) x stride wraps 64 bits
  CHECK(contains(error(rebuild_x(0, {2, 2}, {1})), "size [2, 2] has 2 dimensions but stride has 1"));
  CHECK(contains(error(rebuild_x(0, {4}, {1}, 5)),
                 "storage entry x/data/0 holds 16 bytes but its 5 F32 elements need 20"));
  CHECK(contains(error(rebuild_x(0, {4}, {1}, INT64_MAX)), "elements need more than 2^64"));
  CHECK(contains(error(pk::state_dict({{"w", pk::rebuild(pk::storage("7", 4), 0, {4}, {1})}})),
                 "storage entry x/data/7 is missing from the archive"));
  CHECK(contains(error(pk::state_dict({{"w", pk::rebuild(pk::storage("0", 2, "ComplexFloatStorage"), 0, {2}, {1})}})),
                 "storage type object torch.ComplexFloatStorage is not supported"));
  CHECK(contains(error(pk::state_dict({{"w", pk::rebuild(pk::int_op(3), 0, {2}, {1})}})),
                 "storage is int 3, not a persistent id"));
}

TEST_CASE("state dict forms: parameters, subclasses, duplicates, non-string keys") {
  kiln::test::ScratchDir dir;
  const std::string t = pk::rebuild(pk::storage("0", 4), 0, {4}, {1});
  const std::string param = pk::global("torch._utils", "_rebuild_parameter") + "(" + t + "\x88" +
                            pk::global("collections", "OrderedDict") + ")Rt" + "R";
  const std::string subclass = pk::global("torch._tensor", "_rebuild_from_type_v2") + "(" +
                               pk::global("torch._utils", "_rebuild_tensor_v2") + pk::global("torch", "Tensor") + "(" +
                               pk::storage("0", 4) + pk::int_op(2) + pk::ints({2}) + pk::ints({1}) + "\x89" +
                               pk::global("collections", "OrderedDict") + ")R" + "t}t" + "R";
  const std::string pkl = "\x80\x02}(" + pk::str("p") + param + pk::str("s") + subclass + pk::str("p") +
                          pk::rebuild(pk::storage("0", 4), 3, {1}, {1}) + pk::int_op(7) + t + "u.";
  const auto file = TorchCheckpointFile::open(write_checkpoint(dir, pkl));
  REQUIRE(file->index().size() == 2);
  CHECK(file->index().entries()[0].name == "p");  // first place, last value, as a Python dict
  CHECK(at::equal(file->tensor("p"), at::tensor({4.0f})));
  CHECK(at::equal(file->tensor("s"), at::tensor({3.0f, 4.0f})));
  CHECK(contains(all_warnings(*file), "a non-string key (int 7)"));
}

TEST_CASE("pickle: malformed and hostile opcode streams fail cleanly") {
  kiln::test::ScratchDir dir;
  auto error = [&](const std::string& pkl) { return open_error(write_checkpoint(dir, pkl)); };
  using namespace std::string_literals;
  CHECK(contains(error("\x80\x02I1\n."), "x/data.pkl: opcode 0x49 ('I') at offset 2 is not supported"));
  CHECK(contains(error("\x80\x02}"), "x/data.pkl: ends without a STOP opcode"));
  CHECK(contains(error("\x80\x02h\x05."), "opcode 0x68 ('h') at offset 2: memo key 5 was never stored"));
  CHECK(contains(error("\x80\x02s."), "needs a value but the stack is empty"));
  CHECK(contains(error("\x80\x02X\xff\xff\xff\x7f"), "needs 2147483647 argument bytes but only 0 remain"));
  CHECK(contains(error("\x80\x06}."), "pickle protocol 6 is newer than Kiln knows"));
  CHECK(contains(error("\x80\x02" + pk::global("os", "system") + "."), "holds object os.system"));
  CHECK(contains(error("\x80\x02\x8a\x0a" + std::string(10, '\x7f') + "."), "holds big int, not a state dict"));
  CHECK(contains(error("\x80\x02"
                       "1."),
                 "no MARK to pop to"));
  CHECK(contains(error("\x80\x02"
                       "cos"),
                 "argument line has no newline"));
  CHECK(contains(error("\x80\x02K\x01)R."), "cannot call a value of type int"));
  CHECK(contains(error("\x80\x02)K\x01"
                       "a."),
                 "cannot append to a value of type tuple"));

  // 100000 marks, or lists nested 100000 deep: no recursion anywhere, so no stack overflow.
  const auto marks = TorchCheckpointFile::open(write_checkpoint(dir, "\x80\x02" + std::string(100000, '(') + "}."));
  CHECK(contains(all_warnings(*marks), "holds no tensors"));
  CHECK(contains(error("\x80\x02" + std::string(100000, ']') + std::string(99999, 'a') + "."),
                 "holds list of 1 items, not a state dict"));
  std::string nested = "\x80\x02}";
  for (int i = 0; i < 100000; ++i) nested += "X\x01\0\0\0k}"s;
  nested += std::string(100000, 's') + ".";
  const auto deep = TorchCheckpointFile::open(write_checkpoint(dir, nested));
  CHECK(deep->index().empty());
  // A dict that contains itself.
  const auto cycle = TorchCheckpointFile::open(write_checkpoint(dir, "\x80\x02}q\x00X\x01\0\0\0ah\x00s."s));
  CHECK(contains(all_warnings(*cycle), "a (dict of 1 entries)"));
  // The same big list passed to set() again and again would copy quadratically.
  std::string copies =
      "\x80\x02}(" + pk::str("k") + "](" + std::string(1000, 'N') + "eq\x01" + pk::global("builtins", "set") + "q\x02";
  for (int i = 0; i < 1000; ++i) copies += "h\x02h\x01\x85R0";
  CHECK(contains(error(copies + "Nu."), "copies more items than the pickle has bytes"));
}

TEST_CASE("pickle: values of the VM") {
  auto root = [](const std::string& bytes) {
    static std::deque<kiln::io::pickle::Pickle> keep;
    keep.push_back(kiln::io::pickle::unpickle(std::as_bytes(std::span(bytes.data(), bytes.size())), {}, "t"));
    return &keep.back().root();
  };
  using kiln::io::pickle::Kind;
  using namespace std::string_literals;
  CHECK(root("\x80\x02\x8a\x02\xff\x7f.")->integer == 32767);
  CHECK(root("\x80\x02\x8a\x01\xff.")->integer == -1);
  CHECK(root("\x80\x02\x8a\x09" + std::string(9, '\xff') + ".")->integer == -1);
  CHECK(root("\x80\x02\x8a\x00."s)->integer == 0);
  CHECK(root("\x80\x02\x8a\x09" + std::string(8, '\0') + "\x01.")->kind == Kind::BigInt);
  CHECK(root("\x80\x02J\xfe\xff\xff\xff.")->integer == -2);
  CHECK(root("\x80\x02M\xff\xff.")->integer == 65535);
  CHECK(root("\x80\x02G\x3f\xf8\0\0\0\0\0\0."s)->real == 1.5);
  CHECK(root("\x80\x04\x95\x05\0\0\0\0\0\0\0\x8c\x02hi\x94."s)->text == "hi");
  const auto* set = root("\x80\x04\x8f(K\x01K\x02\x90.");
  CHECK((set->kind == Kind::Set && set->items.size() == 2));
  const auto* stack_global = root(
      "\x80\x04\x8c\x0b"
      "collections\x8c\x0bOrderedDict\x93)R.");
  CHECK(stack_global->kind == Kind::Dict);
  const auto* tuple = root("\x80\x02K\x01K\x02K\x03\x87.");
  CHECK((tuple->kind == Kind::Tuple && tuple->items.size() == 3 && tuple->items[2]->integer == 3));
  CHECK(root("\x80\x02U\x03"
             "abc.")
            ->text == "abc");
  CHECK(root("\x80\x02"
             "C\x02"
             "ab.")
            ->kind == Kind::Bytes);
}

TEST_CASE("pickle: every prefix and random corruptions of a real data.pkl") {
  auto items = zip_items(fixture("dtypes.pt"));
  const std::string pkl = item_named(items, "dtypes/data.pkl")->data;
  kiln::test::ScratchDir dir;
  auto try_open = [&](const std::string& data) {
    item_named(items, "dtypes/data.pkl")->data = data;
    write_bytes(dir / "dtypes.pt", make_zip(items));
    try {
      const auto file = TorchCheckpointFile::open(dir / "dtypes.pt");
      for (const auto& e : file->index().entries()) (void)file->tensor(e.name).sum();
      return true;
    } catch (const kiln::Error&) {
      return false;
    }
  };
  int opened = 0;
  for (std::size_t n = 0; n < pkl.size(); ++n) opened += try_open(pkl.substr(0, n));
  CHECK(opened == 0);

  std::mt19937 rng(1234);
  for (int trial = 0; trial < 1500; ++trial) {
    std::string data = pkl;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) data[rng() % data.size()] = static_cast<char>(rng() & 0xff);
    try_open(data);  // an error or a validated index: never a crash or an out-of-bounds read
  }
}
