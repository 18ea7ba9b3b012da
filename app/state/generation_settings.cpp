#include "state/generation_settings.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageWriter>
#include <QSaveFile>
#include <QSet>
#include <QStandardPaths>

#include "state/app_settings.h"

namespace kiln::app {

namespace {

const QString kGroup = QStringLiteral("generate/");
const QString kOutput = QStringLiteral("generate/outputFolder");
const QString kAutoSave = QStringLiteral("generate/saveAutomatically");
const QString kUnits = QStringLiteral("generate/controlUnits");
// Files of the data folder's controlnet/ that the units own (others are never touched).
const QString kUnitFilePrefix = QStringLiteral("unit-");

// "low_threshold=100;high_threshold=200": readable in the settings file, no binary variants.
QString paramsText(const QList<std::pair<QString, double>>& params) {
  QStringList parts;
  for (const auto& [key, value] : params) parts << key + QLatin1Char('=') + QString::number(value, 'g', 17);
  return parts.join(QLatin1Char(';'));
}

QList<std::pair<QString, double>> paramsFromText(const QString& text) {
  QList<std::pair<QString, double>> out;
  for (const QString& part : text.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
    const qsizetype eq = part.indexOf(QLatin1Char('='));
    bool ok = false;
    const double value = eq > 0 ? part.mid(eq + 1).toDouble(&ok) : 0.0;
    if (ok) out.emplace_back(part.left(eq), value);
  }
  return out;
}

// Writes `bytes` as folder/unit-<sha1>.<suffix> unless that file is there already (same name,
// same content). Returns the path; `error` says why not.
QString keepFile(const QString& folder, const QByteArray& bytes, const char* suffix, QString* error) {
  const QString name = kUnitFilePrefix +
                       QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha1).toHex().left(16)) +
                       QLatin1Char('.') + QLatin1String(suffix);
  const QString path = QDir(folder).filePath(name);
  if (QFileInfo(path).size() == bytes.size()) return path;
  QSaveFile file(path);  // a temporary file renamed on commit: never a half-written file
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    *error = QDir::toNativeSeparators(path) + QStringLiteral(": ") + file.errorString();
    return {};
  }
  return path;
}
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
  f.tiledVae = v("tiledVae", d.tiledVae).toString();
  f.taesd = v("taesd", d.taesd).toString();
  f.fastDecode = v("fastDecode", d.fastDecode).toBool();
  f.hires = v("hires", d.hires).toBool();
  f.hiresScale = v("hiresScale", d.hiresScale).toDouble();
  f.hiresUpscaler = v("hiresUpscaler", d.hiresUpscaler).toString();
  f.hiresSteps = v("hiresSteps", d.hiresSteps).toInt();
  f.hiresDenoising = v("hiresDenoising", d.hiresDenoising).toDouble();
  f.denoisingStrength = v("denoisingStrength", d.denoisingStrength).toDouble();
  f.mode = v("mode", d.mode).toString();
  f.brushSize = v("brushSize", d.brushSize).toInt();
  f.brushHardness = v("brushHardness", d.brushHardness).toDouble();
  f.scribbleBrushSize = v("scribbleBrushSize", d.scribbleBrushSize).toInt();
  f.scribbleBrushHardness = v("scribbleBrushHardness", d.scribbleBrushHardness).toDouble();
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
  set("tiledVae", f.tiledVae);
  set("taesd", f.taesd);
  set("fastDecode", f.fastDecode);
  set("hires", f.hires);
  set("hiresScale", f.hiresScale);
  set("hiresUpscaler", f.hiresUpscaler);
  set("hiresSteps", f.hiresSteps);
  set("hiresDenoising", f.hiresDenoising);
  set("denoisingStrength", f.denoisingStrength);
  set("mode", f.mode);
  set("brushSize", f.brushSize);
  set("brushHardness", f.brushHardness);
  set("scribbleBrushSize", f.scribbleBrushSize);
  set("scribbleBrushHardness", f.scribbleBrushHardness);
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

QString GenerationSettings::dataFolder() const {
  const QFileInfo file(mSettings->fileName());
  if (mSettings->format() == QSettings::IniFormat)
    return file.absoluteDir().filePath(file.completeBaseName() + QStringLiteral("-data"));
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

QList<ControlUnitState> GenerationSettings::controlUnits() const {
  QList<ControlUnitState> units;
  const int count = mSettings->beginReadArray(kUnits);
  for (int i = 0; i < count; ++i) {
    mSettings->setArrayIndex(i);
    const ControlUnitState d;
    ControlUnitState u;
    const auto v = [this](const char* key, const QVariant& fallback) {
      return mSettings->value(QLatin1String(key), fallback);
    };
    u.enabled = v("enabled", d.enabled).toBool();
    u.model = v("model", d.model).toString();
    u.preprocessor = v("preprocessor", d.preprocessor).toString();
    u.params = paramsFromText(v("params", QString()).toString());
    u.resolution = v("resolution", d.resolution).toInt();
    u.pixelPerfect = v("pixelPerfect", d.pixelPerfect).toBool();
    u.weight = v("weight", d.weight).toDouble();
    u.start = v("start", d.start).toDouble();
    u.end = v("end", d.end).toDouble();
    u.controlMode = v("controlMode", d.controlMode).toInt();
    u.resizeMode = v("resizeMode", d.resizeMode).toInt();
    u.source = v("source", d.source).toString();
    u.path = v("path", d.path).toString();
    u.sourceName = v("sourceName", d.sourceName).toString();
    units << u;
  }
  mSettings->endArray();
  return units;
}

QString GenerationSettings::setControlUnits(QList<ControlUnitState> units) {
  const QString folder = QDir(dataFolder()).filePath(QStringLiteral("controlnet"));
  QString error;
  QSet<QString> kept;
  for (ControlUnitState& u : units) {
    QByteArray bytes;
    const char* suffix = "png";
    if (!u.poseJson.isEmpty()) {
      bytes = u.poseJson;
      suffix = "json";
    } else if (!u.picture.isNull()) {
      QBuffer buffer(&bytes);
      buffer.open(QIODevice::WriteOnly);
      QImageWriter writer(&buffer, "png");
      writer.write(u.picture);
    } else {
      continue;  // a file the user opened (remembered by its path), or nothing yet
    }
    QString why;
    if (!QDir().mkpath(folder))
      why = QDir::toNativeSeparators(folder) + QStringLiteral(": cannot create the folder");
    else if (bytes.isEmpty())
      why = QStringLiteral("cannot encode the picture of unit %1 as PNG").arg(&u - units.data() + 1);
    u.path = why.isEmpty() ? keepFile(folder, bytes, suffix, &why) : QString();
    if (!why.isEmpty() && error.isEmpty()) error = why;
    if (!u.path.isEmpty()) kept.insert(QFileInfo(u.path).fileName());
  }
  mSettings->remove(kUnits);
  mSettings->beginWriteArray(kUnits, static_cast<int>(units.size()));
  for (int i = 0; i < units.size(); ++i) {
    const ControlUnitState& u = units[i];
    mSettings->setArrayIndex(i);
    const auto set = [this](const char* key, const QVariant& value) { mSettings->setValue(QLatin1String(key), value); };
    set("enabled", u.enabled);
    set("model", u.model);
    set("preprocessor", u.preprocessor);
    set("params", paramsText(u.params));
    set("resolution", u.resolution);
    set("pixelPerfect", u.pixelPerfect);
    set("weight", u.weight);
    set("start", u.start);
    set("end", u.end);
    set("controlMode", u.controlMode);
    set("resizeMode", u.resizeMode);
    set("source", u.source);
    set("path", u.path);
    set("sourceName", u.sourceName);
  }
  mSettings->endArray();
  mSettings->sync();
  // Drawings and poses no unit holds any more (replaced, or their unit removed).
  const QDir dir(folder);
  for (const QString& name : dir.entryList({kUnitFilePrefix + QStringLiteral("*")}, QDir::Files)) {
    if (!kept.contains(name)) QFile::remove(dir.filePath(name));
  }
  return error;
}

Precision GenerationSettings::precision() const {
  const QString stored = mSettings->value(kPrecision, QStringLiteral("auto")).toString();
  return precision_from_string(stored.toStdString()).value_or(Precision::Auto);
}

void GenerationSettings::setPrecision(Precision precision) {
  mSettings->setValue(kPrecision, QString::fromUtf8(to_string(precision).data()));
}

void GenerationSettings::sync() { mSettings->sync(); }

}  // namespace kiln::app
