#pragma once
// A grid of image thumbnails from any list model: Qt::DecorationRole gives the picture (a
// QPixmap or QImage, drawn fitted into its cell), Qt::ToolTipRole what hovering shows. The
// empty view says what will appear there.

#include <QListView>
#include <QStyledItemDelegate>

namespace kiln::widgets {

class GalleryDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  explicit GalleryDelegate(QObject* parent = nullptr);

  void setThumbnailSize(int side) { mSide = side; }
  int thumbnailSize() const { return mSide; }

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

 private:
  int mSide = 128;
};

class GalleryView : public QListView {
  Q_OBJECT

 public:
  explicit GalleryView(QWidget* parent = nullptr);

  // The side of the square each thumbnail is fitted into.
  void setThumbnailSize(int side);
  int thumbnailSize() const;
  void setPlaceholderText(const QString& text);
  QString placeholderText() const { return mPlaceholder; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void updateGrid();

  GalleryDelegate* mDelegate;
  QString mPlaceholder;
};

}  // namespace kiln::widgets
