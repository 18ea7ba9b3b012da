#include "pages/pose_editor_panel.h"

#include <QAction>
#include <QEvent>
#include <QFileDialog>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "base/error.h"
#include "bridge/control_image_qt.h"
#include "bridge/error_message.h"
#include "control/dwpose.h"
#include "control/geometry.h"
#include "control/pose_json.h"
#include "control/preprocessor.h"
#include "pages/control_unit_editor.h"
#include "pages/pose_conversion.h"
#include "widgets/pose_editor.h"

namespace kiln::app {

namespace {

std::vector<std::filesystem::path> annotatorDirsOf(const ControlUnitEditor* unit) {
  std::vector<std::filesystem::path> dirs;
  if (unit)
    for (const QString& dir : unit->annotatorDirs()) dirs.emplace_back(dir.toStdString());
  return dirs;
}

// What a detection run hands back to the GUI thread.
struct Detection {
  control::PoseScene scene;
  QString error;
  bool cancelled = false;
};

}  // namespace

PoseEditorPanel::PoseEditorPanel(QWidget* parent) : QWidget(parent), mEditor(new widgets::PoseEditor(this)) {
  setObjectName(QStringLiteral("poseEditorPanel"));
  mEditor->setObjectName(QStringLiteral("poseEditor"));
  mTitle = new QLabel(this);
  QFont bold = mTitle->font();
  bold.setWeight(QFont::DemiBold);
  mTitle->setFont(bold);
  mProblem = new QLabel(this);
  mProblem->setWordWrap(true);
  mProblem->hide();

  const auto action = [this](auto slot) {
    auto* a = new QAction(this);
    connect(a, &QAction::triggered, this, slot);
    return a;
  };
  mAdd = action([this] { mEditor->addPerson(); });
  mDuplicate = action([this] { mEditor->duplicatePerson(mEditor->selectedPerson()); });
  mMirror = action([this] { mEditor->mirrorPerson(mEditor->selectedPerson()); });
  mReset = action([this] { mEditor->resetPerson(mEditor->selectedPerson()); });
  mRemove = action([this] { mEditor->removePerson(mEditor->selectedPerson()); });
  mUndo = mEditor->undoStack()->createUndoAction(this);
  mRedo = mEditor->undoStack()->createRedoAction(this);
  mImport = action([this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import Pose"), {}, tr("Pose JSON (*.json)"));
    if (!path.isEmpty()) importFile(path);
  });
  mExport = action([this] {
    const QString a1111 = tr("OpenPose JSON, AUTOMATIC1111 (*.json)");
    const QString comfy = tr("POSE_KEYPOINT, ComfyUI (*.json)");
    QString filter = a1111;
    QString path = QFileDialog::getSaveFileName(this, tr("Export Pose"), QStringLiteral("pose.json"),
                                                a1111 + QStringLiteral(";;") + comfy, &filter);
    if (path.isEmpty()) return;
    if (!path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive)) path += QStringLiteral(".json");
    exportFile(path, filter == comfy);
  });
  mSnap = action([this] { snapToDetected(); });
  mSnap->setObjectName(QStringLiteral("poseSnap"));
  mDone = action([this] { Q_EMIT doneRequested(); });
  mUndo->setShortcut(QKeySequence::Undo);
  mRedo->setShortcut(QKeySequence::Redo);
  for (QAction* a : {mUndo, mRedo}) {
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(a);
  }

  // Two rows: the people's edits, then history and files; one row is clipped beside the result.
  const auto row = [this](std::initializer_list<QAction*> actions) {
    auto* r = new QHBoxLayout;
    r->setContentsMargins(8, 0, 8, 0);
    r->setSpacing(2);
    for (QAction* a : actions) {
      auto* button = new QToolButton(this);
      button->setDefaultAction(a);
      button->setAutoRaise(true);
      r->addWidget(button);
    }
    r->addStretch(1);
    return r;
  };
  QHBoxLayout* people = row({mAdd, mDuplicate, mMirror, mReset, mRemove});
  people->insertWidget(0, mTitle);
  people->insertSpacing(1, 8);
  auto* done = new QToolButton(this);
  done->setObjectName(QStringLiteral("poseDone"));
  done->setDefaultAction(mDone);
  people->addWidget(done);
  QHBoxLayout* files = row({mUndo, mRedo, mImport, mExport, mSnap});
  auto* tools = new QVBoxLayout;
  tools->setContentsMargins(0, 0, 0, 4);
  tools->setSpacing(0);
  tools->addLayout(people);
  tools->addLayout(files);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  layout->addLayout(tools);
  layout->addWidget(mProblem);
  layout->addWidget(mEditor, 1);

  connect(mEditor, &widgets::PoseEditor::posesChanged, this, [this] {
    if (mUnit) mUnit->setPeople(mEditor->people());
    updateActions();
  });
  connect(mEditor, &widgets::PoseEditor::selectionChanged, this, &PoseEditorPanel::updateActions);
  retranslate();
  updateActions();
}

PoseEditorPanel::~PoseEditorPanel() { mStop.request_stop(); }

void PoseEditorPanel::retranslate() {
  mTitle->setText(tr("Pose"));
  mAdd->setText(tr("Add"));
  mAdd->setToolTip(tr("Add a person (Insert)"));
  mDuplicate->setText(tr("Duplicate"));
  mDuplicate->setToolTip(tr("Duplicate the selected person (Ctrl+D)"));
  mMirror->setText(tr("Mirror"));
  mMirror->setToolTip(tr("Swap the selected person's left and right (M)"));
  mReset->setText(tr("Reset"));
  mReset->setToolTip(tr("Put the selected person back in the standing pose (R)"));
  mRemove->setText(tr("Remove"));
  mRemove->setToolTip(tr("Remove the selected person (Delete)"));
  mUndo->setText(tr("Undo"));
  mRedo->setText(tr("Redo"));
  mImport->setText(tr("Import…"));
  mImport->setToolTip(tr("Read an OpenPose JSON (AUTOMATIC1111) or POSE_KEYPOINT (ComfyUI) file"));
  mExport->setText(tr("Export…"));
  mExport->setToolTip(tr("Write the pose as OpenPose JSON (AUTOMATIC1111) or POSE_KEYPOINT (ComfyUI)"));
  mSnap->setText(tr("Snap to Detected"));
  updateSnap();
  mDone->setText(tr("Done"));
  mDone->setToolTip(tr("Close the pose editor (the unit keeps the pose)"));
  mEditor->setPlaceholderText(tr("Add a person to start"));
}

void PoseEditorPanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

void PoseEditorPanel::edit(ControlUnitEditor* unit, const QImage& background) {
  // A detection still running was for the previous picture: its result no longer counts.
  mStop.request_stop();
  ++mDetection;
  mDetecting = false;
  mUnit = unit;
  mBackground = background;
  mDwposeFound = control::dwpose_available(annotatorDirsOf(unit));
  mProblem->hide();
  const QSignalBlocker block(mEditor);  // the unit has these people already
  mEditor->setCanvasSize(unit->poseCanvas());
  mEditor->setBackground(background.isNull() ? QImage() : background.scaled(unit->poseCanvas()));
  mEditor->setBackgroundOpacity(0.5);
  mEditor->setPeople(unit->people(), true);
  if (mEditor->personCount() > 0) mEditor->setSelectedPerson(0);  // so the person's edits are at hand
  mEditor->zoomToFit();
  updateActions();
  updateSnap();
}

QImage PoseEditorPanel::detectionPicture() const {
  if (!mBackground.isNull()) return mBackground;
  return mUnit ? mUnit->sourceImage() : QImage();
}

void PoseEditorPanel::updateSnap() {
  const bool picture = !detectionPicture().isNull();
  mSnap->setEnabled(mUnit && mDwposeFound && picture && !mDetecting);
  const control::AnnotatorWeights pose = control::dwpose_pose_weights();
  if (mDetecting)
    mSnap->setToolTip(tr("Detecting poses…"));
  else if (!mDwposeFound)
    mSnap->setToolTip(tr("Needs DWPose's yolox_l.onnx and dw-ll_ucoco_384.onnx (%1, Apache-2.0) in an annotator "
                         "folder")
                          .arg(QString::fromStdString(pose.source)));
  else if (!picture)
    mSnap->setToolTip(tr("Needs a picture under the pose"));
  else
    mSnap->setToolTip(tr("Replace the people with the bodies DWPose detects in the picture under the pose"));
}

bool PoseEditorPanel::snapToDetected() {
  if (!mUnit || mDetecting) return false;
  control::DwposeFiles files;
  try {
    files = control::find_dwpose_files(annotatorDirsOf(mUnit));
  } catch (const Error& e) {
    mDwposeFound = false;
    updateSnap();
    showProblem(tr("Cannot detect poses: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  const QImage picture = detectionPicture();
  if (picture.isNull()) {
    showProblem(tr("Cannot detect poses: there is no picture under the pose"));
    return false;
  }
  mStop = std::stop_source();
  const std::stop_token stop = mStop.get_token();
  const quint64 run = ++mDetection;
  mDetecting = true;
  updateSnap();
  Q_EMIT message(tr("Detecting poses…"));

  auto* watcher = new QFutureWatcher<Detection>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, run] {
    watcher->deleteLater();
    if (run != mDetection) return;  // another picture or unit since
    mDetecting = false;
    updateSnap();
    const Detection result = watcher->result();
    if (result.cancelled) return;
    if (!result.error.isEmpty()) {
      showProblem(result.error);
      Q_EMIT detectionFinished(-1);
      return;
    }
    showProblem({});
    // People of whom no body point is shown would be invisible in the editor.
    control::PoseScene scene = result.scene;
    std::erase_if(scene.people, [](const control::PosePerson& p) {
      return std::none_of(p.body.begin(), p.body.end(), [](const control::Keypoint& k) { return k.drawn(); });
    });
    const int found = static_cast<int>(scene.people.size());
    if (found == 0) {
      Q_EMIT message(tr("No person detected in the picture; the pose is unchanged"));
      Q_EMIT detectionFinished(0);
      return;
    }
    const ConvertedPeople converted = fromPoseScene(scene, mEditor->canvasSize());
    mEditor->setPeople(converted.people);  // one undo step
    mEditor->setSelectedPerson(0);
    QString text = tr("Detected %n person(s)", nullptr, found);
    if (converted.droppedParts > 0)
      text += QLatin1Char(' ') + tr("(hands, faces and animals are not edited here and were left out)");
    Q_EMIT message(text);
    Q_EMIT detectionFinished(found);
  });
  const control::ControlImage image = control::from_rgba_to_input(bridge::toControlImage(picture));
  watcher->setFuture(QtConcurrent::run([image, files, stop]() -> Detection {
    Detection result;
    try {
      const auto scene = control::detect_dwpose(image, files, stop);
      if (!scene) {
        result.cancelled = true;
        return result;
      }
      result.scene = *scene;
    } catch (const std::exception& e) {
      result.error = ErrorMessage::oneLine(e);  // a Kiln error in its own words (file, where, how to get it)
    }
    return result;
  }));
  return true;
}

void PoseEditorPanel::updateActions() {
  const bool person = mEditor->selectedPerson() >= 0;
  for (QAction* a : {mDuplicate, mMirror, mReset, mRemove}) a->setEnabled(person);
}

void PoseEditorPanel::showProblem(const QString& text) {
  mProblem->setText(text);
  mProblem->setVisible(!text.isEmpty());
}

bool PoseEditorPanel::importFile(const QString& path) {
  try {
    const control::PoseFile file = control::read_pose_file(path.toStdString());
    const ConvertedPeople converted = fromPoseScene(file.frames.front(), mEditor->canvasSize());
    mEditor->setPeople(converted.people);
    showProblem({});
    QString text = tr("Read %n person(s) from %1", nullptr, static_cast<int>(converted.people.size()))
                       .arg(QFileInfo(path).fileName());
    if (converted.droppedParts > 0)
      text += QLatin1Char(' ') + tr("(hands, faces and animals are not edited here and were left out)");
    Q_EMIT message(text);
    return true;
  } catch (const std::exception& e) {
    showProblem(tr("Cannot read %1: %2").arg(QFileInfo(path).fileName(), QString::fromStdString(e.what())));
    return false;
  }
}

bool PoseEditorPanel::exportFile(const QString& path, bool comfy) {
  try {
    control::PoseFile file;
    file.format = comfy ? control::PoseJsonFormat::PoseKeypoint : control::PoseJsonFormat::OpenPose;
    file.frames = {toPoseScene(mEditor->people(), mEditor->canvasSize())};
    control::write_pose_file(path.toStdString(), file);
    showProblem({});
    Q_EMIT message(tr("Wrote %1").arg(QDir::toNativeSeparators(path)));
    return true;
  } catch (const std::exception& e) {
    showProblem(tr("Cannot write %1: %2").arg(QFileInfo(path).fileName(), QString::fromStdString(e.what())));
    return false;
  }
}

}  // namespace kiln::app
