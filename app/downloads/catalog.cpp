#include "downloads/catalog.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <cstdio>
#include <cstdlib>

namespace kiln::downloads {

namespace {

const QStringList kFamilies{QStringLiteral("sd1"), QStringLiteral("sd2"), QStringLiteral("sd2-v"),
                            QStringLiteral("sdxl"), QStringLiteral("sdxl-refiner"), QStringLiteral("any")};
const QStringList kKinds{QStringLiteral("checkpoint"), QStringLiteral("vae"), QStringLiteral("controlnet"),
                         QStringLiteral("annotator")};

struct EntryError {
  QString message;
};

QString requireString(const QJsonObject& o, const char* key) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (!v.isString() || v.toString().trimmed().isEmpty())
    throw EntryError{QStringLiteral("'%1' is missing or not a text").arg(QLatin1String(key))};
  return v.toString();
}

SourceSpec parseEntrySource(const QJsonObject& o) {
  const QJsonValue v = o.value(QLatin1String("source"));
  if (!v.isObject()) throw EntryError{QStringLiteral("'source' is missing")};
  const QJsonObject s = v.toObject();
  const QString type = requireString(s, "type");
  QString error;
  std::optional<SourceSpec> spec;
  if (type == QLatin1String("hf")) {
    const QString revision = s.value(QLatin1String("revision")).toString(QStringLiteral("main"));
    spec = parseSource(QStringLiteral("hf:%1/%2@%3").arg(requireString(s, "repo"), requireString(s, "file"), revision),
                       &error);
  } else if (type == QLatin1String("civitai")) {
    const QJsonValue version = s.value(QLatin1String("version"));
    if (!version.isDouble()) throw EntryError{QStringLiteral("'source.version' is not a number")};
    spec = parseSource(QStringLiteral("civitai:%1").arg(qint64(version.toDouble())), &error);
  } else if (type == QLatin1String("url")) {
    spec = parseSource(requireString(s, "url"), &error);
  } else {
    throw EntryError{QStringLiteral("unknown source type '%1' (hf, civitai or url)").arg(type)};
  }
  if (!spec) throw EntryError{error};
  if (spec->defaultFileName().isEmpty() && spec->type != SourceSpec::Type::Civitai)
    throw EntryError{QStringLiteral("the source names no file")};
  return *spec;
}

// "save_as": the name in the models folder when the source's own is ambiguous
// (diffusion_pytorch_model.safetensors).
QString parseSaveAs(const QJsonObject& o) {
  const QString name = o.value(QLatin1String("source")).toObject().value(QLatin1String("save_as")).toString();
  if (name.isEmpty()) return {};
  if (name.contains(QLatin1Char('/')) || name.contains(QLatin1Char('\\')) || name.startsWith(QLatin1Char('.')))
    throw EntryError{QStringLiteral("'source.save_as' must be a plain file name")};
  return name;
}

CatalogEntry parseEntry(const QJsonObject& o) {
  static const QRegularExpression idRe(QStringLiteral("^[a-z0-9][a-z0-9-]*$"));
  static const QRegularExpression shaRe(QStringLiteral("^[0-9a-f]{64}$"));
  CatalogEntry e;
  e.id = requireString(o, "id");
  if (!idRe.match(e.id).hasMatch()) throw EntryError{QStringLiteral("id '%1' is not lowercase [a-z0-9-]").arg(e.id)};
  e.name = requireString(o, "name");
  e.family = requireString(o, "family");
  if (!kFamilies.contains(e.family))
    throw EntryError{QStringLiteral("family '%1' is not one of %2").arg(e.family, kFamilies.join(QLatin1String(", ")))};
  e.kind = requireString(o, "kind");
  if (!kKinds.contains(e.kind))
    throw EntryError{QStringLiteral("kind '%1' is not one of %2").arg(e.kind, kKinds.join(QLatin1String(", ")))};
  if ((e.family == QLatin1String("any")) != (e.kind == QLatin1String("annotator")))
    throw EntryError{QStringLiteral("family 'any' is for annotator weights only, which work with every base")};
  for (const QJsonValue& p : o.value(QLatin1String("preprocessors")).toArray()) e.preprocessors << p.toString();
  e.source = parseEntrySource(o);
  e.saveAs = parseSaveAs(o);
  const QJsonValue size = o.value(QLatin1String("size"));
  if (size.isDouble()) {
    e.size = static_cast<qint64>(size.toDouble());
    if (e.size <= 0 || double(e.size) != size.toDouble()) throw EntryError{QStringLiteral("'size' is not a byte count")};
  } else if (!size.isNull() && !size.isUndefined()) {
    throw EntryError{QStringLiteral("'size' is not a number or null")};
  }
  const QJsonValue sha = o.value(QLatin1String("sha256"));
  if (sha.isString()) {
    e.sha256 = sha.toString();
    if (!shaRe.match(e.sha256).hasMatch()) throw EntryError{QStringLiteral("'sha256' is not 64 lowercase hex digits")};
  } else if (!sha.isNull() && !sha.isUndefined()) {
    throw EntryError{QStringLiteral("'sha256' is not a text or null")};
  }
  const QJsonObject licence = o.value(QLatin1String("license")).toObject();
  e.licence.name = requireString(licence, "name");
  e.licence.url = licence.value(QLatin1String("url")).toString();
  e.description = requireString(o, "description");
  e.provenance = o.value(QLatin1String("provenance")).toString();
  return e;
}

}  // namespace

QString CatalogEntry::subfolder() const {
  if (kind == QLatin1String("vae")) return QStringLiteral("VAE");
  if (kind == QLatin1String("controlnet")) return QStringLiteral("ControlNet");
  if (kind == QLatin1String("annotator")) return QStringLiteral("annotators");
  return {};
}

std::optional<Catalog> Catalog::parse(const QByteArray& json, const QString& origin, QString* error) {
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
  if (doc.isNull()) {
    if (error)
      *error = QStringLiteral("%1: not JSON (%2 at byte %3)").arg(origin, parseError.errorString()).arg(parseError.offset);
    return std::nullopt;
  }
  const QJsonObject root = doc.object();
  if (root.value(QLatin1String("format")).toInt() != 1) {
    if (error) *error = QStringLiteral("%1: unknown catalog format (expected \"format\": 1)").arg(origin);
    return std::nullopt;
  }
  Catalog catalog;
  catalog.mVersion = root.value(QLatin1String("version")).toString();
  QSet<QString> ids;
  const QJsonArray entries = root.value(QLatin1String("entries")).toArray();
  for (qsizetype i = 0; i < entries.size(); ++i) {
    const QJsonObject o = entries.at(i).toObject();
    try {
      CatalogEntry e = parseEntry(o);
      if (ids.contains(e.id)) throw EntryError{QStringLiteral("id '%1' appears twice").arg(e.id)};
      ids.insert(e.id);
      catalog.mEntries.push_back(std::move(e));
    } catch (const EntryError& e) {
      const QString id = o.value(QLatin1String("id")).toString();
      if (error)
        *error = QStringLiteral("%1: entry %2%3: %4")
                     .arg(origin)
                     .arg(i + 1)
                     .arg(id.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(id), e.message);
      return std::nullopt;
    }
  }
  return catalog;
}

std::optional<Catalog> Catalog::load(const QString& path, QString* error) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    if (error) *error = QStringLiteral("%1: %2").arg(path, file.errorString());
    return std::nullopt;
  }
  return parse(file.readAll(), path, error);
}

const Catalog& Catalog::builtIn() {
  static const Catalog catalog = [] {
    QString error;
    std::optional<Catalog> c = load(QStringLiteral(":/catalog/models.json"), &error);
    if (!c) {
      std::fprintf(stderr, "kiln: the built-in catalog is broken: %s\n", qPrintable(error));
      std::abort();
    }
    return *c;
  }();
  return catalog;
}

const CatalogEntry* Catalog::find(const QString& id) const {
  for (const CatalogEntry& e : mEntries)
    if (e.id == id) return &e;
  return nullptr;
}

QStringList Catalog::families() const {
  QStringList out;
  for (const CatalogEntry& e : mEntries)
    if (!out.contains(e.family)) out << e.family;
  return out;
}

QString formatBytes(qint64 bytes) {
  if (bytes < 0) return QStringLiteral("?");
  if (bytes < 1000) return QStringLiteral("%1 B").arg(bytes);
  const char* units[] = {"KB", "MB", "GB", "TB"};
  double v = double(bytes);
  int u = -1;
  while (v >= 1000.0 && u < 3) {
    v /= 1000.0;
    ++u;
  }
  return QStringLiteral("%1 %2").arg(v < 10 ? QString::number(v, 'f', 1) : QString::number(v, 'f', 0),
                                     QLatin1String(units[u]));
}

}  // namespace kiln::downloads
