#include "state/dataset_settings.h"

#include "state/app_settings.h"

namespace kiln::app {

namespace {

const QString kFolder = QStringLiteral("dataset/folder");
const QString kToken = QStringLiteral("dataset/instanceToken");
const QString kResolution = QStringLiteral("dataset/resolution");
const QString kFilenameCaptions = QStringLiteral("dataset/filenameCaptions");

}  // namespace

// The same file and format as AppSettings: the user's native settings, or a test's INI file.
DatasetSettings::DatasetSettings(const AppSettings* settings) {
  const QString file = settings->fileName();
  const bool ini = file.endsWith(QLatin1String(".ini"), Qt::CaseInsensitive);
  mSettings = std::make_unique<QSettings>(file, ini ? QSettings::IniFormat : QSettings::NativeFormat);
}

DatasetSettings::~DatasetSettings() { mSettings->sync(); }

QString DatasetSettings::folder() const { return mSettings->value(kFolder).toString(); }
void DatasetSettings::setFolder(const QString& folder) { mSettings->setValue(kFolder, folder); }
QString DatasetSettings::instanceToken() const { return mSettings->value(kToken).toString(); }
void DatasetSettings::setInstanceToken(const QString& token) { mSettings->setValue(kToken, token); }

int DatasetSettings::resolution() const {
  const int r = mSettings->value(kResolution, 512).toInt();
  return r >= 512 && r <= 1024 && r % 64 == 0 ? r : 512;
}

void DatasetSettings::setResolution(int resolution) { mSettings->setValue(kResolution, resolution); }
bool DatasetSettings::filenameCaptions() const { return mSettings->value(kFilenameCaptions, false).toBool(); }
void DatasetSettings::setFilenameCaptions(bool on) { mSettings->setValue(kFilenameCaptions, on); }

}  // namespace kiln::app
