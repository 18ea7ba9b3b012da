#pragma once
// Importing a dataset from a .zip safely: the archive is checked whole before anything is
// written (entry names, symbolic links, declared sizes, entry count), images and their caption
// files are extracted into a staging folder inside the dataset's own folder, the bytes actually
// inflated are counted against the same limits, and a refused or failed import leaves nothing
// behind. Non-image entries are listed and ignored. The staged folder then goes to core's
// prepare_dataset like any folder.

#include <QString>
#include <QStringList>

namespace kiln::app {

struct ZipImportLimits {
  qint64 maxEntryBytes = qint64{1} << 30;  // one image
  qint64 maxTotalBytes = qint64{8} << 30;  // the whole extraction
  int maxEntries = 20000;
};

struct ZipImportResult {
  QString stagingDir;     // absolute: <destination>/.originals/<zip base name>
  QStringList extracted;  // entry names written (images and caption files), archive order
  QStringList ignored;    // entry names skipped: not an image or a caption (folders not listed)
};

class ZipImport {
 public:
  // Extracts `zipPath` into `<destinationDir>/.originals/<zip base name>`, replacing an
  // earlier import of the same name. Throws kiln::FormatError naming the archive (and the
  // entry: "zip entry '../evil.txt' ...") when it is refused or broken, kiln::FileError when
  // it cannot be read or written. Nothing is written outside the staging folder, ever.
  static ZipImportResult extract(const QString& zipPath, const QString& destinationDir,
                                 const ZipImportLimits& limits = {});

  // Why an entry name is unsafe ("absolute path", "'..' component", "drive letter"), or an
  // empty string when it is fine. Backslashes count as separators (zips made on Windows).
  static QString unsafeNameReason(const QString& entryName);

  // Images (.jpg .jpeg .png .webp .bmp .tif .tiff) and kohya caption files (.txt .caption).
  static bool isWanted(const QString& entryName);
};

}  // namespace kiln::app
