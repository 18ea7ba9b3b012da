#include "io/zip_reader.h"

#include "base/error.h"

namespace kiln::io {

namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kZip64EocdSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint64_t kEocdSize = 22;
constexpr std::uint64_t kZip64LocatorSize = 20;
constexpr std::uint64_t kZip64EocdSize = 56;
constexpr std::uint64_t kCentralHeaderSize = 46;
constexpr std::uint64_t kLocalHeaderSize = 30;
constexpr std::uint64_t kMaxComment = 0xffff;
constexpr std::uint16_t kZip64ExtraId = 0x0001;

std::uint64_t read_le(const std::byte* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
  return v;
}

std::string hex(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

// Little-endian fields of a record that has already been bounds-checked as a whole.
struct Record {
  const std::byte* p;
  std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(read_le(p + at, 2)); }
  std::uint32_t u32(std::size_t at) const { return static_cast<std::uint32_t>(read_le(p + at, 4)); }
  std::uint64_t u64(std::size_t at) const { return read_le(p + at, 8); }
};

class Parser {
 public:
  Parser(std::span<const std::byte> bytes, const std::filesystem::path& path) : bytes_(bytes), path_(path) {}

  [[noreturn]] void fail(const std::string& what) const { throw FormatError("zip: " + what, path_); }

  std::uint64_t size() const { return bytes_.size(); }

  // True when [offset, offset + length) lies inside the archive (overflow-safe).
  bool fits(std::uint64_t offset, std::uint64_t length) const { return offset <= size() && length <= size() - offset; }

  std::string text(std::uint64_t offset, std::uint64_t length) const {
    return std::string(reinterpret_cast<const char*>(bytes_.data() + offset), length);
  }

  // Offset of the End Of Central Directory record: the last signature in the final
  // 22 + 65535 bytes whose comment length reaches exactly the end of the file.
  std::uint64_t find_eocd() const {
    if (size() < kEocdSize) fail("file is too small to be a zip archive (" + std::to_string(size()) + " bytes)");
    const std::uint64_t lowest = size() > kEocdSize + kMaxComment ? size() - kEocdSize - kMaxComment : 0;
    for (std::uint64_t pos = size() - kEocdSize;; --pos) {
      Record r{bytes_.data() + pos};
      if (r.u32(0) == kEocdSig && pos + kEocdSize + r.u16(20) == size()) return pos;
      if (pos == lowest) break;
    }
    fail("no end of central directory record in the last " + std::to_string(size() - lowest) +
         " bytes (the file is truncated or not a zip archive)");
  }

  struct Directory {
    std::uint64_t entry_count = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::uint64_t end_limit = 0;  // the directory must end before this offset
  };

  Directory read_directory_location() const {
    const std::uint64_t eocd_pos = find_eocd();
    const Record eocd{bytes_.data() + eocd_pos};
    if (eocd.u16(4) != 0 || eocd.u16(6) != 0) fail("multi-disk archives are not supported");
    Directory dir{eocd.u16(10), eocd.u32(16), eocd.u32(12), eocd_pos};

    // torch.save (miniz) always writes a ZIP64 EOCD record and its locator right before the
    // EOCD; other writers do so only when a 32-bit field overflowed (and then store 0xffff..).
    const bool needs_zip64 = dir.entry_count == 0xffff || dir.offset == 0xffffffff || dir.size == 0xffffffff;
    const bool has_locator = eocd_pos >= kZip64LocatorSize &&
                             Record{bytes_.data() + eocd_pos - kZip64LocatorSize}.u32(0) == kZip64LocatorSig;
    if (!has_locator) {
      if (needs_zip64) fail("end of central directory says ZIP64 but there is no ZIP64 locator before it");
      return dir;
    }
    const std::uint64_t locator_pos = eocd_pos - kZip64LocatorSize;
    const Record locator{bytes_.data() + locator_pos};
    const std::uint64_t record_pos = locator.u64(8);
    if (record_pos > locator_pos || locator_pos - record_pos < kZip64EocdSize)
      fail("ZIP64 locator points to offset " + std::to_string(record_pos) +
           ", which does not leave room for the ZIP64 record before offset " + std::to_string(locator_pos));
    const Record record{bytes_.data() + record_pos};
    if (record.u32(0) != kZip64EocdSig)
      fail("no ZIP64 end of central directory record at offset " + std::to_string(record_pos) + " (signature " +
           hex(record.u32(0)) + ")");
    if (record.u32(16) != 0 || record.u32(20) != 0) fail("multi-disk archives are not supported");
    return Directory{record.u64(32), record.u64(48), record.u64(40), record_pos};
  }

  ZipEntry read_central_entry(std::uint64_t& pos, std::uint64_t dir_end, std::uint64_t index) const {
    const std::string what = "central directory entry " + std::to_string(index);
    if (pos > dir_end || dir_end - pos < kCentralHeaderSize)
      fail(what + " at offset " + std::to_string(pos) + " runs past the directory's end");
    const Record h{bytes_.data() + pos};
    if (h.u32(0) != kCentralHeaderSig)
      fail(what + " at offset " + std::to_string(pos) + " has a bad signature (" + hex(h.u32(0)) + ")");
    const std::uint64_t name_len = h.u16(28), extra_len = h.u16(30), comment_len = h.u16(32);
    const std::uint64_t record_len = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (dir_end - pos < record_len) fail(what + " at offset " + std::to_string(pos) + " runs past the directory's end");

    ZipEntry e;
    e.name = text(pos + kCentralHeaderSize, name_len);
    e.flags = h.u16(8);
    e.method = h.u16(10);
    e.crc32 = h.u32(16);
    e.compressed_size = h.u32(20);
    e.size = h.u32(24);
    e.local_header_offset = h.u32(42);
    std::uint64_t disk = h.u16(34);

    // ZIP64 extra field: 64-bit values, in this order, for exactly the fields set to all ones.
    std::uint64_t x = pos + kCentralHeaderSize + name_len;
    const std::uint64_t x_end = x + extra_len;
    while (x_end - x >= 4) {
      const Record field{bytes_.data() + x};
      const std::uint64_t id = field.u16(0), len = field.u16(2);
      if (x_end - x - 4 < len) fail(what + " (" + e.name + ") has an extra field that runs past its header");
      if (id == kZip64ExtraId) {
        std::uint64_t y = x + 4;
        const std::uint64_t y_end = y + len;
        auto take = [&](std::uint64_t& value, const char* field_name) {
          if (y_end - y < 8) fail(what + " (" + e.name + "): ZIP64 extra field lacks the " + field_name);
          value = read_le(bytes_.data() + y, 8);
          y += 8;
        };
        if (e.size == 0xffffffff) take(e.size, "uncompressed size");
        if (e.compressed_size == 0xffffffff) take(e.compressed_size, "compressed size");
        if (e.local_header_offset == 0xffffffff) take(e.local_header_offset, "local header offset");
        if (disk == 0xffff) {
          if (y_end - y < 4) fail(what + " (" + e.name + "): ZIP64 extra field lacks the disk number");
          disk = read_le(bytes_.data() + y, 4);
        }
      }
      x += 4 + len;
    }
    if (disk != 0)
      fail(what + " (" + e.name + ") lives on disk " + std::to_string(disk) +
           "; multi-disk archives are not supported");
    pos += record_len;
    return e;
  }

  // Resolves where the entry's data starts from its local header and checks the data range.
  void locate_data(ZipEntry& e, std::uint64_t data_limit) const {
    const std::string what = "entry " + e.name;
    if (!fits(e.local_header_offset, kLocalHeaderSize) || e.local_header_offset >= data_limit)
      fail(what + ": local header offset " + std::to_string(e.local_header_offset) +
           " is outside the archive's data area (0.." + std::to_string(data_limit) + ")");
    const Record h{bytes_.data() + e.local_header_offset};
    if (h.u32(0) != kLocalHeaderSig)
      fail(what + ": no local header at offset " + std::to_string(e.local_header_offset) + " (signature " +
           hex(h.u32(0)) + ")");
    const std::uint64_t name_len = h.u16(26), extra_len = h.u16(28);
    if (name_len != e.name.size() || !fits(e.local_header_offset + kLocalHeaderSize, name_len) ||
        text(e.local_header_offset + kLocalHeaderSize, name_len) != e.name)
      fail(what + ": local header at offset " + std::to_string(e.local_header_offset) + " names a different entry");
    e.data_offset = e.local_header_offset + kLocalHeaderSize + name_len + extra_len;
    if (e.data_offset > data_limit || e.compressed_size > data_limit - e.data_offset)
      fail(what + ": data at offset " + std::to_string(e.data_offset) + " (" + std::to_string(e.compressed_size) +
           " bytes) runs past the start of the central directory at offset " + std::to_string(data_limit));
    if (e.method == 0 && e.compressed_size != e.size)
      fail(what + " is stored but its sizes differ (" + std::to_string(e.compressed_size) + " stored, " +
           std::to_string(e.size) + " uncompressed)");
  }

 private:
  std::span<const std::byte> bytes_;
  const std::filesystem::path& path_;
};

}  // namespace

ZipArchive ZipArchive::open(std::span<const std::byte> bytes, const std::filesystem::path& path) {
  const Parser parser(bytes, path);
  const auto dir = parser.read_directory_location();
  if (dir.offset > dir.end_limit || dir.size > dir.end_limit - dir.offset)
    parser.fail("central directory (offset " + std::to_string(dir.offset) + ", " + std::to_string(dir.size) +
                " bytes) goes beyond its end record at offset " + std::to_string(dir.end_limit));
  if (dir.entry_count > dir.size / kCentralHeaderSize)
    parser.fail("central directory claims " + std::to_string(dir.entry_count) + " entries but has room for at most " +
                std::to_string(dir.size / kCentralHeaderSize));

  ZipArchive archive;
  archive.bytes_ = bytes;
  archive.path_ = path;
  archive.entries_.reserve(static_cast<std::size_t>(dir.entry_count));
  std::uint64_t pos = dir.offset;
  const std::uint64_t dir_end = dir.offset + dir.size;
  for (std::uint64_t i = 0; i < dir.entry_count; ++i) {
    ZipEntry e = parser.read_central_entry(pos, dir_end, i);
    parser.locate_data(e, dir.offset);
    archive.by_name_.try_emplace(e.name, archive.entries_.size());
    archive.entries_.push_back(std::move(e));
  }
  return archive;
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

std::span<const std::byte> ZipArchive::data(const ZipEntry& entry) const {
  if (entry.flags & 0x1) throw FormatError("zip: entry " + entry.name + " is encrypted", path_);
  if (entry.method != 0)
    throw FormatError("entry " + entry.name + " is compressed (method " + std::to_string(entry.method) +
                          "); Kiln reads only stored entries as torch.save writes them",
                      path_);
  // open() checked the range against the archive.
  return bytes_.subspan(static_cast<std::size_t>(entry.data_offset), static_cast<std::size_t>(entry.size));
}

}  // namespace kiln::io
