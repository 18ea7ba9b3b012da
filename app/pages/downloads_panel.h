#pragma once
// The Models page's list of downloads: for each one its label, a progress bar, "1.2 GB of 2.1 GB,
// 12 MB/s, 3 min left", what it is doing, its last note or error (one line, the whole text in the
// tooltip), and Pause/Resume, Cancel and Dismiss. Hidden while there are no downloads.

#include <QHash>
#include <QString>
#include <QWidget>

class QScrollArea;
class QVBoxLayout;

namespace kiln::downloads {
class DownloadManager;
class FileDownload;
}  // namespace kiln::downloads

namespace kiln::app {

class DownloadRow;

class DownloadsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit DownloadsPanel(downloads::DownloadManager* manager, QWidget* parent = nullptr);
  ~DownloadsPanel() override;

  // The row widget of a download (objectName "downloadRow"), nullptr if it is not listed.
  QWidget* rowOf(const downloads::FileDownload* download) const;

  // "1.2 GB of 2.1 GB, 12 MB/s, 3 min left" (the parts that are known).
  static QString progressText(const downloads::FileDownload* download);
  // "Downloading", "Paused", "Verified (sha256 from catalog)", …
  static QString stateText(const downloads::FileDownload* download, bool queued);
  // "3 min left", "1 h 12 min left".
  static QString timeLeftText(qint64 seconds);

 private:
  void add(downloads::FileDownload* download);
  void remove(downloads::FileDownload* download);
  void update(downloads::FileDownload* download);
  void updateVisibility();

  downloads::DownloadManager* mManager;
  QScrollArea* mScroll;
  QWidget* mList;
  QVBoxLayout* mListLayout;
  QHash<const downloads::FileDownload*, DownloadRow*> mRows;
};

}  // namespace kiln::app
