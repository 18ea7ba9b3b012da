#pragma once
// The pose editor of a ControlNet pose unit, shown by the Generate page in place of the input
// canvas: the PoseEditor over the input picture (or black) at the unit's canvas size, with its
// edits as buttons (add, duplicate, mirror, reset, remove, undo, redo), import and export of
// A1111's OpenPose JSON and ComfyUI's POSE_KEYPOINT, and "Done". Every change goes to the unit,
// which renders its map a moment later.

#include <QPointer>
#include <QWidget>

class QAction;
class QLabel;

namespace kiln::widgets {
class PoseEditor;
}

namespace kiln::app {

class ControlUnitEditor;

class PoseEditorPanel : public QWidget {
  Q_OBJECT

 public:
  explicit PoseEditorPanel(QWidget* parent = nullptr);
  ~PoseEditorPanel() override;

  // Edits `unit`'s people; `background` (may be null) is drawn under them.
  void edit(ControlUnitEditor* unit, const QImage& background);
  ControlUnitEditor* unit() const { return mUnit; }
  widgets::PoseEditor* editor() const { return mEditor; }
  QAction* snapAction() const { return mSnap; }

  // Reads a pose file into the editor (one undo step); false with the reason shown when it fails.
  bool importFile(const QString& path);
  // Writes the people as A1111's OpenPose JSON, or as ComfyUI's POSE_KEYPOINT list.
  bool exportFile(const QString& path, bool comfy);

 Q_SIGNALS:
  void doneRequested();
  void message(const QString& text);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void updateActions();
  void showProblem(const QString& text);

  QPointer<ControlUnitEditor> mUnit;
  widgets::PoseEditor* mEditor;
  QLabel* mTitle;
  QLabel* mProblem;
  QAction* mAdd;
  QAction* mDuplicate;
  QAction* mMirror;
  QAction* mReset;
  QAction* mRemove;
  QAction* mUndo;
  QAction* mRedo;
  QAction* mImport;
  QAction* mExport;
  QAction* mSnap;
  QAction* mDone;
};

}  // namespace kiln::app
