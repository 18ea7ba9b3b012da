#pragma once
// The curated list of models Kiln offers to download (resources/catalog/models.json, built in as
// :/catalog/models.json): the standard bases, the ControlNets matching the ControlNet panel's
// preprocessors, and the preprocessors' network weights. Each entry names its source (pinned where
// a revision is known), exact size and sha256 where published, family, licence and a one-line
// description; `provenance` says where the size and hash came from. Nothing here downloads.

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

#include "downloads/source_spec.h"

namespace kiln::downloads {

struct Licence {
  QString name;
  QString url;
};

struct CatalogEntry {
  QString id;           // "sd15": what kiln-cli models download takes
  QString name;         // "Stable Diffusion 1.5"
  QString family;       // sd1 | sd2 | sd2-v | sdxl | sdxl-refiner; "any" for annotator weights
  QString kind;         // checkpoint | vae | controlnet | annotator
  QStringList preprocessors;  // controlnet: the modules it pairs with; annotator: those using it
  SourceSpec source;
  QString saveAs;       // the file's name in the models folder when the source's is ambiguous
  qint64 size = -1;     // exact bytes; -1 when not published
  QString sha256;       // 64 lowercase hex digits; empty when not published
  Licence licence;
  QString description;
  QString provenance;

  QString fileName() const { return saveAs.isEmpty() ? source.defaultFileName() : saveAs; }
  // Where the file goes under a models folder: checkpoints at its top, "VAE", "ControlNet",
  // "annotators" below it (A1111's layout, which the library and the preprocessors search).
  QString subfolder() const;
};

class Catalog {
 public:
  // Reads and checks a catalog file; on failure returns nothing and sets `error` to one line
  // naming the file and the entry.
  static std::optional<Catalog> load(const QString& path, QString* error);
  static std::optional<Catalog> parse(const QByteArray& json, const QString& origin, QString* error);
  // The catalog built into Kiln (aborts with a message if the resource is broken: a build error).
  static const Catalog& builtIn();

  QString version() const { return mVersion; }
  const QList<CatalogEntry>& entries() const { return mEntries; }
  const CatalogEntry* find(const QString& id) const;
  // The families present, in catalog order.
  QStringList families() const;

 private:
  QString mVersion;
  QList<CatalogEntry> mEntries;
};

// Human sizes as the Models page and kiln-cli show them: "4.3 GB", "723 MB", "12 KB" (SI units,
// like the download pages).
QString formatBytes(qint64 bytes);

}  // namespace kiln::downloads
