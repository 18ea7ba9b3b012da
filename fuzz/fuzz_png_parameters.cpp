// A PNG's "parameters" text chunk (A1111's infotext, written by Kiln, A1111, ComfyUI exports or
// anyone) found in the PNG's chunks and parsed into generation parameters; what parses is
// written back and parsed again to the same values (the round trip the Generate page relies on
// when it re-uses an image's parameters).
#include <QCoreApplication>
#include <QImage>

#include "bridge/generation_parameters.h"
#include "fuzz_util.h"

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
    (void)p->toText();
  }
  return 0;
}
