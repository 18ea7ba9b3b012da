#include "services/zip_safety.h"

#include <quazip.h>
#include <quazipfile.h>
#include <quazipfileinfo.h>

#include <QDir>
#include <QFileInfo>
#include <QIODevice>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "base/error.h"

namespace kiln::app {

namespace {

std::filesystem::path fsPath(const QString& s) { return std::filesystem::path(s.toStdString()); }

std::string entryText(const QString& rawName) { return "zip entry '" + rawName.toStdString() + "'"; }

}  // namespace

struct SafeZip::Impl {
  QString path;
  std::filesystem::path archive;
  ZipLimits limits;
  QuaZip zip;
  QList<ZipEntry> entries;
  QList<QuaZipFileInfo64> infos;  // parallel to entries: the raw names for messages
};

QString SafeZip::sizeText(qint64 bytes) {
  return QString::number(static_cast<double>(bytes) / (1 << 20), 'f', 1) + QStringLiteral(" MiB");
}

QString SafeZip::unsafeNameReason(const QString& entryName) {
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

SafeZip::SafeZip(const QString& zipPath, const ZipLimits& limits) : d(std::make_unique<Impl>()) {
  d->path = zipPath;
  d->archive = fsPath(zipPath);
  d->limits = limits;
  if (!QFileInfo(zipPath).isFile()) throw FileError("no such file", d->archive);
  d->zip.setZipName(zipPath);
  if (!d->zip.open(QuaZip::mdUnzip)) {
    throw FormatError(
        "not a readable zip archive (error " + std::to_string(d->zip.getZipError()) + "; truncated or damaged?)",
        d->archive);
  }

  QSet<QString> files, folders;
  for (bool more = d->zip.goToFirstFile(); more; more = d->zip.goToNextFile()) {
    QuaZipFileInfo64 info;
    if (!d->zip.getCurrentFileInfo(&info)) throw FormatError("cannot read the zip's directory", d->archive);
    if (d->entries.size() >= limits.maxEntries) {
      throw FormatError(
          "the zip has more than " + std::to_string(limits.maxEntries) + " entries; nothing was extracted", d->archive);
    }
    const QString unsafe = unsafeNameReason(info.name);
    if (!unsafe.isEmpty()) {
      throw FormatError(entryText(info.name) + " would be written outside the folder (" + unsafe.toStdString() +
                            "); nothing was extracted",
                        d->archive, "the archive is damaged or hostile");
    }
    if (info.isSymbolicLink()) {
      throw FormatError(entryText(info.name) + " is a symbolic link; nothing was extracted", d->archive,
                        "links could point outside the folder");
    }
    ZipEntry e;
    e.name = info.name;
    e.name.replace(QLatin1Char('\\'), QLatin1Char('/'));
    e.directory = e.name.endsWith(QLatin1Char('/'));
    e.size = static_cast<qint64>(info.uncompressedSize);
    e.compressedSize = static_cast<qint64>(info.compressedSize);
    if (info.uncompressedSize > static_cast<quint64>(std::numeric_limits<qint64>::max() / 2)) {
      throw FormatError(entryText(info.name) + " declares an impossible size; nothing was extracted", d->archive);
    }
    // Duplicates, also spelled differently ("a/./b", "a//b"), and a file that is also a folder.
    const QString key = QDir::cleanPath(e.name);
    if (e.directory) {
      folders.insert(key);
    } else if (files.contains(key)) {
      throw FormatError(entryText(info.name) + " appears twice; nothing was extracted", d->archive,
                        "the archive is damaged or hostile");
    } else {
      files.insert(key);
    }
    for (qsizetype slash = key.indexOf(QLatin1Char('/')); slash > 0; slash = key.indexOf(QLatin1Char('/'), slash + 1)) {
      folders.insert(key.left(slash));
    }
    d->entries.push_back(e);
    d->infos.push_back(info);
  }
  if (d->zip.getZipError() != UNZ_OK) {
    throw FormatError("cannot read the zip's directory (truncated or damaged?)", d->archive);
  }
  for (const QuaZipFileInfo64& info : d->infos) {
    QString name = info.name;
    name.replace(QLatin1Char('\\'), QLatin1Char('/'));
    if (!name.endsWith(QLatin1Char('/')) && folders.contains(QDir::cleanPath(name))) {
      throw FormatError(entryText(info.name) + " is both a file and a folder; nothing was extracted", d->archive,
                        "the archive is damaged or hostile");
    }
  }
}

SafeZip::~SafeZip() = default;

const QList<ZipEntry>& SafeZip::entries() const { return d->entries; }

const ZipEntry* SafeZip::find(const QString& name) const {
  for (const ZipEntry& e : d->entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

qint64 SafeZip::checkSizes(const std::function<bool(const ZipEntry&)>& wanted) const {
  const ZipLimits& limits = d->limits;
  qint64 total = 0;
  for (qsizetype i = 0; i < d->entries.size(); ++i) {
    const ZipEntry& e = d->entries.at(i);
    const QuaZipFileInfo64& info = d->infos.at(i);
    if (e.directory || !wanted(e)) continue;
    if (e.size > limits.maxEntryBytes) {
      throw FormatError(entryText(info.name) + " declares " + sizeText(e.size).toStdString() + " (the limit is " +
                            sizeText(limits.maxEntryBytes).toStdString() + "); nothing was extracted",
                        d->archive);
    }
    if (e.size > limits.ratioFloorBytes &&
        static_cast<double>(e.size) > limits.maxRatio * static_cast<double>(std::max<qint64>(e.compressedSize, 1))) {
      throw FormatError(entryText(info.name) + " would inflate " + sizeText(e.compressedSize).toStdString() + " to " +
                            sizeText(e.size).toStdString() + " (more than " +
                            std::to_string(static_cast<long long>(limits.maxRatio)) +
                            " times; a zip bomb?); nothing was extracted",
                        d->archive, "the archive is damaged or hostile");
    }
    total += e.size;
    if (total > limits.maxTotalBytes) {
      throw FormatError("the zip would extract to more than " + sizeText(limits.maxTotalBytes).toStdString() +
                            "; nothing was extracted",
                        d->archive);
    }
    if (info.isEncrypted()) {
      throw FormatError(entryText(info.name) + " is encrypted; nothing was extracted", d->archive);
    }
  }
  return total;
}

QByteArray SafeZip::readEntry(const QString& name, qint64 maxBytes) {
  const ZipEntry* e = find(name);
  if (e == nullptr) throw FormatError("the zip has no " + name.toStdString(), d->archive);
  if (e->size > maxBytes) {
    throw FormatError(entryText(name) + " declares " + sizeText(e->size).toStdString() + " (the limit is " +
                          sizeText(maxBytes).toStdString() + ")",
                      d->archive);
  }
  if (!d->zip.setCurrentFile(name)) throw FormatError("cannot find " + entryText(name), d->archive);
  QuaZipFile in(&d->zip);
  if (!in.open(QIODevice::ReadOnly)) {
    throw FormatError("cannot read " + entryText(name) + " (error " + std::to_string(in.getZipError()) + ")",
                      d->archive);
  }
  QByteArray data;
  char buffer[1 << 16];
  for (;;) {
    const qint64 n = in.read(buffer, sizeof buffer);
    if (n < 0) throw FormatError(entryText(name) + " is damaged", d->archive);
    if (n == 0) break;
    if (data.size() + n > e->size || data.size() + n > maxBytes) {
      throw FormatError(entryText(name) + " inflates beyond its declared " + sizeText(e->size).toStdString(),
                        d->archive, "the archive is damaged or hostile");
    }
    data.append(buffer, n);
  }
  in.close();
  if (in.getZipError() != UNZ_OK || data.size() != e->size) {
    throw FormatError(entryText(name) + " is damaged (CRC or data error)", d->archive);
  }
  return data;
}

bool SafeZip::extract(const std::function<QIODevice*(const ZipEntry&)>& open,
                      const std::function<void(const ZipEntry&, const char*, qint64)>& chunk, std::stop_token stop) {
  const ZipLimits& limits = d->limits;
  qint64 written = 0;
  qsizetype index = 0;
  for (bool more = d->zip.goToFirstFile(); more; more = d->zip.goToNextFile(), ++index) {
    if (index >= d->entries.size()) throw FormatError("the zip's directory changed while reading", d->archive);
    const ZipEntry& e = d->entries.at(index);
    const QString& raw = d->infos.at(index).name;
    if (e.directory) continue;
    if (stop.stop_requested()) return false;
    QIODevice* out = open(e);
    if (out == nullptr) continue;
    QuaZipFile in(&d->zip);
    if (!in.open(QIODevice::ReadOnly)) {
      throw FormatError("cannot read " + entryText(raw) + " (error " + std::to_string(in.getZipError()) + ")",
                        d->archive);
    }
    qint64 entryBytes = 0;
    char buffer[1 << 16];
    for (;;) {
      if (stop.stop_requested()) return false;
      const qint64 n = in.read(buffer, sizeof buffer);
      if (n < 0) throw FormatError(entryText(raw) + " is damaged (truncated archive?)", d->archive);
      if (n == 0) break;
      entryBytes += n;
      written += n;
      // A header that understates the size (a zip bomb) is caught here, as it inflates.
      if (entryBytes > e.size || entryBytes > limits.maxEntryBytes || written > limits.maxTotalBytes) {
        throw FormatError(entryText(raw) + " inflates beyond its declared " + sizeText(e.size).toStdString() +
                              "; extraction stopped and undone",
                          d->archive, "the archive is damaged or hostile");
      }
      if (chunk) chunk(e, buffer, n);
      if (out->write(buffer, n) != n) {
        throw FileError("cannot write " + e.name.toStdString() + ": " + out->errorString().toStdString());
      }
    }
    in.close();
    if (in.getZipError() != UNZ_OK || entryBytes != e.size) {
      throw FormatError(entryText(raw) + " is damaged (CRC or data error)", d->archive);
    }
  }
  if (d->zip.getZipError() != UNZ_OK) throw FormatError("the zip is damaged (truncated?)", d->archive);
  return true;
}

}  // namespace kiln::app
