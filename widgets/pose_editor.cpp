#include "widgets/pose_editor.h"

#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QtMath>
#include <QUndoCommand>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::widgets {

namespace {

constexpr double kMinScale = 0.05;
constexpr double kMaxScale = 32.0;
constexpr double kMargin = 12;
constexpr int kUndoLimit = 200;
constexpr double kHitRadius = 10;  // screen pixels around a joint
constexpr double kStickWidth = 4;  // half the limb's width, image pixels (draw_bodypose's stickwidth)
constexpr double kJointRadius = 4;  // image pixels (draw_bodypose's circles)

// controlnet_aux open_pose/util.py draw_bodypose: limbSeq (made 0-based; its last two limbs,
// ear to shoulder, are never drawn) and colors, RGB.
constexpr std::array<std::pair<int, int>, PoseEditor::kLimbCount> kLimbs{{
    {1, 2}, {1, 5}, {2, 3}, {3, 4}, {5, 6}, {6, 7}, {1, 8}, {8, 9}, {9, 10},
    {1, 11}, {11, 12}, {12, 13}, {1, 0}, {0, 14}, {14, 16}, {0, 15}, {15, 17},
}};
constexpr std::array<QRgb, PoseEditor::kJointCount> kColors{
    0xff0000, 0xff5500, 0xffaa00, 0xffff00, 0xaaff00, 0x55ff00, 0x00ff00, 0x00ff55, 0x00ffaa,
    0x00ffff, 0x00aaff, 0x0055ff, 0x0000ff, 0x5500ff, 0xaa00ff, 0xff00ff, 0xff00aa, 0xff0055,
};

// A person standing and facing us, in units of their height, x from their middle, y from the
// top of the head: the shape of a default pose (arms slightly away from the body).
constexpr std::array<QPointF, PoseEditor::kJointCount> kStanding{{
    {0.0, 0.085},     // nose
    {0.0, 0.185},     // neck
    {-0.11, 0.19},    // right shoulder
    {-0.145, 0.335},  // right elbow
    {-0.165, 0.47},   // right wrist
    {0.11, 0.19},     // left shoulder
    {0.145, 0.335},   // left elbow
    {0.165, 0.47},    // left wrist
    {-0.065, 0.5},    // right hip
    {-0.07, 0.72},    // right knee
    {-0.075, 0.94},   // right ankle
    {0.065, 0.5},     // left hip
    {0.07, 0.72},     // left knee
    {0.075, 0.94},    // left ankle
    {-0.025, 0.065},  // right eye
    {0.025, 0.065},   // left eye
    {-0.05, 0.08},    // right ear
    {0.05, 0.08},     // left ear
}};
constexpr double kStandingTop = 0.065;     // the eyes
constexpr double kStandingBottom = 0.94;   // the ankles
constexpr double kStandingHalfWidth = 0.165;

PoseEditor::Person standing(double height, const QPointF& origin) {
  PoseEditor::Person person;
  for (int j = 0; j < PoseEditor::kJointCount; ++j) {
    person.body[j] = origin + kStanding[j] * height;
    person.visible[j] = true;
  }
  return person;
}

// The shown joints' bounds (all joints' when none is shown).
QRectF bounds(const PoseEditor::Person& person) {
  const bool any = std::any_of(person.visible.begin(), person.visible.end(), [](bool v) { return v; });
  double left = std::numeric_limits<double>::max(), top = left;
  double right = std::numeric_limits<double>::lowest(), bottom = right;
  for (int j = 0; j < PoseEditor::kJointCount; ++j) {
    if (any && !person.visible[j]) continue;
    left = std::min(left, person.body[j].x());
    right = std::max(right, person.body[j].x());
    top = std::min(top, person.body[j].y());
    bottom = std::max(bottom, person.body[j].y());
  }
  return {QPointF(left, top), QPointF(right, bottom)};
}

double distanceToSegment(const QPointF& p, const QPointF& a, const QPointF& b) {
  const QPointF ab = b - a;
  const double length2 = QPointF::dotProduct(ab, ab);
  const double t = length2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / length2, 0.0, 1.0) : 0.0;
  const QPointF d = p - (a + ab * t);
  return std::hypot(d.x(), d.y());
}

}  // namespace

// One edit: everyone before and after, and who was selected. Key nudges of one joint carry the
// same merge key and become one step.
class PoseCommand : public QUndoCommand {
 public:
  PoseCommand(PoseEditor* editor, QList<PoseEditor::Person> before, int selectedBefore,
              QList<PoseEditor::Person> after, int selectedAfter, const QString& text, int mergeKey)
      : QUndoCommand(text),
        mEditor(editor),
        mBefore(std::move(before)),
        mAfter(std::move(after)),
        mSelectedBefore(selectedBefore),
        mSelectedAfter(selectedAfter),
        mMergeKey(mergeKey) {}

  void undo() override {
    mEditor->restore(mBefore, mSelectedBefore);
    ++mEditor->mNudgeSerial;  // a nudge after an undo is a step of its own
  }
  void redo() override { mEditor->restore(mAfter, mSelectedAfter); }
  int id() const override { return mMergeKey >= 0 ? 1 : -1; }
  bool mergeWith(const QUndoCommand* other) override {
    const auto* next = static_cast<const PoseCommand*>(other);
    if (next->mMergeKey != mMergeKey) return false;
    mAfter = next->mAfter;
    mSelectedAfter = next->mSelectedAfter;
    return true;
  }

 private:
  PoseEditor* mEditor;
  QList<PoseEditor::Person> mBefore;
  QList<PoseEditor::Person> mAfter;
  int mSelectedBefore;
  int mSelectedAfter;
  int mMergeKey;
};

PoseEditor::PoseEditor(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  mUndo.setUndoLimit(kUndoLimit);
  setAccessibleName(tr("Pose editor"));
  setToolTip(
      tr("<p>Drag a joint to move it; drag a limb, or anything with Shift held, to move the whole person. "
         "Right-click for more.</p>"
         "<p>Keys: Page Up/Down select a person, [ and ] a joint, arrows move the joint "
         "(Ctrl: the person, Shift: faster), H hides or shows it, Insert adds a person, Ctrl+D duplicates, "
         "M mirrors, R resets the pose, Delete removes.</p>"));
}

PoseEditor::~PoseEditor() = default;

// Pose data -------------------------------------------------------------------------------------

std::pair<int, int> PoseEditor::limb(int index) { return kLimbs.at(static_cast<size_t>(index)); }

QColor PoseEditor::jointColor(int joint) { return QColor::fromRgb(kColors.at(static_cast<size_t>(joint))); }

// The map darkens the limbs to 60 % of their colour before drawing the joints over them.
QColor PoseEditor::limbColor(int index) {
  const QColor c = jointColor(index);
  return QColor(static_cast<int>(c.red() * 0.6), static_cast<int>(c.green() * 0.6), static_cast<int>(c.blue() * 0.6));
}

int PoseEditor::mirroredJoint(int joint) {
  static constexpr std::array<int, kJointCount> kMirror{0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16};
  return kMirror.at(static_cast<size_t>(joint));
}

QString PoseEditor::jointName(int joint) {
  switch (joint) {
    case Nose: return tr("Nose");
    case Neck: return tr("Neck");
    case RShoulder: return tr("Right Shoulder");
    case RElbow: return tr("Right Elbow");
    case RWrist: return tr("Right Wrist");
    case LShoulder: return tr("Left Shoulder");
    case LElbow: return tr("Left Elbow");
    case LWrist: return tr("Left Wrist");
    case RHip: return tr("Right Hip");
    case RKnee: return tr("Right Knee");
    case RAnkle: return tr("Right Ankle");
    case LHip: return tr("Left Hip");
    case LKnee: return tr("Left Knee");
    case LAnkle: return tr("Left Ankle");
    case REye: return tr("Right Eye");
    case LEye: return tr("Left Eye");
    case REar: return tr("Right Ear");
    case LEar: return tr("Left Ear");
    default: return {};
  }
}

PoseEditor::Person PoseEditor::defaultPerson(const QSize& canvas, double centerX) {
  if (canvas.isEmpty()) return {};
  const double height = std::min(0.85 * canvas.height(), 0.9 * canvas.width() / (2 * kStandingHalfWidth));
  const double margin = kStandingHalfWidth * height;
  if (centerX < 0) centerX = canvas.width() / 2.0;
  centerX = std::clamp(centerX, margin, canvas.width() - margin);
  const double top = (canvas.height() - (kStandingBottom + kStandingTop) * height) / 2.0;
  return standing(height, QPointF(centerX, top));
}

// Setup -----------------------------------------------------------------------------------------

void PoseEditor::setCanvasSize(const QSize& size, bool scalePeople) {
  if (size == mCanvasSize) return;
  if (scalePeople && !mCanvasSize.isEmpty() && !size.isEmpty() && !mPeople.isEmpty()) {
    const double sx = static_cast<double>(size.width()) / mCanvasSize.width();
    const double sy = static_cast<double>(size.height()) / mCanvasSize.height();
    QList<Person> after = mPeople;
    for (Person& person : after) {
      for (QPointF& point : person.body) point = QPointF(point.x() * sx, point.y() * sy);
    }
    mCanvasSize = size;
    commit(mPeople, mSelected, after, mSelected, tr("Scale Poses"));
  }
  mCanvasSize = size;
  if (mFitted)
    zoomToFit();
  else
    clampOffset();
  update();
}

void PoseEditor::setBackground(const QImage& image) {
  mBackground = image;
  if (mCanvasSize.isEmpty() && !image.isNull()) setCanvasSize(image.size());
  update();
}

void PoseEditor::setBackgroundOpacity(double opacity) {
  mBackgroundOpacity = std::clamp(opacity, 0.0, 1.0);
  update();
}

void PoseEditor::setPeople(const QList<Person>& people, bool resetHistory) {
  if (resetHistory) {
    mUndo.clear();
    restore(people, people.isEmpty() ? -1 : std::min(mSelected, static_cast<int>(people.size()) - 1));
    return;
  }
  if (people == mPeople) return;
  commit(mPeople, mSelected, people, validPerson(mSelected) && mSelected < people.size() ? mSelected : -1,
         tr("Set Poses"));
}

void PoseEditor::setSelectedPerson(int person) {
  if (!validPerson(person)) person = -1;
  if (person == mSelected) return;
  mSelected = person;
  if (person < 0) mSelectedJoint = -1;
  ++mNudgeSerial;
  update();
  Q_EMIT selectionChanged(person);
}

void PoseEditor::setSelectedJoint(int joint) {
  if (joint < 0 || joint >= kJointCount || mSelected < 0) joint = -1;
  if (joint == mSelectedJoint) return;
  mSelectedJoint = joint;
  ++mNudgeSerial;
  update();
}

void PoseEditor::setPlaceholderText(const QString& text) {
  mPlaceholder = text;
  update();
}

// Edits -----------------------------------------------------------------------------------------

void PoseEditor::commit(const QList<Person>& before, int selectedBefore, const QList<Person>& after,
                        int selectedAfter, const QString& text, int mergeId) {
  if (mergeId < 0) ++mNudgeSerial;
  mUndo.push(new PoseCommand(this, before, selectedBefore, after, selectedAfter, text, mergeId));
}

void PoseEditor::restore(const QList<Person>& people, int selected) {
  mPeople = people;
  if (!validPerson(selected)) selected = -1;
  const bool selectionChanges = selected != mSelected;
  mSelected = selected;
  if (selected < 0) mSelectedJoint = -1;
  update();
  Q_EMIT posesChanged();
  if (selectionChanges) Q_EMIT selectionChanged(selected);
}

QPointF PoseEditor::clampToCanvas(const QPointF& point) const {
  if (mCanvasSize.isEmpty()) return point;
  return {std::clamp(point.x(), 0.0, static_cast<double>(mCanvasSize.width())),
          std::clamp(point.y(), 0.0, static_cast<double>(mCanvasSize.height()))};
}

QPointF PoseEditor::limitedDelta(const Person& person, const QPointF& delta, const QSize& canvas) {
  if (canvas.isEmpty()) return delta;
  const QRectF box = bounds(person);
  const double dx = std::clamp(delta.x(), std::min(0.0, -box.left()), std::max(0.0, canvas.width() - box.right()));
  const double dy = std::clamp(delta.y(), std::min(0.0, -box.top()), std::max(0.0, canvas.height() - box.bottom()));
  return {dx, dy};
}

void PoseEditor::moveJoint(int person, int joint, const QPointF& position) {
  if (!validPerson(person) || joint < 0 || joint >= kJointCount) return;
  QList<Person> after = mPeople;
  after[person].body[joint] = clampToCanvas(position);
  if (after == mPeople) return;
  commit(mPeople, mSelected, after, person, tr("Move %1").arg(jointName(joint)));
}

void PoseEditor::setJointVisible(int person, int joint, bool visible) {
  if (!validPerson(person) || joint < 0 || joint >= kJointCount || mPeople[person].visible[joint] == visible) return;
  QList<Person> after = mPeople;
  Person& target = after[person];
  target.visible[joint] = visible;
  // A joint that never had a place (a detector's missing point) appears where a standing
  // person of this size would have it.
  if (visible && !mCanvasSize.isEmpty() && !QRectF(QPointF(0, 0), QSizeF(mCanvasSize)).contains(target.body[joint])) {
    Person fitted = mPeople[person];
    const QRectF box = bounds(fitted);
    const double height = std::max(box.height() / (kStandingBottom - kStandingTop), 0.2 * mCanvasSize.height());
    const QPointF neck = mPeople[person].visible[Neck] ? mPeople[person].body[Neck] : box.center();
    target.body[joint] = clampToCanvas(neck + (kStanding[joint] - kStanding[Neck]) * height);
  }
  commit(mPeople, mSelected, after, person,
         visible ? tr("Show %1").arg(jointName(joint)) : tr("Hide %1").arg(jointName(joint)));
}

void PoseEditor::movePerson(int person, const QPointF& delta) {
  if (!validPerson(person)) return;
  const QPointF d = limitedDelta(mPeople[person], delta, mCanvasSize);
  if (d.isNull()) return;
  QList<Person> after = mPeople;
  for (QPointF& point : after[person].body) point += d;
  commit(mPeople, mSelected, after, person, tr("Move Person"));
}

int PoseEditor::addPerson() {
  if (mCanvasSize.isEmpty()) return -1;
  // Beside the others: the first free place going out from the middle, by a person's width.
  const Person probe = defaultPerson(mCanvasSize);
  const double step = 2.6 * (probe.body[LWrist].x() - probe.body[Neck].x());
  const double middle = mCanvasSize.width() / 2.0;
  double centerX = middle;
  for (int k = 0; k < 12; ++k) {
    const double x = middle + ((k + 1) / 2) * step * (k % 2 ? 1 : -1);
    if (x < 0 || x > mCanvasSize.width()) continue;
    const bool free = std::none_of(mPeople.begin(), mPeople.end(), [&](const Person& other) {
      return std::abs(bounds(other).center().x() - x) < step / 2;
    });
    if (free) {
      centerX = x;
      break;
    }
  }
  QList<Person> after = mPeople;
  after.append(defaultPerson(mCanvasSize, centerX));
  const int index = static_cast<int>(after.size()) - 1;
  commit(mPeople, mSelected, after, index, tr("Add Person"));
  return index;
}

int PoseEditor::duplicatePerson(int person) {
  if (!validPerson(person)) return -1;
  Person copy = mPeople[person];
  const double offset = std::max(16.0, 0.08 * std::max(mCanvasSize.width(), 1));
  QPointF delta = limitedDelta(copy, QPointF(offset, 0), mCanvasSize);
  if (delta.x() < offset / 2) delta = limitedDelta(copy, QPointF(-offset, 0), mCanvasSize);
  for (QPointF& point : copy.body) point += delta;
  QList<Person> after = mPeople;
  after.append(copy);
  const int index = static_cast<int>(after.size()) - 1;
  commit(mPeople, mSelected, after, index, tr("Duplicate Person"));
  return index;
}

void PoseEditor::removePerson(int person) {
  if (!validPerson(person)) return;
  QList<Person> after = mPeople;
  after.removeAt(person);
  commit(mPeople, person, after, -1, tr("Remove Person"));
}

void PoseEditor::mirrorPerson(int person) {
  if (!validPerson(person)) return;
  const Person& before = mPeople[person];
  const double twiceMiddle = 2 * bounds(before).center().x();
  Person mirrored;
  for (int j = 0; j < kJointCount; ++j) {
    const int k = mirroredJoint(j);
    mirrored.body[k] = clampToCanvas(QPointF(twiceMiddle - before.body[j].x(), before.body[j].y()));
    mirrored.visible[k] = before.visible[j];
  }
  QList<Person> after = mPeople;
  after[person] = mirrored;
  if (after == mPeople) return;
  commit(mPeople, mSelected, after, person, tr("Mirror Person"));
}

// The standing pose with the person's height (from their shown joints, if they span enough of
// a body) and middle.
void PoseEditor::resetPerson(int person) {
  if (!validPerson(person) || mCanvasSize.isEmpty()) return;
  const QRectF box = bounds(mPeople[person]);
  Person fresh = defaultPerson(mCanvasSize);
  const double canvasHeight = fresh.body[LAnkle].y() - fresh.body[LEye].y();
  if (box.height() > 0.25 * canvasHeight) {
    const double height = box.height() / (kStandingBottom - kStandingTop);
    const QPointF origin(box.center().x(), box.center().y() - (kStandingTop + kStandingBottom) / 2 * height);
    fresh = standing(height, origin);
    for (QPointF& point : fresh.body) point = clampToCanvas(point);
  } else {
    fresh = defaultPerson(mCanvasSize, box.center().x());
  }
  QList<Person> after = mPeople;
  after[person] = fresh;
  if (after == mPeople) return;
  commit(mPeople, mSelected, after, person, tr("Reset Pose"));
}

// Arrow keys: the selected joint (or, with Ctrl or no joint, the person) by a pixel or ten;
// repeated presses on the same thing are one step.
void PoseEditor::nudge(const QPointF& delta, bool wholePerson) {
  if (!validPerson(mSelected)) return;
  QList<Person> after = mPeople;
  Person& target = after[mSelected];
  QString text;
  if (wholePerson || mSelectedJoint < 0) {
    const QPointF d = limitedDelta(target, delta, mCanvasSize);
    for (QPointF& point : target.body) point += d;
    text = tr("Move Person");
  } else {
    target.body[mSelectedJoint] = clampToCanvas(target.body[mSelectedJoint] + delta);
    text = tr("Move %1").arg(jointName(mSelectedJoint));
  }
  if (after == mPeople) return;
  commit(mPeople, mSelected, after, mSelected, text, mNudgeSerial * 2 + (wholePerson ? 1 : 0));
}

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
    for (const auto& [a, b] : kLimbs) {
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
    QColor glow = accent;
    glow.setAlpha(150);
    p.setPen(Qt::NoPen);
    p.setBrush(glow);
    for (int i = 0; i < kLimbCount; ++i) {
      const auto [a, b] = kLimbs[i];
      if (person.visible[a] && person.visible[b]) limbShape(a, b, 3.5);
    }
  }
  p.setPen(Qt::NoPen);
  for (int i = 0; i < kLimbCount; ++i) {
    const auto [a, b] = kLimbs[i];
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
  if ((mDrag == Drag::Joint || mDrag == Drag::Person) && !validPerson(mSelected)) mDrag = Drag::None;  // undone meanwhile
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
    QAction* toggle = menu->addAction(visible ? tr("Hide %1").arg(jointName(joint)) : tr("Show %1").arg(jointName(joint)));
    toggle->setShortcut(Qt::Key_H);
    connect(toggle, &QAction::triggered, this, [this, person, joint, visible] { setJointVisible(person, joint, !visible); });
  }
  if (person >= 0) {
    const Person& p = mPeople[person];
    QMenu* hidden = menu->addMenu(tr("Show Hidden Joint"));
    for (int j = 0; j < kJointCount; ++j) {
      if (p.visible[j]) continue;
      connect(hidden->addAction(jointName(j)), &QAction::triggered, this, [this, person, j] { setJointVisible(person, j, true); });
    }
    hidden->setEnabled(!hidden->isEmpty());
    menu->addSeparator();
    QAction* duplicate = menu->addAction(tr("Duplicate Person"), this, [this, person] { duplicatePerson(person); });
    duplicate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    menu->addAction(tr("Mirror Person"), this, [this, person] { mirrorPerson(person); })->setShortcut(Qt::Key_M);
    menu->addAction(tr("Reset Pose"), this, [this, person] { resetPerson(person); })->setShortcut(Qt::Key_R);
    menu->addAction(tr("Remove Person"), this, [this, person] { removePerson(person); })->setShortcut(QKeySequence::Delete);
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
    case Qt::Key_Left: nudge({-step, 0}, ctrl); return;
    case Qt::Key_Right: nudge({step, 0}, ctrl); return;
    case Qt::Key_Up: nudge({0, -step}, ctrl); return;
    case Qt::Key_Down: nudge({0, step}, ctrl); return;
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
    case Qt::Key_M: mirrorPerson(mSelected); return;
    case Qt::Key_R: resetPerson(mSelected); return;
    case Qt::Key_Delete:
    case Qt::Key_Backspace: removePerson(mSelected); return;
    case Qt::Key_Escape:
      if (mSelected >= 0) {
        setSelectedPerson(-1);
        return;
      }
      break;
    case Qt::Key_0: zoomToFit(); return;
    default: break;
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
