#pragma once
// One ControlNet unit of the Generate page's ControlNet panel: where its control map comes from
// (a picture run through a preprocessor, a scribble drawn on the input canvas, or a pose), the
// ControlNet model, and how strongly and when it guides (weight, start/end, control mode, resize
// mode). Preprocessing runs on the thread pool, restarted (and the previous run stopped through
// its stop token) a moment after the last change, so sliders stay smooth; the map shows as a
// small preview. A problem (no picture, missing network weights) is said in the unit.

#include <QFrame>
#include <QImage>
#include <QList>
#include <QSize>

#include <functional>
#include <map>
#include <stop_token>
#include <string>

#include "control/geometry.h"
#include "control/preprocessor.h"
#include "jobs/engine_worker.h"
#include "state/control_unit_state.h"
#include "widgets/pose_editor.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;
class QToolButton;

namespace kiln::app {

class ControlUnitEditor : public QFrame {
  Q_OBJECT

 public:
  enum class Source { File, Canvas, LastImage, Clipboard, Scribble, Pose };

  // What a unit asks of the page when it needs it.
  struct Context {
    std::function<QSize()> outputSize;
    std::function<QImage()> canvasImage;  // the input canvas's picture (null when none)
    std::function<QImage()> lastImage;    // the last generated image (null when none)
    std::function<QStringList()> annotatorDirs;
  };

  ControlUnitEditor(Context context, QWidget* parent = nullptr);
  ~ControlUnitEditor() override;

  // "Unit 2"; the arrows are enabled where the unit can move.
  void setPosition(int index, int count);

  // Collapsed, a unit shows its header, preview and source only.
  bool isExpanded() const;
  void setExpanded(bool expanded);

  bool isUnitEnabled() const;
  void setUnitEnabled(bool enabled);

  // (path, name) of the ControlNets that fit the base model; `none`: what the empty list says.
  void setModels(const QList<std::pair<QString, QString>>& models, const QString& none);
  QString modelPath() const;
  void selectModel(const QString& path);

  Source source() const { return mSource; }
  void setSource(Source source);
  // The picture of the File / Canvas / Last image / Clipboard sources (named in the unit).
  void setSourceImage(const QImage& image, const QString& name);
  QImage sourceImage() const { return mSourceImage; }
  // Opens a picture file as the source; false (with the reason shown in the unit) when it cannot.
  bool openImageFile(const QString& path);

  QString preprocessor() const;
  void setPreprocessor(const QString& name);
  control::PreprocessorParams params() const;
  // By key, or by A1111's slider slot (1, 2) for parameters read from a PNG.
  void setParam(const QString& key, double value);
  void setParamBySlot(int slot, double value);
  int resolution() const;
  void setResolution(int resolution);
  bool pixelPerfect() const;
  void setPixelPerfect(bool on);
  double weight() const;
  void setWeight(double weight);
  double start() const;
  double end() const;
  void setRange(double start, double end);
  pipelines::ControlMode controlMode() const;
  void setControlMode(pipelines::ControlMode mode);
  control::ResizeMode resizeMode() const;
  void setResizeMode(control::ResizeMode mode);

  // Scribble units: the drawn map (white lines on black), from the canvas.
  void setDrawnMap(const QImage& map);
  QImage drawnMap() const { return mDrawnMap; }
  // Pose units: the people in pixels of poseCanvas() (the output size when the pose began).
  QList<widgets::PoseEditor::Person> people() const { return mPeople; }
  void setPeople(const QList<widgets::PoseEditor::Person>& people);
  QSize poseCanvas() const { return mPoseCanvas; }
  // The annotator folders of the page (where network weights are looked for).
  QStringList annotatorDirs() const { return mContext.annotatorDirs ? mContext.annotatorDirs() : QStringList(); }

  // The control map as the preprocessor left it (any size); null until one is computed.
  QImage map() const { return mMap; }
  // Computing, or about to (a change waits out its quiet spell).
  bool isBusy() const;
  // Why the unit cannot guide a generation ("no ControlNet model", "no picture"...); empty when
  // it can.
  QString problem() const;
  ControlUnitJob job() const;
  // Recomputes the map (e.g. the output size changed: Pixel Perfect and poses follow it).
  void refresh();
  // Stops computing the map (the page's Cancel while it waits for it). The unit keeps no map of
  // its current settings until computeIfCancelled() or a change computes it again.
  void cancel();
  bool wasCancelled() const { return mCancelled; }
  void computeIfCancelled();

  // Everything a later session needs to show the unit again (ControlUnitState says what).
  ControlUnitState state() const;
  // The unit as `state` describes it. A model or picture file that is no longer there leaves a
  // note in the unit (noteText()) and the rest restored; nothing is asked.
  void restoreState(const ControlUnitState& state);
  // The note about a vanished model or picture; empty when none.
  QString noteText() const;

  // For tests and screenshots.
  QLabel* previewLabel() const { return mPreview; }
  QLabel* messageLabel() const { return mMessage; }
  QComboBox* modelCombo() const { return mModel; }
  QComboBox* sourceCombo() const { return mSourceCombo; }
  QComboBox* preprocessorCombo() const { return mPreprocessor; }
  QDoubleSpinBox* paramSpin(const QString& key) const;
  QPushButton* editButton() const { return mEdit; }

 Q_SIGNALS:
  void removeRequested();
  void moveRequested(int delta);
  // The unit wants its scribble drawn / its pose edited (the page shows the canvas or editor).
  void drawRequested();
  void poseEditRequested();
  void mapChanged();
  void busyChanged(bool busy);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build();
  void retranslate();
  void rebuildParams();
  void updateSourceView();
  void updateResolutionView();
  void chooseFile();
  void takeSource();
  void schedule(int delayMs = 250);
  void startPreprocessing();
  void showMap(const QImage& map);
  void showMessage(const QString& text, bool error);
  // The message label: the last preprocessing error, else the note, else hidden.
  void updateMessage();
  void setNote(const QString& note);
  void setBusy(bool busy);
  // The map's input as the preprocessor sees it (null when the source has nothing).
  QImage inputImage() const;

  Context mContext;
  Source mSource = Source::File;
  QImage mSourceImage;
  QString mSourceName;
  QString mSourcePath;  // Source::File: the picture's file
  // A restored model that the library does not list (yet): chosen as soon as it does.
  QString mWantedModel;
  QString mModelNote;   // the restored model is gone
  QString mSourceNote;  // the restored picture, drawing or pose is gone
  bool mCancelled = false;
  QList<std::pair<QString, QString>> mModels;  // as setModels gave them
  QString mNoModels;
  QImage mDrawnMap;
  QList<widgets::PoseEditor::Person> mPeople;
  QSize mPoseCanvas;
  QImage mMap;
  QString mError;  // of the last preprocessing
  bool mBusy = false;
  quint64 mRun = 0;  // results of older runs are dropped
  std::stop_source mStop;
  QTimer* mDebounce;

  QToolButton* mExpand;
  QWidget* mDetails;
  QCheckBox* mEnabled;
  QLabel* mTitle;
  QToolButton* mUp;
  QToolButton* mDown;
  QToolButton* mRemove;
  QLabel* mPreview;
  QComboBox* mSourceCombo;
  QPushButton* mEdit;  // Open… / Draw / Edit Pose / Take
  QLabel* mSourceLabel;
  QLabel* mMessage;
  QComboBox* mModel;
  QComboBox* mPreprocessor;
  QWidget* mParamBox;
  QFormLayout* mParamForm;
  std::map<std::string, QDoubleSpinBox*, std::less<>> mParamSpins;
  QSpinBox* mResolution;
  QCheckBox* mPixelPerfect;
  QDoubleSpinBox* mWeight;
  QDoubleSpinBox* mStart;
  QDoubleSpinBox* mEnd;
  QComboBox* mControlMode;
  QComboBox* mResizeMode;
  QFormLayout* mForm;
};

}  // namespace kiln::app
