#include "api/model_catalog.h"

#include <QDir>
#include <QFileInfo>

#include <cstdio>
#include <exception>

#include "convert/model_info.h"
#include "services/folder_scanner.h"

namespace kiln::api {

QString CatalogModel::title() const {
  return sha256.isEmpty() ? relative : QStringLiteral("%1 [%2]").arg(relative, shortHash());
}

ModelCatalog::ModelCatalog(QStringList folders) : mFolders(std::move(folders)) {}

void ModelCatalog::refresh() {
  QList<Entry> entries;
  QList<QDir> roots;
  for (const QString& f : mFolders) roots << QDir(QFileInfo(f).absoluteFilePath());
  const app::ScanResult scan = app::FolderScanner::scan(mFolders);
  for (const app::FoundModel& found : scan.models) {
    const auto same = std::find_if(mEntries.begin(), mEntries.end(), [&](const Entry& e) {
      return e.model.path == found.path && e.model.size == found.size && e.model.mtimeMs == found.mtimeMs;
    });
    if (same != mEntries.end()) {
      entries << *same;
      continue;
    }
    Entry e;
    e.model.path = found.path;
    e.model.size = found.size;
    e.model.mtimeMs = found.mtimeMs;
    e.model.fileName = QFileInfo(found.path).fileName();
    e.model.relative = e.model.fileName;
    for (const QDir& root : roots) {
      const QString rel = root.relativeFilePath(found.path);
      if (!rel.startsWith(QLatin1String(".."))) {
        e.model.relative = rel;
        break;
      }
    }
    const QFileInfo rel(e.model.relative);
    e.model.modelName =
        found.isFolder
            ? e.model.relative
            : (rel.path() == QLatin1String(".") ? QString() : rel.path() + QLatin1Char('/')) + rel.completeBaseName();
    try {
      convert::InspectOptions options;
      options.hash = false;
      const convert::ModelInfo info = convert::inspect_model(found.path.toStdString(), options);
      const convert::ModelFamily family = info.detection.family;
      e.model.family = QString::fromUtf8(convert::to_string(family).data());
      using F = convert::ModelFamily;
      if (family == F::SD1 || family == F::SD2 || family == F::SDXL || family == F::SD1Inpaint ||
          family == F::SD2Inpaint)
        e.kind = Kind::Checkpoint;
      else if (family == F::LoRASD1 || family == F::LoRASD2 || family == F::LoRASDXL)
        e.kind = Kind::LoRA;
      else if (family == F::ControlNetSD1 || family == F::ControlNetSD2 || family == F::ControlNetSDXL)
        e.kind = Kind::ControlNet;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "kiln API: skipping %s: %s\n", qPrintable(found.path), error.what());
    }
    entries << e;
  }
  mEntries = entries;
}

QList<CatalogModel> ModelCatalog::byKind(Kind kind) const {
  QList<CatalogModel> list;
  for (const Entry& e : mEntries)
    if (e.kind == kind) list << e.model;
  return list;
}

std::optional<CatalogModel> ModelCatalog::findCheckpoint(const QString& name) const {
  const QString n = name.trimmed();
  if (n.isEmpty()) return std::nullopt;
  for (const Entry& e : mEntries) {
    if (e.kind != Kind::Checkpoint) continue;
    const CatalogModel& m = e.model;
    if (n == m.title() || n == m.relative || n == m.modelName || n == m.fileName || n == m.path ||
        n == QFileInfo(m.fileName).completeBaseName() ||
        (!m.sha256.isEmpty() &&
         (n.compare(m.sha256, Qt::CaseInsensitive) == 0 || n.compare(m.shortHash(), Qt::CaseInsensitive) == 0)))
      return m;
  }
  // "name.safetensors [hash]" of a model not hashed yet: the name part.
  const qsizetype bracket = n.lastIndexOf(QLatin1String(" ["));
  if (bracket > 0 && n.endsWith(QLatin1Char(']'))) return findCheckpoint(n.left(bracket));
  return std::nullopt;
}

std::optional<CatalogModel> ModelCatalog::findLoRA(const QString& name) const {
  for (const Entry& e : mEntries)
    if (e.kind == Kind::LoRA && (QFileInfo(e.model.fileName).completeBaseName() == name || e.model.modelName == name))
      return e.model;
  return std::nullopt;
}

std::optional<CatalogModel> ModelCatalog::findControlNet(const QString& name) const {
  QString n = name.trimmed();
  const qsizetype bracket = n.lastIndexOf(QLatin1String(" ["));
  if (bracket > 0 && n.endsWith(QLatin1Char(']'))) n = n.left(bracket);
  for (const Entry& e : mEntries)
    if (e.kind == Kind::ControlNet &&
        (QFileInfo(e.model.fileName).completeBaseName() == n || e.model.modelName == n || e.model.fileName == n))
      return e.model;
  return std::nullopt;
}

void ModelCatalog::setSha256(const QString& path, const QString& sha256) {
  for (Entry& e : mEntries)
    if (e.model.path == path) e.model.sha256 = sha256;
}

}  // namespace kiln::api
