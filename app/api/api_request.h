#pragma once
// AUTOMATIC1111's /sdapi/v1 request bodies read into Kiln's terms, and the small pieces of its
// response shapes that do not depend on the server's state: base64 images (never URLs or file
// paths), sampler and scheduler names, A1111's infotext parse (png-info), the info JSON string.
// Pure functions; a request Kiln cannot honour throws ApiError with the HTTP status and a
// one-line message.

#include <QImage>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

#include "bridge/generation_parameters.h"
#include "schedulers/scheduler_kind.h"

namespace kiln::api {

struct ApiError {
  int status = 422;
  QString message;
};

// What a decoded request image may be: larger ones are refused (422) before they are decoded.
struct ImageLimits {
  int maxSide = 8192;
  qint64 maxPixels = 48LL * 1024 * 1024;
};

// The generation size Kiln accepts (A1111's sliders go to 2048; more is allowed up to this).
inline constexpr int kMaxGenerationSide = 4096;
inline constexpr int kMaxSteps = 500;
inline constexpr int kMaxImagesPerRequest = 256;  // batch_size x n_iter

// A base64 image (raw or a "data:image/...;base64," URL). An http(s)/file URL, a path or
// anything else throws ApiError 422 naming `field`; nothing is fetched or opened.
QImage decodeImage(const QJsonValue& value, const QString& field, const ImageLimits& limits);
// The same for any decoded PNG's bytes (png-info): also returns the raw bytes.
QByteArray decodeImageBytes(const QJsonValue& value, const QString& field);
// Kiln's walk of an image's container (dataset::probe_image) before any Qt decoder reads it:
// throws ApiError 422 naming `field` for an unknown format, a truncated file or a chunk longer
// than the data. decodeImage calls it; png-info calls it on decodeImageBytes' bytes.
void checkImageContainer(const QByteArray& bytes, const QString& field);

// A1111's sampler name ("DPM++ 2M Karras", "Euler a", ...; Kiln's ids are accepted too) with
// its separate scheduler ("Automatic", "Karras"; empty = automatic). Throws ApiError 422 listing
// what Kiln has.
schedulers::SchedulerKind resolveSampler(const QString& sampler, const QString& scheduler);
// GET /sdapi/v1/samplers and /schedulers.
QJsonArray samplerList();
QJsonArray schedulerList();

// A1111's parse_generation_parameters: "Prompt", "Negative prompt", every "Key: value" of the
// last line (quoted values unquoted), "Size-1"/"Size-2", and its defaults for a few keys.
QJsonObject parseInfotext(const QString& text);

// One unit of alwayson_scripts.controlnet.args, as sd-webui-controlnet's API names its fields.
struct ControlUnitRequest {
  QImage image;  // the unit's input (the img2img init image when it has none)
  QString module = QStringLiteral("none");
  QString model;  // as the client names it ("control_v11p_sd15_canny [d14c016b]")
  double weight = 1.0;
  double guidanceStart = 0.0, guidanceEnd = 1.0;
  QString controlMode = QStringLiteral("Balanced");        // A1111's name
  QString resizeMode = QStringLiteral("Crop and Resize");  // A1111's name
  bool pixelPerfect = false;
  int processorRes = -1;                    // -1: the preprocessor's default
  double thresholdA = -1, thresholdB = -1;  // -1: the preprocessor's defaults
  bool saveDetectedMap = true;
};

// A txt2img or img2img body in Kiln's terms.
struct GenerationRequest {
  bool img2img = false;
  bridge::GenerationParameters parameters;  // prompt without <lora:...> tags, sampler's display name
  schedulers::SchedulerKind sampler = schedulers::SchedulerKind::Euler;
  qint64 seed = -1;  // -1: drawn by the server
  qint64 subseed = -1;
  int batchSize = 1;
  int nIter = 1;
  QString checkpoint;                   // override_settings.sd_model_checkpoint; empty: the current model
  std::optional<int> clipSkip;          // override_settings.CLIP_stop_at_last_layers
  QList<QPair<QString, double>> loras;  // <lora:name:weight> tags of the prompt, in order
  QImage initImage;
  QImage mask;                             // white = repaint, inverted and blurred as asked
  QList<ControlUnitRequest> controlUnits;  // the enabled ones with a model
  bool sendImages = true;
  bool saveImages = false;
  QJsonObject echo;  // the response's "parameters"
};

// Reads a /txt2img or /img2img body; unknown keys are ignored. Throws ApiError.
GenerationRequest parseGenerationRequest(const QJsonObject& body, bool img2img, const ImageLimits& limits);

// The units of an alwayson_scripts object (its "controlnet" entry, any case); a unit without
// image takes `fallback` (img2img's init image) or is refused. Throws ApiError.
QList<ControlUnitRequest> parseControlUnits(const QJsonValue& alwaysOn, const QImage& fallback,
                                            const ImageLimits& limits);

// A mask as A1111 prepares it: its alpha channel when it has transparency, else its gray
// values; white = repaint; inverted when `invert`, Gaussian-blurred with sigma `blur`.
QImage prepareMask(const QImage& mask, bool invert, int blur);

}  // namespace kiln::api
