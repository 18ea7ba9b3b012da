#pragma once
// A framed message inside a view: an icon, a bold title, a sentence, and the technical details
// behind a "Show details" toggle (selectable, for copying into a bug report).

#include <QFrame>
#include <QString>

class QLabel;
class QPlainTextEdit;
class QToolButton;

namespace kiln::widgets {

class MessageBanner : public QFrame {
  Q_OBJECT

 public:
  enum class Kind { Information, Warning, Error };

  explicit MessageBanner(QWidget* parent = nullptr);

  // Empty details hide the toggle. The details start hidden.
  void setMessage(Kind kind, const QString& title, const QString& text, const QString& details = {});

  QString title() const;
  QString text() const;
  QString details() const;
  bool detailsVisible() const;
  void setDetailsVisible(bool visible);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void updateColors();

  Kind mKind = Kind::Information;
  QLabel* mIcon;
  QLabel* mTitle;
  QLabel* mText;
  QToolButton* mToggle;
  QPlainTextEdit* mDetails;
};

}  // namespace kiln::widgets
