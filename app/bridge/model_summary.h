#pragma once
// What the engine's `inspect_model` knows of a model, as Qt values that signals can carry
// between the inspection worker and the GUI thread.

#include <QList>
#include <QMetaType>
#include <QPair>
#include <QString>
#include <QStringList>

namespace kiln::convert {
struct ModelInfo;
}

namespace kiln::app {

struct ComponentSummary {
  QString name;       // "unet", "vae", "text_encoder", ...
  QString className;  // "UNet2DConditionModel"; empty when unknown
  qint64 parameters = 0;
  qint64 tensors = 0;
  QList<QPair<QString, qint64>> dtypes;  // "F16" -> parameter count, sorted by name
};

struct ModelSummary {
  QString path;
  bool isFolder = false;
  QString format;  // "safetensors", "ckpt", "diffusers"
  quint64 sizeBytes = 0;
  QString family;  // convert::to_string(ModelFamily): "sd1", "sdxl", "lora_sd1", ...
  QString layout;  // "diffusers", "single_file"
  QStringList evidence;
  QString prediction;  // "epsilon", "v_prediction", "unknown"
  QString predictionSource;
  QList<ComponentSummary> components;
  QList<QPair<QString, QString>> metadata;
  QString hashedFile;  // the file whose sha256 is the model's hash (a folder's UNet weights)
  QString sha256;      // empty until hashed
  QStringList warnings;

  qint64 parameters() const;
  // AUTOMATIC1111's short hash: the first 10 hex digits of the sha256.
  QString shortHash() const { return sha256.left(10); }
  // Every dtype of every component, most parameters first ("F16", "F32").
  QStringList dtypes() const;

  static ModelSummary fromModelInfo(const convert::ModelInfo& info);
};

}  // namespace kiln::app

Q_DECLARE_METATYPE(kiln::app::ModelSummary)
