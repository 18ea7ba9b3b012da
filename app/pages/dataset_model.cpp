#include "pages/dataset_model.h"

#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "dataset/captions.h"
#include "dataset/perceptual_hash.h"
#include "dataset/sidecar.h"

namespace kiln::app {

namespace {

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }
QString fromPath(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }
QRect toRect(const dataset::Box& b) { return {b.x, b.y, b.w, b.h}; }

}  // namespace

int DatasetItem::badges() const {
  int b = faces.isEmpty() ? NoFace : Face;
  if (std::any_of(warnings.begin(), warnings.end(), [](const QString& w) { return w.startsWith(QLatin1String("upscaled")); }))
    b |= TooSmall;
  if (!duplicateOf.isEmpty()) b |= Duplicate;
  if (!caption || caption->trimmed().isEmpty()) b |= NoCaption;
  return b;
}

QString DatasetItem::fileName() const { return QFileInfo(output).fileName(); }

DatasetModel::DatasetModel(QObject* parent) : QAbstractListModel(parent) {
  mThumbnails.setMaxCost(96 * 1024 * 1024);  // bytes: ~650 thumbnails of 192 px
  mPool.setMaxThreadCount(2);
}

DatasetModel::~DatasetModel() {
  mPool.clear();
  mPool.waitForDone();
  if (mWatcher) mWatcher->waitForFinished();
}

DatasetItem DatasetModel::readItem(const QString& sidecarPath) {
  DatasetItem item;
  item.sidecar = sidecarPath;
  QString stem = QFileInfo(sidecarPath).fileName();
  stem.chop(static_cast<int>(qstrlen(".crop.json")));
  item.output = QFileInfo(sidecarPath).absolutePath() + QLatin1Char('/') + stem;
  try {
    const dataset::CropSidecar s = dataset::read_sidecar(toPath(sidecarPath));
    item.output = QFileInfo(sidecarPath).absolutePath() + QLatin1Char('/') + fromPath(s.output);
    item.source = fromPath(s.source);
    item.sourceSize = QSize(s.source_size.width, s.source_size.height);
    item.resolution = s.resolution;
    item.crop = toRect(s.crop);
    for (const auto& f : s.faces) item.faces << toRect(f);
    if (s.focal) item.focal = QPointF(s.focal->x, s.focal->y);
    item.adjusted = s.adjusted;
    for (const auto& w : s.warnings) item.warnings << QString::fromStdString(w);
    item.dhash = QString::fromStdString(s.dhash);
  } catch (const std::exception& e) {
    item.error = QString::fromStdString(e.what());
  }
  try {
    if (const auto caption = dataset::read_caption(toPath(item.output))) item.caption = QString::fromStdString(caption->text);
  } catch (const std::exception& e) {
    item.error = QString::fromStdString(e.what());
  }
  return item;
}

void DatasetModel::setFolder(const QString& folder) {
  ++mGeneration;
  beginResetModel();
  mItems.clear();
  mFolder = folder;
  endResetModel();
  if (folder.isEmpty()) {
    mLoading = false;
    Q_EMIT loaded();
    return;
  }
  mLoading = true;
  if (!mWatcher) mWatcher = new QFutureWatcher<QList<DatasetItem>>(this);
  mWatcher->disconnect(this);
  const quint64 generation = mGeneration;
  connect(mWatcher, &QFutureWatcherBase::finished, this, [this, generation] {
    if (generation != mGeneration) return;
    beginResetModel();
    mItems = mWatcher->result();
    updateDuplicates();
    endResetModel();
    mLoading = false;
    Q_EMIT loaded();
  });
  mWatcher->setFuture(QtConcurrent::run([folder] {
    QList<DatasetItem> items;
    const QDir dir(folder);
    for (const QString& name : dir.entryList({QStringLiteral("*.crop.json")}, QDir::Files, QDir::Name)) {
      items << readItem(dir.absoluteFilePath(name));
    }
    return items;
  }));
}

int DatasetModel::rowOf(const QString& output) const {
  for (int i = 0; i < mItems.size(); ++i) {
    if (mItems[i].output == output) return i;
  }
  return -1;
}

QStringList DatasetModel::outputs() const {
  QStringList out;
  for (const DatasetItem& i : mItems) out << i.output;
  return out;
}

void DatasetModel::refresh(const QString& output, bool imageChanged) {
  const int row = rowOf(output);
  if (row < 0) return;
  mItems[row] = readItem(mItems[row].sidecar);
  updateDuplicates();
  if (imageChanged) {
    mThumbnails.remove(output);
    mPending.remove(output);
  }
  Q_EMIT dataChanged(index(row), index(row));
}

void DatasetModel::removeOutput(const QString& output) {
  const int row = rowOf(output);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  mItems.removeAt(row);
  endRemoveRows();
  mThumbnails.remove(output);
  mPending.remove(output);
  updateDuplicates();
  if (!mItems.isEmpty()) Q_EMIT dataChanged(index(0), index(static_cast<int>(mItems.size()) - 1));
}

void DatasetModel::insertOutput(const QString& sidecarPath) {
  DatasetItem item = readItem(sidecarPath);
  if (rowOf(item.output) >= 0) return;
  const QString name = QFileInfo(sidecarPath).fileName();
  int row = 0;
  while (row < mItems.size() && QFileInfo(mItems[row].sidecar).fileName() < name) ++row;
  beginInsertRows({}, row, row);
  mItems.insert(row, std::move(item));
  endInsertRows();
  updateDuplicates();
  Q_EMIT dataChanged(index(0), index(static_cast<int>(mItems.size()) - 1));
}

// Groups are connected components of hashes within the engine's distance, over the whole
// folder (a dataset can grow by several imports); the later images of a group are flagged.
void DatasetModel::updateDuplicates() {
  std::vector<std::optional<std::uint64_t>> hashes;
  for (const DatasetItem& i : mItems) {
    bool ok = false;
    const quint64 h = i.dhash.toULongLong(&ok, 16);
    hashes.push_back(ok && !i.dhash.isEmpty() ? std::optional<std::uint64_t>(h) : std::nullopt);
  }
  const auto first = dataset::find_near_duplicates(hashes);
  for (int i = 0; i < mItems.size(); ++i) {
    const auto& f = first[static_cast<std::size_t>(i)];
    mItems[i].duplicateOf = f ? mItems[static_cast<int>(*f)].fileName() : QString();
  }
}

int DatasetModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(mItems.size()); }

void DatasetModel::setCaptionInfo(const QHash<QString, CaptionInfo>& info) {
  const QHash<QString, CaptionInfo> before = std::exchange(mCaptionInfo, info);
  for (int row = 0; row < mItems.size(); ++row) {
    const QString& output = mItems[row].output;
    if (before.value(output) != info.value(output))
      Q_EMIT dataChanged(index(row), index(row), {CaptionStatusRole, CaptionFlagsRole, Qt::ToolTipRole});
  }
}

QVariant DatasetModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= mItems.size()) return {};
  const DatasetItem& item = mItems[index.row()];
  switch (role) {
    case Qt::DisplayRole:
      return item.fileName();
    case Qt::DecorationRole:
      if (const QPixmap* p = mThumbnails.object(item.output)) return *p;
      requestThumbnail(item.output);
      return {};
    case Qt::ToolTipRole: {
      QString tip = item.fileName();
      for (const QString& w : item.warnings) tip += QLatin1Char('\n') + w;
      if (!item.error.isEmpty()) tip += QLatin1Char('\n') + item.error;
      const QString note = mCaptionInfo.value(item.output).note;
      if (!note.isEmpty()) tip += QLatin1Char('\n') + note;
      return tip;
    }
    case CaptionStatusRole:
      return mCaptionInfo.value(item.output).status;
    case CaptionFlagsRole:
      return mCaptionInfo.value(item.output).flags;
    case BadgesRole:
      return item.badges();
    case PathRole:
      return item.output;
    default:
      return {};
  }
}

void DatasetModel::requestThumbnail(const QString& output) const {
  if (mPending.contains(output)) return;
  const quint64 ticket = ++mTicket;
  mPending.insert(output, ticket);
  const int side = mThumbnailSide;
  QPointer<DatasetModel> self(const_cast<DatasetModel*>(this));
  mPool.start([self, output, side, ticket] {
    QImageReader reader(output);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (size.isValid()) {
      QSize scaled = size;
      scaled.scale(side, side, Qt::KeepAspectRatio);
      if (scaled.width() < size.width()) reader.setScaledSize(scaled);
    }
    QImage image = reader.read();
    if (!image.isNull()) image = image.convertToFormat(QImage::Format_ARGB32_Premultiplied);
    if (!self) return;
    QMetaObject::invokeMethod(
        self.data(),
        [self, output, image, ticket] {
          // A refresh() since: the file changed, a newer decode is (or will be) on its way.
          if (!self || self->mPending.value(output) != ticket) return;
          self->mPending.remove(output);
          const int row = self->rowOf(output);
          if (row < 0) return;
          auto* pixmap = new QPixmap(image.isNull() ? QPixmap() : QPixmap::fromImage(image));
          self->mThumbnails.insert(output, pixmap, std::max<qsizetype>(1, image.sizeInBytes()));
          Q_EMIT self->dataChanged(self->index(row), self->index(row), {Qt::DecorationRole});
        },
        Qt::QueuedConnection);
  });
}

}  // namespace kiln::app
