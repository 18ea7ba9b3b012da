#pragma once
// The library's models as a table: one row per model, in the order found. Sort and filter
// through a QSortFilterProxyModel with SortRole and FilterRole.

#include <QAbstractTableModel>
#include <QIcon>
#include <QList>

#include "services/model_entry.h"

namespace kiln::app {

class ModelLibrary;

class ModelListModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Name, Family, Format, Prediction, Size, Parameters, Hash, Status, ColumnCount };
  enum Role {
    PathRole = Qt::UserRole + 1,  // QString: the model's path
    SortRole,                     // what the column sorts by (numbers for sizes and counts)
    FilterRole,                   // text the filter box searches: name, family, format, hash, path
    StatusRole,                   // int: ModelEntry::Status
    FamilyIdRole,                 // QString: "sd1", ... (empty until inspected)
    LayoutIdRole,                 // QString: "diffusers", "single_file"
    PredictionIdRole,             // QString: "epsilon", "v_prediction", "unknown"
    ErrorTitleRole,               // QString: the user message's title when failed
  };

  explicit ModelListModel(ModelLibrary* library, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  int rowOf(const QString& path) const;
  // The widest text the status column shows, to size it.
  QString statusSample() const;
  const ModelEntry* entryAt(int row) const;

 private:
  void onAdded(const kiln::app::ModelEntry& entry);
  void onChanged(const kiln::app::ModelEntry& entry);
  void onRemoved(const QString& path);

  QVariant display(const ModelEntry& e, int column) const;
  QVariant sortKey(const ModelEntry& e, int column) const;
  QString statusText(const ModelEntry& e) const;
  QString toolTip(const ModelEntry& e, int column) const;

  QList<ModelEntry> mRows;
  QIcon mFileIcon;
  QIcon mFolderIcon;
  QIcon mErrorIcon;
};

}  // namespace kiln::app
