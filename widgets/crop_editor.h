#pragma once
// A picture with boxes on it and one square crop box that the user moves (drag inside) and
// resizes (drag a corner; the opposite corner stays, the box stays square) within the
// picture. Boxes are in the picture's full pixels, which may differ from the shown image's
// (a shrunk copy of a large photo is enough to look at). The edit is announced once, on
// release, with the box before and after; what it means is the caller's business.

#include <QImage>
#include <QList>
#include <QRect>
#include <QWidget>

namespace kiln::widgets {

class CropEditor : public QWidget {
  Q_OBJECT

 public:
  explicit CropEditor(QWidget* parent = nullptr);

  // `fullSize`: the picture's size in the pixels the boxes use (the image's own size when empty).
  void setImage(const QImage& image, const QSize& fullSize = {});
  QImage image() const { return mImage; }
  QSize fullSize() const { return mFullSize; }
  void clear();

  // Outlined, not editable (e.g. detected faces).
  void setMarkers(const QList<QRect>& boxes);
  QList<QRect> markers() const { return mMarkers; }
  // The square; clamped into the picture. Announces nothing.
  void setCrop(const QRect& square);
  QRect crop() const { return mCrop; }
  // The smallest side the user can shrink the box to (full pixels).
  void setMinimumSide(int side) { mMinSide = std::max(1, side); }
  void setPlaceholderText(const QString& text);

  // Where a point of the picture (full pixels) is on the widget, and back.
  QPointF toWidget(const QPointF& picture) const;
  QPointF toPicture(const QPointF& widget) const;

  QSize sizeHint() const override { return {480, 480}; }
  QSize minimumSizeHint() const override { return {160, 160}; }

 Q_SIGNALS:
  // After a drag (or a key press) that changed the box.
  void cropEdited(const QRect& before, const QRect& after);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  enum class Drag { None, Move, Resize };
  QRectF pictureRect() const;  // where the picture is drawn
  double scale() const;        // widget pixels per full pixel
  // The corner handle under `pos` (0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left), -1 if none.
  int cornerAt(const QPointF& pos) const;
  QRect clamped(QRect square) const;
  void updateCursor(const QPointF& pos);

  QImage mImage;
  QSize mFullSize;
  QList<QRect> mMarkers;
  QRect mCrop;
  int mMinSide = 16;
  QString mPlaceholder;

  Drag mDrag = Drag::None;
  QRect mDragStartCrop;
  QPointF mDragStartPos;  // picture pixels
  QPointF mAnchor;        // resize: the fixed corner, picture pixels
  int mCorner = -1;
};

}  // namespace kiln::widgets
