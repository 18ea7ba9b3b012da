// The Train page's session archives: File > Export Session… / Import Session… (see
// services/session_archive.h). The work runs on a pool thread with a progress dialog whose
// Cancel stops it (a cancelled export or import leaves nothing); errors go to the page's banner;
// an imported session opens.
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QProgressDialog>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <atomic>
#include <memory>

#include "base/error.h"
#include "bridge/error_message.h"
#include "bridge/resource_paths.h"
#include "pages/train_page.h"
#include "services/model_library.h"
#include "services/session_archive.h"
#include "widgets/message_banner.h"

namespace kiln::app {

void TrainPage::chooseExportSession() {
  if (mSession.isEmpty() || mRunning || mExporting || mTransferring) return;
  const QStringList choices{tr("Settings, images, metrics and samples: train it elsewhere from the start"),
                            tr("Everything with the checkpoints: it resumes exactly where it stopped"),
                            tr("With the kept checkpoint files only: the result, small (it does not resume)")};
  bool ok = false;
  const QString choice = QInputDialog::getItem(this, tr("Export Session"), tr("What goes into the archive?"), choices,
                                               mState.hasCheckpoint ? 1 : 0, false, &ok);
  if (!ok) return;
  const auto contents = choice == choices.at(1)   ? SessionArchiveContents::WithCheckpoints
                        : choice == choices.at(2) ? SessionArchiveContents::WeightsOnly
                                                  : SessionArchiveContents::Session;
  const QString suggestion =
      QFileInfo(mSession).absolutePath() + QLatin1Char('/') + QFileInfo(mSession).fileName() + QStringLiteral(".zip");
  const QString zip =
      QFileDialog::getSaveFileName(this, tr("Export the Training Session"), suggestion, tr("Session archive (*.zip)"));
  if (!zip.isEmpty()) exportSessionTo(zip, contents);
}

void TrainPage::chooseImportSession() {
  if (mRunning || mExporting || mTransferring) return;
  const QString start = mSession.isEmpty() ? QDir::homePath() : QFileInfo(mSession).absolutePath();
  const QString zip =
      QFileDialog::getOpenFileName(this, tr("Import a Training Session"), start, tr("Session archive (*.zip)"));
  if (zip.isEmpty()) return;
  const QString parent = QFileDialog::getExistingDirectory(this, tr("Choose Where the Session Goes"), start);
  if (parent.isEmpty()) return;
  // A new folder named after the archive: "portrait.zip" -> portrait, portrait-2, ...
  const QString base =
      QFileInfo(zip).completeBaseName().isEmpty() ? QStringLiteral("session") : QFileInfo(zip).completeBaseName();
  QString folder = QDir(parent).filePath(base);
  for (int i = 2; QFileInfo::exists(folder); ++i)
    folder = QDir(parent).filePath(base + QLatin1Char('-') + QString::number(i));
  importSessionFrom(zip, folder);
}

void TrainPage::exportSessionTo(const QString& zipPath, SessionArchiveContents contents) {
  if (mSession.isEmpty() || mRunning || mExporting || mTransferring) return;
  const QString session = mSession;
  // The file dialog already asked about replacing an existing file.
  const bool overwrite = QFileInfo::exists(zipPath);
  runTransfer(
      tr("Exporting the session to %1…").arg(QDir::toNativeSeparators(zipPath)),
      [session, zipPath, contents, overwrite](std::stop_token stop, std::function<void(qint64, qint64)> progress) {
        Transfer t;
        t.path = zipPath;
        try {
          SessionExportOptions options;
          options.contents = contents;
          options.overwrite = overwrite;
          const auto result = SessionArchive::write(
              session, zipPath, options, [&progress](const SessionArchiveProgress& p) { progress(p.done, p.total); },
              stop);
          t.cancelled = result.cancelled;
          t.bytes = result.bytes;
          t.step = result.checkpointStep;
          t.notes = result.notes;
        } catch (...) {
          t.error = std::current_exception();
        }
        return t;
      });
}

void TrainPage::importSessionFrom(const QString& zipPath, const QString& folder) {
  if (mRunning || mExporting || mTransferring) return;
  SessionImportOptions options;
  options.models = mLibrary->folders();
  options.tokenizerDir = QString::fromStdString(bridge::clipVocabularyDir().string());
  runTransfer(tr("Importing %1…").arg(QFileInfo(zipPath).fileName()),
              [zipPath, folder, options](std::stop_token stop, std::function<void(qint64, qint64)> progress) {
                Transfer t;
                t.import = true;
                t.path = zipPath;
                try {
                  const auto result = SessionArchive::read(
                      zipPath, folder, options,
                      [&progress](const SessionArchiveProgress& p) { progress(p.done, p.total); }, stop);
                  t.cancelled = result.cancelled;
                  t.path = result.cancelled ? folder : result.sessionDir;
                  t.step = result.checkpointStep;
                  t.baseModel = result.baseModel;
                  t.notes = result.notes;
                } catch (...) {
                  t.error = std::current_exception();
                }
                return t;
              });
}

void TrainPage::cancelSessionTransfer() {
  if (mTransferring) mTransferStop.request_stop();
}

void TrainPage::runTransfer(const QString& label,
                            std::function<Transfer(std::stop_token, std::function<void(qint64, qint64)>)> work) {
  hideError();
  mTransferring = true;
  mTransferStop = std::stop_source();
  updateActions();
  mStatus->setText(label);
  if (mTransferProgress == nullptr) {
    mTransferProgress = new QProgressDialog(this);
    mTransferProgress->setObjectName(QStringLiteral("sessionTransferProgress"));
    mTransferProgress->setWindowModality(Qt::WindowModal);
    mTransferProgress->setAutoClose(false);
    mTransferProgress->setAutoReset(false);
    mTransferProgress->setMinimumDuration(400);
    connect(mTransferProgress, &QProgressDialog::canceled, this, &TrainPage::cancelSessionTransfer);
  }
  mTransferProgress->setWindowTitle(tr("Session Archive"));
  mTransferProgress->setLabelText(label);
  mTransferProgress->setCancelButtonText(tr("Cancel"));
  mTransferProgress->setRange(0, 1000);
  mTransferProgress->setValue(0);
  // Progress crosses to the GUI thread queued; only a changed per-mille value is sent.
  auto last = std::make_shared<std::atomic<int>>(-1);
  auto progress = [this, last](qint64 done, qint64 total) {
    const int value = total > 0 ? static_cast<int>(std::min<qint64>(1000, 1000 * done / total)) : 0;
    if (last->exchange(value) == value) return;
    QMetaObject::invokeMethod(
        this,
        [this, value] {
          if (mTransferring && mTransferProgress != nullptr) mTransferProgress->setValue(value);
        },
        Qt::QueuedConnection);
  };
  const std::stop_token stop = mTransferStop.get_token();
  mTransferWatcher.setFuture(
      QtConcurrent::run([work = std::move(work), stop, progress] { return work(stop, progress); }));
}

void TrainPage::onTransferDone() {
  const Transfer t = mTransferWatcher.result();
  mTransferring = false;
  if (mTransferProgress != nullptr) mTransferProgress->reset();
  updateActions();
  if (t.error) {
    try {
      std::rethrow_exception(t.error);
    } catch (const kiln::Error& e) {
      showError(ErrorMessage::fromError(e));
    } catch (const std::exception& e) {
      showError(ErrorMessage::fromException(e, t.path));
    }
    mStatus->setText(t.import ? tr("Import failed") : tr("Session export failed"));
    Q_EMIT sessionTransferFinished(false);
    return;
  }
  if (t.cancelled) {
    mStatus->setText(t.import ? tr("Import cancelled; nothing was written")
                              : tr("Export cancelled; nothing was written"));
    Q_EMIT sessionTransferFinished(false);
    return;
  }
  const QString notes =
      t.notes.isEmpty() ? QString() : QLatin1Char(' ') + t.notes.join(QStringLiteral("; ")) + QLatin1Char('.');
  if (t.import) {
    if (!openSession(t.path)) {
      Q_EMIT sessionTransferFinished(false);
      return;
    }
    const QString where = t.step >= 0 ? tr("It resumes at step %1.").arg(t.step) : tr("It trains from the start.");
    mBanner->setMessage(
        widgets::MessageBanner::Kind::Information, tr("Session imported"),
        tr("“%1” on %2. %3").arg(QFileInfo(t.path).fileName(), QDir::toNativeSeparators(t.baseModel), where) + notes);
    mBanner->show();
    Q_EMIT message(tr("Imported %1").arg(QFileInfo(t.path).fileName()));
  } else {
    mStatus->setText(tr("Exported the session to %1 (%2 MB).")
                         .arg(QDir::toNativeSeparators(t.path))
                         .arg(static_cast<double>(t.bytes) / 1e6, 0, 'f', 1));
    mBanner->setMessage(widgets::MessageBanner::Kind::Information, tr("Session exported"),
                        tr("“%1” holds the session; import it on another machine with File > Import Session or "
                           "kiln-cli session import.")
                                .arg(QFileInfo(t.path).fileName()) +
                            notes);
    mBanner->show();
    Q_EMIT message(tr("Exported %1").arg(QFileInfo(t.path).fileName()));
  }
  Q_EMIT sessionTransferFinished(true);
}

}  // namespace kiln::app
