#include "pages/train_page.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <memory>

#include "pages/train_charts.h"
#include "pages/train_form_view.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/dataset_settings.h"
#include "widgets/empty_state.h"
#include "widgets/message_banner.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

class ScrollWidthKeeper : public QObject {
 public:
  ScrollWidthKeeper(QScrollArea* scroll, QWidget* content) : QObject(content), mScroll(scroll), mContent(content) {}

  bool eventFilter(QObject* watched, QEvent* event) override {
    if (watched == mContent && (event->type() == QEvent::LayoutRequest || event->type() == QEvent::Show))
      mScroll->setMinimumWidth(mContent->minimumSizeHint().width() + mScroll->verticalScrollBar()->sizeHint().width());
    return false;
  }

 private:
  QScrollArea* mScroll;
  QWidget* mContent;
};

}  // namespace

namespace {

const QString kSessionKey = QStringLiteral("train/session");

// The page's own keys, in the same file and format as AppSettings (like DatasetSettings).
std::unique_ptr<QSettings> pageSettings(const AppSettings* settings) {
  const QString file = settings->fileName();
  const bool ini = file.endsWith(QLatin1String(".ini"), Qt::CaseInsensitive);
  return std::make_unique<QSettings>(file, ini ? QSettings::IniFormat : QSettings::NativeFormat);
}
const QString kSplitterKey = QStringLiteral("train/splitter");
constexpr int kSampleIcon = 96;
constexpr int kLogLines = 5000;

QString durationText(double seconds) {
  const qint64 s = static_cast<qint64>(seconds + 0.5);
  if (s < 60) return TrainPage::tr("%n s", nullptr, static_cast<int>(s));
  if (s < 3600) return TrainPage::tr("%1:%2 min").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
  return TrainPage::tr("%1:%2 h").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0'));
}

bool isTrainableModel(const ModelEntry& e) {
  static const QStringList families{QStringLiteral("sd1"), QStringLiteral("sd2"), QStringLiteral("sdxl")};
  return e.isKnown() && families.contains(e.summary.family);
}

}  // namespace

TrainPage::TrainPage(ModelLibrary* library, AppSettings* settings, QWidget* parent)
    : QWidget(parent),
      mLibrary(library),
      mSettings(settings),
      mWorker(new TrainingWorker),
      mCheckTimer(new QTimer(this)) {
  setObjectName(QStringLiteral("trainPage"));
  mThread.setObjectName(QStringLiteral("kiln-training"));
  mWorker->moveToThread(&mThread);
  connect(&mThread, &QThread::finished, mWorker, &QObject::deleteLater);
  connect(mWorker, &TrainingWorker::stepDone, this, &TrainPage::onStep);
  connect(mWorker, &TrainingWorker::logLine, this, &TrainPage::appendLog);
  connect(mWorker, &TrainingWorker::sampleReady, this, &TrainPage::addSample);
  connect(mWorker, &TrainingWorker::checkpointSaved, this, &TrainPage::onCheckpoint);
  connect(mWorker, &TrainingWorker::finished, this, &TrainPage::onFinished);
  connect(mWorker, &TrainingWorker::stopped, this, &TrainPage::onStopped);
  connect(mWorker, &TrainingWorker::failed, this, &TrainPage::onFailed);
  connect(mWorker, &TrainingWorker::exported, this, &TrainPage::onExported);
  connect(mWorker, &TrainingWorker::exportFailed, this, &TrainPage::onExportFailed);
  mThread.start();

  mStart = new QAction(this);
  mStart->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  mStart->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(mStart, &QAction::triggered, this, &TrainPage::start);
  mPause = new QAction(this);
  mPause->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
  mPause->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(mPause, &QAction::triggered, this, &TrainPage::pause);
  mStopAction = new QAction(this);
  mStopAction->setShortcut(QKeySequence(Qt::Key_Escape));
  mStopAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(mStopAction, &QAction::triggered, this, &TrainPage::stopAndSave);
  addActions({mStart, mPause, mStopAction});
  mExportSession = new QAction(this);
  mExportSession->setObjectName(QStringLiteral("exportSessionAction"));
  connect(mExportSession, &QAction::triggered, this, &TrainPage::chooseExportSession);
  mImportSession = new QAction(this);
  mImportSession->setObjectName(QStringLiteral("importSessionAction"));
  connect(mImportSession, &QAction::triggered, this, &TrainPage::chooseImportSession);
  connect(&mTransferWatcher, &QFutureWatcherBase::finished, this, &TrainPage::onTransferDone);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->setObjectName(QStringLiteral("trainSplitter"));
  splitter->setChildrenCollapsible(false);
  splitter->addWidget(buildSettingsPanel());
  splitter->addWidget(buildRunPanel());
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({400, 900});
  splitter->restoreState(mSettings->viewState(kSplitterKey));
  connect(splitter, &QSplitter::splitterMoved, this,
          [this, splitter] { mSettings->setViewState(kSplitterKey, splitter->saveState()); });
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);

  mCheckTimer->setSingleShot(true);
  mCheckTimer->setInterval(300);
  connect(mCheckTimer, &QTimer::timeout, this, &TrainPage::runCheck);
  connect(&mCheckWatcher, &QFutureWatcherBase::finished, this, [this] {
    showCheck(mCheckWatcher.result());
    if (mCheckAgain) {
      mCheckAgain = false;
      runCheck();
    }
  });
  connect(mForm, &TrainFormView::changed, this, &TrainPage::scheduleCheck);
  connect(mLibrary, &ModelLibrary::entryAdded, this, &TrainPage::updateModels);
  connect(mLibrary, &ModelLibrary::entryChanged, this, &TrainPage::updateModels);
  connect(mLibrary, &ModelLibrary::entryRemoved, this, &TrainPage::updateModels);

  retranslate();
  updateModels();
  // A new session starts from the Dataset page's folder and token.
  TrainForm defaults;
  const DatasetSettings dataset(mSettings);
  defaults.images = dataset.folder();
  if (!dataset.instanceToken().isEmpty()) defaults.token = dataset.instanceToken();
  defaults.resolution = dataset.resolution();
  mForm->setForm(defaults);
  updateModels();
  const QString last = pageSettings(mSettings)->value(kSessionKey).toString();
  if (!last.isEmpty() && QFileInfo::exists(last + QStringLiteral("/settings.json"))) openSession(last);
  updateActions();
}

TrainPage::~TrainPage() {
  mStop.request_stop();
  mTransferStop.request_stop();
  mTransferWatcher.waitForFinished();
  mThread.quit();
  mThread.wait();
  mCheckWatcher.waitForFinished();
}

QWidget* TrainPage::buildSettingsPanel() {
  auto* panel = new QWidget(this);
  panel->setObjectName(QStringLiteral("trainSettings"));

  auto* sessionBox = new QWidget(panel);
  auto* sessionLayout = new QVBoxLayout(sessionBox);
  sessionLayout->setContentsMargins(12, 10, 8, 0);
  sessionLayout->setSpacing(4);
  mSessionEdit = new QLineEdit(sessionBox);
  mSessionEdit->setObjectName(QStringLiteral("sessionFolder"));
  mSessionEdit->setReadOnly(true);
  mNewButton = new QPushButton(sessionBox);
  mOpenButton = new QPushButton(sessionBox);
  connect(mNewButton, &QPushButton::clicked, this, &TrainPage::chooseNewSession);
  connect(mOpenButton, &QPushButton::clicked, this, &TrainPage::chooseSession);
  auto* sessionRow = new QHBoxLayout;
  sessionRow->addWidget(mSessionEdit, 1);
  sessionRow->addWidget(mNewButton);
  sessionRow->addWidget(mOpenButton);
  mSessionState = new QLabel(sessionBox);
  mSessionState->setForegroundRole(QPalette::PlaceholderText);
  mSessionState->setWordWrap(true);
  sessionLayout->addLayout(sessionRow);
  sessionLayout->addWidget(mSessionState);

  // The form and what its check found scroll together: the check can be a few lines long.
  auto* formBox = new QWidget(panel);
  mForm = new TrainFormView(formBox);
  mCheck = new QLabel(formBox);
  mCheck->setObjectName(QStringLiteral("trainCheck"));
  mCheck->setWordWrap(true);
  mCheck->setTextFormat(Qt::RichText);
  mCheck->setContentsMargins(12, 0, 8, 8);
  auto* formLayout = new QVBoxLayout(formBox);
  formLayout->setContentsMargins(0, 0, 0, 0);
  formLayout->setSpacing(0);
  formLayout->addWidget(mForm);
  formLayout->addWidget(mCheck);
  formLayout->addStretch(1);
  auto* scroll = new QScrollArea(panel);
  scroll->setWidget(formBox);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  // Never narrower than the form (it would be cut off on the right): the scroll area follows the
  // form's minimum width, plus its scroll bar, whenever the form's layout changes (language, font).
  formBox->installEventFilter(new ScrollWidthKeeper(scroll, formBox));

  mBanner = new widgets::MessageBanner(panel);
  mBanner->setObjectName(QStringLiteral("trainBanner"));
  mBanner->hide();
  mStartButton = new QPushButton(panel);
  mStartButton->setObjectName(QStringLiteral("startButton"));
  mStartButton->setDefault(true);
  mStartButton->setMinimumHeight(fontMetrics().height() * 2 + 8);
  QFont big = mStartButton->font();
  big.setWeight(QFont::DemiBold);
  mStartButton->setFont(big);
  connect(mStartButton, &QPushButton::clicked, mStart, &QAction::trigger);
  mPauseButton = new QPushButton(panel);
  mPauseButton->setObjectName(QStringLiteral("pauseButton"));
  mPauseButton->setMinimumHeight(mStartButton->minimumHeight());
  connect(mPauseButton, &QPushButton::clicked, mPause, &QAction::trigger);
  mStopButton = new QPushButton(panel);
  mStopButton->setObjectName(QStringLiteral("stopButton"));
  mStopButton->setMinimumHeight(mStartButton->minimumHeight());
  connect(mStopButton, &QPushButton::clicked, mStopAction, &QAction::trigger);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(mStartButton, 2);
  buttons->addWidget(mPauseButton, 1);
  buttons->addWidget(mStopButton, 1);

  mExtendSteps = new QSpinBox(panel);
  mExtendSteps->setObjectName(QStringLiteral("extendSteps"));
  mExtendSteps->setRange(1, 1'000'000);
  mExtendSteps->setSingleStep(100);
  mExtendSteps->setValue(500);
  mExtendButton = new QPushButton(panel);
  mExtendButton->setObjectName(QStringLiteral("extendButton"));
  connect(mExtendButton, &QPushButton::clicked, this, [this] { extend(mExtendSteps->value()); });
  mExportFormat = new QComboBox(panel);
  mExportFormat->setObjectName(QStringLiteral("exportFormat"));
  mExportFormat->addItem(QStringLiteral("safetensors"), QStringLiteral("safetensors"));
  mExportFormat->addItem(QStringLiteral("ckpt"), QStringLiteral("ckpt"));
  mExportFormat->addItem(QStringLiteral("diffusers"), QStringLiteral("diffusers"));
  mExportHalf = new QCheckBox(QStringLiteral("fp16"), panel);
  mExportHalf->setChecked(true);
  mExportButton = new QPushButton(panel);
  mExportButton->setObjectName(QStringLiteral("exportButton"));
  connect(mExportButton, &QPushButton::clicked, this, &TrainPage::chooseExport);
  mCompareButton = new QPushButton(panel);
  mCompareButton->setObjectName(QStringLiteral("compareButton"));
  connect(mCompareButton, &QPushButton::clicked, this, &TrainPage::compareCheckpoints);
  mKeptLabel = new QLabel(panel);
  mKeptLabel->setObjectName(QStringLiteral("keptLabel"));
  auto* more = new QGridLayout;
  more->setHorizontalSpacing(6);
  mExtendLabel = new QLabel(panel);
  mExportLabel = new QLabel(panel);
  more->addWidget(mExtendLabel, 0, 0);
  more->addWidget(mExtendSteps, 0, 1);
  more->addWidget(mExtendButton, 0, 3);
  more->addWidget(mExportLabel, 1, 0);
  more->addWidget(mExportFormat, 1, 1);
  more->addWidget(mExportHalf, 1, 2);
  more->addWidget(mExportButton, 1, 3);
  more->addWidget(mKeptLabel, 2, 0);
  more->addWidget(mCompareButton, 2, 1, 1, 3);
  more->setColumnStretch(1, 1);

  auto* bottom = new QVBoxLayout;
  bottom->setContentsMargins(12, 6, 8, 12);
  bottom->setSpacing(6);
  bottom->addWidget(mBanner);
  bottom->addLayout(buttons);
  bottom->addLayout(more);

  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(sessionBox);
  layout->addWidget(scroll, 1);
  layout->addLayout(bottom);
  // No fixed minimum: the scroll area keeps the panel as wide as the form needs (ScrollWidthKeeper).
  return panel;
}

QWidget* TrainPage::buildRunPanel() {
  mRunStack = new QStackedWidget(this);
  mEmpty = new widgets::EmptyState(mRunStack);
  mEmpty->setIcon(QIcon(QStringLiteral(":/icons/train.svg")));
  connect(mEmpty, &widgets::EmptyState::actionTriggered, this, &TrainPage::chooseNewSession);
  mRunStack->addWidget(mEmpty);

  auto* run = new QWidget(mRunStack);
  mStatus = new QLabel(run);
  mStatus->setObjectName(QStringLiteral("trainStatus"));
  QFont statusFont = mStatus->font();
  statusFont.setWeight(QFont::DemiBold);
  mStatus->setFont(statusFont);
  mProgress = new QProgressBar(run);
  mProgress->setObjectName(QStringLiteral("trainProgress"));
  mProgress->setRange(0, 1000);
  mProgress->setTextVisible(false);
  mProgress->setMaximumHeight(6);
  mCharts = new TrainCharts(run);
  mCharts->setObjectName(QStringLiteral("trainCharts"));
  mSamples = new QListWidget(run);
  mSamples->setObjectName(QStringLiteral("sampleStrip"));
  mSamples->setViewMode(QListView::IconMode);
  mSamples->setFlow(QListView::LeftToRight);
  mSamples->setWrapping(false);
  mSamples->setMovement(QListView::Static);
  mSamples->setIconSize(QSize(kSampleIcon, kSampleIcon));
  mSamples->setFixedHeight(kSampleIcon + fontMetrics().height() * 2 + 16);
  mSamples->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  mSamples->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  mLog = new QPlainTextEdit(run);
  mLog->setObjectName(QStringLiteral("trainLog"));
  mLog->setReadOnly(true);
  mLog->setMaximumBlockCount(kLogLines);
  mLog->setLineWrapMode(QPlainTextEdit::NoWrap);
  mLog->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  auto* promptsPage = new QWidget(run);
  mPromptSummary = new QLabel(promptsPage);
  mPromptSummary->setWordWrap(true);
  mPrompts = new QTreeWidget(promptsPage);
  mPrompts->setObjectName(QStringLiteral("promptList"));
  mPrompts->setColumnCount(2);
  mPrompts->setRootIsDecorated(false);
  mPrompts->setUniformRowHeights(true);
  mPrompts->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  auto* promptsLayout = new QVBoxLayout(promptsPage);
  promptsLayout->setContentsMargins(4, 4, 4, 4);
  promptsLayout->addWidget(mPromptSummary);
  promptsLayout->addWidget(mPrompts, 1);
  mTabs = new QTabWidget(run);
  mTabs->setObjectName(QStringLiteral("trainTabs"));
  mTabs->setDocumentMode(true);
  mTabs->addTab(mLog, QString());
  mTabs->addTab(promptsPage, QString());

  auto* lower = new QSplitter(Qt::Vertical, run);
  lower->setChildrenCollapsible(false);
  lower->addWidget(mCharts);
  auto* bottom = new QWidget(lower);
  auto* bottomLayout = new QVBoxLayout(bottom);
  bottomLayout->setContentsMargins(0, 0, 0, 0);
  bottomLayout->setSpacing(4);
  bottomLayout->addWidget(mSamples);
  bottomLayout->addWidget(mTabs, 1);
  lower->addWidget(bottom);
  lower->setStretchFactor(0, 3);
  lower->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(run);
  layout->setContentsMargins(8, 8, 8, 8);
  layout->setSpacing(6);
  layout->addWidget(mStatus);
  layout->addWidget(mProgress);
  layout->addWidget(lower, 1);
  mRunStack->addWidget(run);
  mRunStack->setMinimumWidth(480);
  return mRunStack;
}

void TrainPage::retranslate() {
  mStart->setText(tr("&Start"));
  mStart->setToolTip(tr("Start training, or resume from the last checkpoint (Ctrl+Enter)"));
  mPause->setText(tr("&Pause"));
  mPause->setToolTip(tr("Save a checkpoint and pause; Resume continues exactly (Ctrl+P)"));
  mStopAction->setText(tr("Stop && Save"));
  mStopAction->setToolTip(tr("Save a checkpoint and stop (Esc)"));
  mExportSession->setText(tr("E&xport Session…"));
  mExportSession->setToolTip(tr("Write the training session to a .zip to carry it to another machine"));
  mImportSession->setText(tr("I&mport Session…"));
  mImportSession->setToolTip(tr("Open a training session from a .zip made by Export Session"));
  mPauseButton->setText(tr("Pause"));
  mPauseButton->setToolTip(mPause->toolTip());
  mStopButton->setText(tr("Stop && Save"));
  mStopButton->setToolTip(mStopAction->toolTip());
  mNewButton->setText(tr("New…"));
  mNewButton->setToolTip(tr("Create a training session in a new folder"));
  mOpenButton->setText(tr("Open…"));
  mOpenButton->setToolTip(tr("Open a training session folder"));
  mSessionEdit->setPlaceholderText(tr("No session yet"));
  mSessionEdit->setToolTip(tr("The session folder: settings, checkpoints, samples and charts"));
  mExtendLabel->setText(tr("Extend by"));
  mExportLabel->setText(tr("Export as"));
  mExtendButton->setText(tr("Extend"));
  mExtendButton->setToolTip(tr("Add this many UNet steps and continue training"));
  mExtendSteps->setSuffix(tr(" steps"));
  mExportButton->setText(tr("Export…"));
  mExportButton->setToolTip(tr("Write the trained model (or LoRA) to a file that the Models page lists"));
  mExportFormat->setToolTip(tr("File format of the export"));
  mExportHalf->setToolTip(tr("Half-precision weights: half the size"));
  mCompareButton->setText(tr("Compare Checkpoints…"));
  mCompareButton->setToolTip(tr("An X/Y/Z plot on the Generate page: the same prompt and seed with each kept checkpoint"));
  mEmpty->setTitle(tr("No training session"));
  mEmpty->setText(
      tr("Fill in the settings on the left, then create a session folder. Kiln keeps the settings, "
         "checkpoints, samples and charts there, so training can pause and resume."));
  mEmpty->setActionText(tr("New Session…"));
  mTabs->setTabText(0, tr("Log"));
  mTabs->setTabText(1, tr("Prompts"));
  mPrompts->setHeaderLabels({tr("Image"), tr("Prompt")});
  updateActions();
}

void TrainPage::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

void TrainPage::updateModels() {
  QList<TrainModelChoice> models;
  for (const ModelEntry& e : mLibrary->entries()) {
    if (isTrainableModel(e)) models << TrainModelChoice{e.path, e.name(), e.summary.family};
  }
  mForm->setModels(models);
}

void TrainPage::updateActions() {
  const bool idle = !mRunning && !mExporting && !mTransferring;
  mExportSession->setEnabled(idle && !mSession.isEmpty());
  mImportSession->setEnabled(idle);
  const bool canResume = mState.hasCheckpoint && !mState.finished;
  mStartButton->setText(canResume ? tr("Resume") : tr("Start"));
  mStart->setEnabled(idle && !(mState.exists && mState.finished));
  mStartButton->setEnabled(mStart->isEnabled());
  mStartButton->setToolTip(mStart->toolTip());
  mPause->setEnabled(mRunning && !mPausing);
  mStopAction->setEnabled(mRunning && !mPausing);
  mPauseButton->setEnabled(mPause->isEnabled());
  mStopButton->setEnabled(mStopAction->isEnabled());
  // Settings are the session's once it has trained: changing them under a checkpoint would break
  // the exact resume. Extend changes the UNet steps instead.
  mForm->setEnabled(idle && !mState.hasCheckpoint);
  mNewButton->setEnabled(idle);
  mOpenButton->setEnabled(idle);
  mExtendButton->setEnabled(idle && mState.hasCheckpoint);
  mExtendSteps->setEnabled(idle && mState.hasCheckpoint);
  mExportButton->setEnabled(idle && mState.hasCheckpoint);
  mExportFormat->setEnabled(mExportButton->isEnabled());
  mExportHalf->setEnabled(mExportButton->isEnabled());
  mCompareButton->setEnabled(idle && mState.keptCheckpoints > 0);
  mKeptLabel->setText(mState.keptCheckpoints > 0
                          ? tr("%n checkpoint(s) kept", nullptr, mState.keptCheckpoints)
                          : tr("No checkpoint kept yet"));
  mRunStack->setCurrentIndex(mSession.isEmpty() ? 0 : 1);
  QString state;
  if (!mSession.isEmpty()) {
    if (!mState.hasCheckpoint)
      state = tr("Not trained yet.");
    else if (mState.finished)
      state = tr("Finished: %n step(s). Extend to train more, or export.", nullptr, static_cast<int>(mState.step));
    else
      state = tr("Checkpoint at step %1 of %2: Resume continues from there.").arg(mState.step).arg(mState.totalSteps);
  }
  mSessionState->setText(state);
  mSessionState->setVisible(!state.isEmpty());
}

void TrainPage::scheduleCheck() { mCheckTimer->start(); }

void TrainPage::runCheck() {
  if (mCheckWatcher.isRunning()) {
    mCheckAgain = true;
    return;
  }
  const TrainForm form = mForm->form();
  const QString family = mForm->modelFamily();
  mCheckWatcher.setFuture(QtConcurrent::run([form, family] {
    return TrainSession::check(form, TrainSession::nativeResolution(form.baseModel, family), family);
  }));
}

void TrainPage::waitForCheck() {
  if (mCheckTimer->isActive()) {
    mCheckTimer->stop();
    runCheck();
  }
  while (mCheckWatcher.isRunning() || mCheckAgain) {
    mCheckWatcher.waitForFinished();
    QCoreApplication::processEvents();
  }
  QCoreApplication::processEvents();
}

void TrainPage::showCheck(const TrainCheck& check) {
  QStringList lines;
  const QString warningColor =
      widgets::Theme::isDark(palette()) ? QStringLiteral("#f0c060") : QStringLiteral("#9a6200");
  const QString errorColor = widgets::Theme::isDark(palette()) ? QStringLiteral("#ff8080") : QStringLiteral("#b3261e");
  if (!check.error.isEmpty()) {
    // The engine names the setting (English); the first line is enough here.
    lines << QStringLiteral("<span style='color:%1'>%2</span>")
                 .arg(errorColor, check.error.details.section(QLatin1Char('\n'), 0, 0).toHtmlEscaped());
  }
  for (const QString& w : check.warnings)
    lines << QStringLiteral("<span style='color:%1'>%2</span>").arg(warningColor, w.toHtmlEscaped());
  if (!check.memoryEstimate.isEmpty()) lines << check.memoryEstimate.toHtmlEscaped();
  if (check.error.isEmpty() && !check.examples.isEmpty())
    lines << tr("%n image(s) ready to train.", nullptr, static_cast<int>(check.examples.size()));
  mCheck->setText(lines.join(QStringLiteral("<br>")));
  mCheck->setVisible(!lines.isEmpty());

  mPrompts->clear();
  for (const TrainExample& e : check.examples) {
    auto* item = new QTreeWidgetItem(mPrompts, {QFileInfo(e.image).fileName(), e.prompt});
    item->setToolTip(0, QDir::toNativeSeparators(e.image));
    item->setToolTip(1, e.fromCaptionFile ? tr("From the caption file") : tr("From the file name"));
  }
  mPromptSummary->setText(check.examples.isEmpty()
                              ? tr("No images found yet.")
                              : tr("The exact prompt the text encoder sees for each of the %n image(s):", nullptr,
                                   static_cast<int>(check.examples.size())));
}

void TrainPage::showError(const UserMessage& message) {
  mBanner->setMessage(widgets::MessageBanner::Kind::Error, message.title, message.text, message.details);
  mBanner->show();
}

void TrainPage::hideError() { mBanner->hide(); }

void TrainPage::chooseNewSession() {
  const QString folder =
      QFileDialog::getExistingDirectory(this, tr("Choose an Empty Folder for the Session"),
                                        mSession.isEmpty() ? QDir::homePath() : QFileInfo(mSession).absolutePath());
  if (!folder.isEmpty()) newSession(folder);
}

void TrainPage::chooseSession() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Open a Training Session"), mSession);
  if (!folder.isEmpty()) openSession(folder);
}

bool TrainPage::newSession(const QString& folder) {
  hideError();
  if (const auto error = TrainSession::create(folder, mForm->form())) {
    showError(*error);
    return false;
  }
  return openSession(folder);
}

bool TrainPage::openSession(const QString& folder) {
  hideError();
  UserMessage error;
  const auto form = TrainSession::read(folder, &error);
  if (!form) {
    showError(error);
    return false;
  }
  mSession = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
  mSessionEdit->setText(QDir::toNativeSeparators(mSession));
  pageSettings(mSettings)->setValue(kSessionKey, mSession);
  mForm->setForm(*form);
  mState = TrainSession::state(mSession);
  mOutcome = Outcome::None;
  resetRunView();
  mCharts->addSteps(TrainSession::readMetrics(mSession));
  for (const QString& sample : TrainSession::samples(mSession)) addSample(sample, -1, {});
  QFile log(mSession + QStringLiteral("/log.txt"));
  if (log.open(QIODevice::ReadOnly | QIODevice::Text)) {
    const QStringList lines = QString::fromUtf8(log.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    mLog->setPlainText(lines.mid(std::max<qsizetype>(0, lines.size() - kLogLines)).join(QLatin1Char('\n')));
    mLog->verticalScrollBar()->setValue(mLog->verticalScrollBar()->maximum());
  }
  mStatus->setText(mState.hasCheckpoint ? tr("Step %1 of %2").arg(mState.step).arg(mState.totalSteps)
                                        : tr("Ready to start"));
  mProgress->setValue(mState.totalSteps > 0 ? static_cast<int>(1000 * mState.step / mState.totalSteps) : 0);
  updateActions();
  scheduleCheck();
  return true;
}

void TrainPage::resetRunView() {
  mCharts->clear();
  mSamples->clear();
  mLog->clear();
  mStepSeconds = 0;
}

void TrainPage::start() {
  if (mRunning || mExporting || mTransferring) return;
  hideError();
  if (mSession.isEmpty()) {
    chooseNewSession();
    if (mSession.isEmpty()) return;
  } else if (!mState.hasCheckpoint) {
    // Not trained yet: the form is the session's settings.
    if (const auto error = TrainSession::write(mSession, mForm->form())) {
      showError(*error);
      return;
    }
  }
  mStop = std::stop_source();
  // The engine truncates metrics.jsonl to the checkpoint on resume: the charts follow.
  mCharts->clear();
  if (mState.hasCheckpoint) {
    QList<TrainingStep> steps = TrainSession::readMetrics(mSession);
    steps.erase(
        std::remove_if(steps.begin(), steps.end(), [this](const TrainingStep& s) { return s.step > mState.step; }),
        steps.end());
    mCharts->addSteps(steps);
  }
  mOutcome = Outcome::None;
  mPausing = false;
  setRunning(true);
  mStatus->setText(tr("Starting…"));
  const TrainingJob job{mSession, true, mStop.get_token()};
  QMetaObject::invokeMethod(
      mWorker, [worker = mWorker, job] { worker->run(job); }, Qt::QueuedConnection);
}

void TrainPage::pause() {
  if (!mRunning) return;
  mPausing = true;
  mOutcome = Outcome::Paused;
  mStop.request_stop();
  mStatus->setText(tr("Pausing: saving a checkpoint…"));
  updateActions();
}

void TrainPage::stopAndSave() {
  if (!mRunning) return;
  mPausing = true;
  mOutcome = Outcome::Stopped;
  mStop.request_stop();
  mStatus->setText(tr("Stopping: saving a checkpoint…"));
  updateActions();
}

void TrainPage::extend(int steps) {
  if (mRunning || mExporting || mSession.isEmpty() || steps <= 0) return;
  TrainForm form = mForm->form();
  form.unetSteps += steps;
  if (const auto error = TrainSession::write(mSession, form)) {
    showError(*error);
    return;
  }
  mForm->setForm(form);
  mState = TrainSession::state(mSession);
  appendLog(tr("Extended by %n UNet step(s).", nullptr, steps));
  start();
}

void TrainPage::setRunning(bool running) {
  if (mRunning == running) return;
  mRunning = running;
  if (!running) {
    mPausing = false;
    Q_EMIT activityChanged({}, -1);
  }
  updateActions();
  Q_EMIT runningChanged(running);
}

void TrainPage::appendLog(const QString& line) {
  const bool atEnd = mLog->verticalScrollBar()->value() >= mLog->verticalScrollBar()->maximum() - 2;
  mLog->appendPlainText(line);
  if (atEnd) mLog->verticalScrollBar()->setValue(mLog->verticalScrollBar()->maximum());
}

void TrainPage::addSample(const QString& path, qint64 step, const QString& prompt) {
  QImageReader reader(path);
  reader.setScaledSize(reader.size().scaled(kSampleIcon, kSampleIcon, Qt::KeepAspectRatio));
  const QImage image = reader.read();
  if (image.isNull()) return;
  if (step < 0) step = QFileInfo(path).baseName().section(QLatin1Char('-'), 0, 0).toLongLong();
  auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(image)), tr("Step %1").arg(step), mSamples);
  item->setToolTip(prompt.isEmpty() ? QDir::toNativeSeparators(path) : tr("Step %1: %2").arg(step).arg(prompt));
  item->setData(Qt::UserRole, path);
  mSamples->scrollToItem(item);
}

void TrainPage::onStep(const TrainingStep& s) {
  mCharts->addStep(s);
  mStepSeconds = mStepSeconds > 0 ? 0.9 * mStepSeconds + 0.1 * s.seconds : s.seconds;
  const double eta = mStepSeconds * static_cast<double>(s.totalSteps - s.step);
  const QString stage = s.textEncoder ? tr("Text encoder") : tr("UNet");
  const QString text = tr("%1 · step %2 of %3 · loss %4 · %5 it/s · %6 left")
                           .arg(stage)
                           .arg(s.step)
                           .arg(s.totalSteps)
                           .arg(s.loss, 0, 'f', 4)
                           .arg(mStepSeconds > 0 ? 1.0 / mStepSeconds : 0.0, 0, 'f', 2)
                           .arg(durationText(eta));
  if (!mPausing) mStatus->setText(text);
  const int permille = s.totalSteps > 0 ? static_cast<int>(1000 * s.step / s.totalSteps) : 0;
  mProgress->setValue(permille);
  Q_EMIT activityChanged(tr("Training: step %1 of %2 · %3 left").arg(s.step).arg(s.totalSteps).arg(durationText(eta)),
                         permille / 10);
}

void TrainPage::onCheckpoint(qint64 step, bool textEncoder, bool allDone) {
  mState.keptCheckpoints = TrainSession::state(mSession).keptCheckpoints;
  updateActions();
  Q_UNUSED(textEncoder)
  Q_UNUSED(allDone)
  mLastCheckpoint = step;
}

void TrainPage::compareCheckpoints() {
  if (mRunning || mExporting || mSession.isEmpty()) return;
  const auto comparison = TrainSession::comparison(mSession);
  if (!comparison) {
    Q_EMIT message(tr("This session keeps no checkpoint files yet"));
    return;
  }
  Q_EMIT compareRequested(*comparison);
}

void TrainPage::onFinished(qint64 steps) {
  mOutcome = Outcome::Finished;
  mState = TrainSession::state(mSession);
  mStatus->setText(
      tr("Finished: %n step(s). Export the model, or extend the training.", nullptr, static_cast<int>(steps)));
  mProgress->setValue(1000);
  setRunning(false);
  Q_EMIT message(tr("Training finished"));
}

void TrainPage::onStopped(qint64 step, qint64 total) {
  if (mOutcome != Outcome::Paused) mOutcome = Outcome::Stopped;
  mState = TrainSession::state(mSession);
  mStatus->setText(mOutcome == Outcome::Paused
                       ? tr("Paused at step %1 of %2: Resume continues exactly from here.").arg(step).arg(total)
                       : tr("Stopped at step %1 of %2; the checkpoint is saved.").arg(step).arg(total));
  setRunning(false);
  Q_EMIT message(tr("Checkpoint saved at step %1").arg(step));
}

void TrainPage::onFailed(const UserMessage& message) {
  mOutcome = Outcome::Failed;
  mState = TrainSession::state(mSession);
  showError(message);
  mStatus->setText(tr("Training failed"));
  setRunning(false);
}

void TrainPage::chooseExport() {
  const QString format = mExportFormat->currentData().toString();
  QString folder = mLibrary->folders().value(0);
  if (folder.isEmpty()) folder = mSession;
  const QString name = QStringLiteral("%1-%2").arg(QFileInfo(mSession).fileName()).arg(mState.step);
  QString output;
  if (format == QLatin1String("diffusers")) {
    const QString parent =
        QFileDialog::getExistingDirectory(this, tr("Choose Where the Diffusers Folder Goes"), folder);
    if (parent.isEmpty()) return;
    output = QDir(parent).filePath(name);
  } else {
    output = QFileDialog::getSaveFileName(this, tr("Export the Trained Model"),
                                          QDir(folder).filePath(name + QLatin1Char('.') + format),
                                          tr("Model (*.%1)").arg(format));
    if (output.isEmpty()) return;
  }
  exportTo(output, format, mExportHalf->isChecked());
}

void TrainPage::exportTo(const QString& output, const QString& format, bool half) {
  if (mRunning || mExporting || mSession.isEmpty()) return;
  hideError();
  mExporting = true;
  updateActions();
  mStatus->setText(tr("Exporting to %1…").arg(QDir::toNativeSeparators(output)));
  // The file dialog already asked about replacing an existing file.
  const ExportJob job{mSession, output, format, half,
                      QFileInfo::exists(output) && format != QLatin1String("diffusers")};
  QMetaObject::invokeMethod(
      mWorker, [worker = mWorker, job] { worker->exportSession(job); }, Qt::QueuedConnection);
}

void TrainPage::onExported(const QString& output, qint64 steps, quint64 bytes, bool lora) {
  mExporting = false;
  updateActions();
  mStatus->setText(tr("Exported %1 (%2 MB, step %3).")
                       .arg(QDir::toNativeSeparators(output))
                       .arg(static_cast<double>(bytes) / 1e6, 0, 'f', 1)
                       .arg(steps));
  mBanner->setMessage(widgets::MessageBanner::Kind::Information, lora ? tr("LoRA exported") : tr("Model exported"),
                      tr("“%1” is written and verified; the Models page lists it.").arg(QFileInfo(output).fileName()));
  mBanner->show();
  // The Models page shows it: its folder joins the library unless a library folder holds it.
  const QString folder = QFileInfo(output).absolutePath();
  bool inLibrary = false;
  for (const QString& f : mLibrary->folders())
    if (folder == f || folder.startsWith(f + QLatin1Char('/'))) inLibrary = true;
  if (inLibrary)
    mLibrary->rescan();
  else
    mLibrary->addFolder(folder);
  Q_EMIT message(tr("Exported %1").arg(QFileInfo(output).fileName()));
  Q_EMIT exportFinished(true);
}

void TrainPage::onExportFailed(const UserMessage& message) {
  mExporting = false;
  updateActions();
  showError(message);
  mStatus->setText(tr("Export failed"));
  Q_EMIT exportFinished(false);
}

}  // namespace kiln::app
