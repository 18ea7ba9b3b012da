#include "services/session_archive.h"

#include <quazip.h>
#include <quazipfile.h>
#include <quazipnewinfo.h>

#include <QBuffer>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QStorageInfo>
#include <QUuid>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/sha256.h"
#include "training/session_export.h"
#include "training/trainer.h"

namespace kiln::app {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "kiln-session-archive";
constexpr int kVersion = 1;
const QString kManifest = QStringLiteral("manifest.json");
constexpr qint64 kManifestLimit = qint64{64} << 20;
constexpr qint64 kSettingsLimit = qint64{16} << 20;

fs::path fsPath(const QString& s) { return fs::path(s.toStdString()); }
QString qPath(const fs::path& p) { return QString::fromStdString(p.string()); }

// Removes a half-made file or folder on every way out but success.
class Cleanup {
 public:
  explicit Cleanup(QString path) : mPath(std::move(path)) {}
  ~Cleanup() {
    if (mKept) return;
    if (QFileInfo(mPath).isDir())
      QDir(mPath).removeRecursively();
    else
      QFile::remove(mPath);
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  void keep() { mKept = true; }

 private:
  QString mPath;
  bool mKept = false;
};

bool isWeightFile(const QString& name) {
  static const QStringList suffixes{QStringLiteral("safetensors"), QStringLiteral("bin"), QStringLiteral("ckpt"),
                                    QStringLiteral("pt"), QStringLiteral("pth")};
  return suffixes.contains(QFileInfo(name).suffix().toLower());
}

bool isDiffusersFolder(const QString& path) {
  return QFileInfo(QDir(path).filePath(QStringLiteral("model_index.json"))).isFile();
}

// The weight files of a diffusers folder: '/'-separated paths inside it, sorted.
QStringList folderWeights(const QString& path) {
  const QString folder = QFileInfo(path).absoluteFilePath();
  QStringList out;
  QDirIterator it(folder, QDir::Files | QDir::NoSymLinks, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString path = it.next();
    if (isWeightFile(path)) out.push_back(QDir(folder).relativeFilePath(path));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Stored: already compressed or nearly incompressible (weights); deflated: the rest.
bool storeUncompressed(const QString& name) {
  static const QStringList suffixes{QStringLiteral("safetensors"), QStringLiteral("png"), QStringLiteral("jpg"),
                                    QStringLiteral("jpeg"), QStringLiteral("webp")};
  return suffixes.contains(QFileInfo(name).suffix().toLower());
}

// Where an archive entry may lie in a session.
bool allowedEntry(const QString& name, bool directory) {
  static const QStringList files{QStringLiteral("settings.json"), QStringLiteral("manifest.json"),
                                 QStringLiteral("metrics.jsonl"), QStringLiteral("log.txt")};
  static const QStringList folders{QStringLiteral("dataset/"), QStringLiteral("samples/"),
                                   QStringLiteral("class_images/"), QStringLiteral("checkpoints/")};
  if (!directory && files.contains(name)) return true;
  for (const QString& folder : folders) {
    if (name == folder) return directory;
    if (!name.startsWith(folder)) continue;
    // Checkpoints lie flat in checkpoints/.
    if (folder == QLatin1String("checkpoints/"))
      return !directory && !name.mid(folder.size()).contains(QLatin1Char('/'));
    return true;
  }
  return false;
}

struct ArchiveFile {
  QString source;  // absolute path here
  QString name;    // in the archive
  qint64 size = 0;
};

// Regular files under `folder` (no links), as "<prefix><relative path>", sorted; hidden and
// temporary files (an atomic write in progress) left out.
void addFolder(QList<ArchiveFile>& out, const QString& path, const QString& prefix) {
  if (!QFileInfo(path).isDir()) return;
  const QString folder = QFileInfo(path).absoluteFilePath();
  QList<ArchiveFile> found;
  QDirIterator it(folder, QDir::Files | QDir::NoSymLinks, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString path = it.next();
    const QString relative = QDir(folder).relativeFilePath(path);
    if (relative.startsWith(QLatin1Char('.')) || relative.contains(QLatin1String("/."))) continue;
    found.push_back({path, prefix + relative, QFileInfo(path).size()});
  }
  std::sort(found.begin(), found.end(), [](const ArchiveFile& a, const ArchiveFile& b) { return a.name < b.name; });
  out += found;
}

void addFile(QList<ArchiveFile>& out, const QString& path, const QString& name) {
  const QFileInfo info(path);
  if (info.isFile() && !info.isSymLink()) out.push_back({path, name, info.size()});
}

}  // namespace

QString toString(SessionArchiveContents contents) {
  switch (contents) {
    case SessionArchiveContents::Session:
      return QStringLiteral("session");
    case SessionArchiveContents::WithCheckpoints:
      return QStringLiteral("with-checkpoints");
    case SessionArchiveContents::WeightsOnly:
      return QStringLiteral("weights-only");
  }
  return {};
}

ZipLimits SessionImportOptions::defaultLimits() {
  ZipLimits limits;
  limits.maxEntryBytes = qint64{64} << 30;
  limits.maxTotalBytes = qint64{256} << 30;
  limits.maxEntries = 200000;
  limits.maxRatio = 100.0;
  return limits;
}

// ---------------------------------------------------------------------------------------------
// The base model's hash

qint64 SessionArchive::modelBytes(const QString& model) {
  const QFileInfo info(model);
  if (info.isFile()) return info.size();
  qint64 total = 0;
  for (const QString& file : folderWeights(model)) total += QFileInfo(QDir(model).filePath(file)).size();
  return total;
}

QString SessionArchive::modelHash(const QString& model, std::stop_token stop,
                                  const std::function<void(qint64, qint64)>& progress) {
  const QFileInfo info(model);
  if (!info.exists()) throw FileError("no such model", fsPath(model));
  if (info.isFile()) {
    const std::string hex = io::sha256_file_cached(fsPath(model), stop, [&](std::uint64_t done, std::uint64_t total) {
      if (progress) progress(static_cast<qint64>(done), static_cast<qint64>(total));
    });
    return QString::fromStdString(hex);
  }
  const QStringList files = folderWeights(model);
  if (files.isEmpty()) throw FileError("the folder has no weight files", fsPath(model));
  const qint64 total = modelBytes(model);
  qint64 before = 0;
  std::string listing;
  for (const QString& file : files) {
    const QString path = QDir(model).filePath(file);
    const std::string hex = io::sha256_file_cached(fsPath(path), stop, [&](std::uint64_t done, std::uint64_t) {
      if (progress) progress(before + static_cast<qint64>(done), total);
    });
    if (hex.empty()) return {};  // stopped
    before += QFileInfo(path).size();
    listing += hex + "  " + file.toStdString() + "\n";
  }
  io::Sha256 sha;
  sha.update(std::as_bytes(std::span(listing.data(), listing.size())));
  return QString::fromStdString(sha.finish_hex());
}

// ---------------------------------------------------------------------------------------------
// Export

SessionExportResult SessionArchive::write(const QString& sessionDir, const QString& zipPath,
                                          const SessionExportOptions& options, const SessionArchiveProgressFn& progress,
                                          std::stop_token stop) {
  const fs::path session = fsPath(sessionDir);
  const training::TrainingSettings settings = training::read_session_settings(session);  // "not a training session"
  const QDir dir(sessionDir);
  SessionExportResult result;
  if (QFileInfo::exists(zipPath) && !options.overwrite) {
    throw InvalidRequestError(zipPath.toStdString() + " already exists", "choose another name, or replace it");
  }

  // 1. What goes in.
  QList<ArchiveFile> files;
  addFile(files, dir.filePath(QStringLiteral("settings.json")), QStringLiteral("settings.json"));
  addFile(files, dir.filePath(QStringLiteral("metrics.jsonl")), QStringLiteral("metrics.jsonl"));
  addFile(files, dir.filePath(QStringLiteral("log.txt")), QStringLiteral("log.txt"));
  QByteArray snapshotList;  // dataset.json made now, for a session that has not run yet
  if (QFileInfo(dir.filePath(QStringLiteral("dataset/dataset.json"))).isFile()) {
    addFolder(files, dir.filePath(QStringLiteral("dataset")), QStringLiteral("dataset/"));
  } else {
    const training::DatasetSnapshot snapshot = training::dataset_snapshot(settings);
    for (const auto& [source, name] : snapshot.files) {
      addFile(files, qPath(source), QStringLiteral("dataset/") + QString::fromStdString(name));
    }
    snapshotList = QByteArray::fromStdString(snapshot.list_json);
    result.notes.push_back(
        QCoreApplication::translate("SessionArchive", "the session has not run yet: its images were copied from %1")
            .arg(qPath(settings.images)));
  }
  addFolder(files, dir.filePath(QStringLiteral("samples")), QStringLiteral("samples/"));
  if (settings.prior_preservation()) {
    const QString classes =
        settings.class_images.empty() ? dir.filePath(QStringLiteral("class_images")) : qPath(settings.class_images);
    addFolder(files, classes, QStringLiteral("class_images/"));
  }
  const std::optional<training::CheckpointInfo> latest = training::latest_checkpoint(session);
  if (options.contents == SessionArchiveContents::WithCheckpoints) {
    QList<ArchiveFile> checkpoints;
    addFolder(checkpoints, dir.filePath(QStringLiteral("checkpoints")), QStringLiteral("checkpoints/"));
    for (const ArchiveFile& f : checkpoints) {
      if (!f.name.mid(12).contains(QLatin1Char('/')) && f.name.endsWith(QLatin1String(".safetensors")))
        files.push_back(f);
    }
    if (latest) {
      result.checkpointStep = latest->global_step;
    } else {
      result.notes.push_back(QCoreApplication::translate(
          "SessionArchive", "the session has no checkpoint yet: it starts from the beginning"));
    }
  } else if (options.contents == SessionArchiveContents::WeightsOnly) {
    const auto kept = training::kept_checkpoints(session);
    if (kept.empty()) {
      throw InvalidRequestError("the session " + session.string() + " keeps no checkpoint files to export",
                                "train it with kept checkpoints (keep_checkpoints), or export with checkpoints");
    }
    for (const auto& k : kept) addFile(files, qPath(k.path), QStringLiteral("checkpoints/") + qPath(k.path.filename()));
  }

  // 2. The base model's hash.
  const QString model = qPath(settings.base_model);
  if (!QFileInfo::exists(model)) {
    throw InvalidRequestError(
        "the session's base model " + settings.base_model.string() + " is not here, so its hash cannot be recorded",
        "put the model back where the session expects it");
  }
  const qint64 modelSize = modelBytes(model);
  qint64 total = modelSize;
  for (const ArchiveFile& f : files) total += f.size;
  qint64 done = 0;
  auto report = [&](const QString& what, qint64 at) {
    if (progress) progress(SessionArchiveProgress{what, at, total});
  };
  report(QCoreApplication::translate("SessionArchive", "hashing the base model"), 0);
  const QString modelSha = modelHash(model, stop, [&](qint64 d, qint64) {
    report(QCoreApplication::translate("SessionArchive", "hashing the base model"), d);
  });
  if (stop.stop_requested()) {
    result.cancelled = true;
    return result;
  }
  done = modelSize;
  result.baseModelSha256 = modelSha;

  // 3. The zip, under a hidden name beside its place.
  const QFileInfo target(zipPath);
  if (!QDir().mkpath(target.absolutePath())) {
    throw FileError("cannot create the folder", fsPath(target.absolutePath()));
  }
  const QString partial = QDir(target.absolutePath())
                              .filePath(QStringLiteral(".") + target.fileName() + QStringLiteral(".partial-") +
                                        QUuid::createUuid().toString(QUuid::Id128).left(8));
  Cleanup cleanup(partial);
  QJsonArray manifestFiles;
  {
    QuaZip zip(partial);
    zip.setZip64Enabled(true);
    zip.setUtf8Enabled(true);
    if (!zip.open(QuaZip::mdCreate)) {
      throw FileError("cannot create the archive (error " + std::to_string(zip.getZipError()) + ")", fsPath(partial));
    }
    auto addEntry = [&](const QString& name, QIODevice& in, qint64 size) -> bool {
      const bool store = storeUncompressed(name);
      QuaZipNewInfo info(name);
      info.dateTime = QDateTime::currentDateTime();
      info.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup |
                          QFileDevice::ReadOther);
      QuaZipFile out(&zip);
      if (!out.open(QIODevice::WriteOnly, info, nullptr, 0, store ? 0 : Z_DEFLATED,
                    store ? 0 : Z_DEFAULT_COMPRESSION)) {
        throw FileError(
            "cannot add " + name.toStdString() + " to the archive (error " + std::to_string(out.getZipError()) + ")",
            fsPath(partial));
      }
      io::Sha256 sha;
      qint64 bytes = 0;
      QByteArray buffer(1 << 20, Qt::Uninitialized);
      for (;;) {
        if (stop.stop_requested()) return false;
        const qint64 n = in.read(buffer.data(), buffer.size());
        if (n < 0) throw FileError("cannot read: " + in.errorString().toStdString(), fsPath(name));
        if (n == 0) break;
        sha.update(std::as_bytes(std::span(buffer.constData(), static_cast<std::size_t>(n))));
        if (out.write(buffer.constData(), n) != n) {
          throw FileError("cannot write the archive: " + out.errorString().toStdString(), fsPath(partial));
        }
        bytes += n;
        report(name, done + bytes);
      }
      out.close();
      if (out.getZipError() != ZIP_OK) {
        throw FileError("cannot write the archive (error " + std::to_string(out.getZipError()) + ")", fsPath(partial));
      }
      done += std::max(bytes, size);
      manifestFiles.push_back(QJsonObject{{QStringLiteral("name"), name},
                                          {QStringLiteral("bytes"), bytes},
                                          {QStringLiteral("sha256"), QString::fromStdString(sha.finish_hex())}});
      ++result.files;
      return true;
    };
    for (const ArchiveFile& f : files) {
      QFile in(f.source);
      if (!in.open(QIODevice::ReadOnly)) {
        throw FileError("cannot read: " + in.errorString().toStdString(), fsPath(f.source));
      }
      if (!addEntry(f.name, in, f.size)) {
        result.cancelled = true;
        return result;
      }
    }
    if (!snapshotList.isEmpty()) {
      QByteArray list = snapshotList;
      QBuffer buffer(&list);
      buffer.open(QIODevice::ReadOnly);
      addEntry(QStringLiteral("dataset/dataset.json"), buffer, list.size());
    }
    const QFileInfo modelInfo(model);
    QJsonObject manifest{
        {QStringLiteral("format"), QString::fromLatin1(kFormat)},
        {QStringLiteral("version"), kVersion},
        {QStringLiteral("created"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
        {QStringLiteral("session"), QFileInfo(sessionDir).fileName()},
        {QStringLiteral("contents"), toString(options.contents)},
        {QStringLiteral("checkpoint_step"), result.checkpointStep},
        {QStringLiteral("base_model"),
         QJsonObject{{QStringLiteral("name"),
                      qPath(settings.base_model.has_filename() ? settings.base_model.filename()
                                                               : settings.base_model.parent_path().filename())},
                     {QStringLiteral("kind"), modelInfo.isDir() ? QStringLiteral("diffusers") : QStringLiteral("file")},
                     {QStringLiteral("bytes"), modelSize},
                     {QStringLiteral("sha256"), modelSha}}},
        {QStringLiteral("files"), manifestFiles}};
    QByteArray manifestBytes = QJsonDocument(manifest).toJson(QJsonDocument::Indented);
    QBuffer buffer(&manifestBytes);
    buffer.open(QIODevice::ReadOnly);
    const int files = result.files;
    if (!addEntry(kManifest, buffer, manifestBytes.size())) {
      result.cancelled = true;
      return result;
    }
    result.files = files;
    zip.close();
    if (zip.getZipError() != ZIP_OK) {
      throw FileError("cannot finish the archive (error " + std::to_string(zip.getZipError()) + ")", fsPath(partial));
    }
  }
  if (stop.stop_requested()) {
    result.cancelled = true;
    return result;
  }
  if (QFileInfo::exists(zipPath) && !QFile::remove(zipPath)) {
    throw FileError("cannot replace the existing file", fsPath(zipPath));
  }
  if (!QFile::rename(partial, zipPath)) throw FileError("cannot move the archive into place", fsPath(zipPath));
  cleanup.keep();
  result.zipPath = QFileInfo(zipPath).absoluteFilePath();
  result.bytes = QFileInfo(zipPath).size();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Import

namespace {

struct ManifestFile {
  qint64 bytes = 0;
  QString sha256;
};

struct Manifest {
  QString contents;
  QString modelName, modelKind, modelSha;
  qint64 modelBytes = 0;
  std::map<QString, ManifestFile> files;
};

Manifest parseManifest(const QByteArray& bytes, const fs::path& archive) {
  auto fail = [&](const std::string& why) -> FormatError {
    return FormatError("manifest.json: " + why, archive, "the archive is damaged or not a Kiln session");
  };
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
  if (!doc.isObject()) throw fail("not a JSON object (" + error.errorString().toStdString() + ")");
  const QJsonObject o = doc.object();
  if (o.value(QLatin1String("format")).toString() != QLatin1String(kFormat)) {
    throw fail(std::string("not a Kiln session archive (format is not '") + kFormat + "')");
  }
  if (o.value(QLatin1String("version")).toInt() != kVersion) {
    throw fail("version " + std::to_string(o.value(QLatin1String("version")).toInt()) +
               " is not one this Kiln reads (it reads " + std::to_string(kVersion) + ")");
  }
  Manifest m;
  m.contents = o.value(QLatin1String("contents")).toString();
  const QJsonObject model = o.value(QLatin1String("base_model")).toObject();
  m.modelName = model.value(QLatin1String("name")).toString();
  m.modelKind = model.value(QLatin1String("kind")).toString();
  m.modelSha = model.value(QLatin1String("sha256")).toString();
  m.modelBytes = model.value(QLatin1String("bytes")).toInteger(-1);
  static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
  if (!hex.match(m.modelSha).hasMatch() || m.modelBytes < 0 ||
      (m.modelKind != QLatin1String("file") && m.modelKind != QLatin1String("diffusers"))) {
    throw fail("base_model needs a name, kind (file or diffusers), bytes and sha256");
  }
  const QJsonValue files = o.value(QLatin1String("files"));
  if (!files.isArray()) throw fail("no files list");
  for (const QJsonValue& v : files.toArray()) {
    const QJsonObject f = v.toObject();
    const QString name = f.value(QLatin1String("name")).toString();
    ManifestFile file{f.value(QLatin1String("bytes")).toInteger(-1), f.value(QLatin1String("sha256")).toString()};
    if (name.isEmpty() || file.bytes < 0 || !hex.match(file.sha256).hasMatch()) {
      throw fail("a files entry needs a name, bytes and a sha256 (entry " + std::to_string(m.files.size() + 1) + ")");
    }
    if (!m.files.emplace(name, file).second) throw fail("'" + name.toStdString() + "' is listed twice");
  }
  return m;
}

// Model files and diffusers folders under `path` (itself, or inside to `depth` levels).
void collectCandidates(const QString& path, int depth, QStringList& out) {
  const QFileInfo info(path);
  if (info.isFile()) {
    if (isWeightFile(path)) out.push_back(info.absoluteFilePath());
    return;
  }
  if (!info.isDir()) return;
  if (isDiffusersFolder(path)) {
    out.push_back(info.absoluteFilePath());
    return;
  }
  if (depth == 0) return;
  const QFileInfoList children = QDir(path).entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
  for (const QFileInfo& child : children) collectCandidates(child.absoluteFilePath(), depth - 1, out);
}

}  // namespace

SessionImportResult SessionArchive::read(const QString& zipPath, const QString& destDir,
                                         const SessionImportOptions& options, const SessionArchiveProgressFn& progress,
                                         std::stop_token stop) {
  const fs::path archive = fsPath(zipPath);
  SessionImportResult result;

  // 1. The zip's directory, the session layout, the manifest: all before writing anything.
  SafeZip zip(zipPath, options.limits);
  for (const ZipEntry& e : zip.entries()) {
    if (!allowedEntry(e.name, e.directory)) {
      throw FormatError("zip entry '" + e.name.toStdString() +
                            "' is not part of a training session; nothing was "
                            "imported",
                        archive, "the archive is damaged, hostile or not a Kiln session");
    }
  }
  const qint64 total = zip.checkSizes([](const ZipEntry&) { return true; });
  if (zip.find(kManifest) == nullptr) {
    throw FormatError("the zip has no manifest.json: not a Kiln session archive; nothing was imported", archive);
  }
  const Manifest manifest = parseManifest(zip.readEntry(kManifest, kManifestLimit), archive);
  for (const ZipEntry& e : zip.entries()) {
    if (e.directory || e.name == kManifest) continue;
    const auto it = manifest.files.find(e.name);
    if (it == manifest.files.end()) {
      throw FormatError("zip entry '" + e.name.toStdString() + "' is not in the manifest; nothing was imported",
                        archive, "the archive was changed after it was made");
    }
    if (it->second.bytes != e.size) {
      throw FormatError("zip entry '" + e.name.toStdString() + "' declares " + std::to_string(e.size) +
                            " bytes, the manifest " + std::to_string(it->second.bytes) + "; nothing was imported",
                        archive, "the archive was changed after it was made");
    }
  }
  for (const auto& [name, file] : manifest.files) {
    if (zip.find(name) == nullptr || zip.find(name)->directory) {
      throw FormatError("the manifest lists '" + name.toStdString() + "', which the zip lacks; nothing was imported",
                        archive, "the archive is incomplete");
    }
  }
  if (zip.find(QStringLiteral("settings.json")) == nullptr) {
    throw FormatError("the zip has no settings.json; nothing was imported", archive);
  }

  // The settings, read first (and checked against the manifest) to know the base model's path.
  const QByteArray settingsBytes = zip.readEntry(QStringLiteral("settings.json"), kSettingsLimit);
  {
    io::Sha256 sha;
    sha.update(std::as_bytes(std::span(settingsBytes.constData(), static_cast<std::size_t>(settingsBytes.size()))));
    if (QString::fromStdString(sha.finish_hex()) != manifest.files.at(QStringLiteral("settings.json")).sha256) {
      throw FormatError("zip entry 'settings.json' does not match its sha256 in the manifest; nothing was imported",
                        archive, "the archive was changed after it was made");
    }
  }
  training::TrainingSettings settings;
  {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(settingsBytes.toStdString());
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(std::string("settings.json is not valid JSON: ") + e.what(), archive);
    }
    settings = training::settings_from_json(j, archive / "settings.json");
  }

  // 2. The destination: a new or empty folder, with room for the session.
  const QString dest = QFileInfo(destDir).absoluteFilePath();
  const QFileInfo destInfo(dest);
  if (destInfo.exists() &&
      (!destInfo.isDir() || !QDir(dest).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).isEmpty())) {
    throw InvalidRequestError(dest.toStdString() + " already exists and is not an empty folder",
                              "import into a new folder");
  }
  const QString parent = destInfo.absolutePath();
  if (!QDir().mkpath(parent)) throw FileError("cannot create the folder", fsPath(parent));
  const QStorageInfo storage(parent);
  if (storage.isValid() && storage.bytesAvailable() >= 0 && storage.bytesAvailable() < total + (qint64{16} << 20)) {
    throw InvalidRequestError("the session needs " + SafeZip::sizeText(total).toStdString() + " but " +
                              parent.toStdString() + " has " +
                              SafeZip::sizeText(storage.bytesAvailable()).toStdString() + " free");
  }

  // 3. The base model, by its hash: the candidates given, then the path the settings name.
  const qint64 hashTotal = manifest.modelBytes;
  QStringList candidates;
  for (const QString& m : options.models) collectCandidates(m, 4, candidates);
  candidates.push_back(QFileInfo(qPath(settings.base_model)).absoluteFilePath());
  candidates.removeDuplicates();
  // The same name first: most likely the one.
  std::stable_sort(candidates.begin(), candidates.end(), [&](const QString& a, const QString& b) {
    return (QFileInfo(a).fileName() == manifest.modelName) > (QFileInfo(b).fileName() == manifest.modelName);
  });
  QString found;
  for (const QString& candidate : candidates) {
    const QFileInfo info(candidate);
    if (!info.exists()) continue;
    const bool folder = info.isDir();
    if (folder != (manifest.modelKind == QLatin1String("diffusers"))) continue;
    if (folder && !isDiffusersFolder(candidate)) continue;
    if (modelBytes(candidate) != manifest.modelBytes) continue;
    const QString what =
        QCoreApplication::translate("SessionArchive", "looking for the base model: %1").arg(info.fileName());
    const QString sha = modelHash(candidate, stop, [&](qint64 d, qint64) {
      if (progress) progress(SessionArchiveProgress{what, d, hashTotal});
    });
    if (stop.stop_requested()) {
      result.cancelled = true;
      return result;
    }
    if (sha == manifest.modelSha) {
      found = candidate;
      break;
    }
  }
  if (found.isEmpty()) {
    throw InvalidRequestError("the session's base model '" + manifest.modelName.toStdString() + "' (sha256 " +
                                  manifest.modelSha.toStdString() + ") is not here; nothing was imported",
                              "pass the folder that holds it: kiln-cli session import --models DIR, or a model "
                              "folder of the app's library");
  }
  result.baseModel = found;

  // 4. Extract into a staging folder beside DIR, each entry's sha256 checked as it inflates.
  const QString staging = QDir(parent).filePath(QStringLiteral(".") + destInfo.fileName() + QStringLiteral(".import-") +
                                                QUuid::createUuid().toString(QUuid::Id128).left(8));
  if (!QDir().mkpath(staging)) throw FileError("cannot create the staging folder", fsPath(staging));
  Cleanup cleanup(staging);
  const QString root = QDir(staging).canonicalPath();
  QFile out;
  io::Sha256 sha;  // finish_hex() starts it again for the next entry
  QString current;
  qint64 done = 0;
  auto finishEntry = [&]() {
    if (current.isEmpty()) return;
    if (!out.flush()) throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(out.fileName()));
    out.close();
    if (QString::fromStdString(sha.finish_hex()) != manifest.files.at(current).sha256) {
      throw FormatError(
          "zip entry '" + current.toStdString() + "' does not match its sha256 in the manifest; nothing was imported",
          archive, "the archive was changed after it was made");
    }
    current.clear();
  };
  const bool complete = zip.extract(
      [&](const ZipEntry& e) -> QIODevice* {
        finishEntry();
        if (e.name == kManifest) return nullptr;  // read and checked above
        const QString target = QDir(staging).absoluteFilePath(e.name);
        const QString folder = QFileInfo(target).absolutePath();
        if (!QDir().mkpath(folder)) throw FileError("cannot create a folder for the entry", fsPath(folder));
        // Belt and braces: the resolved folder must still lie inside the staging folder.
        const QString canonical = QDir(folder).canonicalPath();
        if (canonical != root && !canonical.startsWith(root + QLatin1Char('/'))) {
          throw FormatError("zip entry '" + e.name.toStdString() + "' resolves outside the folder", archive);
        }
        out.setFileName(target);
        if (!out.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
          throw FileError("cannot write: " + out.errorString().toStdString(), fsPath(target));
        }
        current = e.name;
        ++result.files;
        return &out;
      },
      [&](const ZipEntry& e, const char* data, qint64 n) {
        sha.update(std::as_bytes(std::span(data, static_cast<std::size_t>(n))));
        done += n;
        if (progress) progress(SessionArchiveProgress{e.name, done, total});
      },
      stop);
  if (!complete) {
    result.cancelled = true;
    return result;
  }
  finishEntry();

  // 5. settings.json for this machine.
  const fs::path finalDir = fsPath(dest);
  settings.base_model = fsPath(found);
  if (QFileInfo(QDir(staging).filePath(QStringLiteral("dataset/dataset.json"))).isFile()) {
    settings.images = finalDir / "dataset";
  } else if (!fs::is_directory(settings.images)) {
    result.notes.push_back(
        QCoreApplication::translate("SessionArchive", "the archive has no copy of the images, and %1 is not here")
            .arg(qPath(settings.images)));
  }
  if (settings.prior_preservation()) {
    const bool carried = std::any_of(zip.entries().begin(), zip.entries().end(), [](const ZipEntry& e) {
      return e.name.startsWith(QLatin1String("class_images/")) && !e.directory;
    });
    if (carried || !fs::is_directory(settings.class_images)) settings.class_images.clear();
  }
  if (!settings.tokenizer_dir.empty() && !fs::is_directory(settings.tokenizer_dir)) {
    if (!options.tokenizerDir.isEmpty()) {
      settings.tokenizer_dir = fsPath(options.tokenizerDir);
    } else {
      result.notes.push_back(QCoreApplication::translate("SessionArchive", "the tokenizer folder %1 is not here")
                                 .arg(qPath(settings.tokenizer_dir)));
    }
  }
  if (!settings.config_dir.empty() && !fs::is_directory(settings.config_dir)) {
    result.notes.push_back(QCoreApplication::translate(
                               "SessionArchive", "the model config folder %1 is not here; set it again before training")
                               .arg(qPath(settings.config_dir)));
  }
  training::write_session_settings(fsPath(staging), settings);
  if (const auto checkpoint = training::latest_checkpoint(fsPath(staging)))
    result.checkpointStep = checkpoint->global_step;

  // 6. Into place.
  if (destInfo.exists() && !QDir().rmdir(dest)) throw FileError("cannot replace the empty folder", finalDir);
  if (!QDir().rename(staging, dest)) throw FileError("cannot move the imported session into place", finalDir);
  cleanup.keep();
  result.sessionDir = dest;
  return result;
}

}  // namespace kiln::app
