#include "captioning/vision_client.h"

#include "captioning/completion_answer.h"

#include <QBuffer>
#include <QDateTime>
#include <QImage>
#include <QImageReader>
#include <QImageWriter>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPainter>

#include <algorithm>
#include <climits>

namespace kiln::captioning {

namespace {

// Retry-After (seconds or an HTTP date) or retry-after-ms; -1 when neither.
int replyRetryAfterMs(const QNetworkReply* reply) {
  return retryAfterMs(reply->rawHeader("retry-after-ms"), reply->rawHeader("Retry-After"), QDateTime::currentDateTimeUtc());
}

bool isHtml(const QNetworkReply* reply, const QByteArray& body) {
  return looksLikeHtml(reply->header(QNetworkRequest::ContentTypeHeader).toString(), body);
}

bool connectionLevel(QNetworkReply::NetworkError e) {
  return e == QNetworkReply::ConnectionRefusedError || e == QNetworkReply::HostNotFoundError ||
         e == QNetworkReply::UnknownNetworkError || e == QNetworkReply::TemporaryNetworkFailureError ||
         e == QNetworkReply::NetworkSessionFailedError;
}

QNetworkRequest jsonRequest(const EndpointProfile& profile, const QUrl& url, int timeoutMs) {
  QNetworkRequest request(url);
  request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  request.setRawHeader("Accept", "application/json");
  request.setRawHeader("User-Agent", "Kiln/" KILN_CAPTIONING_VERSION);
  request.setTransferTimeout(timeoutMs);
  request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
  const QByteArray key = profile.apiKey();
  if (!key.isEmpty()) request.setRawHeader("Authorization", "Bearer " + key);
  return request;
}

QString keyAdvice(const EndpointProfile& profile) {
  if (profile.apiKeyEnv.isEmpty()) return QStringLiteral("the profile names no API-key variable");
  if (profile.apiKey().isEmpty()) return QStringLiteral("$%1 is not set").arg(profile.apiKeyEnv);
  return QStringLiteral("check the key in $%1").arg(profile.apiKeyEnv);
}

}  // namespace

QString outcomeName(VisionReply::Outcome outcome) {
  switch (outcome) {
    case VisionReply::Outcome::Ok: return QStringLiteral("ok");
    case VisionReply::Outcome::ImageFailed: return QStringLiteral("image-failed");
    case VisionReply::Outcome::Unauthorized: return QStringLiteral("unauthorized");
    case VisionReply::Outcome::NotFound: return QStringLiteral("not-found");
    case VisionReply::Outcome::Quota: return QStringLiteral("quota");
    case VisionReply::Outcome::NoVision: return QStringLiteral("no-vision");
    case VisionReply::Outcome::Unreachable: return QStringLiteral("unreachable");
    case VisionReply::Outcome::Aborted: return QStringLiteral("aborted");
  }
  return {};
}

std::optional<QByteArray> prepareImage(const QString& path, int maxSide, QString* error) {
  QImageReader reader(path);
  reader.setAutoTransform(true);  // EXIF orientation
  QImage image = reader.read();
  if (image.isNull()) {
    if (error) *error = QStringLiteral("%1: not a readable image (%2)").arg(path, reader.errorString());
    return std::nullopt;
  }
  if (image.hasAlphaChannel()) {  // onto white, as a viewer shows it
    QImage flat(image.size(), QImage::Format_RGB888);
    flat.fill(Qt::white);
    QPainter painter(&flat);
    painter.drawImage(0, 0, image);
    painter.end();
    image = flat;
  } else {
    image = image.convertToFormat(QImage::Format_RGB888);
  }
  if (std::max(image.width(), image.height()) > maxSide)
    image = image.scaled(maxSide, maxSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  QByteArray jpeg;
  QBuffer buffer(&jpeg);
  buffer.open(QIODevice::WriteOnly);
  QImageWriter writer(&buffer, "jpeg");
  writer.setQuality(90);
  if (!writer.write(image)) {
    if (error) *error = QStringLiteral("%1: cannot encode it as JPEG (%2)").arg(path, writer.errorString());
    return std::nullopt;
  }
  return jpeg;
}

QByteArray dataUrl(const QByteArray& jpeg) { return "data:image/jpeg;base64," + jpeg.toBase64(); }

// --- CaptionCall ------------------------------------------------------------------------------------

CaptionCall::CaptionCall(const EndpointProfile& profile, QNetworkAccessManager* network, const RetryPolicy& policy,
                         QByteArray jpeg, QString prompt, QObject* parent)
    : QObject(parent), mProfile(profile), mNetwork(network), mPolicy(policy), mJpeg(std::move(jpeg)),
      mPrompt(std::move(prompt)) {
  mRetryTimer.setSingleShot(true);
  connect(&mRetryTimer, &QTimer::timeout, this, &CaptionCall::send);
}

CaptionCall::~CaptionCall() {
  if (mHttp) {
    mHttp->disconnect(this);
    mHttp->abort();
    mHttp->deleteLater();
  }
}

QByteArray CaptionCall::body() const {
  QJsonObject text{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), mPrompt}};
  QJsonObject image{{QStringLiteral("type"), QStringLiteral("image_url")},
                    {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), QString::fromLatin1(dataUrl(mJpeg))}}}};
  QJsonObject message{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QJsonArray{text, image}}};
  QJsonObject root{{QStringLiteral("model"), mProfile.model},
                   {QStringLiteral("messages"), QJsonArray{message}},
                   {QStringLiteral("temperature"), mProfile.temperature},
                   {QStringLiteral("stream"), false}};
  root.insert(mUseCompletionTokens ? QStringLiteral("max_completion_tokens") : QStringLiteral("max_tokens"), mProfile.maxTokens);
  return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

void CaptionCall::start() {
  mClock.start();
  send();
}

void CaptionCall::abort() {
  if (mDone) return;
  mRetryTimer.stop();
  finish(VisionReply::Outcome::Aborted, QStringLiteral("cancelled"));
}

void CaptionCall::send() {
  if (mDone) return;
  ++mReply.attempts;
  mHttp = mNetwork->post(jsonRequest(mProfile, mProfile.url(QStringLiteral("chat/completions")), mProfile.timeoutSeconds * 1000),
                         body());
  connect(mHttp, &QNetworkReply::finished, this, &CaptionCall::onFinished);
}

void CaptionCall::onFinished() {
  QNetworkReply* http = mHttp;
  mHttp = nullptr;
  if (!http || mDone) return;
  http->deleteLater();
  const int status = http->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  const QByteArray data = http->isOpen() ? http->readAll() : QByteArray();
  mReply.httpStatus = status;
  const QNetworkReply::NetworkError netError = http->error();

  if (status == 0) {  // no HTTP answer at all
    const QString why = http->errorString();
    retryOrFail(why, -1,
                connectionLevel(netError) ? VisionReply::Outcome::Unreachable : VisionReply::Outcome::ImageFailed);
    return;
  }
  const ServerError se = parseServerError(data);
  const QString all = se.message + QLatin1Char(' ') + se.kind;
  if (status == 200) {
    if (netError != QNetworkReply::NoError) {  // cut off mid-answer
      retryOrFail(QStringLiteral("the answer was cut off (%1)").arg(http->errorString()), -1,
                  VisionReply::Outcome::ImageFailed);
      return;
    }
    if (isHtml(http, data)) {
      retryOrFail(QStringLiteral("the endpoint sent a web page instead of JSON"), -1, VisionReply::Outcome::ImageFailed);
      return;
    }
    QString why;
    const std::optional<CompletionAnswer> answer = parseCompletion(data, &why);
    if (!answer) {
      retryOrFail(why, -1, VisionReply::Outcome::ImageFailed);
      return;
    }
    mReply.content = answer->content;
    mReply.finishReason = answer->finishReason;
    mReply.promptTokens = answer->promptTokens;
    mReply.completionTokens = answer->completionTokens;
    finish(VisionReply::Outcome::Ok);
    return;
  }
  if (status == 400) {
    if (!mSwitchedTokens && all.contains(QLatin1String("max_completion_tokens"))) {
      mSwitchedTokens = true;
      mUseCompletionTokens = true;
      Q_EMIT note(QStringLiteral("the endpoint wants max_completion_tokens: asking again with it"));
      --mReply.attempts;
      send();
      return;
    }
    if (mentionsNoVision(all)) {
      finish(VisionReply::Outcome::NoVision,
             QStringLiteral("the model %1 takes no images (HTTP 400: %2)").arg(mProfile.model, se.message));
      return;
    }
    finish(VisionReply::Outcome::ImageFailed, QStringLiteral("HTTP 400: %1").arg(se.message));
    return;
  }
  if (status == 401 || status == 403) {
    finish(VisionReply::Outcome::Unauthorized,
           QStringLiteral("the endpoint refused access (HTTP %1: %2); %3").arg(status).arg(se.message, keyAdvice(mProfile)));
    return;
  }
  if (status == 402 || all.contains(QLatin1String("insufficient_quota")) || all.contains(QLatin1String("quota exceeded"))) {
    finish(VisionReply::Outcome::Quota,
           QStringLiteral("the account's quota is used up (HTTP %1: %2)").arg(status).arg(se.message));
    return;
  }
  if (status == 404) {
    const bool model = all.contains(QLatin1String("model"));
    finish(VisionReply::Outcome::NotFound,
           model ? QStringLiteral("the endpoint does not know the model %1 (HTTP 404: %2)").arg(mProfile.model, se.message)
                 : QStringLiteral("no chat-completions endpoint at %1 (HTTP 404); the base URL usually ends in /v1")
                       .arg(mProfile.url(QStringLiteral("chat/completions")).toString()));
    return;
  }
  if (status == 429) {
    const int wait = replyRetryAfterMs(http);
    Q_EMIT rateLimited(wait);
    retryOrFail(QStringLiteral("HTTP 429 (rate limited)"), wait, VisionReply::Outcome::ImageFailed);
    return;
  }
  if (mentionsNoVision(all)) {  // llama-server without a projector answers 500
    finish(VisionReply::Outcome::NoVision,
           QStringLiteral("the model %1 takes no images (HTTP %2: %3)").arg(mProfile.model).arg(status).arg(se.message));
    return;
  }
  if (status == 408 || status >= 500) {
    const QString why = isHtml(http, data) ? QStringLiteral("HTTP %1 (an error page)").arg(status)
                                           : QStringLiteral("HTTP %1: %2").arg(status).arg(se.message);
    retryOrFail(why, replyRetryAfterMs(http), VisionReply::Outcome::ImageFailed);
    return;
  }
  finish(VisionReply::Outcome::ImageFailed, QStringLiteral("HTTP %1: %2").arg(status).arg(se.message));
}

void CaptionCall::retryOrFail(const QString& reason, int waitMs, VisionReply::Outcome finalOutcome) {
  if (mReply.attempts >= mPolicy.maxAttempts) {
    finish(finalOutcome, QStringLiteral("%1 (after %2 tries)").arg(reason).arg(mReply.attempts));
    return;
  }
  if (waitMs > mPolicy.maxRetryAfterMs) {
    finish(finalOutcome, QStringLiteral("%1; the endpoint asks to wait %2 s").arg(reason).arg(waitMs / 1000));
    return;
  }
  const int backoff = int(std::min<qint64>(mPolicy.maxBackoffMs, qint64(mPolicy.firstBackoffMs) << std::min(mReply.attempts - 1, 20)));
  const int delay = waitMs >= 0 ? waitMs : backoff;
  Q_EMIT note(QStringLiteral("%1; trying again in %2 s").arg(reason).arg(delay / 1000.0, 0, 'f', 1));
  mRetryTimer.start(delay);
}

void CaptionCall::finish(VisionReply::Outcome outcome, const QString& error) {
  if (mDone) return;
  mDone = true;
  if (mHttp) {
    mHttp->disconnect(this);
    mHttp->abort();
    mHttp->deleteLater();
    mHttp = nullptr;
  }
  mReply.outcome = outcome;
  mReply.error = error;
  mReply.latencyMs = mClock.isValid() ? mClock.elapsed() : 0;
  Q_EMIT finished();
}

// --- EndpointCheck --------------------------------------------------------------------------------------

QString checkResultName(EndpointCheck::Result result) {
  switch (result) {
    case EndpointCheck::Result::Ok: return QStringLiteral("ok");
    case EndpointCheck::Result::Unreachable: return QStringLiteral("unreachable");
    case EndpointCheck::Result::Unauthorized: return QStringLiteral("unauthorized");
    case EndpointCheck::Result::UnknownModel: return QStringLiteral("unknown-model");
    case EndpointCheck::Result::NoVision: return QStringLiteral("no-vision");
    case EndpointCheck::Result::Quota: return QStringLiteral("quota");
    case EndpointCheck::Result::Failed: return QStringLiteral("failed");
  }
  return {};
}

EndpointCheck::EndpointCheck(const EndpointProfile& profile, QNetworkAccessManager* network, QObject* parent)
    : QObject(parent), mProfile(profile), mNetwork(network) {}

void EndpointCheck::start() {
  const QString invalid = mProfile.validate();
  if (!invalid.isEmpty()) {
    done(Result::Failed, invalid);
    return;
  }
  mHealthClock.start();
  checkHealth();
}

// llama-server answers /health with 503 while it loads its model; other servers have no /health
// (404) or answer 200: both go on.
void EndpointCheck::checkHealth() {
  if (mDone) return;
  QUrl root = mProfile.url(QStringLiteral("health"));
  QString path = root.path();
  if (path.endsWith(QLatin1String("/v1/health"))) root.setPath(path.chopped(10) + QStringLiteral("/health"));
  QNetworkReply* reply = mNetwork->get(jsonRequest(mProfile, root, 10000));
  connect(reply, &QNetworkReply::finished, this, [this, reply] {
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0) {
      done(Result::Unreachable, QStringLiteral("cannot reach %1: %2").arg(mProfile.baseUrl, reply->errorString()));
      return;
    }
    if (status == 503 && mHealthClock.elapsed() < mHealthWaitMs) {
      Q_EMIT progress(QStringLiteral("the server is loading its model; waiting"));
      QTimer::singleShot(std::min(1000, std::max(100, mHealthWaitMs / 20)), this, &EndpointCheck::checkHealth);
      return;
    }
    if (status == 503) {
      done(Result::Failed, QStringLiteral("the server still answers 503 (loading) after %1 s").arg(mHealthWaitMs / 1000));
      return;
    }
    listModels();
  });
}

void EndpointCheck::listModels() {
  Q_EMIT progress(QStringLiteral("listing models"));
  QNetworkReply* reply = mNetwork->get(jsonRequest(mProfile, mProfile.url(QStringLiteral("models")), 30000));
  connect(reply, &QNetworkReply::finished, this, [this, reply] {
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray data = reply->readAll();
    if (status == 0) {
      done(Result::Unreachable, QStringLiteral("cannot reach %1: %2").arg(mProfile.baseUrl, reply->errorString()));
      return;
    }
    if (status == 401 || status == 403) {
      done(Result::Unauthorized, QStringLiteral("the endpoint refused access (HTTP %1: %2); %3")
                                     .arg(status)
                                     .arg(parseServerError(data).message, keyAdvice(mProfile)));
      return;
    }
    if (status == 200) {
      for (const QJsonValue& m : QJsonDocument::fromJson(data).object().value(QLatin1String("data")).toArray())
        mModels << m.toObject().value(QLatin1String("id")).toString();
      if (!mModels.isEmpty() && !mModels.contains(mProfile.model)) {
        QStringList shown = mModels.mid(0, 8);
        done(Result::UnknownModel, QStringLiteral("the endpoint has no model %1; it lists %2%3")
                                       .arg(mProfile.model, shown.join(QStringLiteral(", ")),
                                            mModels.size() > 8 ? QStringLiteral(", …") : QString()));
        return;
      }
    }
    // Servers without /v1/models (or an empty list) go on to the probe, which is what counts.
    probe();
  });
}

void EndpointCheck::probe() {
  Q_EMIT progress(QStringLiteral("sending a probe image"));
  // 64x64: a red square on white.
  QImage image(64, 64, QImage::Format_RGB888);
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.fillRect(16, 16, 32, 32, Qt::red);
  painter.end();
  QByteArray jpeg;
  QBuffer buffer(&jpeg);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "jpeg", 90);
  EndpointProfile probeProfile = mProfile;
  probeProfile.maxTokens = 32;
  auto* call = new CaptionCall(probeProfile, mNetwork, mPolicy, jpeg,
                               QStringLiteral("Name the main shape and its colour in a few words."), this);
  connect(call, &CaptionCall::finished, this, [this, call] {
    call->deleteLater();
    const VisionReply& r = call->reply();
    mLatencyMs = r.latencyMs;
    mProbeAnswer = r.content.simplified();
    switch (r.outcome) {
      case VisionReply::Outcome::Ok:
        done(Result::Ok, QStringLiteral("OK: %1 answered a probe image in %2 ms").arg(mProfile.model).arg(r.latencyMs));
        return;
      case VisionReply::Outcome::Unauthorized: done(Result::Unauthorized, r.error); return;
      case VisionReply::Outcome::NotFound: done(Result::UnknownModel, r.error); return;
      case VisionReply::Outcome::Quota: done(Result::Quota, r.error); return;
      case VisionReply::Outcome::NoVision: done(Result::NoVision, r.error); return;
      case VisionReply::Outcome::Unreachable: done(Result::Unreachable, r.error); return;
      default: done(Result::Failed, r.error); return;
    }
  });
  call->start();
}

void EndpointCheck::done(Result result, const QString& message) {
  if (mDone) return;
  mDone = true;
  mResult = result;
  mMessage = message;
  Q_EMIT finished();
}

}  // namespace kiln::captioning
