#include "bridge/generation_parameters.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageWriter>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStringList>

#include <algorithm>
#include <array>
#include <cmath>

#include "pipelines/generation_request.h"
#include "pipelines/hires_fix.h"

namespace kiln::bridge {

namespace {

// A1111 prints floats without trailing zeros: 7, 7.5, 0.75.
QString number(double v) { return QString::number(v, 'g', 6); }

// A1111 quotes a value that contains a comma, colon or quote (json.dumps).
QString quoted(const QString& v) {
  if (!v.contains(QLatin1Char(',')) && !v.contains(QLatin1Char(':')) && !v.contains(QLatin1Char('"'))) return v;
  QString escaped = v;
  escaped.replace(QLatin1String("\\"), QLatin1String("\\\\")).replace(QLatin1String("\""), QLatin1String("\\\""));
  return QLatin1Char('"') + escaped + QLatin1Char('"');
}

QString unquoted(QString v) {
  v = v.trimmed();
  if (v.size() >= 2 && v.startsWith(QLatin1Char('"')) && v.endsWith(QLatin1Char('"'))) {
    v = v.mid(1, v.size() - 2);
    v.replace(QLatin1String("\\\""), QLatin1String("\"")).replace(QLatin1String("\\\\"), QLatin1String("\\"));
  }
  return v;
}

// Python's str() of a float, as sd-webui-controlnet writes its values: the shortest digits that
// read back as the same double, positional from 1e-4 up to 1e16 (with ".0" when whole: 1.0,
// 50.0, 0.825), scientific outside (1e-05, 1.5e+16), as Python's repr does.
QString pythonFloat(double v) {
  if (std::isnan(v)) return QStringLiteral("nan");
  if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
  if (v == 0) return std::signbit(v) ? QStringLiteral("-0.0") : QStringLiteral("0.0");
  int digits = 1;
  while (digits < 17 && QString::number(v, 'e', digits - 1).toDouble() != v) ++digits;
  const QString scientific = QString::number(v, 'e', digits - 1);  // d.ddde+XX
  const int exponent = scientific.mid(scientific.indexOf(QLatin1Char('e')) + 1).toInt();
  if (exponent < -4 || exponent >= 16) return scientific;
  QString text = QString::number(v, 'f', std::max(digits - 1 - exponent, 0));
  if (!text.contains(QLatin1Char('.'))) text += QStringLiteral(".0");
  return text;
}

QString pythonBool(bool v) { return v ? QStringLiteral("True") : QStringLiteral("False"); }

const QLatin1String kControlNetKey("ControlNet ");

}  // namespace

QString ControlNetUnitUse::toText() const {
  const QStringList items{QStringLiteral("Module: ") + module,
                          QStringLiteral("Model: ") + model,
                          QStringLiteral("Weight: ") + pythonFloat(weight),
                          QStringLiteral("Resize Mode: ") + resizeMode,
                          QStringLiteral("Processor Res: ") + QString::number(processorRes),
                          QStringLiteral("Threshold A: ") + pythonFloat(thresholdA),
                          QStringLiteral("Threshold B: ") + pythonFloat(thresholdB),
                          QStringLiteral("Guidance Start: ") + pythonFloat(guidanceStart),
                          QStringLiteral("Guidance End: ") + pythonFloat(guidanceEnd),
                          QStringLiteral("Pixel Perfect: ") + pythonBool(pixelPerfect),
                          QStringLiteral("Control Mode: ") + controlMode};
  return items.join(QStringLiteral(", "));
}

std::optional<ControlNetUnitUse> ControlNetUnitUse::fromText(const QString& text) {
  ControlNetUnitUse u;
  for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    const qsizetype colon = item.indexOf(QLatin1String(": "));
    if (colon < 0) return std::nullopt;
    const QString key = item.left(colon).trimmed(), value = item.mid(colon + 2).trimmed();
    if (key == QLatin1String("Module")) u.module = value;
    else if (key == QLatin1String("Model")) u.model = value;
    else if (key == QLatin1String("Weight")) u.weight = value.toDouble();
    else if (key == QLatin1String("Resize Mode")) u.resizeMode = a1111ResizeModeName(value);
    else if (key == QLatin1String("Processor Res")) {
      // A number that does not fit an int reads as "the preprocessor's default" (fuzz_png_parameters
      // found 5e49, which was cast as it stood).
      const double res = value.toDouble();
      u.processorRes = std::isfinite(res) && res >= -1 && res <= 1e6 ? static_cast<int>(res) : -1;
    }
    else if (key == QLatin1String("Threshold A")) u.thresholdA = value.toDouble();
    else if (key == QLatin1String("Threshold B")) u.thresholdB = value.toDouble();
    else if (key == QLatin1String("Guidance Start")) u.guidanceStart = value.toDouble();
    else if (key == QLatin1String("Guidance End")) u.guidanceEnd = value.toDouble();
    else if (key == QLatin1String("Pixel Perfect")) u.pixelPerfect = value == QLatin1String("True");
    else if (key == QLatin1String("Control Mode")) u.controlMode = value;
  }
  return u;
}

QString a1111ResizeModeName(const QString& value) {
  static const struct {
    const char* name;
    const char* aliases[4];
  } kModes[] = {
      {"Just Resize", {"ResizeMode.RESIZE", "RESIZE", "0", nullptr}},
      {"Crop and Resize", {"ResizeMode.INNER_FIT", "INNER_FIT", "1", "Scale to Fit (Inner Fit)"}},
      {"Resize and Fill", {"ResizeMode.OUTER_FIT", "OUTER_FIT", "2", "Envelope (Outer Fit)"}},
  };
  const QString v = value.trimmed();
  for (const auto& mode : kModes) {
    if (v == QLatin1String(mode.name)) return v;
    for (const char* alias : mode.aliases) {
      if (alias && v == QLatin1String(alias)) return QString::fromLatin1(mode.name);
    }
  }
  return value;
}

QString a1111ControlModeName(pipelines::ControlMode mode) {
  switch (mode) {
    case pipelines::ControlMode::PromptMoreImportant: return QStringLiteral("My prompt is more important");
    case pipelines::ControlMode::ControlNetMoreImportant: return QStringLiteral("ControlNet is more important");
    case pipelines::ControlMode::Balanced: break;
  }
  return QStringLiteral("Balanced");
}

std::optional<pipelines::ControlMode> controlModeFromA1111(const QString& name) {
  for (const auto mode : {pipelines::ControlMode::Balanced, pipelines::ControlMode::PromptMoreImportant,
                          pipelines::ControlMode::ControlNetMoreImportant}) {
    if (name == a1111ControlModeName(mode)) return mode;
  }
  return std::nullopt;
}

QString legacyModelHash(const QString& path) {
  QString file = path;
  if (QFileInfo(path).isDir()) {
    // A diffusers ControlNet folder: its weights (safetensors before bin, as the loader picks them).
    const QStringList weights = QDir(path).entryList({QStringLiteral("*.safetensors"), QStringLiteral("*.bin")},
                                                     QDir::Files, QDir::Name);
    if (weights.isEmpty()) return {};
    const auto safetensors = std::find_if(weights.begin(), weights.end(), [](const QString& n) {
      return n.endsWith(QLatin1String(".safetensors"));
    });
    file = QDir(path).filePath(safetensors != weights.end() ? *safetensors : weights.front());
  }
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QByteArray block;
  if (f.size() > 0x100000 && f.seek(0x100000)) block = f.read(0x10000);
  return QString::fromLatin1(QCryptographicHash::hash(block, QCryptographicHash::Sha256).toHex().left(8));
}

QString GenerationParameters::toText() const {
  QStringList lines;
  QString promptLine = prompt;
  QStringList hashes;
  for (const LoRAUse& l : loras) {
    if (!promptLine.isEmpty()) promptLine += QLatin1Char(' ');
    promptLine += QStringLiteral("<lora:%1:%2>").arg(l.name, number(l.weight));
    // A1111 drops ':' and ',' from the name here, since they separate the entries.
    if (!l.hash.isEmpty())
      hashes << QString(l.name).remove(QLatin1Char(':')).remove(QLatin1Char(',')) + QStringLiteral(": ") + l.hash;
  }
  lines << promptLine;
  if (!negativePrompt.isEmpty()) lines << QStringLiteral("Negative prompt: ") + negativePrompt;
  QStringList fields;
  fields << QStringLiteral("Steps: %1").arg(steps) << QStringLiteral("Sampler: %1").arg(quoted(sampler))
         << QStringLiteral("CFG scale: %1").arg(number(cfgScale)) << QStringLiteral("Seed: %1").arg(seed)
         << QStringLiteral("Size: %1x%2").arg(width).arg(height);
  if (!modelHash.isEmpty()) fields << QStringLiteral("Model hash: %1").arg(modelHash);
  if (!modelName.isEmpty()) fields << QStringLiteral("Model: %1").arg(quoted(modelName));
  if (denoisingStrength) fields << QStringLiteral("Denoising strength: %1").arg(number(*denoisingStrength));
  fields << QStringLiteral("Clip skip: %1").arg(clipSkip);
  if (hires) {
    if (hires->resizeX > 0 || hires->resizeY > 0)
      fields << QStringLiteral("Hires resize: %1x%2").arg(hires->resizeX).arg(hires->resizeY);
    else
      fields << QStringLiteral("Hires upscale: %1").arg(number(hires->scale));
    if (hires->steps > 0) fields << QStringLiteral("Hires steps: %1").arg(hires->steps);
    fields << QStringLiteral("Hires upscaler: %1").arg(quoted(hires->upscaler));
  }
  if (!hashes.isEmpty()) fields << QStringLiteral("Lora hashes: ") + quoted(hashes.join(QStringLiteral(", ")));
  QStringList tiHashes;
  for (const EmbeddingUse& e : embeddings) {
    if (!e.hash.isEmpty())
      tiHashes << QString(e.name).remove(QLatin1Char(':')).remove(QLatin1Char(',')) + QStringLiteral(": ") + e.hash;
  }
  if (!tiHashes.isEmpty()) fields << QStringLiteral("TI hashes: ") + quoted(tiHashes.join(QStringLiteral(", ")));
  for (qsizetype i = 0; i < controlNets.size(); ++i)
    fields << kControlNetKey + QString::number(i) + QStringLiteral(": ") + quoted(controlNets[i].toText());
  for (auto it = extra.cbegin(); it != extra.cend(); ++it) fields << it.key() + QStringLiteral(": ") + quoted(it.value());
  lines << fields.join(QStringLiteral(", "));
  return lines.join(QLatin1Char('\n'));
}

QStringList hiresUpscalerNames() {
  QStringList names;
  for (const std::string& n : pipelines::hires_upscalers()) names << QString::fromStdString(n);
  return names;
}

std::optional<GenerationParameters> GenerationParameters::fromText(const QString& text) {
  QStringList lines = text.split(QLatin1Char('\n'));
  // The last line holding "Steps:" carries the key/value fields; what comes before is the prompt,
  // then the negative prompt (both may span several lines).
  qsizetype fieldsLine = -1;
  for (qsizetype i = lines.size() - 1; i >= 0; --i) {
    if (lines[i].trimmed().startsWith(QLatin1String("Steps:"))) {
      fieldsLine = i;
      break;
    }
  }
  if (fieldsLine < 0) return std::nullopt;
  GenerationParameters p;
  p.extra.clear();
  QMap<int, ControlNetUnitUse> units;  // by A1111's index, so "ControlNet 1" before "ControlNet 0" still sorts
  QStringList prompt, negative;
  bool inNegative = false;
  for (qsizetype i = 0; i < fieldsLine; ++i) {
    QString line = lines[i];
    if (line.startsWith(QLatin1String("Negative prompt:"))) {
      inNegative = true;
      line = line.mid(16).trimmed();
    }
    (inNegative ? negative : prompt) << line;
  }
  p.prompt = prompt.join(QLatin1Char('\n')).trimmed();
  p.loras = takeLoRATags(p.prompt);
  p.prompt = p.prompt.trimmed();
  p.negativePrompt = negative.join(QLatin1Char('\n')).trimmed();
  // key: value pairs separated by ", "; values may be "quoted, with commas".
  static const QRegularExpression pair(QStringLiteral(R"(\s*([\w ][\w \-/+]*):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$))"));
  const QString fields = lines.mid(fieldsLine).join(QLatin1Char(' '));
  auto it = pair.globalMatch(fields);
  while (it.hasNext()) {
    const QRegularExpressionMatch m = it.next();
    const QString key = m.captured(1).trimmed();
    const QString value = unquoted(m.captured(2));
    if (key == QLatin1String("Steps")) p.steps = value.toInt();
    else if (key == QLatin1String("Sampler")) p.sampler = value;
    else if (key == QLatin1String("CFG scale")) p.cfgScale = value.toDouble();
    else if (key == QLatin1String("Seed")) p.seed = value.toULongLong();
    else if (key == QLatin1String("Size")) {
      const QStringList wh = value.split(QLatin1Char('x'));
      if (wh.size() == 2) {
        p.width = wh[0].toInt();
        p.height = wh[1].toInt();
      }
    } else if (key == QLatin1String("Model hash")) p.modelHash = value;
    else if (key == QLatin1String("Model")) p.modelName = value;
    else if (key == QLatin1String("Clip skip")) p.clipSkip = value.toInt();
    else if (key == QLatin1String("Denoising strength")) p.denoisingStrength = value.toDouble();
    else if (key == QLatin1String("Hires upscale")) {
      if (!p.hires) p.hires = HiresUse{};
      p.hires->scale = value.toDouble();
    } else if (key == QLatin1String("Hires resize")) {
      if (!p.hires) p.hires = HiresUse{};
      const QStringList wh = value.split(QLatin1Char('x'));
      if (wh.size() == 2) {
        p.hires->resizeX = wh[0].toInt();
        p.hires->resizeY = wh[1].toInt();
      }
    } else if (key == QLatin1String("Hires steps")) {
      if (!p.hires) p.hires = HiresUse{};
      p.hires->steps = value.toInt();
    } else if (key == QLatin1String("Hires upscaler")) {
      if (!p.hires) p.hires = HiresUse{};
      p.hires->upscaler = value;
    }
    else if (key == QLatin1String("Lora hashes")) {
      for (const QString& entry : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const qsizetype colon = entry.lastIndexOf(QLatin1Char(':'));
        if (colon < 0) continue;
        const QString name = entry.left(colon).trimmed(), hash = entry.mid(colon + 1).trimmed();
        for (LoRAUse& l : p.loras) {
          if (QString(l.name).remove(QLatin1Char(':')).remove(QLatin1Char(',')) == name) l.hash = hash;
        }
      }
    }
    else if (key == QLatin1String("TI hashes")) {
      for (const QString& entry : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const qsizetype colon = entry.lastIndexOf(QLatin1Char(':'));
        if (colon < 0) continue;
        p.embeddings << EmbeddingUse{entry.left(colon).trimmed(), entry.mid(colon + 1).trimmed()};
      }
    }
    else if (key.startsWith(kControlNetKey)) {
      bool number = false;
      const int index = key.mid(kControlNetKey.size()).toInt(&number);
      const std::optional<ControlNetUnitUse> unit = number ? ControlNetUnitUse::fromText(value) : std::nullopt;
      if (unit) units.insert(index, *unit);
      else p.extra.insert(key, value);  // not a unit A1111 would write: kept for display
    }
    else if (!key.isEmpty()) p.extra.insert(key, value);
  }
  p.controlNets = units.values();
  return p;
}

namespace {

quint32 crc32(const QByteArray& data, qsizetype from, qsizetype length) {
  static const auto table = [] {
    std::array<quint32, 256> t{};
    for (quint32 n = 0; n < 256; ++n) {
      quint32 c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  quint32 c = 0xFFFFFFFFu;
  for (qsizetype i = from; i < from + length; ++i) c = table[(c ^ static_cast<quint8>(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void appendU32(QByteArray& out, quint32 v) {
  out.append(static_cast<char>(v >> 24)).append(static_cast<char>(v >> 16));
  out.append(static_cast<char>(v >> 8)).append(static_cast<char>(v));
}

quint32 readU32(const QByteArray& d, qsizetype at) {
  return (quint32(quint8(d[at])) << 24) | (quint32(quint8(d[at + 1])) << 16) | (quint32(quint8(d[at + 2])) << 8) |
         quint32(quint8(d[at + 3]));
}

// PIL's PngInfo.add_text, as AUTOMATIC1111 writes it: tEXt when the text is Latin-1, else iTXt
// (UTF-8, uncompressed). Qt's own writer flattens newlines, which A1111's format needs.
QByteArray textChunk(const QString& key, const QString& text) {
  bool latin1 = true;
  for (const QChar c : text) latin1 = latin1 && c.unicode() < 256;
  QByteArray body = key.toLatin1();
  body.append('\0');
  QByteArray type;
  if (latin1) {
    type = "tEXt";
    body.append(text.toLatin1());
  } else {
    type = "iTXt";
    body.append('\0').append('\0');  // uncompressed, method 0
    body.append('\0').append('\0');  // no language tag, no translated keyword
    body.append(text.toUtf8());
  }
  QByteArray chunk;
  appendU32(chunk, static_cast<quint32>(body.size()));
  chunk.append(type).append(body);
  appendU32(chunk, crc32(chunk, 4, chunk.size() - 4));
  return chunk;
}

QString inflate(const QByteArray& zlibStream) {
  QByteArray withSize;
  appendU32(withSize, static_cast<quint32>(std::min<qsizetype>(zlibStream.size() * 16 + 1024, 64 << 20)));
  return QString::fromUtf8(qUncompress(withSize + zlibStream));
}

}  // namespace

QList<LoRAUse> takeLoRATags(QString& prompt) {
  // <lora:name:weight> (A1111 also accepts <lora:name>, weight 1, and extra ":te:unet" parts).
  // The name holds something besides spaces ("<lora: :1>" stays text: an empty name could not be
  // written back).
  static const QRegularExpression tag(
      QStringLiteral(R"(\s*<lora:([^:<>]*[^:<>\s][^:<>]*)(?::([^:<>]*))?(?::[^<>]*)?>)"));
  QList<LoRAUse> loras;
  // Until none is left: taking "<lora:a>" out of "<lora:<lora:a>, x>" makes a tag of what
  // surrounded it (the fuzzer's round trip found that), which a second reading would take.
  for (bool found = true; found;) {
    found = false;
    for (auto tags = tag.globalMatch(prompt); tags.hasNext();) {
      const QRegularExpressionMatch m = tags.next();
      bool ok = false;
      const double weight = m.captured(2).toDouble(&ok);
      loras << LoRAUse{m.captured(1).trimmed(), ok ? weight : 1.0, {}};
      found = true;
    }
    if (found) prompt.remove(tag);
  }
  return loras;
}

QByteArray pngWithParameters(const QImage& image, const QString& parameters, QString* error) {
  QByteArray png;
  {
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "png");
    if (!writer.write(image)) {
      if (error) *error = writer.errorString();
      return {};
    }
  }
  // The text chunk goes right after IHDR (8 bytes of signature, then IHDR's 25), before the image
  // data, where PIL writes it: readers that stop at the first IDAT (PIL's Image.open, which A1111
  // and its API clients use without decoding the pixels) see it too.
  constexpr qsizetype kAfterIhdr = 8 + 25;
  if (png.size() < kAfterIhdr + 12 || png.mid(12, 4) != "IHDR") {
    if (error) *error = QStringLiteral("the PNG encoder produced no data");
    return {};
  }
  png.insert(kAfterIhdr, textChunk(QStringLiteral("parameters"), parameters));
  return png;
}

bool writePngWithParameters(const QString& path, const QImage& image, const QString& parameters, QString* error) {
  const QByteArray png = pngWithParameters(image, parameters, error);
  if (png.isEmpty()) return false;
  QSaveFile file(path);  // a temporary file renamed on commit: never a half-written PNG
  if (!file.open(QIODevice::WriteOnly) || file.write(png) != png.size() || !file.commit()) {
    if (error) *error = file.errorString();
    return false;
  }
  return true;
}

QString readPngParameters(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return pngParameters(file.readAll());
}

QString pngParameters(const QByteArray& d) {
  if (!d.startsWith("\x89PNG\r\n\x1a\n")) return {};
  for (qsizetype at = 8; at + 12 <= d.size();) {
    const qsizetype length = readU32(d, at);
    if (length > d.size() - at - 12) break;
    const QByteArray type = d.mid(at + 4, 4);
    const QByteArray body = d.mid(at + 8, length);
    at += 12 + length;
    const qsizetype nul = body.indexOf('\0');
    if (nul < 0 || body.left(nul) != "parameters") continue;
    if (type == "tEXt") return QString::fromLatin1(body.mid(nul + 1));
    if (type == "zTXt") return inflate(body.mid(nul + 2));
    if (type == "iTXt" && body.size() >= nul + 3) {
      const bool compressed = body[nul + 1] != '\0';
      const qsizetype language = body.indexOf('\0', nul + 3);
      const qsizetype translated = language < 0 ? -1 : body.indexOf('\0', language + 1);
      if (translated < 0) return {};
      const QByteArray text = body.mid(translated + 1);
      return compressed ? inflate(text) : QString::fromUtf8(text);
    }
  }
  return {};
}

}  // namespace kiln::bridge
