// ControlUnitEditor's state between sessions (app/state/control_unit_state.h): what the unit
// holds, written out and restored, with notes for a model or picture that has gone.
#include <QByteArray>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QSize>

#include <algorithm>

#include "control/pose_json.h"
#include "pages/control_unit_editor.h"
#include "pages/pose_conversion.h"

namespace kiln::app {

namespace {

// How the unit's source is named in the settings.
const char* sourceId(ControlUnitEditor::Source source) {
  switch (source) {
    case ControlUnitEditor::Source::Canvas:
      return "canvas";
    case ControlUnitEditor::Source::LastImage:
      return "last";
    case ControlUnitEditor::Source::Clipboard:
      return "clipboard";
    case ControlUnitEditor::Source::Scribble:
      return "scribble";
    case ControlUnitEditor::Source::Pose:
      return "pose";
    case ControlUnitEditor::Source::File:
      break;
  }
  return "file";
}

ControlUnitEditor::Source sourceFromId(const QString& id) {
  for (const auto source : {ControlUnitEditor::Source::Canvas, ControlUnitEditor::Source::LastImage,
                            ControlUnitEditor::Source::Clipboard, ControlUnitEditor::Source::Scribble,
                            ControlUnitEditor::Source::Pose}) {
    if (id == QLatin1String(sourceId(source))) return source;
  }
  return ControlUnitEditor::Source::File;
}

QString fileName(const QString& path) { return QFileInfo(path).fileName(); }

}  // namespace

ControlUnitState ControlUnitEditor::state() const {
  ControlUnitState s;
  s.enabled = isUnitEnabled();
  s.model = mWantedModel.isEmpty() ? modelPath() : mWantedModel;
  s.preprocessor = preprocessor();
  for (const auto& [key, spin] : mParamSpins) s.params.emplace_back(QString::fromStdString(key), spin->value());
  s.resolution = resolution();
  s.pixelPerfect = pixelPerfect();
  s.weight = weight();
  s.start = start();
  s.end = end();
  s.controlMode = static_cast<int>(controlMode());
  s.resizeMode = static_cast<int>(resizeMode());
  s.source = QLatin1String(sourceId(mSource));
  s.sourceName = mSourceName;
  switch (mSource) {
    case Source::File:
      s.path = mSourcePath;  // remembered even while it is gone: it may come back
      break;
    case Source::Canvas:
    case Source::LastImage:
    case Source::Clipboard:
      s.picture = mSourceImage;
      break;
    case Source::Scribble:
      s.picture = mDrawnMap;
      break;
    case Source::Pose:
      if (!mPeople.isEmpty() && mPoseCanvas.isValid())
        s.poseJson = QByteArray::fromStdString(control::to_openpose_json(toPoseScene(mPeople, mPoseCanvas)));
      break;
  }
  return s;
}

void ControlUnitEditor::restoreState(const ControlUnitState& s) {
  setUnitEnabled(s.enabled);
  mWantedModel = s.model;
  mModelNote.clear();
  if (!s.model.isEmpty() && !QFileInfo::exists(s.model))
    mModelNote = tr("The ControlNet model “%1” of the last session is gone (moved or deleted); choose another.")
                     .arg(fileName(s.model));
  setModels(mModels, mNoModels);  // picks the model when the library lists it

  setPreprocessor(s.preprocessor);
  for (const auto& [key, value] : s.params) setParam(key, value);
  setResolution(s.resolution);
  setPixelPerfect(s.pixelPerfect);
  setWeight(s.weight);
  setRange(s.start, s.end);
  setControlMode(static_cast<pipelines::ControlMode>(std::clamp(s.controlMode, 0, 2)));
  setResizeMode(static_cast<control::ResizeMode>(std::clamp(s.resizeMode, 0, 2)));

  mSource = sourceFromId(s.source);
  mSourceCombo->setCurrentIndex(mSourceCombo->findData(static_cast<int>(mSource)));
  mSourceImage = QImage();
  mSourcePath.clear();
  mSourceName = s.sourceName;
  mDrawnMap = QImage();
  mPeople.clear();
  mSourceNote.clear();
  const bool kept = !s.path.isEmpty();
  const bool gone = kept && !QFileInfo::exists(s.path);
  const auto readPicture = [&s] {
    QImageReader reader(s.path);
    reader.setAutoTransform(true);
    return reader.read();
  };
  switch (mSource) {
    case Source::File:
      mSourcePath = s.path;
      if (gone) {
        mSourceNote = tr("The picture “%1” of the last session is gone (moved or deleted); open it again.")
                          .arg(QDir::toNativeSeparators(s.path));
      } else if (kept) {
        mSourceImage = readPicture();
        if (mSourceImage.isNull())
          mSourceNote = tr("Kiln cannot read the picture “%1” any more; open it again.")
                            .arg(QDir::toNativeSeparators(s.path));
      }
      break;
    case Source::Canvas:
    case Source::LastImage:
    case Source::Clipboard:
      if (kept) mSourceImage = gone ? QImage() : readPicture();
      if (kept && mSourceImage.isNull())
        mSourceNote = tr("The picture kept from the last session is gone; take it again.");
      break;
    case Source::Scribble:
      if (kept) mDrawnMap = gone ? QImage() : readPicture();
      if (kept && mDrawnMap.isNull()) mSourceNote = tr("The scribble kept from the last session is gone; draw it again.");
      break;
    case Source::Pose: {
      QString why;
      if (gone) {
        why = tr("The pose kept from the last session is gone");
      } else if (kept) {
        try {
          const control::PoseFile file = control::read_pose_file(s.path.toStdString());
          const control::PoseScene& scene = file.frames.front();
          mPoseCanvas = QSize(scene.canvas_width, scene.canvas_height);
          if (!mPoseCanvas.isValid() || mPoseCanvas.isEmpty())
            mPoseCanvas = mContext.outputSize ? mContext.outputSize() : QSize(512, 512);
          mPeople = fromPoseScene(scene, mPoseCanvas).people;
        } catch (const std::exception& e) {
          why = tr("Kiln cannot read the pose kept from the last session (%1)").arg(QString::fromUtf8(e.what()));
        }
      }
      if (mPeople.isEmpty()) {
        mPoseCanvas = mContext.outputSize ? mContext.outputSize() : QSize(512, 512);
        mPeople = {widgets::PoseEditor::defaultPerson(mPoseCanvas)};
      }
      if (!why.isEmpty()) mSourceNote = why + tr("; the unit has the default pose.");
      break;
    }
  }
  mPreprocessor->setEnabled(mSource != Source::Pose);
  updateSourceView();
  updateResolutionView();
  updateMessage();
  schedule(0);
}

}  // namespace kiln::app
