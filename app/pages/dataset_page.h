#pragma once
// The Dataset page: a dataset is a folder of prepared images (square, face-aware crops with
// `<stem>.crop.json` sidecars and `.txt` captions). Photos come in by drag and drop, a file
// dialog or a zip and are prepared on a worker thread with progress and Cancel; a thumbnail
// grid shows each image with its badges; the crop editor shows the original with its face
// boxes and the square crop, which the user moves or resizes (the output is regenerated from
// the original off the GUI thread); the caption editor beside it has the token counter, the
// bulk operations and the exact training prompt. Crop and caption edits share one undo stack.
// Captions can come from a vision model behind an OpenAI-compatible endpoint (app/captioning): a
// run writes each caption as it arrives, the grid badges say where each caption came from, and the
// review keys (Ctrl+Enter / Alt+A accept, Alt+N / Alt+P next / previous) walk through them.

#include <QHash>
#include <QPointer>
#include <QThread>
#include <QUndoStack>
#include <QWidget>

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>

#include "bridge/error_message.h"
#include "jobs/dataset_worker.h"
#include "pages/dataset_commands.h"

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QNetworkAccessManager;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QSplitter;
class QStackedWidget;
class QTimer;

namespace kiln::text {
class CLIPTokenizer;
}

namespace kiln::captioning {
class CaptionRun;
class CaptionStore;
enum class CaptionMode;
}  // namespace kiln::captioning

namespace kiln::widgets {
class CropEditor;
class ElidedLabel;
class EmptyState;
class GalleryView;
class MessageBanner;
class PromptEdit;
}  // namespace kiln::widgets

namespace kiln::app {

class AppSettings;
class CaptionSettings;
class DatasetDelegate;
class DatasetModel;
class DatasetSettings;

class DatasetPage : public QWidget, private DatasetEditing {
  Q_OBJECT

 public:
  enum class BulkEdit { AddToken, FindReplace, FillEmpty };
  // Which images a captioning run asks for: those without a caption, the selection, or the
  // selected images whose captioning failed.
  enum class CaptionScope { Missing, Selected, Failed };
  // The answer to "N captions were written or edited by you. Replace them too?".
  enum class ReplaceAnswer { Cancel, Keep, Replace };

  explicit DatasetPage(AppSettings* settings, QWidget* parent = nullptr);
  // Stops an import and waits for the worker threads.
  ~DatasetPage() override;

  // Shows the dataset in `folder` (created when missing) and remembers it.
  void openDataset(const QString& folder);
  QString datasetFolder() const;
  // Prepares image files, folders and .zip files into the open dataset (asks for a dataset
  // folder when none is open).
  void importSources(const QStringList& sources);
  bool isImporting() const { return mImportJob != 0; }
  // Importing, reading the folder, decoding thumbnails or the original, or regenerating.
  bool isBusy() const;

  void selectRow(int row);
  QString currentOutput() const;  // empty when nothing is selected
  // The selected outputs (the current one first), or every output with `all`.
  QStringList targets(bool all) const;
  // One undoable bulk caption operation over the selected images or all.
  void bulkEdit(BulkEdit kind, const QString& text, const QString& replacement, bool all);
  void setInstanceToken(const QString& token);
  // What training reads for `output` with the page's instance token.
  QString trainingPrompt(const QString& output) const;

  QAction* importAction() const { return mImportFiles; }
  QAction* openAction() const { return mOpenDataset; }
  QAction* cancelAction() const { return mCancel; }
  QAction* removeAction() const { return mRemove; }

  // For tests and screenshots.
  DatasetModel* model() const { return mModel; }
  widgets::GalleryView* grid() const { return mGrid; }
  widgets::CropEditor* cropEditor() const { return mCropEditor; }
  widgets::PromptEdit* captionEdit() const { return mCaption; }
  QLabel* trainingPromptLabel() const { return mPrompt; }
  widgets::MessageBanner* banner() const { return mBanner; }
  QUndoStack* undoStack() { return &mUndo; }
  DatasetImportResult lastImport() const { return mLastImport; }
  // Writes the caption being typed now instead of after the pause.
  void commitCaption();

  // Captions from the vision model in CaptionSettings, with its saved prompt and the page's
  // instance token (no dialog: the actions open CaptionOptionsDialog first). Replace over captions
  // the person wrote, edited or reviewed asks first. False when nothing was started (the reason is
  // in the banner or the status bar).
  bool startCaptioning(CaptionScope scope, captioning::CaptionMode mode);
  bool isCaptioning() const;
  captioning::CaptionRun* captionRun() const { return mCaptionRun; }
  void pauseCaptioning();
  void cancelCaptioning();
  // "" / auto / edited / reviewed / failed, as the dataset's caption records say.
  QString captionStatus(const QString& output) const;
  // Marks the current caption reviewed and goes to the next auto caption not reviewed yet.
  void acceptCaption();
  // The next / previous image (Alt+N / Alt+P).
  void stepImage(int step);
  CaptionSettings* captionSettings() const { return mCaptionSettings.get(); }
  QNetworkAccessManager* network() const { return mNetwork; }
  // For tests: answers the replace question instead of a message box.
  void setReplaceQuestion(std::function<ReplaceAnswer(int count)> ask) { mAskReplace = std::move(ask); }
  QAction* captionMissingAction() const { return mCaptionMissing; }
  QAction* captionSelectedAction() const { return mCaptionSelected; }
  QAction* acceptCaptionAction() const { return mAcceptCaption; }
  QLabel* captionRunLabel() const { return mCaptionRunLabel; }
  QLabel* captionInfoLabel() const { return mCaptionInfo; }

 public Q_SLOTS:
  void chooseDataset();
  void editCaptionEndpoint();
  // Opens the options dialog, then starts the run.
  void chooseCaptioning(CaptionScope scope);
  void chooseFiles();
  void chooseFolder();
  void chooseZip();
  void cancelImport();
  void resetCrop();

 Q_SIGNALS:
  void message(const QString& text);
  // What the import does ("Preparing 4 of 20 · photo.jpg"), empty when idle; percent -1 when not known.
  void activityChanged(const QString& text, int percent);
  void importingChanged(bool importing);
  // An import ended (finished, cancelled or failed).
  void importEnded();
  // An output was regenerated from its original with a new crop.
  void cropApplied(const QString& output);
  // A captioning run started or ended.
  void captioningChanged(bool running);

 protected:
  void changeEvent(QEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QWidget* buildHeader();
  QWidget* buildCropPanel();
  QWidget* buildCaptionPanel();
  QWidget* buildCaptionRunBar(QWidget* parent);
  void createCaptionActions();
  void loadCaptionStore();
  void updateCaptionInfo();
  void setCaptionStatus(const QString& output, const QString& status);
  void onCaptionItem(int index);
  void onCaptionRunFinished();
  void updateCaptionRun();
  void updateIcons();
  void updateView();
  void updateSummary();
  void updateActions();
  void updateCurrent();
  void updateTokenCount();
  void showError(const QString& title, const QString& text, const QString& details = {});
  void showImportReport(const DatasetImportResult& result);
  void endImport();

  void applyCrop(const QString& output, const QRect& crop) override;
  void applyCaption(const QString& output, const std::optional<QString>& caption) override;
  void setRemoved(const QStringList& outputs, bool removed) override;
  void removeSelected();
  void onCropEdited(const QRect& before, const QRect& after);

  AppSettings* mSettings;
  std::unique_ptr<DatasetSettings> mDatasetSettings;
  DatasetModel* mModel;
  QUndoStack mUndo;
  std::shared_ptr<const text::CLIPTokenizer> mTokenizer;

  QThread mImportThread;
  DatasetWorker* mImportWorker;
  QThread mCropThread;
  DatasetWorker* mCropWorker;
  quint64 mImportJob = 0;  // the running import, 0 when idle
  quint64 mNextId = 1;
  std::stop_source mStop;
  DatasetImportResult mLastImport;
  int mRegenerating = 0;           // regenerations asked for and not answered
  quint64 mOriginalRequest = 0;    // the original being decoded for the editor, 0 when none
  QString mShownSource;            // the original shown in the crop editor
  QString mCaptionOutput;          // whose caption the editor holds
  bool mLoadingCaption = false;

  QAction* mOpenDataset;
  QAction* mImportFiles;
  QAction* mImportFolder;
  QAction* mImportZip;
  QAction* mCancel;
  QAction* mResetCrop;
  QAction* mRemove;
  QAction* mUndoAction;
  QAction* mRedoAction;

  widgets::ElidedLabel* mFolderLabel;
  QLabel* mSummary;
  QLineEdit* mToken;
  QSpinBox* mResolution;
  QCheckBox* mFilenameCaptions;
  QProgressBar* mProgress;
  QLabel* mProgressLabel;
  QPushButton* mCancelButton;
  widgets::MessageBanner* mBanner;

  QStackedWidget* mStack;  // no dataset | body
  widgets::EmptyState* mNoDataset;
  QSplitter* mSplitter;
  QStackedWidget* mGridStack;  // empty folder | grid
  widgets::EmptyState* mNoImages;
  widgets::GalleryView* mGrid;
  DatasetDelegate* mDelegate;

  widgets::CropEditor* mCropEditor;
  QLabel* mCropInfo;

  QLabel* mImageName;
  widgets::PromptEdit* mCaption;
  QTimer* mCaptionTimer;
  QLabel* mPrompt;
  QLabel* mWarnings;
  QComboBox* mScope;
  QLineEdit* mFind;
  QLineEdit* mReplace;
  QLineEdit* mFill;

  std::unique_ptr<CaptionSettings> mCaptionSettings;
  QNetworkAccessManager* mNetwork;
  std::unique_ptr<captioning::CaptionStore> mCaptionStore;
  // Marks made while a run writes the records: applied again over each record the run saves.
  QHash<QString, QString> mPendingMarks;
  captioning::CaptionRun* mCaptionRun = nullptr;
  int mCaptionTotal = 0;
  std::function<ReplaceAnswer(int)> mAskReplace;
  QAction* mCaptionMissing;
  QAction* mCaptionSelected;
  QAction* mRetryFailed;
  QAction* mCaptionEndpoint;
  QAction* mAcceptCaption;
  QAction* mNextImage;
  QAction* mPreviousImage;
  QWidget* mCaptionRunBar;
  QLabel* mCaptionRunLabel;
  QProgressBar* mCaptionProgress;
  QPushButton* mCaptionPause;
  QPushButton* mCaptionCancel;
  QLabel* mCaptionInfo;
};

}  // namespace kiln::app
