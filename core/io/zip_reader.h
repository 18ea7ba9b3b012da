#pragma once
// Read-only view of a zip archive held in memory (usually a MappedFile), enough for the
// archives torch.save writes: stored (uncompressed) entries, ZIP64 records, local headers
// padded with an extra field so that data starts on 64-byte boundaries.
//
// Layout read: the End Of Central Directory record at the end (22 bytes + comment), or the
// ZIP64 EOCD record its locator points to; the central directory (one 46-byte header + name
// + extra + comment per entry, ZIP64 extra field 0x0001 holding sizes/offsets that did not
// fit in 32 bits); and each entry's 30-byte local header, whose name and extra lengths say
// where the data begins. Every offset and size is checked against the archive size before it
// is used, so a truncated or hostile archive gives kiln::FormatError, never a bad read.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln::io {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 stored, 8 deflate, ...
  std::uint16_t flags = 0;   // general purpose bit flags (bit 0: encrypted)
  std::uint64_t local_header_offset = 0;
  std::uint64_t data_offset = 0;  // first data byte, from the start of the archive
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;  // uncompressed
  std::uint32_t crc32 = 0;
};

class ZipArchive {
 public:
  // Parses the directory of `bytes` (which must outlive the archive). `path` only names the
  // file in errors. Throws kiln::FormatError when the bytes are not a well-formed zip.
  static ZipArchive open(std::span<const std::byte> bytes, const std::filesystem::path& path);

  // Entries in central directory order.
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // First entry with exactly this name, or nullptr. Constant time: a checkpoint looks up one
  // entry per storage, and may hold tens of thousands.
  const ZipEntry* find(std::string_view name) const;
  // The stored bytes of an entry. Throws kiln::FormatError for compressed or encrypted
  // entries (only method 0 can be viewed in place).
  std::span<const std::byte> data(const ZipEntry& entry) const;

  std::uint64_t size() const { return bytes_.size(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::span<const std::byte> bytes_;
  std::filesystem::path path_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

}  // namespace kiln::io
