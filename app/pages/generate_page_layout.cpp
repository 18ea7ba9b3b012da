// The Generate page's widgets: the settings, canvas and gallery panels.
#include "pages/generate_page.h"

#include <QAction>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QListView>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSlider>
#include <QSplitter>
#include <QTabBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "bridge/resource_paths.h"
#include "pages/control_unit_editor.h"
#include "pages/controlnet_panel.h"
#include "pages/gallery_model.h"
#include "pages/gallery_panel.h"
#include "pages/generation_form_view.h"
#include "pages/generation_queue.h"
#include "pages/pose_editor_panel.h"
#include "schedulers/scheduler_kind.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "text/clip_tokenizer.h"
#include "widgets/image_canvas.h"
#include "widgets/message_banner.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

const QString kSplitterKey = QStringLiteral("generate/splitter");
const char* const kIconPath = "kilnIconPath";

GeneratePage::Mode modeFromId(const QString& id) {
  if (id == QLatin1String("img2img")) return GeneratePage::Mode::ImageToImage;
  if (id == QLatin1String("inpaint")) return GeneratePage::Mode::Inpaint;
  return GeneratePage::Mode::TextToImage;
}

QToolButton* toolButton(QAction* action, QWidget* parent, bool text = false) {
  auto* button = new QToolButton(parent);
  button->setDefaultAction(action);
  button->setAutoRaise(true);
  button->setToolButtonStyle(text ? Qt::ToolButtonTextBesideIcon : Qt::ToolButtonIconOnly);
  return button;
}

}  // namespace

GeneratePage::GeneratePage(ModelLibrary* library, AppSettings* settings, QWidget* parent)
    : QWidget(parent),
      mLibrary(library),
      mSettings(settings),
      mGenerationSettings(std::make_unique<GenerationSettings>(settings)),
      mGallery(new GalleryModel(this)),
      mWorker(new EngineWorker) {
  setAcceptDrops(true);
  mEngineThread.setObjectName(QStringLiteral("kiln-engine"));
  mWorker->moveToThread(&mEngineThread);
  connect(&mEngineThread, &QThread::finished, mWorker, &QObject::deleteLater);
  connect(mWorker, &EngineWorker::stageChanged, this, &GeneratePage::onStage);
  connect(mWorker, &EngineWorker::progress, this, &GeneratePage::onProgress);
  connect(mWorker, &EngineWorker::preview, this, &GeneratePage::onPreview);
  connect(mWorker, &EngineWorker::imageReady, this, &GeneratePage::onImage);
  connect(mWorker, &EngineWorker::warning, this, &GeneratePage::onWarning);
  connect(mWorker, &EngineWorker::finished, this, &GeneratePage::onFinished);
  connect(mWorker, &EngineWorker::failed, this, &GeneratePage::onFailed);
  connect(mWorker, &EngineWorker::cancelled, this, &GeneratePage::onCancelled);
  // Jobs of others on this worker (the API server's): a Generate waits behind them, and says so.
  connect(mWorker, &EngineWorker::started, this, [this](quint64 id) {
    if (id != mJob) mOtherJobs.insert(id);
  });
  for (auto ended : {&EngineWorker::finished, &EngineWorker::cancelled})
    connect(mWorker, ended, this, [this](quint64 id) { mOtherJobs.remove(id); });
  connect(mWorker, &EngineWorker::failed, this, [this](quint64 id, const UserMessage&) { mOtherJobs.remove(id); });
  mEngineThread.start();

  mGenerate = new QAction(tr("&Generate"), this);
  mGenerate->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  mGenerate->setToolTip(tr("Generate images with these settings (Ctrl+Enter)"));
  mGenerate->setProperty(kIconPath, QStringLiteral(":/icons/generate.svg"));
  connect(mGenerate, &QAction::triggered, this, &GeneratePage::generate);
  mCancel = new QAction(tr("&Cancel"), this);
  mCancel->setShortcut(QKeySequence(Qt::Key_Escape));
  mCancel->setToolTip(tr("Stop after the current step (Esc)"));
  connect(mCancel, &QAction::triggered, this, &GeneratePage::cancel);
  addAction(mGenerate);
  addAction(mCancel);

  mOpenInput = new QAction(tr("Open Image…"), this);
  mOpenInput->setToolTip(tr("Open the image to start from (or drop one on the canvas)"));
  mOpenInput->setProperty(kIconPath, QStringLiteral(":/icons/image-open.svg"));
  connect(mOpenInput, &QAction::triggered, this, &GeneratePage::chooseInputImage);
  mBrush = new QAction(tr("Brush"), this);
  mBrush->setCheckable(true);
  mBrush->setChecked(true);
  mBrush->setToolTip(tr("Paint the area to repaint (B; [ and ] change the size)"));
  mBrush->setShortcut(QKeySequence(Qt::Key_B));
  mBrush->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  mBrush->setProperty(kIconPath, QStringLiteral(":/icons/brush.svg"));
  mEraser = new QAction(tr("Eraser"), this);
  mEraser->setCheckable(true);
  mEraser->setToolTip(tr("Erase the mask (E)"));
  mEraser->setShortcut(QKeySequence(Qt::Key_E));
  mEraser->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  mEraser->setProperty(kIconPath, QStringLiteral(":/icons/eraser.svg"));
  connect(mBrush, &QAction::triggered, this, [this] {
    mBrush->setChecked(true);
    mEraser->setChecked(false);
    updateModeView();
  });
  connect(mEraser, &QAction::triggered, this, [this] {
    mEraser->setChecked(true);
    mBrush->setChecked(false);
    updateModeView();
  });
  mClearMask = new QAction(tr("Clear Mask"), this);
  mClearMask->setProperty(kIconPath, QStringLiteral(":/icons/clear.svg"));
  mDoneDrawing = new QAction(tr("Done Drawing"), this);
  mDoneDrawing->setToolTip(tr("Stop drawing the ControlNet scribble (the unit keeps it)"));
  connect(mDoneDrawing, &QAction::triggered, this, &GeneratePage::endScribble);
  mFit = new QAction(tr("Fit to View"), this);
  mFit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
  mFit->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  mFit->setProperty(kIconPath, QStringLiteral(":/icons/fit.svg"));
  addAction(mFit);

  mSplitter = new QSplitter(Qt::Horizontal, this);
  mSplitter->setObjectName(QStringLiteral("generateSplitter"));
  mSplitter->setChildrenCollapsible(false);
  mSplitter->addWidget(buildSettingsPanel());
  mSplitter->addWidget(buildCanvasPanel());
  mGalleryPanel = new GalleryPanel(mGallery, mGenerationSettings.get(), this);
  mSplitter->addWidget(mGalleryPanel);
  mSplitter->setStretchFactor(0, 0);
  mSplitter->setStretchFactor(1, 1);
  mSplitter->setStretchFactor(2, 0);
  mSplitter->setSizes({360, 700, 300});
  mSplitter->restoreState(mSettings->viewState(kSplitterKey));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(mSplitter);

  // Undo/redo follow the input canvas's stack.
  mUndo = mInput->undoStack()->createUndoAction(this, tr("Undo"));
  mUndo->setShortcut(QKeySequence::Undo);
  mUndo->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  mUndo->setProperty(kIconPath, QStringLiteral(":/icons/undo.svg"));
  mRedo = mInput->undoStack()->createRedoAction(this, tr("Redo"));
  mRedo->setShortcut(QKeySequence::Redo);
  mRedo->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  mRedo->setProperty(kIconPath, QStringLiteral(":/icons/redo.svg"));
  mInput->addAction(mUndo);
  mInput->addAction(mRedo);
  if (auto* tools = mMaskTools->layout()) {
    auto* row = static_cast<QHBoxLayout*>(tools);
    row->insertWidget(row->count() - 1, toolButton(mUndo, mMaskTools));
    row->insertWidget(row->count() - 1, toolButton(mRedo, mMaskTools));
  }
  // One button clears the layer being painted: the mask, or the scribble while one is drawn.
  connect(mClearMask, &QAction::triggered, this, [this] {
    if (mScribbleUnit)
      mInput->clearScribble();
    else
      mInput->clearMask();
  });
  connect(mInput, &widgets::ImageCanvas::scribbleChanged, this, [this] {
    if (!mScribbleUnit) return;
    mScribbleOwner = mScribbleUnit;
    mScribbleUnit->setDrawnMap(mInput->hasScribble() ? mInput->scribbleControlMap() : QImage());
  });
  connect(mFit, &QAction::triggered, this, [this] {
    mInput->zoomToFit();
    mOutput->zoomToFit();
  });

  // The token counter reads the bundled CLIP vocabulary (the same BPE for every SD family),
  // loaded off the GUI thread.
  auto* tokenizerLoad = new QFutureWatcher<std::shared_ptr<const text::CLIPTokenizer>>(this);
  connect(tokenizerLoad, &QFutureWatcherBase::finished, this, [this, tokenizerLoad] {
    mForm->setTokenizer(tokenizerLoad->result());
    tokenizerLoad->deleteLater();
  });
  tokenizerLoad->setFuture(QtConcurrent::run([]() -> std::shared_ptr<const text::CLIPTokenizer> {
    try {
      return std::make_shared<const text::CLIPTokenizer>(text::CLIPTokenizer::from_folder(bridge::clipVocabularyDir()));
    } catch (const std::exception&) {
      return nullptr;  // no counter: the prompt still works
    }
  }));

  connect(mLibrary, &ModelLibrary::entryAdded, this, &GeneratePage::updateModels);
  connect(mLibrary, &ModelLibrary::entryChanged, this, &GeneratePage::updateModels);
  connect(mLibrary, &ModelLibrary::entryRemoved, this, &GeneratePage::updateModels);
  connect(mGalleryPanel, &GalleryPanel::selectionChanged, this, &GeneratePage::updateSelection);
  connect(mGalleryPanel, &GalleryPanel::message, this, &GeneratePage::message);
  connect(mGalleryPanel->upscaleAction(), &QAction::triggered, this, &GeneratePage::chooseUpscale);
  connect(mGalleryPanel, &GalleryPanel::failed, this, &GeneratePage::showError);
  connect(mGalleryPanel->reuseAction(), &QAction::triggered, this, &GeneratePage::reuseSelected);
  connect(mGalleryPanel->toImageToImageAction(), &QAction::triggered, this,
          [this] { sendSelectedToInput(Mode::ImageToImage); });
  connect(mGalleryPanel->toInpaintAction(), &QAction::triggered, this, [this] { sendSelectedToInput(Mode::Inpaint); });
  connect(mInput, &widgets::ImageCanvas::maskChanged, this, &GeneratePage::updateActions);

  const GenerationForm saved = mGenerationSettings->form();
  updateModels();
  mControlNet->setBaseModel(selectedModelPath());
  mControlNet->attachSettings(mGenerationSettings.get());
  setForm(saved);
  connectPrecision();
  setMode(modeFromId(saved.mode));
  updateIcons();
  updateSelection();
  updateActions();
}

GeneratePage::~GeneratePage() {
  saveForm();
  mSettings->setViewState(kSplitterKey, mSplitter->saveState());
  mStop.request_stop();
  mEngineThread.quit();
  mEngineThread.wait();
}

QWidget* GeneratePage::buildSettingsPanel() {
  auto* panel = new QWidget(this);
  panel->setObjectName(QStringLiteral("generateSettings"));
  mForm = new GenerationFormView(panel);
  connect(mForm, &GenerationFormView::modelChanged, this, &GeneratePage::updateActions);
  connect(mForm, &GenerationFormView::modelChanged, this, &GeneratePage::adaptSizeToModel);
  connect(mForm, &GenerationFormView::modelChanged, this, &GeneratePage::adaptFewStepToModel);
  connect(mForm, &GenerationFormView::loraChosen, this, &GeneratePage::applyFewStepDefaults);
  connect(mForm, &GenerationFormView::modelChanged, this, &GeneratePage::updateLoRALibrary);

  const auto scrolled = [panel](QWidget* content) {
    auto* scroll = new QScrollArea(panel);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    return scroll;
  };
  // The units have a tab of their own: below a long form they would be out of sight.
  mSettingsTabs = new QTabWidget(panel);
  mSettingsTabs->setObjectName(QStringLiteral("settingsTabs"));
  mSettingsTabs->setDocumentMode(true);
  mSettingsTabs->addTab(scrolled(mForm), QString());
  mSettingsTabs->addTab(scrolled(buildControlNetPanel()), QString());

  mBanner = new widgets::MessageBanner(panel);
  mBanner->setObjectName(QStringLiteral("generateBanner"));
  mBanner->hide();

  mGenerateButton = new QPushButton(panel);
  mGenerateButton->setObjectName(QStringLiteral("generateButton"));
  mGenerateButton->setText(mGenerate->text().remove(QLatin1Char('&')));
  mGenerateButton->setToolTip(mGenerate->toolTip());
  mGenerateButton->setDefault(true);
  mGenerateButton->setMinimumHeight(fontMetrics().height() * 2 + 8);
  QFont big = mGenerateButton->font();
  big.setWeight(QFont::DemiBold);
  big.setPointSizeF(big.pointSizeF() * 1.1);
  mGenerateButton->setFont(big);
  connect(mGenerateButton, &QPushButton::clicked, mGenerate, &QAction::trigger);
  mCancelButton = new QPushButton(mCancel->text().remove(QLatin1Char('&')), panel);
  mCancelButton->setObjectName(QStringLiteral("cancelButton"));
  mCancelButton->setToolTip(mCancel->toolTip());
  mCancelButton->setMinimumHeight(mGenerateButton->minimumHeight());
  connect(mCancelButton, &QPushButton::clicked, mCancel, &QAction::trigger);
  auto* plotButton = new QPushButton(tr("Plot…"), panel);
  plotButton->setObjectName(QStringLiteral("plotButton"));
  plotButton->setToolTip(tr("X/Y/Z plot: these settings over up to three axes of values, in one labelled grid"));
  plotButton->setMinimumHeight(mGenerateButton->minimumHeight());
  connect(plotButton, &QPushButton::clicked, this, [this] { choosePlot(); });
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(mGenerateButton, 3);
  buttons->addWidget(mCancelButton, 1);
  buttons->addWidget(plotButton, 1);

  mProgress = new QProgressBar(panel);
  mProgress->setObjectName(QStringLiteral("generateProgress"));
  mProgress->setRange(0, 1000);
  mProgress->setTextVisible(false);
  mProgress->setMaximumHeight(6);
  mStatus = new QLabel(panel);
  mStatus->setObjectName(QStringLiteral("generateStatus"));
  mStatus->setForegroundRole(QPalette::PlaceholderText);
  mStatus->setWordWrap(true);
  mStatus->setText(tr("Ready"));

  auto* bottom = new QVBoxLayout;
  bottom->setContentsMargins(14, 6, 10, 12);
  bottom->setSpacing(6);
  bottom->addWidget(mBanner);
  bottom->addLayout(buttons);
  bottom->addWidget(mProgress);
  bottom->addWidget(mStatus);
  bottom->addWidget(buildQueueBox(panel));

  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(mSettingsTabs, 1);
  layout->addLayout(bottom);
  panel->setMinimumWidth(300);
  return panel;
}

QWidget* GeneratePage::buildCanvasPanel() {
  auto* panel = new QWidget(this);
  mModeTabs = new QTabBar(panel);
  mModeTabs->setObjectName(QStringLiteral("modeTabs"));
  mModeTabs->setDrawBase(false);
  mModeTabs->setExpanding(false);
  for (int i = 0; i < 3; ++i) mModeTabs->addTab(QString());
  retranslateModes();
  connect(mModeTabs, &QTabBar::currentChanged, this, [this](int index) { setMode(static_cast<Mode>(index)); });

  // Row 1: the mode and the view; row 2 (image to image, inpaint): the input and the mask tools.
  mCanvasTools = new QWidget(panel);
  auto* tools = new QHBoxLayout(mCanvasTools);
  tools->setContentsMargins(8, 0, 8, 4);
  tools->setSpacing(2);
  tools->addWidget(toolButton(mOpenInput, mCanvasTools, true));

  mMaskTools = new QWidget(mCanvasTools);
  auto* mask = new QHBoxLayout(mMaskTools);
  mask->setContentsMargins(12, 0, 0, 0);
  mask->setSpacing(2);
  mask->addWidget(toolButton(mBrush, mMaskTools));
  mask->addWidget(toolButton(mEraser, mMaskTools));
  mBrushSize = new QSlider(Qt::Horizontal, mMaskTools);
  mBrushSize->setObjectName(QStringLiteral("brushSizeSlider"));
  mBrushSize->setRange(2, 256);
  mBrushSize->setMinimumWidth(60);
  mBrushSize->setMaximumWidth(120);
  mHardness = new QSlider(Qt::Horizontal, mMaskTools);
  mHardness->setObjectName(QStringLiteral("hardnessSlider"));
  mHardness->setRange(0, 100);
  mHardness->setMinimumWidth(50);
  mHardness->setMaximumWidth(90);
  mHardness->setToolTip(tr("Brush hardness: soft edge to hard edge"));
  mask->addSpacing(8);
  mask->addWidget(new QLabel(tr("Size"), mMaskTools));
  mask->addWidget(mBrushSize, 1);
  mask->addSpacing(8);
  mask->addWidget(new QLabel(tr("Hardness"), mMaskTools));
  mask->addWidget(mHardness, 1);
  mask->addSpacing(8);
  mask->addWidget(toolButton(mClearMask, mMaskTools));
  mask->addStretch(1);
  tools->addWidget(mMaskTools, 1);
  tools->addStretch(0);

  auto* top = new QHBoxLayout;
  top->setContentsMargins(8, 8, 8, 4);
  top->setSpacing(8);
  top->addWidget(mModeTabs);
  top->addStretch(1);
  // In the top row: the tools row is full when the canvases share a narrow middle.
  mDoneDrawingButton = toolButton(mDoneDrawing, panel, true);
  top->addWidget(mDoneDrawingButton);
  top->addWidget(toolButton(mFit, panel));

  mInput = new widgets::ImageCanvas(panel);
  mInput->setObjectName(QStringLiteral("inputCanvas"));
  mInput->setAcceptDrops(true);
  mInput->setPlaceholderText(tr("Drop an image here, or open one, to start from it"));
  connect(mInput, &widgets::ImageCanvas::fileDropped, this, [this](const QString& path) { openFile(path, true); });
  connect(mBrushSize, &QSlider::valueChanged, mInput, &widgets::ImageCanvas::setBrushSize);
  connect(mInput, &widgets::ImageCanvas::brushSizeChanged, mBrushSize, &QSlider::setValue);
  connect(mHardness, &QSlider::valueChanged, this, [this](int v) { mInput->setBrushHardness(v / 100.0); });
  // Mask brush and scribble pen each keep their size and hardness: the sliders follow the layer.
  connect(mInput, &widgets::ImageCanvas::layerChanged, this, [this] {
    const QSignalBlocker block(mHardness);
    mHardness->setValue(static_cast<int>(mInput->brushHardness() * 100 + 0.5));
  });
  mOutput = new widgets::ImageCanvas(panel);
  mOutput->setObjectName(QStringLiteral("outputCanvas"));

  mCanvasSplitter = new QSplitter(Qt::Horizontal, panel);
  mCanvasSplitter->setObjectName(QStringLiteral("canvasSplitter"));
  mCanvasSplitter->setChildrenCollapsible(false);
  mPosePanel = new PoseEditorPanel(panel);
  mPosePanel->hide();
  connect(mPosePanel, &PoseEditorPanel::doneRequested, this, &GeneratePage::endPoseEdit);
  connect(mPosePanel, &PoseEditorPanel::message, this, &GeneratePage::message);
  mCanvasSplitter->addWidget(mPosePanel);
  mCanvasSplitter->addWidget(mInput);
  mCanvasSplitter->addWidget(mOutput);

  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(top);
  layout->addWidget(mCanvasTools);
  layout->addWidget(mCanvasSplitter, 1);
  panel->setMinimumWidth(360);
  return panel;
}

QWidget* GeneratePage::buildControlNetPanel() {
  ControlUnitEditor::Context context;
  context.outputSize = [this] {
    const GenerationForm f = mForm->form();
    return QSize(f.width, f.height);
  };
  context.canvasImage = [this] { return mInput->hasImage() && !mBlankScribbleSheet ? mInput->image() : QImage(); };
  context.lastImage = [this] { return mGallery->rowCount() > 0 ? mGallery->item(0).image : QImage(); };
  // The library's folders, and their "annotators" sub-folder where the Models page's catalog puts
  // preprocessor weights.
  context.annotatorDirs = [this] {
    QStringList dirs;
    for (const QString& folder : mLibrary->folders()) dirs << folder << QDir(folder).filePath(QStringLiteral("annotators"));
    return dirs;
  };
  mControlNet = new ControlNetPanel(mLibrary, context, this);
  mControlNet->setObjectName(QStringLiteral("controlNetPanel"));
  connect(mControlNet, &ControlNetPanel::drawRequested, this, &GeneratePage::beginScribble);
  connect(mControlNet, &ControlNetPanel::poseEditRequested, this, &GeneratePage::beginPoseEdit);
  connect(mControlNet, &ControlNetPanel::unitRemoved, this, [this](ControlUnitEditor* unit) {
    if (unit == mScribbleUnit) endScribble();
    if (unit == mPosePanel->unit()) endPoseEdit();
  });
  connect(mForm, &GenerationFormView::modelChanged, this, [this] { mControlNet->setBaseModel(selectedModelPath()); });
  connect(mForm, &GenerationFormView::sizeChanged, mControlNet, &ControlNetPanel::refreshMaps);
  connect(mControlNet, &ControlNetPanel::unitsChanged, this, &GeneratePage::updateControlNetTab);
  connect(mControlNet, &ControlNetPanel::message, this, &GeneratePage::message);
  // Queued: a unit says it is idle before it takes its new map.
  connect(mControlNet, &ControlNetPanel::busyChanged, this, &GeneratePage::generateAfterMaps, Qt::QueuedConnection);
  connect(mControlNet, &ControlNetPanel::unitsChanged, this, &GeneratePage::generateAfterMaps, Qt::QueuedConnection);
  auto* box = new QWidget(this);
  auto* layout = new QVBoxLayout(box);
  // The form's own margins, so the panel lines up with it.
  layout->setContentsMargins(14, 12, 10, 12);
  layout->addWidget(mControlNet);
  layout->addStretch(1);
  return box;
}

void GeneratePage::updateControlNetTab() {
  mSettingsTabs->setTabText(0, tr("Settings"));
  int enabled = 0;
  for (const ControlUnitEditor* unit : mControlNet->units()) enabled += unit->isUnitEnabled() ? 1 : 0;
  mSettingsTabs->setTabText(1, enabled > 0 ? tr("ControlNet (%1)").arg(enabled) : tr("ControlNet"));
  mSettingsTabs->setTabToolTip(1, tr("Units that guide the image with edges, depth, lines, a scribble or a pose"));
}

void GeneratePage::showControlNet() { mSettingsTabs->setCurrentIndex(1); }

void GeneratePage::retranslateModes() {
  updateControlNetTab();
  mModeTabs->setTabText(0, tr("Text to Image"));
  mModeTabs->setTabText(1, tr("Image to Image"));
  mModeTabs->setTabText(2, tr("Inpaint"));
}

void GeneratePage::updateIcons() {
  const QColor color = palette().color(QPalette::ButtonText);
  for (QAction* action : {mGenerate, mOpenInput, mBrush, mEraser, mUndo, mRedo, mClearMask, mFit}) {
    action->setIcon(widgets::Theme::tinted(action->property(kIconPath).toString(), color));
  }
  mGenerateButton->setIcon(mGenerate->icon());
}

void GeneratePage::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    updateIcons();
    updateModeView();
  }
  if (event->type() == QEvent::LanguageChange) retranslateModes();
}

// The queue under the Generate button: hidden while empty; Up / Down / Repeat / Remove act on the
// selected job, Clear empties it (the running job is not in it: Cancel stops that one).
QWidget* GeneratePage::buildQueueBox(QWidget* parent) {
  mQueue = new GenerationQueue(this);
  mQueueBox = new QWidget(parent);
  mQueueBox->setObjectName(QStringLiteral("queueBox"));
  auto* title = new QLabel(mQueueBox);
  title->setObjectName(QStringLiteral("queueTitle"));
  mQueueView = new QListView(mQueueBox);
  mQueueView->setObjectName(QStringLiteral("queueView"));
  mQueueView->setModel(mQueue);
  mQueueView->setSelectionMode(QAbstractItemView::SingleSelection);
  mQueueView->setUniformItemSizes(true);
  mQueueView->setMaximumHeight(fontMetrics().height() * 6);
  const auto button = [this](const QString& text, const QString& tip, const QString& name) {
    auto* b = new QToolButton(mQueueBox);
    b->setText(text);
    b->setToolTip(tip);
    b->setObjectName(name);
    b->setAutoRaise(true);
    return b;
  };
  auto* up = button(tr("Up"), tr("Run the selected job earlier"), QStringLiteral("queueUp"));
  auto* down = button(tr("Down"), tr("Run the selected job later"), QStringLiteral("queueDown"));
  auto* repeat = button(tr("Repeat"), tr("Queue the selected job once more (a new seed when its seed was random)"),
                        QStringLiteral("queueRepeat"));
  auto* remove = button(tr("Remove"), tr("Take the selected job out of the queue"), QStringLiteral("queueRemove"));
  auto* clear = button(tr("Clear"), tr("Take every waiting job out of the queue"), QStringLiteral("queueClear"));
  const auto row = [this] {
    const QModelIndexList rows = mQueueView->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.first().row();
  };
  const auto reselect = [this](int r) {
    if (r >= 0 && r < mQueue->count()) mQueueView->setCurrentIndex(mQueue->index(r));
  };
  connect(up, &QToolButton::clicked, this, [this, row, reselect] {
    const int r = row();
    mQueue->moveUp(r);
    reselect(r - 1);
  });
  connect(down, &QToolButton::clicked, this, [this, row, reselect] {
    const int r = row();
    mQueue->moveDown(r);
    reselect(r + 1);
  });
  connect(repeat, &QToolButton::clicked, this, [this, row] { mQueue->repeat(row(), mNextJob++); });
  connect(remove, &QToolButton::clicked, this, [this, row] { mQueue->remove(row()); });
  connect(clear, &QToolButton::clicked, mQueue, &GenerationQueue::clear);
  auto* tools = new QHBoxLayout;
  tools->setSpacing(2);
  for (QToolButton* b : {up, down, repeat, remove}) tools->addWidget(b);
  tools->addStretch(1);
  tools->addWidget(clear);
  auto* layout = new QVBoxLayout(mQueueBox);
  layout->setContentsMargins(0, 4, 0, 0);
  layout->setSpacing(2);
  layout->addWidget(title);
  layout->addWidget(mQueueView);
  layout->addLayout(tools);
  const auto update = [this, title](int count) {
    mQueueBox->setVisible(count > 0);
    title->setText(tr("Queue: %n waiting", nullptr, count));
    if (isGenerating()) setActivity(mActivityText, mActivityPercent);
  };
  connect(mQueue, &GenerationQueue::countChanged, this, update);
  // A removed or cleared plot cell ends its plot (after the running job started from the queue).
  connect(mQueue, &GenerationQueue::countChanged, this, [this] { QTimer::singleShot(0, this, &GeneratePage::dropOrphanPlots); });
  update(0);
  return mQueueBox;
}

}  // namespace kiln::app

