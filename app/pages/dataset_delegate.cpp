#include "pages/dataset_delegate.h"

#include <QPainter>

#include "pages/dataset_model.h"

namespace kiln::app {

namespace {

struct BadgeStyle {
  int flag;
  QColor color;
};

// Green for what is fine, amber to orange for what needs a look, red for what training misses.
const BadgeStyle kBadges[] = {
    {DatasetItem::Face, QColor(46, 139, 87)},      {DatasetItem::NoFace, QColor(196, 132, 18)},
    {DatasetItem::TooSmall, QColor(214, 90, 30)},  {DatasetItem::Duplicate, QColor(128, 82, 186)},
    {DatasetItem::NoCaption, QColor(200, 50, 60)},
};

QString badgeText(int flag) {
  switch (flag) {
    case DatasetItem::Face:
      return DatasetDelegate::tr("Face");
    case DatasetItem::NoFace:
      return DatasetDelegate::tr("No face");
    case DatasetItem::TooSmall:
      return DatasetDelegate::tr("Too small");
    case DatasetItem::Duplicate:
      return DatasetDelegate::tr("Duplicate");
    case DatasetItem::NoCaption:
      return DatasetDelegate::tr("No caption");
    default:
      return {};
  }
}

}  // namespace

DatasetDelegate::DatasetDelegate(QObject* parent) : widgets::GalleryDelegate(parent) {}

QStringList DatasetDelegate::badgeTexts(int badges) {
  QStringList texts;
  for (const BadgeStyle& b : kBadges) {
    if (badges & b.flag) texts << badgeText(b.flag);
  }
  return texts;
}

void DatasetDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  widgets::GalleryDelegate::paint(painter, option, index);
  const int badges = index.data(DatasetModel::BadgesRole).toInt();
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  QFont font = option.font;
  font.setPointSizeF(font.pointSizeF() * 0.82);
  font.setWeight(QFont::DemiBold);
  painter->setFont(font);
  const QFontMetrics metrics(font);
  const int height = metrics.height() + 2;
  QPointF at = QPointF(option.rect.topLeft()) + QPointF(9, 9);
  for (const BadgeStyle& b : kBadges) {
    if (!(badges & b.flag)) continue;
    const QString text = badgeText(b.flag);
    const QRectF chip(at, QSizeF(metrics.horizontalAdvance(text) + 10, height));
    QColor fill = b.color;
    fill.setAlpha(225);
    painter->setPen(Qt::NoPen);
    painter->setBrush(fill);
    painter->drawRoundedRect(chip, height / 2.0, height / 2.0);
    painter->setPen(Qt::white);
    painter->drawText(chip, Qt::AlignCenter, text);
    at.ry() += height + 3;
  }
  painter->restore();
}

}  // namespace kiln::app
