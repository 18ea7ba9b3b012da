#include "widgets/folder_list_editor.h"

#include <QApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QListWidget>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QStandardPaths>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace kiln::widgets {

namespace {

constexpr int kPathRole = Qt::UserRole + 1;

// "~/models" for a folder in the home folder: shorter, and what people recognise.
QString displayPath(const QString& folder) {
  const QString home = QDir::homePath();
  if (home.size() > 1 && folder.startsWith(home + QLatin1Char('/'))) {
    return QDir::toNativeSeparators(QStringLiteral("~") + folder.mid(home.size()));
  }
  return QDir::toNativeSeparators(folder);
}

// Two lines per folder: its name, and where it is (shortened in the middle to fit).
class FolderDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    const QFontMetrics fm(option.font);
    return {fm.averageCharWidth() * 16, fm.height() * 2 + 12};
  }

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QWidget* widget = opt.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    opt.text.clear();
    opt.icon = QIcon();
    style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, widget);

    const QRect r = opt.rect.adjusted(6, 4, -6, -4);
    const int iconSize = 20;
    const QIcon icon = index.data(Qt::DecorationRole).value<QIcon>();
    icon.paint(painter, QRect(r.left(), r.center().y() - iconSize / 2, iconSize, iconSize));
    const QRect text = r.adjusted(iconSize + 8, 0, 0, 0);
    const bool selected = opt.state & QStyle::State_Selected;
    const QPalette::ColorGroup group = opt.state & QStyle::State_Enabled ? QPalette::Normal : QPalette::Disabled;

    painter->save();
    const QFontMetrics fm(opt.font);
    painter->setFont(opt.font);
    painter->setPen(opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text));
    const QRect top(text.left(), text.top(), text.width(), fm.height());
    painter->drawText(top, Qt::AlignLeft | Qt::AlignVCenter,
                      fm.elidedText(index.data(Qt::DisplayRole).toString(), Qt::ElideRight, top.width()));
    QColor muted = opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::PlaceholderText);
    if (selected) muted.setAlphaF(0.8);
    painter->setPen(muted);
    const QRect bottom(text.left(), top.bottom() + 2, text.width(), fm.height());
    painter->drawText(bottom, Qt::AlignLeft | Qt::AlignVCenter,
                      fm.elidedText(displayPath(index.data(kPathRole).toString()), Qt::ElideMiddle, bottom.width()));
    painter->restore();
  }
};

QStringList droppedFolders(const QMimeData* mime) {
  QStringList out;
  if (!mime || !mime->hasUrls()) return out;
  for (const QUrl& url : mime->urls()) {
    if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isDir()) out << url.toLocalFile();
  }
  return out;
}

}  // namespace

FolderListEditor::FolderListEditor(QWidget* parent)
    : QWidget(parent), mList(new QListWidget(this)), mAdd(new QPushButton(this)), mRemove(new QPushButton(this)) {
  mList->setSelectionMode(QAbstractItemView::ExtendedSelection);
  mList->setItemDelegate(new FolderDelegate(mList));
  mList->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  mList->setUniformItemSizes(true);
  mList->setAcceptDrops(true);
  mList->viewport()->setAcceptDrops(true);
  mList->installEventFilter(this);
  mList->viewport()->installEventFilter(this);
  mList->setObjectName(QStringLiteral("folderList"));

  mAdd->setText(tr("Add…"));
  mAdd->setToolTip(tr("Add a folder to the list"));
  mAdd->setObjectName(QStringLiteral("addFolderButton"));
  mRemove->setText(tr("Remove"));
  mRemove->setToolTip(tr("Remove the selected folders from the list (nothing is deleted from disk)"));
  mRemove->setObjectName(QStringLiteral("removeFolderButton"));
  connect(mAdd, &QPushButton::clicked, this, &FolderListEditor::chooseFolder);
  connect(mRemove, &QPushButton::clicked, this, &FolderListEditor::removeSelected);
  connect(mList, &QListWidget::itemSelectionChanged, this, &FolderListEditor::updateButtons);

  auto* buttons = new QHBoxLayout;
  buttons->setSpacing(6);
  buttons->addWidget(mAdd);
  buttons->addWidget(mRemove);
  buttons->addStretch(1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(6);
  layout->addWidget(mList, 1);
  layout->addLayout(buttons);
  mDialogTitle = tr("Choose a folder");
  updateButtons();
}

QStringList FolderListEditor::folders() const {
  QStringList out;
  for (int i = 0; i < mList->count(); ++i) out << mList->item(i)->data(kPathRole).toString();
  return out;
}

void FolderListEditor::setFolders(const QStringList& folders) {
  if (folders == this->folders()) return;
  rebuild(folders);
}

void FolderListEditor::setUnavailableFolders(const QStringList& folders) {
  mUnavailable = folders;
  rebuild(this->folders());
}

void FolderListEditor::setDialogTitle(const QString& title) { mDialogTitle = title; }

void FolderListEditor::chooseFolder() {
  QString start = mList->currentItem() ? mList->currentItem()->data(kPathRole).toString() : QString();
  if (start.isEmpty()) start = QStandardPaths::writableLocation(QStandardPaths::HomeLocation);
  const QString folder = QFileDialog::getExistingDirectory(this, mDialogTitle, start);
  if (!folder.isEmpty()) addFolder(folder);
}

void FolderListEditor::addFolder(const QString& folder) {
  const QString path = QDir::cleanPath(QDir(folder).absolutePath());
  QStringList list = folders();
  if (list.contains(path)) return;
  list << path;
  rebuild(list);
  mList->setCurrentRow(static_cast<int>(list.size()) - 1);
  Q_EMIT foldersChanged(list);
}

void FolderListEditor::removeSelected() {
  const auto selected = mList->selectedItems();
  if (selected.isEmpty()) return;
  QStringList list = folders();
  for (const QListWidgetItem* item : selected) list.removeAll(item->data(kPathRole).toString());
  rebuild(list);
  Q_EMIT foldersChanged(list);
}

bool FolderListEditor::eventFilter(QObject* watched, QEvent* event) {
  switch (event->type()) {
    case QEvent::DragEnter:
    case QEvent::DragMove: {
      auto* drag = static_cast<QDropEvent*>(event);
      if (droppedFolders(drag->mimeData()).isEmpty()) return false;
      drag->acceptProposedAction();
      return true;
    }
    case QEvent::Drop: {
      auto* drop = static_cast<QDropEvent*>(event);
      const QStringList dropped = droppedFolders(drop->mimeData());
      if (dropped.isEmpty()) return false;
      for (const QString& folder : dropped) addFolder(folder);
      drop->acceptProposedAction();
      return true;
    }
    case QEvent::KeyPress:
      if (watched == mList) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        if (key == Qt::Key_Delete || key == Qt::Key_Backspace) {
          removeSelected();
          return true;
        }
      }
      return false;
    default: return QWidget::eventFilter(watched, event);
  }
}

void FolderListEditor::rebuild(const QStringList& folders) {
  const QIcon folderIcon = style()->standardIcon(QStyle::SP_DirIcon);
  const QIcon warningIcon = style()->standardIcon(QStyle::SP_MessageBoxWarning);
  mList->clear();
  for (const QString& folder : folders) {
    auto* item = new QListWidgetItem(mList);
    const bool missing = mUnavailable.contains(folder);
    const QString name = QFileInfo(folder).fileName();
    item->setText(name.isEmpty() ? QDir::toNativeSeparators(folder) : name);
    item->setData(kPathRole, folder);
    item->setIcon(missing ? warningIcon : folderIcon);
    item->setToolTip(missing ? tr("%1\nThis folder is missing or cannot be read.").arg(QDir::toNativeSeparators(folder))
                             : QDir::toNativeSeparators(folder));
  }
  updateButtons();
}

void FolderListEditor::updateButtons() { mRemove->setEnabled(!mList->selectedItems().isEmpty()); }

}  // namespace kiln::widgets
