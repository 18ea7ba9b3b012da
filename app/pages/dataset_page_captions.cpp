// The Dataset page's captions from a vision model: the actions, a run's progress and outcome, the
// caption records behind the grid's badges, and the review keys.
#include <QAction>
#include <QApplication>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QUrl>

#include "captioning/caption_run.h"
#include "captioning/caption_store.h"
#include "pages/caption_endpoint_dialog.h"
#include "pages/caption_options_dialog.h"
#include "pages/dataset_delegate.h"
#include "pages/dataset_model.h"
#include "pages/dataset_page.h"
#include "state/caption_settings.h"
#include "text/clip_tokenizer.h"
#include "widgets/gallery_view.h"
#include "widgets/message_banner.h"
#include "widgets/prompt_edit.h"

namespace kiln::app {

using namespace kiln::captioning;

namespace {

bool isPersonal(const QString& status, const std::optional<QString>& caption) {
  const bool blank = !caption || caption->trimmed().isEmpty();
  return !blank && (status.isEmpty() || status == QLatin1String("edited") || status == QLatin1String("reviewed"));
}

QString minutesLeft(qint64 seconds) {
  if (seconds < 0) return {};
  if (seconds < 60) return DatasetPage::tr("%n s left", nullptr, int(seconds));
  return DatasetPage::tr("%n min left", nullptr, int((seconds + 30) / 60));
}

}  // namespace

void DatasetPage::createCaptionActions() {
  mCaptionSettings = std::make_unique<CaptionSettings>(mSettings);
  mNetwork = new QNetworkAccessManager(this);
  mCaptionMissing = new QAction(tr("Caption Missing…"), this);
  mCaptionMissing->setObjectName(QStringLiteral("captionMissingAction"));
  mCaptionMissing->setToolTip(tr("Ask the vision model for a caption of each image without one"));
  connect(mCaptionMissing, &QAction::triggered, this, [this] { chooseCaptioning(CaptionScope::Missing); });
  mCaptionSelected = new QAction(tr("Caption Selected…"), this);
  mCaptionSelected->setObjectName(QStringLiteral("captionSelectedAction"));
  mCaptionSelected->setToolTip(tr("Ask the vision model for new captions of the selected images"));
  connect(mCaptionSelected, &QAction::triggered, this, [this] { chooseCaptioning(CaptionScope::Selected); });
  mRetryFailed = new QAction(tr("Retry Failed"), this);
  mRetryFailed->setToolTip(tr("Ask again for the selected images whose captioning failed"));
  connect(mRetryFailed, &QAction::triggered, this, [this] { startCaptioning(CaptionScope::Failed, CaptionMode::Replace); });
  mCaptionEndpoint = new QAction(tr("Caption Endpoint…"), this);
  mCaptionEndpoint->setToolTip(tr("The vision model's server: URL, model, API key variable"));
  connect(mCaptionEndpoint, &QAction::triggered, this, &DatasetPage::editCaptionEndpoint);
  mAcceptCaption = new QAction(tr("Accept Caption"), this);
  mAcceptCaption->setToolTip(tr("Mark this caption reviewed and go to the next one to review (Ctrl+Enter or Alt+A)"));
  mAcceptCaption->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter),
                                QKeySequence(Qt::ALT | Qt::Key_A)});
  connect(mAcceptCaption, &QAction::triggered, this, &DatasetPage::acceptCaption);
  mNextImage = new QAction(tr("Next Image"), this);
  mNextImage->setShortcut(QKeySequence(Qt::ALT | Qt::Key_N));
  connect(mNextImage, &QAction::triggered, this, [this] { stepImage(1); });
  mPreviousImage = new QAction(tr("Previous Image"), this);
  mPreviousImage->setShortcut(QKeySequence(Qt::ALT | Qt::Key_P));
  connect(mPreviousImage, &QAction::triggered, this, [this] { stepImage(-1); });
  for (QAction* a : {mAcceptCaption, mNextImage, mPreviousImage}) {
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(a);
  }
}

QWidget* DatasetPage::buildCaptionRunBar(QWidget* parent) {
  mCaptionRunBar = new QWidget(parent);
  mCaptionRunBar->setObjectName(QStringLiteral("captionRunBar"));
  mCaptionRunLabel = new QLabel(mCaptionRunBar);
  mCaptionRunLabel->setObjectName(QStringLiteral("captionRunStatus"));
  mCaptionProgress = new QProgressBar(mCaptionRunBar);
  mCaptionProgress->setObjectName(QStringLiteral("captionProgress"));
  mCaptionProgress->setTextVisible(false);
  mCaptionProgress->setMaximumWidth(220);
  mCaptionProgress->setMaximumHeight(8);
  mCaptionPause = new QPushButton(tr("Pause"), mCaptionRunBar);
  mCaptionPause->setObjectName(QStringLiteral("captionPauseButton"));
  mCaptionPause->setToolTip(tr("Start no new requests; those in flight finish"));
  connect(mCaptionPause, &QPushButton::clicked, this, &DatasetPage::pauseCaptioning);
  mCaptionCancel = new QPushButton(tr("Cancel"), mCaptionRunBar);
  mCaptionCancel->setObjectName(QStringLiteral("captionCancelButton"));
  mCaptionCancel->setToolTip(tr("Stop captioning; the captions written so far are kept and Caption Missing goes on"));
  connect(mCaptionCancel, &QPushButton::clicked, this, &DatasetPage::cancelCaptioning);
  auto* layout = new QHBoxLayout(mCaptionRunBar);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(6);
  layout->addWidget(mCaptionRunLabel);
  layout->addWidget(mCaptionProgress);
  layout->addWidget(mCaptionPause);
  layout->addWidget(mCaptionCancel);
  layout->addStretch(1);
  mCaptionRunBar->hide();
  return mCaptionRunBar;
}

void DatasetPage::loadCaptionStore() {
  mCaptionStore.reset();
  if (!datasetFolder().isEmpty()) {
    mCaptionStore = std::make_unique<CaptionStore>(datasetFolder());
    for (auto it = mPendingMarks.begin(); it != mPendingMarks.end(); ++it) {
      if (it.value() == QLatin1String("reviewed")) mCaptionStore->markReviewed(it.key());
      else mCaptionStore->markEdited(it.key());
    }
  }
  updateCaptionInfo();
}

// The badges and tooltips from the records and the captions on disk.
void DatasetPage::updateCaptionInfo() {
  QHash<QString, CaptionInfo> info;
  if (mCaptionStore) {
    for (int row = 0; row < mModel->rowCount(); ++row) {
      const DatasetItem& item = mModel->item(row);
      const auto record = mCaptionStore->record(item.output);
      if (!record) continue;
      CaptionInfo c;
      c.status = mCaptionStore->status(item.output, item.caption.value_or(QString()));
      c.flags = flagsFromNames(record->flags);
      if (c.status == QLatin1String("auto")) {
        c.note = tr("Caption by %1, not reviewed yet").arg(record->model);
      } else if (c.status == QLatin1String("edited")) {
        c.note = tr("Caption edited by you");
      } else if (c.status == QLatin1String("reviewed")) {
        c.note = tr("Caption reviewed");
      } else if (c.status == QLatin1String("failed")) {
        c.note = tr("Captioning failed: %1").arg(record->error);
      }
      const QStringList badges = DatasetDelegate::captionBadgeTexts(c.status, c.flags);
      if (badges.size() > 1) c.note += QStringLiteral(" · ") + badges.mid(1).join(QStringLiteral(", "));
      info.insert(item.output, c);
    }
  }
  mModel->setCaptionInfo(info);
  const QString output = currentOutput();
  const CaptionInfo c = mModel->captionInfo(output);
  mCaptionInfo->setText(c.note);
  mCaptionInfo->setVisible(!c.note.isEmpty());
}

QString DatasetPage::captionStatus(const QString& output) const {
  if (!mCaptionStore) return {};
  const int row = mModel->rowOf(output);
  return mCaptionStore->status(output, row >= 0 ? mModel->item(row).caption.value_or(QString()) : QString());
}

// Records a person's mark; while a run saves the same file, again over each of its saves.
void DatasetPage::setCaptionStatus(const QString& output, const QString& status) {
  if (!mCaptionStore) return;
  if (status == QLatin1String("reviewed")) mCaptionStore->markReviewed(output);
  else mCaptionStore->markEdited(output);
  if (isCaptioning()) {
    mPendingMarks.insert(output, status);
  } else {
    QString error;
    if (!mCaptionStore->save(&error)) showError(tr("Cannot save the caption records"), error);
  }
  updateCaptionInfo();
}

bool DatasetPage::isCaptioning() const { return mCaptionRun && !mCaptionRun->isFinished(); }

void DatasetPage::editCaptionEndpoint() {
  CaptionEndpointDialog dialog(mCaptionSettings.get(), mNetwork, this);
  dialog.exec();
}

void DatasetPage::chooseCaptioning(CaptionScope scope) {
  if (isCaptioning() || datasetFolder().isEmpty()) return;
  commitCaption();
  const CaptionMode mode = scope == CaptionScope::Missing ? CaptionMode::Fill : CaptionMode::Replace;
  int count = int(targets(false).size());
  if (scope == CaptionScope::Missing) {
    count = 0;
    for (int row = 0; row < mModel->rowCount(); ++row) count += mModel->item(row).caption.value_or(QString()).trimmed().isEmpty();
  }
  CaptionOptionsDialog dialog(mCaptionSettings.get(), mNetwork, mToken->text().trimmed(), mode, count, this);
  if (dialog.exec() != QDialog::Accepted) return;
  if (dialog.prompt().token != mToken->text().trimmed()) mToken->setText(dialog.prompt().token);
  startCaptioning(scope, dialog.mode());
}

bool DatasetPage::startCaptioning(CaptionScope scope, CaptionMode mode) {
  if (isCaptioning() || isImporting() || datasetFolder().isEmpty()) return false;
  commitCaption();
  mBanner->hide();
  loadCaptionStore();
  QStringList images;
  int personal = 0;
  const QStringList candidates = scope == CaptionScope::Missing ? mModel->outputs() : targets(false);
  for (const QString& output : candidates) {
    const int row = mModel->rowOf(output);
    if (row < 0) continue;
    const QString status = captionStatus(output);
    if (scope == CaptionScope::Failed && status != QLatin1String("failed")) continue;
    if (mode == CaptionMode::Replace && isPersonal(status, mModel->item(row).caption)) ++personal;
    images << output;
  }
  if (images.isEmpty()) {
    Q_EMIT message(scope == CaptionScope::Failed ? tr("No selected image failed") : tr("No image to caption"));
    return false;
  }
  CaptionRunSettings settings;
  settings.profile = mCaptionSettings->profile();
  settings.prompt = mCaptionSettings->prompt();
  settings.prompt.token = mToken->text().trimmed();
  settings.mode = mode;
  if (const int ms = qEnvironmentVariableIntValue("KILN_CAPTION_BACKOFF_MS"); ms > 0) {
    settings.retry.firstBackoffMs = ms;
    settings.retry.maxBackoffMs = ms * 4;
  }
  if (const QString invalid = settings.profile.validate(); !invalid.isEmpty()) {
    showError(tr("Set up the caption endpoint first"), invalid);
    return false;
  }
  if (personal > 0) {
    ReplaceAnswer answer = ReplaceAnswer::Keep;
    if (mAskReplace) {
      answer = mAskReplace(personal);
    } else {
      QMessageBox box(QMessageBox::Question, tr("Replace Your Captions?"),
                      tr("%n caption(s) were written or edited by you. Replace them too?", nullptr, personal),
                      QMessageBox::Cancel, this);
      QPushButton* replace = box.addButton(tr("Replace Them Too"), QMessageBox::DestructiveRole);
      QPushButton* keep = box.addButton(tr("Keep Them"), QMessageBox::AcceptRole);
      box.setDefaultButton(keep);
      box.exec();
      answer = box.clickedButton() == replace ? ReplaceAnswer::Replace
               : box.clickedButton() == keep  ? ReplaceAnswer::Keep
                                              : ReplaceAnswer::Cancel;
    }
    if (answer == ReplaceAnswer::Cancel) return false;
    settings.overwriteEdited = answer == ReplaceAnswer::Replace;
  }

  auto* run = new CaptionRun(datasetFolder(), images, settings, mNetwork, this);
  if (const QString error = run->plan(); !error.isEmpty()) {
    delete run;
    showError(tr("Cannot caption"), error);
    return false;
  }
  if (run->pendingCount() == 0) {
    delete run;
    Q_EMIT message(mode == CaptionMode::Fill ? tr("Every image has a caption") : tr("No caption to replace"));
    return false;
  }
  if (mTokenizer) {
    run->setTokenCounter([tokenizer = mTokenizer](const QString& t) {
      try {
        return int(tokenizer->encode(t.toStdString()).size());
      } catch (const std::exception&) {
        return -1;
      }
    });
  }
  delete mCaptionRun;
  mCaptionRun = run;
  mCaptionTotal = run->pendingCount();
  mPendingMarks.clear();
  connect(run, &CaptionRun::itemChanged, this, &DatasetPage::onCaptionItem);
  connect(run, &CaptionRun::finished, this, &DatasetPage::onCaptionRunFinished, Qt::QueuedConnection);
  mCaptionPause->setText(tr("Pause"));
  mCaptionRunBar->show();
  updateCaptionRun();
  updateActions();
  Q_EMIT captioningChanged(true);
  run->start();
  return true;
}

void DatasetPage::onCaptionItem(int index) {
  if (!mCaptionRun) return;
  const CaptionItem& item = mCaptionRun->items().at(index);
  if (item.state == CaptionItem::State::Done || item.state == CaptionItem::State::Failed) {
    mModel->refresh(item.image);  // the caption as written
    loadCaptionStore();           // the run saved its record
    if (item.image == currentOutput()) updateCurrent();
  }
  updateCaptionRun();
}

void DatasetPage::updateCaptionRun() {
  if (!mCaptionRun) return;
  const int done = mCaptionRun->doneCount() + mCaptionRun->failedCount();
  const int total = std::max(1, mCaptionTotal);
  mCaptionProgress->setRange(0, total);
  mCaptionProgress->setValue(done);
  QString text = tr("Captioning %1 of %2").arg(std::min(done + 1, mCaptionTotal)).arg(mCaptionTotal);
  if (mCaptionRun->isPaused()) text = tr("Paused at %1 of %2").arg(done).arg(mCaptionTotal);
  const QString left = minutesLeft(mCaptionRun->secondsLeft());
  if (!left.isEmpty() && !mCaptionRun->isPaused()) text += QStringLiteral(" · ") + left;
  QString line = text;
  const qint64 tokens = mCaptionRun->promptTokens() + mCaptionRun->completionTokens();
  if (tokens > 0) line += QStringLiteral(" · ") + tr("%1 tokens used").arg(tokens);
  if (mCaptionRun->failedCount() > 0) line += QStringLiteral(" · ") + tr("%n failed", nullptr, mCaptionRun->failedCount());
  mCaptionRunLabel->setText(line);
  mCaptionRunLabel->setToolTip(tr("%1 prompt and %2 completion tokens so far")
                                   .arg(mCaptionRun->promptTokens())
                                   .arg(mCaptionRun->completionTokens()));
  Q_EMIT activityChanged(text, done * 100 / total);
}

void DatasetPage::pauseCaptioning() {
  if (!isCaptioning()) return;
  if (mCaptionRun->isPaused()) {
    mCaptionPause->setText(tr("Pause"));
    mCaptionRun->resume();
  } else {
    mCaptionRun->pause();
    mCaptionPause->setText(tr("Resume"));
  }
  updateCaptionRun();
}

void DatasetPage::cancelCaptioning() {
  if (isCaptioning()) mCaptionRun->cancel();
}

void DatasetPage::onCaptionRunFinished() {
  CaptionRun* run = mCaptionRun;
  if (!run || !run->isFinished()) return;
  // The run's last save is on disk: the person's marks made meanwhile go over it.
  loadCaptionStore();
  if (!mPendingMarks.isEmpty() && mCaptionStore) {
    QString error;
    if (!mCaptionStore->save(&error)) showError(tr("Cannot save the caption records"), error);
  }
  mPendingMarks.clear();
  for (const CaptionItem& item : run->items()) mModel->refresh(item.image);
  updateCaptionInfo();
  updateCurrent();
  mCaptionRunBar->hide();
  Q_EMIT activityChanged({}, -1);

  const int done = run->doneCount();
  const int failed = run->failedCount();
  QStringList details;
  for (const CaptionItem& item : run->items()) {
    if (item.state == CaptionItem::State::Failed) details << tr("%1: %2").arg(QFileInfo(item.image).fileName(), item.reason);
  }
  if (!run->stopReason().isEmpty()) {
    details.prepend(run->stopReason());
    mBanner->setMessage(widgets::MessageBanner::Kind::Error, tr("Captioning stopped"),
                        tr("%1. %n caption(s) written before it stopped.", nullptr, done).arg(run->stopReason()),
                        details.join(QLatin1Char('\n')));
    mBanner->setDetailsVisible(false);
    mBanner->show();
  } else if (failed > 0) {
    mBanner->setMessage(widgets::MessageBanner::Kind::Warning, tr("%n image(s) could not be captioned", nullptr, failed),
                        tr("Select them and use Retry Failed; the details say why for each."), details.join(QLatin1Char('\n')));
    mBanner->setDetailsVisible(false);
    mBanner->show();
  }
  if (run->cancelled()) {
    Q_EMIT message(tr("Captioning cancelled: %n caption(s) written", nullptr, done));
  } else {
    Q_EMIT message(tr("Wrote %n caption(s)", nullptr, done));
  }
  mCaptionRun = nullptr;
  run->deleteLater();
  updateActions();
  Q_EMIT captioningChanged(false);
}

void DatasetPage::acceptCaption() {
  const QString output = currentOutput();
  if (output.isEmpty() || !mCaptionStore) return;
  commitCaption();
  setCaptionStatus(output, QStringLiteral("reviewed"));
  // The next auto caption after this one (wrapping), not reviewed yet.
  const int from = mModel->rowOf(output);
  for (int step = 1; step < mModel->rowCount(); ++step) {
    const int row = (from + step) % mModel->rowCount();
    if (captionStatus(mModel->item(row).output) == QLatin1String("auto")) {
      selectRow(row);
      return;
    }
  }
  Q_EMIT message(tr("Every caption from the model is reviewed"));
}

void DatasetPage::stepImage(int step) {
  const int row = mGrid->currentIndex().isValid() ? mGrid->currentIndex().row() + step : 0;
  if (row < 0 || row >= mModel->rowCount()) return;
  mGrid->selectionModel()->setCurrentIndex(mModel->index(row), QItemSelectionModel::ClearAndSelect);
}

}  // namespace kiln::app
