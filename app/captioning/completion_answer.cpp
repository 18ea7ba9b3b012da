#include "captioning/completion_answer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <algorithm>
#include <climits>

namespace kiln::captioning {

ServerError parseServerError(const QByteArray& body) {
  ServerError e;
  const QJsonObject root = QJsonDocument::fromJson(body).object();
  const QJsonValue error = root.value(QLatin1String("error"));
  const QJsonObject o = error.isObject() ? error.toObject() : root;
  if (error.isString()) e.message = error.toString();
  if (e.message.isEmpty()) e.message = o.value(QLatin1String("message")).toString();
  e.kind = (o.value(QLatin1String("type")).toVariant().toString() + QLatin1Char(' ') +
            o.value(QLatin1String("code")).toVariant().toString())
               .toLower();
  if (e.message.isEmpty() && !body.isEmpty() && root.isEmpty()) e.message = QString::fromUtf8(body.left(200)).simplified();
  e.message = e.message.simplified();
  if (e.message.size() > 300) e.message = e.message.left(300) + QStringLiteral("…");
  return e;
}

std::optional<CompletionAnswer> parseCompletion(const QByteArray& body, QString* error) {
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
  const QJsonObject choice = doc.object().value(QLatin1String("choices")).toArray().at(0).toObject();
  if (doc.isNull() || choice.isEmpty()) {
    if (error)
      *error = doc.isNull() ? QStringLiteral("the answer is not JSON (%1)").arg(parseError.errorString())
                            : QStringLiteral("the answer has no choices");
    return std::nullopt;
  }
  CompletionAnswer answer;
  const QJsonObject message = choice.value(QLatin1String("message")).toObject();
  const QJsonValue content = message.value(QLatin1String("content"));
  if (content.isArray()) {
    for (const QJsonValue& part : content.toArray()) answer.content += part.toObject().value(QLatin1String("text")).toString();
  } else {
    answer.content = content.toString();
  }
  if (answer.content.isEmpty()) answer.content = message.value(QLatin1String("refusal")).toString();
  answer.finishReason = choice.value(QLatin1String("finish_reason")).toString();
  const QJsonObject usage = doc.object().value(QLatin1String("usage")).toObject();
  answer.promptTokens = usage.value(QLatin1String("prompt_tokens")).toInt(-1);
  answer.completionTokens = usage.value(QLatin1String("completion_tokens")).toInt(-1);
  return answer;
}

int retryAfterMs(const QByteArray& retryAfterMsHeader, const QByteArray& retryAfterHeader, const QDateTime& nowUtc) {
  const QByteArray ms = retryAfterMsHeader.trimmed();
  bool ok = false;
  if (!ms.isEmpty()) {
    const double v = ms.toDouble(&ok);
    if (ok && v >= 0) return int(std::min<double>(v, INT_MAX));
  }
  const QString v = QString::fromLatin1(retryAfterHeader).trimmed();
  if (v.isEmpty()) return -1;
  const double seconds = v.toDouble(&ok);
  if (ok) return seconds < 0 ? -1 : int(std::min<double>(seconds * 1000.0, INT_MAX));
  QDateTime when = QLocale::c().toDateTime(v, QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
  if (!when.isValid()) return -1;
  when.setTimeSpec(Qt::UTC);
  return int(std::clamp<qint64>(nowUtc.msecsTo(when), 0, INT_MAX));
}

bool mentionsNoVision(const QString& text) {
  const QString t = text.toLower();
  return t.contains(QLatin1String("image input is not supported")) || t.contains(QLatin1String("mmproj")) ||
         t.contains(QLatin1String("not a multimodal")) || t.contains(QLatin1String("does not support image")) ||
         t.contains(QLatin1String("doesn't support image")) || t.contains(QLatin1String("image_url is only supported")) ||
         t.contains(QLatin1String("vision is not supported")) || t.contains(QLatin1String("no vision")) ||
         t.contains(QLatin1String("does not support vision")) || t.contains(QLatin1String("multimodal is not supported"));
}

bool looksLikeHtml(const QString& contentType, const QByteArray& body) {
  const QByteArray head = body.left(64).trimmed().toLower();
  return contentType.toLower().startsWith(QLatin1String("text/html")) || head.startsWith("<!doctype html") ||
         head.startsWith("<html");
}

}  // namespace kiln::captioning
