#include "fake_vision_server.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTimer>

namespace kiln::test {

namespace {

QByteArray json(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

QJsonObject errorBody(const QString& message, const QString& type, const QString& code = {}) {
  QJsonObject e{{QStringLiteral("message"), message}, {QStringLiteral("type"), type}};
  if (!code.isEmpty()) e.insert(QStringLiteral("code"), code);
  return QJsonObject{{QStringLiteral("error"), e}};
}

void respondJson(QTcpSocket* s, int status, const QJsonObject& o, QList<QPair<QByteArray, QByteArray>> headers = {}) {
  headers.push_back({"Content-Type", "application/json"});
  FaultServer::respond(s, status, headers, json(o));
}

QJsonObject completion(const QString& content, const QString& finish = QStringLiteral("stop")) {
  const int words = int(content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
  return QJsonObject{
      {QStringLiteral("id"), QStringLiteral("chatcmpl-fake")},
      {QStringLiteral("object"), QStringLiteral("chat.completion")},
      {QStringLiteral("choices"),
       QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                              {QStringLiteral("message"), QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                                                      {QStringLiteral("content"), content}}},
                              {QStringLiteral("finish_reason"), finish}}}},
      {QStringLiteral("usage"), QJsonObject{{QStringLiteral("prompt_tokens"), 120},
                                            {QStringLiteral("completion_tokens"), words},
                                            {QStringLiteral("total_tokens"), 120 + words}}}};
}

}  // namespace

FakeVisionServer::FakeVisionServer() {
  mServer.route("/v1/models", [this](const HttpRequest& r, QTcpSocket* s) {
    QMutexLocker lock(&mMutex);
    if (!mKey.isEmpty() && r.header("Authorization") != "Bearer " + mKey) {
      respondJson(s, 401, errorBody(QStringLiteral("Invalid API key"), QStringLiteral("authentication_error")));
      return;
    }
    respondJson(s, 200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                    {QStringLiteral("data"), QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("vision-model")}},
                                                                        QJsonObject{{QStringLiteral("id"), QStringLiteral("text-only")}}}}});
  });
  mServer.route("/health", [this](const HttpRequest&, QTcpSocket* s) {
    QMutexLocker lock(&mMutex);
    if (mLoading > 0) {
      --mLoading;
      respondJson(s, 503, QJsonObject{{QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), 503},
                                                                             {QStringLiteral("message"), QStringLiteral("Loading model")}}}});
      return;
    }
    respondJson(s, 200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}});
  });
  mServer.route("/v1/chat/completions", [this](const HttpRequest& r, QTcpSocket* s) { handleChat(r, s); });
}

QString FakeVisionServer::baseUrl() const { return mServer.base() + QStringLiteral("/v1"); }

void FakeVisionServer::script(const QList<Fault>& faults) {
  QMutexLocker lock(&mMutex);
  mScript = faults;
}
void FakeVisionServer::setRequiredKey(const QByteArray& key) {
  QMutexLocker lock(&mMutex);
  mKey = key;
}
void FakeVisionServer::setLoadingHealthChecks(int n) {
  QMutexLocker lock(&mMutex);
  mLoading = n;
}
void FakeVisionServer::setAnswerDelayMs(int ms) {
  QMutexLocker lock(&mMutex);
  mDelayMs = ms;
}
void FakeVisionServer::setAnswerPrefix(const QString& prefix) {
  QMutexLocker lock(&mMutex);
  mPrefix = prefix;
}
void FakeVisionServer::setWantsCompletionTokens(bool on) {
  QMutexLocker lock(&mMutex);
  mWantsCompletionTokens = on;
}
QList<QJsonObject> FakeVisionServer::chatRequests() const {
  QMutexLocker lock(&mMutex);
  return mChats;
}
int FakeVisionServer::chatCount() const {
  QMutexLocker lock(&mMutex);
  return int(mChats.size());
}

QString FakeVisionServer::captionFor(const QImage& image, const QString& subject) {
  qint64 r = 0, g = 0, b = 0;
  const QImage small = image.scaled(16, 16, Qt::IgnoreAspectRatio, Qt::FastTransformation).convertToFormat(QImage::Format_RGB888);
  for (int y = 0; y < small.height(); ++y)
    for (int x = 0; x < small.width(); ++x) {
      const QRgb p = small.pixel(x, y);
      r += qRed(p);
      g += qGreen(p);
      b += qBlue(p);
    }
  const int n = small.width() * small.height();
  // JPEG moves colours a little: coarse buckets keep the text stable.
  auto bucket = [n](qint64 v) { return int((v / n) / 64); };
  const QString what = image.width() > image.height() ? QStringLiteral("landscape") : image.width() < image.height() ? QStringLiteral("portrait") : QStringLiteral("square");
  return QStringLiteral("%1 in a %2 picture, colour level %3-%4-%5")
      .arg(subject.isEmpty() ? QStringLiteral("a scene") : subject, what)
      .arg(bucket(r))
      .arg(bucket(g))
      .arg(bucket(b));
}

void FakeVisionServer::handleChat(const HttpRequest& request, QTcpSocket* socket) {
  QMutexLocker lock(&mMutex);
  const QJsonObject body = QJsonDocument::fromJson(request.body).object();
  mChats.push_back(body);
  if (!mKey.isEmpty() && request.header("Authorization") != "Bearer " + mKey) {
    respondJson(socket, 401, errorBody(QStringLiteral("Invalid API key provided"), QStringLiteral("authentication_error")));
    return;
  }
  if (!mScript.isEmpty()) {
    const Fault fault = mScript.takeFirst();
    switch (fault) {
      case Fault::RateLimitSeconds:
        respondJson(socket, 429, errorBody(QStringLiteral("Rate limit reached"), QStringLiteral("rate_limit_error")),
                    {{"Retry-After", "1"}});
        return;
      case Fault::RateLimitMs:
        respondJson(socket, 429, errorBody(QStringLiteral("Rate limit reached"), QStringLiteral("rate_limit_error")),
                    {{"retry-after-ms", "300"}});
        return;
      case Fault::RateLimitDate: {
        const QByteArray date = QLocale::c()
                                    .toString(QDateTime::currentDateTimeUtc().addSecs(1), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
                                    .toLatin1();
        respondJson(socket, 429, errorBody(QStringLiteral("Rate limit reached"), QStringLiteral("rate_limit_error")),
                    {{"Retry-After", date}});
        return;
      }
      case Fault::Quota:
        respondJson(socket, 429,
                    errorBody(QStringLiteral("You exceeded your current quota, please check your plan and billing details."),
                              QStringLiteral("insufficient_quota"), QStringLiteral("insufficient_quota")));
        return;
      case Fault::Unauthorized:
        respondJson(socket, 401, errorBody(QStringLiteral("Invalid API key provided"), QStringLiteral("authentication_error")));
        return;
      case Fault::ServerError:
        respondJson(socket, 500, errorBody(QStringLiteral("upstream failure"), QStringLiteral("server_error")));
        return;
      case Fault::HtmlError:
        FaultServer::respond(socket, 502, {{"Content-Type", "text/html"}},
                             "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>");
        return;
      case Fault::BrokenJson:
        FaultServer::respond(socket, 200, {{"Content-Type", "application/json"}}, R"({"choices":[{"message":{"content":"a ph)");
        return;
      case Fault::Stall:
        return;  // nothing, ever
      case Fault::CutOff: {
        const QByteArray full = json(completion(QStringLiteral("never seen")));
        socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(full.size()) +
                      "\r\nConnection: close\r\n\r\n" + full.left(full.size() / 2));
        socket->flush();
        socket->abort();
        return;
      }
      case Fault::Refusal:
        respondJson(socket, 200, completion(QStringLiteral("I'm sorry, but I can't help with describing this image.")));
        return;
      case Fault::Empty:
        respondJson(socket, 200, completion(QString()));
        return;
      case Fault::Truncated:
        respondJson(socket, 200, completion(QStringLiteral("ohwx man standing in a garden with a very long"), QStringLiteral("length")));
        return;
      case Fault::BadRequest:
        respondJson(socket, 400, errorBody(QStringLiteral("temperature must be at most 2"), QStringLiteral("invalid_request_error")));
        return;
    }
  }
  // Validation as real servers do it.
  const QString model = body.value(QLatin1String("model")).toString();
  if (model != QLatin1String("vision-model") && model != QLatin1String("text-only")) {
    respondJson(socket, 404, errorBody(QStringLiteral("The model `%1` does not exist").arg(model), QStringLiteral("invalid_request_error"),
                                       QStringLiteral("model_not_found")));
    return;
  }
  if (mWantsCompletionTokens && body.contains(QLatin1String("max_tokens"))) {
    respondJson(socket, 400, errorBody(QStringLiteral("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                                                      "'max_completion_tokens' instead."),
                                       QStringLiteral("invalid_request_error"), QStringLiteral("unsupported_parameter")));
    return;
  }
  const QJsonArray content = body.value(QLatin1String("messages")).toArray().at(0).toObject().value(QLatin1String("content")).toArray();
  QString text;
  QByteArray url;
  for (const QJsonValue& part : content) {
    const QJsonObject p = part.toObject();
    if (p.value(QLatin1String("type")).toString() == QLatin1String("text")) text = p.value(QLatin1String("text")).toString();
    if (p.value(QLatin1String("type")).toString() == QLatin1String("image_url"))
      url = p.value(QLatin1String("image_url")).toObject().value(QLatin1String("url")).toString().toLatin1();
  }
  if (url.isEmpty() || text.isEmpty()) {
    respondJson(socket, 400, errorBody(QStringLiteral("messages[0].content must have a text part and an image_url part"),
                                       QStringLiteral("invalid_request_error")));
    return;
  }
  if (model == QLatin1String("text-only")) {
    respondJson(socket, 500, errorBody(QStringLiteral("image input is not supported - hint: if this is unexpected, you may need to "
                                                      "provide the mmproj"),
                                       QStringLiteral("server_error")));
    return;
  }
  static const QByteArray prefix = "data:image/jpeg;base64,";
  QImage image;
  if (!url.startsWith(prefix) || !image.loadFromData(QByteArray::fromBase64(url.mid(prefix.size()), QByteArray::AbortOnBase64DecodingErrors), "JPEG")) {
    respondJson(socket, 400, errorBody(QStringLiteral("Invalid image_url: expected a base64 data URL of an image"),
                                       QStringLiteral("invalid_request_error")));
    return;
  }
  static const QRegularExpression subjectRe(QStringLiteral("called \"([^\"]+)\""));
  const QString subject = subjectRe.match(text).captured(1);
  const QString answer = mPrefix + captionFor(image, subject);
  const int delay = mDelayMs;
  if (delay > 0) {
    QTimer::singleShot(delay, socket, [socket, answer] { respondJson(socket, 200, completion(answer)); });
    return;
  }
  respondJson(socket, 200, completion(answer));
}

}  // namespace kiln::test
