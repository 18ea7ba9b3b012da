#include "widgets/elided_label.h"

#include <QPainter>
#include <QStyle>

namespace kiln::widgets {

ElidedLabel::ElidedLabel(QWidget* parent) : ElidedLabel(Qt::ElideMiddle, parent) {}

ElidedLabel::ElidedLabel(Qt::TextElideMode mode, QWidget* parent) : QFrame(parent), mMode(mode) {
  setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
}

void ElidedLabel::setText(const QString& text) {
  if (text == mText) return;
  mText = text;
  setToolTip(text);
  updateGeometry();
  update();
}

void ElidedLabel::setElideMode(Qt::TextElideMode mode) {
  mMode = mode;
  update();
}

QSize ElidedLabel::sizeHint() const {
  const QMargins m = contentsMargins();
  return {fontMetrics().horizontalAdvance(mText) + m.left() + m.right(), fontMetrics().height() + m.top() + m.bottom()};
}

QSize ElidedLabel::minimumSizeHint() const {
  const QMargins m = contentsMargins();
  return {fontMetrics().horizontalAdvance(QStringLiteral("…")) * 4, fontMetrics().height() + m.top() + m.bottom()};
}

void ElidedLabel::paintEvent(QPaintEvent* event) {
  QFrame::paintEvent(event);
  QPainter painter(this);
  const QRect r = contentsRect();
  const QString shown = fontMetrics().elidedText(mText, mMode, r.width());
  style()->drawItemText(&painter, r, Qt::AlignLeft | Qt::AlignVCenter, palette(), isEnabled(), shown, foregroundRole());
}

}  // namespace kiln::widgets
