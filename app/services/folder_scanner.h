#pragma once
// Finds the models in the user's folders: weight files (.safetensors .ckpt .pt .pth .bin) and
// diffusers folders, looking a few levels deep. Plain function of the file system, run on a
// pool thread so that a slow or huge folder never freezes the window.

#include <QList>
#include <QString>
#include <QStringList>

namespace kiln::app {

struct FoundModel {
  QString path;  // absolute
  bool isFolder = false;
  // Fingerprint to notice a changed model: total bytes and newest modification time of its
  // weights (for a folder, of the files in it and its component folders).
  qint64 size = 0;
  qint64 mtimeMs = 0;
};

struct ScanResult {
  QStringList folders;             // what was scanned
  QList<FoundModel> models;        // sorted by path, each once even when folders overlap
  QStringList watchPaths;          // folders and model files whose changes mean a rescan
  QStringList unavailableFolders;  // missing or unreadable folders of the list
};

class FolderScanner {
 public:
  // How many folder levels below each chosen folder are searched.
  static constexpr int kMaxDepth = 4;

  static ScanResult scan(const QStringList& folders, int maxDepth = kMaxDepth);
};

}  // namespace kiln::app
