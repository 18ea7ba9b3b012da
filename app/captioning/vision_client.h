#pragma once
// An OpenAI-compatible chat-completions client for captions: one user message with a text part
// and an image_url part holding a data:image/jpeg;base64 URL of the prepared image (EXIF
// orientation applied, longest side limited, re-encoded as JPEG: no metadata leaves the machine).
//
// Each call retries what can pass (network errors, timeouts, 408, 429, 5xx, a broken or HTML
// answer) with doubling backoff, honouring Retry-After (seconds or date) and retry-after-ms; it
// never retries a 400. max_tokens is switched once to max_completion_tokens when the server asks.
// Outcomes that concern the whole endpoint (401, 403, 404, a quota error, no vision support,
// unreachable) are reported as such so that a run stops instead of failing every image.

#include <QByteArray>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <optional>

#include "captioning/endpoint_profile.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace kiln::captioning {

struct RetryPolicy {
  int maxAttempts = 5;
  int firstBackoffMs = 1000;
  int maxBackoffMs = 30000;
  int maxRetryAfterMs = 10 * 60 * 1000;
};

struct VisionReply {
  enum class Outcome {
    Ok,
    ImageFailed,  // this image only (a 400, or still failing after the retries)
    Unauthorized, // 401 / 403: stop
    NotFound,     // 404: unknown model or wrong URL: stop
    Quota,        // insufficient_quota / 402: stop
    NoVision,     // the model takes no images: stop
    Unreachable,  // no connection after the retries: stop
    Aborted,
  };
  Outcome outcome = Outcome::ImageFailed;
  QString content;
  QString finishReason;
  int promptTokens = -1;
  int completionTokens = -1;
  int httpStatus = 0;
  int attempts = 0;
  qint64 latencyMs = 0;
  QString error;  // one line when not Ok
  bool stopsRun() const {
    return outcome == Outcome::Unauthorized || outcome == Outcome::NotFound || outcome == Outcome::Quota ||
           outcome == Outcome::NoVision || outcome == Outcome::Unreachable;
  }
};

QString outcomeName(VisionReply::Outcome outcome);  // "ok", "image-failed", "unauthorized", ...

// The image as sent: EXIF applied, longest side <= maxSide, RGB JPEG (quality 90) without
// metadata. Nothing with `error` set when the file is not a readable image.
std::optional<QByteArray> prepareImage(const QString& path, int maxSide, QString* error);
QByteArray dataUrl(const QByteArray& jpeg);

// One caption request; emits finished() once (also after abort()).
class CaptionCall : public QObject {
  Q_OBJECT
 public:
  CaptionCall(const EndpointProfile& profile, QNetworkAccessManager* network, const RetryPolicy& policy,
              QByteArray jpeg, QString prompt, QObject* parent = nullptr);
  ~CaptionCall() override;
  void start();
  void abort();
  const VisionReply& reply() const { return mReply; }

 Q_SIGNALS:
  void finished();
  // A 429 was answered (the caller may lower its concurrency); `waitMs` is the wait applied.
  void rateLimited(int waitMs);
  void note(const QString& line);

 private:
  void send();
  void onFinished();
  void retryOrFail(const QString& reason, int waitMs, VisionReply::Outcome finalOutcome);
  void finish(VisionReply::Outcome outcome, const QString& error = {});
  QByteArray body() const;

  EndpointProfile mProfile;
  QNetworkAccessManager* mNetwork;
  RetryPolicy mPolicy;
  QByteArray mJpeg;
  QString mPrompt;
  bool mUseCompletionTokens = false;
  bool mSwitchedTokens = false;
  bool mDone = false;
  QPointer<QNetworkReply> mHttp;
  QTimer mRetryTimer;
  QElapsedTimer mClock;
  VisionReply mReply;
};

// "Test endpoint": /health (waiting while a local server loads its model), /v1/models, then one
// small probe image. Emits finished() once.
class EndpointCheck : public QObject {
  Q_OBJECT
 public:
  enum class Result { Ok, Unreachable, Unauthorized, UnknownModel, NoVision, Quota, Failed };
  Q_ENUM(Result)

  EndpointCheck(const EndpointProfile& profile, QNetworkAccessManager* network, QObject* parent = nullptr);
  void setHealthWaitMs(int ms) { mHealthWaitMs = ms; }
  void setRetryPolicy(const RetryPolicy& policy) { mPolicy = policy; }
  void start();

  Result result() const { return mResult; }
  QString message() const { return mMessage; }  // one line
  QStringList models() const { return mModels; }
  qint64 latencyMs() const { return mLatencyMs; }
  QString probeAnswer() const { return mProbeAnswer; }

 Q_SIGNALS:
  void progress(const QString& step);
  void finished();

 private:
  void checkHealth();
  void listModels();
  void probe();
  void done(Result result, const QString& message);

  EndpointProfile mProfile;
  QNetworkAccessManager* mNetwork;
  RetryPolicy mPolicy;
  int mHealthWaitMs = 60000;
  QElapsedTimer mHealthClock;
  Result mResult = Result::Failed;
  QString mMessage;
  QStringList mModels;
  qint64 mLatencyMs = 0;
  QString mProbeAnswer;
  bool mDone = false;
};

QString checkResultName(EndpointCheck::Result result);

}  // namespace kiln::captioning
