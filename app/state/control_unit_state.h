#pragma once
// What the Generate page remembers of a ControlNet unit between sessions, as plain data: the
// unit editor fills it (ControlUnitEditor::state) and takes it back (restoreState);
// GenerationSettings keeps it in the settings file. Pictures that exist only in the app (a
// drawn scribble, a pose, a picture taken from the canvas or the clipboard) are kept as files
// in the app's data folder, named by their content and written atomically; a picture opened from
// a file is remembered by its path.

#include <QByteArray>
#include <QImage>
#include <QList>
#include <QSize>
#include <QString>

#include <utility>

namespace kiln::app {

struct ControlUnitState {
  bool enabled = true;
  QString model;                             // path of the ControlNet (empty: none chosen)
  QString preprocessor = QStringLiteral("none");
  QList<std::pair<QString, double>> params;  // the preprocessor's sliders by key
  int resolution = 512;
  bool pixelPerfect = false;
  double weight = 1.0;
  double start = 0.0;
  double end = 1.0;
  int controlMode = 0;  // pipelines::ControlMode
  int resizeMode = 1;   // control::ResizeMode (Crop and Resize)
  // "file", "canvas", "last", "clipboard", "scribble" or "pose".
  QString source = QStringLiteral("file");
  // "file": the picture the user opened. Else the kept copy in the data folder (a PNG; a pose's
  // OpenPose JSON); empty when the unit has nothing yet.
  QString path;
  QString sourceName;  // how the unit names its picture ("photo.png", "clipboard")

  // Saving only: what the data folder keeps for the unit (a PNG of `picture`, or `poseJson`).
  // GenerationSettings::setControlUnits writes it and sets `path`.
  QImage picture;
  QByteArray poseJson;
};

}  // namespace kiln::app
