#pragma once
// AUTOMATIC1111's "parameters" text, the PNG text chunk every generated image carries, so A1111,
// ComfyUI, civitai and Kiln itself can read back how an image was made:
//
//   a photo of a cat
//   Negative prompt: blurry
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: 6ce0161689,
//   Model: v1-5-pruned-emaonly, Clip skip: 1
//
// (the last line is one line; img2img adds "Denoising strength: 0.75").
//
// LoRAs are written as A1111 writes them: a <lora:name:weight> tag per LoRA at the end of the
// prompt line, and `Lora hashes: "name: 0123456789ab, ..."` (the first 12 digits of the file's
// addnet hash), so A1111 and civitai recognise them; fromText takes the tags back out of the prompt.

#include <QImage>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace kiln::bridge {

struct LoRAUse {
  QString name;    // the file name without extension (A1111's name for it)
  double weight = 1.0;
  QString hash;    // A1111's short LoRA hash (12 hex digits); empty when unknown

  bool operator==(const LoRAUse&) const = default;
};

struct GenerationParameters {
  QString prompt;
  QString negativePrompt;
  int steps = 20;
  QString sampler = QStringLiteral("Euler a");  // A1111 display name
  double cfgScale = 7.0;
  quint64 seed = 0;
  int width = 512;
  int height = 512;
  QString modelHash;  // A1111's short hash (first 10 hex digits of the file's sha256)
  QString modelName;  // file name without extension
  int clipSkip = 1;
  std::optional<double> denoisingStrength;  // img2img / inpainting
  QList<LoRAUse> loras;                     // in the order they were applied
  // Keys this struct does not model ("Hires upscale", "VAE hash", ...), kept for display.
  QMap<QString, QString> extra;

  QString toText() const;
  // Parses A1111's format (Kiln's and A1111's own files). Returns nullopt when the text has no
  // "Steps:" line.
  static std::optional<GenerationParameters> fromText(const QString& text);
};

// Writes `image` as PNG with a "parameters" text chunk, atomically (temporary file + rename: no
// half-written PNG is ever left). Returns false with `error` set.
bool writePngWithParameters(const QString& path, const QImage& image, const QString& parameters, QString* error);

// The "parameters" text chunk of a PNG (empty when there is none or the file is not a PNG).
QString readPngParameters(const QString& path);

}  // namespace kiln::bridge
