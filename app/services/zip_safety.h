#pragma once
// Reading a .zip that may be hostile (QuaZip underneath), shared by the dataset import
// (zip_import) and the session archives (session_archive). The whole directory is checked
// before anything is extracted: entry names (absolute paths, '..', drive letters, NUL),
// symbolic links, duplicate names (also a file that is another entry's folder), encryption, the
// entry count, and - for the entries the caller will extract - the declared sizes per entry and
// in total and the compression ratio (a zip bomb). While extracting, the bytes actually inflated
// are counted against the same limits (a header that understates its size is caught as it
// inflates), and the CRC is checked at the end of each entry.
//
// Every refusal is a kiln::FormatError naming the archive and the entry.

#include <QByteArray>
#include <QList>
#include <QString>

#include <functional>
#include <memory>
#include <stop_token>

class QIODevice;

namespace kiln::app {

struct ZipLimits {
  qint64 maxEntryBytes = qint64{1} << 30;  // one entry, uncompressed
  qint64 maxTotalBytes = qint64{8} << 30;  // everything extracted
  int maxEntries = 20000;
  // Uncompressed / compressed size; only checked for entries above ratioFloorBytes, where
  // deflate's worst honest cases (text, zeros in small files) do not matter.
  double maxRatio = 100.0;
  qint64 ratioFloorBytes = qint64{1} << 20;
};

struct ZipEntry {
  QString name;  // '/' separated (backslashes of Windows zips turned into '/')
  bool directory = false;
  qint64 size = 0;  // declared uncompressed size
  qint64 compressedSize = 0;
};

class SafeZip {
 public:
  // Opens `zipPath` and reads and checks its directory (names, links, duplicates, encryption,
  // entry count). Throws FileError (no such file) or FormatError (not a zip, truncated, or a
  // refused entry: "zip entry '../x' would be written outside the folder ('..' component)").
  SafeZip(const QString& zipPath, const ZipLimits& limits);
  ~SafeZip();
  SafeZip(const SafeZip&) = delete;
  SafeZip& operator=(const SafeZip&) = delete;

  const QList<ZipEntry>& entries() const;
  const ZipEntry* find(const QString& name) const;  // nullptr when there is none

  // Checks the declared sizes of the file entries `wanted` accepts against the limits (per
  // entry, in total, ratio); returns their declared total.
  qint64 checkSizes(const std::function<bool(const ZipEntry&)>& wanted) const;

  // Reads one small entry whole (a manifest), refusing one larger than `maxBytes`.
  QByteArray readEntry(const QString& name, qint64 maxBytes);

  // Streams the file entries in archive order. `open(entry)` returns the device to write the
  // entry to (opened by the caller), or nullptr to skip the entry; `chunk` sees every inflated
  // block (hashing); the bytes are counted against the limits. Returns false when `stop` was
  // requested (what was written is the caller's to remove). Throws FormatError for a damaged
  // entry (CRC, data, a size other than declared) and FileError when a write fails.
  bool extract(const std::function<QIODevice*(const ZipEntry&)>& open,
               const std::function<void(const ZipEntry&, const char*, qint64)>& chunk = {}, std::stop_token stop = {});

  // Why an entry name is unsafe ("absolute path", "'..' component", "drive letter"), or an
  // empty string when it is fine. Backslashes count as separators (zips made on Windows).
  static QString unsafeNameReason(const QString& entryName);
  // "12.3 MiB"
  static QString sizeText(qint64 bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> d;
};

}  // namespace kiln::app
