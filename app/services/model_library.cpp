#include "services/model_library.h"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include "state/app_settings.h"

namespace kiln::app {

namespace {

void dispatch(InspectWorker* worker, const InspectJob& job) {
  QMetaObject::invokeMethod(worker, [worker, job] { worker->run(job); }, Qt::QueuedConnection);
}

}  // namespace

ModelLibrary::ModelLibrary(AppSettings* settings, QObject* parent)
    : QObject(parent),
      mSettings(settings),
      mWatcher(this),
      mRescanTimer(this),
      mScan(this),
      mInspector(new InspectWorker),
      mHasher(new InspectWorker) {
  qRegisterMetaType<kiln::app::ModelSummary>();
  qRegisterMetaType<kiln::app::UserMessage>();
  qRegisterMetaType<kiln::app::ModelEntry>();

  mRescanTimer.setSingleShot(true);
  mRescanTimer.setInterval(400);
  connect(&mRescanTimer, &QTimer::timeout, this, &ModelLibrary::startScan);
  connect(&mWatcher, &QFileSystemWatcher::directoryChanged, this, &ModelLibrary::scheduleRescan);
  connect(&mWatcher, &QFileSystemWatcher::fileChanged, this, &ModelLibrary::scheduleRescan);
  connect(&mScan, &QFutureWatcher<ScanResult>::finished, this, &ModelLibrary::onScanFinished);

  mInspectThread.setObjectName(QStringLiteral("kiln-inspect"));
  mHashThread.setObjectName(QStringLiteral("kiln-hash"));
  for (auto [worker, thread] : {std::pair{mInspector, &mInspectThread}, std::pair{mHasher, &mHashThread}}) {
    worker->moveToThread(thread);
    connect(thread, &QThread::finished, worker, &QObject::deleteLater);
    connect(worker, &InspectWorker::started, this, &ModelLibrary::onStarted);
    connect(worker, &InspectWorker::inspected, this, &ModelLibrary::onInspected);
    connect(worker, &InspectWorker::hashProgress, this, &ModelLibrary::onHashProgress);
    connect(worker, &InspectWorker::hashed, this, &ModelLibrary::onHashed);
    connect(worker, &InspectWorker::failed, this, &ModelLibrary::onFailed);
    connect(worker, &InspectWorker::cancelled, this, &ModelLibrary::onCancelled);
    thread->start(QThread::LowPriority);
  }

  connect(mSettings, &AppSettings::modelFoldersChanged, this, [this](const QStringList& folders) {
    Q_EMIT foldersChanged(folders);
    startScan();
  });
  startScan();
}

ModelLibrary::~ModelLibrary() {
  for (auto& tracked : mModels) tracked.stop.request_stop();
  mInspectThread.quit();
  mHashThread.quit();
  mInspectThread.wait();
  mHashThread.wait();
  // A search still running on the pool only reads the file system; let it end.
  mScan.waitForFinished();
}

QStringList ModelLibrary::folders() const { return mSettings->modelFolders(); }

void ModelLibrary::setFolders(const QStringList& folders) { mSettings->setModelFolders(folders); }

void ModelLibrary::addFolder(const QString& folder) {
  QStringList list = folders();
  list << folder;
  setFolders(list);
}

void ModelLibrary::removeFolder(const QString& folder) {
  QStringList list = folders();
  list.removeAll(QDir::cleanPath(folder));
  setFolders(list);
}

QStringList ModelLibrary::unavailableFolders() const { return mUnavailable; }

QList<ModelEntry> ModelLibrary::entries() const {
  QList<ModelEntry> out;
  out.reserve(mOrder.size());
  for (const QString& path : mOrder) out << mModels.value(path).entry;
  return out;
}

std::optional<ModelEntry> ModelLibrary::entry(const QString& path) const {
  const auto it = mModels.constFind(path);
  if (it == mModels.cend()) return std::nullopt;
  return it->entry;
}

void ModelLibrary::setRescanDelay(int milliseconds) { mRescanTimer.setInterval(milliseconds); }

void ModelLibrary::rescan() {
  mRescanTimer.stop();
  startScan();
}

void ModelLibrary::scheduleRescan() {
  mRescanTimer.start();
  updateActivity();
}

void ModelLibrary::startScan() {
  if (mScanRunning) {
    mScanAgain = true;
    return;
  }
  mScanRunning = true;
  mScanAgain = false;
  mScan.setFuture(QtConcurrent::run(&FolderScanner::scan, folders(), FolderScanner::kMaxDepth));
  updateActivity();
}

void ModelLibrary::onScanFinished() {
  mScanRunning = false;
  const ScanResult result = mScan.result();
  // Folders changed while searching: this result is stale, search again.
  if (result.folders != folders()) mScanAgain = true;
  else applyScan(result);
  if (mScanAgain) startScan();
  else updateActivity();
}

void ModelLibrary::applyScan(const ScanResult& result) {
  watch(result.watchPaths);
  if (result.unavailableFolders != mUnavailable) {
    mUnavailable = result.unavailableFolders;
    Q_EMIT unavailableFoldersChanged(mUnavailable);
  }
  QSet<QString> seen;
  for (const FoundModel& found : result.models) {
    seen.insert(found.path);
    auto it = mModels.find(found.path);
    if (it == mModels.end()) {
      addModel(found);
    } else if (it->entry.size != found.size || it->mtimeMs != found.mtimeMs) {
      it->entry.size = found.size;
      it->mtimeMs = found.mtimeMs;
      inspect(*it);
      publish(*it);
    }
  }
  const QStringList known = mOrder;
  for (const QString& path : known) {
    if (!seen.contains(path)) removeModel(path);
  }
  mScanned = true;
  Q_EMIT scanFinished();
}

void ModelLibrary::watch(const QStringList& paths) {
  const QSet<QString> wanted(paths.cbegin(), paths.cend());
  QStringList watched = mWatcher.directories() + mWatcher.files();
  QStringList gone;
  for (const QString& p : watched) {
    if (!wanted.contains(p)) gone << p;
  }
  if (!gone.isEmpty()) mWatcher.removePaths(gone);
  const QSet<QString> have(watched.cbegin(), watched.cend());
  QStringList fresh;
  for (const QString& p : paths) {
    if (!have.contains(p)) fresh << p;
  }
  if (!fresh.isEmpty()) mWatcher.addPaths(fresh);
}

void ModelLibrary::addModel(const FoundModel& found) {
  Tracked tracked;
  tracked.entry.path = found.path;
  tracked.entry.isFolder = found.isFolder;
  tracked.entry.size = found.size;
  tracked.mtimeMs = found.mtimeMs;
  auto it = mModels.insert(found.path, std::move(tracked));
  mOrder << found.path;
  inspect(*it);
  Q_EMIT entryAdded(it->entry);
  updateActivity();
}

void ModelLibrary::removeModel(const QString& path) {
  auto it = mModels.find(path);
  if (it == mModels.end()) return;
  cancel(*it);
  mModels.erase(it);
  mOrder.removeAll(path);
  Q_EMIT entryRemoved(path);
  updateActivity();
}

quint64 ModelLibrary::newJob(Tracked& tracked) {
  const quint64 id = mNextJob++;
  mJobs.remove(tracked.job);
  tracked.job = id;
  mJobs.insert(id, tracked.entry.path);
  return id;
}

void ModelLibrary::cancel(Tracked& tracked) {
  tracked.stop.request_stop();
  tracked.stop = std::stop_source();
  mJobs.remove(tracked.job);
  tracked.job = 0;
}

void ModelLibrary::inspect(Tracked& tracked) {
  cancel(tracked);
  tracked.entry.status = ModelEntry::Status::Inspecting;
  tracked.entry.hashPercent = 0;
  tracked.entry.summary = {};
  tracked.entry.error = {};
  InspectJob job;
  job.id = newJob(tracked);
  job.kind = InspectJob::Kind::Inspect;
  job.path = tracked.entry.path;
  job.stop = tracked.stop.get_token();
  dispatch(mInspector, job);
}

void ModelLibrary::queueHash(Tracked& tracked) {
  ModelSummary& summary = tracked.entry.summary;
  const QFileInfo file(summary.hashedFile);
  const qint64 mtime = file.lastModified().toMSecsSinceEpoch();
  if (const auto cached = mSettings->cachedHash(file.absoluteFilePath(), file.size(), mtime)) {
    summary.sha256 = *cached;
    tracked.entry.status = ModelEntry::Status::Ready;
    mJobs.remove(tracked.job);
    tracked.job = 0;
    return;
  }
  tracked.entry.status = ModelEntry::Status::HashQueued;
  InspectJob job;
  job.id = newJob(tracked);
  job.kind = InspectJob::Kind::Hash;
  job.path = tracked.entry.path;
  job.hashedFile = summary.hashedFile;
  job.stop = tracked.stop.get_token();
  dispatch(mHasher, job);
}

ModelLibrary::Tracked* ModelLibrary::byJob(quint64 id) {
  const auto path = mJobs.constFind(id);
  if (path == mJobs.cend()) return nullptr;
  const auto it = mModels.find(*path);
  return it == mModels.end() || it->job != id ? nullptr : &*it;
}

void ModelLibrary::publish(Tracked& tracked) {
  Q_EMIT entryChanged(tracked.entry);
  updateActivity();
}

void ModelLibrary::onStarted(quint64 id) {
  Tracked* t = byJob(id);
  if (!t || t->entry.status != ModelEntry::Status::HashQueued) return;
  t->entry.status = ModelEntry::Status::Hashing;
  t->entry.hashPercent = 0;
  publish(*t);
}

void ModelLibrary::onInspected(quint64 id, const ModelSummary& summary) {
  Tracked* t = byJob(id);
  if (!t) return;
  t->entry.summary = summary;
  if (summary.hashedFile.isEmpty()) {
    t->entry.status = ModelEntry::Status::Ready;
    mJobs.remove(id);
    t->job = 0;
  } else {
    queueHash(*t);
  }
  publish(*t);
}

void ModelLibrary::onHashProgress(quint64 id, quint64 done, quint64 total) {
  Tracked* t = byJob(id);
  if (!t) return;
  t->entry.status = ModelEntry::Status::Hashing;
  t->entry.hashPercent = total ? static_cast<int>(done * 100 / total) : 100;
  publish(*t);
}

void ModelLibrary::onHashed(quint64 id, const QString& sha256) {
  Tracked* t = byJob(id);
  if (!t) return;
  mJobs.remove(id);
  t->job = 0;
  ModelSummary& summary = t->entry.summary;
  summary.sha256 = sha256;
  t->entry.status = ModelEntry::Status::Ready;
  t->entry.hashPercent = 100;
  const QFileInfo file(summary.hashedFile);
  mSettings->storeHash(file.absoluteFilePath(), file.size(), file.lastModified().toMSecsSinceEpoch(), sha256);
  publish(*t);
}

void ModelLibrary::onFailed(quint64 id, const UserMessage& message) {
  Tracked* t = byJob(id);
  if (!t) return;
  mJobs.remove(id);
  t->job = 0;
  t->entry.status = ModelEntry::Status::Failed;
  t->entry.error = message;
  publish(*t);
}

void ModelLibrary::onCancelled(quint64 id) {
  // Only jobs the library gave up on are cancelled, and those are forgotten already.
  mJobs.remove(id);
}

void ModelLibrary::updateActivity() {
  int inspecting = 0;
  int waiting = 0;
  const Tracked* hashing = nullptr;
  for (const Tracked& t : std::as_const(mModels)) {
    switch (t.entry.status) {
      case ModelEntry::Status::Inspecting: ++inspecting; break;
      case ModelEntry::Status::HashQueued: ++waiting; break;
      case ModelEntry::Status::Hashing: hashing = &t; break;
      default: break;
    }
  }
  QString text;
  int percent = -1;
  if (mScanRunning && !mScanned) {
    text = tr("Looking for models…");
  } else if (inspecting > 0) {
    text = tr("Inspecting %n model(s)…", nullptr, inspecting);
  } else if (hashing) {
    percent = hashing->entry.hashPercent;
    text = waiting > 0 ? tr("Hashing %1 %2% (%n more waiting)", nullptr, waiting).arg(hashing->entry.name()).arg(percent)
                       : tr("Hashing %1 %2%").arg(hashing->entry.name()).arg(percent);
  } else if (waiting > 0) {
    text = tr("Hashing %n model(s)…", nullptr, waiting);
  }
  if (text != mActivity || percent != mActivityPercent) {
    mActivity = text;
    mActivityPercent = percent;
    Q_EMIT activityChanged(mActivity, mActivityPercent);
  }
  const bool busy = mScanRunning || mRescanTimer.isActive() || inspecting > 0 || waiting > 0 || hashing;
  if (busy != mBusy) {
    mBusy = busy;
    Q_EMIT busyChanged(mBusy);
  }
}

}  // namespace kiln::app
