#include "io/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include "base/error.h"
#include "io/atomic_file.h"

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace kiln::io {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::uint64_t read_u64_le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
  return v;
}

std::string quote_name(const std::string& name) { return "\"" + name + "\""; }

std::string known_dtypes() {
  std::string s;
  for (DType d : kAllDTypes) {
    if (!s.empty()) s += ", ";
    s += to_string(d);
  }
  return s;
}

// Unsigned integer of a JSON value, or nullopt when it is not one.
std::optional<std::uint64_t> as_u64(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  return std::nullopt;
}

TensorEntry parse_entry(const std::string& name, const json& v, std::uint64_t data_start, std::uint64_t data_size,
                        const fs::path& path) {
  auto fail = [&](const std::string& what) { throw FormatError("tensor " + quote_name(name) + ": " + what, path); };
  if (!v.is_object()) fail("header entry is not an object");
  auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) fail("missing \"dtype\"");
  const auto dtype = dtype_from_string(dt->get<std::string>());
  if (!dtype) fail("unknown dtype \"" + dt->get<std::string>() + "\" (Kiln reads " + known_dtypes() + ")");
  auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array()) fail("missing \"shape\"");
  auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2) fail("\"data_offsets\" is not a pair [begin, end]");

  TensorEntry e;
  e.name = name;
  e.dtype = *dtype;
  e.file = path;
  // numel x element size, refusing 2^63 bytes or more at every dimension, so every partial
  // product of the shape fits an int64 (TensorEntry::numel, torch) even when a later dimension
  // is 0 (a U8 [2^32, 2^32 - 1, 0] once overflowed numel(): fuzz_safetensors_header's coverage).
  constexpr std::uint64_t kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t bytes = element_size(*dtype);
  for (const json& d : *sh) {
    const auto dim = as_u64(d);
    if (!dim || *dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail("shape " + sh->dump() + " has a dimension that is not a non-negative integer");
    }
    if (*dim != 0 && bytes > kLimit / *dim) fail("shape " + sh->dump() + " is absurdly large");
    bytes *= *dim;
    e.shape.push_back(static_cast<std::int64_t>(*dim));
  }
  const auto begin = as_u64((*off)[0]);
  const auto end = as_u64((*off)[1]);
  if (!begin || !end || *begin > *end) fail("data_offsets " + off->dump() + " are not an increasing pair of non-negative integers");
  if (*end > data_size) {
    fail("data_offsets " + off->dump() + " go beyond the data section (" + std::to_string(data_size) +
         " bytes; the file may be truncated)");
  }
  if (*end - *begin != bytes) {
    fail("holds " + std::to_string(*end - *begin) + " bytes but shape " + sh->dump() + " x " +
         std::string(to_string(*dtype)) + " needs " + std::to_string(bytes));
  }
  e.offset = data_start + *begin;
  e.nbytes = bytes;
  return e;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> head, std::uint64_t file_size, const fs::path& path) {
  if (file_size < 8 || head.size() < 8) {
    throw FormatError("file is too small to be safetensors (" + std::to_string(file_size) + " bytes)", path);
  }
  const std::uint64_t n = read_u64_le(head.data());
  if (n > kMaxSafetensorsHeader) {
    throw FormatError("header length " + std::to_string(n) + " is absurd (safetensors headers are at most " +
                          std::to_string(kMaxSafetensorsHeader) + " bytes); not a safetensors file or corrupt",
                      path);
  }
  if (n > file_size - 8) {
    throw FormatError("header length " + std::to_string(n) + " goes beyond the end of the file (" + std::to_string(file_size) +
                          " bytes); the file is truncated or not safetensors",
                      path);
  }
  if (head.size() < 8 + n) throw FormatError("header could not be read whole", path);

  const char* text = reinterpret_cast<const char*>(head.data() + 8);
  // nlohmann keeps the last of duplicate keys silently: catch duplicates at the top level.
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key) {
      auto name = parsed.get<std::string>();
      if (!seen.insert(name).second && duplicate.empty()) duplicate = name;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, text + n, on_event);
  } catch (const json::parse_error& e) {
    throw FormatError("header is not valid JSON (byte " + std::to_string(e.byte) + " of " + std::to_string(n) + ")", path);
  } catch (const json::exception& e) {  // found by fuzz_safetensors_header: a number out of range (11174e410)
    throw FormatError(std::string("header holds a number out of range (") + e.what() + ")", path);
  }
  if (!header.is_object()) throw FormatError("header is not a JSON object", path);
  if (!duplicate.empty()) throw FormatError("tensor name " + quote_name(duplicate) + " appears twice in the header", path);

  SafetensorsHeader out;
  out.data_start = 8 + n;
  const std::uint64_t data_size = file_size - out.data_start;
  std::vector<TensorEntry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw FormatError("__metadata__ is not an object of strings", path);
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw FormatError("__metadata__ value of " + quote_name(m.key()) + " is not a string", path);
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(it.key(), *it, out.data_start, data_size, path));
  }

  // The spans must tile the data section exactly: no overlap, no gap, nothing after the end.
  std::vector<const TensorEntry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->nbytes < b->nbytes;
  });
  std::uint64_t expected = out.data_start;
  const TensorEntry* previous = nullptr;
  for (const TensorEntry* e : by_offset) {
    if (e->offset < expected) {
      throw FormatError("tensors " + quote_name(previous->name) + " and " + quote_name(e->name) + " overlap in the data section", path);
    }
    if (e->offset > expected) {
      throw FormatError("gap of " + std::to_string(e->offset - expected) + " bytes before tensor " + quote_name(e->name) +
                            " in the data section",
                        path);
    }
    expected = e->offset + e->nbytes;
    previous = e;
  }
  if (expected != file_size) {
    throw FormatError(std::to_string(file_size - expected) + " bytes after the last tensor: the data section does not match "
                          "the header",
                      path);
  }
  for (auto& e : entries) out.index.add(std::move(e));
  return out;
}

SafetensorsHeader read_safetensors_header(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileError("cannot open: " + system_error_text(errno), path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) throw FileError("cannot read the size: " + ec.message(), path);
  auto read_at = [&](std::byte* dst, std::uint64_t count, std::uint64_t at) {
    std::uint64_t done = 0;
    while (done < count) {
      const ssize_t r = ::pread(fd, dst + done, count - done, static_cast<off_t>(at + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw FileError("cannot read: " + system_error_text(errno), path);
      if (r == 0) break;
      done += static_cast<std::uint64_t>(r);
    }
    return done;
  };
  std::vector<std::byte> head(8);
  if (size < 8 || read_at(head.data(), 8, 0) != 8) {
    throw FormatError("file is too small to be safetensors (" + std::to_string(size) + " bytes)", path);
  }
  const std::uint64_t n = read_u64_le(head.data());
  if (n <= kMaxSafetensorsHeader && n <= size - 8) {
    head.resize(8 + n);
    if (read_at(head.data() + 8, n, 8) != n) throw FileError("the file shrank while being read", path);
  }
  return parse_safetensors_header(head, size, path);
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const fs::path& path) {
  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  file->map_ = MappedFile::open(path);
  file->header_ = parse_safetensors_header(file->map_->bytes(), file->map_->size(), path);
  return file;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorEntry* e = header_.index.find(name);
  if (!e) throw FormatError("no tensor named " + quote_name(name), path());
  const auto options = at::TensorOptions().dtype(to_scalar_type(e->dtype)).device(at::kCPU);
  if (e->nbytes == 0) return at::empty(e->shape, options);
  // The mapping is private and writable (copy-on-write), so handing out a mutable view is safe.
  void* data = const_cast<std::byte*>(map_->data() + e->offset);
  if (e->offset % element_size(e->dtype) != 0) {
    at::Tensor out = at::empty(e->shape, options);
    std::memcpy(out.data_ptr(), data, e->nbytes);
    return out;
  }
  auto keep_alive = map_;
  return at::from_blob(data, e->shape, [keep_alive](void*) {}, options);
}

void write_safetensors(const fs::path& path, const NamedTensors& tensors, const std::map<std::string, std::string>& metadata) {
  // Largest elements first keeps every tensor aligned to its element size in the file, so
  // readers can map it without copies (as the reference writer does).
  std::vector<std::size_t> order(tensors.size());
  std::set<std::string> names;
  std::vector<at::Tensor> prepared(tensors.size());
  std::vector<DType> dtypes(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    if (name == "__metadata__" || name.empty()) throw InvalidRequestError("tensor name \"" + name + "\" cannot be stored in safetensors");
    if (!names.insert(name).second) throw InvalidRequestError("tensor name " + quote_name(name) + " given twice");
    const auto dtype = from_scalar_type(t.scalar_type());
    if (!dtype) {
      throw InvalidRequestError("tensor " + quote_name(name) + " has dtype " + std::string(c10::toString(t.scalar_type())) +
                                ", which safetensors (as Kiln writes it) cannot store");
    }
    dtypes[i] = *dtype;
    prepared[i] = t.detach().to(at::kCPU).contiguous();
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return element_size(dtypes[a]) > element_size(dtypes[b]); });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) header["__metadata__"][k] = v;
  }
  std::uint64_t offset = 0;
  for (std::size_t i : order) {
    const std::uint64_t n = static_cast<std::uint64_t>(prepared[i].numel()) * element_size(dtypes[i]);
    header[tensors[i].first] = {{"dtype", std::string(to_string(dtypes[i]))},
                                {"shape", prepared[i].sizes().vec()},
                                {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');

  AtomicFileWriter writer(path);
  std::byte len[8];
  for (int i = 0; i < 8; ++i) len[i] = std::byte(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  writer.write(len);
  writer.write(text);
  for (std::size_t i : order) {
    const auto n = static_cast<std::size_t>(prepared[i].numel()) * element_size(dtypes[i]);
    if (n) writer.write({static_cast<const std::byte*>(prepared[i].data_ptr()), n});
  }
  writer.commit();
}

}  // namespace kiln::io
