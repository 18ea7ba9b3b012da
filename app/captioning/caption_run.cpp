#include "captioning/caption_run.h"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <filesystem>

#include "base/error.h"
#include "dataset/captions.h"

namespace kiln::captioning {

namespace {

std::filesystem::path fsPath(const QString& path) { return std::filesystem::path(path.toStdString()); }

QString readCaption(const QString& image, QString* error) {
  try {
    const auto c = dataset::read_caption(fsPath(image));
    return c ? QString::fromStdString(c->text) : QString();
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return {};
  }
}

}  // namespace

QString modeId(CaptionMode mode) {
  switch (mode) {
    case CaptionMode::Fill: return QStringLiteral("fill");
    case CaptionMode::Replace: return QStringLiteral("replace");
    case CaptionMode::Append: return QStringLiteral("append");
  }
  return {};
}

std::optional<CaptionMode> modeFromId(const QString& id) {
  for (CaptionMode m : {CaptionMode::Fill, CaptionMode::Replace, CaptionMode::Append})
    if (modeId(m) == id) return m;
  return std::nullopt;
}

QString itemStateName(CaptionItem::State state) {
  switch (state) {
    case CaptionItem::State::Pending: return QStringLiteral("pending");
    case CaptionItem::State::Skipped: return QStringLiteral("skipped");
    case CaptionItem::State::Running: return QStringLiteral("running");
    case CaptionItem::State::Done: return QStringLiteral("done");
    case CaptionItem::State::Failed: return QStringLiteral("failed");
  }
  return {};
}

CaptionRun::CaptionRun(QString datasetDir, QStringList images, CaptionRunSettings settings, QNetworkAccessManager* network,
                       QObject* parent)
    : QObject(parent), mDir(std::move(datasetDir)), mImages(std::move(images)), mSettings(std::move(settings)),
      mNetwork(network), mStore(mDir) {
  mConcurrency = std::max(1, mSettings.profile.concurrency);
}

CaptionRun::~CaptionRun() {
  for (QObject* o : mCalls) {
    o->disconnect(this);
    if (auto* call = qobject_cast<CaptionCall*>(o)) call->abort();
  }
  // Watchers preparing images are children of this object: QFutureWatcher waits for nothing.
}

QString CaptionRun::plan() {
  mItems.clear();
  for (const QString& image : mImages) {
    CaptionItem item;
    item.image = QFileInfo(image).absoluteFilePath();
    QString readError;
    item.existing = readCaption(item.image, &readError);
    if (!readError.isEmpty()) {
      item.state = CaptionItem::State::Skipped;
      item.reason = readError;
      mItems.push_back(item);
      continue;
    }
    const bool blank = item.existing.trimmed().isEmpty();
    const QString status = mStore.status(item.image, item.existing);
    const bool personal = !blank && (status.isEmpty() || status == QLatin1String("edited") || status == QLatin1String("reviewed"));
    switch (mSettings.mode) {
      case CaptionMode::Fill:
        if (!blank) {
          item.state = CaptionItem::State::Skipped;
          item.reason = QStringLiteral("has a caption");
        }
        break;
      case CaptionMode::Replace:
        if (personal && !mSettings.overwriteEdited) {
          item.state = CaptionItem::State::Skipped;
          item.reason = status == QLatin1String("reviewed") ? QStringLiteral("reviewed: not replaced")
                                                            : QStringLiteral("written or edited by you: not replaced");
        }
        break;
      case CaptionMode::Append:
        break;
    }
    if (item.state == CaptionItem::State::Pending) {
      QString error;
      const auto prompt = buildPrompt(mSettings.prompt, QFileInfo(item.image).fileName(), item.existing, &error);
      if (!prompt) return error;
      item.prompt = *prompt;
    }
    mItems.push_back(item);
  }
  mPlanned = true;
  return {};
}

int CaptionRun::pendingCount() const {
  int n = 0;
  for (const CaptionItem& i : mItems) n += i.state == CaptionItem::State::Pending || i.state == CaptionItem::State::Running;
  return n;
}
int CaptionRun::doneCount() const {
  int n = 0;
  for (const CaptionItem& i : mItems) n += i.state == CaptionItem::State::Done;
  return n;
}
int CaptionRun::failedCount() const {
  int n = 0;
  for (const CaptionItem& i : mItems) n += i.state == CaptionItem::State::Failed;
  return n;
}
int CaptionRun::skippedCount() const {
  int n = 0;
  for (const CaptionItem& i : mItems) n += i.state == CaptionItem::State::Skipped;
  return n;
}

qint64 CaptionRun::secondsLeft() const {
  if (mCompletedThisRun == 0 || !mClock.isValid()) return -1;
  const double perItem = double(mClock.elapsed()) / 1000.0 / mCompletedThisRun;
  return qint64(perItem * pendingCount() + 0.5);
}

void CaptionRun::start() {
  if (mRunning || mFinished) return;
  if (!mPlanned) {
    const QString error = plan();
    if (!error.isEmpty()) {
      stop(error, VisionReply::Outcome::ImageFailed);
      return;
    }
  }
  mRunning = true;
  mClock.start();
  pump();
  finishIfDone();
}

void CaptionRun::pause() {
  if (!mRunning || mPaused) return;
  mPaused = true;
  Q_EMIT note(QStringLiteral("paused: the requests in flight finish"));
}

void CaptionRun::resume() {
  if (!mPaused) return;
  mPaused = false;
  pump();
  finishIfDone();
}

// Requests in flight (and images being prepared) are dropped; their images are pending again.
void CaptionRun::abortInFlight() {
  const auto calls = mCalls;
  mCalls.clear();
  for (auto it = calls.begin(); it != calls.end(); ++it) {
    it.value()->disconnect(this);
    if (auto* call = qobject_cast<CaptionCall*>(it.value())) {
      call->abort();
      call->deleteLater();
    }
    mItems[it.key()].state = CaptionItem::State::Pending;
    Q_EMIT itemChanged(it.key());
  }
}

void CaptionRun::cancel() {
  if (mFinished) return;
  mCancelled = true;
  abortInFlight();
  mRunning = false;
  mFinished = true;
  saveStore();
  Q_EMIT finished();
}

void CaptionRun::pump() {
  if (!mRunning || mPaused || !mStopReason.isEmpty()) return;
  for (int i = 0; i < mItems.size() && int(mCalls.size()) < mConcurrency; ++i)
    if (mItems[i].state == CaptionItem::State::Pending && !mCalls.contains(i)) launch(i);
}

void CaptionRun::launch(int index) {
  mItems[index].state = CaptionItem::State::Running;
  Q_EMIT itemChanged(index);
  // Decoding and scaling a 12-megapixel photo takes a while: off the event loop.
  auto* watcher = new QFutureWatcher<std::optional<QByteArray>>(this);
  mCalls.insert(index, watcher);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, index, watcher] { onPrepared(index, watcher); });
  const QString path = mItems[index].image;
  const int side = mSettings.profile.maxImageSide;
  watcher->setFuture(QtConcurrent::run([path, side]() -> std::optional<QByteArray> {
    QString error;
    auto jpeg = prepareImage(path, side, &error);
    if (!jpeg) return std::nullopt;
    return jpeg;
  }));
}

void CaptionRun::onPrepared(int index, QFutureWatcher<std::optional<QByteArray>>* watcher) {
  watcher->deleteLater();
  if (mCalls.value(index) != watcher) return;
  mCalls.remove(index);
  const std::optional<QByteArray> jpeg = watcher->result();
  CaptionItem& item = mItems[index];
  if (!jpeg) {
    item.state = CaptionItem::State::Failed;
    item.reason = QStringLiteral("not a readable image");
    CaptionRecord r;
    r.status = QStringLiteral("failed");
    r.error = item.reason;
    mStore.set(item.image, r);
    saveStore();
    Q_EMIT itemChanged(index);
    pump();
    finishIfDone();
    return;
  }
  if (!mStopReason.isEmpty() || mCancelled) {
    item.state = CaptionItem::State::Pending;
    Q_EMIT itemChanged(index);
    finishIfDone();
    return;
  }
  auto* call = new CaptionCall(mSettings.profile, mNetwork, mSettings.retry, *jpeg, item.prompt, this);
  mCalls.insert(index, call);
  connect(call, &CaptionCall::finished, this, [this, index, call] { onReply(index, call); });
  connect(call, &CaptionCall::note, this, [this, index](const QString& line) {
    Q_EMIT note(QFileInfo(mItems[index].image).fileName() + QStringLiteral(": ") + line);
  });
  connect(call, &CaptionCall::rateLimited, this, [this] {
    if (mConcurrency > 1) {
      mConcurrency = std::max(1, mConcurrency / 2);
      Q_EMIT note(QStringLiteral("rate limited: %1 request(s) at a time from now on").arg(mConcurrency));
    }
  });
  call->start();
}

void CaptionRun::onReply(int index, CaptionCall* call) {
  call->deleteLater();
  if (mCalls.value(index) != call) return;
  mCalls.remove(index);
  CaptionItem& item = mItems[index];
  item.reply = call->reply();
  if (item.reply.promptTokens > 0) mPromptTokens += item.reply.promptTokens;
  if (item.reply.completionTokens > 0) mCompletionTokens += item.reply.completionTokens;
  if (item.reply.stopsRun()) {
    item.state = CaptionItem::State::Pending;  // not this image's fault
    Q_EMIT itemChanged(index);
    stop(item.reply.error, item.reply.outcome);
    return;
  }
  if (item.reply.outcome != VisionReply::Outcome::Ok) {
    item.state = CaptionItem::State::Failed;
    item.reason = item.reply.error;
    CaptionRecord r;
    r.status = QStringLiteral("failed");
    r.model = mSettings.profile.model;
    r.endpointHost = QUrl(mSettings.profile.baseUrl).host();
    r.prompt = presetId(mSettings.prompt.preset);
    r.error = item.reason;
    mStore.set(item.image, r);
    saveStore();
    Q_EMIT itemChanged(index);
    ++mCompletedThisRun;
    pump();
    finishIfDone();
    return;
  }
  complete(index);
  pump();
  finishIfDone();
}

void CaptionRun::complete(int index) {
  CaptionItem& item = mItems[index];
  const TokenCounter* counter = mCounter ? &mCounter : nullptr;
  item.caption = processAnswer(
      item.reply.content, item.reply.finishReason, mSettings.prompt,
      counter ? +[](const QString& t, void* c) { return (*static_cast<const TokenCounter*>(c))(t); } : nullptr,
      const_cast<TokenCounter*>(counter));
  CaptionRecord r;
  r.model = mSettings.profile.model;
  r.endpointHost = QUrl(mSettings.profile.baseUrl).host();
  r.prompt = presetId(mSettings.prompt.preset);
  r.finishReason = item.reply.finishReason;
  r.promptTokens = item.reply.promptTokens;
  r.completionTokens = item.reply.completionTokens;
  r.flags = flagNames(item.caption.flags);
  ++mCompletedThisRun;
  if (!item.caption.usable()) {
    item.state = CaptionItem::State::Failed;
    item.reason = (item.caption.flags & FlagRefusal) ? QStringLiteral("the model refused: %1").arg(cleanAnswer(item.reply.content).left(120))
                                                     : QStringLiteral("the model answered nothing");
    r.status = QStringLiteral("failed");
    r.error = item.reason;
    mStore.set(item.image, r);
    saveStore();
    Q_EMIT itemChanged(index);
    return;
  }
  QString text = item.caption.text;
  if (mSettings.mode == CaptionMode::Append && !item.existing.trimmed().isEmpty())
    text = item.existing.trimmed() + QStringLiteral(", ") + text;
  // The caption on disk may have changed while the request ran (the person typed): never lose it.
  QString readError;
  const QString now = readCaption(item.image, &readError);
  if (now != item.existing) {
    item.state = CaptionItem::State::Skipped;
    item.reason = QStringLiteral("the caption changed while it was being written: kept yours");
    Q_EMIT itemChanged(index);
    return;
  }
  try {
    dataset::write_caption(fsPath(item.image), text.toStdString());
  } catch (const std::exception& e) {
    item.state = CaptionItem::State::Failed;
    item.reason = QString::fromStdString(e.what());
    Q_EMIT itemChanged(index);
    return;
  }
  item.caption.text = text;
  if (mCounter) item.caption.clipTokens = mCounter(text);
  if (item.caption.clipTokens > 75) item.caption.flags |= FlagOverLimit;
  r.flags = flagNames(item.caption.flags);
  r.clipTokens = item.caption.clipTokens;
  r.status = QStringLiteral("auto");
  r.captionSha256 = CaptionStore::sha256(text);
  mStore.set(item.image, r);
  saveStore();
  item.state = CaptionItem::State::Done;
  Q_EMIT itemChanged(index);
}

void CaptionRun::stop(const QString& reason, VisionReply::Outcome outcome) {
  if (!mStopReason.isEmpty()) return;
  mStopReason = reason;
  mStopOutcome = outcome;
  abortInFlight();
  Q_EMIT note(QStringLiteral("stopped: %1").arg(reason));
  finishIfDone();
}

void CaptionRun::finishIfDone() {
  if (mFinished || !mRunning) return;
  if (!mCalls.isEmpty()) return;
  const bool nothingLeft = pendingCount() == 0;
  if (!nothingLeft && mStopReason.isEmpty()) return;  // paused, or more to start
  mRunning = false;
  mFinished = true;
  saveStore();
  Q_EMIT finished();
}

void CaptionRun::saveStore() {
  QString error;
  if (!mStore.save(&error)) Q_EMIT note(QStringLiteral("cannot save the caption records: %1").arg(error));
}

}  // namespace kiln::captioning
