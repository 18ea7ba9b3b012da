#include "services/zip_import.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUuid>

#include <filesystem>

#include "base/error.h"
#include "services/zip_safety.h"

namespace kiln::app {

namespace {

std::filesystem::path fsPath(const QString& s) { return std::filesystem::path(s.toStdString()); }

// Removes a half-made staging folder on every way out but success.
class StagingGuard {
 public:
  explicit StagingGuard(QString dir) : mDir(std::move(dir)) {}
  ~StagingGuard() {
    if (!mKept) QDir(mDir).removeRecursively();
  }
  StagingGuard(const StagingGuard&) = delete;
  StagingGuard& operator=(const StagingGuard&) = delete;
  void keep() { mKept = true; }

 private:
  QString mDir;
  bool mKept = false;
};

void finishFile(QFile& out) {
  if (!out.flush()) throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(out.fileName()));
  out.close();
}

}  // namespace

QString ZipImport::unsafeNameReason(const QString& entryName) { return SafeZip::unsafeNameReason(entryName); }

bool ZipImport::isWanted(const QString& entryName) {
  static const QStringList extensions{QStringLiteral("jpg"),  QStringLiteral("jpeg"), QStringLiteral("png"),
                                      QStringLiteral("webp"), QStringLiteral("bmp"),  QStringLiteral("tif"),
                                      QStringLiteral("tiff"), QStringLiteral("txt"),  QStringLiteral("caption")};
  const QString base = entryName.section(QLatin1Char('/'), -1);
  if (base.startsWith(QLatin1Char('.'))) return false;  // macOS "._x.jpg" resource forks and hidden files
  if (entryName.startsWith(QLatin1String("__MACOSX/"))) return false;
  return extensions.contains(QFileInfo(base).suffix().toLower());
}

ZipImportResult ZipImport::extract(const QString& zipPath, const QString& destinationDir,
                                   const ZipImportLimits& limits) {
  // 1. Check everything before writing anything.
  ZipLimits zipLimits;
  zipLimits.maxEntryBytes = limits.maxEntryBytes;
  zipLimits.maxTotalBytes = limits.maxTotalBytes;
  zipLimits.maxEntries = limits.maxEntries;
  SafeZip zip(zipPath, zipLimits);
  zip.checkSizes([](const ZipEntry& e) { return isWanted(e.name); });

  // 2. Extract into a fresh hidden folder beside the final one, then swap it in.
  const QString base = QFileInfo(zipPath).completeBaseName().isEmpty() ? QStringLiteral("archive")
                                                                       : QFileInfo(zipPath).completeBaseName();
  const QString originals = QDir(destinationDir).absoluteFilePath(QStringLiteral(".originals"));
  const QString finalDir = QDir(originals).absoluteFilePath(base);
  const QString partial = QDir(originals).absoluteFilePath(QStringLiteral(".") + base + QStringLiteral(".partial-") +
                                                           QUuid::createUuid().toString(QUuid::Id128).left(8));
  if (!QDir().mkpath(partial)) throw FileError("cannot create the staging folder", fsPath(partial));
  StagingGuard guard(partial);
  const QString root = QDir(partial).canonicalPath();

  ZipImportResult result;
  QFile out;
  zip.extract([&](const ZipEntry& e) -> QIODevice* {
    if (out.isOpen()) finishFile(out);
    if (!isWanted(e.name)) {
      result.ignored.push_back(e.name);
      return nullptr;
    }
    const QString target = QDir(partial).absoluteFilePath(e.name);
    const QString folder = QFileInfo(target).absolutePath();
    if (!QDir().mkpath(folder)) throw FileError("cannot create a folder for the entry", fsPath(folder));
    // Belt and braces: the resolved folder must still lie inside the staging folder.
    const QString canonical = QDir(folder).canonicalPath();
    if (canonical != root && !canonical.startsWith(root + QLatin1Char('/'))) {
      throw FormatError("zip entry '" + e.name.toStdString() + "' resolves outside the folder", fsPath(zipPath));
    }
    out.setFileName(target);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
      throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(target));
    }
    result.extracted.push_back(e.name);
    return &out;
  });
  if (out.isOpen()) finishFile(out);

  QDir(finalDir).removeRecursively();
  if (!QDir().rename(partial, finalDir)) throw FileError("cannot move the staging folder into place", fsPath(finalDir));
  guard.keep();
  result.stagingDir = finalDir;
  return result;
}

}  // namespace kiln::app
