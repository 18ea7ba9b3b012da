#pragma once
// The images of this session's generations, newest first, with how each was made: the
// gallery of the Generate page. Items live in memory; the files (if written) stay where the
// engine worker put them.

#include <QAbstractListModel>
#include <QImage>
#include <QList>
#include <QPixmap>

#include "bridge/generation_parameters.h"

namespace kiln::app {

struct GalleryItem {
  QImage image;
  bridge::GenerationParameters parameters;
  QString path;  // the written PNG, empty when it was not written
  QPixmap thumbnail;
};

class GalleryModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    ParametersTextRole = Qt::UserRole + 1,  // A1111's "parameters" text
    PathRole,
    SeedRole,
    ImageRole,  // the full image (QImage)
  };

  explicit GalleryModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

  // Inserts at the top (row 0).
  void prepend(const QImage& image, const bridge::GenerationParameters& parameters, const QString& path);
  const GalleryItem& item(int row) const { return mItems.at(row); }
  void removeRows(const QList<int>& rows);
  void clear();

 private:
  QList<GalleryItem> mItems;
};

}  // namespace kiln::app
