// A body sent to the A1111 API (/sdapi/v1/txt2img, /img2img, /png-info): parsed as the server
// parses it. A request Kiln cannot honour must be an ApiError (HTTP 4xx with a message); nothing
// else may escape, and base64 images go through the size limits before they are decoded.
#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>

#include "api/api_request.h"
#include "fuzz_util.h"

namespace {
kiln::api::ImageLimits limits() {
  kiln::api::ImageLimits l;
  l.maxSide = 1024;
  l.maxPixels = 1024 * 1024;
  return l;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static QCoreApplication app(*argc, *argv);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
  const QJsonDocument doc = QJsonDocument::fromJson(bytes);
  if (doc.isObject()) {
    const QJsonObject body = doc.object();
    for (const bool img2img : {false, true}) {
      try {
        const auto r = kiln::api::parseGenerationRequest(body, img2img, limits());
        if (r.batchSize * r.nIter > kiln::api::kMaxImagesPerRequest || r.parameters.steps > kiln::api::kMaxSteps)
          __builtin_trap();  // an accepted request is within the limits
      } catch (const kiln::api::ApiError& e) {
        if (e.status < 400 || e.status > 499 || e.message.isEmpty()) __builtin_trap();
      }
    }
    try {  // /png-info
      const QByteArray image = kiln::api::decodeImageBytes(body.value(QLatin1String("image")), QStringLiteral("image"));
      kiln::api::checkImageContainer(image, QStringLiteral("image"));
    } catch (const kiln::api::ApiError&) {
    }
  }
  (void)kiln::api::parseInfotext(QString::fromUtf8(bytes));
  return 0;
}
