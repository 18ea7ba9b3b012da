#include "downloads/file_download.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStorageInfo>

#include <algorithm>
#include <cmath>

#include "downloads/catalog.h"

namespace kiln::downloads {

namespace {

constexpr qint64 kHashSlice = 8 * 1024 * 1024;

QString metaPathOf(const QString& part) { return part + QStringLiteral(".json"); }

// "\"abc\"", "W/\"abc\"" -> abc (weak ones are not usable for If-Range: empty).
QString strongEtag(const QByteArray& header) {
  QString v = QString::fromLatin1(header).trimmed();
  if (v.startsWith(QLatin1String("W/"))) return {};
  return v;
}

QString unquoted(const QByteArray& header) {
  QString v = QString::fromLatin1(header).trimmed();
  if (v.startsWith(QLatin1String("W/"))) v = v.mid(2);
  if (v.size() >= 2 && v.startsWith(QLatin1Char('"')) && v.endsWith(QLatin1Char('"'))) v = v.mid(1, v.size() - 2);
  return v;
}

bool isSha256(const QString& s) {
  static const QRegularExpression re(QStringLiteral("^[0-9a-f]{64}$"));
  return re.match(s).hasMatch();
}

// Retry-After: delta-seconds or an HTTP date; -1 when absent or unreadable.
int retryAfterMs(const QByteArray& header) {
  const QString v = QString::fromLatin1(header).trimmed();
  if (v.isEmpty()) return -1;
  bool ok = false;
  const qint64 seconds = v.toLongLong(&ok);
  if (ok) return seconds < 0 ? -1 : int(std::min<qint64>(seconds * 1000, INT_MAX));
  QDateTime utc = QLocale::c().toDateTime(v, QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
  if (!utc.isValid()) return -1;
  utc.setTimeSpec(Qt::UTC);
  return int(std::clamp<qint64>(QDateTime::currentDateTimeUtc().msecsTo(utc), 0, INT_MAX));
}

// "bytes 100-199/1000" -> {100, 199, 1000}; total -1 for "*".
struct ContentRange {
  qint64 first = -1, last = -1, total = -1;
};
std::optional<ContentRange> parseContentRange(const QByteArray& header) {
  static const QRegularExpression re(QStringLiteral("^bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)$"));
  static const QRegularExpression unsatisfied(QStringLiteral("^bytes\\s+\\*/(\\d+)$"));  // a 416's
  const QString text = QString::fromLatin1(header).trimmed();
  if (const auto u = unsatisfied.match(text); u.hasMatch()) {
    ContentRange r;
    r.total = u.captured(1).toLongLong();
    return r;
  }
  const auto m = re.match(text);
  if (!m.hasMatch()) return std::nullopt;
  ContentRange r;
  r.first = m.captured(1).toLongLong();
  r.last = m.captured(2).toLongLong();
  r.total = m.captured(3) == QLatin1String("*") ? -1 : m.captured(3).toLongLong();
  if (r.last < r.first) return std::nullopt;
  return r;
}

bool looksLikeWebPage(const QByteArray& head) {
  const QByteArray start = head.left(512).trimmed().toLower();
  return start.startsWith("<!doctype html") || start.startsWith("<html") || start.startsWith("<head") ||
         start.startsWith("<?xml");
}

}  // namespace

QString stateName(FileDownload::State state) {
  switch (state) {
    case FileDownload::State::Idle: return QStringLiteral("idle");
    case FileDownload::State::Checking: return QStringLiteral("checking");
    case FileDownload::State::Connecting: return QStringLiteral("connecting");
    case FileDownload::State::Downloading: return QStringLiteral("downloading");
    case FileDownload::State::Waiting: return QStringLiteral("waiting");
    case FileDownload::State::Paused: return QStringLiteral("paused");
    case FileDownload::State::Finished: return QStringLiteral("finished");
    case FileDownload::State::Failed: return QStringLiteral("failed");
    case FileDownload::State::Cancelled: return QStringLiteral("cancelled");
  }
  return {};
}

FileDownload::FileDownload(DownloadRequest request, QNetworkAccessManager* network, DownloadOptions options,
                           QObject* parent)
    : QObject(parent), mRequest(std::move(request)), mNetwork(network), mOptions(options) {
  mFileName = mRequest.fileName.isEmpty() ? mRequest.source.defaultFileName() : mRequest.fileName;
  mStallTimer.setSingleShot(true);
  mRetryTimer.setSingleShot(true);
  connect(&mStallTimer, &QTimer::timeout, this, &FileDownload::onStall);
  connect(&mRetryTimer, &QTimer::timeout, this, [this] {
    mRedirects = 0;
    mVisited.clear();
    sendRequest(mStartUrl);
  });
}

FileDownload::~FileDownload() {
  dropReply();
  closePart();
}

bool FileDownload::isActive() const {
  return mState == State::Checking || mState == State::Connecting || mState == State::Downloading ||
         mState == State::Waiting;
}

QString FileDownload::label() const { return mRequest.label.isEmpty() ? mFileName : mRequest.label; }

QString FileDownload::targetPath() const {
  return mFileName.isEmpty() ? QString() : QDir(mRequest.directory).filePath(mFileName);
}

QString FileDownload::partPath() const { return mFileName.isEmpty() ? QString() : targetPath() + QStringLiteral(".part"); }

qint64 FileDownload::secondsLeft() const {
  if (mTotal <= 0 || mRate <= 1.0) return -1;
  return qint64(std::ceil(double(mTotal - mHave) / mRate));
}

void FileDownload::setState(State state) {
  if (state == mState) return;
  mState = state;
  Q_EMIT stateChanged(state);
  if (state == State::Finished || state == State::Failed || state == State::Cancelled) Q_EMIT finished();
}

void FileDownload::fail(const QString& message, bool removePart) {
  dropReply();
  closePart();
  mStallTimer.stop();
  mRetryTimer.stop();
  if (removePart) {
    removePartFiles();
    mHave = 0;
    mHashValid = false;
  }
  mError = message;
  setState(State::Failed);
}

void FileDownload::start() {
  if (isActive() || mState == State::Finished) return;
  mError.clear();
  mAttempts = 0;
  mVerified = false;
  if (mExpectedSha.isEmpty() && !mRequest.expectedSha256.isEmpty()) {
    mExpectedSha = mRequest.expectedSha256.toLower();
    mShaOrigin = mRequest.shaOrigin.isEmpty() ? QStringLiteral("catalog") : mRequest.shaOrigin;
  }
  if (mExpectedSize < 0) mExpectedSize = mRequest.expectedSize;
  const SourceSpec& s = mRequest.source;
  switch (s.type) {
    case SourceSpec::Type::HuggingFace: {
      mStartUrl = huggingFaceResolveUrl(s);
      mAuthHost = mStartUrl.host();
      QByteArray token = qgetenv("HF_TOKEN");
      if (token.isEmpty()) token = qgetenv("HUGGING_FACE_HUB_TOKEN");
      mToken = token.trimmed();
      break;
    }
    case SourceSpec::Type::Civitai:
      mAuthHost = QUrl(civitaiEndpoint()).host();
      mToken = qgetenv("CIVITAI_TOKEN").trimmed();
      if (mStartUrl.isEmpty()) {
        resolveCivitai();
        return;
      }
      break;
    case SourceSpec::Type::Url:
      mStartUrl = s.url;
      mAuthHost.clear();
      mToken.clear();
      break;
  }
  beginFile();
}

// --- Civitai: the version's file list names the file, its URL and its SHA256 -----------------------

void FileDownload::resolveCivitai() {
  setState(State::Checking);
  const QUrl api(civitaiEndpoint() + QStringLiteral("/api/v1/model-versions/%1").arg(mRequest.source.civitaiVersion));
  QNetworkRequest request(api);
  request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
  request.setTransferTimeout(mOptions.stallTimeoutMs);
  if (!mToken.isEmpty()) request.setRawHeader("Authorization", "Bearer " + mToken);
  mReply = mNetwork->get(request);
  connect(mReply, &QNetworkReply::finished, this, &FileDownload::onCivitaiAnswer);
}

void FileDownload::onCivitaiAnswer() {
  QNetworkReply* reply = mReply;
  mReply = nullptr;
  if (!reply) return;
  reply->deleteLater();
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  const QString version = QString::number(mRequest.source.civitaiVersion);
  if (status == 401 || status == 403) {
    fail(tr("Civitai refused the model version %1 (HTTP %2): this model needs you signed in; set CIVITAI_TOKEN to "
            "an API key from your Civitai account settings")
             .arg(version)
             .arg(status),
         false);
    return;
  }
  if (status == 404) {
    fail(tr("Civitai has no model version %1 (HTTP 404)").arg(version), false);
    return;
  }
  if (status == 429 || status >= 500 || (status == 0 && reply->error() != QNetworkReply::NoError)) {
    ++mAttempts;
    if (mAttempts >= mOptions.maxAttempts) {
      fail(tr("Civitai did not answer for model version %1: %2").arg(version, reply->errorString()), false);
      return;
    }
    const int after = retryAfterMs(reply->rawHeader("Retry-After"));
    const int delay = after >= 0 ? after : std::min(mOptions.maxBackoffMs, mOptions.firstBackoffMs << (mAttempts - 1));
    Q_EMIT note(tr("Civitai: %1; trying again in %2 s").arg(reply->errorString()).arg(delay / 1000.0, 0, 'f', 1));
    setState(State::Waiting);
    QTimer::singleShot(delay, this, [this] {
      if (mState == State::Waiting) resolveCivitai();
    });
    return;
  }
  if (status != 200) {
    fail(tr("Civitai answered HTTP %1 for model version %2").arg(status).arg(version), false);
    return;
  }
  const QJsonObject root = QJsonDocument::fromJson(reply->readAll()).object();
  const QJsonArray files = root.value(QLatin1String("files")).toArray();
  QJsonObject chosen;
  for (const QJsonValue& v : files)
    if (v.toObject().value(QLatin1String("primary")).toBool()) chosen = v.toObject();
  if (chosen.isEmpty())
    for (const QJsonValue& v : files)
      if (v.toObject().value(QLatin1String("type")).toString() == QLatin1String("Model")) {
        chosen = v.toObject();
        break;
      }
  const QUrl url(chosen.value(QLatin1String("downloadUrl")).toString());
  QString name = chosen.value(QLatin1String("name")).toString();
  if (chosen.isEmpty() || !url.isValid() || url.scheme().isEmpty() || name.isEmpty()) {
    fail(tr("Civitai's answer for model version %1 lists no model file").arg(version), false);
    return;
  }
  name = QFileInfo(name).fileName();  // never a path from the server
  if (name.isEmpty() || name.startsWith(QLatin1Char('.'))) {
    fail(tr("Civitai's file name for model version %1 is not usable").arg(version), false);
    return;
  }
  if (mRequest.fileName.isEmpty()) mFileName = name;
  const QString sha = chosen.value(QLatin1String("hashes")).toObject().value(QLatin1String("SHA256")).toString().toLower();
  if (isSha256(sha) && !adoptExpectedSha(sha, QStringLiteral("Civitai"))) return;
  mStartUrl = url;
  mAttempts = 0;
  beginFile();
}

// --- the part on disk -----------------------------------------------------------------------------

void FileDownload::beginFile() {
  if (mFileName.isEmpty() || mFileName.contains(QLatin1Char('/')) || mFileName.startsWith(QLatin1Char('.'))) {
    fail(tr("no usable file name for %1; give one").arg(mRequest.source.toString()), false);
    return;
  }
  if (!QDir().mkpath(mRequest.directory)) {
    fail(tr("cannot create the folder %1").arg(QDir::toNativeSeparators(mRequest.directory)), false);
    return;
  }
  if (QFileInfo::exists(targetPath())) {
    // Already downloaded (a script run twice): fine when it is the expected file.
    if (mExpectedSha.isEmpty() || !QFileInfo(targetPath()).isFile()) {
      fail(tr("%1 is already there; remove or rename it first").arg(QDir::toNativeSeparators(targetPath())), false);
      return;
    }
    mCheckingTarget = true;
    mHash = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);
    mHave = 0;
    hashFile(targetPath());
    return;
  }
  // What the part on disk is; a part of something else starts over.
  QFile meta(metaPathOf(partPath()));
  if (meta.open(QIODevice::ReadOnly)) {
    const QJsonObject o = QJsonDocument::fromJson(meta.readAll()).object();
    const QString sha = o.value(QLatin1String("sha256")).toString();
    const bool sameSource = o.value(QLatin1String("source")).toString() == mRequest.source.toString();
    const bool sameSha = sha.isEmpty() || mExpectedSha.isEmpty() || sha == mExpectedSha;
    if (!sameSource || !sameSha) {
      Q_EMIT note(tr("%1 holds part of another file: starting over").arg(QFileInfo(partPath()).fileName()));
      removePartFiles();
      mHashValid = false;
    } else {
      mEtag = o.value(QLatin1String("etag")).toString();
      if (mExpectedSha.isEmpty() && isSha256(sha)) {
        mExpectedSha = sha;
        mShaOrigin = o.value(QLatin1String("sha256_origin")).toString();
      }
      if (mExpectedSize < 0) mExpectedSize = qint64(o.value(QLatin1String("size")).toDouble(-1));
    }
  }
  const qint64 onDisk = QFileInfo(partPath()).exists() ? QFileInfo(partPath()).size() : 0;
  if (mExpectedSize > 0 && onDisk > mExpectedSize) {
    Q_EMIT note(tr("the part is larger than the file: starting over"));
    removePartFiles();
    mHashValid = false;
  }
  if (mHashValid && onDisk == mHave) {
    sendRequest(mStartUrl);
    return;
  }
  mHash = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);
  mHave = 0;
  mHashValid = true;
  if (onDisk > 0) {
    hashFile(partPath());
    return;
  }
  sendRequest(mStartUrl);
}

// The part's bytes are hashed again (in slices, between events) before the rest is asked for.
void FileDownload::hashFile(const QString& path) {
  setState(State::Checking);
  mHashSource.setFileName(path);
  if (!mHashSource.open(QIODevice::ReadOnly)) {
    fail(tr("cannot read %1: %2").arg(QDir::toNativeSeparators(path), mHashSource.errorString()), false);
    return;
  }
  mTotal = mCheckingTarget ? mHashSource.size() : mExpectedSize;
  if (mCheckingTarget)
    Q_EMIT note(tr("%1 is already there: checking it").arg(mFileName));
  else
    Q_EMIT note(tr("checking the %1 already downloaded").arg(formatBytes(mHashSource.size())));
  QTimer::singleShot(0, this, &FileDownload::hashSlice);
}

void FileDownload::hashSlice() {
  if (mState != State::Checking || !mHashSource.isOpen()) return;
  const QByteArray slice = mHashSource.read(kHashSlice);
  if (!slice.isEmpty()) {
    mHash->addData(slice);
    mHave += slice.size();
    Q_EMIT progress(mHave, mTotal);
    QTimer::singleShot(0, this, &FileDownload::hashSlice);
    return;
  }
  const bool ok = mHashSource.error() == QFile::NoError;
  const QString why = mHashSource.errorString();
  mHashSource.close();
  if (!ok) {
    fail(tr("cannot read %1: %2").arg(QDir::toNativeSeparators(mHashSource.fileName()), why), false);
    return;
  }
  if (mCheckingTarget) {
    mCheckingTarget = false;
    const QString actual = QString::fromLatin1(mHash->result().toHex());
    mHashValid = false;
    if (actual != mExpectedSha) {
      fail(tr("a different %1 is already there (sha256 %2, expected %3); remove or rename it first")
               .arg(QDir::toNativeSeparators(targetPath()), actual, mExpectedSha),
           false);
      return;
    }
    mVerified = true;
    mAlreadyThere = true;
    Q_EMIT progress(mHave, mTotal);
    setState(State::Finished);
    return;
  }
  sendRequest(mStartUrl);
}

bool FileDownload::openPart() {
  if (mPart.isOpen()) return true;
  mPart.setFileName(partPath());
  if (!mPart.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
    fail(tr("cannot write %1: %2").arg(QDir::toNativeSeparators(partPath()), mPart.errorString()), false);
    return false;
  }
  return true;
}

void FileDownload::closePart() {
  if (mPart.isOpen()) mPart.close();
  if (mHashSource.isOpen()) mHashSource.close();
}

void FileDownload::writeMeta() {
  QJsonObject o;
  o.insert(QStringLiteral("format"), 1);
  o.insert(QStringLiteral("source"), mRequest.source.toString());
  o.insert(QStringLiteral("sha256"), mExpectedSha);
  o.insert(QStringLiteral("sha256_origin"), mShaOrigin);
  o.insert(QStringLiteral("size"), double(mExpectedSize > 0 ? mExpectedSize : mTotal));
  o.insert(QStringLiteral("etag"), mEtag);
  QSaveFile file(metaPathOf(partPath()));
  if (file.open(QIODevice::WriteOnly)) {
    file.write(QJsonDocument(o).toJson());
    file.commit();
  }
}

void FileDownload::removePartFiles() {
  closePart();
  if (partPath().isEmpty()) return;
  QFile::remove(partPath());
  QFile::remove(metaPathOf(partPath()));
}

bool FileDownload::adoptExpectedSha(const QString& sha, const QString& origin) {
  if (mExpectedSha.isEmpty()) {
    mExpectedSha = sha;
    mShaOrigin = origin;
    return true;
  }
  if (mExpectedSha == sha) return true;
  fail(tr("%1 publishes sha256 %2 for %3, but %4 expects %5: the file changed upstream; not downloaded")
           .arg(origin, sha, mFileName, mShaOrigin, mExpectedSha),
       false);
  return false;
}

bool FileDownload::adoptExpectedSize(qint64 size, const QString& origin) {
  if (size <= 0) return true;
  if (mExpectedSize <= 0) {
    mExpectedSize = size;
    return true;
  }
  if (mExpectedSize == size) return true;
  fail(tr("%1 announces %2 bytes for %3, expected %4: not downloaded").arg(origin).arg(size).arg(mFileName).arg(mExpectedSize),
       false);
  return false;
}

bool FileDownload::checkFreeSpace(qint64 needed) {
  if (needed <= 0) return true;
  QStorageInfo storage(mRequest.directory);
  storage.refresh();
  if (!storage.isValid()) return true;
  const qint64 free = storage.bytesAvailable();
  if (free >= needed + mOptions.freeSpaceMargin) return true;
  fail(tr("not enough free space in %1: %2 still to download, %3 free").arg(QDir::toNativeSeparators(mRequest.directory),
                                                                        formatBytes(needed), formatBytes(free)),
       false);
  return false;
}

// --- HTTP ---------------------------------------------------------------------------------------------

QByteArray FileDownload::authorizationFor(const QUrl& url) const {
  if (mToken.isEmpty() || mAuthHost.isEmpty() || url.host() != mAuthHost) return {};
  return "Bearer " + mToken;
}

void FileDownload::sendRequest(const QUrl& url) {
  dropReply();
  if (mExpectedSize > 0 && !checkFreeSpace(mExpectedSize - mHave)) return;
  if (mRedirects == 0) mVisited.clear();
  mVisited.insert(url.toString());
  mHeadersDone = false;
  mBodyStarted = false;
  mProgressThisTry = false;
  QNetworkRequest request(url);
  request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
  request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
  request.setRawHeader("User-Agent", "Kiln/" KILN_DOWNLOADS_VERSION);
  request.setRawHeader("Accept-Encoding", "identity");
  if (mHave > 0) {
    request.setRawHeader("Range", "bytes=" + QByteArray::number(mHave) + "-");
    if (!mEtag.isEmpty()) request.setRawHeader("If-Range", mEtag.toLatin1());
  }
  const QByteArray auth = authorizationFor(url);
  if (!auth.isEmpty()) request.setRawHeader("Authorization", auth);
  setState(State::Connecting);
  mReply = mNetwork->get(request);
  connect(mReply, &QNetworkReply::metaDataChanged, this, &FileDownload::onHeaders);
  connect(mReply, &QNetworkReply::readyRead, this, &FileDownload::onData);
  connect(mReply, &QNetworkReply::finished, this, &FileDownload::onReplyFinished);
  mStallTimer.start(mOptions.stallTimeoutMs);
}

void FileDownload::dropReply() {
  if (!mReply) return;
  QNetworkReply* reply = mReply;
  mReply = nullptr;
  reply->disconnect(this);
  // An HTTP error answer already carries its error inside Qt: aborting it as well warns. Its body
  // is small; let it end by itself.
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (!reply->isFinished() && status < 400) reply->abort();
  if (reply->isFinished())
    reply->deleteLater();
  else
    connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
}

void FileDownload::onHeaders() {
  if (!mReply || mHeadersDone) return;
  const int status = mReply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (status == 0) return;  // not yet
  mHeadersDone = true;
  mStallTimer.start(mOptions.stallTimeoutMs);
  const QUrl url = mReply->url();

  // Hugging Face's resolve answer names the LFS object: its sha256 and size.
  const QByteArray linkedEtag = mReply->rawHeader("X-Linked-Etag");
  if (!linkedEtag.isEmpty()) {
    const QString sha = unquoted(linkedEtag).toLower();
    if (isSha256(sha) && !adoptExpectedSha(sha, QStringLiteral("Hugging Face"))) return;
  }
  const QByteArray linkedSize = mReply->rawHeader("X-Linked-Size");
  if (!linkedSize.isEmpty() && !adoptExpectedSize(linkedSize.toLongLong(), QStringLiteral("Hugging Face"))) return;

  if (status >= 300 && status < 400 && status != 304) {
    const QByteArray location = mReply->rawHeader("Location");
    const QUrl next = url.resolved(QUrl::fromEncoded(location));
    dropReply();
    if (location.isEmpty() || !next.isValid()) {
      fail(tr("%1 redirects nowhere (HTTP %2 without a Location)").arg(redactedUrl(url)).arg(status), false);
      return;
    }
    if (next.scheme() != QLatin1String("https") && next.scheme() != QLatin1String("http")) {
      fail(tr("%1 redirects to an unsupported address").arg(redactedUrl(url)), false);
      return;
    }
    if (mVisited.contains(next.toString())) {
      fail(tr("%1 redirects in a loop").arg(redactedUrl(mStartUrl)), false);
      return;
    }
    if (++mRedirects > mOptions.maxRedirects) {
      fail(tr("%1: more than %2 redirects").arg(redactedUrl(mStartUrl)).arg(mOptions.maxRedirects), false);
      return;
    }
    sendRequest(next);
    return;
  }
  mRedirects = 0;

  const SourceSpec& s = mRequest.source;
  if (status == 401 || status == 403) {
    QString why;
    if (s.type == SourceSpec::Type::HuggingFace)
      why = mToken.isEmpty() ? tr("%1 is gated: accept its licence on %2 while signed in, then set HF_TOKEN to an "
                                  "access token of that account")
                                   .arg(s.repo, s.pageUrl())
                             : tr("%1 is gated and your HF_TOKEN is not accepted for it: accept the licence on %2 with "
                                  "the same account, or make a new token")
                                   .arg(s.repo, s.pageUrl());
    else if (s.type == SourceSpec::Type::Civitai)
      why = tr("Civitai needs you signed in for this file: set CIVITAI_TOKEN to an API key from your account settings");
    else
      why = tr("the server refused access");
    fail(tr("HTTP %1: %2").arg(status).arg(why), false);
    return;
  }
  if (status == 404 || status == 410) {
    const QString what = s.type == SourceSpec::Type::HuggingFace
                             ? tr("%1 has no file %2 at revision %3").arg(s.repo, s.file, s.revision)
                             : tr("nothing at %1").arg(redactedUrl(url));
    fail(tr("HTTP %1: %2").arg(status).arg(what), false);
    return;
  }
  if (status == 416) {
    // Nothing after the part: it is complete (verify it) or longer than the file (start over).
    const auto range = parseContentRange(mReply->rawHeader("Content-Range"));
    const qint64 size = range && range->total >= 0 ? range->total : mExpectedSize;
    dropReply();
    if (size > 0 && size == mHave) {
      mTotal = size;
      complete();
    } else {
      restartFromZero(tr("the server cannot continue the part (HTTP 416)"));
    }
    return;
  }
  if (status == 408 || status == 429 || status >= 500) {
    const int after = retryAfterMs(mReply->rawHeader("Retry-After"));
    const QString reason = tr("HTTP %1 %2").arg(status).arg(
        QString::fromLatin1(mReply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray()));
    dropReply();
    retry(reason, after);
    return;
  }
  if (status != 200 && status != 206) {
    fail(tr("HTTP %1 from %2").arg(status).arg(redactedUrl(url)), false);
    return;
  }

  const QString type = mReply->header(QNetworkRequest::ContentTypeHeader).toString().toLower();
  if (type.startsWith(QLatin1String("text/html"))) {
    fail(tr("%1 sent a web page instead of the file (often a sign-in, licence or error page): open %2 in a browser")
             .arg(url.host(), s.pageUrl()),
         false);
    return;
  }
  const qint64 length = mReply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
  const bool hasLength = mReply->hasRawHeader("Content-Length");
  if (status == 200) {
    if (mHave > 0) {
      Q_EMIT note(tr("the server sent the whole file instead of the rest: starting over"));
      closePart();
      QFile::resize(partPath(), 0);
      mHash = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);
      mHave = 0;
      mHashValid = true;
    }
    mTotal = hasLength ? length : -1;
  } else {  // 206
    const auto range = parseContentRange(mReply->rawHeader("Content-Range"));
    if (!range || range->first != mHave || (hasLength && length != range->last - range->first + 1)) {
      const QString got = QString::fromLatin1(mReply->rawHeader("Content-Range"));
      dropReply();
      restartFromZero(tr("the server sent bytes '%1' instead of the rest from byte %2").arg(got).arg(mHave));
      return;
    }
    mTotal = range->total >= 0 ? range->total : -1;
  }
  if (mTotal > 0 && !adoptExpectedSize(mTotal, redactedUrl(url))) return;
  if (mTotal < 0 && mExpectedSize > 0) mTotal = mExpectedSize;
  if (mTotal > 0 && !checkFreeSpace(mTotal - mHave)) return;
  const QString etag = strongEtag(mReply->rawHeader("ETag"));
  if (!etag.isEmpty()) mEtag = etag;
  if (!openPart()) return;
  writeMeta();
  setState(State::Downloading);
  mRateClock.start();
  mRateBytes = 0;
}

void FileDownload::onData() {
  if (!mReply) return;
  if (!mHeadersDone) onHeaders();
  if (!mReply || mState != State::Downloading) return;
  const QByteArray data = mReply->readAll();
  if (data.isEmpty()) return;
  mStallTimer.start(mOptions.stallTimeoutMs);
  if (!mBodyStarted) {
    mBodyStarted = true;
    if (mHave == 0 && looksLikeWebPage(data)) {
      fail(tr("%1 sent a web page instead of the file (often a sign-in, licence or error page): open %2 in a browser")
               .arg(mReply->url().host(), mRequest.source.pageUrl()),
           true);
      return;
    }
  }
  const qint64 limit = mTotal > 0 ? mTotal : mExpectedSize;
  if (limit > 0 && mHave + data.size() > limit) {
    fail(tr("the server sent more than the %1 bytes announced for %2; the download was removed").arg(limit).arg(mFileName),
         true);
    return;
  }
  const qint64 written = mPart.write(data);
  if (written != data.size()) {
    const QString why = mPart.errorString();
    mPart.close();
    if (QFileInfo(partPath()).isFile()) QFile::resize(partPath(), mHave);  // keep only what was hashed
    fail(tr("cannot write %1: %2 (is the disk full?); what was downloaded is kept for a resume")
             .arg(QDir::toNativeSeparators(partPath()), why),
         false);
    return;
  }
  mHash->addData(data);
  mHave += data.size();
  mProgressThisTry = true;
  mRateBytes += data.size();
  updateRate();
  Q_EMIT progress(mHave, mTotal);
}

void FileDownload::updateRate() {
  const qint64 ms = mRateClock.elapsed();
  if (ms < 500) return;
  const double instant = double(mRateBytes) * 1000.0 / double(ms);
  mRate = mRate <= 0 ? instant : 0.7 * mRate + 0.3 * instant;
  mRateClock.restart();
  mRateBytes = 0;
}

void FileDownload::onReplyFinished() {
  if (!mReply) return;
  if (!mHeadersDone) onHeaders();
  if (!mReply) return;  // handled by the headers (redirect, error, retry)
  onData();
  if (!mReply) return;
  const QNetworkReply::NetworkError error = mReply->error();
  const QString why = mReply->errorString();
  dropReply();
  mStallTimer.stop();
  if (error != QNetworkReply::NoError) {
    retry(why);
    return;
  }
  if (mTotal > 0 && mHave < mTotal) {
    retry(tr("the connection closed after %1 of %2").arg(formatBytes(mHave), formatBytes(mTotal)));
    return;
  }
  complete();
}

void FileDownload::onStall() {
  if (mState != State::Connecting && mState != State::Downloading) return;
  dropReply();
  retry(tr("no data for %1 s").arg(mOptions.stallTimeoutMs / 1000.0, 0, 'f', 1));
}

void FileDownload::retry(const QString& reason, int afterMs) {
  dropReply();
  mStallTimer.stop();
  if (mPart.isOpen()) mPart.flush();
  if (mProgressThisTry) mAttempts = 0;
  ++mAttempts;
  if (mAttempts >= mOptions.maxAttempts) {
    fail(tr("gave up after %1 tries: %2; what was downloaded is kept for a resume").arg(mAttempts).arg(reason), false);
    return;
  }
  if (afterMs > mOptions.maxRetryAfterMs) {
    fail(tr("%1; the server asks to wait %2 min; try again later").arg(reason).arg(afterMs / 60000), false);
    return;
  }
  const int backoff = int(std::min<qint64>(mOptions.maxBackoffMs, qint64(mOptions.firstBackoffMs) << std::min(mAttempts - 1, 20)));
  const int delay = afterMs >= 0 ? afterMs : backoff;
  Q_EMIT note(tr("%1; trying again in %2 s").arg(reason).arg(delay / 1000.0, 0, 'f', 1));
  setState(State::Waiting);
  mRetryTimer.start(delay);
}

void FileDownload::restartFromZero(const QString& reason) {
  closePart();
  QFile::resize(partPath(), 0);
  mHash = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);
  mHave = 0;
  mHashValid = true;
  mEtag.clear();
  retry(reason + tr(", starting over"), 0);
}

void FileDownload::complete() {
  closePart();
  mStallTimer.stop();
  if (mExpectedSize > 0 && mHave != mExpectedSize) {
    fail(tr("%1 has %2 bytes, expected %3; the download was removed").arg(mFileName).arg(mHave).arg(mExpectedSize), true);
    return;
  }
  const QString actual = QString::fromLatin1(mHash->result().toHex());
  if (!mExpectedSha.isEmpty() && actual != mExpectedSha) {
    fail(tr("%1 is damaged: its sha256 is %2, %3 publishes %4; the download was removed")
             .arg(mFileName, actual, mShaOrigin, mExpectedSha),
         true);
    return;
  }
  if (QFileInfo::exists(targetPath())) {
    fail(tr("%1 appeared meanwhile; the download stays as %2").arg(targetPath(), partPath()), false);
    return;
  }
  if (!QFile::rename(partPath(), targetPath())) {
    fail(tr("cannot rename %1 to %2").arg(partPath(), targetPath()), false);
    return;
  }
  QFile::remove(metaPathOf(partPath()));
  mVerified = !mExpectedSha.isEmpty();
  if (!mVerified) mExpectedSha = actual;
  mTotal = mHave;
  Q_EMIT progress(mHave, mTotal);
  setState(State::Finished);
}

void FileDownload::pause() {
  if (!isActive()) return;
  dropReply();
  closePart();
  mStallTimer.stop();
  mRetryTimer.stop();
  setState(State::Paused);
}

void FileDownload::holdPaused() {
  if (mState == State::Idle) setState(State::Paused);
}

void FileDownload::cancel() {
  if (mState == State::Finished || mState == State::Cancelled) return;
  dropReply();
  mStallTimer.stop();
  mRetryTimer.stop();
  removePartFiles();
  mHave = 0;
  mHashValid = false;
  setState(State::Cancelled);
}

}  // namespace kiln::downloads
