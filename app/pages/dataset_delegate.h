#pragma once
// A thumbnail of the Dataset page's grid with its badges: small coloured labels over the
// picture's top-left corner saying what a person should look at (no face, too small,
// duplicate, caption missing) or that a face was found; along the bottom edge, where the caption
// came from (auto, edited, reviewed, failed) and what the vision model's answer needs a look for
// (cut off, over 75 tokens, token missing, refusal).

#include "widgets/gallery_view.h"

namespace kiln::app {

class DatasetDelegate : public widgets::GalleryDelegate {
  Q_OBJECT

 public:
  explicit DatasetDelegate(QObject* parent = nullptr);

  // The badge texts of a DatasetItem::Badge set, in the order they are drawn (translated).
  static QStringList badgeTexts(int badges);
  // The caption badge texts of a status and flags (see CaptionInfo), in the order they are drawn.
  static QStringList captionBadgeTexts(const QString& status, unsigned flags);

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace kiln::app
