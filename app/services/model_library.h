#pragma once
// The models in the user's folders, kept current: the folders are searched on a pool thread,
// watched for changes (rescanned after a short quiet spell), and every model found is
// inspected, then hashed, by two persistent workers in their own threads (a long hash never
// holds up the inspection of a new file). Pages read entries and follow the signals.

#include <QFileSystemWatcher>
#include <QFutureWatcher>
#include <QHash>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QThread>
#include <QTimer>

#include <optional>
#include <stop_token>

#include "jobs/inspect_worker.h"
#include "services/folder_scanner.h"
#include "services/model_entry.h"

namespace kiln::app {

class AppSettings;

class ModelLibrary : public QObject {
  Q_OBJECT
  Q_PROPERTY(QStringList folders READ folders WRITE setFolders NOTIFY foldersChanged)
  Q_PROPERTY(QStringList unavailableFolders READ unavailableFolders NOTIFY unavailableFoldersChanged)
  Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged)

 public:
  // Reads the folders from `settings` and starts searching them.
  explicit ModelLibrary(AppSettings* settings, QObject* parent = nullptr);
  // Stops the running jobs and waits for the workers to finish.
  ~ModelLibrary() override;

  QStringList folders() const;
  void setFolders(const QStringList& folders);
  void addFolder(const QString& folder);
  void removeFolder(const QString& folder);
  // Folders of the list that are missing or unreadable at the last search.
  QStringList unavailableFolders() const;

  // In the order they were found.
  QList<ModelEntry> entries() const;
  std::optional<ModelEntry> entry(const QString& path) const;
  int count() const { return static_cast<int>(mOrder.size()); }

  // Searching, inspecting or hashing (or about to).
  bool isBusy() const { return mBusy; }
  // At least one search of the current folders has finished.
  bool hasScanned() const { return mScanned; }
  // What the library is doing, for a status bar ("Hashing model.safetensors 43%"); empty when
  // idle. The percentage is -1 when it is not known.
  QString activity() const { return mActivity; }
  int activityPercent() const { return mActivityPercent; }

  // Quiet time after a change on disk before the folders are searched again (default 400 ms):
  // copying a file or unpacking a folder makes a burst of changes.
  void setRescanDelay(int milliseconds);

  // The workers and their threads (for tests that check where the work runs).
  QThread* inspectionThread() { return &mInspectThread; }
  QThread* hashingThread() { return &mHashThread; }
  InspectWorker* inspector() const { return mInspector; }
  InspectWorker* hasher() const { return mHasher; }

 public Q_SLOTS:
  // Searches the folders again now.
  void rescan();

 Q_SIGNALS:
  void foldersChanged(const QStringList& folders);
  void unavailableFoldersChanged(const QStringList& folders);
  void entryAdded(const kiln::app::ModelEntry& entry);
  void entryChanged(const kiln::app::ModelEntry& entry);
  void entryRemoved(const QString& path);
  void scanFinished();
  void busyChanged(bool busy);
  void activityChanged(const QString& activity, int percent);

 private:
  struct Tracked {
    ModelEntry entry;
    qint64 mtimeMs = 0;
    quint64 job = 0;
    std::stop_source stop;
  };

  void scheduleRescan();
  void startScan();
  void onScanFinished();
  void applyScan(const ScanResult& result);
  void watch(const QStringList& paths);
  void addModel(const FoundModel& found);
  void removeModel(const QString& path);
  void inspect(Tracked& tracked);
  void queueHash(Tracked& tracked);
  void cancel(Tracked& tracked);
  quint64 newJob(Tracked& tracked);
  Tracked* byJob(quint64 id);
  void publish(Tracked& tracked);
  void updateActivity();

  void onStarted(quint64 id);
  void onInspected(quint64 id, const kiln::app::ModelSummary& summary);
  void onHashProgress(quint64 id, quint64 done, quint64 total);
  void onHashed(quint64 id, const QString& sha256);
  void onFailed(quint64 id, const kiln::app::UserMessage& message);
  void onCancelled(quint64 id);

  AppSettings* mSettings;
  QFileSystemWatcher mWatcher;
  QTimer mRescanTimer;
  QFutureWatcher<ScanResult> mScan;
  bool mScanRunning = false;
  bool mScanAgain = false;
  bool mScanned = false;
  QStringList mUnavailable;

  QHash<QString, Tracked> mModels;
  QStringList mOrder;
  QHash<quint64, QString> mJobs;  // running or queued job -> model path
  quint64 mNextJob = 1;

  QThread mInspectThread;
  QThread mHashThread;
  InspectWorker* mInspector;
  InspectWorker* mHasher;

  bool mBusy = false;
  QString mActivity;
  int mActivityPercent = -1;
};

}  // namespace kiln::app
