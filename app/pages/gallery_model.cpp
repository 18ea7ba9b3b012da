#include "pages/gallery_model.h"

#include <algorithm>

namespace kiln::app {

namespace {

// Thumbnails are kept at twice the gallery's cell size, sharp on high-density screens.
constexpr int kThumbnailSide = 256;

}  // namespace

GalleryModel::GalleryModel(QObject* parent) : QAbstractListModel(parent) {}

int GalleryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(mItems.size());
}

QVariant GalleryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= mItems.size()) return {};
  const GalleryItem& item = mItems.at(index.row());
  switch (role) {
    case Qt::DecorationRole:
      return item.thumbnail;
    case Qt::DisplayRole:
      return tr("Seed %1, %2×%3").arg(item.parameters.seed).arg(item.parameters.width).arg(item.parameters.height);
    case Qt::ToolTipRole:
      return item.parameters.toText().toHtmlEscaped().replace(QLatin1Char('\n'), QLatin1String("<br>"));
    case ParametersTextRole:
      return item.parameters.toText();
    case PathRole:
      return item.path;
    case SeedRole:
      return item.parameters.seed;
    case ImageRole:
      return item.image;
    default:
      return {};
  }
}

void GalleryModel::prepend(const QImage& image, const bridge::GenerationParameters& parameters, const QString& path) {
  GalleryItem item{image, parameters, path, {}};
  // Small pictures (the tiny test model's 64 px) are enlarged without blurring.
  const bool small = std::max(image.width(), image.height()) < kThumbnailSide / 2;
  item.thumbnail = QPixmap::fromImage(image.scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio,
                                                   small ? Qt::FastTransformation : Qt::SmoothTransformation));
  beginInsertRows({}, 0, 0);
  mItems.prepend(std::move(item));
  endInsertRows();
}

void GalleryModel::removeRows(const QList<int>& rows) {
  QList<int> sorted = rows;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (const int row : sorted) {
    if (row < 0 || row >= mItems.size()) continue;
    beginRemoveRows({}, row, row);
    mItems.removeAt(row);
    endRemoveRows();
  }
}

void GalleryModel::clear() {
  beginResetModel();
  mItems.clear();
  endResetModel();
}

}  // namespace kiln::app
