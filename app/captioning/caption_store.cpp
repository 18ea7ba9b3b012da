#include "captioning/caption_store.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace kiln::captioning {

QString CaptionStore::fileFor(const QString& datasetDir) { return QDir(datasetDir).filePath(QStringLiteral(".kiln-captions.json")); }

QString CaptionStore::sha256(const QString& text) {
  return QString::fromLatin1(QCryptographicHash::hash(text.trimmed().toUtf8(), QCryptographicHash::Sha256).toHex());
}

CaptionStore::CaptionStore(QString datasetDir) : mDir(std::move(datasetDir)) {
  QFile file(fileFor(mDir));
  if (!file.open(QIODevice::ReadOnly)) return;
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
  file.close();
  if (doc.isNull() || doc.object().value(QLatin1String("format")).toInt() != 1) {
    QFile::remove(fileFor(mDir) + QStringLiteral(".broken"));
    QFile::rename(fileFor(mDir), fileFor(mDir) + QStringLiteral(".broken"));
    return;
  }
  const QJsonObject images = doc.object().value(QLatin1String("images")).toObject();
  for (auto it = images.begin(); it != images.end(); ++it) {
    const QJsonObject o = it.value().toObject();
    CaptionRecord r;
    r.status = o.value(QLatin1String("status")).toString();
    r.model = o.value(QLatin1String("model")).toString();
    r.endpointHost = o.value(QLatin1String("endpoint")).toString();
    r.prompt = o.value(QLatin1String("prompt")).toString();
    r.finishReason = o.value(QLatin1String("finish_reason")).toString();
    r.promptTokens = o.value(QLatin1String("prompt_tokens")).toInt(-1);
    r.completionTokens = o.value(QLatin1String("completion_tokens")).toInt(-1);
    r.clipTokens = o.value(QLatin1String("clip_tokens")).toInt(-1);
    for (const QJsonValue& f : o.value(QLatin1String("flags")).toArray()) r.flags << f.toString();
    r.captionSha256 = o.value(QLatin1String("caption_sha256")).toString();
    r.error = o.value(QLatin1String("error")).toString();
    r.updated = o.value(QLatin1String("updated")).toString();
    mRecords.insert(it.key(), r);
  }
}

QString CaptionStore::key(const QString& imagePath) const {
  return QDir(mDir).relativeFilePath(QFileInfo(imagePath).isAbsolute() ? imagePath : QDir(mDir).filePath(imagePath));
}

std::optional<CaptionRecord> CaptionStore::record(const QString& imagePath) const {
  const auto it = mRecords.constFind(key(imagePath));
  if (it == mRecords.constEnd()) return std::nullopt;
  return *it;
}

void CaptionStore::set(const QString& imagePath, const CaptionRecord& record) {
  CaptionRecord r = record;
  if (r.updated.isEmpty()) r.updated = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
  mRecords.insert(key(imagePath), r);
}

void CaptionStore::remove(const QString& imagePath) { mRecords.remove(key(imagePath)); }

QString CaptionStore::status(const QString& imagePath, const QString& captionText) const {
  const auto r = record(imagePath);
  if (!r) return {};
  if (r->status == QLatin1String("auto") && !r->captionSha256.isEmpty() && sha256(captionText) != r->captionSha256)
    return QStringLiteral("edited");
  return r->status;
}

void CaptionStore::markReviewed(const QString& imagePath) {
  CaptionRecord r = record(imagePath).value_or(CaptionRecord{});
  r.status = QStringLiteral("reviewed");
  r.updated.clear();
  set(imagePath, r);
}

void CaptionStore::markEdited(const QString& imagePath) {
  CaptionRecord r = record(imagePath).value_or(CaptionRecord{});
  if (r.status == QLatin1String("reviewed")) return;  // reviewed stays reviewed
  r.status = QStringLiteral("edited");
  r.updated.clear();
  set(imagePath, r);
}

bool CaptionStore::save(QString* error) const {
  QJsonObject images;
  for (auto it = mRecords.begin(); it != mRecords.end(); ++it) {
    const CaptionRecord& r = it.value();
    QJsonObject o{{QStringLiteral("status"), r.status}, {QStringLiteral("updated"), r.updated}};
    auto put = [&o](const char* k, const QString& v) {
      if (!v.isEmpty()) o.insert(QLatin1String(k), v);
    };
    put("model", r.model);
    put("endpoint", r.endpointHost);
    put("prompt", r.prompt);
    put("finish_reason", r.finishReason);
    put("caption_sha256", r.captionSha256);
    put("error", r.error);
    if (r.promptTokens >= 0) o.insert(QStringLiteral("prompt_tokens"), r.promptTokens);
    if (r.completionTokens >= 0) o.insert(QStringLiteral("completion_tokens"), r.completionTokens);
    if (r.clipTokens >= 0) o.insert(QStringLiteral("clip_tokens"), r.clipTokens);
    if (!r.flags.isEmpty()) o.insert(QStringLiteral("flags"), QJsonArray::fromStringList(r.flags));
    images.insert(it.key(), o);
  }
  QSaveFile file(fileFor(mDir));
  if (!file.open(QIODevice::WriteOnly)) {
    if (error) *error = QStringLiteral("%1: %2").arg(fileFor(mDir), file.errorString());
    return false;
  }
  file.write(QJsonDocument(QJsonObject{{QStringLiteral("format"), 1}, {QStringLiteral("images"), images}}).toJson());
  if (!file.commit()) {
    if (error) *error = QStringLiteral("%1: %2").arg(fileFor(mDir), file.errorString());
    return false;
  }
  return true;
}

}  // namespace kiln::captioning
