#include "pages/pose_editor_panel.h"

#include <QAction>
#include <QEvent>
#include <QFileDialog>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include "base/error.h"
#include "control/pose_json.h"
#include "control/preprocessor.h"
#include "pages/control_unit_editor.h"
#include "pages/pose_conversion.h"
#include "widgets/pose_editor.h"

namespace kiln::app {

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
  mSnap = new QAction(this);
  mSnap->setEnabled(false);
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

PoseEditorPanel::~PoseEditorPanel() = default;

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
  mSnap->setToolTip(control::find_preprocessor("openpose")
                        ? tr("Replace the people with the pose detected in the input picture")
                        : tr("Needs an OpenPose preprocessor, which Kiln does not have yet"));
  mDone->setText(tr("Done"));
  mDone->setToolTip(tr("Close the pose editor (the unit keeps the pose)"));
  mEditor->setPlaceholderText(tr("Add a person to start"));
}

void PoseEditorPanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

void PoseEditorPanel::edit(ControlUnitEditor* unit, const QImage& background) {
  mUnit = unit;
  mProblem->hide();
  const QSignalBlocker block(mEditor);  // the unit has these people already
  mEditor->setCanvasSize(unit->poseCanvas());
  mEditor->setBackground(background.isNull() ? QImage() : background.scaled(unit->poseCanvas()));
  mEditor->setBackgroundOpacity(0.5);
  mEditor->setPeople(unit->people(), true);
  if (mEditor->personCount() > 0) mEditor->setSelectedPerson(0);  // so the person's edits are at hand
  mEditor->zoomToFit();
  updateActions();
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
