#pragma once
// What the Dataset page remembers across runs: the dataset folder last open and the import
// settings. Kept in the same settings file as AppSettings (its own "dataset/" group).

#include <QSettings>
#include <QString>

#include <memory>

namespace kiln::app {

class AppSettings;

class DatasetSettings {
 public:
  // Shares `settings`' file.
  explicit DatasetSettings(const AppSettings* settings);
  ~DatasetSettings();

  QString folder() const;  // empty when none was open
  void setFolder(const QString& folder);
  QString instanceToken() const;
  void setInstanceToken(const QString& token);
  int resolution() const;  // 512..1024 in steps of 64 (default 512)
  void setResolution(int resolution);
  bool filenameCaptions() const;
  void setFilenameCaptions(bool on);

 private:
  std::unique_ptr<QSettings> mSettings;
};

}  // namespace kiln::app
