#include "pages/gallery_panel.h"

#include <QAction>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QGridLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "bridge/generation_parameters.h"
#include "pages/gallery_model.h"
#include "state/generation_settings.h"
#include "widgets/gallery_view.h"

namespace kiln::app {

GalleryPanel::GalleryPanel(GalleryModel* model, GenerationSettings* settings, QWidget* parent)
    : QWidget(parent), mModel(model), mSettings(settings) {
  setObjectName(QStringLiteral("galleryPanel"));
  mReuse = new QAction(tr("Reuse Parameters"), this);
  mReuse->setToolTip(tr("Put this image's prompt, seed and settings into the form"));
  mToImageToImage = new QAction(tr("Send to Image to Image"), this);
  mToImageToImage->setIconText(tr("To Img2img"));
  mToImageToImage->setToolTip(tr("Start image-to-image from this image, with its parameters"));
  mToInpaint = new QAction(tr("Send to Inpaint"), this);
  mUpscale = new QAction(tr("Upscale…"), this);
  mUpscale->setToolTip(tr("Upscale the image with an ESRGAN-family model (.pth / .safetensors)"));
  mSave = new QAction(tr("Save As…"), this);
  mSave->setIconText(tr("Save…"));
  mSave->setToolTip(tr("Save the image as PNG with its parameters"));
  mSave->setShortcut(QKeySequence::Save);
  mSave->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(mSave, &QAction::triggered, this, &GalleryPanel::saveSelected);
  mCopy = new QAction(tr("Copy Image"), this);
  mCopy->setIconText(tr("Copy"));
  mCopy->setToolTip(tr("Copy the image to the clipboard"));
  connect(mCopy, &QAction::triggered, this, &GalleryPanel::copySelected);
  mCopyParameters = new QAction(tr("Copy Parameters"), this);
  connect(mCopyParameters, &QAction::triggered, this, &GalleryPanel::copySelectedParameters);
  mRemove = new QAction(tr("Remove from Gallery"), this);
  mRemove->setShortcut(QKeySequence::Delete);
  mRemove->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(mRemove, &QAction::triggered, this, [this] {
    QList<int> rows;
    for (const QModelIndex& i : mView->selectionModel()->selectedIndexes()) rows << i.row();
    mModel->removeRows(rows);
  });

  auto* title = new QLabel(tr("Gallery"), this);
  QFont bold = title->font();
  bold.setWeight(QFont::DemiBold);
  title->setFont(bold);
  mCount = new QLabel(this);
  mCount->setForegroundRole(QPalette::PlaceholderText);
  auto* header = new QHBoxLayout;
  header->addWidget(title);
  header->addWidget(mCount);
  header->addStretch(1);

  mView = new widgets::GalleryView(this);
  mView->setObjectName(QStringLiteral("galleryView"));
  mView->setModel(mModel);
  mView->setThumbnailSize(112);
  mView->setPlaceholderText(tr("The images you generate appear here, with the settings that made them."));
  mView->setContextMenuPolicy(Qt::ActionsContextMenu);
  auto* separator = new QAction(mView);
  separator->setSeparator(true);
  auto* separator2 = new QAction(mView);
  separator2->setSeparator(true);
  mView->addActions(
      {mReuse, mToImageToImage, mToInpaint, mUpscale, separator, mSave, mCopy, mCopyParameters, separator2, mRemove});
  connect(mView, &QAbstractItemView::doubleClicked, mReuse, &QAction::trigger);

  mParameters = new QPlainTextEdit(this);
  mParameters->setObjectName(QStringLiteral("parametersView"));
  mParameters->setReadOnly(true);
  mParameters->setPlaceholderText(tr("Select an image to see its parameters."));
  mParameters->setMaximumHeight(fontMetrics().lineSpacing() * 8);
  QFont small = mParameters->font();
  small.setPointSizeF(small.pointSizeF() * 0.92);
  mParameters->setFont(small);

  auto* actions = new QGridLayout;
  actions->setSpacing(4);
  const auto button = [this](QAction* action) {
    auto* b = new QPushButton(action->iconText(), this);
    b->setToolTip(action->toolTip());
    b->setEnabled(action->isEnabled());
    connect(b, &QPushButton::clicked, action, &QAction::trigger);
    connect(action, &QAction::enabledChanged, b, &QWidget::setEnabled);
    return b;
  };
  actions->addWidget(button(mReuse), 0, 0);
  actions->addWidget(button(mToImageToImage), 0, 1);
  actions->addWidget(button(mSave), 1, 0);
  actions->addWidget(button(mCopy), 1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(10, 10, 12, 12);
  layout->setSpacing(6);
  layout->addLayout(header);
  layout->addWidget(mView, 1);
  layout->addWidget(mParameters);
  layout->addLayout(actions);
  setMinimumWidth(260);

  connect(mView->selectionModel(), &QItemSelectionModel::selectionChanged, this, &GalleryPanel::updateSelection);
  connect(mModel, &QAbstractItemModel::rowsInserted, this, &GalleryPanel::updateSelection);
  connect(mModel, &QAbstractItemModel::rowsRemoved, this, &GalleryPanel::updateSelection);
  connect(mModel, &QAbstractItemModel::modelReset, this, &GalleryPanel::updateSelection);
  updateSelection();
}

int GalleryPanel::selectedRow() const {
  const QItemSelectionModel* selection = mView->selectionModel();
  const QModelIndex current = selection->currentIndex();
  if (current.isValid() && selection->isSelected(current)) return current.row();
  const QModelIndexList selected = selection->selectedIndexes();
  return selected.isEmpty() ? -1 : selected.front().row();
}

void GalleryPanel::selectRow(int row) { mView->setCurrentIndex(mModel->index(row)); }

void GalleryPanel::updateSelection() {
  const int row = selectedRow();
  const bool one = row >= 0;
  for (QAction* a : {mReuse, mToImageToImage, mToInpaint, mUpscale, mSave, mCopy, mCopyParameters}) a->setEnabled(one);
  mRemove->setEnabled(mView->selectionModel()->hasSelection());
  mParameters->setPlainText(one ? mModel->item(row).parameters.toText() : QString());
  mCount->setText(mModel->rowCount() ? QString::number(mModel->rowCount()) : QString());
  Q_EMIT selectionChanged(row);
}

void GalleryPanel::saveSelected() {
  const int row = selectedRow();
  if (row < 0) return;
  const GalleryItem& item = mModel->item(row);
  const QString suggested =
      item.path.isEmpty() ? QDir(mSettings->outputFolder()).filePath(QStringLiteral("%1.png").arg(item.parameters.seed))
                          : item.path;
  QString path = QFileDialog::getSaveFileName(this, tr("Save Image"), suggested, tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive)) path += QStringLiteral(".png");
  QString error;
  if (bridge::writePngWithParameters(path, item.image, item.parameters.toText(), &error)) {
    Q_EMIT message(tr("Saved %1").arg(QDir::toNativeSeparators(path)));
  } else {
    Q_EMIT failed(tr("Could not save the image"), tr("Kiln could not write %1.").arg(QDir::toNativeSeparators(path)),
                  error);
  }
}

void GalleryPanel::copySelected() {
  const int row = selectedRow();
  if (row < 0) return;
  QGuiApplication::clipboard()->setImage(mModel->item(row).image);
  Q_EMIT message(tr("Copied the image"));
}

void GalleryPanel::copySelectedParameters() {
  const int row = selectedRow();
  if (row < 0) return;
  QGuiApplication::clipboard()->setText(mModel->item(row).parameters.toText());
  Q_EMIT message(tr("Copied the parameters"));
}

}  // namespace kiln::app
