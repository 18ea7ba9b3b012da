#include "pages/catalog_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "downloads/catalog.h"
#include "downloads/download_manager.h"
#include "services/model_library.h"

namespace kiln::app {

using downloads::CatalogEntry;
using downloads::FileDownload;

namespace {

constexpr int kEntryRole = Qt::UserRole + 1;

bool matchesFilter(const CatalogEntry& e, const QString& key) {
  if (key == QLatin1String("all")) return true;
  if (key == QLatin1String("annotator")) return e.kind == QLatin1String("annotator");
  if (key == QLatin1String("sd1")) return e.family == QLatin1String("sd1");
  if (key == QLatin1String("sd2")) return e.family.startsWith(QLatin1String("sd2"));
  if (key == QLatin1String("sdxl")) return e.family.startsWith(QLatin1String("sdxl"));
  return false;
}

}  // namespace

CatalogDialog::CatalogDialog(const downloads::Catalog* catalog, downloads::DownloadManager* manager,
                             ModelLibrary* library, QWidget* parent)
    : QDialog(parent), mCatalog(catalog), mManager(manager), mLibrary(library) {
  setObjectName(QStringLiteral("catalogDialog"));
  setWindowTitle(tr("Get Models"));

  mFamily = new QComboBox(this);
  mFamily->setObjectName(QStringLiteral("catalogFamily"));
  mFamily->addItem(tr("All"), QStringLiteral("all"));
  mFamily->addItem(tr("SD 1.5"), QStringLiteral("sd1"));
  mFamily->addItem(tr("SD 2.x"), QStringLiteral("sd2"));
  mFamily->addItem(tr("SDXL"), QStringLiteral("sdxl"));
  mFamily->addItem(tr("Preprocessor weights"), QStringLiteral("annotator"));
  connect(mFamily, &QComboBox::currentIndexChanged, this, &CatalogDialog::applyFilter);
  auto* familyLabel = new QLabel(tr("&Show:"), this);
  familyLabel->setBuddy(mFamily);
  mDestinationLabel = new QLabel(this);
  mDestinationLabel->setObjectName(QStringLiteral("catalogDestination"));
  mDestinationLabel->setForegroundRole(QPalette::PlaceholderText);
  mDestinationLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

  mTable = new QTableWidget(0, ColumnCount, this);
  mTable->setObjectName(QStringLiteral("catalogTable"));
  mTable->setHorizontalHeaderLabels({tr("Name"), tr("Family"), tr("Kind"), tr("Size"), tr("Licence"), tr("Installed")});
  mTable->setSelectionBehavior(QAbstractItemView::SelectRows);
  mTable->setSelectionMode(QAbstractItemView::SingleSelection);
  mTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
  mTable->setAlternatingRowColors(true);
  mTable->setShowGrid(false);
  mTable->setWordWrap(false);
  mTable->verticalHeader()->hide();
  mTable->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
  QHeaderView* header = mTable->horizontalHeader();
  header->setHighlightSections(false);
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  // Names whole; long licence names ("MIT (Informative Drawings, …)") elide, the tooltip has them.
  header->setSectionResizeMode(Licence, QHeaderView::Stretch);
  mTable->setTextElideMode(Qt::ElideRight);
  connect(mTable, &QTableWidget::itemSelectionChanged, this, &CatalogDialog::updateSelection);
  connect(mTable, &QTableWidget::cellDoubleClicked, this, [this] {
    if (mDownload->isEnabled()) mDownload->click();
  });

  mDetails = new QLabel(this);
  mDetails->setObjectName(QStringLiteral("catalogDetails"));
  mDetails->setWordWrap(true);
  mDetails->setTextFormat(Qt::RichText);
  mDetails->setOpenExternalLinks(true);
  mDetails->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  mDetails->setMinimumHeight(fontMetrics().height() * 5);
  mDetails->setTextInteractionFlags(Qt::TextBrowserInteraction);

  mDownload = new QPushButton(tr("&Download"), this);
  mDownload->setObjectName(QStringLiteral("catalogDownload"));
  connect(mDownload, &QPushButton::clicked, this, [this] {
    const QString id = selectedId();
    if (!id.isEmpty()) Q_EMIT entryChosen(id);
  });

  mLink = new QLineEdit(this);
  mLink->setObjectName(QStringLiteral("linkEdit"));
  mLink->setPlaceholderText(tr("Hugging Face or Civitai link, hf:…, civitai:… or URL"));
  mLink->setClearButtonEnabled(true);
  mLinkDownload = new QPushButton(tr("Download &Link"), this);
  mLinkDownload->setObjectName(QStringLiteral("linkDownload"));
  mLinkDownload->setEnabled(false);
  mLinkError = new QLabel(this);
  mLinkError->setObjectName(QStringLiteral("linkError"));
  mLinkError->setWordWrap(true);
  QPalette errorPalette = mLinkError->palette();
  errorPalette.setColor(QPalette::WindowText, QColor(0xc0, 0x30, 0x30));
  mLinkError->setPalette(errorPalette);
  mLinkError->hide();
  connect(mLink, &QLineEdit::textChanged, this, [this](const QString& text) {
    mLinkDownload->setEnabled(!text.trimmed().isEmpty());
    mLinkError->hide();
  });
  connect(mLink, &QLineEdit::returnPressed, this, &CatalogDialog::downloadLink);
  connect(mLinkDownload, &QPushButton::clicked, this, &CatalogDialog::downloadLink);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  // No default button: Enter in the link box downloads the link, it neither closes the dialog
  // nor downloads the selected entry.
  for (QPushButton* button : findChildren<QPushButton*>()) {
    button->setAutoDefault(false);
    button->setDefault(false);
  }

  auto* top = new QHBoxLayout;
  top->addWidget(familyLabel);
  top->addWidget(mFamily);
  top->addSpacing(12);
  top->addWidget(mDestinationLabel, 1);

  auto* detailsRow = new QHBoxLayout;
  detailsRow->addWidget(mDetails, 1);
  detailsRow->addWidget(mDownload, 0, Qt::AlignTop);

  auto* linkTitle = new QLabel(tr("Or paste a link:"), this);
  linkTitle->setBuddy(mLink);
  auto* linkRow = new QHBoxLayout;
  linkRow->addWidget(linkTitle);
  linkRow->addWidget(mLink, 1);
  linkRow->addWidget(mLinkDownload);

  auto* layout = new QVBoxLayout(this);
  layout->setSpacing(10);
  layout->addLayout(top);
  layout->addWidget(mTable, 1);
  layout->addLayout(detailsRow);
  layout->addLayout(linkRow);
  layout->addWidget(mLinkError);
  layout->addWidget(buttons);

  fill();
  if (mManager) {
    connect(mManager, &downloads::DownloadManager::added, this, &CatalogDialog::refresh);
    connect(mManager, &downloads::DownloadManager::removed, this, &CatalogDialog::refresh);
    connect(mManager, &downloads::DownloadManager::changed, this, [this](FileDownload* d) {
      if (!d->isActive() || d->state() == FileDownload::State::Connecting) refresh();
    });
  }
  if (mLibrary) {
    connect(mLibrary, &ModelLibrary::entryChanged, this, &CatalogDialog::refresh);
    connect(mLibrary, &ModelLibrary::entryRemoved, this, &CatalogDialog::refresh);
  }
  resize(fontMetrics().averageCharWidth() * 130, fontMetrics().height() * 36);
}

CatalogDialog::~CatalogDialog() = default;

QString CatalogDialog::familyLabel(const QString& family) {
  if (family == QLatin1String("sd1")) return tr("SD 1.5");
  if (family == QLatin1String("sd2")) return tr("SD 2.x");
  if (family == QLatin1String("sd2-v")) return tr("SD 2.x (768-v)");
  if (family == QLatin1String("sdxl")) return tr("SDXL");
  if (family == QLatin1String("sdxl-refiner")) return tr("SDXL refiner");
  if (family == QLatin1String("any")) return tr("Any");
  return family;
}

QString CatalogDialog::kindLabel(const QString& kind) {
  if (kind == QLatin1String("checkpoint")) return tr("Checkpoint");
  if (kind == QLatin1String("vae")) return tr("VAE");
  if (kind == QLatin1String("controlnet")) return tr("ControlNet");
  if (kind == QLatin1String("annotator")) return tr("Preprocessor weights");
  return kind;
}

void CatalogDialog::fill() {
  const QList<CatalogEntry>& entries = mCatalog->entries();
  mTable->setRowCount(int(entries.size()));
  for (int row = 0; row < entries.size(); ++row) {
    const CatalogEntry& e = entries[row];
    const auto cell = [&](int column, const QString& text) {
      auto* item = new QTableWidgetItem(text);
      item->setData(kEntryRole, row);
      mTable->setItem(row, column, item);
      return item;
    };
    cell(Name, e.name)->setToolTip(e.description);
    cell(Family, familyLabel(e.family));
    cell(Kind, kindLabel(e.kind));
    cell(Size, e.size >= 0 ? downloads::formatBytes(e.size) : tr("unknown"))
        ->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    cell(Licence, e.licence.name)->setToolTip(e.licence.name);
    cell(Installed, {})->setTextAlignment(Qt::AlignCenter);
  }
  refresh();
  if (mTable->rowCount() > 0) mTable->selectRow(0);
}

const CatalogEntry* CatalogDialog::entryAt(int row) const {
  const QTableWidgetItem* item = row < 0 ? nullptr : mTable->item(row, Name);
  if (!item) return nullptr;
  const int index = item->data(kEntryRole).toInt();
  return index >= 0 && index < mCatalog->entries().size() ? &mCatalog->entries()[index] : nullptr;
}

void CatalogDialog::setDestination(const QString& folder, const QString& note) {
  mDestination = folder;
  mDestinationLabel->setText(folder.isEmpty() ? note : tr("Downloads go to %1").arg(QDir::toNativeSeparators(folder)));
  refresh();
}

void CatalogDialog::setFamilyFilter(const QString& key) {
  const int index = mFamily->findData(key);
  if (index >= 0) mFamily->setCurrentIndex(index);
}

void CatalogDialog::selectEntry(const QString& id) {
  for (int row = 0; row < mTable->rowCount(); ++row) {
    const CatalogEntry* e = entryAt(row);
    if (e && e->id == id && !mTable->isRowHidden(row)) {
      mTable->selectRow(row);
      mTable->scrollToItem(mTable->item(row, Name));
      return;
    }
  }
}

QString CatalogDialog::selectedId() const {
  const QList<QTableWidgetItem*> items = mTable->selectedItems();
  const CatalogEntry* e = items.isEmpty() ? nullptr : entryAt(items.front()->row());
  return e ? e->id : QString();
}

bool CatalogDialog::isInstalled(const CatalogEntry& e) const {
  if (!mDestination.isEmpty()) {
    const QString sub = e.subfolder();
    const QString dir = sub.isEmpty() ? mDestination : mDestination + QLatin1Char('/') + sub;
    if (QFileInfo::exists(dir + QLatin1Char('/') + e.fileName())) return true;
  }
  if (mLibrary && !e.sha256.isEmpty()) {
    for (const ModelEntry& m : mLibrary->entries()) {
      if (m.summary.sha256.compare(e.sha256, Qt::CaseInsensitive) == 0) return true;
    }
  }
  return false;
}

bool CatalogDialog::isQueued(const CatalogEntry& e) const {
  if (!mManager) return false;
  for (const FileDownload* d : mManager->downloads()) {
    const FileDownload::State s = d->state();
    if (s == FileDownload::State::Finished || s == FileDownload::State::Cancelled || s == FileDownload::State::Failed)
      continue;
    if (d->request().source == e.source && d->fileName() == e.fileName()) return true;
  }
  return false;
}

void CatalogDialog::refresh() {
  for (int row = 0; row < mTable->rowCount(); ++row) {
    const CatalogEntry* e = entryAt(row);
    QTableWidgetItem* item = mTable->item(row, Installed);
    if (!e || !item) continue;
    const bool installed = isInstalled(*e);
    const bool queued = !installed && isQueued(*e);
    item->setText(installed ? QStringLiteral("✓") : queued ? tr("Queued") : QString());
    item->setToolTip(installed ? tr("Installed") : queued ? tr("In the downloads") : QString());
    item->setData(Qt::UserRole, installed);
  }
  applyFilter();
}

void CatalogDialog::applyFilter() {
  const QString key = mFamily->currentData().toString();
  for (int row = 0; row < mTable->rowCount(); ++row) {
    const CatalogEntry* e = entryAt(row);
    mTable->setRowHidden(row, !e || !matchesFilter(*e, key));
  }
  const QList<QTableWidgetItem*> selected = mTable->selectedItems();
  if (selected.isEmpty() || mTable->isRowHidden(selected.front()->row())) {
    for (int row = 0; row < mTable->rowCount(); ++row) {
      if (!mTable->isRowHidden(row)) {
        mTable->selectRow(row);
        break;
      }
    }
  }
  updateSelection();
}

void CatalogDialog::updateSelection() {
  const QList<QTableWidgetItem*> items = mTable->selectedItems();
  const CatalogEntry* e =
      items.isEmpty() || mTable->isRowHidden(items.front()->row()) ? nullptr : entryAt(items.front()->row());
  if (!e) {
    mDetails->clear();
    mDownload->setEnabled(false);
    return;
  }
  const bool installed = isInstalled(*e);
  const bool queued = !installed && isQueued(*e);
  QString html = QStringLiteral("<p><b>%1</b> — %2</p>").arg(e->name.toHtmlEscaped(), e->description.toHtmlEscaped());
  if (!e->licence.name.isEmpty()) {
    const QString licence = e->licence.url.isEmpty()
                                ? e->licence.name.toHtmlEscaped()
                                : QStringLiteral("<a href=\"%1\">%2</a>")
                                      .arg(e->licence.url.toHtmlEscaped(), e->licence.name.toHtmlEscaped());
    html += QStringLiteral("<p>") + tr("Licence: %1").arg(licence) + QStringLiteral("</p>");
  }
  const QString size = e->size >= 0 ? downloads::formatBytes(e->size) : tr("size not published");
  const QString sha = e->sha256.isEmpty() ? tr("no published sha256") : QStringLiteral("sha256 %1").arg(e->sha256);
  html += QStringLiteral("<p><small>") + tr("%1, %2. Source: %3").arg(size, sha, e->source.toString().toHtmlEscaped()) +
          QStringLiteral("<br>") + tr("Where the size and hash come from: %1").arg(e->provenance.toHtmlEscaped()) +
          QStringLiteral("</small></p>");
  mDetails->setText(html);
  mDownload->setEnabled(!installed && !queued);
  mDownload->setToolTip(installed ? tr("Already installed") : queued ? tr("Already in the downloads") : QString());
}

void CatalogDialog::downloadLink() {
  const QString text = mLink->text().trimmed();
  if (text.isEmpty()) return;
  QString error;
  const std::optional<downloads::SourceSpec> source = downloads::parseSource(text, &error);
  if (!source) {
    mLinkError->setText(error);
    mLinkError->show();
    return;
  }
  mLinkError->hide();
  Q_EMIT sourceChosen(*source);
  mLink->clear();
}

}  // namespace kiln::app
