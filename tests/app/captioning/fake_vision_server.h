#pragma once
// A faithful fake of an OpenAI-compatible vision endpoint for the captioning tests, on
// FaultServer (loopback, own thread): /v1/models, /health (503 "Loading model" for the first
// `loadingHealthChecks` calls, as llama-server while it loads), /v1/chat/completions that
// validates requests as real servers do (model known, a text part, an image_url part holding a
// decodable data:image/jpeg;base64 URL; the text-only model refuses images like llama-server
// without a projector) and answers a deterministic caption per image (its size and mean colour),
// plus scripted faults for the next requests.

#include <QByteArray>
#include <QImage>
#include <QJsonObject>
#include <QList>
#include <QMutex>
#include <QString>
#include <QStringList>

#include <memory>

#include "fault_server.h"

namespace kiln::test {

class FakeVisionServer {
 public:
  enum class Fault {
    RateLimitSeconds,   // 429 Retry-After: 1
    RateLimitMs,        // 429 retry-after-ms: 300
    RateLimitDate,      // 429 Retry-After: an HTTP date ~1 s ahead
    Quota,              // 429 insufficient_quota
    Unauthorized,       // 401
    ServerError,        // 500 JSON
    HtmlError,          // 502 HTML page
    BrokenJson,         // 200 with a truncated JSON body
    Stall,              // headers never come
    CutOff,             // 200 whose body stops half-way (connection closed)
    Refusal,            // 200 "I'm sorry, I can't help with that."
    Empty,              // 200 with ""
    Truncated,          // 200, finish_reason "length"
    BadRequest,         // 400 invalid_request_error (not about vision)
  };

  FakeVisionServer();
  QString baseUrl() const;  // http://127.0.0.1:PORT/v1
  FaultServer& http() { return mServer; }

  // The next chat requests get these faults, in order (then normal answers).
  void script(const QList<Fault>& faults);
  void setRequiredKey(const QByteArray& key);  // 401 without "Bearer key"
  void setLoadingHealthChecks(int n);
  void setAnswerDelayMs(int ms);               // before each normal answer
  void setAnswerPrefix(const QString& prefix); // e.g. "This image shows " (to be stripped)
  // Asks for max_completion_tokens (400 when max_tokens is sent), as newer OpenAI models do.
  void setWantsCompletionTokens(bool on);

  // The chat requests received (parsed bodies) and the image sizes they carried.
  QList<QJsonObject> chatRequests() const;
  int chatCount() const;
  // The caption the fake gives for an image (what the tests expect in the .txt).
  static QString captionFor(const QImage& image, const QString& subject);

 private:
  void handleChat(const HttpRequest& request, QTcpSocket* socket);

  FaultServer mServer;
  mutable QMutex mMutex;
  QList<Fault> mScript;
  QByteArray mKey;
  int mLoading = 0;
  int mDelayMs = 0;
  QString mPrefix;
  bool mWantsCompletionTokens = false;
  QList<QJsonObject> mChats;
};

}  // namespace kiln::test
