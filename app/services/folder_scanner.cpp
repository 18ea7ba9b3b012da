#include "services/folder_scanner.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QSet>

#include <algorithm>
#include <filesystem>

#include "io/diffusers_folder.h"
#include "io/weight_file.h"

namespace kiln::app {

namespace {

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }

struct Walk {
  int maxDepth;
  ScanResult& result;
  QSet<QString> visited;  // canonical folders: symlink loops end here
  QSet<QString> found;    // canonical model paths: overlapping folders list a model once

  void folder(const QString& dir, int depth) {
    const QString canonical = QFileInfo(dir).canonicalFilePath();
    if (canonical.isEmpty() || visited.contains(canonical)) return;
    visited.insert(canonical);
    result.watchPaths << dir;

    if (io::DiffusersFolder::looks_like(toPath(dir))) {
      diffusersFolder(dir, canonical);
      return;
    }
    const QFileInfoList entries =
        QDir(dir).entryInfoList(QDir::AllDirs | QDir::Files | QDir::NoDotAndDotDot | QDir::Readable, QDir::Name);
    for (const QFileInfo& entry : entries) {
      if (entry.isDir()) {
        if (depth < maxDepth) folder(entry.absoluteFilePath(), depth + 1);
      } else if (io::is_weight_file_name(toPath(entry.fileName()))) {
        const QString key = entry.canonicalFilePath();
        if (key.isEmpty() || found.contains(key)) continue;
        found.insert(key);
        result.models.append({entry.absoluteFilePath(), false, entry.size(),
                              entry.lastModified().toMSecsSinceEpoch()});
        result.watchPaths << entry.absoluteFilePath();
      }
    }
  }

  // A diffusers folder is one model: not searched for more, but its component folders are
  // watched (replacing the UNet's weights changes the model).
  void diffusersFolder(const QString& dir, const QString& canonical) {
    if (found.contains(canonical)) return;
    found.insert(canonical);
    FoundModel model{dir, true, 0, QFileInfo(dir).lastModified().toMSecsSinceEpoch()};
    QDirIterator it(dir, QDir::AllDirs | QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      it.next();
      const QFileInfo info = it.fileInfo();
      const QString relative = QDir(dir).relativeFilePath(info.absoluteFilePath());
      if (relative.count(QLatin1Char('/')) > 1) continue;  // components are one level down
      if (info.isDir()) {
        result.watchPaths << info.absoluteFilePath();
        continue;
      }
      model.size += info.size();
      model.mtimeMs = std::max(model.mtimeMs, info.lastModified().toMSecsSinceEpoch());
    }
    result.models.append(model);
  }
};

}  // namespace

ScanResult FolderScanner::scan(const QStringList& folders, int maxDepth) {
  ScanResult result;
  result.folders = folders;
  Walk walk{maxDepth, result, {}, {}};
  for (const QString& folder : folders) {
    const QFileInfo info(folder);
    if (!info.isDir() || !info.isReadable()) {
      result.unavailableFolders << folder;
      continue;
    }
    walk.folder(info.absoluteFilePath(), 0);
  }
  std::sort(result.models.begin(), result.models.end(),
            [](const FoundModel& a, const FoundModel& b) { return a.path < b.path; });
  result.watchPaths.removeDuplicates();
  return result;
}

}  // namespace kiln::app
