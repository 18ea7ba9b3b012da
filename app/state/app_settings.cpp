#include "state/app_settings.h"

#include <QDir>

#include <algorithm>

namespace kiln::app {

namespace {

const QString kFolders = QStringLiteral("models/folders");
const QString kSelected = QStringLiteral("models/selected");
const QString kHashCache = QStringLiteral("models/hashCache");
const QString kGeometry = QStringLiteral("window/geometry");
const QString kState = QStringLiteral("window/state");
const QString kPage = QStringLiteral("window/page");
const QString kLanguage = QStringLiteral("ui/language");
const QString kAppearance = QStringLiteral("ui/appearance");
const QString kApiServer = QStringLiteral("api/");
const QString kLicences = QStringLiteral("downloads/acceptedLicences");

// Oldest entries go first once the cache holds this many files.
constexpr int kHashCacheLimit = 2000;

// One cache line: "size<TAB>mtime<TAB>sha256<TAB>path" (the path last: it may hold anything
// but a newline).
QString cacheLine(const QString& file, qint64 size, qint64 mtimeMs, const QString& sha256) {
  return QStringLiteral("%1\t%2\t%3\t%4").arg(size).arg(mtimeMs).arg(sha256, file);
}

}  // namespace

AppSettings::AppSettings(QObject* parent) : QObject(parent), mSettings(std::make_unique<QSettings>()) {}

AppSettings::AppSettings(const QString& iniFile, QObject* parent)
    : QObject(parent), mSettings(std::make_unique<QSettings>(iniFile, QSettings::IniFormat)) {}

AppSettings::~AppSettings() { mSettings->sync(); }

QStringList AppSettings::modelFolders() const { return mSettings->value(kFolders).toStringList(); }

void AppSettings::setModelFolders(const QStringList& folders) {
  QStringList cleaned;
  for (const QString& f : folders) {
    if (f.isEmpty()) continue;
    const QString path = QDir::cleanPath(QDir(f).absolutePath());
    if (!cleaned.contains(path)) cleaned << path;
  }
  if (cleaned == modelFolders()) return;
  mSettings->setValue(kFolders, cleaned);
  Q_EMIT modelFoldersChanged(cleaned);
}

QByteArray AppSettings::windowGeometry() const { return mSettings->value(kGeometry).toByteArray(); }
void AppSettings::setWindowGeometry(const QByteArray& geometry) { mSettings->setValue(kGeometry, geometry); }
QByteArray AppSettings::windowState() const { return mSettings->value(kState).toByteArray(); }
void AppSettings::setWindowState(const QByteArray& state) { mSettings->setValue(kState, state); }
QString AppSettings::currentPage() const { return mSettings->value(kPage).toString(); }
void AppSettings::setCurrentPage(const QString& page) { mSettings->setValue(kPage, page); }

QByteArray AppSettings::viewState(const QString& key) const {
  return mSettings->value(QStringLiteral("views/") + key).toByteArray();
}
void AppSettings::setViewState(const QString& key, const QByteArray& state) {
  mSettings->setValue(QStringLiteral("views/") + key, state);
}

QString AppSettings::selectedModel() const { return mSettings->value(kSelected).toString(); }
void AppSettings::setSelectedModel(const QString& path) { mSettings->setValue(kSelected, path); }

QString AppSettings::language() const { return mSettings->value(kLanguage).toString(); }
void AppSettings::setLanguage(const QString& code) { mSettings->setValue(kLanguage, code); }
QString AppSettings::appearance() const {
  return mSettings->value(kAppearance, QStringLiteral("system")).toString();
}
void AppSettings::setAppearance(const QString& appearance) { mSettings->setValue(kAppearance, appearance); }

ApiServerSettings AppSettings::apiServer() const {
  ApiServerSettings a;
  a.enabled = mSettings->value(kApiServer + QStringLiteral("enabled"), a.enabled).toBool();
  a.host = mSettings->value(kApiServer + QStringLiteral("host"), a.host).toString();
  a.port = mSettings->value(kApiServer + QStringLiteral("port"), a.port).toInt();
  a.auth = mSettings->value(kApiServer + QStringLiteral("auth"), a.auth).toString();
  a.corsOrigins = mSettings->value(kApiServer + QStringLiteral("cors_origins"), a.corsOrigins).toString();
  return a;
}

void AppSettings::setApiServer(const ApiServerSettings& a) {
  mSettings->setValue(kApiServer + QStringLiteral("enabled"), a.enabled);
  mSettings->setValue(kApiServer + QStringLiteral("host"), a.host);
  mSettings->setValue(kApiServer + QStringLiteral("port"), a.port);
  mSettings->setValue(kApiServer + QStringLiteral("auth"), a.auth);
  mSettings->setValue(kApiServer + QStringLiteral("cors_origins"), a.corsOrigins);
}

QStringList AppSettings::acceptedLicences() const { return mSettings->value(kLicences).toStringList(); }
bool AppSettings::isLicenceAccepted(const QString& name) const { return acceptedLicences().contains(name); }
void AppSettings::acceptLicence(const QString& name) {
  QStringList names = acceptedLicences();
  if (name.isEmpty() || names.contains(name)) return;
  names.push_back(name);
  mSettings->setValue(kLicences, names);
}

std::optional<QString> AppSettings::cachedHash(const QString& file, qint64 size, qint64 mtimeMs) const {
  const QString prefix = QStringLiteral("%1\t%2\t").arg(size).arg(mtimeMs);
  const QString suffix = QLatin1Char('\t') + file;
  const QStringList lines = mSettings->value(kHashCache).toStringList();
  for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
    if (it->startsWith(prefix) && it->endsWith(suffix)) {
      const QString sha = it->mid(prefix.size(), it->size() - prefix.size() - suffix.size());
      if (sha.size() == 64) return sha;
    }
  }
  return std::nullopt;
}

void AppSettings::storeHash(const QString& file, qint64 size, qint64 mtimeMs, const QString& sha256) {
  QStringList lines = mSettings->value(kHashCache).toStringList();
  const QString suffix = QLatin1Char('\t') + file;
  lines.erase(std::remove_if(lines.begin(), lines.end(), [&](const QString& l) { return l.endsWith(suffix); }),
              lines.end());
  lines << cacheLine(file, size, mtimeMs, sha256);
  if (lines.size() > kHashCacheLimit) lines = lines.mid(lines.size() - kHashCacheLimit);
  mSettings->setValue(kHashCache, lines);
}

void AppSettings::sync() { mSettings->sync(); }

QString AppSettings::fileName() const { return mSettings->fileName(); }

}  // namespace kiln::app
