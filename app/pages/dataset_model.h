#pragma once
// The images of a dataset folder (its prepared outputs, found by their `<stem>.crop.json`
// sidecars) with what the sidecars and captions say about them, as a list model for a
// thumbnail grid. Sidecars are read off the GUI thread; thumbnails are decoded lazily (only
// those a view asks for), shrunk on a small thread pool and cached, so hundreds of images stay
// smooth. Near-duplicates are grouped over the whole folder by the sidecars' dHashes.

#include <QAbstractListModel>
#include <QCache>
#include <QFutureWatcher>
#include <QList>
#include <QPixmap>
#include <QPointF>
#include <QRect>
#include <QHash>
#include <QSize>
#include <QString>
#include <QStringList>
#include <QThreadPool>

#include <optional>

namespace kiln::app {

struct DatasetItem {
  enum Badge {
    Face = 1 << 0,
    NoFace = 1 << 1,
    TooSmall = 1 << 2,  // the crop was smaller than the output: upscaled
    Duplicate = 1 << 3,
    NoCaption = 1 << 4,
  };

  QString output;  // absolute path of the prepared image
  QString sidecar;
  QString source;  // the original, absolute
  QSize sourceSize;
  int resolution = 512;
  QRect crop;  // in the original's displayed pixels
  QList<QRect> faces;
  std::optional<QPointF> focal;  // set when no face steered the proposed crop
  bool adjusted = false;
  QStringList warnings;  // the engine's words (English)
  QString dhash;
  std::optional<QString> caption;  // nullopt: no caption file
  QString duplicateOf;             // file name of the earlier near-duplicate, empty when none
  QString error;                   // why the sidecar could not be read (the item is still listed)

  int badges() const;
  QString fileName() const;
};

// Where an image's caption came from (the dataset's CaptionStore, set by the page): status "auto",
// "edited", "reviewed", "failed" or "" (none recorded), the flags of the model's answer
// (captioning::CaptionFlag bits) and one line for the tooltip.
struct CaptionInfo {
  QString status;
  unsigned flags = 0;
  QString note;
  bool operator==(const CaptionInfo&) const = default;
};

class DatasetModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    BadgesRole = Qt::UserRole + 1,  // int, DatasetItem::Badge flags
    PathRole,                       // QString, the output
    CaptionStatusRole,              // QString, CaptionInfo::status
    CaptionFlagsRole,               // uint, CaptionInfo::flags
  };

  explicit DatasetModel(QObject* parent = nullptr);
  ~DatasetModel() override;

  // Reads the folder's sidecars in the background; loaded() follows. An empty folder clears.
  void setFolder(const QString& folder);
  QString folder() const { return mFolder; }
  bool isLoading() const { return mLoading; }
  // Whether thumbnails are still being decoded.
  bool hasPendingThumbnails() const { return !mPending.isEmpty(); }

  const DatasetItem& item(int row) const { return mItems.at(row); }
  int rowOf(const QString& output) const;
  QStringList outputs() const;
  // Reads one image's sidecar and caption again (after a crop or caption edit) and drops its
  // thumbnail when `imageChanged`.
  void refresh(const QString& output, bool imageChanged = false);
  // Takes an image out of the list / lists it again from its sidecar, in name order (the page
  // moves its files to and from the dataset's `.removed` folder).
  void removeOutput(const QString& output);
  void insertOutput(const QString& sidecarPath);

  // The captioning status of each image (by output); images not named have none.
  void setCaptionInfo(const QHash<QString, CaptionInfo>& info);
  CaptionInfo captionInfo(const QString& output) const { return mCaptionInfo.value(output); }

  // The longer side thumbnails are decoded at.
  void setThumbnailSide(int side) { mThumbnailSide = side; }

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 Q_SIGNALS:
  void loaded();

 private:
  static DatasetItem readItem(const QString& sidecarPath);
  void updateDuplicates();
  void requestThumbnail(const QString& output) const;

  QString mFolder;
  QList<DatasetItem> mItems;
  QHash<QString, CaptionInfo> mCaptionInfo;
  bool mLoading = false;
  quint64 mGeneration = 0;  // drops the results of an earlier folder
  int mThumbnailSide = 192;
  QFutureWatcher<QList<DatasetItem>>* mWatcher = nullptr;
  // Decoding is requested from data() const, hence mutable.
  mutable QCache<QString, QPixmap> mThumbnails;
  mutable QHash<QString, quint64> mPending;  // output -> ticket of the decode in flight
  mutable quint64 mTicket = 0;
  mutable QThreadPool mPool;
};

}  // namespace kiln::app
