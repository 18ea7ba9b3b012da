// The Dataset page's widgets: building the header, the grid, the crop and caption panels.
#include "pages/dataset_page.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <filesystem>

#include "bridge/resource_paths.h"
#include "captioning/caption_run.h"
#include "captioning/caption_store.h"
#include "dataset/captions.h"
#include "dataset/crop_planner.h"
#include "pages/dataset_delegate.h"
#include "pages/dataset_model.h"
#include "state/app_settings.h"
#include "state/caption_settings.h"
#include "state/dataset_settings.h"
#include "text/clip_tokenizer.h"
#include "widgets/crop_editor.h"
#include "widgets/elided_label.h"
#include "widgets/empty_state.h"
#include "widgets/gallery_view.h"
#include "widgets/message_banner.h"
#include "widgets/prompt_edit.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

const QString kSplitterKey = QStringLiteral("dataset/splitter");
const char* const kIconPath = "kilnIconPath";
constexpr int kThumbnailSide = 150;

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }

QToolButton* toolButton(QAction* action, QWidget* parent, bool text = false) {
  auto* button = new QToolButton(parent);
  button->setDefaultAction(action);
  button->setAutoRaise(true);
  button->setToolButtonStyle(text ? Qt::ToolButtonTextBesideIcon : Qt::ToolButtonIconOnly);
  return button;
}

QAction* makeAction(const QString& text, const QString& tip, const QString& icon, QObject* parent) {
  auto* action = new QAction(text, parent);
  action->setToolTip(tip);
  if (!icon.isEmpty()) action->setProperty(kIconPath, icon);
  return action;
}

QLabel* heading(const QString& text, QWidget* parent) {
  auto* label = new QLabel(text, parent);
  QFont font = label->font();
  font.setWeight(QFont::DemiBold);
  label->setFont(font);
  return label;
}

}  // namespace

DatasetPage::DatasetPage(AppSettings* settings, QWidget* parent)
    : QWidget(parent),
      mSettings(settings),
      mDatasetSettings(std::make_unique<DatasetSettings>(settings)),
      mModel(new DatasetModel(this)),
      mImportWorker(new DatasetWorker),
      mCropWorker(new DatasetWorker) {
  setAcceptDrops(true);
  mModel->setThumbnailSide(kThumbnailSide * 2);  // sharp on high-DPI screens too
  mImportThread.setObjectName(QStringLiteral("kiln-dataset-import"));
  mImportWorker->moveToThread(&mImportThread);
  connect(&mImportThread, &QThread::finished, mImportWorker, &QObject::deleteLater);
  mCropThread.setObjectName(QStringLiteral("kiln-dataset-crop"));
  mCropWorker->moveToThread(&mCropThread);
  connect(&mCropThread, &QThread::finished, mCropWorker, &QObject::deleteLater);

  connect(mImportWorker, &DatasetWorker::importProgress, this, [this](quint64 id, int done, int total, const QString& name) {
    if (id != mImportJob) return;
    mProgress->setRange(0, std::max(1, total));
    mProgress->setValue(done);
    const QString text = tr("Preparing %1 of %2 · %3").arg(done).arg(total).arg(name);
    mProgressLabel->setText(mStop.stop_requested() ? tr("Cancelling…") : text);
    Q_EMIT activityChanged(text, total > 0 ? done * 100 / total : -1);
  });
  connect(mImportWorker, &DatasetWorker::importFinished, this, [this](quint64 id, const DatasetImportResult& result) {
    if (id != mImportJob) return;
    mLastImport = result;
    endImport();
    showImportReport(result);
  });
  connect(mImportWorker, &DatasetWorker::importFailed, this, [this](quint64 id, const UserMessage& m) {
    if (id != mImportJob) return;
    mLastImport = {};
    endImport();
    showError(m.title, m.text, m.details);
  });
  connect(mCropWorker, &DatasetWorker::originalLoaded, this,
          [this](quint64 id, const QString& source, const QImage& image, const QSize& displayed) {
            if (id != mOriginalRequest) return;
            mOriginalRequest = 0;
            mShownSource = source;
            mCropEditor->setImage(image, displayed);
            updateCurrent();
          });
  connect(mCropWorker, &DatasetWorker::originalFailed, this, [this](quint64 id, const QString&, const UserMessage& m) {
    if (id != mOriginalRequest) return;
    mOriginalRequest = 0;
    mShownSource.clear();
    mCropEditor->clear();
    mCropEditor->setPlaceholderText(m.title + QLatin1Char('\n') + m.text);
  });
  connect(mCropWorker, &DatasetWorker::regenerated, this, [this](quint64, const QString& output, const QRect&) {
    --mRegenerating;
    mModel->refresh(output, true);
    if (output == currentOutput()) updateCurrent();
    Q_EMIT cropApplied(output);
  });
  connect(mCropWorker, &DatasetWorker::regenerateFailed, this,
          [this](quint64, const QString& output, const UserMessage& m) {
            --mRegenerating;
            mModel->refresh(output, true);
            if (output == currentOutput()) updateCurrent();
            showError(m.title, m.text, m.details);
          });
  mImportThread.start();
  mCropThread.start();

  mOpenDataset = makeAction(tr("&Open Dataset…"), tr("Open a dataset folder, or choose an empty one for a new dataset"),
                            QStringLiteral(":/icons/dataset.svg"), this);
  mOpenDataset->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  connect(mOpenDataset, &QAction::triggered, this, &DatasetPage::chooseDataset);
  mImportFiles = makeAction(tr("&Import Photos…"), tr("Prepare photos into this dataset (Ctrl+I; or drop them here)"),
                            QStringLiteral(":/icons/image-open.svg"), this);
  mImportFiles->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
  connect(mImportFiles, &QAction::triggered, this, &DatasetPage::chooseFiles);
  mImportFolder = makeAction(tr("Import &Folder…"), tr("Prepare every photo of a folder and its subfolders"),
                             QStringLiteral(":/icons/folder-add.svg"), this);
  connect(mImportFolder, &QAction::triggered, this, &DatasetPage::chooseFolder);
  mImportZip = makeAction(tr("Import &Zip…"), tr("Prepare the photos of a .zip archive (checked before anything is written)"),
                          QStringLiteral(":/icons/import.svg"), this);
  connect(mImportZip, &QAction::triggered, this, &DatasetPage::chooseZip);
  mCancel = makeAction(tr("&Cancel"), tr("Stop the import after the photos being prepared now (Esc)"), {}, this);
  mCancel->setShortcut(QKeySequence(Qt::Key_Escape));
  connect(mCancel, &QAction::triggered, this, &DatasetPage::cancelImport);
  mResetCrop = makeAction(tr("Reset Crop"), tr("Put the crop back where Kiln proposed it (R)"),
                          QStringLiteral(":/icons/crop-reset.svg"), this);
  mResetCrop->setShortcut(QKeySequence(Qt::Key_R));
  connect(mResetCrop, &QAction::triggered, this, &DatasetPage::resetCrop);
  mRemove = makeAction(tr("Remove from Dataset"),
                       tr("Take the selected images out of the dataset; their files go to the folder's .removed "
                          "folder and Undo brings them back (Delete)"),
                       QStringLiteral(":/icons/clear.svg"), this);
  mRemove->setShortcut(QKeySequence(Qt::Key_Delete));
  connect(mRemove, &QAction::triggered, this, &DatasetPage::removeSelected);
  mUndoAction = makeAction(tr("Undo"), tr("Undo the last crop or caption edit (Ctrl+Z)"), QStringLiteral(":/icons/undo.svg"), this);
  mUndoAction->setShortcut(QKeySequence::Undo);
  connect(mUndoAction, &QAction::triggered, this, [this] {
    commitCaption();
    mUndo.undo();
  });
  mRedoAction = makeAction(tr("Redo"), tr("Redo the edit undone last (Ctrl+Shift+Z)"), QStringLiteral(":/icons/redo.svg"), this);
  mRedoAction->setShortcut(QKeySequence::Redo);
  connect(mRedoAction, &QAction::triggered, this, [this] {
    commitCaption();
    mUndo.redo();
  });
  for (QAction* a : {mOpenDataset, mImportFiles, mCancel, mResetCrop, mRemove, mUndoAction, mRedoAction}) {
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(a);
  }
  createCaptionActions();
  connect(&mUndo, &QUndoStack::cleanChanged, this, &DatasetPage::updateActions);
  connect(&mUndo, &QUndoStack::indexChanged, this, &DatasetPage::updateActions);

  mNoDataset = new widgets::EmptyState(this);
  mNoDataset->setObjectName(QStringLiteral("noDataset"));
  mNoDataset->setTitle(tr("No dataset open"));
  mNoDataset->setText(tr("A dataset is a folder of prepared photos: square crops around the faces, each with a "
                         "caption. Choose a folder (an empty one starts a new dataset), or drop photos, a folder "
                         "or a .zip here."));
  mNoDataset->setActionText(tr("Choose Dataset Folder…"));
  connect(mNoDataset, &widgets::EmptyState::actionTriggered, this, &DatasetPage::chooseDataset);

  mNoImages = new widgets::EmptyState(this);
  mNoImages->setObjectName(QStringLiteral("noImages"));
  mNoImages->setTitle(tr("This dataset is empty"));
  mNoImages->setText(tr("Drop photos, a folder or a .zip here, or import them. Kiln crops each one square "
                        "around the faces and writes a caption beside it; the originals stay untouched."));
  mNoImages->setActionText(tr("Import Photos…"));
  connect(mNoImages, &widgets::EmptyState::actionTriggered, this, &DatasetPage::chooseFiles);

  mGrid = new widgets::GalleryView(this);
  mGrid->setContextMenuPolicy(Qt::ActionsContextMenu);
  mGrid->addAction(mCaptionSelected);
  mGrid->addAction(mRetryFailed);
  mGrid->addAction(mAcceptCaption);
  mGrid->addAction(mRemove);
  mGrid->setObjectName(QStringLiteral("datasetGrid"));
  mDelegate = new DatasetDelegate(mGrid);
  mGrid->setThumbnailSize(kThumbnailSide);
  mDelegate->setThumbnailSize(kThumbnailSide);
  mGrid->setItemDelegate(mDelegate);
  mGrid->setModel(mModel);
  mGrid->setMinimumWidth(kThumbnailSide + 40);
  mGridStack = new QStackedWidget(this);
  mGridStack->addWidget(mNoImages);
  mGridStack->addWidget(mGrid);

  mSplitter = new QSplitter(Qt::Horizontal, this);
  mSplitter->setObjectName(QStringLiteral("datasetSplitter"));
  mSplitter->setChildrenCollapsible(false);
  mSplitter->addWidget(mGridStack);
  mSplitter->addWidget(buildCropPanel());
  mSplitter->addWidget(buildCaptionPanel());
  mSplitter->setStretchFactor(0, 3);
  mSplitter->setStretchFactor(1, 4);
  mSplitter->setStretchFactor(2, 0);
  mSplitter->setSizes({420, 520, 340});
  mSplitter->restoreState(mSettings->viewState(kSplitterKey));

  mStack = new QStackedWidget(this);
  mStack->addWidget(mNoDataset);
  mStack->addWidget(mSplitter);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(buildHeader());
  layout->addWidget(mStack, 1);

  connect(mModel, &DatasetModel::loaded, this, [this] {
    loadCaptionStore();
    updateView();
    if (mModel->rowCount() > 0 && !mGrid->currentIndex().isValid()) selectRow(0);
    updateCurrent();
  });
  connect(mModel, &QAbstractItemModel::dataChanged, this, &DatasetPage::updateSummary);
  connect(mGrid->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] {
    commitCaption();
    updateCurrent();
  });
  connect(mGrid->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DatasetPage::updateActions);
  connect(mCropEditor, &widgets::CropEditor::cropEdited, this, &DatasetPage::onCropEdited);

  // The counter reads the bundled CLIP vocabulary (the tokenizer of every SD 1.x/2.x model),
  // loaded off the GUI thread.
  auto* tokenizerLoad = new QFutureWatcher<std::shared_ptr<const text::CLIPTokenizer>>(this);
  connect(tokenizerLoad, &QFutureWatcherBase::finished, this, [this, tokenizerLoad] {
    mTokenizer = tokenizerLoad->result();
    tokenizerLoad->deleteLater();
    updateTokenCount();
  });
  tokenizerLoad->setFuture(QtConcurrent::run([]() -> std::shared_ptr<const text::CLIPTokenizer> {
    try {
      return std::make_shared<const text::CLIPTokenizer>(text::CLIPTokenizer::from_folder(bridge::clipVocabularyDir()));
    } catch (const std::exception&) {
      return nullptr;  // no counter: captions still work
    }
  }));

  updateIcons();
  const QString last = mDatasetSettings->folder();
  if (!last.isEmpty() && QFileInfo(last).isDir()) {
    openDataset(last);
  } else {
    updateView();
  }
  updateActions();
}

DatasetPage::~DatasetPage() {
  mCaptionTimer->stop();
  if (isCaptioning()) {
    mCaptionRun->disconnect(this);
    mCaptionRun->cancel();  // the captions so far are on disk, with their records
    loadCaptionStore();
    if (mCaptionStore && !mPendingMarks.isEmpty()) mCaptionStore->save();
  }
  mSettings->setViewState(kSplitterKey, mSplitter->saveState());
  mStop.request_stop();
  mImportThread.quit();
  mCropThread.quit();
  mImportThread.wait();
  mCropThread.wait();
}

QWidget* DatasetPage::buildHeader() {
  auto* header = new QWidget(this);
  header->setObjectName(QStringLiteral("datasetHeader"));
  mFolderLabel = new widgets::ElidedLabel(header);
  mFolderLabel->setObjectName(QStringLiteral("datasetFolder"));
  QFont big = mFolderLabel->font();
  big.setPointSizeF(big.pointSizeF() * 1.15);
  big.setWeight(QFont::DemiBold);
  mFolderLabel->setFont(big);
  mSummary = new QLabel(header);
  mSummary->setObjectName(QStringLiteral("datasetSummary"));
  mSummary->setForegroundRole(QPalette::PlaceholderText);

  mToken = new QLineEdit(header);
  mToken->setObjectName(QStringLiteral("instanceToken"));
  mToken->setPlaceholderText(tr("e.g. phtmejhn"));
  mToken->setToolTip(tr("The instance token: a rare word that will stand for your subject. New captions get it "
                        "first, and the training prompt shows it."));
  mToken->setMaximumWidth(fontMetrics().averageCharWidth() * 18);
  mToken->setText(mDatasetSettings->instanceToken());
  connect(mToken, &QLineEdit::textChanged, this, [this](const QString& token) {
    mDatasetSettings->setInstanceToken(token.trimmed());
    updateCurrent();
    updateActions();
  });
  mResolution = new QSpinBox(header);
  mResolution->setObjectName(QStringLiteral("resolution"));
  mResolution->setRange(512, 1024);
  mResolution->setSingleStep(64);
  mResolution->setSuffix(tr(" px"));
  mResolution->setToolTip(tr("The side of the square images prepared from new photos"));
  mResolution->setValue(mDatasetSettings->resolution());
  connect(mResolution, &QSpinBox::valueChanged, this, [this](int value) {
    const int snapped = std::clamp((value + 32) / 64 * 64, 512, 1024);
    if (snapped != value) {
      mResolution->setValue(snapped);
      return;
    }
    mDatasetSettings->setResolution(value);
  });
  mFilenameCaptions = new QCheckBox(tr("Captions from file names"), header);
  mFilenameCaptions->setObjectName(QStringLiteral("filenameCaptions"));
  mFilenameCaptions->setToolTip(tr("Photos without a .txt caption get their file name as caption "
                                   "(“phtmejhn (1).jpg” becomes “phtmejhn”)"));
  mFilenameCaptions->setChecked(mDatasetSettings->filenameCaptions());
  connect(mFilenameCaptions, &QCheckBox::toggled, this, [this](bool on) { mDatasetSettings->setFilenameCaptions(on); });

  auto* top = new QHBoxLayout;
  top->setSpacing(8);
  auto* titles = new QVBoxLayout;
  titles->setSpacing(0);
  titles->addWidget(mFolderLabel);
  titles->addWidget(mSummary);
  top->addLayout(titles, 1);
  top->addWidget(toolButton(mOpenDataset, header, true));
  top->addWidget(toolButton(mImportFiles, header, true));
  top->addWidget(toolButton(mImportFolder, header, true));
  top->addWidget(toolButton(mImportZip, header, true));

  auto* options = new QHBoxLayout;
  options->setSpacing(6);
  options->addWidget(new QLabel(tr("Instance token"), header));
  options->addWidget(mToken);
  options->addSpacing(12);
  options->addWidget(new QLabel(tr("Size"), header));
  options->addWidget(mResolution);
  options->addSpacing(12);
  options->addWidget(mFilenameCaptions);
  options->addStretch(1);

  mProgress = new QProgressBar(header);
  mProgress->setObjectName(QStringLiteral("importProgress"));
  mProgress->setTextVisible(false);
  mProgress->setMaximumWidth(220);
  mProgress->setMaximumHeight(8);
  mProgressLabel = new QLabel(header);
  mProgressLabel->setObjectName(QStringLiteral("importStatus"));
  mCancelButton = new QPushButton(mCancel->text().remove(QLatin1Char('&')), header);
  mCancelButton->setObjectName(QStringLiteral("cancelImportButton"));
  mCancelButton->setToolTip(mCancel->toolTip());
  connect(mCancelButton, &QPushButton::clicked, mCancel, &QAction::trigger);
  options->addWidget(mProgressLabel);
  options->addWidget(mProgress);
  options->addWidget(mCancelButton);

  mBanner = new widgets::MessageBanner(header);
  mBanner->setObjectName(QStringLiteral("datasetBanner"));
  mBanner->hide();

  auto* layout = new QVBoxLayout(header);
  layout->setContentsMargins(14, 10, 14, 8);
  layout->setSpacing(6);
  layout->addLayout(top);
  layout->addLayout(options);
  layout->addWidget(buildCaptionRunBar(header));
  layout->addWidget(mBanner);
  return header;
}

QWidget* DatasetPage::buildCropPanel() {
  auto* panel = new QWidget(this);
  mCropEditor = new widgets::CropEditor(panel);
  mCropEditor->setObjectName(QStringLiteral("cropEditor"));
  mCropEditor->setPlaceholderText(tr("Select an image to see its crop"));
  mCropEditor->setToolTip(tr("Drag the square to move it, its corners to resize it; arrows move it, + and - "
                             "resize it. The image is made again from the original when you let go."));
  mCropInfo = new QLabel(panel);
  mCropInfo->setObjectName(QStringLiteral("cropInfo"));
  mCropInfo->setForegroundRole(QPalette::PlaceholderText);
  mCropInfo->setWordWrap(true);

  auto* tools = new QHBoxLayout;
  tools->setContentsMargins(8, 8, 8, 0);
  tools->setSpacing(2);
  tools->addWidget(heading(tr("Crop"), panel));
  tools->addStretch(1);
  tools->addWidget(toolButton(mResetCrop, panel, true));
  tools->addWidget(toolButton(mRemove, panel, true));
  tools->addWidget(toolButton(mUndoAction, panel));
  tools->addWidget(toolButton(mRedoAction, panel));

  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(0, 0, 0, 8);
  layout->setSpacing(4);
  layout->addLayout(tools);
  layout->addWidget(mCropEditor, 1);
  auto* info = new QHBoxLayout;
  info->setContentsMargins(12, 0, 12, 0);
  info->addWidget(mCropInfo);
  layout->addLayout(info);
  panel->setMinimumWidth(280);
  return panel;
}

QWidget* DatasetPage::buildCaptionPanel() {
  auto* panel = new QWidget(this);
  panel->setObjectName(QStringLiteral("captionPanel"));
  mImageName = heading(QString(), panel);
  mImageName->setObjectName(QStringLiteral("imageName"));
  mImageName->setTextInteractionFlags(Qt::TextSelectableByMouse);

  mCaption = new widgets::PromptEdit(panel);
  mCaption->setObjectName(QStringLiteral("captionEdit"));
  mCaption->setVisibleLines(4);
  mCaption->setPlaceholderText(tr("No caption: training uses the file name"));
  mCaptionTimer = new QTimer(this);
  mCaptionTimer->setSingleShot(true);
  mCaptionTimer->setInterval(700);
  connect(mCaptionTimer, &QTimer::timeout, this, &DatasetPage::commitCaption);
  connect(mCaption, &QPlainTextEdit::textChanged, this, [this] {
    if (mLoadingCaption) return;
    mCaptionTimer->start();
    const QString output = mCaptionOutput;
    if (!output.isEmpty()) {
      // Live: what training would read once this text is written.
      QString prompt = mCaption->toPlainText().trimmed();
      const std::string token = mToken->text().trimmed().toStdString();
      if (prompt.isEmpty()) prompt = QString::fromStdString(dataset::caption_from_filename(toPath(output)));
      if (!token.empty()) prompt = QString::fromStdString(dataset::add_instance_token(prompt.toStdString(), token));
      mPrompt->setText(prompt);
    }
    updateTokenCount();
  });

  mPrompt = new QLabel(panel);
  mPrompt->setObjectName(QStringLiteral("trainingPrompt"));
  mPrompt->setWordWrap(true);
  mPrompt->setTextInteractionFlags(Qt::TextSelectableByMouse);
  mPrompt->setTextFormat(Qt::PlainText);
  mPrompt->setFrameShape(QFrame::StyledPanel);
  mPrompt->setMargin(6);
  mPrompt->setBackgroundRole(QPalette::AlternateBase);
  mPrompt->setAutoFillBackground(true);
  mPrompt->setToolTip(tr("The exact prompt training reads for this image: its caption, or without one its file "
                         "name (fast-stable-diffusion's rule), with the instance token first"));
  mCaptionInfo = new QLabel(panel);
  mCaptionInfo->setObjectName(QStringLiteral("captionInfo"));
  mCaptionInfo->setWordWrap(true);
  mCaptionInfo->setTextFormat(Qt::PlainText);
  mCaptionInfo->setForegroundRole(QPalette::PlaceholderText);
  mCaptionInfo->hide();

  // Captions from a vision model: the two runs, and the rest in the menu beside them.
  auto* captionTools = new QHBoxLayout;
  captionTools->setSpacing(2);
  captionTools->addWidget(heading(tr("Caption"), panel));
  captionTools->addStretch(1);
  captionTools->addWidget(toolButton(mCaptionMissing, panel, true));
  auto* more = new QToolButton(panel);
  more->setObjectName(QStringLiteral("captionMenuButton"));
  more->setText(tr("More"));
  more->setToolTip(tr("More caption actions"));
  more->setAutoRaise(true);
  more->setPopupMode(QToolButton::InstantPopup);
  auto* menu = new QMenu(more);
  menu->addAction(mCaptionSelected);
  menu->addAction(mRetryFailed);
  menu->addSeparator();
  menu->addAction(mAcceptCaption);
  menu->addAction(mNextImage);
  menu->addAction(mPreviousImage);
  menu->addSeparator();
  menu->addAction(mCaptionEndpoint);
  more->setMenu(menu);
  captionTools->addWidget(more);

  mWarnings = new QLabel(panel);
  mWarnings->setObjectName(QStringLiteral("imageWarnings"));
  mWarnings->setWordWrap(true);
  mWarnings->setTextFormat(Qt::PlainText);

  auto* bulk = new QGroupBox(tr("Edit many captions"), panel);
  mScope = new QComboBox(bulk);
  mScope->setObjectName(QStringLiteral("bulkScope"));
  mScope->addItems({tr("Selected images"), tr("All images")});
  auto* addToken = new QPushButton(tr("Add Instance Token"), bulk);
  addToken->setObjectName(QStringLiteral("addTokenButton"));
  addToken->setToolTip(tr("Put the instance token first in each caption that lacks it"));
  connect(addToken, &QPushButton::clicked, this,
          [this] { bulkEdit(BulkEdit::AddToken, mToken->text(), {}, mScope->currentIndex() == 1); });
  mFind = new QLineEdit(bulk);
  mFind->setObjectName(QStringLiteral("findText"));
  mFind->setPlaceholderText(tr("Find"));
  mReplace = new QLineEdit(bulk);
  mReplace->setObjectName(QStringLiteral("replaceText"));
  mReplace->setPlaceholderText(tr("Replace with"));
  auto* replace = new QPushButton(tr("Replace"), bulk);
  replace->setObjectName(QStringLiteral("replaceButton"));
  connect(replace, &QPushButton::clicked, this,
          [this] { bulkEdit(BulkEdit::FindReplace, mFind->text(), mReplace->text(), mScope->currentIndex() == 1); });
  mFill = new QLineEdit(bulk);
  mFill->setObjectName(QStringLiteral("fillText"));
  mFill->setPlaceholderText(tr("Caption for images without one"));
  auto* fill = new QPushButton(tr("Fill Empty"), bulk);
  fill->setObjectName(QStringLiteral("fillButton"));
  connect(fill, &QPushButton::clicked, this,
          [this] { bulkEdit(BulkEdit::FillEmpty, mFill->text(), {}, mScope->currentIndex() == 1); });

  auto* grid = new QGridLayout(bulk);
  grid->setHorizontalSpacing(6);
  grid->addWidget(new QLabel(tr("Apply to"), bulk), 0, 0);
  grid->addWidget(mScope, 0, 1);
  grid->addWidget(addToken, 1, 0, 1, 2);
  grid->addWidget(mFind, 2, 0);
  grid->addWidget(mReplace, 2, 1);
  grid->addWidget(replace, 3, 0, 1, 2);
  grid->addWidget(mFill, 4, 0, 1, 2);
  grid->addWidget(fill, 5, 0, 1, 2);

  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(8, 8, 12, 8);
  layout->setSpacing(6);
  layout->addWidget(mImageName);
  layout->addLayout(captionTools);
  layout->addWidget(mCaption);
  layout->addWidget(mCaptionInfo);
  layout->addWidget(heading(tr("Training prompt"), panel));
  layout->addWidget(mPrompt);
  layout->addWidget(mWarnings);
  layout->addStretch(1);
  layout->addWidget(bulk);
  panel->setMinimumWidth(280);
  return panel;
}

void DatasetPage::updateIcons() {
  const QColor color = palette().color(QPalette::ButtonText);
  for (QAction* action :
       {mOpenDataset, mImportFiles, mImportFolder, mImportZip, mResetCrop, mRemove, mUndoAction, mRedoAction}) {
    const QString icon = action->property(kIconPath).toString();
    if (!icon.isEmpty()) action->setIcon(widgets::Theme::tinted(icon, color));
  }
  mNoDataset->setIcon(widgets::Theme::tinted(QStringLiteral(":/icons/dataset.svg"), palette().color(QPalette::PlaceholderText)));
  mNoImages->setIcon(widgets::Theme::tinted(QStringLiteral(":/icons/import.svg"), palette().color(QPalette::PlaceholderText)));
}

void DatasetPage::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) updateIcons();
}

}  // namespace kiln::app
