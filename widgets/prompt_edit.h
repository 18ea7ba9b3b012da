#pragma once
// A prompt editor that shows AUTOMATIC1111's prompt syntax as the user types it: emphasis
// "(word)" and "(word:1.2)", de-emphasis "[word]", the BREAK keyword, "<lora:name:0.8>" and
// "\(" escapes, in colours that follow the palette. A small counter ("12/75") sits in the
// bottom-right corner; what it says is the caller's business (the widget knows no tokenizer).

#include <QPlainTextEdit>
#include <QSyntaxHighlighter>

class QLabel;

namespace kiln::widgets {

class PromptHighlighter : public QSyntaxHighlighter {
  Q_OBJECT

 public:
  enum class Role { Bracket, Weight, Emphasis, Deemphasis, Break, Extra, Escape };

  explicit PromptHighlighter(QTextDocument* document);

  // Colours for a light or a dark background; rehighlights.
  void setDark(bool dark);
  QTextCharFormat format(Role role) const;

 protected:
  void highlightBlock(const QString& text) override;

 private:
  bool mDark = false;
};

class PromptEdit : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit PromptEdit(QWidget* parent = nullptr);

  // Shown in the bottom-right corner; an empty text hides it. `over` paints it as a warning.
  void setCounterText(const QString& text, bool over = false);
  QString counterText() const;
  // Rows of text the editor asks room for (the size hint).
  void setVisibleLines(int lines);

  PromptHighlighter* highlighter() const { return mHighlighter; }
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void resizeEvent(QResizeEvent* event) override;
  void changeEvent(QEvent* event) override;
  // Image files dropped here are not pasted as text: they go on to the page.
  bool canInsertFromMimeData(const QMimeData* source) const override;
  void dragEnterEvent(QDragEnterEvent* event) override;

 private:
  void placeCounter();
  void updateColors();

  PromptHighlighter* mHighlighter;
  QLabel* mCounter;
  bool mOver = false;
  int mVisibleLines = 4;
};

}  // namespace kiln::widgets
