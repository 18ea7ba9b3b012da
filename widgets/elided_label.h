#pragma once
// A one-line label that shortens its text with "…" to the space it gets, instead of
// widening its parent; the whole text is in its tooltip.

#include <QFrame>
#include <QString>

namespace kiln::widgets {

class ElidedLabel : public QFrame {
  Q_OBJECT
  Q_PROPERTY(QString text READ text WRITE setText)

 public:
  explicit ElidedLabel(QWidget* parent = nullptr);
  explicit ElidedLabel(Qt::TextElideMode mode, QWidget* parent = nullptr);

  QString text() const { return mText; }
  void setText(const QString& text);
  void setElideMode(Qt::TextElideMode mode);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString mText;
  Qt::TextElideMode mMode = Qt::ElideMiddle;
};

}  // namespace kiln::widgets
