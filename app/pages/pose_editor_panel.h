#pragma once
// The pose editor of a ControlNet pose unit, shown by the Generate page in place of the input
// canvas: the PoseEditor over the input picture (or black) at the unit's canvas size, with its
// edits as buttons (add, duplicate, mirror, reset, remove, undo, redo), import and export of
// A1111's OpenPose JSON and ComfyUI's POSE_KEYPOINT, "Snap to Detected" (DWPose on the picture
// under the pose, off the GUI thread, one undo step; enabled when DWPose's two files are in an
// annotator folder), and "Done". Every change goes to the unit, which renders its map a moment
// later.

#include <QImage>
#include <QPointer>
#include <QWidget>

#include <stop_token>

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
  // Runs DWPose on the picture under the pose (the background, else the unit's picture) on the
  // thread pool and replaces the people with the bodies found (one undo step; hands and faces
  // are not edited here). False when it cannot start (no picture, no DWPose files: said in the
  // panel). detectionFinished() follows a started run unless it is cancelled by another edit().
  bool snapToDetected();
  bool isDetecting() const { return mDetecting; }

 Q_SIGNALS:
  void doneRequested();
  void message(const QString& text);
  // A detection ended: `people` found (-1 when it failed, the reason shown in the panel).
  void detectionFinished(int people);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void updateActions();
  void showProblem(const QString& text);
  // The picture DWPose runs on, and whether its files are found (checked in edit()).
  QImage detectionPicture() const;
  void updateSnap();

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
  QImage mBackground;  // as edit() got it (the editor shows it stretched to the canvas)
  bool mDwposeFound = false;
  bool mDetecting = false;
  quint64 mDetection = 0;  // the run whose result counts
  std::stop_source mStop;
};

}  // namespace kiln::app
