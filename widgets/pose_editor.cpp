#include "widgets/pose_editor.h"

#include <QUndoCommand>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::widgets {

namespace {

constexpr int kUndoLimit = 200;

// controlnet_aux open_pose/util.py draw_bodypose: limbSeq (made 0-based; its last two limbs,
// ear to shoulder, are never drawn) and colors, RGB.
// clang-format off
constexpr std::array<std::pair<int, int>, PoseEditor::kLimbCount> kLimbs{{
    {1, 2}, {1, 5}, {2, 3}, {3, 4}, {5, 6}, {6, 7}, {1, 8}, {8, 9}, {9, 10},
    {1, 11}, {11, 12}, {12, 13}, {1, 0}, {0, 14}, {14, 16}, {0, 15}, {15, 17},
}};
constexpr std::array<QRgb, PoseEditor::kJointCount> kColors{
    0xff0000, 0xff5500, 0xffaa00, 0xffff00, 0xaaff00, 0x55ff00, 0x00ff00, 0x00ff55, 0x00ffaa,
    0x00ffff, 0x00aaff, 0x0055ff, 0x0000ff, 0x5500ff, 0xaa00ff, 0xff00ff, 0xff00aa, 0xff0055,
};
// clang-format on

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
constexpr double kStandingTop = 0.065;    // the eyes
constexpr double kStandingBottom = 0.94;  // the ankles
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

}  // namespace

// One edit: everyone before and after, and who was selected. Key nudges of one joint carry the
// same merge key and become one step.
class PoseCommand : public QUndoCommand {
 public:
  PoseCommand(PoseEditor* editor, QList<PoseEditor::Person> before, int selectedBefore, QList<PoseEditor::Person> after,
              int selectedAfter, const QString& text, int mergeKey)
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
  static constexpr std::array<const char*, kJointCount> kNames{
      QT_TR_NOOP("Nose"),        QT_TR_NOOP("Neck"),          QT_TR_NOOP("Right Shoulder"), QT_TR_NOOP("Right Elbow"),
      QT_TR_NOOP("Right Wrist"), QT_TR_NOOP("Left Shoulder"), QT_TR_NOOP("Left Elbow"),     QT_TR_NOOP("Left Wrist"),
      QT_TR_NOOP("Right Hip"),   QT_TR_NOOP("Right Knee"),    QT_TR_NOOP("Right Ankle"),    QT_TR_NOOP("Left Hip"),
      QT_TR_NOOP("Left Knee"),   QT_TR_NOOP("Left Ankle"),    QT_TR_NOOP("Right Eye"),      QT_TR_NOOP("Left Eye"),
      QT_TR_NOOP("Right Ear"),   QT_TR_NOOP("Left Ear"),
  };
  return joint >= 0 && joint < kJointCount ? tr(kNames[static_cast<size_t>(joint)]) : QString();
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

void PoseEditor::commit(const QList<Person>& before, int selectedBefore, const QList<Person>& after, int selectedAfter,
                        const QString& text, int mergeId) {
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

}  // namespace kiln::widgets
