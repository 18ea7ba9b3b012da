// PoseEditor's view: zoom and pan, hit testing, painting, and the mouse, keys and menu that
// turn into the edits of pose_editor.cpp.
#include "widgets/pose_editor.h"

#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <QtMath>

#include <algorithm>
#include <cmath>

namespace kiln::widgets {

namespace {

constexpr double kMinScale = 0.05;
constexpr double kMaxScale = 32.0;
constexpr double kMargin = 12;
constexpr double kHitRadius = 10;   // screen pixels around a joint
constexpr double kStickWidth = 4;   // half the limb's width, image pixels (draw_bodypose's stickwidth)
constexpr double kJointRadius = 4;  // image pixels (draw_bodypose's circles)

double distanceToSegment(const QPointF& p, const QPointF& a, const QPointF& b) {
  const QPointF ab = b - a;
  const double length2 = QPointF::dotProduct(ab, ab);
  const double t = length2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / length2, 0.0, 1.0) : 0.0;
  const QPointF d = p - (a + ab * t);
  return std::hypot(d.x(), d.y());
}

}  // namespace

// View ------------------------------------------------------------------------------------------

QRectF PoseEditor::canvasRectInView() const {
  return {mOffset, QSizeF(mCanvasSize.width() * mScale, mCanvasSize.height() * mScale)};
}

QPointF PoseEditor::mapToImage(const QPointF& viewPoint) const { return (viewPoint - mOffset) / mScale; }
QPointF PoseEditor::mapFromImage(const QPointF& imagePoint) const { return imagePoint * mScale + mOffset; }

void PoseEditor::setZoom(double scale) { zoomAround(scale, QPointF(width() / 2.0, height() / 2.0)); }

void PoseEditor::zoomToFit() {
  mFitted = true;
  if (mCanvasSize.isEmpty()) return;
  const double sx = (width() - 2 * kMargin) / mCanvasSize.width();
  const double sy = (height() - 2 * kMargin) / mCanvasSize.height();
  mScale = std::clamp(std::min(sx, sy), kMinScale, kMaxScale);
  mOffset = QPointF((width() - mCanvasSize.width() * mScale) / 2.0, (height() - mCanvasSize.height() * mScale) / 2.0);
  update();
  Q_EMIT zoomChanged(mScale);
}

void PoseEditor::zoomAround(double scale, const QPointF& viewPoint) {
  if (mCanvasSize.isEmpty()) return;
  scale = std::clamp(scale, kMinScale, kMaxScale);
  const QPointF anchor = mapToImage(viewPoint);
  mScale = scale;
  mOffset = viewPoint - anchor * mScale;
  mFitted = false;
  clampOffset();
  update();
  Q_EMIT zoomChanged(mScale);
}

// Keeps at least a quarter of the canvas in view.
void PoseEditor::clampOffset() {
  const double w = mCanvasSize.width() * mScale;
  const double h = mCanvasSize.height() * mScale;
  const double keepX = std::min(w, width() / 4.0);
  const double keepY = std::min(h, height() / 4.0);
  mOffset.setX(std::clamp(mOffset.x(), keepX - w, width() - keepX));
  mOffset.setY(std::clamp(mOffset.y(), keepY - h, height() - keepY));
}

// The nearest joint within the hit radius wins, the selected person's first (their hidden
// joints too, drawn as ghosts); then the nearest limb.
PoseEditor::Hit PoseEditor::hitTest(const QPointF& viewPoint) const {
  Hit best;
  double bestDistance = kHitRadius + 0.5;
  for (int i = personCount() - 1; i >= 0; --i) {
    const Person& person = mPeople[i];
    for (int j = 0; j < kJointCount; ++j) {
      if (!person.visible[j] && i != mSelected) continue;
      const QPointF d = mapFromImage(person.body[j]) - viewPoint;
      const double distance = std::hypot(d.x(), d.y()) - (i == mSelected ? 1.0 : 0.0);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = {i, j};
      }
    }
  }
  if (best.person >= 0) return best;
  const double limbReach = std::max(6.0, kStickWidth * mScale + 2);
  bestDistance = limbReach;
  for (int i = personCount() - 1; i >= 0; --i) {
    const Person& person = mPeople[i];
    for (int k = 0; k < kLimbCount; ++k) {
      const auto [a, b] = limb(k);
      if (!person.visible[a] || !person.visible[b]) continue;
      const double distance = distanceToSegment(viewPoint, mapFromImage(person.body[a]), mapFromImage(person.body[b]));
      if (distance < bestDistance) {
        bestDistance = distance;
        best = {i, -1};
      }
    }
  }
  return best;
}

// Painting --------------------------------------------------------------------------------------

void PoseEditor::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QPalette& pal = palette();
  const QColor base = pal.color(QPalette::Base);
  p.fillRect(rect(), base.darker(base.lightness() < 128 ? 120 : 104));
  if (mCanvasSize.isEmpty()) {
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(24, 24, -24, -24), Qt::AlignCenter | Qt::TextWordWrap, mPlaceholder);
    return;
  }
  const QRectF target = canvasRectInView();
  p.fillRect(target, Qt::black);
  if (!mBackground.isNull()) {
    p.setRenderHint(QPainter::SmoothPixmapTransform, mScale * mCanvasSize.width() / mBackground.width() < 2.0);
    p.setOpacity(mBackgroundOpacity);
    p.drawImage(target, mBackground);
    p.setOpacity(1.0);
  }
  p.setPen(QPen(pal.color(QPalette::Mid), 1));
  p.setBrush(Qt::NoBrush);
  p.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5));

  p.setRenderHint(QPainter::Antialiasing);
  p.setClipRect(target.adjusted(-kHitRadius, -kHitRadius, kHitRadius, kHitRadius));
  // As the map: every limb of everyone, then the joints; the selected person last, on top.
  QList<int> order;
  for (int i = 0; i < personCount(); ++i) {
    if (i != mSelected) order.append(i);
  }
  if (mSelected >= 0) order.append(mSelected);
  for (int i : order) paintPerson(p, i);

  if (hasFocus()) {
    p.setClipping(false);
    p.setRenderHint(QPainter::Antialiasing, false);
    p.setPen(QPen(pal.color(QPalette::Highlight), 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));
  }
}

void PoseEditor::paintPerson(QPainter& p, int index) const {
  const Person& person = mPeople[index];
  const bool selected = index == mSelected;
  const QColor accent = palette().color(QPalette::Highlight);
  const double halfWidth = std::max(2.0, kStickWidth * mScale);
  const double radius = std::max(3.5, kJointRadius * mScale);

  auto limbShape = [&](int a, int b, double extra) {
    const QPointF from = mapFromImage(person.body[a]);
    const QPointF to = mapFromImage(person.body[b]);
    const QPointF d = to - from;
    const double length = std::hypot(d.x(), d.y());
    p.save();
    p.translate((from + to) / 2);
    p.rotate(qRadiansToDegrees(std::atan2(d.y(), d.x())));
    p.drawEllipse(QRectF(-length / 2 - extra, -halfWidth - extra, length + 2 * extra, 2 * halfWidth + 2 * extra));
    p.restore();
  };

  if (selected) {
    // A glow in the accent colour around the selected person's limbs.
    QColor glow = accent.lighter(125);
    glow.setAlpha(170);
    p.setPen(Qt::NoPen);
    p.setBrush(glow);
    for (int i = 0; i < kLimbCount; ++i) {
      const auto [a, b] = limb(i);
      if (person.visible[a] && person.visible[b]) limbShape(a, b, 4.5);
    }
  }
  p.setPen(Qt::NoPen);
  for (int i = 0; i < kLimbCount; ++i) {
    const auto [a, b] = limb(i);
    if (!person.visible[a] || !person.visible[b]) continue;
    p.setBrush(limbColor(i));
    limbShape(a, b, 0);
  }
  for (int j = 0; j < kJointCount; ++j) {
    const QPointF at = mapFromImage(person.body[j]);
    if (!person.visible[j]) {
      if (!selected) continue;
      // Hidden joints of the selected person stay findable: a dashed ghost.
      p.setPen(QPen(QColor(220, 220, 220, 200), 1.2, Qt::DashLine));
      p.setBrush(Qt::NoBrush);
      p.drawEllipse(at, radius + 1, radius + 1);
      continue;
    }
    p.setPen(selected ? QPen(Qt::white, 1.2) : Qt::NoPen);
    p.setBrush(jointColor(j));
    p.drawEllipse(at, radius, radius);
  }
  const bool hovered = mHover.person == index && mHover.joint >= 0 && mDrag == Drag::None;
  if (selected && mSelectedJoint >= 0) {
    const QPointF at = mapFromImage(person.body[mSelectedJoint]);
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(0, 0, 0, 170), 4));
    p.drawEllipse(at, radius + 4, radius + 4);
    p.setPen(QPen(accent.lighter(130), 2));
    p.drawEllipse(at, radius + 4, radius + 4);
  }
  if (hovered && !(selected && mHover.joint == mSelectedJoint)) {
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(255, 255, 255, 200), 1.5));
    p.drawEllipse(mapFromImage(person.body[mHover.joint]), radius + 3, radius + 3);
  }
}

// Events ----------------------------------------------------------------------------------------

bool PoseEditor::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const Hit hit = hitTest(help->pos());
    if (hit.person >= 0) {
      QString text = tr("Person %1").arg(hit.person + 1);
      if (hit.joint >= 0) {
        text = tr("%1 of person %2").arg(jointName(hit.joint)).arg(hit.person + 1);
        if (!mPeople[hit.person].visible[hit.joint]) text += QLatin1Char(' ') + tr("(hidden)");
      }
      QToolTip::showText(help->globalPos(), text, this);
      return true;
    }
  }
  return QWidget::event(event);
}

void PoseEditor::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  if (mFitted)
    zoomToFit();
  else
    clampOffset();
}

void PoseEditor::wheelEvent(QWheelEvent* event) {
  if (mCanvasSize.isEmpty()) return;
  zoomAround(mScale * std::pow(1.2, event->angleDelta().y() / 120.0), event->position());
  event->accept();
}

void PoseEditor::mousePressEvent(QMouseEvent* event) {
  if (mCanvasSize.isEmpty() || mDrag != Drag::None) return;
  const QPointF pos = event->position();
  if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && mSpaceHeld)) {
    mDrag = Drag::Pan;
    mDragFrom = pos;
    updateCursor(pos);
    return;
  }
  if (event->button() != Qt::LeftButton) return;
  const Hit hit = hitTest(pos);
  setSelectedPerson(hit.person);
  if (hit.person < 0) return;
  if (hit.joint >= 0) setSelectedJoint(hit.joint);
  mDragBefore = mPeople;
  mDragSelectedBefore = hit.person;
  mDragFrom = mapToImage(pos);
  mDragMoved = false;
  if (hit.joint >= 0 && !(event->modifiers() & Qt::ShiftModifier)) {
    mDrag = Drag::Joint;
    mDragJoint = hit.joint;
    mDragJointStart = mPeople[hit.person].body[hit.joint];
  } else {
    mDrag = Drag::Person;
  }
  updateCursor(pos);
}

void PoseEditor::mouseMoveEvent(QMouseEvent* event) {
  const QPointF pos = event->position();
  if ((mDrag == Drag::Joint || mDrag == Drag::Person) && !validPerson(mSelected))
    mDrag = Drag::None;  // undone meanwhile
  switch (mDrag) {
    case Drag::None: {
      const Hit hover = hitTest(pos);
      if (hover.person != mHover.person || hover.joint != mHover.joint) {
        mHover = hover;
        update();
      }
      updateCursor(pos);
      return;
    }
    case Drag::Pan:
      mOffset += pos - mDragFrom;
      mDragFrom = pos;
      mFitted = false;
      clampOffset();
      update();
      return;
    case Drag::Joint: {
      Person& person = mPeople[mSelected];
      person.body[mDragJoint] = clampToCanvas(mDragJointStart + (mapToImage(pos) - mDragFrom));
      person.visible[mDragJoint] = true;  // a ghost dragged into place shows itself
      break;
    }
    case Drag::Person: {
      const Person& start = mDragBefore[mSelected];
      const QPointF d = limitedDelta(start, mapToImage(pos) - mDragFrom, mCanvasSize);
      Person& person = mPeople[mSelected];
      for (int j = 0; j < kJointCount; ++j) person.body[j] = start.body[j] + d;
      break;
    }
  }
  mDragMoved = true;
  update();
  Q_EMIT posesChanged();
}

void PoseEditor::mouseReleaseEvent(QMouseEvent* event) {
  if (mDrag == Drag::Pan && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
    mDrag = Drag::None;
    updateCursor(event->position());
    return;
  }
  if (event->button() != Qt::LeftButton || mDrag == Drag::None) return;
  const Drag drag = mDrag;
  mDrag = Drag::None;
  if (mDragMoved && mPeople != mDragBefore) {
    const QString text = drag == Drag::Joint ? tr("Move %1").arg(jointName(mDragJoint)) : tr("Move Person");
    commit(mDragBefore, mDragSelectedBefore, mPeople, mSelected, text);
  }
  mDragBefore.clear();
  updateCursor(event->position());
}

void PoseEditor::fillMenu(QMenu* menu, const Hit& hit) {
  const int person = hit.person;
  if (person >= 0 && hit.joint >= 0) {
    const int joint = hit.joint;
    const bool visible = mPeople[person].visible[joint];
    QAction* toggle =
        menu->addAction(visible ? tr("Hide %1").arg(jointName(joint)) : tr("Show %1").arg(jointName(joint)));
    toggle->setShortcut(Qt::Key_H);
    connect(toggle, &QAction::triggered, this,
            [this, person, joint, visible] { setJointVisible(person, joint, !visible); });
  }
  if (person >= 0) {
    const Person& p = mPeople[person];
    QMenu* hidden = menu->addMenu(tr("Show Hidden Joint"));
    for (int j = 0; j < kJointCount; ++j) {
      if (p.visible[j]) continue;
      connect(hidden->addAction(jointName(j)), &QAction::triggered, this,
              [this, person, j] { setJointVisible(person, j, true); });
    }
    hidden->setEnabled(!hidden->isEmpty());
    menu->addSeparator();
    QAction* duplicate = menu->addAction(tr("Duplicate Person"), this, [this, person] { duplicatePerson(person); });
    duplicate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    menu->addAction(tr("Mirror Person"), this, [this, person] { mirrorPerson(person); })->setShortcut(Qt::Key_M);
    menu->addAction(tr("Reset Pose"), this, [this, person] { resetPerson(person); })->setShortcut(Qt::Key_R);
    menu->addAction(tr("Remove Person"), this, [this, person] { removePerson(person); })
        ->setShortcut(QKeySequence::Delete);
    menu->addSeparator();
  }
  QAction* add = menu->addAction(tr("Add Person"), this, [this] { addPerson(); });
  add->setShortcut(Qt::Key_Insert);
  add->setEnabled(!mCanvasSize.isEmpty());
  menu->addAction(tr("Fit to View"), this, &PoseEditor::zoomToFit)->setShortcut(Qt::Key_0);
}

void PoseEditor::contextMenuEvent(QContextMenuEvent* event) {
  if (mDrag != Drag::None) return;
  Hit hit;
  QPoint at = event->pos();
  if (event->reason() == QContextMenuEvent::Mouse) {
    hit = hitTest(event->pos());
    setSelectedPerson(hit.person);
    if (hit.joint >= 0) setSelectedJoint(hit.joint);
  } else if (validPerson(mSelected)) {
    hit = {mSelected, mSelectedJoint};
    if (mSelectedJoint >= 0) at = mapFromImage(mPeople[mSelected].body[mSelectedJoint]).toPoint();
  }
  QMenu menu(this);
  fillMenu(&menu, hit);
  menu.exec(mapToGlobal(at));
}

void PoseEditor::keyPressEvent(QKeyEvent* event) {
  const bool shift = event->modifiers() & Qt::ShiftModifier;
  const bool ctrl = event->modifiers() & Qt::ControlModifier;
  if (event->matches(QKeySequence::Undo)) {
    mUndo.undo();
    return;
  }
  if (event->matches(QKeySequence::Redo)) {
    mUndo.redo();
    return;
  }
  const double step = shift ? 10 : 1;
  switch (event->key()) {
    case Qt::Key_Space:
      if (!event->isAutoRepeat()) mSpaceHeld = true;
      updateCursor(mapFromGlobal(QCursor::pos()));
      return;
    case Qt::Key_PageDown:
    case Qt::Key_PageUp: {
      if (mPeople.isEmpty()) break;
      const int n = personCount();
      const int next = mSelected < 0 ? (event->key() == Qt::Key_PageDown ? 0 : n - 1)
                                     : (mSelected + (event->key() == Qt::Key_PageDown ? 1 : n - 1)) % n;
      const int joint = mSelectedJoint;
      setSelectedPerson(next);
      setSelectedJoint(joint);
      return;
    }
    case Qt::Key_BracketRight:
    case Qt::Key_BracketLeft: {
      if (mPeople.isEmpty()) break;
      if (mSelected < 0) setSelectedPerson(0);
      const bool forward = event->key() == Qt::Key_BracketRight;
      setSelectedJoint(mSelectedJoint < 0 ? (forward ? 0 : kJointCount - 1)
                                          : (mSelectedJoint + (forward ? 1 : kJointCount - 1)) % kJointCount);
      return;
    }
    case Qt::Key_Left:
      nudge({-step, 0}, ctrl);
      return;
    case Qt::Key_Right:
      nudge({step, 0}, ctrl);
      return;
    case Qt::Key_Up:
      nudge({0, -step}, ctrl);
      return;
    case Qt::Key_Down:
      nudge({0, step}, ctrl);
      return;
    case Qt::Key_H:
      if (validPerson(mSelected) && mSelectedJoint >= 0)
        setJointVisible(mSelected, mSelectedJoint, !mPeople[mSelected].visible[mSelectedJoint]);
      return;
    case Qt::Key_Insert:
    case Qt::Key_A:
      if (!ctrl) {
        addPerson();
        return;
      }
      break;
    case Qt::Key_D:
      if (ctrl) {
        duplicatePerson(mSelected);
        return;
      }
      break;
    case Qt::Key_M:
      mirrorPerson(mSelected);
      return;
    case Qt::Key_R:
      resetPerson(mSelected);
      return;
    case Qt::Key_Delete:
    case Qt::Key_Backspace:
      removePerson(mSelected);
      return;
    case Qt::Key_Escape:
      if (mSelected >= 0) {
        setSelectedPerson(-1);
        return;
      }
      break;
    case Qt::Key_0:
      zoomToFit();
      return;
    default:
      break;
  }
  QWidget::keyPressEvent(event);
}

void PoseEditor::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    mSpaceHeld = false;
    updateCursor(mapFromGlobal(QCursor::pos()));
    return;
  }
  QWidget::keyReleaseEvent(event);
}

void PoseEditor::focusInEvent(QFocusEvent* event) {
  update();
  QWidget::focusInEvent(event);
}

void PoseEditor::focusOutEvent(QFocusEvent* event) {
  mSpaceHeld = false;
  update();
  QWidget::focusOutEvent(event);
}

void PoseEditor::updateCursor(const QPointF& viewPoint) {
  if (mDrag == Drag::Pan) {
    setCursor(Qt::ClosedHandCursor);
  } else if (mSpaceHeld) {
    setCursor(Qt::OpenHandCursor);
  } else if (mDrag == Drag::Joint || mDrag == Drag::Person) {
    setCursor(Qt::ClosedHandCursor);
  } else {
    const Hit hit = hitTest(viewPoint);
    if (hit.joint >= 0)
      setCursor(Qt::PointingHandCursor);
    else if (hit.person >= 0)
      setCursor(Qt::SizeAllCursor);
    else
      unsetCursor();
  }
}

}  // namespace kiln::widgets
