#include "api/api_request.h"

#include <QBuffer>
#include <QImageReader>
#include <QJsonDocument>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "base/error.h"
#include "dataset/image_probe.h"

namespace kiln::api {

namespace {

QString fromView(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

[[noreturn]] void refuse(const QString& message, int status = 422) { throw ApiError{status, message}; }

// The base64 payload of an image field, or a refusal saying why there is none.
QByteArray base64Payload(const QJsonValue& value, const QString& field) {
  if (!value.isString()) refuse(QStringLiteral("%1: expected a base64 image string").arg(field));
  QString text = value.toString().trimmed();
  if (text.isEmpty()) refuse(QStringLiteral("%1: empty image").arg(field));
  static const QRegularExpression scheme(QStringLiteral("^([A-Za-z][A-Za-z0-9+.-]*):"));
  const auto m = scheme.match(text);
  if (m.hasMatch()) {
    const QString name = m.captured(1).toLower();
    if (name == QLatin1String("data")) {
      const qsizetype comma = text.indexOf(QLatin1Char(','));
      if (comma < 0 || !text.left(comma).endsWith(QLatin1String(";base64"), Qt::CaseInsensitive))
        refuse(QStringLiteral("%1: only base64 data: URLs are accepted").arg(field));
      text = text.mid(comma + 1);
    } else if (name.size() > 1) {  // "C:" is a Windows drive, handled below
      refuse(QStringLiteral("%1: images are accepted only as base64; %2: URLs are never fetched").arg(field, name));
    }
  }
  // base64 has no '.', '\\' or ':' and no spaces inside: a path or a name is not fetched either.
  static const QRegularExpression notBase64(QStringLiteral("[^A-Za-z0-9+/=_\\-\\s]"));
  if (text.contains(notBase64))
    refuse(QStringLiteral("%1: images are accepted only as base64; file paths are never opened").arg(field));
  text.remove(QRegularExpression(QStringLiteral("\\s")));
  const auto decoded = QByteArray::fromBase64Encoding(
      text.toLatin1(), QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
  if (!decoded || decoded.decoded.isEmpty()) {
    const auto url = QByteArray::fromBase64Encoding(
        text.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!url || url.decoded.isEmpty()) refuse(QStringLiteral("%1: not valid base64").arg(field));
    return url.decoded;
  }
  return decoded.decoded;
}

}  // namespace

void checkImageContainer(const QByteArray& bytes, const QString& field) {
  // Kiln's own walk of the container (PNG chunks, JPEG markers, WebP chunks) before Qt's decoders
  // see the bytes: a 92-byte PNG whose chunk claims 1.7 GB made libpng allocate that much
  // (fuzz_api_request, api_png_chunk_1_7gb.json); a truncated file is refused here by name.
  const std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes.constData()),
                                        static_cast<std::size_t>(bytes.size()));
  try {
    (void)dataset::probe_image(view, field.toStdString());
  } catch (const kiln::Error& e) {
    refuse(QStringLiteral("%1: %2").arg(field, QString::fromStdString(e.message())));
  }
}

namespace {

QImage readImage(const QByteArray& bytes, const QString& field, const ImageLimits& limits) {
  checkImageContainer(bytes, field);
  QBuffer buffer;
  buffer.setData(bytes);
  buffer.open(QIODevice::ReadOnly);
  QImageReader reader(&buffer);
  const QSize size = reader.size();
  if (!size.isValid()) refuse(QStringLiteral("%1: not an image Kiln can read (PNG, JPEG, WebP, BMP)").arg(field));
  if (size.width() > limits.maxSide || size.height() > limits.maxSide ||
      static_cast<qint64>(size.width()) * size.height() > limits.maxPixels)
    refuse(QStringLiteral("%1: the image is %2x%3; at most %4 pixels a side and %5 megapixels are accepted")
               .arg(field)
               .arg(size.width())
               .arg(size.height())
               .arg(limits.maxSide)
               .arg(limits.maxPixels / (1024 * 1024)));
  QImage image = reader.read();
  if (image.isNull()) refuse(QStringLiteral("%1: the image cannot be decoded (%2)").arg(field, reader.errorString()));
  return image;
}

double doubleField(const QJsonObject& o, const char* key, double fallback, double lo, double hi) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (v.isUndefined() || v.isNull()) return fallback;
  if (!v.isDouble()) refuse(QStringLiteral("%1: expected a number").arg(QLatin1String(key)));
  const double d = v.toDouble();
  if (!std::isfinite(d) || d < lo || d > hi)
    refuse(QStringLiteral("%1: %2 is outside %3..%4").arg(QLatin1String(key)).arg(d).arg(lo).arg(hi));
  return d;
}

// A JSON number as an int within [lo, hi]; `fallback` when absent or null.
int intField(const QJsonObject& o, const char* key, int fallback, int lo, int hi) {
  return static_cast<int>(doubleField(o, key, fallback, lo, hi));
}

qint64 seedField(const QJsonObject& o, const char* key) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (v.isUndefined() || v.isNull()) return -1;
  if (!v.isDouble()) refuse(QStringLiteral("%1: expected a number").arg(QLatin1String(key)));
  const double d = v.toDouble();
  // Up to 2^63 - 1: a larger double does not fit the seed (fuzz_api_request found 1e19).
  if (!std::isfinite(d) || d < -1 || d >= 9223372036854775808.0)
    refuse(QStringLiteral("%1: expected -1 or an integer from 0 to 9223372036854775807").arg(QLatin1String(key)));
  return d < 0 ? -1 : static_cast<qint64>(d);
}

QString stringField(const QJsonObject& o, const char* key, const QString& fallback = {}) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (v.isUndefined() || v.isNull()) return fallback;
  if (!v.isString()) refuse(QStringLiteral("%1: expected a string").arg(QLatin1String(key)));
  return v.toString();
}

bool boolField(const QJsonObject& o, const char* key, bool fallback) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (v.isUndefined() || v.isNull()) return fallback;
  if (v.isBool()) return v.toBool();
  if (v.isDouble()) return v.toDouble() != 0;  // A1111's inpainting_mask_invert is 0 / 1
  refuse(QStringLiteral("%1: expected true or false").arg(QLatin1String(key)));
}

// Separable Gaussian blur of a Grayscale8 image (cv2.GaussianBlur's kernel: 2 * ceil(2.5 sigma) + 1).
QImage gaussianBlur(const QImage& gray, int sigma) {
  if (sigma <= 0) return gray;
  const int radius = static_cast<int>(std::ceil(2.5 * sigma));
  std::vector<float> kernel(2 * radius + 1);
  float sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += kernel[i + radius] = std::exp(-0.5f * i * i / float(sigma * sigma));
  for (float& k : kernel) k /= sum;
  const int w = gray.width(), h = gray.height();
  std::vector<float> tmp(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    const uchar* row = gray.constScanLine(y);
    for (int x = 0; x < w; ++x) {
      float acc = 0;
      for (int k = -radius; k <= radius; ++k) acc += kernel[k + radius] * row[std::clamp(x + k, 0, w - 1)];
      tmp[static_cast<size_t>(y) * w + x] = acc;
    }
  }
  QImage out(w, h, QImage::Format_Grayscale8);
  for (int y = 0; y < h; ++y) {
    uchar* row = out.scanLine(y);
    for (int x = 0; x < w; ++x) {
      float acc = 0;
      for (int k = -radius; k <= radius; ++k)
        acc += kernel[k + radius] * tmp[static_cast<size_t>(std::clamp(y + k, 0, h - 1)) * w + x];
      row[x] = static_cast<uchar>(std::clamp(std::lround(acc), 0L, 255L));
    }
  }
  return out;
}

// A1111's img2img resize_mode 1 ("Crop and resize"): the centre of `image` with the output's
// aspect ratio (the engine then scales it to the output size).
QImage cropToAspect(const QImage& image, int width, int height) {
  const double target = double(width) / height;
  const double source = double(image.width()) / image.height();
  if (std::abs(target - source) < 1e-6) return image;
  if (source > target) {
    const int w = std::max(1, static_cast<int>(std::lround(image.height() * target)));
    return image.copy((image.width() - w) / 2, 0, w, image.height());
  }
  const int h = std::max(1, static_cast<int>(std::lround(image.width() / target)));
  return image.copy(0, (image.height() - h) / 2, image.width(), h);
}

double numberOr(const QJsonObject& o, const char* key, double fallback) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (v.isUndefined() || v.isNull()) return fallback;
  if (!v.isDouble()) refuse(QStringLiteral("ControlNet %1: expected a number").arg(QLatin1String(key)));
  return v.toDouble();
}

}  // namespace

QList<ControlUnitRequest> parseControlUnits(const QJsonValue& alwaysOn, const QImage& fallback,
                                            const ImageLimits& limits) {
  QList<ControlUnitRequest> units;
  if (!alwaysOn.isObject()) return units;
  const QJsonObject scripts = alwaysOn.toObject();
  QJsonValue controlnet;
  for (auto it = scripts.begin(); it != scripts.end(); ++it)
    if (it.key().compare(QLatin1String("controlnet"), Qt::CaseInsensitive) == 0) controlnet = it.value();
  if (!controlnet.isObject()) return units;
  const QJsonValue args = controlnet.toObject().value(QLatin1String("args"));
  if (!args.isArray()) return units;
  int index = 0;
  for (const QJsonValue& arg : args.toArray()) {
    ++index;
    if (!arg.isObject()) continue;
    const QJsonObject o = arg.toObject();
    if (o.contains(QLatin1String("enabled")) && !o.value(QLatin1String("enabled")).toBool(true)) continue;
    ControlUnitRequest u;
    u.model = o.value(QLatin1String("model")).toString().trimmed();
    if (u.model.isEmpty() || u.model.compare(QLatin1String("none"), Qt::CaseInsensitive) == 0) continue;
    const QString field = QStringLiteral("ControlNet unit %1 image").arg(index);
    QJsonValue image = o.value(QLatin1String("image"));
    if (image.isUndefined() || image.isNull() || (image.isString() && image.toString().isEmpty()))
      image = o.value(QLatin1String("input_image"));
    if (image.isObject()) image = image.toObject().value(QLatin1String("image"));  // {"image": ..., "mask": ...}
    if (image.isUndefined() || image.isNull() || (image.isString() && image.toString().isEmpty())) {
      if (fallback.isNull())
        refuse(QStringLiteral("ControlNet unit %1: no image (give \"image\" as base64)").arg(index));
      u.image = fallback;
    } else {
      u.image = decodeImage(image, field, limits);
    }
    const QString module = o.value(QLatin1String("module")).toString().trimmed();
    if (!module.isEmpty()) u.module = module;
    u.weight = numberOr(o, "weight", 1.0);
    u.guidanceStart = numberOr(o, "guidance_start", 0.0);
    u.guidanceEnd = numberOr(o, "guidance_end", 1.0);
    if (u.weight < 0 || u.weight > 2 || u.guidanceStart < 0 || u.guidanceEnd > 1 || u.guidanceStart > u.guidanceEnd)
      refuse(QStringLiteral("ControlNet unit %1: weight 0..2 and 0 <= guidance_start <= guidance_end <= 1 are accepted")
                 .arg(index));
    const QJsonValue mode = o.value(QLatin1String("control_mode"));
    if (mode.isDouble()) {
      static const char* names[] = {"Balanced", "My prompt is more important", "ControlNet is more important"};
      const int m = mode.toInt(-1);
      if (m < 0 || m > 2) refuse(QStringLiteral("ControlNet unit %1: control_mode 0, 1 or 2").arg(index));
      u.controlMode = QLatin1String(names[m]);
    } else if (mode.isString()) {
      u.controlMode = mode.toString();
      if (!bridge::controlModeFromA1111(u.controlMode))
        refuse(QStringLiteral("ControlNet unit %1: control_mode '%2' (Balanced, My prompt is more important, "
                              "ControlNet is more important)")
                   .arg(index)
                   .arg(u.controlMode));
    }
    const QJsonValue resize = o.value(QLatin1String("resize_mode"));
    if (resize.isDouble() || resize.isString()) {
      u.resizeMode =
          bridge::a1111ResizeModeName(resize.isDouble() ? QString::number(resize.toInt()) : resize.toString());
      if (u.resizeMode != QLatin1String("Just Resize") && u.resizeMode != QLatin1String("Crop and Resize") &&
          u.resizeMode != QLatin1String("Resize and Fill"))
        refuse(QStringLiteral("ControlNet unit %1: resize_mode '%2' (Just Resize, Crop and Resize, Resize and Fill)")
                   .arg(index)
                   .arg(u.resizeMode));
    }
    u.pixelPerfect = o.value(QLatin1String("pixel_perfect")).toBool(false);
    u.processorRes = intField(o, "processor_res", -1, -1, 16384);
    u.thresholdA = numberOr(o, "threshold_a", -1);
    u.thresholdB = numberOr(o, "threshold_b", -1);
    u.saveDetectedMap = o.value(QLatin1String("save_detected_map")).toBool(true);
    units << u;
  }
  return units;
}

QImage decodeImage(const QJsonValue& value, const QString& field, const ImageLimits& limits) {
  return readImage(base64Payload(value, field), field, limits);
}

QByteArray decodeImageBytes(const QJsonValue& value, const QString& field) { return base64Payload(value, field); }

namespace {

// The samplers with a Karras-sigmas variant: {plain, Karras}.
constexpr std::pair<schedulers::SchedulerKind, schedulers::SchedulerKind> kKarrasVariants[] = {
    {schedulers::SchedulerKind::DPMPP2M, schedulers::SchedulerKind::DPMPP2MKarras},
    {schedulers::SchedulerKind::DPMPP2MSDE, schedulers::SchedulerKind::DPMPP2MSDEKarras},
    {schedulers::SchedulerKind::DPMPP2S, schedulers::SchedulerKind::DPMPP2SKarras},
    {schedulers::SchedulerKind::Heun, schedulers::SchedulerKind::HeunKarras},
    {schedulers::SchedulerKind::DPM2, schedulers::SchedulerKind::DPM2Karras},
    {schedulers::SchedulerKind::DPM2Ancestral, schedulers::SchedulerKind::DPM2AncestralKarras},
    {schedulers::SchedulerKind::DEIS, schedulers::SchedulerKind::DEISKarras},
};

}  // namespace

schedulers::SchedulerKind resolveSampler(const QString& sampler, const QString& scheduler) {
  using schedulers::SchedulerKind;
  SchedulerKind kind;
  try {
    kind = schedulers::parse_scheduler_name(sampler.trimmed().toStdString());
  } catch (const kiln::Error&) {
    QStringList names;
    for (SchedulerKind k : schedulers::kAllSchedulerKinds) names << fromView(schedulers::display_name(k));
    refuse(QStringLiteral("sampler '%1' is not one Kiln has (%2)").arg(sampler, names.join(QStringLiteral(", "))));
  }
  const QString s = scheduler.trimmed().toLower();
  if (s.isEmpty() || s == QLatin1String("automatic")) return kind;
  if (s == QLatin1String("karras")) {
    // A1111 1.9+ sends the sigma schedule apart ("DPM++ 2M SDE" + "Karras").
    for (const auto& [plain, karras] : kKarrasVariants) {
      if (kind == plain || kind == karras) return karras;
    }
    QStringList names;
    for (const auto& variant : kKarrasVariants) names << fromView(schedulers::display_name(variant.first));
    refuse(QStringLiteral("scheduler 'Karras' is available with the samplers %1 only, not '%2'")
               .arg(names.join(QStringLiteral(", ")), sampler));
  }
  refuse(QStringLiteral("scheduler '%1' is not one Kiln has (Automatic, Karras)").arg(scheduler));
}

QJsonArray samplerList() {
  QJsonArray list;
  for (schedulers::SchedulerKind k : schedulers::kAllSchedulerKinds) {
    QJsonObject options;
    for (const auto& variant : kKarrasVariants) {
      if (k == variant.second) options.insert(QStringLiteral("scheduler"), QStringLiteral("karras"));
    }
    list.append(QJsonObject{{QStringLiteral("name"), fromView(schedulers::display_name(k))},
                            {QStringLiteral("aliases"), QJsonArray{fromView(schedulers::id(k))}},
                            {QStringLiteral("options"), options}});
  }
  return list;
}

QJsonArray schedulerList() {
  auto item = [](const char* name, const char* label, QJsonValue rho) {
    return QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                       {QStringLiteral("label"), QLatin1String(label)},
                       {QStringLiteral("aliases"), QJsonValue::Null},
                       {QStringLiteral("default_rho"), rho},
                       {QStringLiteral("need_inner_model"), false}};
  };
  return QJsonArray{item("automatic", "Automatic", -1.0), item("karras", "Karras", 7.0)};
}

QJsonObject parseInfotext(const QString& text) {
  QJsonObject out;
  QStringList lines = text.trimmed().split(QLatin1Char('\n'));
  QString last;
  static const QRegularExpression hasParams(
      QStringLiteral("(?:\\s*\\w[\\w \\-/]+:\\s*(?:\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)){3,}"));
  if (!lines.isEmpty() && hasParams.match(lines.last().trimmed()).hasMatch()) last = lines.takeLast().trimmed();
  QString prompt, negative;
  bool inNegative = false;
  for (const QString& raw : lines) {
    const QString line = raw.trimmed();
    if (line.startsWith(QLatin1String("Negative prompt:"))) {
      inNegative = true;
      negative = line.mid(16).trimmed();
      continue;
    }
    QString& target = inNegative ? negative : prompt;
    target += (target.isEmpty() ? QString() : QStringLiteral("\n")) + line;
  }
  out.insert(QStringLiteral("Prompt"), prompt);
  out.insert(QStringLiteral("Negative prompt"), negative);
  static const QRegularExpression param(
      QStringLiteral("\\s*(\\w[\\w \\-/]+):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)"));
  static const QRegularExpression size(QStringLiteral("^(\\d+)x(\\d+)$"));
  for (auto it = param.globalMatch(last); it.hasNext();) {
    const auto m = it.next();
    const QString key = m.captured(1).trimmed();
    QString value = m.captured(2).trimmed();
    if (value.startsWith(QLatin1Char('"')) && value.endsWith(QLatin1Char('"')) && value.size() >= 2) {
      const QJsonDocument unquoted = QJsonDocument::fromJson(QStringLiteral("[%1]").arg(value).toUtf8());
      value = unquoted.isArray() ? unquoted.array().at(0).toString() : value.mid(1, value.size() - 2);
    }
    const auto sm = size.match(value);
    if (sm.hasMatch()) {
      out.insert(key + QStringLiteral("-1"), sm.captured(1));
      out.insert(key + QStringLiteral("-2"), sm.captured(2));
    } else {
      out.insert(key, value);
    }
  }
  // A1111's defaults for keys older images lack.
  if (!out.contains(QStringLiteral("Clip skip"))) out.insert(QStringLiteral("Clip skip"), QStringLiteral("1"));
  if (!out.contains(QStringLiteral("Schedule type")) && out.contains(QStringLiteral("Sampler")))
    out.insert(QStringLiteral("Schedule type"),
               out.value(QStringLiteral("Sampler")).toString().endsWith(QLatin1String(" Karras"))
                   ? QStringLiteral("Karras")
                   : QStringLiteral("Automatic"));
  return out;
}

QImage prepareMask(const QImage& mask, bool invert, int blur) {
  QImage gray;
  bool transparent = false;
  if (mask.hasAlphaChannel()) {
    const QImage argb = mask.convertToFormat(QImage::Format_ARGB32);
    gray = QImage(argb.size(), QImage::Format_Grayscale8);
    for (int y = 0; y < argb.height(); ++y) {
      const QRgb* in = reinterpret_cast<const QRgb*>(argb.constScanLine(y));
      uchar* out = gray.scanLine(y);
      for (int x = 0; x < argb.width(); ++x) {
        out[x] = static_cast<uchar>(qAlpha(in[x]));
        transparent = transparent || qAlpha(in[x]) != 255;
      }
    }
  }
  if (!transparent) gray = mask.convertToFormat(QImage::Format_Grayscale8);
  if (invert) gray.invertPixels();
  return gaussianBlur(gray, blur);
}

GenerationRequest parseGenerationRequest(const QJsonObject& body, bool img2img, const ImageLimits& limits) {
  GenerationRequest r;
  r.img2img = img2img;
  bridge::GenerationParameters& p = r.parameters;
  QString prompt = stringField(body, "prompt");
  p.negativePrompt = stringField(body, "negative_prompt");
  // <lora:name:weight> tags become LoRAs of the job (the worker writes them back into the PNG).
  for (const bridge::LoRAUse& l : bridge::takeLoRATags(prompt)) r.loras << qMakePair(l.name, l.weight);
  p.prompt = prompt.trimmed();

  QString samplerName = stringField(body, "sampler_name");
  if (samplerName.isEmpty()) samplerName = stringField(body, "sampler_index", QStringLiteral("Euler"));
  if (samplerName.isEmpty()) samplerName = QStringLiteral("Euler");
  r.sampler = resolveSampler(samplerName, stringField(body, "scheduler"));
  p.sampler = fromView(schedulers::display_name(r.sampler));
  p.steps = intField(body, "steps", 20, 1, kMaxSteps);
  p.cfgScale = doubleField(body, "cfg_scale", 7.0, 0.0, 100.0);
  // A1111 floors the size to a multiple of 8 (the latents' size).
  p.width = intField(body, "width", 512, 64, kMaxGenerationSide) / 8 * 8;
  p.height = intField(body, "height", 512, 64, kMaxGenerationSide) / 8 * 8;
  r.batchSize = intField(body, "batch_size", 1, 1, kMaxImagesPerRequest);
  r.nIter = intField(body, "n_iter", 1, 1, kMaxImagesPerRequest);
  if (r.batchSize * r.nIter > kMaxImagesPerRequest)
    refuse(QStringLiteral("batch_size x n_iter is %1; at most %2 images a request")
               .arg(r.batchSize * r.nIter)
               .arg(kMaxImagesPerRequest));
  r.seed = seedField(body, "seed");
  r.subseed = seedField(body, "subseed");
  // A selectable script changes what is made: without it the answer would be wrong, so it is
  // refused as A1111 refuses a script it lacks (GET /sdapi/v1/scripts lists none).
  const QString script = body.value(QLatin1String("script_name")).toString().trimmed();
  if (!script.isEmpty() && script.compare(QLatin1String("none"), Qt::CaseInsensitive) != 0)
    refuse(QStringLiteral("script '%1' not found (Kiln has no scripts)").arg(script));
  r.sendImages = boolField(body, "send_images", true);
  r.saveImages = boolField(body, "save_images", false);

  // Hires fix (txt2img): a second pass at hr_scale (or hr_resize_x/y) from the first's upscale.
  if (!img2img && boolField(body, "enable_hr", false)) {
    bridge::HiresUse h;
    h.scale = doubleField(body, "hr_scale", 2.0, 1.0, 4.0);
    h.resizeX = intField(body, "hr_resize_x", 0, 0, kMaxGenerationSide);
    h.resizeY = intField(body, "hr_resize_y", 0, 0, kMaxGenerationSide);
    h.steps = intField(body, "hr_second_pass_steps", 0, 0, 150);
    QString upscaler = stringField(body, "hr_upscaler").trimmed();
    // A1111's "None" resizes the pixels with Lanczos.
    if (upscaler.compare(QLatin1String("none"), Qt::CaseInsensitive) == 0) upscaler = QStringLiteral("Lanczos");
    if (!upscaler.isEmpty()) {
      const QStringList names = bridge::hiresUpscalerNames();
      const auto it = std::find_if(names.begin(), names.end(),
                                   [&](const QString& n) { return n.compare(upscaler, Qt::CaseInsensitive) == 0; });
      if (it == names.end())
        refuse(QStringLiteral("hr_upscaler '%1' is not one Kiln has (%2)")
                   .arg(upscaler, names.join(QStringLiteral(", "))));
      h.upscaler = *it;
    }
    p.hires = h;
    p.denoisingStrength = doubleField(body, "denoising_strength", 0.7, 0.0, 1.0);
  }

  const QJsonValue overrides = body.value(QLatin1String("override_settings"));
  if (overrides.isObject()) {
    const QJsonObject o = overrides.toObject();
    r.checkpoint = stringField(o, "sd_model_checkpoint");
    if (o.contains(QLatin1String("CLIP_stop_at_last_layers")))
      r.clipSkip = intField(o, "CLIP_stop_at_last_layers", 1, 1, 12);
  } else if (!overrides.isUndefined() && !overrides.isNull()) {
    refuse(QStringLiteral("override_settings: expected an object"));
  }

  if (img2img) {
    const QJsonValue init = body.value(QLatin1String("init_images"));
    if (!init.isArray() || init.toArray().isEmpty())
      refuse(QStringLiteral("init_images: expected a list with one base64 image"));
    r.initImage = decodeImage(init.toArray().at(0), QStringLiteral("init_images[0]"), limits);
    const int resizeMode = intField(body, "resize_mode", 0, 0, 3);
    if (resizeMode == 1 || resizeMode == 2) r.initImage = cropToAspect(r.initImage, p.width, p.height);
    p.denoisingStrength = doubleField(body, "denoising_strength", 0.75, 0.0, 1.0);
    const QJsonValue mask = body.value(QLatin1String("mask"));
    if (!mask.isUndefined() && !mask.isNull() && !(mask.isString() && mask.toString().isEmpty())) {
      QImage m = decodeImage(mask, QStringLiteral("mask"), limits);
      if (resizeMode == 1 || resizeMode == 2) m = cropToAspect(m, p.width, p.height);
      r.mask = prepareMask(m, boolField(body, "inpainting_mask_invert", false), intField(body, "mask_blur", 4, 0, 64));
    }
  }

  r.controlUnits = parseControlUnits(body.value(QLatin1String("alwayson_scripts")), r.initImage, limits);

  // "parameters" echoes the request with A1111's defaults for the fields Kiln reads; images are
  // not sent back (A1111's include_init_images is false by default).
  QJsonObject echo = body;
  auto setDefault = [&](const char* key, const QJsonValue& value) {
    if (!echo.contains(QLatin1String(key)) || echo.value(QLatin1String(key)).isNull())
      echo.insert(QLatin1String(key), value);
  };
  setDefault("prompt", QString());
  setDefault("negative_prompt", QString());
  setDefault("seed", -1);
  setDefault("subseed", -1);
  setDefault("sampler_name", QJsonValue::Null);
  setDefault("sampler_index", QStringLiteral("Euler"));
  setDefault("scheduler", QJsonValue::Null);
  setDefault("steps", 20);
  setDefault("cfg_scale", 7.0);
  setDefault("width", 512);
  setDefault("height", 512);
  setDefault("batch_size", 1);
  setDefault("n_iter", 1);
  setDefault("override_settings", QJsonObject());
  setDefault("send_images", true);
  setDefault("save_images", false);
  setDefault("alwayson_scripts", QJsonObject());
  setDefault("enable_hr", false);
  if (img2img) {
    setDefault("denoising_strength", 0.75);
    setDefault("mask_blur", 4);
    setDefault("inpainting_mask_invert", 0);
    setDefault("resize_mode", 0);
    if (!boolField(body, "include_init_images", false)) {
      echo.insert(QStringLiteral("init_images"), QJsonValue::Null);
      echo.insert(QStringLiteral("mask"), QJsonValue::Null);
    }
  }
  r.echo = echo;
  return r;
}

}  // namespace kiln::api
