#pragma once
// The downloads of a session: a queue with a concurrency limit, pause / resume / cancel, and
// the queue kept in a JSON file so that downloads carry on after Kiln is closed or killed
// (each FileDownload re-hashes its part and asks for the rest). Finished and cancelled ones
// leave the file; paused and failed ones come back paused.

#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>

#include "downloads/file_download.h"

namespace kiln::downloads {

class DownloadManager : public QObject {
  Q_OBJECT

 public:
  // `stateFile`: where the queue is kept; empty keeps nothing.
  explicit DownloadManager(QString stateFile, QObject* parent = nullptr);
  ~DownloadManager() override;

  void setMaxConcurrent(int n);
  int maxConcurrent() const { return mMaxConcurrent; }
  void setOptions(const DownloadOptions& options) { mOptions = options; }

  // Queues a download (started when a slot is free). A request for a target already in the list
  // returns that download (resumed if it was paused or failed).
  FileDownload* enqueue(const DownloadRequest& request);
  // Reads the state file: unfinished downloads are queued again, paused ones stay paused.
  void restore();

  void pause(FileDownload* download);
  void resume(FileDownload* download);
  void cancel(FileDownload* download);
  // Takes a finished, failed or cancelled download off the list.
  void dismiss(FileDownload* download);

  QList<FileDownload*> downloads() const { return mDownloads; }
  // Downloading, checking or waiting for a retry (not queued).
  int activeCount() const;
  // Queued or active.
  int pendingCount() const;
  bool isQueued(const FileDownload* download) const { return mQueue.contains(download); }
  QNetworkAccessManager* network() { return &mNetwork; }

 Q_SIGNALS:
  void added(kiln::downloads::FileDownload* download);
  void removed(kiln::downloads::FileDownload* download);
  // State or progress of one download changed.
  void changed(kiln::downloads::FileDownload* download);
  // A file is in place (verified or not).
  void completed(kiln::downloads::FileDownload* download);

 private:
  FileDownload* create(const DownloadRequest& request);
  void schedule();
  void save() const;

  QString mStateFile;
  QNetworkAccessManager mNetwork;
  DownloadOptions mOptions;
  int mMaxConcurrent = 2;
  QList<FileDownload*> mDownloads;
  QList<const FileDownload*> mQueue;
  bool mRestoring = false;
};

}  // namespace kiln::downloads
