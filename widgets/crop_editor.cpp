#include "widgets/crop_editor.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace kiln::widgets {

namespace {

constexpr int kMargin = 12;
constexpr double kHandle = 9.0;  // corner handle half-size, widget pixels

}  // namespace

CropEditor::CropEditor(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void CropEditor::setImage(const QImage& image, const QSize& fullSize) {
  mImage = image;
  mFullSize = fullSize.isValid() ? fullSize : image.size();
  mCrop = clamped(mCrop);
  update();
}

void CropEditor::clear() {
  mImage = {};
  mFullSize = {};
  mMarkers.clear();
  mCrop = {};
  mDrag = Drag::None;
  update();
}

void CropEditor::setMarkers(const QList<QRect>& boxes) {
  mMarkers = boxes;
  update();
}

void CropEditor::setCrop(const QRect& square) {
  mCrop = clamped(square);
  update();
}

void CropEditor::setPlaceholderText(const QString& text) {
  mPlaceholder = text;
  update();
}

QRectF CropEditor::pictureRect() const {
  if (mFullSize.isEmpty()) return {};
  const QRectF area = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
  QSizeF size(mFullSize);
  size.scale(area.size(), Qt::KeepAspectRatio);
  return {area.center() - QPointF(size.width() / 2, size.height() / 2), size};
}

double CropEditor::scale() const {
  return mFullSize.isEmpty() ? 1.0 : pictureRect().width() / mFullSize.width();
}

QPointF CropEditor::toWidget(const QPointF& picture) const { return pictureRect().topLeft() + picture * scale(); }

QPointF CropEditor::toPicture(const QPointF& widget) const { return (widget - pictureRect().topLeft()) / scale(); }

QRect CropEditor::clamped(QRect square) const {
  if (mFullSize.isEmpty() || square.isEmpty()) return square;
  const int side = std::clamp(square.width(), 1, std::min(mFullSize.width(), mFullSize.height()));
  square.setSize({side, side});
  square.moveLeft(std::clamp(square.x(), 0, mFullSize.width() - side));
  square.moveTop(std::clamp(square.y(), 0, mFullSize.height() - side));
  return square;
}

int CropEditor::cornerAt(const QPointF& pos) const {
  if (mCrop.isEmpty()) return -1;
  const QPointF tl = toWidget(mCrop.topLeft());
  const QPointF br = toWidget(QPointF(mCrop.x() + mCrop.width(), mCrop.y() + mCrop.height()));
  const QPointF corners[] = {tl, {br.x(), tl.y()}, br, {tl.x(), br.y()}};
  for (int i = 0; i < 4; ++i) {
    if (std::abs(pos.x() - corners[i].x()) <= kHandle + 2 && std::abs(pos.y() - corners[i].y()) <= kHandle + 2) return i;
  }
  return -1;
}

void CropEditor::updateCursor(const QPointF& pos) {
  const int corner = cornerAt(pos);
  if (corner == 0 || corner == 2) {
    setCursor(Qt::SizeFDiagCursor);
  } else if (corner == 1 || corner == 3) {
    setCursor(Qt::SizeBDiagCursor);
  } else if (!mCrop.isEmpty() && QRectF(mCrop).contains(toPicture(pos))) {
    setCursor(Qt::SizeAllCursor);
  } else {
    unsetCursor();
  }
}

void CropEditor::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  if (mImage.isNull()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap, mPlaceholder);
    return;
  }
  const QRectF picture = pictureRect();
  p.drawImage(picture, mImage, QRectF(mImage.rect()));

  const QColor accent = palette().color(QPalette::Highlight);
  if (!mCrop.isEmpty()) {
    const QRectF crop(toWidget(mCrop.topLeft()), QSizeF(mCrop.size()) * scale());
    // Outside the crop is dimmed: what stays is what the model will see.
    QPainterPath outside;
    outside.addRect(picture);
    outside.addRect(crop);
    outside.setFillRule(Qt::OddEvenFill);
    p.fillPath(outside, QColor(0, 0, 0, 120));
    // Thirds, faint.
    p.setPen(QPen(QColor(255, 255, 255, 90), 1));
    for (int i = 1; i < 3; ++i) {
      p.drawLine(QPointF(crop.left() + crop.width() * i / 3, crop.top()),
                 QPointF(crop.left() + crop.width() * i / 3, crop.bottom()));
      p.drawLine(QPointF(crop.left(), crop.top() + crop.height() * i / 3),
                 QPointF(crop.right(), crop.top() + crop.height() * i / 3));
    }
    p.setPen(QPen(Qt::white, 2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(crop);
    p.setPen(QPen(accent.darker(130), 1));
    p.setBrush(Qt::white);
    for (const QPointF& c : {crop.topLeft(), crop.topRight(), crop.bottomRight(), crop.bottomLeft()}) {
      p.drawRect(QRectF(c - QPointF(kHandle / 2 + 1, kHandle / 2 + 1), QSizeF(kHandle + 2, kHandle + 2)));
    }
  }
  // Face boxes on top, dashed so that they read apart from the crop.
  QPen face(QColor(255, 200, 40), 2, Qt::DashLine);
  p.setPen(face);
  p.setBrush(Qt::NoBrush);
  for (const QRect& box : mMarkers) p.drawRect(QRectF(toWidget(box.topLeft()), QSizeF(box.size()) * scale()));
}

void CropEditor::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || mCrop.isEmpty() || mImage.isNull()) return;
  const QPointF pos = event->position();
  mCorner = cornerAt(pos);
  mDragStartCrop = mCrop;
  mDragStartPos = toPicture(pos);
  if (mCorner >= 0) {
    mDrag = Drag::Resize;
    const QPointF tl = mCrop.topLeft();
    const QPointF br(mCrop.x() + mCrop.width(), mCrop.y() + mCrop.height());
    const QPointF opposite[] = {br, {tl.x(), br.y()}, tl, {br.x(), tl.y()}};
    mAnchor = opposite[mCorner];
  } else if (QRectF(mCrop).contains(mDragStartPos)) {
    mDrag = Drag::Move;
  }
}

void CropEditor::mouseMoveEvent(QMouseEvent* event) {
  const QPointF pos = event->position();
  if (mDrag == Drag::None) {
    updateCursor(pos);
    return;
  }
  const QPointF at = toPicture(pos);
  if (mDrag == Drag::Move) {
    const QPointF delta = at - mDragStartPos;
    mCrop = clamped(mDragStartCrop.translated(qRound(delta.x()), qRound(delta.y())));
  } else {
    // The dragged corner lies on this side of the anchor; the side is the larger extent of the
    // pointer from the anchor, bounded by the room towards the picture's edges.
    const double sx = (mCorner == 1 || mCorner == 2) ? 1 : -1;
    const double sy = (mCorner == 2 || mCorner == 3) ? 1 : -1;
    const double roomX = sx > 0 ? mFullSize.width() - mAnchor.x() : mAnchor.x();
    const double roomY = sy > 0 ? mFullSize.height() - mAnchor.y() : mAnchor.y();
    const double wanted = std::max(sx * (at.x() - mAnchor.x()), sy * (at.y() - mAnchor.y()));
    const int room = static_cast<int>(std::floor(std::min(roomX, roomY)));
    const int side = std::clamp(static_cast<int>(std::lround(wanted)), std::min(mMinSide, room), room);
    const int x = sx > 0 ? static_cast<int>(mAnchor.x()) : static_cast<int>(mAnchor.x()) - side;
    const int y = sy > 0 ? static_cast<int>(mAnchor.y()) : static_cast<int>(mAnchor.y()) - side;
    mCrop = clamped(QRect(x, y, side, side));
  }
  update();
}

void CropEditor::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || mDrag == Drag::None) return;
  mDrag = Drag::None;
  updateCursor(event->position());
  if (mCrop != mDragStartCrop) Q_EMIT cropEdited(mDragStartCrop, mCrop);
}

// Arrows move the box by 1 % of the picture (Shift: 5 %); + and - resize it about its centre.
void CropEditor::keyPressEvent(QKeyEvent* event) {
  if (mCrop.isEmpty() || mDrag != Drag::None) {
    QWidget::keyPressEvent(event);
    return;
  }
  const int step = std::max(1, std::min(mFullSize.width(), mFullSize.height()) / ((event->modifiers() & Qt::ShiftModifier) ? 20 : 100));
  QRect next = mCrop;
  switch (event->key()) {
    case Qt::Key_Left: next.translate(-step, 0); break;
    case Qt::Key_Right: next.translate(step, 0); break;
    case Qt::Key_Up: next.translate(0, -step); break;
    case Qt::Key_Down: next.translate(0, step); break;
    case Qt::Key_Plus:
    case Qt::Key_Minus: {
      const int side = std::max(mMinSide, mCrop.width() + (event->key() == Qt::Key_Plus ? 2 * step : -2 * step));
      next = QRect(0, 0, side, side);
      next.moveCenter(mCrop.center());
      break;
    }
    default:
      QWidget::keyPressEvent(event);
      return;
  }
  next = clamped(next);
  if (next == mCrop) return;
  const QRect before = mCrop;
  mCrop = next;
  update();
  Q_EMIT cropEdited(before, mCrop);
}

}  // namespace kiln::widgets
