#include "pages/model_list_model.h"

#include <QApplication>
#include <QDir>
#include <QFileIconProvider>
#include <QFont>
#include <QLocale>
#include <QPalette>
#include <QStyle>

#include "bridge/model_labels.h"
#include "services/model_library.h"

namespace kiln::app {

ModelListModel::ModelListModel(ModelLibrary* library, QObject* parent) : QAbstractTableModel(parent) {
  const QFileIconProvider icons;
  mFileIcon = icons.icon(QFileIconProvider::File);
  mFolderIcon = icons.icon(QFileIconProvider::Folder);
  mErrorIcon = QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
  mRows = library->entries();
  connect(library, &ModelLibrary::entryAdded, this, &ModelListModel::onAdded);
  connect(library, &ModelLibrary::entryChanged, this, &ModelListModel::onChanged);
  connect(library, &ModelLibrary::entryRemoved, this, &ModelListModel::onRemoved);
}

int ModelListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(mRows.size()); }

int ModelListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

int ModelListModel::rowOf(const QString& path) const {
  for (int i = 0; i < mRows.size(); ++i) {
    if (mRows[i].path == path) return i;
  }
  return -1;
}

const ModelEntry* ModelListModel::entryAt(int row) const {
  return row >= 0 && row < mRows.size() ? &mRows[row] : nullptr;
}

void ModelListModel::onAdded(const ModelEntry& entry) {
  const int row = static_cast<int>(mRows.size());
  beginInsertRows({}, row, row);
  mRows << entry;
  endInsertRows();
}

void ModelListModel::onChanged(const ModelEntry& entry) {
  const int row = rowOf(entry.path);
  if (row < 0) return;
  mRows[row] = entry;
  Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void ModelListModel::onRemoved(const QString& path) {
  const int row = rowOf(path);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  mRows.removeAt(row);
  endRemoveRows();
}

QVariant ModelListModel::data(const QModelIndex& index, int role) const {
  const ModelEntry* e = index.isValid() ? entryAt(index.row()) : nullptr;
  if (!e) return {};
  const int column = index.column();
  switch (role) {
    case Qt::DisplayRole: return display(*e, column);
    case Qt::ToolTipRole: return toolTip(*e, column);
    case Qt::DecorationRole:
      if (column == Name) return e->isFolder ? mFolderIcon : mFileIcon;
      if (column == Status && e->status == ModelEntry::Status::Failed) return mErrorIcon;
      return {};
    case Qt::TextAlignmentRole:
      if (column == Size || column == Parameters) return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
      return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
      if ((column == Family && e->status == ModelEntry::Status::Failed) ||
          (column != Name && e->status == ModelEntry::Status::Inspecting)) {
        return QApplication::palette().brush(QPalette::PlaceholderText);
      }
      return {};
    case Qt::FontRole:
      if (column == Hash) {
        static const QFont mono = [] {
          QFont f(QStringLiteral("monospace"));
          f.setStyleHint(QFont::Monospace);
          return f;
        }();
        return mono;
      }
      return {};
    case PathRole: return e->path;
    case SortRole: return sortKey(*e, column);
    case FilterRole:
      return QStringList{e->name(), ModelLabels::family(e->summary.family), e->summary.family,
                         ModelLabels::format(e->summary.format, e->summary.layout, e->isFolder), e->summary.sha256,
                         QDir::toNativeSeparators(e->path), e->error.title}
          .join(QLatin1Char('\n'));
    case StatusRole: return static_cast<int>(e->status);
    case FamilyIdRole: return e->summary.family;
    case LayoutIdRole: return e->summary.layout;
    case PredictionIdRole: return e->summary.prediction;
    case ErrorTitleRole: return e->error.title;
    default: return {};
  }
}

QVariant ModelListModel::display(const ModelEntry& e, int column) const {
  const ModelSummary& s = e.summary;
  const bool known = e.isKnown();
  switch (column) {
    case Name: return e.name();
    case Family:
      if (e.status == ModelEntry::Status::Failed) return e.error.brief;
      return known ? ModelLabels::family(s.family) : QString();
    case Format: return known ? ModelLabels::format(s.format, s.layout, e.isFolder) : QString();
    case Prediction: return known ? ModelLabels::prediction(s.prediction) : QString();
    case Size: return ModelLabels::bytes(static_cast<quint64>(known ? static_cast<qint64>(s.sizeBytes) : e.size));
    case Parameters: return known ? ModelLabels::count(s.parameters()) : QString();
    case Hash: return s.shortHash();
    case Status: return statusText(e);
    default: return {};
  }
}

QVariant ModelListModel::sortKey(const ModelEntry& e, int column) const {
  switch (column) {
    case Name: return e.name().toLower();
    case Size: return e.isKnown() ? static_cast<qint64>(e.summary.sizeBytes) : e.size;
    case Parameters: return e.summary.parameters();
    case Status: return static_cast<int>(e.status);
    default: return display(e, column).toString().toLower();
  }
}

QString ModelListModel::statusText(const ModelEntry& e) const {
  switch (e.status) {
    case ModelEntry::Status::Inspecting: return tr("Inspecting…");
    case ModelEntry::Status::HashQueued: return tr("Queued");
    case ModelEntry::Status::Hashing: return tr("Hashing %1%").arg(e.hashPercent);
    case ModelEntry::Status::Ready: return tr("Ready");
    case ModelEntry::Status::Failed: return tr("Error");
  }
  return {};
}

QString ModelListModel::statusSample() const {
  QString widest;
  for (const QString& s : {tr("Inspecting…"), tr("Queued"), tr("Hashing %1%").arg(100), tr("Ready"), tr("Error")}) {
    if (s.size() > widest.size()) widest = s;
  }
  return widest;
}

QString ModelListModel::toolTip(const ModelEntry& e, int column) const {
  if (column == Status && e.status == ModelEntry::Status::HashQueued) return tr("Waiting for its turn to be hashed");
  if (e.status == ModelEntry::Status::Failed && column != Name) {
    return QStringLiteral("<b>%1</b><br>%2").arg(e.error.title.toHtmlEscaped(), e.error.text.toHtmlEscaped());
  }
  switch (column) {
    case Name: return QDir::toNativeSeparators(e.path);
    case Prediction:
      return e.summary.predictionSource.isEmpty() ? QString() : tr("From %1").arg(e.summary.predictionSource);
    case Parameters: return e.isKnown() ? QLocale().toString(e.summary.parameters()) : QString();
    case Hash:
      return e.summary.sha256.isEmpty() ? QString()
                                        : tr("AUTOMATIC1111 short hash; SHA-256 %1").arg(e.summary.sha256);
    default: return {};
  }
}

QVariant ModelListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::TextAlignmentRole) {
    return QVariant::fromValue((section == Size || section == Parameters ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case Name: return tr("Name");
    case Family: return tr("Family");
    case Format: return tr("Format");
    case Prediction: return tr("Prediction");
    case Size: return tr("Size");
    case Parameters: return tr("Parameters");
    case Hash: return tr("Hash");
    case Status: return tr("Status");
    default: return {};
  }
}

}  // namespace kiln::app
