#pragma once
// OpenPose body skeletons edited over a background picture or a blank (black) canvas of a
// given size: drag a joint, drag a whole person (Shift, or grab a limb), hide and show joints,
// add, duplicate, mirror, reset and remove people; every edit is one step of an undo stack.
// People are in image pixels, in OpenPose's COCO-18 order, and drawn as the OpenPose map draws
// them (controlnet_aux's draw_bodypose: the same 17 limbs and 18 colours, limbs at 60 %,
// joints at full colour), so that what is edited looks like what is sent. Rendering the map
// itself, and reading or writing pose files, are the caller's business.
//
// Mouse: left-drag a joint to move it, a limb (or anything with Shift) to move its person;
// click to select, right-click for the menu; wheel zooms around the cursor, the middle button
// (or Space + left) pans. Keys: Page Up/Down select the person, [ and ] the joint, arrows move
// the joint (Ctrl: the person; Shift: 10 px), H hides/shows the joint, Insert adds a person,
// Ctrl+D duplicates, M mirrors, R resets, Delete removes, Escape deselects, 0 fits the view.

#include <QImage>
#include <QList>
#include <QPointF>
#include <QUndoStack>
#include <QWidget>

#include <array>

class QMenu;

namespace kiln::widgets {

class PoseEditor : public QWidget {
  Q_OBJECT
  Q_PROPERTY(int selectedPerson READ selectedPerson WRITE setSelectedPerson NOTIFY selectionChanged)
  Q_PROPERTY(double zoom READ zoom NOTIFY zoomChanged)

 public:
  static constexpr int kJointCount = 18;
  static constexpr int kLimbCount = 17;

  // OpenPose COCO-18 ("R" is the person's right: the left of the picture when they face us).
  // clang-format off
  enum Joint {
    Nose, Neck,
    RShoulder, RElbow, RWrist,
    LShoulder, LElbow, LWrist,
    RHip, RKnee, RAnkle,
    LHip, LKnee, LAnkle,
    REye, LEye, REar, LEar,
  };
  // clang-format on

  struct Person {
    std::array<QPointF, kJointCount> body{};  // image pixels
    std::array<bool, kJointCount> visible{};
    bool operator==(const Person& other) const = default;
  };

  explicit PoseEditor(QWidget* parent = nullptr);
  ~PoseEditor() override;

  // The picture's size in pixels, the space the people live in. People are kept as they are
  // unless `scalePeople`, which scales them to the new size as one undo step.
  void setCanvasSize(const QSize& size, bool scalePeople = false);
  QSize canvasSize() const { return mCanvasSize; }
  // Drawn under the skeletons, stretched to the canvas (a null image: black, as the map). Sets
  // the canvas size when none is set.
  void setBackground(const QImage& image);
  QImage background() const { return mBackground; }
  // 1 shows the background as it is; less darkens it towards the map's black.
  void setBackgroundOpacity(double opacity);
  double backgroundOpacity() const { return mBackgroundOpacity; }

  // Replaces everyone (e.g. a detected or loaded pose); one undo step, unless `resetHistory`,
  // which starts the history afresh (a new document).
  void setPeople(const QList<Person>& people, bool resetHistory = false);
  QList<Person> people() const { return mPeople; }
  int personCount() const { return static_cast<int>(mPeople.size()); }
  // -1 when no one is selected.
  int selectedPerson() const { return mSelected; }
  void setSelectedPerson(int person);
  // The joint the keys act on, of the selected person; -1 when none.
  int selectedJoint() const { return mSelectedJoint; }
  void setSelectedJoint(int joint);
  QUndoStack* undoStack() { return &mUndo; }

  // Edits, each one undo step, as the mouse and keys make them (for scripts and tests). A
  // person index out of range is ignored; positions are clamped into the canvas.
  void moveJoint(int person, int joint, const QPointF& position);
  void setJointVisible(int person, int joint, bool visible);
  void movePerson(int person, const QPointF& delta);
  // A standing person beside the others; selected; returns its index.
  int addPerson();
  // A copy, offset to the right (or left at the edge); selected; returns its index.
  int duplicatePerson(int person);
  void removePerson(int person);
  // Left and right swapped, about the person's own middle.
  void mirrorPerson(int person);
  // The default standing pose, at the person's place and height; all joints shown.
  void resetPerson(int person);

  // A standing person facing us, all joints shown, centred at `centerX` (canvas middle when
  // negative), scaled to the height of `canvas`.
  static Person defaultPerson(const QSize& canvas, double centerX = -1);
  static QString jointName(int joint);
  // The same joint on the other side (a nose or a neck is its own mirror).
  static int mirroredJoint(int joint);
  // Limb i joins joints limb(i).first and .second; its colour is limbColor(i) at 60 %.
  static std::pair<int, int> limb(int index);
  static QColor jointColor(int joint);
  static QColor limbColor(int index);

  // The person and joint (or -1 when the point hits a limb, not a joint) under a widget point;
  // person -1 when nothing is hit. Joints are hit within a radius in screen pixels.
  struct Hit {
    int person = -1;
    int joint = -1;
  };
  Hit hitTest(const QPointF& viewPoint) const;

  double zoom() const { return mScale; }
  void setZoom(double scale);
  void zoomToFit();
  QPointF mapToImage(const QPointF& viewPoint) const;
  QPointF mapFromImage(const QPointF& imagePoint) const;

  void setPlaceholderText(const QString& text);

  QSize sizeHint() const override { return {512, 512}; }
  QSize minimumSizeHint() const override { return {160, 160}; }

 Q_SIGNALS:
  // Any change to the people, also during a drag (throttling is the caller's business).
  void posesChanged();
  void selectionChanged(int person);
  void zoomChanged(double zoom);

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void focusInEvent(QFocusEvent* event) override;
  void focusOutEvent(QFocusEvent* event) override;

 private:
  friend class PoseCommand;

  enum class Drag { None, Joint, Person, Pan };

  bool validPerson(int person) const { return person >= 0 && person < personCount(); }
  // Pushes one step from the people (and selection) before to `after`.
  void commit(const QList<Person>& before, int selectedBefore, const QList<Person>& after, int selectedAfter,
              const QString& text, int mergeId = -1);
  // Undo/redo: shows a state.
  void restore(const QList<Person>& people, int selected);
  void fillMenu(QMenu* menu, const Hit& hit);
  void nudge(const QPointF& delta, bool wholePerson);
  QPointF clampToCanvas(const QPointF& point) const;
  // Moves `person` by `delta`, limited so that its shown joints stay in the canvas.
  static QPointF limitedDelta(const Person& person, const QPointF& delta, const QSize& canvas);
  void zoomAround(double scale, const QPointF& viewPoint);
  void clampOffset();
  void updateCursor(const QPointF& viewPoint);
  QRectF canvasRectInView() const;
  void paintPerson(QPainter& p, int index) const;

  QSize mCanvasSize;
  QImage mBackground;
  double mBackgroundOpacity = 1.0;
  QList<Person> mPeople;
  int mSelected = -1;
  int mSelectedJoint = -1;
  QUndoStack mUndo;
  QString mPlaceholder;

  double mScale = 1.0;
  QPointF mOffset;  // view position of the canvas's top-left corner
  bool mFitted = true;

  Drag mDrag = Drag::None;
  QList<Person> mDragBefore;
  int mDragSelectedBefore = -1;
  int mDragJoint = -1;
  QPointF mDragFrom;        // image pixels (joint, person) or view pixels (pan)
  QPointF mDragJointStart;  // the dragged joint's position when pressed
  bool mDragMoved = false;
  bool mSpaceHeld = false;
  Hit mHover;
  int mNudgeSerial = 0;  // consecutive key nudges of one joint merge into one step
};

}  // namespace kiln::widgets
