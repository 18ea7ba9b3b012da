#include "pages/downloads_panel.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QResizeEvent>
#include <QScrollArea>
#include <QVBoxLayout>

#include "downloads/catalog.h"
#include "downloads/download_manager.h"
#include "downloads/file_download.h"

namespace kiln::app {

using downloads::DownloadManager;
using downloads::FileDownload;

namespace {

// One line that elides its text to the width it gets; the whole text is the tooltip.
class ElidingLabel : public QLabel {
 public:
  using QLabel::QLabel;
  void setFullText(const QString& text) {
    mFull = text;
    setToolTip(text);
    refresh();
  }
  QString fullText() const { return mFull; }
  QSize minimumSizeHint() const override { return {0, QLabel::minimumSizeHint().height()}; }

 protected:
  void resizeEvent(QResizeEvent* event) override {
    QLabel::resizeEvent(event);
    refresh();
  }

 private:
  void refresh() {
    QString line = mFull;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    setText(fontMetrics().elidedText(line, Qt::ElideRight, std::max(0, width())));
  }
  QString mFull;
};

QString originText(const QString& origin) {
  if (origin.isEmpty() || origin == QLatin1String("catalog")) return DownloadsPanel::tr("catalog");
  if (origin == QLatin1String("given")) return DownloadsPanel::tr("the link");
  return origin;  // "Hugging Face", "Civitai": names
}

}  // namespace

class DownloadRow : public QFrame {
 public:
  DownloadRow(FileDownload* download, QWidget* parent) : QFrame(parent), download(download) {
    setObjectName(QStringLiteral("downloadRow"));
    setFrameShape(QFrame::StyledPanel);
    title = new QLabel(this);
    title->setObjectName(QStringLiteral("downloadLabel"));
    QFont bold = title->font();
    bold.setWeight(QFont::DemiBold);
    title->setFont(bold);
    state = new QLabel(this);
    state->setObjectName(QStringLiteral("downloadState"));
    progress = new QLabel(this);
    progress->setObjectName(QStringLiteral("downloadProgressText"));
    progress->setForegroundRole(QPalette::PlaceholderText);
    bar = new QProgressBar(this);
    bar->setObjectName(QStringLiteral("downloadProgress"));
    bar->setTextVisible(false);
    bar->setMaximumHeight(fontMetrics().height() * 2 / 3);
    note = new ElidingLabel(this);
    note->setObjectName(QStringLiteral("downloadNote"));
    pauseResume = new QPushButton(this);
    pauseResume->setObjectName(QStringLiteral("downloadPauseResume"));
    cancel = new QPushButton(DownloadsPanel::tr("Cancel"), this);
    cancel->setObjectName(QStringLiteral("downloadCancel"));
    dismiss = new QPushButton(DownloadsPanel::tr("Dismiss"), this);
    dismiss->setObjectName(QStringLiteral("downloadDismiss"));

    auto* top = new QHBoxLayout;
    top->setSpacing(8);
    top->addWidget(title);
    top->addWidget(state);
    top->addStretch(1);
    top->addWidget(progress);
    auto* buttons = new QHBoxLayout;
    buttons->setSpacing(6);
    buttons->addWidget(note, 1);
    buttons->addWidget(pauseResume);
    buttons->addWidget(cancel);
    buttons->addWidget(dismiss);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 6, 10, 6);
    layout->setSpacing(4);
    layout->addLayout(top);
    layout->addWidget(bar);
    layout->addLayout(buttons);
  }

  FileDownload* download;
  QLabel* title;
  QLabel* state;
  QLabel* progress;
  QProgressBar* bar;
  ElidingLabel* note;
  QPushButton* pauseResume;
  QPushButton* cancel;
  QPushButton* dismiss;
  QString lastNote;
  downloads::FileDownload::State noteState = downloads::FileDownload::State::Idle;
};

DownloadsPanel::DownloadsPanel(DownloadManager* manager, QWidget* parent) : QWidget(parent), mManager(manager) {
  setObjectName(QStringLiteral("downloadsPanel"));
  auto* heading = new QLabel(tr("Downloads"), this);
  QFont bold = heading->font();
  bold.setWeight(QFont::DemiBold);
  heading->setFont(bold);

  mList = new QWidget;
  mListLayout = new QVBoxLayout(mList);
  mListLayout->setContentsMargins(0, 0, 0, 0);
  mListLayout->setSpacing(6);
  mListLayout->addStretch(1);
  mScroll = new QScrollArea(this);
  mScroll->setWidget(mList);
  mScroll->setWidgetResizable(true);
  mScroll->setFrameShape(QFrame::NoFrame);
  mScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 6, 12, 10);
  layout->setSpacing(6);
  layout->addWidget(heading);
  layout->addWidget(mScroll);

  connect(mManager, &DownloadManager::added, this, &DownloadsPanel::add);
  connect(mManager, &DownloadManager::removed, this, &DownloadsPanel::remove);
  connect(mManager, &DownloadManager::changed, this, &DownloadsPanel::update);
  for (FileDownload* d : mManager->downloads()) add(d);
  updateVisibility();
}

DownloadsPanel::~DownloadsPanel() = default;

QWidget* DownloadsPanel::rowOf(const FileDownload* download) const { return mRows.value(download); }

QString DownloadsPanel::timeLeftText(qint64 seconds) {
  if (seconds < 60) return tr("%n s left", nullptr, int(std::max<qint64>(1, seconds)));
  const qint64 minutes = (seconds + 30) / 60;
  if (minutes < 60) return tr("%n min left", nullptr, int(minutes));
  return tr("%1 h %2 min left").arg(minutes / 60).arg(minutes % 60);
}

QString DownloadsPanel::progressText(const FileDownload* d) {
  using downloads::formatBytes;
  QStringList parts;
  if (d->total() > 0)
    parts << tr("%1 of %2").arg(formatBytes(d->received()), formatBytes(d->total()));
  else if (d->received() > 0)
    parts << formatBytes(d->received());
  if (d->state() == FileDownload::State::Downloading) {
    if (d->bytesPerSecond() > 0) parts << tr("%1/s").arg(formatBytes(qint64(d->bytesPerSecond())));
    if (d->secondsLeft() >= 0) parts << timeLeftText(d->secondsLeft());
  }
  return parts.join(QStringLiteral(", "));
}

QString DownloadsPanel::stateText(const FileDownload* d, bool queued) {
  using State = FileDownload::State;
  if (queued) return tr("Queued");
  switch (d->state()) {
    case State::Idle:
      return tr("Queued");
    case State::Checking:
      return tr("Checking…");
    case State::Connecting:
      return tr("Connecting…");
    case State::Downloading:
      return tr("Downloading");
    case State::Waiting:
      return tr("Waiting to retry");
    case State::Paused:
      return tr("Paused");
    case State::Finished:
      return d->verified() ? tr("Verified (sha256 from %1)").arg(originText(d->shaOrigin()))
                           : tr("Finished (no published sha256 to check)");
    case State::Failed:
      return tr("Failed");
    case State::Cancelled:
      return tr("Cancelled");
  }
  return {};
}

void DownloadsPanel::add(FileDownload* d) {
  if (mRows.contains(d)) return;
  auto* row = new DownloadRow(d, mList);
  mRows.insert(d, row);
  mListLayout->insertWidget(mListLayout->count() - 1, row);
  connect(d, &FileDownload::note, row, [this, row](const QString& line) {
    row->lastNote = line;
    row->noteState = row->download->state();
    update(row->download);
  });
  connect(row->pauseResume, &QPushButton::clicked, this, [this, d] {
    const bool running = d->isActive() || mManager->isQueued(d) || d->state() == FileDownload::State::Idle;
    if (running)
      mManager->pause(d);
    else
      mManager->resume(d);
  });
  connect(row->cancel, &QPushButton::clicked, this, [this, d] {
    if (d->received() > 0) {
      QMessageBox box(QMessageBox::Question, tr("Cancel Download"),
                      tr("Cancel the download of %1? The %2 downloaded so far are deleted.")
                          .arg(d->label(), downloads::formatBytes(d->received())),
                      QMessageBox::NoButton, this);
      box.setObjectName(QStringLiteral("cancelDownloadQuestion"));
      QPushButton* yes = box.addButton(tr("Cancel Download"), QMessageBox::DestructiveRole);
      box.setDefaultButton(box.addButton(tr("Keep Downloading"), QMessageBox::RejectRole));
      box.exec();
      if (box.clickedButton() != yes) return;
    }
    mManager->cancel(d);
  });
  connect(row->dismiss, &QPushButton::clicked, this, [this, d] { mManager->dismiss(d); });
  update(d);
  updateVisibility();
}

void DownloadsPanel::remove(FileDownload* d) {
  if (DownloadRow* row = mRows.take(d)) row->deleteLater();
  updateVisibility();
}

void DownloadsPanel::update(FileDownload* d) {
  DownloadRow* row = mRows.value(d);
  if (!row) return;
  using State = FileDownload::State;
  const State s = d->state();
  const bool queued = mManager->isQueued(d);
  const bool done = s == State::Finished || s == State::Failed || s == State::Cancelled;
  const bool running = d->isActive() || queued || s == State::Idle;
  row->title->setText(d->label());
  row->state->setText(stateText(d, queued));
  row->progress->setText(progressText(d));
  if (d->total() > 0 && s != State::Checking) {
    row->bar->setRange(0, 1000);
    row->bar->setValue(int(1000.0 * double(d->received()) / double(d->total())));
  } else if (s == State::Finished) {
    row->bar->setRange(0, 1);
    row->bar->setValue(1);
  } else if (d->isActive()) {
    row->bar->setRange(0, 0);
  } else {
    row->bar->setRange(0, 1);
    row->bar->setValue(0);
  }
  // A note is news while the download is still doing what it did then ("checking the 910 MB
  // already downloaded" is old once the bytes flow); retries and restarts stay until it moves on.
  const bool noteCurrent = s != State::Downloading || row->noteState == State::Downloading;
  row->note->setFullText(s == State::Failed && !d->error().isEmpty() ? d->error()
                         : done || !noteCurrent                      ? QString()
                                                                     : row->lastNote);
  QPalette palette = row->note->palette();
  palette.setColor(QPalette::WindowText,
                   s == State::Failed ? QColor(0xc0, 0x30, 0x30) : row->palette().color(QPalette::PlaceholderText));
  row->note->setPalette(palette);
  row->note->setForegroundRole(QPalette::WindowText);
  row->pauseResume->setText(running ? tr("Pause") : tr("Resume"));
  row->pauseResume->setVisible(s != State::Finished && s != State::Cancelled);
  row->cancel->setVisible(!done || s == State::Failed);
  row->dismiss->setVisible(done && !queued);
}

void DownloadsPanel::updateVisibility() {
  setVisible(!mRows.isEmpty());
  // As tall as the rows, up to about three of them; more scroll.
  int height = 0;
  for (const DownloadRow* row : std::as_const(mRows)) height += row->sizeHint().height() + mListLayout->spacing();
  const int cap = fontMetrics().height() * 13;
  mScroll->setFixedHeight(std::min(std::max(height, 1), cap));
}

}  // namespace kiln::app
