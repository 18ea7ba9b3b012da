#include "services/zip_import.h"

#include <quazip.h>
#include <quazipfile.h>
#include <quazipfileinfo.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUuid>

#include <filesystem>

#include "base/error.h"

namespace kiln::app {

namespace {

std::filesystem::path fsPath(const QString& s) { return std::filesystem::path(s.toStdString()); }

QString sizeText(qint64 bytes) {
  return QString::number(static_cast<double>(bytes) / (1 << 20), 'f', 1) + QStringLiteral(" MiB");
}

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

struct Entry {
  QuaZipFileInfo64 info;
  QString name;  // '/' separated
  bool directory = false;
  bool wanted = false;
};

}  // namespace

QString ZipImport::unsafeNameReason(const QString& entryName) {
  QString name = entryName;
  name.replace(QLatin1Char('\\'), QLatin1Char('/'));
  if (name.isEmpty()) return QStringLiteral("empty name");
  if (name.startsWith(QLatin1Char('/'))) return QStringLiteral("absolute path");
  static const QRegularExpression drive(QStringLiteral("^[A-Za-z]:"));
  if (drive.match(name).hasMatch()) return QStringLiteral("drive letter");
  for (const QString& part : name.split(QLatin1Char('/'))) {
    if (part == QLatin1String("..")) return QStringLiteral("'..' component");
  }
  if (name.contains(QChar(0))) return QStringLiteral("NUL in the name");
  return {};
}

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
  const std::filesystem::path archive = fsPath(zipPath);
  QuaZip zip(zipPath);
  if (!QFileInfo(zipPath).isFile()) throw FileError("no such file", archive);
  if (!zip.open(QuaZip::mdUnzip)) {
    throw FormatError("not a readable zip archive (error " + std::to_string(zip.getZipError()) + ")", archive);
  }

  // 1. Check everything before writing anything.
  QList<Entry> entries;
  for (bool more = zip.goToFirstFile(); more; more = zip.goToNextFile()) {
    Entry e;
    if (!zip.getCurrentFileInfo(&e.info)) throw FormatError("cannot read the zip's directory", archive);
    e.name = e.info.name;
    e.name.replace(QLatin1Char('\\'), QLatin1Char('/'));
    if (entries.size() >= limits.maxEntries) {
      throw FormatError(
          "the zip has more than " + std::to_string(limits.maxEntries) + " entries; nothing was extracted", archive);
    }
    const QString unsafe = unsafeNameReason(e.info.name);
    if (!unsafe.isEmpty()) {
      throw FormatError("zip entry '" + e.info.name.toStdString() + "' would be written outside the folder (" +
                            unsafe.toStdString() + "); nothing was extracted",
                        archive, "the archive is damaged or hostile");
    }
    if (e.info.isSymbolicLink()) {
      throw FormatError("zip entry '" + e.info.name.toStdString() + "' is a symbolic link; nothing was extracted",
                        archive, "links could point outside the folder");
    }
    e.directory = e.name.endsWith(QLatin1Char('/'));
    e.wanted = !e.directory && isWanted(e.name);
    entries.push_back(e);
  }
  if (zip.getZipError() != UNZ_OK) throw FormatError("cannot read the zip's directory", archive);

  qint64 total = 0;
  for (const Entry& e : entries) {
    if (!e.wanted) continue;
    const auto declared = static_cast<qint64>(e.info.uncompressedSize);
    if (e.info.uncompressedSize > static_cast<quint64>(limits.maxEntryBytes)) {
      throw FormatError("zip entry '" + e.info.name.toStdString() + "' declares " + sizeText(declared).toStdString() +
                            " (the limit is " + sizeText(limits.maxEntryBytes).toStdString() +
                            "); nothing was extracted",
                        archive);
    }
    total += declared;
    if (total > limits.maxTotalBytes) {
      throw FormatError("the zip would extract to more than " + sizeText(limits.maxTotalBytes).toStdString() +
                            "; nothing was extracted",
                        archive);
    }
    if (e.info.isEncrypted()) {
      throw FormatError("zip entry '" + e.info.name.toStdString() + "' is encrypted; nothing was extracted", archive);
    }
  }

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
  qint64 written = 0;
  int index = 0;
  for (bool more = zip.goToFirstFile(); more; more = zip.goToNextFile(), ++index) {
    const Entry& e = entries.at(index);
    if (e.directory) continue;
    if (!e.wanted) {
      result.ignored.push_back(e.info.name);
      continue;
    }
    const QString target = QDir(partial).absoluteFilePath(e.name);
    const QString folder = QFileInfo(target).absolutePath();
    if (!QDir().mkpath(folder)) throw FileError("cannot create a folder for the entry", fsPath(folder));
    // Belt and braces: the resolved folder must still lie inside the staging folder.
    const QString canonical = QDir(folder).canonicalPath();
    if (canonical != root && !canonical.startsWith(root + QLatin1Char('/'))) {
      throw FormatError("zip entry '" + e.info.name.toStdString() + "' resolves outside the folder", archive);
    }
    QuaZipFile in(&zip);
    if (!in.open(QIODevice::ReadOnly)) {
      throw FormatError(
          "cannot read zip entry '" + e.info.name.toStdString() + "' (error " + std::to_string(in.getZipError()) + ")",
          archive);
    }
    QFile out(target);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
      throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(target));
    }
    const auto declared = static_cast<qint64>(e.info.uncompressedSize);
    qint64 entryBytes = 0;
    char buffer[1 << 16];
    for (;;) {
      const qint64 n = in.read(buffer, sizeof buffer);
      if (n < 0) throw FormatError("zip entry '" + e.info.name.toStdString() + "' is damaged", archive);
      if (n == 0) break;
      entryBytes += n;
      written += n;
      // A header that understates the size (a zip bomb) is caught here, as it inflates.
      if (entryBytes > declared || entryBytes > limits.maxEntryBytes || written > limits.maxTotalBytes) {
        throw FormatError("zip entry '" + e.info.name.toStdString() + "' inflates beyond its declared " +
                              sizeText(declared).toStdString() + "; extraction stopped and undone",
                          archive, "the archive is damaged or hostile");
      }
      if (out.write(buffer, n) != n)
        throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(target));
    }
    in.close();
    if (in.getZipError() != UNZ_OK) {
      throw FormatError("zip entry '" + e.info.name.toStdString() + "' is damaged (CRC or data error)", archive);
    }
    if (!out.flush()) throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(target));
    out.close();
    result.extracted.push_back(e.info.name);
  }

  QDir(finalDir).removeRecursively();
  if (!QDir().rename(partial, finalDir)) throw FileError("cannot move the staging folder into place", fsPath(finalDir));
  guard.keep();
  result.stagingDir = finalDir;
  return result;
}

}  // namespace kiln::app
