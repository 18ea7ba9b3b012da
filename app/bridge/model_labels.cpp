#include "bridge/model_labels.h"

#include <QLocale>

namespace kiln::app {

QString ModelLabels::family(const QString& id) {
  if (id == QLatin1String("sd1")) return tr("Stable Diffusion 1.x");
  if (id == QLatin1String("sd2")) return tr("Stable Diffusion 2.x");
  if (id == QLatin1String("sdxl")) return tr("SDXL");
  if (id == QLatin1String("sdxl_refiner")) return tr("SDXL refiner");
  if (id == QLatin1String("sd1_inpaint")) return tr("SD 1.x inpainting");
  if (id == QLatin1String("sd2_inpaint")) return tr("SD 2.x inpainting");
  if (id == QLatin1String("controlnet_sd1")) return tr("ControlNet (SD 1.x)");
  if (id == QLatin1String("controlnet_sd2")) return tr("ControlNet (SD 2.x)");
  if (id == QLatin1String("controlnet_sdxl")) return tr("ControlNet (SDXL)");
  if (id == QLatin1String("lora_sd1")) return tr("LoRA (SD 1.x)");
  if (id == QLatin1String("lora_sd2")) return tr("LoRA (SD 2.x)");
  if (id == QLatin1String("lora_sdxl")) return tr("LoRA (SDXL)");
  if (id == QLatin1String("vae")) return tr("VAE");
  if (id == QLatin1String("text_encoder")) return tr("Text encoder");
  return id;
}

QString ModelLabels::layout(const QString& id) {
  if (id == QLatin1String("diffusers")) return tr("Diffusers names");
  if (id == QLatin1String("single_file")) return tr("Single-file names");
  return id;
}

QString ModelLabels::format(const QString& format, const QString& layout, bool isFolder) {
  if (isFolder) return tr("Diffusers folder");
  // Single files nearly always carry the original (single-file) names: only the exception is said.
  const bool diffusersNames = layout == QLatin1String("diffusers");
  if (format == QLatin1String("safetensors")) return diffusersNames ? tr("Safetensors (diffusers)") : tr("Safetensors");
  if (format == QLatin1String("ckpt")) return diffusersNames ? tr("Checkpoint (diffusers)") : tr("Checkpoint");
  return format;
}

QString ModelLabels::prediction(const QString& id) {
  if (id == QLatin1String("epsilon")) return tr("Epsilon");
  if (id == QLatin1String("v_prediction")) return tr("v-prediction");
  return tr("Unknown");
}

QString ModelLabels::bytes(quint64 bytes) {
  return QLocale().formattedDataSize(static_cast<qint64>(bytes), 1, QLocale::DataSizeIecFormat);
}

QString ModelLabels::count(qint64 n) {
  const QLocale locale;
  const auto scaled = [&](double value) {
    // Three significant digits: 1.07, 12.3, 860.
    const int decimals = value < 10 ? 2 : value < 100 ? 1 : 0;
    return locale.toString(value, 'f', decimals);
  };
  const double d = static_cast<double>(n);
  if (n >= 1'000'000'000) return tr("%1 B", "billion parameters").arg(scaled(d / 1e9));
  if (n >= 1'000'000) return tr("%1 M", "million parameters").arg(scaled(d / 1e6));
  if (n >= 1'000) return tr("%1 k", "thousand parameters").arg(scaled(d / 1e3));
  return locale.toString(n);
}

}  // namespace kiln::app
