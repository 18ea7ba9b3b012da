// A PNG's "parameters" text chunk (A1111's infotext, written by Kiln, A1111, ComfyUI exports or
// anyone) found in the PNG's chunks and parsed into generation parameters; what parses is
// written back (text, then a PNG's chunk) and parsed again to the same settings (the round trip
// the Generate page relies on when it re-uses an image's parameters). KILN_FUZZ_VERBOSE=1 prints
// both texts when the round trip fails.
#include <QCoreApplication>
#include <QImage>
#include <QRegularExpression>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "bridge/generation_parameters.h"
#include "fuzz_util.h"

namespace {
// The first setting that differs, or nullptr.
const char* differingSetting(const kiln::bridge::GenerationParameters& a, const kiln::bridge::GenerationParameters& b) {
  if (a.loras.size() != b.loras.size()) return "LoRA count";
  for (qsizetype i = 0; i < a.loras.size(); ++i)
    if (a.loras[i].name != b.loras[i].name || a.loras[i].weight != b.loras[i].weight) return "a LoRA";
  // A1111 uses the hires scale only when no resize is given.
  const auto hires = [](std::optional<kiln::bridge::HiresUse> h) {
    if (h && (h->resizeX != 0 || h->resizeY != 0)) h->scale = 0;
    return h;
  };
  const std::pair<bool, const char*> checks[] = {
      {a.prompt == b.prompt, "prompt"},
      {a.negativePrompt == b.negativePrompt, "negative prompt"},
      {a.steps == b.steps, "steps"},
      {a.sampler == b.sampler, "sampler"},
      {a.cfgScale == b.cfgScale, "CFG scale"},
      {a.seed == b.seed, "seed"},
      {a.width == b.width && a.height == b.height, "size"},
      {a.modelName == b.modelName, "model"},
      {a.clipSkip == b.clipSkip, "clip skip"},
      {a.denoisingStrength == b.denoisingStrength, "denoising strength"},
      {hires(a.hires) == hires(b.hires), "hires fix"},
      {a.controlNets == b.controlNets, "ControlNet units"},
  };
  for (const auto& [same, name] : checks)
    if (!same) return name;
  return nullptr;
}

// What the first writing may not change (it may round numbers: CFG, strengths, LoRA weights,
// and move whitespace).
const char* lostText(const kiln::bridge::GenerationParameters& a, const kiln::bridge::GenerationParameters& b) {
  if (a.loras.size() != b.loras.size()) return "LoRA count";
  for (qsizetype i = 0; i < a.loras.size(); ++i)
    if (a.loras[i].name != b.loras[i].name) return "a LoRA name";
  // Whitespace may move: A1111's reader (and Kiln's) strips the first negative line's ends.
  if (a.prompt.simplified() != b.prompt.simplified()) return "prompt";
  if (a.negativePrompt.simplified() != b.negativePrompt.simplified()) return "negative prompt";
  if (a.steps != b.steps || a.seed != b.seed || a.width != b.width || a.height != b.height) return "steps, seed or size";
  if (a.sampler != b.sampler || a.modelName != b.modelName) return "sampler or model";
  return nullptr;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static QCoreApplication app(*argc, *argv);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
  // Bytes that look like a PNG go through the chunk reader; any bytes are also a parameters text.
  const QString fromPng = bytes.startsWith("\x89PNG") ? kiln::bridge::pngParameters(bytes) : QString();
  for (const QString& text : {fromPng, QString::fromUtf8(bytes)}) {
    if (text.isEmpty()) continue;
    const auto p = kiln::bridge::GenerationParameters::fromText(text);
    if (!p) continue;
    // A1111's format cannot hold a prompt line that starts with one of its own markers (its
    // reader, like Kiln's, strips "Negative prompt:" from every line that starts with it).
    static const QRegularExpression marker(QStringLiteral("(^|\n)\\s*(Negative prompt:|Steps:)"));
    if (p->prompt.contains(marker) || p->negativePrompt.contains(marker)) continue;
    // What Kiln writes parses again, and from then on the round trip is exact: Kiln's own text
    // reads back to the same settings (what the Generate page applies: prompts, sampler, size,
    // seed, model, LoRAs and weights, hires fix, ControlNet units; hashes and unmodelled keys are
    // only displayed). The first writing may normalise (numbers to 6 digits, as A1111's own).
    const QString written = p->toText();
    const auto again = kiln::bridge::GenerationParameters::fromText(written);
    const auto third = again ? kiln::bridge::GenerationParameters::fromText(again->toText()) : std::nullopt;
    const char* differs = !again || !third ? "everything" : lostText(*p, *again);
    if (!differs) differs = differingSetting(*again, *third);
    if (differs) {
      if (std::getenv("KILN_FUZZ_VERBOSE"))
        std::fprintf(stderr, "%s differs (prompts read first: [%s] [%s], then: [%s] [%s]); written:\n%s\nread back and written again:\n%s\n", differs,
                     p->prompt.toUtf8().toPercentEncoding(" ,:<>()[]").constData(),
                     p->negativePrompt.toUtf8().toPercentEncoding(" ,:<>()[]").constData(),
                     again ? again->prompt.toUtf8().toPercentEncoding(" ,:<>()[]").constData() : "",
                     again ? again->negativePrompt.toUtf8().toPercentEncoding(" ,:<>()[]").constData() : "",
                     again ? again->toText().toUtf8().toPercentEncoding(" ,:<>()[]").constData() : "(does not parse)",
                     third ? third->toText().toUtf8().toPercentEncoding(" ,:<>()[]").constData() : "(does not parse)");
      __builtin_trap();
    }
    static const QImage pixel = [] {
      QImage image(1, 1, QImage::Format_RGB888);
      image.fill(Qt::black);
      return image;
    }();
    const QByteArray png = kiln::bridge::pngWithParameters(pixel, written, nullptr);
    if (png.isEmpty() || kiln::bridge::pngParameters(png) != written) __builtin_trap();
  }
  return 0;
}
