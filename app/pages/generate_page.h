#pragma once
// The Generate page: prompts with A1111 syntax and a token counter, the model and the sampling
// settings on the left; text-to-image, image-to-image and inpainting on a canvas in the middle
// with live previews; the session's gallery with each image's parameters on the right. The
// engine runs in one persistent EngineWorker thread; the GUI thread only paints.

#include <QHash>
#include <QSet>
#include <QImage>
#include <QPointer>
#include <QThread>
#include <QWidget>

#include <array>
#include <memory>
#include <optional>
#include <stop_token>

#include "bridge/generation_parameters.h"
#include "bridge/xyz_grid.h"
#include "jobs/engine_worker.h"
#include "pages/train_session.h"
#include "state/generation_settings.h"

class QAction;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListView;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QSplitter;
class QStackedWidget;
class QTabBar;
class QTabWidget;
class QToolButton;

namespace kiln::widgets {
class ImageCanvas;
class MessageBanner;
class PromptEdit;
}  // namespace kiln::widgets

namespace kiln::app {

class AppSettings;
class ControlNetPanel;
class ControlUnitEditor;
class GalleryModel;
class GalleryPanel;
class GenerationFormView;
class GenerationQueue;
class ModelLibrary;
class PoseEditorPanel;
struct ModelEntry;

class GeneratePage : public QWidget {
  Q_OBJECT

 public:
  enum class Mode { TextToImage, ImageToImage, Inpaint };

  GeneratePage(ModelLibrary* library, AppSettings* settings, QWidget* parent = nullptr);
  // Stops a running generation and waits for the engine thread.
  ~GeneratePage() override;

  QAction* generateAction() const { return mGenerate; }
  QAction* cancelAction() const { return mCancel; }
  // Also while Generate waits for a ControlNet unit's map (waitsForControlMaps()).
  bool isGenerating() const { return mJob != 0 || mWaitingForMaps; }
  bool waitsForControlMaps() const { return mWaitingForMaps; }

  Mode mode() const { return mMode; }
  void setMode(Mode mode);

  // The form as it stands (the seed field's value; -1 when random).
  GenerationForm form() const;
  void setForm(const GenerationForm& form);
  // Fills the form from an image's parameters (prompt, sampler, seed, size, model if known...).
  void applyParameters(const bridge::GenerationParameters& parameters);
  // The size follows the chosen model: its native size when the size was the previous model's
  // native one, or is outside what the new model accepts (a quarter to four times native).
  void adaptSizeToModel();
  // A few-step model or LoRA (LCM, Turbo, Lightning, Hyper-SD, TCD; convert/few_step.h) sets the
  // sampler, steps and CFG scale its publisher recommends, and says so.
  void adaptFewStepToModel();
  void applyFewStepDefaults(const QString& path);
  // An X/Y/Z plot of the form's settings: every cell queued as a job, the labelled grid added to
  // the gallery (and saved) when the last one is made. Returns "" or why nothing was queued.
  QString queuePlot(const std::array<std::optional<bridge::GridAxis>, 3>& axes);
  // Asks for the axes (XyzPlotDialog, X preset to `xAxis` when given), then queuePlot.
  void choosePlot();
  void choosePlot(const QString& xAxis);
  // The Train page's "Compare Checkpoints": the form set for the session (text-to-image, its
  // sample prompt, seed and resolution; a LoRA session's base model and no other LoRA), then the
  // plot dialog with the checkpoints as X. prepareComparison does the first part and returns ""
  // or why it cannot.
  void compareCheckpoints(const kiln::app::CheckpointComparison& comparison);
  QString prepareComparison(const kiln::app::CheckpointComparison& comparison);
  // Upscales gallery image `row` with an ESRGAN-family model file by `scale` (0: the model's),
  // off the GUI thread; the result goes on top of the gallery (and is saved) with A1111's
  // "Postprocess upscale by / upscaler" in its parameters. The selected image's action asks for
  // the model file and the scale first.
  void upscaleRow(int row, const QString& modelFile, double scale);
  void chooseUpscale();
  bool isUpscaling() const { return mUpscaling; }
  // Jobs waiting for the running one (Generate while generating adds to it).
  GenerationQueue* queue() const { return mQueue; }
  // A dropped or opened file: parameters of a Kiln/A1111 PNG, or the image-to-image input.
  // `asInput`: the file was dropped on the input canvas.
  void openFile(const QString& path, bool asInput = false);
  // The input of image-to-image and inpainting; switches to image-to-image from text-to-image.
  void setInputImage(const QImage& image);
  // The seed of the last generation (drawn or typed); nullopt before the first.
  std::optional<quint64> lastSeed() const { return mLastSeed; }
  QString selectedModelPath() const;
  void selectModel(const QString& path);
  GenerationSettings* generationSettings() const { return mGenerationSettings.get(); }

  // For tests and screenshots.
  GenerationFormView* formView() const { return mForm; }
  widgets::PromptEdit* promptEdit() const;
  widgets::PromptEdit* negativePromptEdit() const;
  widgets::ImageCanvas* inputCanvas() const { return mInput; }
  widgets::ImageCanvas* outputCanvas() const { return mOutput; }
  GalleryPanel* galleryPanel() const { return mGalleryPanel; }
  ControlNetPanel* controlNetPanel() const { return mControlNet; }
  PoseEditorPanel* poseEditorPanel() const { return mPosePanel; }
  // The unit whose scribble the input canvas draws (nullptr when none).
  ControlUnitEditor* scribbleUnit() const;
  GalleryModel* gallery() const { return mGallery; }
  QComboBox* modelCombo() const;
  QLineEdit* seedEdit() const;
  QLabel* statusLabel() const { return mStatus; }
  widgets::MessageBanner* banner() const { return mBanner; }
  EngineWorker* worker() const { return mWorker; }
  QThread* engineThread() { return &mEngineThread; }
  // The selected gallery item's row, -1 when none.
  int selectedRow() const;

 public Q_SLOTS:
  void generate();
  void cancel();
  void reuseSelected();
  void sendSelectedToInput(kiln::app::GeneratePage::Mode mode);
  void chooseInputImage();
  void chooseOutputFolder();
  // Draws `unit`'s scribble on the input canvas (a white sheet of the output size when there is
  // no picture), with the brush, eraser and undo of the mask tools; endScribble goes back.
  void beginScribble(kiln::app::ControlUnitEditor* unit);
  void endScribble();
  // Shows the pose editor for `unit` in place of the input canvas.
  void beginPoseEdit(kiln::app::ControlUnitEditor* unit);
  void endPoseEdit();
  // Brings the ControlNet tab of the settings forward.
  void showControlNet();

 Q_SIGNALS:
  // A short note for the status bar.
  void message(const QString& text);
  // What the engine does ("Step 4 of 20 · 2.1 it/s · 8 s left"), empty when idle; percent -1
  // when not known.
  void activityChanged(const QString& text, int percent);
  void generatingChanged(bool generating);

 protected:
  void changeEvent(QEvent* event) override;
  void showEvent(QShowEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QWidget* buildSettingsPanel();
  QWidget* buildCanvasPanel();
  QWidget* buildControlNetPanel();
  void retranslateModes();
  void updateControlNetTab();
  void updateIcons();
  void updateModels();
  void updateLoRALibrary();
  void updateModeView();
  void balanceCanvases();
  void updateActions();
  void updateSelection();
  void showError(const QString& title, const QString& text, const QString& details = {});
  void hideError();
  void setActivity(const QString& text, int percent);
  void saveForm();
  void connectPrecision();
  bridge::GenerationParameters parametersFromForm(quint64 seed) const;

  void onStage(quint64 id, kiln::app::EngineWorker::Stage stage);
  void onProgress(quint64 id, const kiln::app::GenerationProgress& progress);
  void onPreview(quint64 id, const QImage& image);
  void onImage(quint64 id, const kiln::app::GeneratedImage& image);
  void onWarning(quint64 id, const QString& text);
  void onFinished(quint64 id);
  void onFailed(quint64 id, const kiln::app::UserMessage& message);
  void onCancelled(quint64 id);
  void endJob(const QString& status);
  void startJob(GenerationJob job);
  GenerationJob jobFromForm(const QList<ControlUnitJob>& controlUnits, bool* fixedSeed);
  void plotImage(quint64 jobId, const GeneratedImage& image);
  void plotJobEnded(quint64 jobId, bool made);
  void dropOrphanPlots();
  void startNextQueued();
  QWidget* buildQueueBox(QWidget* parent);
  // Generate was pressed while a unit's map was being computed: once no enabled unit computes,
  // generates (or says what is missing).
  void generateAfterMaps();

  ModelLibrary* mLibrary;
  AppSettings* mSettings;
  std::unique_ptr<GenerationSettings> mGenerationSettings;
  GalleryModel* mGallery;

  QThread mEngineThread;
  EngineWorker* mWorker;
  quint64 mJob = 0;  // the running job, 0 when idle
  quint64 mNextJob = 1;
  std::stop_source mStop;
  int mJobImages = 0;
  int mJobRuns = 1;
  QSet<quint64> mOtherJobs;  // jobs of others (the API server) running or waiting on mWorker
  std::optional<quint64> mLastSeed;
  Mode mMode = Mode::TextToImage;
  bool mCanvasesBalanced = false;  // the first show shares the width between input and result
  // The input canvas holds a white sheet made for drawing a scribble, not a picture to start from.
  bool mBlankScribbleSheet = false;
  QPointer<ControlUnitEditor> mScribbleUnit;
  QPointer<ControlUnitEditor> mScribbleOwner;  // whose drawing the scribble layer holds
  bool mPosing = false;
  bool mWaitingForMaps = false;

  QAction* mGenerate;
  QAction* mCancel;
  QAction* mOpenInput;
  QAction* mBrush;
  QAction* mEraser;
  QAction* mUndo;
  QAction* mRedo;
  QAction* mClearMask;
  QAction* mDoneDrawing;
  QToolButton* mDoneDrawingButton;  // a tool button does not follow its action's visibility
  QAction* mFit;

  QSplitter* mSplitter;
  GenerationFormView* mForm;
  QTabWidget* mSettingsTabs;
  QPushButton* mGenerateButton;
  QPushButton* mCancelButton;
  QProgressBar* mProgress;
  QLabel* mStatus;
  widgets::MessageBanner* mBanner;

  QTabBar* mModeTabs;
  QWidget* mCanvasTools;
  QSlider* mBrushSize;
  QSlider* mHardness;
  QWidget* mMaskTools;
  QSplitter* mCanvasSplitter;
  widgets::ImageCanvas* mInput;
  widgets::ImageCanvas* mOutput;

  GalleryPanel* mGalleryPanel;
  ControlNetPanel* mControlNet;
  PoseEditorPanel* mPosePanel;
  GenerationQueue* mQueue;
  QListView* mQueueView;
  QWidget* mQueueBox;
  QString mActivityText;  // the job's activity without the queue count
  int mActivityPercent = 0;
  struct Plot {
    std::array<std::optional<bridge::GridAxis>, 3> axes;
    QList<QImage> images;  // by cell
    int made = 0;
    bridge::GenerationParameters parameters;  // the first cell's, for the grid's record
    QString outputFolder;
  };
  QHash<quint64, Plot> mPlots;                     // by plot id
  QHash<quint64, QPair<quint64, int>> mPlotCells;  // job id -> (plot id, cell)
  quint64 mNextPlot = 1;
  bool mUpscaling = false;
  QString mSizedForModel;  // the model the size was last adapted to (adaptSizeToModel)
  QString mFewStepModel;   // the model adaptFewStepToModel last looked at
};

}  // namespace kiln::app
