#pragma once
// Typed settings over QSettings: what Kiln remembers across runs. Tests give it their own
// INI file so that nothing of the user's is touched.

#include <QByteArray>
#include <QObject>
#include <QSettings>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace kiln::app {

// The desktop app's AUTOMATIC1111 API server (File > API Server…): off by default.
struct ApiServerSettings {
  bool enabled = false;
  QString host = QStringLiteral("127.0.0.1");
  int port = 7860;
  QString auth;         // "user:password[,user2:password2]"; empty: no authentication
  QString corsOrigins;  // comma-separated; empty: no CORS
  bool operator==(const ApiServerSettings&) const = default;
};

class AppSettings : public QObject {
  Q_OBJECT
  Q_PROPERTY(QStringList modelFolders READ modelFolders WRITE setModelFolders NOTIFY modelFoldersChanged)

 public:
  // The user's settings (~/.config/Kiln/kiln.conf on Linux).
  explicit AppSettings(QObject* parent = nullptr);
  // Settings kept in `iniFile`.
  explicit AppSettings(const QString& iniFile, QObject* parent = nullptr);
  ~AppSettings() override;

  // Absolute, cleaned folder paths in the order the user added them; no duplicates.
  QStringList modelFolders() const;
  void setModelFolders(const QStringList& folders);

  QByteArray windowGeometry() const;
  void setWindowGeometry(const QByteArray& geometry);
  QByteArray windowState() const;
  void setWindowState(const QByteArray& state);
  QString currentPage() const;
  void setCurrentPage(const QString& page);

  // Splitter sizes, header layouts and the like, by a key the view chooses.
  QByteArray viewState(const QString& key) const;
  void setViewState(const QString& key, const QByteArray& state);

  QString selectedModel() const;
  void setSelectedModel(const QString& path);

  // "" follows the system; else a language code ("de", "en").
  QString language() const;
  void setLanguage(const QString& code);
  // "system", "light" or "dark".
  QString appearance() const;
  void setAppearance(const QString& appearance);

  // Licences of catalog models the user accepted before a first download under them ("CreativeML
  // OpenRAIL-M"): asked once per licence name.
  QStringList acceptedLicences() const;
  bool isLicenceAccepted(const QString& name) const;
  void acceptLicence(const QString& name);

  // The sha256 of a file as computed before, if its size and modification time are unchanged:
  // hashing a multi-GB checkpoint takes a while, so it is done once.
  std::optional<QString> cachedHash(const QString& file, qint64 size, qint64 mtimeMs) const;
  void storeHash(const QString& file, qint64 size, qint64 mtimeMs, const QString& sha256);

  ApiServerSettings apiServer() const;
  void setApiServer(const ApiServerSettings& settings);

  void sync();
  QString fileName() const;

 Q_SIGNALS:
  void modelFoldersChanged(const QStringList& folders);

 private:
  std::unique_ptr<QSettings> mSettings;
};

}  // namespace kiln::app
