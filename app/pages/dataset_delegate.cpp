#include "pages/dataset_delegate.h"

#include <QPainter>

#include "captioning/caption_text.h"
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

struct CaptionBadge {
  QString text;
  QColor color;
};

// Status: blue for the model's words, teal for the person's, green once reviewed, red when failed;
// flags of the model's answer in amber (only while the caption is the model's own).
QList<CaptionBadge> captionBadges(const QString& status, unsigned flags) {
  using namespace kiln::captioning;
  QList<CaptionBadge> out;
  if (status == QLatin1String("auto")) {
    out << CaptionBadge{DatasetDelegate::tr("Auto"), QColor(52, 110, 200)};
  } else if (status == QLatin1String("edited")) {
    out << CaptionBadge{DatasetDelegate::tr("Edited"), QColor(0, 128, 128)};
  } else if (status == QLatin1String("reviewed")) {
    out << CaptionBadge{DatasetDelegate::tr("Reviewed"), QColor(46, 139, 87)};
  } else if (status == QLatin1String("failed")) {
    out << CaptionBadge{DatasetDelegate::tr("Failed"), QColor(200, 50, 60)};
  }
  if (status != QLatin1String("auto") && status != QLatin1String("failed")) return out;
  const QColor amber(196, 132, 18);
  if (flags & FlagRefusal) out << CaptionBadge{DatasetDelegate::tr("Refusal"), QColor(214, 90, 30)};
  if (flags & FlagTruncated) out << CaptionBadge{DatasetDelegate::tr("Cut off"), amber};
  if (flags & FlagOverLimit) out << CaptionBadge{DatasetDelegate::tr("Over 75 tokens"), amber};
  if (flags & FlagMissingToken) out << CaptionBadge{DatasetDelegate::tr("No token"), amber};
  if (flags & FlagRepetition) out << CaptionBadge{DatasetDelegate::tr("Repeats"), amber};
  return out;
}

}  // namespace

QStringList DatasetDelegate::captionBadgeTexts(const QString& status, unsigned flags) {
  QStringList texts;
  for (const CaptionBadge& b : captionBadges(status, flags)) texts << b.text;
  return texts;
}

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
  // Caption badges from the bottom-left corner, in rows upwards when they do not fit in one.
  const QList<CaptionBadge> caption = captionBadges(index.data(DatasetModel::CaptionStatusRole).toString(),
                                                    index.data(DatasetModel::CaptionFlagsRole).toUInt());
  const qreal left = option.rect.left() + 9;
  const qreal right = option.rect.right() - 9;
  QPointF pos(left, option.rect.bottom() - 9 - height);
  for (const CaptionBadge& b : caption) {
    const qreal width = metrics.horizontalAdvance(b.text) + 10;
    if (pos.x() > left && pos.x() + width > right) pos = QPointF(left, pos.y() - height - 3);
    const QRectF chip(pos, QSizeF(width, height));
    QColor fill = b.color;
    fill.setAlpha(230);
    painter->setPen(Qt::NoPen);
    painter->setBrush(fill);
    painter->drawRoundedRect(chip, height / 2.0, height / 2.0);
    painter->setPen(Qt::white);
    painter->drawText(chip, Qt::AlignCenter, b.text);
    pos.rx() += width + 3;
  }
  painter->restore();
}

}  // namespace kiln::app
