#include "state/generation_settings.h"

#include <QDir>
#include <QStandardPaths>

#include "state/app_settings.h"

namespace kiln::app {

namespace {

const QString kGroup = QStringLiteral("generate/");
const QString kOutput = QStringLiteral("generate/outputFolder");
const QString kAutoSave = QStringLiteral("generate/saveAutomatically");
const QString kPrecision = QStringLiteral("generate/precision");

// The same file and format as AppSettings: the user's native settings, or a test's INI file.
// (QSettings objects on one file share one cache within the process.)
std::unique_ptr<QSettings> sameFile(const AppSettings* settings) {
  const QString file = settings->fileName();
  const bool ini = file.endsWith(QLatin1String(".ini"), Qt::CaseInsensitive);
  return std::make_unique<QSettings>(file, ini ? QSettings::IniFormat : QSettings::NativeFormat);
}

}  // namespace

GenerationSettings::GenerationSettings(AppSettings* settings, QObject* parent)
    : QObject(parent), mSettings(sameFile(settings)) {}

GenerationSettings::~GenerationSettings() { mSettings->sync(); }

GenerationForm GenerationSettings::form() const {
  const GenerationForm d;
  GenerationForm f;
  const auto v = [this](const char* key, const QVariant& fallback) {
    return mSettings->value(kGroup + QLatin1String(key), fallback);
  };
  f.modelPath = v("model", d.modelPath).toString();
  f.prompt = v("prompt", d.prompt).toString();
  f.negativePrompt = v("negativePrompt", d.negativePrompt).toString();
  f.sampler = v("sampler", d.sampler).toString();
  f.steps = v("steps", d.steps).toInt();
  f.cfgScale = v("cfgScale", d.cfgScale).toDouble();
  f.seed = v("seed", d.seed).toLongLong();
  f.width = v("width", d.width).toInt();
  f.height = v("height", d.height).toInt();
  f.batchCount = v("batchCount", d.batchCount).toInt();
  f.batchSize = v("batchSize", d.batchSize).toInt();
  f.clipSkip = v("clipSkip", d.clipSkip).toInt();
  f.denoisingStrength = v("denoisingStrength", d.denoisingStrength).toDouble();
  f.mode = v("mode", d.mode).toString();
  f.brushSize = v("brushSize", d.brushSize).toInt();
  f.brushHardness = v("brushHardness", d.brushHardness).toDouble();
  const int loras = mSettings->beginReadArray(kGroup + QLatin1String("loras"));
  for (int i = 0; i < loras; ++i) {
    mSettings->setArrayIndex(i);
    LoRAChoice l;
    l.path = mSettings->value(QStringLiteral("path")).toString();
    l.weight = mSettings->value(QStringLiteral("weight"), 1.0).toDouble();
    if (!l.path.isEmpty()) f.loras << l;
  }
  mSettings->endArray();
  return f;
}

void GenerationSettings::setForm(const GenerationForm& f) {
  const auto set = [this](const char* key, const QVariant& value) {
    mSettings->setValue(kGroup + QLatin1String(key), value);
  };
  set("model", f.modelPath);
  set("prompt", f.prompt);
  set("negativePrompt", f.negativePrompt);
  set("sampler", f.sampler);
  set("steps", f.steps);
  set("cfgScale", f.cfgScale);
  set("seed", f.seed);
  set("width", f.width);
  set("height", f.height);
  set("batchCount", f.batchCount);
  set("batchSize", f.batchSize);
  set("clipSkip", f.clipSkip);
  set("denoisingStrength", f.denoisingStrength);
  set("mode", f.mode);
  set("brushSize", f.brushSize);
  set("brushHardness", f.brushHardness);
  mSettings->remove(kGroup + QLatin1String("loras"));
  mSettings->beginWriteArray(kGroup + QLatin1String("loras"), static_cast<int>(f.loras.size()));
  for (int i = 0; i < f.loras.size(); ++i) {
    mSettings->setArrayIndex(i);
    mSettings->setValue(QStringLiteral("path"), f.loras[i].path);
    mSettings->setValue(QStringLiteral("weight"), f.loras[i].weight);
  }
  mSettings->endArray();
}

QString GenerationSettings::outputFolder() const {
  const QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  const QString fallback = QDir(pictures.isEmpty() ? QDir::homePath() : pictures).filePath(QStringLiteral("Kiln"));
  return mSettings->value(kOutput, fallback).toString();
}

void GenerationSettings::setOutputFolder(const QString& folder) {
  if (folder == outputFolder()) return;
  mSettings->setValue(kOutput, folder);
  Q_EMIT outputFolderChanged(folder);
}

bool GenerationSettings::saveAutomatically() const { return mSettings->value(kAutoSave, true).toBool(); }
void GenerationSettings::setSaveAutomatically(bool save) { mSettings->setValue(kAutoSave, save); }

Precision GenerationSettings::precision() const {
  const QString stored = mSettings->value(kPrecision, QStringLiteral("auto")).toString();
  return precision_from_string(stored.toStdString()).value_or(Precision::Auto);
}

void GenerationSettings::setPrecision(Precision precision) {
  mSettings->setValue(kPrecision, QString::fromUtf8(to_string(precision).data()));
}

void GenerationSettings::sync() { mSettings->sync(); }

}  // namespace kiln::app
