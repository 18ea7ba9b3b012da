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
//
// Textual inversion embeddings the prompts used are written as A1111 writes them:
// `TI hashes: "name: 0123456789ab, ..."` (the first 12 hex digits of the file's sha256; ':' and ','
// dropped from names), and read back as such.
//
// ControlNet units are written as sd-webui-controlnet writes them (its ControlNetUnit.serialize:
// the infotext fields in order, Python str() of each value, the whole quoted), one key per
// enabled unit numbered from 0:
//
//   ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1.0,
//   Resize Mode: Crop and Resize, Processor Res: 512, Threshold A: 100.0, Threshold B: 200.0,
//   Guidance Start: 0.0, Guidance End: 1.0, Pixel Perfect: False, Control Mode: Balanced"
//
// Module, Processor Res, Threshold A/B (the preprocessor's first and second slider) and Pixel
// Perfect are what the unit's preprocessor ran with; reading them back gives them again.

#include <QImage>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace kiln::pipelines {
enum class ControlMode;
}

namespace kiln::bridge {

struct LoRAUse {
  QString name;    // the file name without extension (A1111's name for it)
  double weight = 1.0;
  QString hash;    // A1111's short LoRA hash (12 hex digits); empty when unknown

  bool operator==(const LoRAUse&) const = default;
};

// Takes A1111's <lora:name[:weight[:more]]> tags out of `prompt` (with the spaces before them),
// weight 1 when absent or not a number, until the prompt holds none. A tag holds no '<', so an
// unclosed "<lora:" earlier in a prompt never swallows a later tag (fuzz_png_parameters' round
// trip found both).
QList<LoRAUse> takeLoRATags(QString& prompt);

// A textual inversion embedding a prompt used.
struct EmbeddingUse {
  QString name;  // the file name without extension, as it appears in the prompt
  QString hash;  // A1111's short hash: the first 12 hex digits of the file's sha256

  bool operator==(const EmbeddingUse&) const = default;
};

// One ControlNet unit as A1111's infotext records it. Display strings are A1111's enum values
// ("Crop and Resize", "My prompt is more important"), so other tools read them back.
struct ControlNetUnitUse {
  QString module = QStringLiteral("none");  // the preprocessor ("none": the image is the map)
  QString model;                            // "name [hash]": file name without extension, A1111's 8-digit hash
  double weight = 1.0;
  QString resizeMode = QStringLiteral("Crop and Resize");  // Just Resize / Crop and Resize / Resize and Fill
  int processorRes = 512;
  double thresholdA = 0.5, thresholdB = 0.5;  // the preprocessor's sliders (A1111's defaults for "none")
  double guidanceStart = 0.0, guidanceEnd = 1.0;
  bool pixelPerfect = false;
  QString controlMode = QStringLiteral("Balanced");  // Balanced / My prompt is more important / ControlNet is more important

  bool operator==(const ControlNetUnitUse&) const = default;

  // "Module: none, Model: ..., Control Mode: Balanced" (unquoted).
  QString toText() const;
  // A1111's parse: "Key: value" items separated by ","; unknown keys are ignored, missing ones
  // keep their defaults. Resize modes of older versions and the API are read as today's names
  // (a1111ResizeModeName). nullopt when an item has no ": ".
  static std::optional<ControlNetUnitUse> fromText(const QString& text);
};

// Today's A1111 name ("Just Resize", "Crop and Resize", "Resize and Fill") of a resize mode as
// sd-webui-controlnet's resize_mode_from_value reads it: those names, the enum's
// "ResizeMode.RESIZE" / "ResizeMode.INNER_FIT" / "ResizeMode.OUTER_FIT" (and without the
// prefix), the API's 0 / 1 / 2, and the first versions' labels "Scale to Fit (Inner Fit)" and
// "Envelope (Outer Fit)". Another text is returned unchanged.
QString a1111ResizeModeName(const QString& value);

// A1111's display name of a control mode ("Balanced", "My prompt is more important", "ControlNet is
// more important"), and back (nullopt for another text).
QString a1111ControlModeName(pipelines::ControlMode mode);
std::optional<pipelines::ControlMode> controlModeFromA1111(const QString& name);

// A1111's old short model hash, which sd-webui-controlnet shows after ControlNet names: the first
// 8 hex digits of the sha256 of the 64 KiB at offset 1 MiB (empty bytes for smaller files). For a
// diffusers folder: of its weights file. Empty when the file cannot be read.
QString legacyModelHash(const QString& path);

// Kiln's own key in `extra`: the precision the models computed in ("fp32", "bf16", "fp16"), which
// A1111 does not record. Kept for display; reading an image's parameters back does not change
// the precision setting.
inline const QString kPrecisionKey = QStringLiteral("Kiln precision");
// A1111's key when the image was decoded by something other than the full VAE ("TAESD").
inline const QString kVaeDecoderKey = QStringLiteral("VAE Decoder");

// AUTOMATIC1111's hires fix as its parameters record it ("Hires upscale: 2, Hires steps: 10,
// Hires upscaler: Latent"; "Hires resize: 1024x768" when a size was given instead of a scale).
struct HiresUse {
  double scale = 2.0;
  int resizeX = 0, resizeY = 0;
  int steps = 0;  // 0 = the first pass's
  QString upscaler = QStringLiteral("Latent");
  bool operator==(const HiresUse&) const = default;
};

// Hires fix's upscalers by A1111's names (pipelines::hires_upscalers()).
QStringList hiresUpscalerNames();

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
  std::optional<double> denoisingStrength;  // img2img / inpainting; hires fix's second pass
  std::optional<HiresUse> hires;            // txt2img with hires fix
  QList<LoRAUse> loras;                     // in the order they were applied
  QList<EmbeddingUse> embeddings;           // "TI hashes", in order of first use (prompt, then negative)
  QList<ControlNetUnitUse> controlNets;     // "ControlNet 0", "ControlNet 1", ... in unit order
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

// The same PNG in memory (empty with `error` set when encoding fails).
QByteArray pngWithParameters(const QImage& image, const QString& parameters, QString* error);

// The "parameters" text chunk of a PNG (empty when there is none or the file is not a PNG).
QString readPngParameters(const QString& path);
// The same of a PNG in memory.
QString pngParameters(const QByteArray& png);

}  // namespace kiln::bridge
