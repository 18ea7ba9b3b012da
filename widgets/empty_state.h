#pragma once
// What a view shows instead of an empty list: an icon, a title, a sentence saying what to do,
// and optionally a button that does it.

#include <QIcon>
#include <QString>
#include <QWidget>

class QLabel;
class QPushButton;

namespace kiln::widgets {

class EmptyState : public QWidget {
  Q_OBJECT

 public:
  explicit EmptyState(QWidget* parent = nullptr);

  void setIcon(const QIcon& icon);
  void setTitle(const QString& title);
  void setText(const QString& text);
  // An empty text hides the button.
  void setActionText(const QString& text);
  // A second button beside the first (e.g. "Get Stable Diffusion 1.5" beside "Add Folder…");
  // an empty text hides it.
  void setSecondaryActionText(const QString& text);

  QString title() const;
  QString text() const;

 Q_SIGNALS:
  void actionTriggered();
  void secondaryActionTriggered();

 private:
  QLabel* mIcon;
  QLabel* mTitle;
  QLabel* mText;
  QPushButton* mAction;
  QPushButton* mSecondary;
};

}  // namespace kiln::widgets
