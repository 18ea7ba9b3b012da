#include "widgets/empty_state.h"

#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace kiln::widgets {

EmptyState::EmptyState(QWidget* parent)
    : QWidget(parent), mIcon(new QLabel(this)), mTitle(new QLabel(this)), mText(new QLabel(this)), mAction(new QPushButton(this)) {
  mIcon->setAlignment(Qt::AlignCenter);
  mIcon->hide();

  QFont titleFont = mTitle->font();
  titleFont.setPointSizeF(titleFont.pointSizeF() * 1.35);
  titleFont.setWeight(QFont::DemiBold);
  mTitle->setFont(titleFont);
  mTitle->setAlignment(Qt::AlignCenter);
  mTitle->setWordWrap(true);
  mTitle->setObjectName(QStringLiteral("emptyStateTitle"));

  mText->setAlignment(Qt::AlignCenter);
  mText->setWordWrap(true);
  mText->setForegroundRole(QPalette::PlaceholderText);
  mText->setMaximumWidth(520);
  mText->setObjectName(QStringLiteral("emptyStateText"));

  mAction->hide();
  mAction->setObjectName(QStringLiteral("emptyStateAction"));
  connect(mAction, &QPushButton::clicked, this, &EmptyState::actionTriggered);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 24, 24, 24);
  layout->setSpacing(10);
  layout->addStretch(2);
  layout->addWidget(mIcon, 0, Qt::AlignHCenter);
  layout->addSpacing(6);
  layout->addWidget(mTitle, 0, Qt::AlignHCenter);
  layout->addWidget(mText, 0, Qt::AlignHCenter);
  layout->addSpacing(8);
  layout->addWidget(mAction, 0, Qt::AlignHCenter);
  layout->addStretch(3);
}

void EmptyState::setIcon(const QIcon& icon) {
  mIcon->setPixmap(icon.pixmap(QSize(72, 72), devicePixelRatio()));
  mIcon->setVisible(!icon.isNull());
}

void EmptyState::setTitle(const QString& title) { mTitle->setText(title); }

void EmptyState::setText(const QString& text) {
  mText->setText(text);
  mText->setVisible(!text.isEmpty());
}

void EmptyState::setActionText(const QString& text) {
  mAction->setText(text);
  mAction->setVisible(!text.isEmpty());
}

QString EmptyState::title() const { return mTitle->text(); }

QString EmptyState::text() const { return mText->text(); }

}  // namespace kiln::widgets
