#include "widgets/empty_state.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace kiln::widgets {

EmptyState::EmptyState(QWidget* parent)
    : QWidget(parent), mIcon(new QLabel(this)), mTitle(new QLabel(this)), mText(new QLabel(this)), mAction(new QPushButton(this)),
      mSecondary(new QPushButton(this)) {
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
  mText->setObjectName(QStringLiteral("emptyStateText"));

  mAction->hide();
  mAction->setObjectName(QStringLiteral("emptyStateAction"));
  connect(mAction, &QPushButton::clicked, this, &EmptyState::actionTriggered);
  mSecondary->hide();
  mSecondary->setObjectName(QStringLiteral("emptyStateSecondaryAction"));
  connect(mSecondary, &QPushButton::clicked, this, &EmptyState::secondaryActionTriggered);

  // The words fill a column of readable width in the middle; wrapped labels need a width to
  // wrap to, so they are not centred by alignment (which would shrink them to one word).
  auto* column = new QWidget(this);
  column->setMaximumWidth(fontMetrics().averageCharWidth() * 70);
  column->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  auto* inner = new QVBoxLayout(column);
  inner->setContentsMargins(0, 0, 0, 0);
  inner->setSpacing(10);
  inner->addWidget(mIcon);
  inner->addSpacing(6);
  inner->addWidget(mTitle);
  inner->addWidget(mText);
  inner->addSpacing(8);
  auto* buttons = new QHBoxLayout;
  buttons->setSpacing(8);
  buttons->addStretch(1);
  buttons->addWidget(mAction);
  buttons->addWidget(mSecondary);
  buttons->addStretch(1);
  inner->addLayout(buttons);

  auto* row = new QHBoxLayout;
  row->addStretch(1);
  row->addWidget(column, 4);
  row->addStretch(1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 24, 24, 24);
  layout->addStretch(2);
  layout->addLayout(row);
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

void EmptyState::setSecondaryActionText(const QString& text) {
  mSecondary->setText(text);
  mSecondary->setVisible(!text.isEmpty());
}

QString EmptyState::title() const { return mTitle->text(); }

QString EmptyState::text() const { return mText->text(); }

}  // namespace kiln::widgets
