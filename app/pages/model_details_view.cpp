#include "pages/model_details_view.h"

#include <QDir>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "bridge/model_labels.h"
#include "widgets/elided_label.h"
#include "widgets/message_banner.h"

namespace kiln::app {

namespace {

// Metadata values can be whole JSON documents (kohya's training settings): one line in the
// table, the start of it in the tooltip.
constexpr int kToolTipChars = 1500;

QLabel* valueLabel(QWidget* parent) {
  auto* label = new QLabel(parent);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  label->setWordWrap(true);
  label->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  return label;
}

QFont monospace() { return QFontDatabase::systemFont(QFontDatabase::FixedFont); }

// Wide enough for a line of the SHA-256 (32 digits) beside the row labels.
int overviewWidth() {
  return QFontMetrics(monospace()).horizontalAdvance(QString(32, QLatin1Char('0'))) + QFontMetrics(QFont()).averageCharWidth() * 18 + 40;
}

QString oneLine(QString s) {
  s.replace(QLatin1Char('\n'), QLatin1Char(' '));
  s.replace(QLatin1Char('\r'), QLatin1Char(' '));
  return s;
}

}  // namespace

ModelDetailsView::ModelDetailsView(QWidget* parent) : QWidget(parent), mStack(new QStackedWidget(this)) {
  auto* placeholder = new QLabel(tr("Select a model to see what Kiln knows about it."), this);
  placeholder->setAlignment(Qt::AlignCenter);
  placeholder->setWordWrap(true);
  placeholder->setForegroundRole(QPalette::PlaceholderText);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->setChildrenCollapsible(false);
  splitter->addWidget(buildOverview());
  splitter->addWidget(buildTabs());
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({overviewWidth(), overviewWidth() * 3 / 2});
  splitter->setObjectName(QStringLiteral("detailsSplitter"));

  mStack->addWidget(placeholder);
  mStack->addWidget(splitter);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(mStack);
  setEntry(nullptr);
}

QWidget* ModelDetailsView::buildOverview() {
  auto* content = new QWidget;
  mName = new widgets::ElidedLabel(Qt::ElideMiddle, content);
  QFont big = mName->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  big.setWeight(QFont::DemiBold);
  mName->setFont(big);
  mName->setObjectName(QStringLiteral("detailsName"));
  mLocation = new widgets::ElidedLabel(Qt::ElideMiddle, content);
  mLocation->setForegroundRole(QPalette::PlaceholderText);
  mActions = new QHBoxLayout;
  mActions->setSpacing(4);
  mActions->addStretch(1);

  mError = new widgets::MessageBanner(content);
  mError->setObjectName(QStringLiteral("detailsError"));
  mProgress = new QLabel(content);
  mProgress->setForegroundRole(QPalette::PlaceholderText);

  mFactsBox = new QWidget(content);
  mFacts = new QFormLayout(mFactsBox);
  mFacts->setContentsMargins(0, 4, 0, 0);
  mFacts->setHorizontalSpacing(16);
  mFacts->setVerticalSpacing(6);
  mFacts->setLabelAlignment(Qt::AlignLeft | Qt::AlignTop);
  mFacts->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  mFamily = addRow(tr("Family"));
  mFamily->setObjectName(QStringLiteral("detailsFamily"));
  mFormat = addRow(tr("Format"));
  mLayout = addRow(tr("Key names"));
  mPrediction = addRow(tr("Prediction"));
  mPrediction->setObjectName(QStringLiteral("detailsPrediction"));
  mSize = addRow(tr("Size"));
  mParameters = addRow(tr("Parameters"));
  mPrecision = addRow(tr("Precision"));
  mShortHash = addRow(tr("Short hash"));
  mShortHash->setFont(monospace());
  mShortHash->setToolTip(tr("AUTOMATIC1111's model hash: the first 10 hex digits of the SHA-256"));
  // Two lines of 32 digits: the whole hash stays visible in a narrow column.
  mSha256 = addRow(tr("SHA-256"));
  mSha256->setFont(monospace());
  mSha256->setWordWrap(false);
  mSha256->setObjectName(QStringLiteral("detailsSha256"));
  mHashedFile = addRow(tr("Hashed file"));
  mHashedFile->setToolTip(tr("A folder's hash is that of its UNet's weights, as other tools compute it"));

  auto* layout = new QVBoxLayout(content);
  layout->setContentsMargins(12, 10, 12, 10);
  layout->setSpacing(6);
  layout->addWidget(mName);
  layout->addWidget(mLocation);
  layout->addLayout(mActions);
  layout->addWidget(mError);
  layout->addWidget(mProgress);
  layout->addWidget(mFactsBox);
  layout->addStretch(1);

  auto* scroll = new QScrollArea;
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setMinimumWidth(overviewWidth());
  return scroll;
}

QWidget* ModelDetailsView::buildTabs() {
  mTabs = new QTabWidget;
  mTabs->setDocumentMode(true);
  mTabs->setObjectName(QStringLiteral("detailsTabs"));

  mComponents = new QTreeWidget;
  mComponents->setRootIsDecorated(false);
  mComponents->setUniformRowHeights(true);
  mComponents->setAlternatingRowColors(true);
  mComponents->setHeaderLabels({tr("Component"), tr("Class"), tr("Parameters"), tr("Tensors"), tr("Precision")});
  mComponents->header()->setStretchLastSection(true);
  mComponents->setObjectName(QStringLiteral("detailsComponents"));

  mEvidence = new QPlainTextEdit;
  mEvidence->setReadOnly(true);
  mEvidence->setFrameShape(QFrame::NoFrame);

  mMetadata = new QTreeWidget;
  mMetadata->setRootIsDecorated(false);
  mMetadata->setUniformRowHeights(true);
  mMetadata->setAlternatingRowColors(true);
  mMetadata->setHeaderLabels({tr("Key"), tr("Value")});
  mMetadata->setTextElideMode(Qt::ElideRight);

  mWarnings = new QPlainTextEdit;
  mWarnings->setReadOnly(true);
  mWarnings->setFrameShape(QFrame::NoFrame);

  mTabs->addTab(mComponents, QString());
  mTabs->addTab(mEvidence, QString());
  mTabs->addTab(mMetadata, QString());
  mTabs->addTab(mWarnings, QString());
  return mTabs;
}

QLabel* ModelDetailsView::addRow(const QString& label) {
  auto* value = valueLabel(mFactsBox);
  addRow(label, value);
  return value;
}

void ModelDetailsView::addRow(const QString& label, QWidget* value) {
  auto* name = new QLabel(label, mFactsBox);
  name->setForegroundRole(QPalette::PlaceholderText);
  mFacts->addRow(name, value);
}

void ModelDetailsView::addHeaderAction(QAction* action, const QList<QAction*>& more) {
  auto* button = new QToolButton(this);
  button->setDefaultAction(action);
  button->setToolButtonStyle(Qt::ToolButtonTextOnly);
  if (!more.isEmpty()) {
    auto* menu = new QMenu(button);
    menu->addActions(more);
    button->setMenu(menu);
    button->setPopupMode(QToolButton::MenuButtonPopup);
  }
  mActions->insertWidget(mActions->count() - 1, button);
}

void ModelDetailsView::setEntry(const ModelEntry* entry) {
  if (!entry) {
    mPath.clear();
    mTabsFilled = false;
    mStack->setCurrentIndex(0);
    return;
  }
  if (entry->path != mPath) mTabsFilled = false;
  mPath = entry->path;
  mStack->setCurrentIndex(1);
  mName->setText(entry->name());
  mLocation->setText(QDir::toNativeSeparators(entry->path));
  fillFacts(*entry);

  const bool failed = entry->status == ModelEntry::Status::Failed;
  mError->setVisible(failed);
  if (failed) {
    mError->setMessage(widgets::MessageBanner::Kind::Error, entry->error.title, entry->error.text, entry->error.details);
  }
  mProgress->setVisible(entry->status == ModelEntry::Status::Inspecting);
  mProgress->setText(tr("Reading the model’s headers…"));
  mFactsBox->setVisible(entry->isKnown());
  mTabs->setVisible(entry->isKnown());
  if (!entry->isKnown()) {
    fillTabs({});
    mTabsFilled = false;
  } else if (!mTabsFilled) {
    fillTabs(entry->summary);
    mTabsFilled = true;
  }
}

void ModelDetailsView::fillFacts(const ModelEntry& entry) {
  const ModelSummary& s = entry.summary;
  mFamily->setText(ModelLabels::family(s.family));
  mFormat->setText(ModelLabels::format(s.format, s.layout, entry.isFolder));
  mLayout->setText(ModelLabels::layout(s.layout));
  if (s.prediction == QLatin1String("unknown") || s.predictionSource.isEmpty()) {
    mPrediction->setText(tr("Unknown (not stored with the weights)"));
    mPrediction->setToolTip(tr("A .yaml file of the same name beside the model can say it, as in "
                               "AUTOMATIC1111 (parameterization: \"v\")."));
  } else {
    // "scheduler/scheduler_config.json (prediction_type: epsilon)": the part in brackets repeats
    // the value, so it goes to the tooltip.
    QString source = s.predictionSource;
    if (const qsizetype bracket = source.indexOf(QLatin1String(" (")); bracket > 0 && source.endsWith(QLatin1Char(')'))) {
      source.truncate(bracket);
    }
    mPrediction->setText(tr("%1, from %2").arg(ModelLabels::prediction(s.prediction), source));
    mPrediction->setToolTip(s.predictionSource);
  }
  mSize->setText(ModelLabels::bytes(entry.isKnown() ? s.sizeBytes : static_cast<quint64>(entry.size)));
  mParameters->setText(tr("%1 (%2)").arg(ModelLabels::count(s.parameters()), QLocale().toString(s.parameters())));
  mPrecision->setText(s.dtypes().join(QStringLiteral(", ")));

  const bool hashed = !s.sha256.isEmpty();
  QString sha;
  switch (entry.status) {
    case ModelEntry::Status::HashQueued: sha = tr("Waiting to hash…"); break;
    case ModelEntry::Status::Hashing: sha = tr("Hashing… %1%").arg(entry.hashPercent); break;
    default: sha = hashed ? s.sha256 : tr("No weights to hash"); break;
  }
  mShortHash->setText(hashed ? s.shortHash() : sha);
  mShortHash->setFont(hashed ? monospace() : font());
  mSha256->setText(hashed ? s.sha256.left(32) + QLatin1Char('\n') + s.sha256.mid(32) : QString());
  mFacts->setRowVisible(mSha256, hashed);
  // A folder's hash is that of one of its files (the UNet's weights): say which.
  const bool folderHash = entry.isFolder && !s.hashedFile.isEmpty();
  mHashedFile->setText(folderHash ? QDir::toNativeSeparators(QDir(entry.path).relativeFilePath(s.hashedFile)) : QString());
  mFacts->setRowVisible(mHashedFile, folderHash);
  mFacts->setRowVisible(mPrecision, !s.components.isEmpty());
}

void ModelDetailsView::fillTabs(const ModelSummary& s) {
  const QLocale locale;
  mComponents->clear();
  for (const ComponentSummary& c : s.components) {
    QStringList dtypes;
    for (const auto& [dtype, n] : c.dtypes) dtypes << dtype;
    auto* item = new QTreeWidgetItem(mComponents, {c.name, c.className, ModelLabels::count(c.parameters),
                                                   locale.toString(c.tensors), dtypes.join(QStringLiteral(", "))});
    item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    item->setTextAlignment(3, Qt::AlignRight | Qt::AlignVCenter);
    item->setToolTip(2, locale.toString(c.parameters));
  }
  for (int i = 0; i < mComponents->columnCount() - 1; ++i) mComponents->resizeColumnToContents(i);

  QStringList evidence;
  for (const QString& e : s.evidence) evidence << QStringLiteral("• ") + e;
  mEvidence->setPlainText(evidence.join(QLatin1Char('\n')));

  mMetadata->clear();
  for (const auto& [key, value] : s.metadata) {
    auto* item = new QTreeWidgetItem(mMetadata, {key, oneLine(value).left(500)});
    item->setToolTip(1, value.size() > kToolTipChars ? value.left(kToolTipChars) + QStringLiteral("…") : value);
  }
  mMetadata->resizeColumnToContents(0);

  mWarnings->setPlainText(s.warnings.join(QLatin1Char('\n')));

  mTabs->setTabText(0, tr("Components (%1)").arg(s.components.size()));
  mTabs->setTabText(1, tr("Detection"));
  mTabs->setTabText(2, tr("Metadata (%1)").arg(s.metadata.size()));
  mTabs->setTabText(3, tr("Warnings (%1)").arg(s.warnings.size()));
  mTabs->setTabVisible(3, !s.warnings.isEmpty());
  mTabs->setTabToolTip(1, tr("The facts of the weights that the family was told from"));
}

}  // namespace kiln::app
