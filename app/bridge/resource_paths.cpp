#include "bridge/resource_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace kiln::bridge {

std::filesystem::path clipVocabularyDir() {
  const QString installed =
      QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QStringLiteral("../share/kiln/clip"));
  if (QFileInfo::exists(installed + QStringLiteral("/vocab.json"))) return QDir::cleanPath(installed).toStdString();
  return std::filesystem::path(KILN_SOURCE_DIR) / "resources" / "clip";
}

}  // namespace kiln::bridge
