#include "widgets/message_banner.h"

#include <QEvent>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace kiln::widgets {

MessageBanner::MessageBanner(QWidget* parent)
    : QFrame(parent),
      mIcon(new QLabel(this)),
      mTitle(new QLabel(this)),
      mText(new QLabel(this)),
      mToggle(new QToolButton(this)),
      mDetails(new QPlainTextEdit(this)) {
  setFrameShape(QFrame::StyledPanel);
  setAutoFillBackground(true);

  QFont bold = mTitle->font();
  bold.setWeight(QFont::DemiBold);
  mTitle->setFont(bold);
  mTitle->setWordWrap(true);
  mTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
  mText->setWordWrap(true);
  mText->setTextInteractionFlags(Qt::TextSelectableByMouse);

  mToggle->setCheckable(true);
  mToggle->setAutoRaise(true);
  mToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  mToggle->setArrowType(Qt::RightArrow);
  mToggle->setText(tr("Show details"));
  connect(mToggle, &QToolButton::toggled, this, &MessageBanner::setDetailsVisible);

  mDetails->setReadOnly(true);
  mDetails->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  mDetails->setLineWrapMode(QPlainTextEdit::WidgetWidth);
  mDetails->setMaximumHeight(140);
  mDetails->hide();

  auto* text = new QVBoxLayout;
  text->setSpacing(4);
  text->addWidget(mTitle);
  text->addWidget(mText);
  text->addWidget(mToggle, 0, Qt::AlignLeft);
  text->addWidget(mDetails);

  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(10, 8, 10, 8);
  layout->setSpacing(10);
  layout->addWidget(mIcon, 0, Qt::AlignTop);
  layout->addLayout(text, 1);
  updateColors();
}

void MessageBanner::setMessage(Kind kind, const QString& title, const QString& text, const QString& details) {
  mKind = kind;
  mTitle->setText(title);
  mText->setText(text);
  mText->setVisible(!text.isEmpty());
  mDetails->setPlainText(details);
  mToggle->setVisible(!details.isEmpty());
  mToggle->setChecked(false);
  setDetailsVisible(false);
  const QStyle::StandardPixmap icon = kind == Kind::Error     ? QStyle::SP_MessageBoxCritical
                                      : kind == Kind::Warning ? QStyle::SP_MessageBoxWarning
                                                              : QStyle::SP_MessageBoxInformation;
  const int size = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this) * 2;
  mIcon->setPixmap(style()->standardIcon(icon, nullptr, this).pixmap(QSize(size, size), devicePixelRatio()));
  updateColors();
}

QString MessageBanner::title() const { return mTitle->text(); }
QString MessageBanner::text() const { return mText->text(); }
QString MessageBanner::details() const { return mDetails->toPlainText(); }
bool MessageBanner::detailsVisible() const { return !mDetails->isHidden(); }

void MessageBanner::setDetailsVisible(bool visible) {
  mDetails->setVisible(visible);
  mToggle->setArrowType(visible ? Qt::DownArrow : Qt::RightArrow);
  mToggle->setText(visible ? tr("Hide details") : tr("Show details"));
  if (mToggle->isChecked() != visible) mToggle->setChecked(visible);
}

void MessageBanner::changeEvent(QEvent* event) {
  QFrame::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) updateColors();
}

void MessageBanner::updateColors() {
  // A tint of the kind's colour over the window background, so it reads in light and dark.
  const QColor base = parentWidget() ? parentWidget()->palette().color(QPalette::Window) : palette().color(QPalette::Window);
  const QColor accent = mKind == Kind::Error     ? QColor(0xd9, 0x3b, 0x3b)
                        : mKind == Kind::Warning ? QColor(0xe0, 0x9a, 0x1a)
                                                 : QColor(0x3b, 0x82, 0xd9);
  const qreal a = 0.16;
  const QColor tint = QColor::fromRgbF(base.redF() * (1 - a) + accent.redF() * a, base.greenF() * (1 - a) + accent.greenF() * a,
                                       base.blueF() * (1 - a) + accent.blueF() * a);
  QPalette p = palette();
  if (p.color(QPalette::Window) == tint) return;
  p.setColor(QPalette::Window, tint);
  setPalette(p);
}

}  // namespace kiln::widgets
