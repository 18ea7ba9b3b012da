#include "widgets/gallery_view.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>
#include <QScrollBar>
#include <QStyle>

namespace kiln::widgets {

namespace {

constexpr int kPadding = 4;
constexpr int kSpacing = 6;

}  // namespace

GalleryDelegate::GalleryDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QSize GalleryDelegate::sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const {
  return {mSide + 2 * kPadding, mSide + 2 * kPadding};
}

void GalleryDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  painter->setRenderHint(QPainter::SmoothPixmapTransform);
  const QRectF cell = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5);
  const QPalette& pal = option.palette;
  const bool selected = option.state & QStyle::State_Selected;
  const bool hovered = option.state & QStyle::State_MouseOver;
  if (selected || hovered) {
    QColor fill = pal.color(QPalette::Highlight);
    fill.setAlpha(selected ? 70 : 30);
    painter->setPen(selected ? QPen(pal.color(QPalette::Highlight), 2) : Qt::NoPen);
    painter->setBrush(fill);
    painter->drawRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6);
  }

  const QVariant decoration = index.data(Qt::DecorationRole);
  QPixmap pixmap;
  if (decoration.canConvert<QPixmap>()) pixmap = decoration.value<QPixmap>();
  if (pixmap.isNull() && decoration.canConvert<QImage>()) pixmap = QPixmap::fromImage(decoration.value<QImage>());
  const QRectF box = QRectF(option.rect).adjusted(kPadding, kPadding, -kPadding, -kPadding);
  if (!pixmap.isNull()) {
    QSizeF size = pixmap.deviceIndependentSize();
    size.scale(box.size(), Qt::KeepAspectRatio);
    const QRectF target(box.center() - QPointF(size.width() / 2, size.height() / 2), size);
    QPainterPath clip;
    clip.addRoundedRect(target, 4, 4);
    painter->setClipPath(clip);
    painter->drawPixmap(target, pixmap, QRectF(pixmap.rect()));
  }
  painter->restore();
}

GalleryView::GalleryView(QWidget* parent) : QListView(parent), mDelegate(new GalleryDelegate(this)) {
  setItemDelegate(mDelegate);
  setViewMode(QListView::IconMode);
  setMovement(QListView::Static);
  setResizeMode(QListView::Adjust);
  setFlow(QListView::LeftToRight);
  setWrapping(true);
  setUniformItemSizes(true);
  setSelectionMode(QAbstractItemView::ExtendedSelection);
  setSpacing(0);
  setMouseTracking(true);
  setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  verticalScrollBar()->setSingleStep(24);
  updateGrid();
}

void GalleryView::setThumbnailSize(int side) {
  mDelegate->setThumbnailSize(side);
  updateGrid();
}

int GalleryView::thumbnailSize() const { return mDelegate->thumbnailSize(); }

void GalleryView::setPlaceholderText(const QString& text) {
  mPlaceholder = text;
  viewport()->update();
}

void GalleryView::updateGrid() {
  const int cell = mDelegate->thumbnailSize() + 2 * kPadding;
  setGridSize(QSize(cell + kSpacing, cell + kSpacing));
  setIconSize(QSize(mDelegate->thumbnailSize(), mDelegate->thumbnailSize()));
  doItemsLayout();
}

void GalleryView::resizeEvent(QResizeEvent* event) {
  QListView::resizeEvent(event);
  // Cells share the width so a row has no ragged gap on the right.
  // QListView lays out in the width left beside a scroll bar that may appear.
  const int cell = mDelegate->thumbnailSize() + 2 * kPadding + kSpacing;
  const int scrollBar =
      verticalScrollBar()->isVisible() ? 0 : style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, this);
  const int width = viewport()->width() - scrollBar - 1;
  const int columns = std::max(1, width / cell);
  const int stretched = width / columns;
  if (gridSize().width() != stretched) setGridSize(QSize(stretched, cell));
}

void GalleryView::paintEvent(QPaintEvent* event) {
  if (model() && model()->rowCount(rootIndex()) > 0) {
    QListView::paintEvent(event);
    return;
  }
  QPainter p(viewport());
  p.setPen(palette().color(QPalette::PlaceholderText));
  p.drawText(viewport()->rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap, mPlaceholder);
}

}  // namespace kiln::widgets
