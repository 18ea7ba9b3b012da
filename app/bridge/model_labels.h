#pragma once
// Translated words for what the engine reports by identifier (family, layout, format,
// prediction type) and locale-aware sizes and counts.

#include <QCoreApplication>
#include <QString>

namespace kiln::app {

class ModelLabels {
  Q_DECLARE_TR_FUNCTIONS(ModelLabels)

 public:
  // "sd1" -> "Stable Diffusion 1.x", "lora_sdxl" -> "LoRA (SDXL)"; the id itself if unknown.
  static QString family(const QString& id);
  // "diffusers" -> "Diffusers names", "single_file" -> "Single-file names".
  static QString layout(const QString& id);
  // What the file or folder is: "Diffusers folder", "Safetensors", "Checkpoint (diffusers)"
  // (a single file with diffusers names).
  static QString format(const QString& format, const QString& layout, bool isFolder);
  // "epsilon" -> "Epsilon", "v_prediction" -> "v-prediction", "unknown" -> "Unknown".
  static QString prediction(const QString& id);
  static QString bytes(quint64 bytes);
  // 1'066'235'307 -> "1.07 B", 859'520'964 -> "860 M", 12'345 -> "12.3 k".
  static QString count(qint64 n);
};

}  // namespace kiln::app
