#pragma once
// A thumbnail of the Dataset page's grid with its badges: small coloured labels over the
// picture's top-left corner saying what a person should look at (no face, too small,
// duplicate, caption missing) or that a face was found.

#include "widgets/gallery_view.h"

namespace kiln::app {

class DatasetDelegate : public widgets::GalleryDelegate {
  Q_OBJECT

 public:
  explicit DatasetDelegate(QObject* parent = nullptr);

  // The badge texts of a DatasetItem::Badge set, in the order they are drawn (translated).
  static QStringList badgeTexts(int badges);

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace kiln::app
