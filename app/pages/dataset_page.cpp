#include "pages/dataset_page.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
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
#include "dataset/sidecar.h"
#include "dataset/crop_planner.h"
#include "pages/dataset_delegate.h"
#include "pages/dataset_model.h"
#include "state/app_settings.h"
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

constexpr int kOriginalSide = 1600;  // the crop editor's copy of an original: enough to judge a crop

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }

}  // namespace

QString DatasetPage::datasetFolder() const { return mModel->folder(); }

bool DatasetPage::isBusy() const {
  return isImporting() || mModel->isLoading() || mModel->hasPendingThumbnails() || mOriginalRequest != 0 ||
         mRegenerating > 0;
}

void DatasetPage::openDataset(const QString& folder) {
  commitCaption();
  const QString path = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
  if (!QDir().mkpath(path)) {
    showError(tr("Cannot use this folder"), tr("Kiln could not create the folder “%1”.").arg(QDir::toNativeSeparators(path)));
    return;
  }
  if (isCaptioning()) {
    mCaptionRun->cancel();
    QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);  // its end, before the folder changes
  }
  mUndo.clear();
  mBanner->hide();
  mPendingMarks.clear();
  mCaptionStore.reset();
  mShownSource.clear();
  mCaptionOutput.clear();
  mCropEditor->clear();
  mDatasetSettings->setFolder(path);
  mModel->setFolder(path);
  updateView();
}

void DatasetPage::chooseDataset() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Choose a Dataset Folder"), datasetFolder());
  if (!folder.isEmpty()) openDataset(folder);
}

void DatasetPage::chooseFiles() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Import Photos"), QString(),
      tr("Images and archives (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.zip);;All files (*)"));
  if (!files.isEmpty()) importSources(files);
}

void DatasetPage::chooseFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Import a Folder of Photos"));
  if (!folder.isEmpty()) importSources({folder});
}

void DatasetPage::chooseZip() {
  const QString zip = QFileDialog::getOpenFileName(this, tr("Import a Zip of Photos"), QString(), tr("Zip archives (*.zip)"));
  if (!zip.isEmpty()) importSources({zip});
}

void DatasetPage::importSources(const QStringList& sources) {
  if (sources.isEmpty() || isImporting()) return;
  if (datasetFolder().isEmpty()) {
    chooseDataset();
    if (datasetFolder().isEmpty()) return;
  }
  commitCaption();
  mBanner->hide();
  DatasetImportJob job;
  job.id = mNextId++;
  job.sources = sources;
  job.outputFolder = datasetFolder();
  job.resolution = mResolution->value();
  job.instanceToken = mToken->text().trimmed();
  job.filenameCaptions = mFilenameCaptions->isChecked();
  mStop = std::stop_source();
  job.stop = mStop.get_token();
  mImportJob = job.id;
  mProgress->setRange(0, 0);
  mProgressLabel->setText(tr("Looking at the photos…"));
  QMetaObject::invokeMethod(mImportWorker, [worker = mImportWorker, job] { worker->import(job); }, Qt::QueuedConnection);
  updateActions();
  Q_EMIT importingChanged(true);
  Q_EMIT activityChanged(tr("Preparing photos…"), -1);
}

void DatasetPage::cancelImport() {
  if (!isImporting()) return;
  mStop.request_stop();
  mProgressLabel->setText(tr("Cancelling…"));
}

void DatasetPage::endImport() {
  mImportJob = 0;
  mModel->setFolder(datasetFolder());
  updateActions();
  Q_EMIT importingChanged(false);
  Q_EMIT activityChanged({}, -1);
  Q_EMIT importEnded();
}

void DatasetPage::showImportReport(const DatasetImportResult& result) {
  const int total = static_cast<int>(result.items.size());
  const int skipped = result.skipped();
  const int prepared = total - skipped;
  if (result.cancelled) {
    Q_EMIT message(tr("Import cancelled: %n photo(s) prepared", nullptr, prepared));
  } else {
    Q_EMIT message(tr("Prepared %n photo(s)", nullptr, prepared));
  }
  if (skipped == 0 && result.notes.isEmpty()) return;
  QStringList lines;
  for (const DatasetImportItem& item : result.items) {
    if (item.status == QLatin1String("skipped")) lines << tr("%1: %2").arg(QFileInfo(item.source).fileName(), item.reason);
  }
  lines << result.notes;
  if (skipped == 0) {
    mBanner->setMessage(widgets::MessageBanner::Kind::Information, tr("Import notes"), tr("See the details."), lines.join(QLatin1Char('\n')));
  } else {
    QStringList names;
    for (const DatasetImportItem& item : result.items) {
      if (item.status == QLatin1String("skipped")) names << QFileInfo(item.source).fileName();
    }
    const QString shown = names.size() <= 3 ? names.join(QStringLiteral(", ")) : names.mid(0, 3).join(QStringLiteral(", ")) + QStringLiteral(", …");
    mBanner->setMessage(widgets::MessageBanner::Kind::Warning, tr("%n photo(s) could not be used", nullptr, skipped),
                        tr("%1. The details say why for each.").arg(shown), lines.join(QLatin1Char('\n')));
    mBanner->setDetailsVisible(skipped <= 6);
  }
  mBanner->show();
}

void DatasetPage::showError(const QString& title, const QString& text, const QString& details) {
  mBanner->setMessage(widgets::MessageBanner::Kind::Error, title, text, details);
  mBanner->show();
}

void DatasetPage::updateView() {
  const bool open = !datasetFolder().isEmpty();
  mStack->setCurrentIndex(open ? 1 : 0);
  mGridStack->setCurrentIndex(mModel->rowCount() > 0 || mModel->isLoading() ? 1 : 0);
  mFolderLabel->setText(open ? QDir::toNativeSeparators(datasetFolder()) : tr("Dataset"));
  updateSummary();
}

void DatasetPage::updateSummary() {
  if (datasetFolder().isEmpty()) {
    mSummary->setText(tr("No dataset open"));
    return;
  }
  if (mModel->isLoading()) {
    mSummary->setText(tr("Reading the dataset…"));
    return;
  }
  int faces = 0, look = 0;
  for (int i = 0; i < mModel->rowCount(); ++i) {
    const int b = mModel->item(i).badges();
    faces += (b & DatasetItem::Face) != 0;
    look += (b & (DatasetItem::NoFace | DatasetItem::TooSmall | DatasetItem::Duplicate | DatasetItem::NoCaption)) != 0;
  }
  mSummary->setText(tr("%n image(s)", nullptr, mModel->rowCount()) + QStringLiteral(" · ") +
                    tr("%n with a face", nullptr, faces) + QStringLiteral(" · ") + tr("%n to look at", nullptr, look));
}

void DatasetPage::updateActions() {
  const bool importing = isImporting();
  const bool current = !currentOutput().isEmpty();
  for (QAction* a : {mImportFiles, mImportFolder, mImportZip, mOpenDataset}) a->setEnabled(!importing);
  mCancel->setEnabled(importing);
  mCancelButton->setVisible(importing);
  mProgress->setVisible(importing);
  mProgressLabel->setVisible(importing);
  mResetCrop->setEnabled(current);
  mRemove->setEnabled(current && !importing);
  const bool captioning = isCaptioning();
  const bool open = !datasetFolder().isEmpty() && !importing && !captioning;
  mCaptionMissing->setEnabled(open && mModel->rowCount() > 0);
  mCaptionSelected->setEnabled(open && current);
  mRetryFailed->setEnabled(open && current);
  mAcceptCaption->setEnabled(current);
  mUndoAction->setEnabled(mUndo.canUndo());
  mRedoAction->setEnabled(mUndo.canRedo());
  mUndoAction->setText(mUndo.canUndo() ? tr("Undo %1").arg(mUndo.undoText()) : tr("Undo"));
  mRedoAction->setText(mUndo.canRedo() ? tr("Redo %1").arg(mUndo.redoText()) : tr("Redo"));
}

void DatasetPage::selectRow(int row) {
  if (row < 0 || row >= mModel->rowCount()) return;
  mGrid->setCurrentIndex(mModel->index(row));
}

QString DatasetPage::currentOutput() const {
  const QModelIndex index = mGrid->currentIndex();
  return index.isValid() ? mModel->item(index.row()).output : QString();
}

QStringList DatasetPage::targets(bool all) const {
  if (all) return mModel->outputs();
  QStringList out;
  if (!currentOutput().isEmpty()) out << currentOutput();
  for (const QModelIndex& index : mGrid->selectionModel()->selectedIndexes()) {
    const QString output = mModel->item(index.row()).output;
    if (!out.contains(output)) out << output;
  }
  return out;
}

QString DatasetPage::trainingPrompt(const QString& output) const {
  const int row = mModel->rowOf(output);
  QString prompt = row >= 0 ? mModel->item(row).caption.value_or(QString()).trimmed() : QString();
  if (prompt.isEmpty()) prompt = QString::fromStdString(dataset::caption_from_filename(toPath(output)));
  const std::string token = mToken->text().trimmed().toStdString();
  if (!token.empty()) prompt = QString::fromStdString(dataset::add_instance_token(prompt.toStdString(), token));
  return prompt;
}

void DatasetPage::setInstanceToken(const QString& token) { mToken->setText(token); }

void DatasetPage::updateCurrent() {
  const QString output = currentOutput();
  updateActions();
  if (output.isEmpty()) {
    mCropEditor->clear();
    mShownSource.clear();
    mCropInfo->clear();
    mImageName->clear();
    mWarnings->clear();
    mPrompt->clear();
    mCaptionOutput.clear();
    mLoadingCaption = true;
    mCaption->clear();
    mLoadingCaption = false;
    mCaption->setEnabled(false);
    mCaptionInfo->hide();
    updateTokenCount();
    return;
  }
  const DatasetItem& item = mModel->item(mModel->rowOf(output));
  mImageName->setText(item.fileName());
  mCaption->setEnabled(true);
  if (mCaptionOutput != output || (!mCaptionTimer->isActive() && mCaption->toPlainText().trimmed() != item.caption.value_or(QString()))) {
    mLoadingCaption = true;
    mCaption->setPlainText(item.caption.value_or(QString()));
    mLoadingCaption = false;
    mCaptionOutput = output;
  }
  mPrompt->setText(trainingPrompt(output));
  updateTokenCount();
  updateCaptionInfo();

  QStringList notes;
  if (!item.error.isEmpty()) notes << item.error;
  for (const QString& w : item.warnings) {
    if (!w.startsWith(QLatin1String("near-duplicate"))) notes << QStringLiteral("• ") + w;
  }
  if (!item.duplicateOf.isEmpty()) notes << QStringLiteral("• ") + tr("Looks like a near-duplicate of %1").arg(item.duplicateOf);
  mWarnings->setText(notes.join(QLatin1Char('\n')));
  mWarnings->setVisible(!notes.isEmpty());

  if (item.source.isEmpty()) {
    mCropEditor->clear();
    mCropEditor->setPlaceholderText(tr("No crop information for this image"));
    return;
  }
  if (item.source != mShownSource) {
    mCropEditor->clear();
    mCropEditor->setPlaceholderText(tr("Loading the original…"));
    mOriginalRequest = mNextId++;
    QMetaObject::invokeMethod(
        mCropWorker, [worker = mCropWorker, id = mOriginalRequest, source = item.source] { worker->loadOriginal(id, source, kOriginalSide); },
        Qt::QueuedConnection);
    return;
  }
  mCropEditor->setMarkers(item.faces);
  mCropEditor->setMinimumSide(std::min(std::max(64, item.resolution / 2), std::min(item.sourceSize.width(), item.sourceSize.height())));
  if (mRegenerating == 0) mCropEditor->setCrop(item.crop);
  const QRect c = item.crop;
  QString info = tr("%1 × %1 px at (%2, %3) of %4 × %5").arg(c.width()).arg(c.x()).arg(c.y()).arg(item.sourceSize.width()).arg(item.sourceSize.height());
  info += QStringLiteral(" · ") + tr("%n face(s)", nullptr, static_cast<int>(item.faces.size()));
  if (item.adjusted) info += QStringLiteral(" · ") + tr("moved by hand");
  mCropInfo->setText(info);
}

void DatasetPage::updateTokenCount() {
  if (!mTokenizer || mCaptionOutput.isEmpty()) {
    mCaption->setCounterText({});
    return;
  }
  try {
    // Training reads the prompt shown below, cut after 75 tokens.
    const auto count = static_cast<int>(mTokenizer->encode(mPrompt->text().toStdString()).size());
    mCaption->setCounterText(QStringLiteral("%1/75").arg(count), count > 75);
  } catch (const std::exception&) {
    mCaption->setCounterText({});
  }
}

void DatasetPage::onCropEdited(const QRect& before, const QRect& after) {
  const QString output = currentOutput();
  if (output.isEmpty()) return;
  mUndo.push(new CropCommand(this, output, before, after));
}

void DatasetPage::resetCrop() {
  const QString output = currentOutput();
  if (output.isEmpty()) return;
  const DatasetItem& item = mModel->item(mModel->rowOf(output));
  if (item.sourceSize.isEmpty()) return;
  try {
    std::vector<dataset::Box> faces;
    for (const QRect& f : item.faces) faces.push_back({f.x(), f.y(), f.width(), f.height()});
    std::optional<dataset::Point> focal;
    if (item.focal) focal = dataset::Point{item.focal->x(), item.focal->y()};
    dataset::CropOptions options;
    options.min_side = item.resolution;  // as the import planned it
    const dataset::CropPlan plan =
        dataset::plan_crop({item.sourceSize.width(), item.sourceSize.height()}, faces, focal, options);
    const QRect proposed(plan.crop.x, plan.crop.y, plan.crop.w, plan.crop.h);
    if (proposed == item.crop) {
      Q_EMIT message(tr("The crop is where Kiln proposed it"));
      return;
    }
    auto* command = new CropCommand(this, output, item.crop, proposed);
    command->setText(tr("Reset Crop"));
    mUndo.push(command);
  } catch (const std::exception& e) {
    showError(tr("Cannot reset the crop"), QString::fromStdString(e.what()));
  }
}

void DatasetPage::applyCrop(const QString& output, const QRect& crop) {
  ++mRegenerating;
  if (output == currentOutput()) mCropEditor->setCrop(crop);
  QMetaObject::invokeMethod(
      mCropWorker, [worker = mCropWorker, id = mNextId++, output, crop] { worker->regenerate(id, output, crop); },
      Qt::QueuedConnection);
}

void DatasetPage::applyCaption(const QString& output, const std::optional<QString>& caption) {
  try {
    if (caption) {
      dataset::write_caption(toPath(output), caption->toStdString());
    } else {
      std::filesystem::remove(dataset::caption_path_for(toPath(output)));
    }
  } catch (const std::exception& e) {
    showError(tr("Cannot write the caption"), tr("Kiln could not write the caption of “%1”.").arg(QFileInfo(output).fileName()),
              QString::fromStdString(e.what()));
  }
  mModel->refresh(output);
  // A person's change of the model's caption: edited from now on (a reviewed one stays reviewed).
  if (mCaptionStore) {
    const auto record = mCaptionStore->record(output);
    const QString status = captionStatus(output);
    if (record && (record->status == QLatin1String("auto") || record->status == QLatin1String("failed")) &&
        (status == QLatin1String("edited") || (status == QLatin1String("failed") && !caption.value_or(QString()).trimmed().isEmpty())))
      setCaptionStatus(output, QStringLiteral("edited"));
    else
      updateCaptionInfo();
  }
  if (output == mCaptionOutput && mCaption->toPlainText().trimmed() != caption.value_or(QString())) {
    mCaptionTimer->stop();
    mLoadingCaption = true;
    mCaption->setPlainText(caption.value_or(QString()));
    mLoadingCaption = false;
  }
  if (output == currentOutput()) {
    mPrompt->setText(trainingPrompt(output));
    updateTokenCount();
  }
}

void DatasetPage::commitCaption() {
  mCaptionTimer->stop();
  const int row = mModel->rowOf(mCaptionOutput);
  if (row < 0) return;
  const QString text = mCaption->toPlainText().trimmed();
  const std::optional<QString> before = mModel->item(row).caption;
  if (text == before.value_or(QString())) return;
  mUndo.push(new CaptionCommand(this, {CaptionChange{mCaptionOutput, before, text}}, tr("Caption Edit"), true));
}

void DatasetPage::bulkEdit(BulkEdit kind, const QString& text, const QString& replacement, bool all) {
  commitCaption();
  const std::string needle = text.trimmed().toStdString();
  if (kind == BulkEdit::AddToken && needle.empty()) {
    showError(tr("No instance token"), tr("Type the instance token in the field above first."));
    return;
  }
  if (kind == BulkEdit::FindReplace && text.isEmpty()) {
    showError(tr("Nothing to find"), tr("Type the text to find first."));
    return;
  }
  if (kind == BulkEdit::FillEmpty && needle.empty()) {
    showError(tr("No caption to fill in"), tr("Type the caption for images without one first."));
    return;
  }
  QList<CaptionChange> changes;
  for (const QString& output : targets(all)) {
    const int row = mModel->rowOf(output);
    if (row < 0) continue;
    const std::optional<QString> before = mModel->item(row).caption;
    std::optional<std::string> after;
    const std::string current = before.value_or(QString()).toStdString();
    switch (kind) {
      case BulkEdit::AddToken:
        after = dataset::add_instance_token(current, needle);
        break;
      case BulkEdit::FindReplace:
        if (before) after = dataset::replace_all(current, text.toStdString(), replacement.toStdString());
        break;
      case BulkEdit::FillEmpty:
        if (!before || before->trimmed().isEmpty()) after = needle;
        break;
    }
    if (!after || (before && *after == current)) continue;
    changes << CaptionChange{output, before, QString::fromStdString(*after)};
  }
  if (changes.isEmpty()) {
    Q_EMIT message(tr("No caption needed a change"));
    return;
  }
  const int count = static_cast<int>(changes.size());
  mUndo.push(new CaptionCommand(this, std::move(changes), tr("Edit of %n Caption(s)", nullptr, count), false));
  Q_EMIT message(tr("Changed %n caption(s)", nullptr, count));
}

void DatasetPage::removeSelected() {
  commitCaption();
  const QStringList outputs = targets(false);
  if (outputs.isEmpty()) return;
  const int row = mModel->rowOf(currentOutput());
  mUndo.push(new RemoveCommand(this, outputs, tr("Removal of %n Image(s)", nullptr, static_cast<int>(outputs.size()))));
  selectRow(std::min(row, mModel->rowCount() - 1));
}

// The files of one prepared image: the output, its sidecar and its caption(s).
static QStringList filesOf(const QString& output) {
  const std::filesystem::path out = toPath(output);
  QStringList files{output, QString::fromStdString(dataset::sidecar_path_for(out).string()),
                    QString::fromStdString(dataset::caption_path_for(out).string())};
  files << QString::fromStdString(std::filesystem::path(out).replace_extension(".caption").string());
  return files;
}

void DatasetPage::setRemoved(const QStringList& outputs, bool removed) {
  const QDir trash(mModel->folder() + QStringLiteral("/.removed"));
  if (removed && !trash.exists() && !QDir().mkpath(trash.path())) {
    showError(tr("Cannot remove the images"), tr("Kiln could not create the folder “%1”.").arg(trash.path()));
    return;
  }
  QStringList failed;
  for (const QString& output : outputs) {
    bool ok = true;
    for (const QString& file : filesOf(output)) {
      const QString inTrash = trash.filePath(QFileInfo(file).fileName());
      const QString from = removed ? file : inTrash;
      const QString to = removed ? inTrash : file;
      if (!QFile::exists(from)) continue;
      if (QFile::exists(to)) QFile::remove(to);
      ok = QFile::rename(from, to) && ok;
    }
    if (!ok) failed << QFileInfo(output).fileName();
    if (removed) {
      mModel->removeOutput(output);
    } else {
      mModel->insertOutput(QString::fromStdString(dataset::sidecar_path_for(toPath(output)).string()));
    }
  }
  if (!failed.isEmpty()) {
    showError(removed ? tr("Cannot remove the images") : tr("Cannot put the images back"),
              tr("Some files could not be moved: %1").arg(failed.join(QStringLiteral(", "))));
  }
  updateSummary();
  updateView();
  updateActions();
}

void DatasetPage::dragEnterEvent(QDragEnterEvent* event) {
  if (!event->mimeData()->hasUrls() || isImporting()) return;
  for (const QUrl& url : event->mimeData()->urls()) {
    if (url.isLocalFile()) {
      event->acceptProposedAction();
      return;
    }
  }
}

void DatasetPage::dropEvent(QDropEvent* event) {
  QStringList paths;
  for (const QUrl& url : event->mimeData()->urls()) {
    if (url.isLocalFile()) paths << url.toLocalFile();
  }
  if (paths.isEmpty()) return;
  event->acceptProposedAction();
  // After the drop returns: a folder dialog must not run inside the drag's event loop.
  QTimer::singleShot(0, this, [this, paths] { importSources(paths); });
}

}  // namespace kiln::app
