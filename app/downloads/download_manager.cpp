#include "downloads/download_manager.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace kiln::downloads {

namespace {

QJsonObject toJson(const DownloadRequest& r, const QString& fileName, bool paused) {
  QJsonObject o;
  o.insert(QStringLiteral("source"), r.source.toString());
  o.insert(QStringLiteral("directory"), r.directory);
  o.insert(QStringLiteral("file"), fileName);
  o.insert(QStringLiteral("sha256"), r.expectedSha256);
  o.insert(QStringLiteral("sha256_origin"), r.shaOrigin);
  o.insert(QStringLiteral("size"), double(r.expectedSize));
  o.insert(QStringLiteral("label"), r.label);
  o.insert(QStringLiteral("paused"), paused);
  return o;
}

std::optional<DownloadRequest> fromJson(const QJsonObject& o) {
  QString error;
  const std::optional<SourceSpec> source = parseSource(o.value(QLatin1String("source")).toString(), &error);
  if (!source) return std::nullopt;
  DownloadRequest r;
  r.source = *source;
  r.directory = o.value(QLatin1String("directory")).toString();
  r.fileName = o.value(QLatin1String("file")).toString();
  r.expectedSha256 = o.value(QLatin1String("sha256")).toString();
  r.shaOrigin = o.value(QLatin1String("sha256_origin")).toString();
  r.expectedSize = qint64(o.value(QLatin1String("size")).toDouble(-1));
  r.label = o.value(QLatin1String("label")).toString();
  if (r.directory.isEmpty()) return std::nullopt;
  return r;
}

}  // namespace

DownloadManager::DownloadManager(QString stateFile, QObject* parent) : QObject(parent), mStateFile(std::move(stateFile)) {}

DownloadManager::~DownloadManager() {
  // Parts stay on disk; the state file already says what to resume.
  for (FileDownload* d : mDownloads) d->disconnect(this);
  qDeleteAll(mDownloads);
}

void DownloadManager::setMaxConcurrent(int n) {
  mMaxConcurrent = std::max(1, n);
  schedule();
}

FileDownload* DownloadManager::create(const DownloadRequest& request) {
  auto* d = new FileDownload(request, &mNetwork, mOptions);
  connect(d, &FileDownload::stateChanged, this, [this, d](FileDownload::State state) {
    if (state == FileDownload::State::Finished) Q_EMIT completed(d);
    Q_EMIT changed(d);
    if (!d->isActive()) schedule();
    save();
  });
  connect(d, &FileDownload::progress, this, [this, d] { Q_EMIT changed(d); });
  mDownloads.push_back(d);
  Q_EMIT added(d);
  return d;
}

FileDownload* DownloadManager::enqueue(const DownloadRequest& request) {
  const QString name = request.fileName.isEmpty() ? request.source.defaultFileName() : request.fileName;
  for (FileDownload* d : mDownloads) {
    const bool sameTarget = !name.isEmpty() && QDir::cleanPath(d->request().directory) == QDir::cleanPath(request.directory) &&
                            d->fileName() == name;
    if (sameTarget || (d->request().source == request.source &&
                       QDir::cleanPath(d->request().directory) == QDir::cleanPath(request.directory))) {
      if (d->state() == FileDownload::State::Finished) return d;
      resume(d);
      return d;
    }
  }
  FileDownload* d = create(request);
  mQueue.push_back(d);
  schedule();
  save();
  return d;
}

void DownloadManager::restore() {
  if (mStateFile.isEmpty()) return;
  QFile file(mStateFile);
  if (!file.open(QIODevice::ReadOnly)) return;
  const QJsonArray items = QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("downloads")).toArray();
  mRestoring = true;
  for (const QJsonValue& v : items) {
    const std::optional<DownloadRequest> r = fromJson(v.toObject());
    if (!r) continue;
    FileDownload* d = create(*r);
    if (v.toObject().value(QLatin1String("paused")).toBool())
      d->holdPaused();
    else
      mQueue.push_back(d);
  }
  mRestoring = false;
  schedule();
  save();
}

int DownloadManager::activeCount() const {
  int n = 0;
  for (const FileDownload* d : mDownloads) n += d->isActive() ? 1 : 0;
  return n;
}

int DownloadManager::pendingCount() const { return activeCount() + int(mQueue.size()); }

void DownloadManager::schedule() {
  if (mRestoring) return;
  while (!mQueue.isEmpty() && activeCount() < mMaxConcurrent) {
    auto* d = const_cast<FileDownload*>(mQueue.takeFirst());
    d->start();
  }
}

void DownloadManager::pause(FileDownload* d) {
  if (mQueue.removeAll(d) > 0) {
    d->holdPaused();
    if (d->state() != FileDownload::State::Paused) d->pause();
  } else {
    d->pause();
  }
  Q_EMIT changed(d);
  save();
}

void DownloadManager::resume(FileDownload* d) {
  if (d->isActive() || mQueue.contains(d) || d->state() == FileDownload::State::Finished) return;
  mQueue.push_back(d);
  Q_EMIT changed(d);
  schedule();
  save();
}

void DownloadManager::cancel(FileDownload* d) {
  mQueue.removeAll(d);
  d->cancel();
  save();
}

void DownloadManager::dismiss(FileDownload* d) {
  if (d->isActive() || mQueue.contains(d)) return;
  if (d->state() == FileDownload::State::Paused) d->cancel();
  mDownloads.removeAll(d);
  Q_EMIT removed(d);
  d->deleteLater();
  save();
}

void DownloadManager::save() const {
  if (mStateFile.isEmpty() || mRestoring) return;
  QJsonArray items;
  for (const FileDownload* d : mDownloads) {
    const FileDownload::State s = d->state();
    if (s == FileDownload::State::Finished || s == FileDownload::State::Cancelled) continue;
    const bool paused = !mQueue.contains(d) && !d->isActive();
    items.push_back(toJson(d->request(), d->fileName(), paused));
  }
  QDir().mkpath(QFileInfo(mStateFile).absolutePath());
  QSaveFile file(mStateFile);
  if (!file.open(QIODevice::WriteOnly)) return;
  QJsonObject root;
  root.insert(QStringLiteral("format"), 1);
  root.insert(QStringLiteral("downloads"), items);
  file.write(QJsonDocument(root).toJson());
  file.commit();
}

}  // namespace kiln::downloads
