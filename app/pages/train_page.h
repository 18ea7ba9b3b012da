#pragma once
// The Train page: a session folder (new or open; the last one is remembered), the settings form
// checked before Start (the engine's validation inline, the exact prompt of every image, missing
// captions, resolution vs the model's, a rough CUDA memory need), and the run: Start/Resume,
// Pause and Stop-and-save (both save a checkpoint; Resume continues exactly), Extend by N UNet
// steps; live charts of loss, learning rate, speed and memory, the sample images over time, the
// ETA and the engine's log; Export to a model file that then appears in the Models page; the
// whole session exported to / imported from a .zip to carry it to another machine (File >
// Export Session… / Import Session…, services/session_archive.h; off the GUI thread with a
// progress dialog and Cancel). The engine runs on its own TrainingWorker thread (DESIGN §3).

#include <QFutureWatcher>
#include <QStringList>
#include <QThread>
#include <QWidget>

#include <exception>
#include <functional>
#include <stop_token>

#include "jobs/training_worker.h"
#include "pages/train_session.h"

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QProgressDialog;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTabWidget;
class QTimer;
class QTreeWidget;

namespace kiln::widgets {
class EmptyState;
class MessageBanner;
}  // namespace kiln::widgets

namespace kiln::app {

class AppSettings;
class ModelLibrary;
enum class SessionArchiveContents;
class TrainCharts;
class TrainFormView;

class TrainPage : public QWidget {
  Q_OBJECT

 public:
  enum class Outcome { None, Finished, Paused, Stopped, Failed };

  TrainPage(ModelLibrary* library, AppSettings* settings, QWidget* parent = nullptr);
  // Stops a running session (it saves a checkpoint) and waits for the training thread.
  ~TrainPage() override;
  // Stop & Save (the main window's job area offers it while training runs).
  QAction* stopAction() const { return mStopAction; }
  // File > Export Session… / Import Session… (the main window's menu).
  QAction* exportSessionAction() const { return mExportSession; }
  QAction* importSessionAction() const { return mImportSession; }

  QString sessionFolder() const { return mSession; }
  bool isRunning() const { return mRunning; }
  bool isExporting() const { return mExporting; }
  bool isTransferring() const { return mTransferring; }
  Outcome lastOutcome() const { return mOutcome; }

  // Creates a session in `folder` from the form (the folder may exist but must not hold one).
  bool newSession(const QString& folder);
  // Opens an existing session: its settings, charts, samples and log.
  bool openSession(const QString& folder);
  // Session archives, off the GUI thread (sessionTransferFinished). Export writes the open session.
  void exportSessionTo(const QString& zipPath, kiln::app::SessionArchiveContents contents);
  // Imports into `folder` (new or empty), finding the base model in the library's folders, then
  // opens the session.
  void importSessionFrom(const QString& zipPath, const QString& folder);

  // For tests and screenshots.
  TrainFormView* formView() const { return mForm; }
  TrainCharts* charts() const { return mCharts; }
  QPlainTextEdit* logView() const { return mLog; }
  QListWidget* sampleStrip() const { return mSamples; }
  QTreeWidget* promptList() const { return mPrompts; }
  widgets::MessageBanner* banner() const { return mBanner; }
  QLabel* statusLabel() const { return mStatus; }
  QLabel* checkLabel() const { return mCheck; }
  QPushButton* startButton() const { return mStartButton; }
  QPushButton* pauseButton() const { return mPauseButton; }
  QPushButton* stopButton() const { return mStopButton; }
  QPushButton* compareButton() const { return mCompareButton; }
  QSpinBox* extendSteps() const { return mExtendSteps; }
  // Waits for the pending form check (tests).
  void waitForCheck();

 public Q_SLOTS:
  void chooseNewSession();
  void chooseSession();
  // Starts or resumes the open session (creating one first asks for a folder).
  void start();
  // Saves a checkpoint and stops; Resume continues exactly.
  void pause();
  void stopAndSave();
  // Adds `steps` UNet steps to the session and resumes.
  void extend(int steps);
  void exportTo(const QString& output, const QString& format, bool half);
  void chooseExport();
  // Hands the kept checkpoints to the Generate page (compareRequested).
  void compareCheckpoints();
  // Session archives: asks what and where, then exportSessionTo / importSessionFrom.
  void chooseExportSession();
  void chooseImportSession();
  void cancelSessionTransfer();

 Q_SIGNALS:
  void message(const QString& text);
  // What the training does ("UNet · step 40 of 1500 · 1.8 it/s · 12 min left"), empty when idle.
  void activityChanged(const QString& text, int percent);
  void runningChanged(bool running);
  void exportFinished(bool ok);
  void compareRequested(const kiln::app::CheckpointComparison& comparison);
  void sessionTransferFinished(bool ok);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  QWidget* buildSettingsPanel();
  QWidget* buildRunPanel();
  void retranslate();
  void updateModels();
  void updateActions();
  void scheduleCheck();
  void runCheck();
  void showCheck(const TrainCheck& check);
  void showError(const UserMessage& message);
  void hideError();
  void appendLog(const QString& line);
  void addSample(const QString& path, qint64 step, const QString& prompt);
  void setRunning(bool running);
  void resetRunView();

  void onStep(const kiln::app::TrainingStep& step);
  void onCheckpoint(qint64 step, bool textEncoder, bool allDone);
  void onFinished(qint64 steps);
  void onStopped(qint64 step, qint64 total);
  void onFailed(const kiln::app::UserMessage& message);
  void onExported(const QString& output, qint64 steps, quint64 bytes, bool lora);
  void onExportFailed(const kiln::app::UserMessage& message);

  // What a session export or import ended with (computed on a pool thread).
  struct Transfer {
    bool import = false;
    bool cancelled = false;
    QString path;  // the zip (export) or the session folder (import)
    qint64 bytes = 0;
    qint64 step = -1;
    QString baseModel;
    QStringList notes;
    std::exception_ptr error;
  };
  void runTransfer(const QString& label,
                   std::function<Transfer(std::stop_token, std::function<void(qint64, qint64)>)> work);
  void onTransferDone();

  ModelLibrary* mLibrary;
  AppSettings* mSettings;
  QThread mThread;
  TrainingWorker* mWorker;
  std::stop_source mStop;
  bool mRunning = false;
  bool mExporting = false;
  bool mPausing = false;
  Outcome mOutcome = Outcome::None;
  QString mSession;
  SessionState mState;
  double mStepSeconds = 0;  // smoothed, for the ETA
  qint64 mLastCheckpoint = 0;

  QTimer* mCheckTimer;
  QFutureWatcher<TrainCheck> mCheckWatcher;
  bool mCheckAgain = false;

  QAction* mStart;
  QAction* mPause;
  QAction* mStopAction;
  QAction* mExportSession;
  QAction* mImportSession;

  bool mTransferring = false;
  std::stop_source mTransferStop;
  QFutureWatcher<Transfer> mTransferWatcher;
  QProgressDialog* mTransferProgress = nullptr;

  TrainFormView* mForm;
  QLineEdit* mSessionEdit;
  QPushButton* mNewButton;
  QPushButton* mOpenButton;
  QLabel* mSessionState;
  widgets::MessageBanner* mBanner;
  QLabel* mCheck;
  QPushButton* mStartButton;
  QPushButton* mPauseButton;
  QPushButton* mStopButton;
  QLabel* mExtendLabel;
  QSpinBox* mExtendSteps;
  QPushButton* mExtendButton;
  QLabel* mExportLabel;
  QComboBox* mExportFormat;
  QCheckBox* mExportHalf;
  QPushButton* mExportButton;
  QPushButton* mCompareButton;
  QLabel* mKeptLabel;

  QStackedWidget* mRunStack;
  widgets::EmptyState* mEmpty;
  QLabel* mStatus;
  QProgressBar* mProgress;
  TrainCharts* mCharts;
  QListWidget* mSamples;
  QTabWidget* mTabs;
  QPlainTextEdit* mLog;
  QTreeWidget* mPrompts;
  QLabel* mPromptSummary;
};

}  // namespace kiln::app
