#include "pages/models_page.h"

#include <QAction>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableView>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "bridge/model_labels.h"
#include "downloads/catalog.h"
#include "downloads/download_manager.h"
#include "pages/catalog_dialog.h"
#include "pages/downloads_panel.h"
#include "pages/model_details_view.h"
#include "pages/model_list_model.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "widgets/empty_state.h"
#include "widgets/folder_list_editor.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

const QString kHorizontalKey = QStringLiteral("models/horizontalSplitter");
const QString kVerticalKey = QStringLiteral("models/verticalSplitter");
const QString kHeaderKey = QStringLiteral("models/tableHeader");
// What the empty states offer a new user: the smallest SD 1.5 checkpoint.
const QString kStarterModel = QStringLiteral("sd15-fp16");

// Where downloads go while the library has no folder: Kiln's own, added to the library.
QString ownModelsFolder() {
  return QDir::cleanPath(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/models"));
}

QIcon icon(const QString& name, const QWidget* widget) {
  return widgets::Theme::tinted(QStringLiteral(":/icons/%1.svg").arg(name), widget->palette().color(QPalette::ButtonText));
}

}  // namespace

ModelsPage::ModelsPage(ModelLibrary* library, AppSettings* settings, QWidget* parent)
    : QWidget(parent),
      mLibrary(library),
      mSettings(settings),
      mModel(new ModelListModel(library, this)),
      mProxy(new QSortFilterProxyModel(this)) {
  mProxy->setSourceModel(mModel);
  mProxy->setSortRole(ModelListModel::SortRole);
  mProxy->setFilterRole(ModelListModel::FilterRole);
  mProxy->setFilterKeyColumn(ModelListModel::Name);
  mProxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
  mProxy->setSortCaseSensitivity(Qt::CaseInsensitive);
  mProxy->setDynamicSortFilter(true);

  mAddFolder = new QAction(tr("&Add Model Folder…"), this);
  mAddFolder->setIconText(tr("Add Folder…"));
  mAddFolder->setShortcut(QKeySequence::Open);
  mAddFolder->setToolTip(tr("Add a folder that holds models (Ctrl+O)"));
  connect(mAddFolder, &QAction::triggered, this, &ModelsPage::chooseFolder);

  mRescan = new QAction(tr("&Rescan Folders"), this);
  mRescan->setIconText(tr("Rescan"));
  mRescan->setShortcut(QKeySequence::Refresh);
  mRescan->setToolTip(tr("Search the folders for models again (F5)"));
  connect(mRescan, &QAction::triggered, mLibrary, &ModelLibrary::rescan);

  mGetModels = new QAction(tr("&Get Models…"), this);
  mGetModels->setIconText(tr("Get Models…"));
  mGetModels->setToolTip(tr("Download models from Kiln's catalog, Hugging Face, Civitai or a link"));
  mGetModels->setEnabled(false);
  connect(mGetModels, &QAction::triggered, this, &ModelsPage::showCatalog);

  mOpenFolder = new QAction(tr("Open Containing Folder"), this);
  mOpenFolder->setIconText(tr("Show in Folder"));
  connect(mOpenFolder, &QAction::triggered, this, &ModelsPage::openContainingFolder);
  mCopyPath = new QAction(tr("Copy Path"), this);
  mCopyPath->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
  mCopyPath->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(mCopyPath, &QAction::triggered, this,
          [this] { copyToClipboard(QDir::toNativeSeparators(selectedPath()), tr("Copied the path")); });
  mCopyHash = new QAction(tr("Copy Short Hash"), this);
  mCopyHash->setIconText(tr("Copy Hash"));
  mCopyHash->setToolTip(tr("Copy AUTOMATIC1111's short hash (the first 10 hex digits of the SHA-256)"));
  connect(mCopyHash, &QAction::triggered, this, [this] {
    if (const auto e = mLibrary->entry(selectedPath())) copyToClipboard(e->summary.shortHash(), tr("Copied the short hash"));
  });
  mCopySha256 = new QAction(tr("Copy SHA-256"), this);
  connect(mCopySha256, &QAction::triggered, this, [this] {
    if (const auto e = mLibrary->entry(selectedPath())) copyToClipboard(e->summary.sha256, tr("Copied the SHA-256"));
  });
  mFind = new QAction(tr("Find"), this);
  mFind->setShortcut(QKeySequence::Find);
  mFind->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  addAction(mFind);
  addAction(mCopyPath);

  mPageStack = new QStackedWidget(this);
  mNoFolders = new widgets::EmptyState(this);
  mNoFolders->setObjectName(QStringLiteral("noFoldersState"));
  mNoFolders->setIcon(QIcon(QStringLiteral(":/icons/kiln.svg")));
  mNoFolders->setTitle(tr("Add your model folders"));
  mNoFolders->setText(tr("Add a folder that holds .safetensors/.ckpt files or diffusers folders. Kiln also "
                         "looks in its sub-folders and keeps the list current as files come and go."));
  mNoFolders->setActionText(tr("Add Folder…"));
  connect(mNoFolders, &widgets::EmptyState::actionTriggered, this, &ModelsPage::chooseFolder);
  connect(mNoFolders, &widgets::EmptyState::secondaryActionTriggered, this, [this] { downloadEntry(kStarterModel); });
  mPageStack->addWidget(mNoFolders);
  mPageStack->addWidget(buildBody());

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(buildHeader());
  layout->addWidget(mPageStack, 1);

  connect(mLibrary, &ModelLibrary::foldersChanged, this, [this](const QStringList& folders) {
    mFolders->setFolders(folders);
    updateView();
  });
  connect(mLibrary, &ModelLibrary::unavailableFoldersChanged, mFolders, &widgets::FolderListEditor::setUnavailableFolders);
  connect(mLibrary, &ModelLibrary::scanFinished, this, &ModelsPage::updateView);
  connect(mLibrary, &ModelLibrary::entryChanged, this, [this](const ModelEntry& e) { onEntryChanged(e.path); });
  connect(mProxy, &QAbstractItemModel::rowsInserted, this, &ModelsPage::updateView);
  connect(mProxy, &QAbstractItemModel::rowsRemoved, this, &ModelsPage::updateView);
  connect(mProxy, &QAbstractItemModel::modelReset, this, &ModelsPage::updateView);
  connect(mTable->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ModelsPage::updateSelection);

  mFolders->setFolders(mLibrary->folders());
  mFolders->setUnavailableFolders(mLibrary->unavailableFolders());
  mWantedSelection = mSettings->selectedModel();
  updateIcons();
  updateView();
  updateSelection();
}

ModelsPage::~ModelsPage() { saveViewState(); }

QWidget* ModelsPage::buildHeader() {
  auto* header = new QWidget(this);
  auto* title = new QLabel(tr("Models"), header);
  QFont font = title->font();
  font.setPointSizeF(font.pointSizeF() * 1.5);
  font.setWeight(QFont::DemiBold);
  title->setFont(font);
  mSummary = new QLabel(header);
  mSummary->setForegroundRole(QPalette::PlaceholderText);
  mSummary->setObjectName(QStringLiteral("modelsSummary"));

  mFilter = new QLineEdit(header);
  mFilter->setObjectName(QStringLiteral("modelFilter"));
  mFilter->setPlaceholderText(tr("Filter by name, family or hash"));
  mFilter->setClearButtonEnabled(true);
  mFilterIcon = mFilter->addAction(QIcon(), QLineEdit::LeadingPosition);
  mFilter->setMinimumWidth(fontMetrics().horizontalAdvance(mFilter->placeholderText()) + 70);
  connect(mFilter, &QLineEdit::textChanged, this, [this](const QString& text) {
    mProxy->setFilterFixedString(text.trimmed());
    updateView();
  });
  connect(mFind, &QAction::triggered, mFilter, [this] {
    mFilter->setFocus(Qt::ShortcutFocusReason);
    mFilter->selectAll();
  });

  auto* get = new QToolButton(header);
  get->setObjectName(QStringLiteral("getModelsButton"));
  get->setDefaultAction(mGetModels);
  get->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  auto* add = new QToolButton(header);
  add->setDefaultAction(mAddFolder);
  add->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  mRescanButton = new QToolButton(header);
  mRescanButton->setDefaultAction(mRescan);
  mRescanButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

  auto* layout = new QHBoxLayout(header);
  layout->setContentsMargins(16, 12, 12, 10);
  layout->setSpacing(8);
  layout->addWidget(title);
  layout->addSpacing(6);
  layout->addWidget(mSummary, 0, Qt::AlignBottom);
  layout->addStretch(1);
  layout->addWidget(mFilter);
  layout->addWidget(get);
  layout->addWidget(add);
  layout->addWidget(mRescanButton);
  return header;
}

QWidget* ModelsPage::buildBody() {
  auto* foldersPanel = new QWidget(this);
  auto* foldersTitle = new QLabel(tr("Folders"), foldersPanel);
  QFont bold = foldersTitle->font();
  bold.setWeight(QFont::DemiBold);
  foldersTitle->setFont(bold);
  mFolders = new widgets::FolderListEditor(foldersPanel);
  mFolders->setObjectName(QStringLiteral("folderEditor"));
  mFolders->setDialogTitle(tr("Add Model Folder"));
  connect(mFolders, &widgets::FolderListEditor::foldersChanged, mLibrary, &ModelLibrary::setFolders);
  auto* foldersLayout = new QVBoxLayout(foldersPanel);
  foldersLayout->setContentsMargins(12, 4, 6, 12);
  foldersLayout->setSpacing(6);
  foldersLayout->addWidget(foldersTitle);
  foldersLayout->addWidget(mFolders, 1);

  mTable = new QTableView(this);
  mTable->setObjectName(QStringLiteral("modelTable"));
  mTable->setModel(mProxy);
  mTable->setSortingEnabled(true);
  mTable->sortByColumn(ModelListModel::Name, Qt::AscendingOrder);
  mTable->setSelectionBehavior(QAbstractItemView::SelectRows);
  mTable->setSelectionMode(QAbstractItemView::SingleSelection);
  mTable->setAlternatingRowColors(true);
  mTable->setShowGrid(false);
  mTable->setWordWrap(false);
  mTable->setTextElideMode(Qt::ElideRight);
  mTable->setContextMenuPolicy(Qt::CustomContextMenu);
  mTable->verticalHeader()->hide();
  mTable->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 12);
  connect(mTable, &QWidget::customContextMenuRequested, this, &ModelsPage::showContextMenu);

  QHeaderView* header = mTable->horizontalHeader();
  header->setHighlightSections(false);
  header->setSectionsMovable(true);
  header->setStretchLastSection(false);
  header->setSectionResizeMode(QHeaderView::Interactive);
  header->setSectionResizeMode(ModelListModel::Name, QHeaderView::Stretch);
  const QFontMetrics fm = fontMetrics();
  const auto fit = [&](const QStringList& samples, int extra) {
    int w = 0;
    for (const QString& s : samples) w = std::max(w, fm.horizontalAdvance(s));
    return w + extra;
  };
  const auto title = [&](int column) { return mModel->headerData(column, Qt::Horizontal).toString(); };
  header->resizeSection(ModelListModel::Family,
                        fit({title(ModelListModel::Family), ModelLabels::family(QStringLiteral("sd1")),
                             ModelLabels::family(QStringLiteral("controlnet_sdxl"))},
                            28));
  header->resizeSection(ModelListModel::Format,
                        fit({title(ModelListModel::Format), ModelLabels::format({}, {}, true),
                             ModelLabels::format(QStringLiteral("safetensors"), QStringLiteral("single_file"), false)},
                            28));
  header->resizeSection(ModelListModel::Prediction,
                        fit({title(ModelListModel::Prediction), ModelLabels::prediction(QStringLiteral("v_prediction"))}, 28));
  header->resizeSection(ModelListModel::Size, fit({title(ModelListModel::Size), QStringLiteral("99.99 GiB")}, 28));
  header->resizeSection(ModelListModel::Parameters, fit({title(ModelListModel::Parameters), QStringLiteral("999 M")}, 28));
  header->resizeSection(ModelListModel::Hash,
                        QFontMetrics(QFont(QStringLiteral("monospace"))).horizontalAdvance(QStringLiteral("0123456789")) + 28);
  header->resizeSection(ModelListModel::Status, fit({title(ModelListModel::Status), mModel->statusSample()}, 40));
  header->restoreState(mSettings->viewState(kHeaderKey));
  header->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(header, &QWidget::customContextMenuRequested, this, [this, header](const QPoint& pos) {
    QMenu menu(this);
    for (int column = ModelListModel::Name + 1; column < ModelListModel::ColumnCount; ++column) {
      QAction* action = menu.addAction(mModel->headerData(column, Qt::Horizontal).toString());
      action->setCheckable(true);
      action->setChecked(!header->isSectionHidden(column));
      connect(action, &QAction::toggled, header, [header, column](bool shown) { header->setSectionHidden(column, !shown); });
    }
    menu.exec(header->mapToGlobal(pos));
  });

  mNoModels = new widgets::EmptyState(this);
  mNoModels->setObjectName(QStringLiteral("noModelsState"));
  connect(mNoModels, &widgets::EmptyState::actionTriggered, this, [this] {
    if (!mFilter->text().isEmpty()) mFilter->clear();
    else chooseFolder();
  });
  connect(mNoModels, &widgets::EmptyState::secondaryActionTriggered, this, [this] { downloadEntry(kStarterModel); });
  mTableStack = new QStackedWidget(this);
  mTableStack->addWidget(mTable);
  mTableStack->addWidget(mNoModels);

  mDetails = new ModelDetailsView(this);
  mDetails->setObjectName(QStringLiteral("modelDetails"));
  mDetails->addHeaderAction(mOpenFolder);
  mDetails->addHeaderAction(mCopyPath);
  mDetails->addHeaderAction(mCopyHash, {mCopyHash, mCopySha256});

  mVertical = new QSplitter(Qt::Vertical, this);
  mVertical->setChildrenCollapsible(false);
  mVertical->addWidget(mTableStack);
  mVertical->addWidget(mDetails);
  mVertical->setStretchFactor(0, 1);
  mVertical->setStretchFactor(1, 1);

  mHorizontal = new QSplitter(Qt::Horizontal, this);
  mHorizontal->setChildrenCollapsible(false);
  mHorizontal->addWidget(foldersPanel);
  mHorizontal->addWidget(mVertical);
  mHorizontal->setStretchFactor(0, 0);
  mHorizontal->setStretchFactor(1, 1);
  mHorizontal->setSizes({fm.averageCharWidth() * 26, 10000});
  mVertical->setSizes({4500, 5500});
  mHorizontal->restoreState(mSettings->viewState(kHorizontalKey));
  mVertical->restoreState(mSettings->viewState(kVerticalKey));
  return mHorizontal;
}

void ModelsPage::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) updateIcons();
}

void ModelsPage::updateIcons() {
  mAddFolder->setIcon(icon(QStringLiteral("folder-add"), this));
  mGetModels->setIcon(icon(QStringLiteral("import"), this));
  mRescan->setIcon(icon(QStringLiteral("refresh"), this));
  mFilterIcon->setIcon(icon(QStringLiteral("search"), this));
  if (mLibrary->folders().isEmpty() || mModel->rowCount() == 0) updateView();
}

void ModelsPage::saveViewState() {
  mSettings->setViewState(kHorizontalKey, mHorizontal->saveState());
  mSettings->setViewState(kVerticalKey, mVertical->saveState());
  mSettings->setViewState(kHeaderKey, mTable->horizontalHeader()->saveState());
}

QString ModelsPage::selectedPath() const {
  const QModelIndexList rows = mTable->selectionModel()->selectedRows();
  return rows.isEmpty() ? QString() : rows.front().data(ModelListModel::PathRole).toString();
}

void ModelsPage::selectPath(const QString& path) {
  const int sourceRow = mModel->rowOf(path);
  if (sourceRow < 0) return;
  const QModelIndex index = mProxy->mapFromSource(mModel->index(sourceRow, 0));
  if (!index.isValid()) return;
  mTable->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  mTable->scrollTo(index);
}

void ModelsPage::setFilterText(const QString& text) { mFilter->setText(text); }

void ModelsPage::chooseFolder() { mFolders->chooseFolder(); }

void ModelsPage::setDownloads(downloads::DownloadManager* manager, const downloads::Catalog* catalog) {
  mDownloads = manager;
  mCatalog = catalog;
  mGetModels->setEnabled(mDownloads && mCatalog);
  if (mDownloads && !mDownloadsPanel) {
    mDownloadsPanel = new DownloadsPanel(mDownloads, this);
    static_cast<QVBoxLayout*>(layout())->addWidget(mDownloadsPanel);
  }
  updateView();
}

QString ModelsPage::getStarterText() const {
  const downloads::CatalogEntry* starter = mCatalog && mDownloads ? mCatalog->find(kStarterModel) : nullptr;
  if (!starter) return {};
  return starter->size >= 0 ? tr("Get Stable Diffusion 1.5 (%1)").arg(downloads::formatBytes(starter->size))
                            : tr("Get Stable Diffusion 1.5");
}

void ModelsPage::showCatalog() {
  if (!mDownloads || !mCatalog) return;
  if (!mCatalogDialog) {
    mCatalogDialog = new CatalogDialog(mCatalog, mDownloads, mLibrary, this);
    connect(mCatalogDialog, &CatalogDialog::entryChosen, this, [this](const QString& id) { downloadEntry(id); });
    connect(mCatalogDialog, &CatalogDialog::sourceChosen, this,
            [this](const downloads::SourceSpec& source) { downloadSource(source); });
  }
  mCatalogDialog->setDestination(downloadFolder(false),
                                 tr("Downloads go to a new folder, %1, added to your model folders")
                                     .arg(QDir::toNativeSeparators(ownModelsFolder())));
  mCatalogDialog->open();
  mCatalogDialog->raise();
  mCatalogDialog->activateWindow();
}

QString ModelsPage::downloadFolder(bool create) {
  const QStringList folders = mLibrary->folders();
  if (!folders.isEmpty()) return folders.front();
  if (!create) return {};
  const QString folder = ownModelsFolder();
  if (!QDir().mkpath(folder)) {
    Q_EMIT message(tr("Could not create %1").arg(QDir::toNativeSeparators(folder)));
    return {};
  }
  mLibrary->addFolder(folder);
  Q_EMIT message(tr("Created the model folder %1 for the downloads").arg(QDir::toNativeSeparators(folder)));
  if (mCatalogDialog) mCatalogDialog->setDestination(folder, {});
  return folder;
}

bool ModelsPage::confirmLicence(const downloads::Licence& licence, const QString& model) {
  if (licence.name.isEmpty() || mSettings->isLicenceAccepted(licence.name)) return true;
  QWidget* parent = mCatalogDialog && mCatalogDialog->isVisible() ? static_cast<QWidget*>(mCatalogDialog) : this;
  QMessageBox box(QMessageBox::Question, tr("Licence"), {}, QMessageBox::NoButton, parent);
  box.setObjectName(QStringLiteral("licenceQuestion"));
  box.setTextFormat(Qt::RichText);
  const QString link = licence.url.isEmpty() ? licence.name.toHtmlEscaped()
                                             : QStringLiteral("<a href=\"%1\">%2</a>")
                                                   .arg(licence.url.toHtmlEscaped(), licence.name.toHtmlEscaped());
  box.setText(tr("<p>%1 is published under the %2 licence.</p><p>Read it and download only if you accept its "
                 "terms. Kiln asks once for each licence.</p>")
                  .arg(model.toHtmlEscaped(), link));
  box.setTextInteractionFlags(Qt::TextBrowserInteraction);
  QPushButton* accept = box.addButton(tr("Accept and Download"), QMessageBox::AcceptRole);
  box.addButton(QMessageBox::Cancel);
  box.setDefaultButton(accept);
  box.exec();
  if (box.clickedButton() != accept) return false;
  mSettings->acceptLicence(licence.name);
  return true;
}

downloads::FileDownload* ModelsPage::downloadEntry(const QString& id) {
  const downloads::CatalogEntry* entry = mCatalog && mDownloads ? mCatalog->find(id) : nullptr;
  if (!entry || !confirmLicence(entry->licence, entry->name)) return nullptr;
  const QString folder = downloadFolder(true);
  if (folder.isEmpty()) return nullptr;
  downloads::DownloadRequest request;
  request.source = entry->source;
  request.directory = entry->subfolder().isEmpty() ? folder : folder + QLatin1Char('/') + entry->subfolder();
  request.fileName = entry->fileName();
  request.expectedSha256 = entry->sha256;
  request.shaOrigin = QStringLiteral("catalog");
  request.expectedSize = entry->size;
  request.label = entry->name;
  return mDownloads->enqueue(request);
}

downloads::FileDownload* ModelsPage::downloadSource(const downloads::SourceSpec& source) {
  if (!mDownloads) return nullptr;
  const QString folder = downloadFolder(true);
  if (folder.isEmpty()) return nullptr;
  downloads::DownloadRequest request;
  request.source = source;
  request.directory = folder;
  return mDownloads->enqueue(request);
}

void ModelsPage::updateView() {
  const bool noFolders = mLibrary->folders().isEmpty();
  mPageStack->setCurrentIndex(noFolders ? 0 : 1);
  // Without folders the page is the invitation to add one: nothing to filter, count or rescan.
  mFilter->setVisible(!noFolders);
  mSummary->setVisible(!noFolders);
  mRescan->setEnabled(!noFolders);
  mRescanButton->setVisible(!noFolders);

  const bool empty = mProxy->rowCount() == 0;
  if (empty && mModel->rowCount() > 0) {
    mNoModels->setIcon({});
    mNoModels->setTitle(tr("No models match “%1”").arg(mFilter->text().trimmed()));
    mNoModels->setText(tr("The filter looks at names, families, formats, hashes and paths."));
    mNoModels->setActionText(tr("Clear Filter"));
    mNoModels->setSecondaryActionText({});
  } else if (empty && !mLibrary->hasScanned()) {
    mNoModels->setIcon({});
    mNoModels->setTitle(tr("Looking for models…"));
    mNoModels->setText({});
    mNoModels->setActionText({});
    mNoModels->setSecondaryActionText({});
  } else if (empty) {
    mNoModels->setIcon(icon(QStringLiteral("models"), this));
    mNoModels->setTitle(tr("No models in these folders"));
    mNoModels->setText(tr("Kiln looks for .safetensors, .ckpt, .pt, .pth and .bin files and diffusers folders, "
                          "down to %n folder level(s) below each folder in the list.",
                          nullptr, FolderScanner::kMaxDepth));
    mNoModels->setActionText(tr("Add Another Folder…"));
    mNoModels->setSecondaryActionText(getStarterText());
  }
  mNoFolders->setSecondaryActionText(getStarterText());
  mNoFolders->setText(getStarterText().isEmpty()
                          ? tr("Add a folder that holds .safetensors/.ckpt files or diffusers folders. Kiln also "
                               "looks in its sub-folders and keeps the list current as files come and go.")
                          : tr("Add a folder that holds .safetensors/.ckpt files or diffusers folders, or download "
                               "Stable Diffusion 1.5 to start with. Kiln also looks in the folders' sub-folders and "
                               "keeps the list current as files come and go."));
  mTableStack->setCurrentIndex(empty ? 1 : 0);

  // Select the model selected last time once it is there, else the first one.
  if (!empty && selectedPath().isEmpty() && mLibrary->hasScanned()) {
    if (!mWantedSelection.isEmpty() && mModel->rowOf(mWantedSelection) >= 0) selectPath(mWantedSelection);
    else mTable->selectRow(0);
    mWantedSelection.clear();
  }
  updateSummary();
}

void ModelsPage::updateSummary() {
  const int total = mModel->rowCount();
  const int shown = mProxy->rowCount();
  const int folders = static_cast<int>(mLibrary->folders().size());
  QString text = shown == total ? tr("%n model(s)", nullptr, total) : tr("%1 of %n model(s)", nullptr, total).arg(shown);
  text += QStringLiteral(" · ") + tr("%n folder(s)", nullptr, folders);
  mSummary->setText(text);
}

void ModelsPage::updateSelection() {
  const QString path = selectedPath();
  const auto entry = path.isEmpty() ? std::nullopt : mLibrary->entry(path);
  mDetails->setEntry(entry ? &*entry : nullptr);
  if (!path.isEmpty()) mSettings->setSelectedModel(path);
  updateActions();
}

void ModelsPage::onEntryChanged(const QString& path) {
  if (path != selectedPath()) return;
  const auto entry = mLibrary->entry(path);
  mDetails->setEntry(entry ? &*entry : nullptr);
  updateActions();
}

void ModelsPage::updateActions() {
  const auto entry = mLibrary->entry(selectedPath());
  const bool hashed = entry && !entry->summary.sha256.isEmpty();
  mOpenFolder->setEnabled(entry.has_value());
  mCopyPath->setEnabled(entry.has_value());
  mCopyHash->setEnabled(hashed);
  mCopySha256->setEnabled(hashed);
}

void ModelsPage::showContextMenu(const QPoint& pos) {
  const QModelIndex index = mTable->indexAt(pos);
  if (!index.isValid()) return;
  QMenu menu(this);
  menu.addAction(mOpenFolder);
  menu.addSeparator();
  menu.addAction(mCopyPath);
  menu.addAction(mCopyHash);
  menu.addAction(mCopySha256);
  menu.addSeparator();
  menu.addAction(mRescan);
  menu.exec(mTable->viewport()->mapToGlobal(pos));
}

void ModelsPage::openContainingFolder() {
  const QString path = selectedPath();
  if (path.isEmpty()) return;
  const QString folder = QFileInfo(path).absolutePath();
  if (!QDesktopServices::openUrl(QUrl::fromLocalFile(folder))) {
    Q_EMIT message(tr("Could not open %1").arg(QDir::toNativeSeparators(folder)));
  }
}

void ModelsPage::copyToClipboard(const QString& text, const QString& what) {
  if (text.isEmpty()) return;
  QGuiApplication::clipboard()->setText(text);
  Q_EMIT message(what);
}

}  // namespace kiln::app
