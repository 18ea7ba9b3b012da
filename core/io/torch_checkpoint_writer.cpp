#include "io/torch_checkpoint_writer.h"

#include <zlib.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <string_view>

#include "base/error.h"
#include "io/atomic_file.h"

static_assert(std::endian::native == std::endian::little, "torch.save stores little-endian storages");

namespace kiln::io {

namespace {

// The storage class torch.save names in a tensor's persistent id.
const char* storage_class(DType dtype) {
  switch (dtype) {
    case DType::F64:
      return "DoubleStorage";
    case DType::F32:
      return "FloatStorage";
    case DType::F16:
      return "HalfStorage";
    case DType::BF16:
      return "BFloat16Storage";
    case DType::I64:
      return "LongStorage";
    case DType::I32:
      return "IntStorage";
    case DType::I16:
      return "ShortStorage";
    case DType::I8:
      return "CharStorage";
    case DType::U8:
      return "ByteStorage";
    case DType::Bool:
      return "BoolStorage";
  }
  return "FloatStorage";
}

// Pickle protocol 2 as torch.save writes it (without the memo: every object is written once,
// and readers do not need BINPUT/BINGET).
class PickleWriter {
 public:
  PickleWriter() { byte(0x80), byte(2); }  // PROTO 2

  void op(char c) { out_.push_back(c); }
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }

  void integer(std::int64_t v) {
    if (v >= 0 && v < 0x100) {
      op('K'), byte(static_cast<std::uint8_t>(v));  // BININT1
    } else if (v >= 0 && v < 0x10000) {
      op('M'), le(static_cast<std::uint64_t>(v), 2);  // BININT2
    } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
      op('J'), le(static_cast<std::uint64_t>(v), 4);  // BININT
    } else {
      // LONG1: the shortest little-endian two's complement that keeps the sign.
      std::array<std::uint8_t, 8> bytes{};
      for (int i = 0; i < 8; ++i)
        bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i));
      std::size_t n = 8;
      while (n > 1) {
        const std::uint8_t top = bytes[n - 1];
        const bool next_negative = (bytes[n - 2] & 0x80) != 0;
        if ((top == 0x00 && !next_negative) || (top == 0xFF && next_negative))
          --n;
        else
          break;
      }
      op('\x8a'), byte(static_cast<std::uint8_t>(n));
      for (std::size_t i = 0; i < n; ++i) byte(bytes[i]);
    }
  }

  void string(std::string_view s) {
    op('X'), le(s.size(), 4);  // BINUNICODE
    out_.append(s);
  }

  void global(std::string_view module, std::string_view name) {
    op('c');
    out_.append(module).push_back('\n');
    out_.append(name).push_back('\n');
  }

  void int_tuple(const std::vector<std::int64_t>& values) {
    if (values.empty()) return op(')');  // EMPTY_TUPLE
    if (values.size() > 3) op('(');      // MARK
    for (std::int64_t v : values) integer(v);
    static constexpr char kTupleN[] = {'\x85', '\x86', '\x87'};  // TUPLE1..3
    op(values.size() > 3 ? 't' : kTupleN[values.size() - 1]);
  }

  // collections.OrderedDict(): what _rebuild_tensor_v2 gets as backward hooks and what holds
  // the state dict.
  void ordered_dict() {
    global("collections", "OrderedDict");
    op(')'), op('R');
  }

  // torch._utils._rebuild_tensor_v2(('storage', torch.<Class>, key, 'cpu', numel), 0, size,
  // stride, False, OrderedDict()) for a contiguous tensor of `sizes`.
  void tensor(const std::vector<std::int64_t>& sizes, DType dtype, const std::string& key) {
    // Row-major strides as torch computes them (a dimension of size 0 counts as 1).
    std::vector<std::int64_t> strides(sizes.size());
    std::int64_t numel = 1, stride = 1;
    for (std::size_t d = sizes.size(); d-- > 0;) {
      strides[d] = stride;
      stride *= std::max<std::int64_t>(sizes[d], 1);
      numel *= sizes[d];
    }
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(');
    string("storage");
    global("torch", storage_class(dtype));
    string(key);
    string("cpu");
    integer(numel);
    op('t');
    op('Q');  // BINPERSID
    integer(0);
    int_tuple(sizes);
    int_tuple(strides);
    op('\x89');  // NEWFALSE: requires_grad
    ordered_dict();
    op('t');
    op('R');
  }

  std::string finish() {
    op('.');  // STOP
    return std::move(out_);
  }

 private:
  std::string out_;
};

constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::uint64_t kAlignment = 64;                     // as torch's PyTorchStreamWriter (kFieldAlignment)
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible files

// The zip layer: stored entries, local headers padded so data starts 64-byte aligned, central
// directory, ZIP64 records when a field overflows (or when forced).
class ZipWriter {
 public:
  ZipWriter(AtomicFileWriter& file, bool force_zip64) : file_(file), force_zip64_(force_zip64) {}

  // One entry whose data are `parts` one after another.
  void add(const std::string& name, std::initializer_list<std::span<const std::byte>> parts) {
    std::uint64_t size = 0;
    std::uint32_t crc = 0;
    for (const auto& p : parts) {
      size += p.size();
      crc = crc32(p, crc);
    }
    Entry e{name, crc, size, offset_};
    const bool zip64_sizes = force_zip64_ || size >= kMax32;
    std::string extra;
    if (zip64_sizes) {
      put(extra, 0x0001, 2), put(extra, 16, 2), put(extra, size, 8), put(extra, size, 8);
    }
    // Padding extra field "FB" (as torch writes it) so that the data start on 64-byte boundaries.
    const std::uint64_t before = offset_ + 30 + name.size() + extra.size() + 4;
    const std::uint64_t pad = (kAlignment - before % kAlignment) % kAlignment;
    put(extra, 0x4246, 2), put(extra, pad, 2);
    extra.append(pad, 'Z');

    std::string header;
    put(header, 0x04034b50, 4);
    put(header, zip64_sizes ? 45 : 20, 2);  // version needed
    put(header, 0, 2);                      // flags
    put(header, 0, 2);                      // stored
    put(header, 0, 2), put(header, kDosDate, 2);
    put(header, crc, 4);
    put(header, zip64_sizes ? kMax32 : size, 4), put(header, zip64_sizes ? kMax32 : size, 4);
    put(header, name.size(), 2), put(header, extra.size(), 2);
    header += name;
    header += extra;
    write(header);
    for (const auto& p : parts) write(p);
    entries_.push_back(std::move(e));
  }

  void finish() {
    const std::uint64_t cd_offset = offset_;
    for (const Entry& e : entries_) {
      const bool big_size = force_zip64_ || e.size >= kMax32;
      const bool big_offset = force_zip64_ || e.offset >= kMax32;
      std::string extra;
      if (big_size || big_offset) {
        std::string fields;
        if (big_size) put(fields, e.size, 8), put(fields, e.size, 8);
        if (big_offset) put(fields, e.offset, 8);
        put(extra, 0x0001, 2), put(extra, fields.size(), 2);
        extra += fields;
      }
      std::string h;
      put(h, 0x02014b50, 4);
      put(h, 45, 2);                                // made by: spec 4.5, MS-DOS attributes
      put(h, big_size || big_offset ? 45 : 20, 2);  // version needed
      put(h, 0, 2), put(h, 0, 2);                   // flags, stored
      put(h, 0, 2), put(h, kDosDate, 2);
      put(h, e.crc, 4);
      put(h, big_size ? kMax32 : e.size, 4), put(h, big_size ? kMax32 : e.size, 4);
      put(h, e.name.size(), 2), put(h, extra.size(), 2), put(h, 0, 2);  // comment length
      put(h, 0, 2), put(h, 0, 2), put(h, 0, 4);                         // disk, internal, external attributes
      put(h, big_offset ? kMax32 : e.offset, 4);
      h += e.name;
      h += extra;
      write(h);
    }
    const std::uint64_t cd_size = offset_ - cd_offset;
    const std::uint64_t count = entries_.size();
    const bool zip64 = force_zip64_ || count >= 0xFFFF || cd_size >= kMax32 || cd_offset >= kMax32;
    std::string tail;
    if (zip64) {
      const std::uint64_t record = offset_;
      put(tail, 0x06064b50, 4), put(tail, 44, 8);  // ZIP64 end of central directory record
      put(tail, 45, 2), put(tail, 45, 2), put(tail, 0, 4), put(tail, 0, 4);
      put(tail, count, 8), put(tail, count, 8), put(tail, cd_size, 8), put(tail, cd_offset, 8);
      put(tail, 0x07064b50, 4), put(tail, 0, 4), put(tail, record, 8), put(tail, 1, 4);  // its locator
    }
    put(tail, 0x06054b50, 4), put(tail, 0, 2), put(tail, 0, 2);
    put(tail, zip64 ? 0xFFFF : count, 2), put(tail, zip64 ? 0xFFFF : count, 2);
    put(tail, zip64 ? kMax32 : cd_size, 4), put(tail, zip64 ? kMax32 : cd_offset, 4);
    put(tail, 0, 2);  // comment length
    write(tail);
  }

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc;
    std::uint64_t size;
    std::uint64_t offset;
  };

  static void put(std::string& s, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  }
  void write(std::string_view s) { write(std::as_bytes(std::span<const char>(s.data(), s.size()))); }
  void write(std::span<const std::byte> bytes) {
    file_.write(bytes);
    offset_ += bytes.size();
  }

  AtomicFileWriter& file_;
  bool force_zip64_;
  std::uint64_t offset_ = 0;
  std::vector<Entry> entries_;
};

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace

std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc) {
  // zlib's (slicing-by-8 or PCLMUL as built); its length is an unsigned int: fed in pieces.
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  std::size_t n = data.size();
  uLong c = crc;
  while (n > 0) {
    const auto piece = static_cast<uInt>(std::min<std::size_t>(n, std::size_t{1} << 30));
    c = ::crc32(c, p, piece);
    p += piece;
    n -= piece;
  }
  return static_cast<std::uint32_t>(c);
}

void write_torch_checkpoint(const std::filesystem::path& path, const NamedTensors& tensors,
                            const TorchCheckpointWriteOptions& options) {
  std::set<std::string> names;
  std::vector<DType> dtypes;
  dtypes.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    if (name.empty()) throw InvalidRequestError("a tensor without a name cannot be stored in a checkpoint");
    if (!names.insert(name).second) throw InvalidRequestError("tensor name \"" + name + "\" given twice");
    const auto dtype = from_scalar_type(t.scalar_type());
    if (!dtype) {
      throw InvalidRequestError("tensor \"" + name + "\" has dtype " + std::string(c10::toString(t.scalar_type())) +
                                ", which a torch checkpoint (as Kiln writes it) cannot store");
    }
    dtypes.push_back(*dtype);
  }

  // The pickle describes every tensor as stored (contiguous, so strides are row-major); the
  // storages follow in the same order under keys "0", "1", ...
  PickleWriter pk;
  if (options.nest_in_state_dict) {
    pk.op('}');  // EMPTY_DICT
    pk.string("state_dict");
  }
  pk.ordered_dict();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (i % 1000 == 0) pk.op('(');  // MARK: SETITEMS in batches of 1000, as pickle does
    pk.string(tensors[i].first);
    pk.tensor(tensors[i].second.sizes().vec(), dtypes[i], std::to_string(i));
    if (i % 1000 == 999 || i + 1 == tensors.size()) pk.op('u');  // SETITEMS
  }
  if (options.nest_in_state_dict) pk.op('s');  // SETITEM
  const std::string pickle = pk.finish();

  AtomicFileWriter file(path);
  ZipWriter zip(file, options.force_zip64);
  zip.add("archive/data.pkl", {bytes_of(pickle)});
  zip.add("archive/byteorder", {bytes_of("little")});
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor t = tensors[i].second.detach().to(at::kCPU).contiguous();
    const auto n = static_cast<std::size_t>(t.numel()) * element_size(dtypes[i]);
    zip.add("archive/data/" + std::to_string(i), {{static_cast<const std::byte*>(t.data_ptr()), n}});
    if (options.progress) options.progress(i + 1, tensors.size());
  }
  zip.add("archive/version", {bytes_of("3\n")});
  zip.finish();
  file.commit();
}

}  // namespace kiln::io
