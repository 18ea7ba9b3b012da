// PoseEditor driven as a user would, with the mouse and keys: drag a joint (one undo step per
// drag), drag a person, select by a limb, hide and show joints, add, duplicate, mirror, reset
// and remove people, key nudges merged into one step; and the skeleton drawn in OpenPose's
// colours.
#include <QContextMenuEvent>
#include <QMenu>
#include <QSignalSpy>
#include <QTimer>
#include <QtTest>

#include "widgets/pose_editor.h"

using kiln::widgets::PoseEditor;
using Person = PoseEditor::Person;

namespace {

double distance(const QPointF& a, const QPointF& b) { return std::hypot(a.x() - b.x(), a.y() - b.y()); }

bool inside(const Person& person, const QSize& canvas) {
  for (const QPointF& p : person.body) {
    if (p.x() < 0 || p.y() < 0 || p.x() > canvas.width() || p.y() > canvas.height()) return false;
  }
  return true;
}

}  // namespace

class TestPoseEditor : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
  void cleanup();
  void poseData();
  void addPersonAndUndo();
  void dragAJointWithTheMouse();
  void dragAPersonByALimbOrWithShift();
  void clickSelectsAndHitsWithinScreenPixels();
  void hideAndShowAJoint();
  void duplicateMirrorRemoveAndUndo();
  void resetPose();
  void keysNudgeInOneStep();
  void setPeopleAndScaleTheCanvas();
  void contextMenuOffersTheEdits();
  void drawsTheMapColours();

 private:
  QPoint onScreen(int person, int joint) const {
    return mEditor->mapFromImage(mEditor->people().at(person).body[joint]).toPoint();
  }
  std::unique_ptr<PoseEditor> mEditor;
};

void TestPoseEditor::init() {
  mEditor = std::make_unique<PoseEditor>();
  mEditor->resize(640, 560);
  mEditor->setCanvasSize(QSize(512, 512));
  mEditor->show();
  QVERIFY(QTest::qWaitForWindowExposed(mEditor.get()));
}

void TestPoseEditor::cleanup() { mEditor.reset(); }

void TestPoseEditor::poseData() {
  for (int j = 0; j < PoseEditor::kJointCount; ++j) {
    QCOMPARE(PoseEditor::mirroredJoint(PoseEditor::mirroredJoint(j)), j);
    QVERIFY(!PoseEditor::jointName(j).isEmpty());
  }
  QCOMPARE(PoseEditor::mirroredJoint(PoseEditor::RShoulder), int(PoseEditor::LShoulder));
  QCOMPARE(PoseEditor::mirroredJoint(PoseEditor::REar), int(PoseEditor::LEar));
  QCOMPARE(PoseEditor::mirroredJoint(PoseEditor::Nose), int(PoseEditor::Nose));
  // draw_bodypose: limb 0 joins neck and right shoulder in red, at 60 %.
  QCOMPARE(PoseEditor::limb(0), std::make_pair(1, 2));
  QCOMPARE(PoseEditor::limb(16), std::make_pair(15, 17));
  QCOMPARE(PoseEditor::limbColor(0), QColor(153, 0, 0));
  QCOMPARE(PoseEditor::jointColor(12), QColor(0, 0, 255));
  QCOMPARE(PoseEditor::jointColor(17), QColor(255, 0, 85));

  const Person standing = PoseEditor::defaultPerson(QSize(512, 768));
  QVERIFY(inside(standing, QSize(512, 768)));
  for (bool v : standing.visible) QVERIFY(v);
  QCOMPARE(standing.body[PoseEditor::Nose].x(), 256.0);
  // Facing us: the right shoulder is on the picture's left.
  QVERIFY(standing.body[PoseEditor::RShoulder].x() < standing.body[PoseEditor::LShoulder].x());
  QVERIFY(standing.body[PoseEditor::Nose].y() < standing.body[PoseEditor::Neck].y());
  QVERIFY(standing.body[PoseEditor::RAnkle].y() > 0.8 * 768);
  // A wide, low canvas: the person fits its height.
  QVERIFY(inside(PoseEditor::defaultPerson(QSize(1024, 256)), QSize(1024, 256)));
  QVERIFY(inside(PoseEditor::defaultPerson(QSize(128, 512)), QSize(128, 512)));
}

void TestPoseEditor::addPersonAndUndo() {
  QSignalSpy changes(mEditor.get(), &PoseEditor::posesChanged);
  QCOMPARE(mEditor->addPerson(), 0);
  QCOMPARE(mEditor->personCount(), 1);
  QCOMPARE(mEditor->selectedPerson(), 0);
  QCOMPARE(mEditor->people().at(0), PoseEditor::defaultPerson(QSize(512, 512)));
  QCOMPARE(changes.count(), 1);
  // The second stands beside the first.
  QCOMPARE(mEditor->addPerson(), 1);
  const auto people = mEditor->people();
  QVERIFY(std::abs(people[0].body[PoseEditor::Neck].x() - people[1].body[PoseEditor::Neck].x()) > 60);
  QVERIFY(inside(people[1], QSize(512, 512)));
  QCOMPARE(mEditor->undoStack()->count(), 2);
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->personCount(), 1);
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->personCount(), 0);
  QCOMPARE(mEditor->selectedPerson(), -1);
  mEditor->undoStack()->redo();
  QCOMPARE(mEditor->personCount(), 1);
  // Without a canvas there is nowhere to stand.
  PoseEditor empty;
  QCOMPARE(empty.addPerson(), -1);
}

void TestPoseEditor::dragAJointWithTheMouse() {
  mEditor->addPerson();
  mEditor->setSelectedPerson(-1);
  const Person before = mEditor->people().at(0);
  QSignalSpy changes(mEditor.get(), &PoseEditor::posesChanged);
  const QPoint from = onScreen(0, PoseEditor::RWrist);
  const QPoint to = from + QPoint(-40, 30);
  QTest::mousePress(mEditor.get(), Qt::LeftButton, Qt::NoModifier, from);
  QCOMPARE(mEditor->selectedPerson(), 0);
  QCOMPARE(mEditor->selectedJoint(), int(PoseEditor::RWrist));
  for (int i = 1; i <= 5; ++i) QTest::mouseMove(mEditor.get(), from + (to - from) * i / 5);
  QTest::mouseRelease(mEditor.get(), Qt::LeftButton, Qt::NoModifier, to);
  QVERIFY(changes.count() >= 5);  // live, during the drag
  const Person after = mEditor->people().at(0);
  const QPointF expected = before.body[PoseEditor::RWrist] + QPointF(-40, 30) / mEditor->zoom();
  QVERIFY2(distance(after.body[PoseEditor::RWrist], expected) < 1.5, "the wrist follows the mouse");
  for (int j = 0; j < PoseEditor::kJointCount; ++j) {
    if (j != PoseEditor::RWrist) QCOMPARE(after.body[j], before.body[j]);
  }
  QCOMPARE(mEditor->undoStack()->count(), 2);  // add, one drag
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->people().at(0), before);
  mEditor->undoStack()->redo();
  QCOMPARE(mEditor->people().at(0), after);

  // A click without a move is no edit; a drag past the edge stops at the canvas.
  QTest::mouseClick(mEditor.get(), Qt::LeftButton, Qt::NoModifier, onScreen(0, PoseEditor::Nose));
  QCOMPARE(mEditor->undoStack()->count(), 2);
  const QPoint nose = onScreen(0, PoseEditor::Nose);
  QTest::mousePress(mEditor.get(), Qt::LeftButton, Qt::NoModifier, nose);
  QTest::mouseMove(mEditor.get(), QPoint(nose.x(), 1));
  QTest::mouseRelease(mEditor.get(), Qt::LeftButton, Qt::NoModifier, QPoint(nose.x(), 1));
  QCOMPARE(mEditor->people().at(0).body[PoseEditor::Nose].y(), 0.0);
}

void TestPoseEditor::dragAPersonByALimbOrWithShift() {
  mEditor->addPerson();
  const Person before = mEditor->people().at(0);
  // With Shift, a joint drags everyone's joints of that person.
  const QPoint from = onScreen(0, PoseEditor::LKnee);
  QTest::mousePress(mEditor.get(), Qt::LeftButton, Qt::ShiftModifier, from);
  QTest::mouseMove(mEditor.get(), from + QPoint(20, -10));
  QTest::mouseRelease(mEditor.get(), Qt::LeftButton, Qt::ShiftModifier, from + QPoint(20, -10));
  const QPointF delta = QPointF(20, -10) / mEditor->zoom();
  Person after = mEditor->people().at(0);
  for (int j = 0; j < PoseEditor::kJointCount; ++j) QVERIFY(distance(after.body[j], before.body[j] + delta) < 1e-6);
  QCOMPARE(mEditor->undoStack()->count(), 2);

  // The middle of a limb (the thigh) drags the person too.
  const QPoint hip = onScreen(0, PoseEditor::RHip);
  const QPoint knee = onScreen(0, PoseEditor::RKnee);
  const QPoint thigh = (hip + knee) / 2;
  QCOMPARE(mEditor->hitTest(thigh).person, 0);
  QCOMPARE(mEditor->hitTest(thigh).joint, -1);
  QTest::mousePress(mEditor.get(), Qt::LeftButton, Qt::NoModifier, thigh);
  QTest::mouseMove(mEditor.get(), thigh + QPoint(-30, 0));
  QTest::mouseRelease(mEditor.get(), Qt::LeftButton, Qt::NoModifier, thigh + QPoint(-30, 0));
  const Person moved = mEditor->people().at(0);
  QVERIFY(distance(moved.body[PoseEditor::Nose], after.body[PoseEditor::Nose] + QPointF(-30, 0) / mEditor->zoom()) <
          1e-6);
  QCOMPARE(mEditor->undoStack()->count(), 3);
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->people().at(0), after);

  // Dragged far away, the person stops at the canvas's edge, whole.
  mEditor->movePerson(0, QPointF(5000, 0));
  QVERIFY(inside(mEditor->people().at(0), mEditor->canvasSize()));
  QCOMPARE(mEditor->people().at(0).body[PoseEditor::LWrist].x(), 512.0);
}

void TestPoseEditor::clickSelectsAndHitsWithinScreenPixels() {
  mEditor->addPerson();
  mEditor->addPerson();
  QSignalSpy selections(mEditor.get(), &PoseEditor::selectionChanged);
  QTest::mouseClick(mEditor.get(), Qt::LeftButton, Qt::NoModifier, onScreen(0, PoseEditor::Neck));
  QCOMPARE(mEditor->selectedPerson(), 0);
  QCOMPARE(selections.count(), 1);
  QTest::mouseClick(mEditor.get(), Qt::LeftButton, Qt::NoModifier, QPoint(3, 3));
  QCOMPARE(mEditor->selectedPerson(), -1);
  QCOMPARE(mEditor->undoStack()->count(), 2);  // selecting is no edit

  // The hit radius is in screen pixels, whatever the zoom.
  for (double zoom : {0.5, 3.0}) {
    mEditor->setZoom(zoom);
    const QPoint ankle = onScreen(1, PoseEditor::LAnkle);
    QCOMPARE(mEditor->hitTest(ankle + QPoint(0, 8)).joint, int(PoseEditor::LAnkle));
  }
  mEditor->setZoom(3.0);
  const QPoint wrist = onScreen(1, PoseEditor::LWrist);
  QCOMPARE(mEditor->hitTest(wrist + QPoint(0, 30)).person, -1);
  mEditor->zoomToFit();
}

void TestPoseEditor::hideAndShowAJoint() {
  mEditor->addPerson();
  const Person before = mEditor->people().at(0);
  // Click the left ear, press H.
  QTest::mouseClick(mEditor.get(), Qt::LeftButton, Qt::NoModifier, onScreen(0, PoseEditor::LEar));
  QCOMPARE(mEditor->selectedJoint(), int(PoseEditor::LEar));
  QTest::keyClick(mEditor.get(), Qt::Key_H);
  QVERIFY(!mEditor->people().at(0).visible[PoseEditor::LEar]);
  QCOMPARE(mEditor->undoStack()->count(), 2);
  QCOMPARE(mEditor->undoStack()->undoText(), PoseEditor::tr("Hide %1").arg(PoseEditor::jointName(PoseEditor::LEar)));
  // A hidden joint is not hit unless its person is selected (drawn as a ghost).
  const QPoint ear = onScreen(0, PoseEditor::LEar);
  QCOMPARE(mEditor->hitTest(ear).joint, int(PoseEditor::LEar));
  mEditor->setSelectedPerson(-1);
  QVERIFY(mEditor->hitTest(ear).joint != PoseEditor::LEar);
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->people().at(0), before);
  mEditor->undoStack()->redo();
  mEditor->setJointVisible(0, PoseEditor::LEar, true);
  QCOMPARE(mEditor->people().at(0), before);

  // A joint that never had a place (a detector's missing point) shows up near the body.
  Person partial = before;
  partial.visible[PoseEditor::RWrist] = false;
  partial.body[PoseEditor::RWrist] = QPointF(-1, -1);
  mEditor->setPeople({partial});
  mEditor->setJointVisible(0, PoseEditor::RWrist, true);
  const QPointF wrist = mEditor->people().at(0).body[PoseEditor::RWrist];
  QVERIFY(inside(mEditor->people().at(0), mEditor->canvasSize()));
  QVERIFY(distance(wrist, before.body[PoseEditor::RWrist]) < 40);
}

void TestPoseEditor::duplicateMirrorRemoveAndUndo() {
  mEditor->addPerson();
  const Person first = mEditor->people().at(0);
  // Duplicate: a copy beside it, selected.
  mEditor->setFocus();
  QTest::keyClick(mEditor.get(), Qt::Key_D, Qt::ControlModifier);
  QCOMPARE(mEditor->personCount(), 2);
  QCOMPARE(mEditor->selectedPerson(), 1);
  const Person copy = mEditor->people().at(1);
  const QPointF offset = copy.body[0] - first.body[0];
  QVERIFY(std::abs(offset.x()) >= 16);
  for (int j = 0; j < PoseEditor::kJointCount; ++j) QVERIFY(distance(copy.body[j], first.body[j] + offset) < 1e-6);

  // Mirror: left and right swap about the person's middle.
  Person bent = copy;
  bent.body[PoseEditor::LWrist] = copy.body[PoseEditor::LWrist] + QPointF(0, -120);  // a raised left hand
  bent.visible[PoseEditor::REar] = false;
  mEditor->setPeople({first, bent});
  mEditor->mirrorPerson(1);
  const Person mirrored = mEditor->people().at(1);
  // The raised hand is now the right one, on the other side.
  QCOMPARE(mirrored.body[PoseEditor::RWrist].y(), bent.body[PoseEditor::LWrist].y());
  QVERIFY(mirrored.body[PoseEditor::RWrist].x() < mirrored.body[PoseEditor::Neck].x());
  QVERIFY(mirrored.visible[PoseEditor::REar]);
  QVERIFY(!mirrored.visible[PoseEditor::LEar]);
  QVERIFY(std::abs(mirrored.body[PoseEditor::Neck].x() - bent.body[PoseEditor::Neck].x()) < 1e-6);
  QTest::keyClick(mEditor.get(), Qt::Key_M);  // twice is the original
  for (int j = 0; j < PoseEditor::kJointCount; ++j)
    QVERIFY(distance(mEditor->people().at(1).body[j], bent.body[j]) < 1e-6);
  QCOMPARE(mEditor->people().at(1).visible, bent.visible);

  // Delete removes the selected person.
  const int steps = mEditor->undoStack()->count();
  QTest::keyClick(mEditor.get(), Qt::Key_Delete);
  QCOMPARE(mEditor->personCount(), 1);
  QCOMPARE(mEditor->selectedPerson(), -1);
  mEditor->removePerson(0);
  QCOMPARE(mEditor->personCount(), 0);
  QCOMPARE(mEditor->undoStack()->count(), steps + 2);
  mEditor->undoStack()->undo();
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->personCount(), 2);
  QCOMPARE(mEditor->selectedPerson(), 1);
  mEditor->undoStack()->undo();  // the second mirror
  mEditor->undoStack()->undo();  // the first
  QCOMPARE(mEditor->people().at(1), bent);
  mEditor->undoStack()->undo();  // setPeople
  mEditor->undoStack()->undo();  // duplicate
  QCOMPARE(mEditor->people(), QList<Person>{first});
}

void TestPoseEditor::resetPose() {
  mEditor->addPerson();
  const Person standing = mEditor->people().at(0);
  mEditor->moveJoint(0, PoseEditor::LWrist, QPointF(500, 20));
  mEditor->moveJoint(0, PoseEditor::RKnee, QPointF(10, 500));
  mEditor->setJointVisible(0, PoseEditor::Nose, false);
  mEditor->movePerson(0, QPointF(-60, 0));
  mEditor->resetPerson(0);
  const Person reset = mEditor->people().at(0);
  for (bool v : reset.visible) QVERIFY(v);
  QVERIFY(inside(reset, mEditor->canvasSize()));
  // A standing pose again, symmetric about its neck.
  const double middle = reset.body[PoseEditor::Neck].x();
  QVERIFY(std::abs((reset.body[PoseEditor::LWrist].x() - middle) + (reset.body[PoseEditor::RWrist].x() - middle)) <
          1e-6);
  QVERIFY(reset.body[PoseEditor::LAnkle].y() > reset.body[PoseEditor::LHip].y());
  mEditor->undoStack()->undo();
  QVERIFY(!mEditor->people().at(0).visible[PoseEditor::Nose]);
  Q_UNUSED(standing);
}

void TestPoseEditor::keysNudgeInOneStep() {
  mEditor->addPerson();
  mEditor->setFocus();
  const Person before = mEditor->people().at(0);
  QTest::keyClick(mEditor.get(), Qt::Key_BracketRight);  // the first joint: the nose
  QCOMPARE(mEditor->selectedJoint(), int(PoseEditor::Nose));
  QTest::keyClick(mEditor.get(), Qt::Key_BracketRight);
  QCOMPARE(mEditor->selectedJoint(), int(PoseEditor::Neck));
  for (int i = 0; i < 3; ++i) QTest::keyClick(mEditor.get(), Qt::Key_Right);
  QTest::keyClick(mEditor.get(), Qt::Key_Down, Qt::ShiftModifier);
  QCOMPARE(mEditor->people().at(0).body[PoseEditor::Neck], before.body[PoseEditor::Neck] + QPointF(3, 10));
  QCOMPARE(mEditor->undoStack()->count(), 2);  // add, the nudges
  // Ctrl + arrows move the person: another step.
  QTest::keyClick(mEditor.get(), Qt::Key_Left, Qt::ControlModifier);
  QCOMPARE(mEditor->people().at(0).body[PoseEditor::Nose], before.body[PoseEditor::Nose] + QPointF(-1, 0));
  QCOMPARE(mEditor->undoStack()->count(), 3);
  mEditor->undoStack()->undo();
  mEditor->undoStack()->undo();
  QCOMPARE(mEditor->people().at(0), before);
  // Page Down walks through the people; Escape lets go; Insert adds one.
  QTest::keyClick(mEditor.get(), Qt::Key_Insert);
  QCOMPARE(mEditor->personCount(), 2);
  QCOMPARE(mEditor->selectedPerson(), 1);
  QTest::keyClick(mEditor.get(), Qt::Key_PageDown);
  QCOMPARE(mEditor->selectedPerson(), 0);
  QTest::keyClick(mEditor.get(), Qt::Key_Escape);
  QCOMPARE(mEditor->selectedPerson(), -1);
  QTest::keyClick(mEditor.get(), Qt::Key_Z, Qt::ControlModifier);
  QCOMPARE(mEditor->personCount(), 1);
}

void TestPoseEditor::setPeopleAndScaleTheCanvas() {
  Person one = PoseEditor::defaultPerson(QSize(512, 512));
  mEditor->setPeople({one}, true);
  QCOMPARE(mEditor->undoStack()->count(), 0);
  QCOMPARE(mEditor->personCount(), 1);
  mEditor->setCanvasSize(QSize(1024, 768), true);
  const Person scaled = mEditor->people().at(0);
  QCOMPARE(scaled.body[PoseEditor::Nose],
           QPointF(one.body[PoseEditor::Nose].x() * 2, one.body[PoseEditor::Nose].y() * 1.5));
  QCOMPARE(mEditor->undoStack()->count(), 1);
  mEditor->setCanvasSize(QSize(512, 512));  // kept as they are
  QCOMPARE(mEditor->people().at(0), scaled);
  // A background sets the size of a canvas that has none.
  PoseEditor other;
  QImage photo(300, 200, QImage::Format_RGB32);
  photo.fill(Qt::gray);
  other.setBackground(photo);
  QCOMPARE(other.canvasSize(), QSize(300, 200));
}

// Right-click a joint: hide it from the menu; the menu key opens the same menu for the
// selected joint.
void TestPoseEditor::contextMenuOffersTheEdits() {
  mEditor->addPerson();
  mEditor->setSelectedPerson(-1);
  QStringList seen;
  auto pick = [&seen](const QString& wanted) {
    QTimer::singleShot(0, [&seen, wanted] {
      auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
      if (!menu) return;
      seen.clear();
      QAction* chosen = nullptr;
      for (QAction* action : menu->actions()) {
        seen << action->text();
        if (action->text() == wanted) chosen = action;
      }
      menu->close();
      if (chosen) chosen->trigger();
    });
  };
  const QString hideEar = PoseEditor::tr("Hide %1").arg(PoseEditor::jointName(PoseEditor::LEar));
  pick(hideEar);
  const QPoint ear = onScreen(0, PoseEditor::LEar);
  QContextMenuEvent click(QContextMenuEvent::Mouse, ear, mEditor->mapToGlobal(ear));
  QApplication::sendEvent(mEditor.get(), &click);
  QVERIFY2(seen.contains(hideEar), qPrintable(seen.join(QLatin1String(", "))));
  QVERIFY(seen.contains(PoseEditor::tr("Mirror Person")));
  QVERIFY(seen.contains(PoseEditor::tr("Add Person")));
  QCOMPARE(mEditor->selectedPerson(), 0);
  QVERIFY(!mEditor->people().at(0).visible[PoseEditor::LEar]);

  const QString showEar = PoseEditor::tr("Show %1").arg(PoseEditor::jointName(PoseEditor::LEar));
  pick(showEar);
  QContextMenuEvent key(QContextMenuEvent::Keyboard, QPoint(5, 5), mEditor->mapToGlobal(QPoint(5, 5)));
  QApplication::sendEvent(mEditor.get(), &key);
  QVERIFY(seen.contains(showEar));
  QVERIFY(mEditor->people().at(0).visible[PoseEditor::LEar]);
  QCOMPARE(mEditor->undoStack()->count(), 3);
}

void TestPoseEditor::drawsTheMapColours() {
  mEditor->addPerson();
  mEditor->setSelectedPerson(-1);
  const QImage shot = mEditor->grab().toImage();
  auto near = [](QColor a, QColor b) {
    return std::abs(a.red() - b.red()) < 12 && std::abs(a.green() - b.green()) < 12 &&
           std::abs(a.blue() - b.blue()) < 12;
  };
  for (int j : {int(PoseEditor::LAnkle), int(PoseEditor::RKnee), int(PoseEditor::LWrist)}) {
    QVERIFY2(near(shot.pixelColor(onScreen(0, j)), PoseEditor::jointColor(j)), qPrintable(PoseEditor::jointName(j)));
  }
  // The middle of the shin (right knee to right ankle, limb 8) in its limb colour.
  const QPoint shin = (onScreen(0, PoseEditor::RKnee) + onScreen(0, PoseEditor::RAnkle)) / 2;
  QVERIFY(near(shot.pixelColor(shin), PoseEditor::limbColor(8)));
  // Off the body, the black of the map.
  QCOMPARE(shot.pixelColor(mEditor->mapFromImage(QPointF(20, 20)).toPoint()), QColor(Qt::black));
}

QTEST_MAIN(TestPoseEditor)
#include "test_pose_editor.moc"
