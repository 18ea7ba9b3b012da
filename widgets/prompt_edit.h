#pragma once
// A prompt editor that shows AUTOMATIC1111's prompt syntax as the user types it: emphasis
// "(word)" and "(word:1.2)", de-emphasis "[word]", the BREAK keyword, "<lora:name:0.8>" and
// "\(" escapes, in colours that follow the palette. A small counter ("12/75") sits in the
// bottom-right corner; what it says is the caller's business (the widget knows no tokenizer).
// Words the caller offers (textual inversion embeddings) complete as they are typed: a popup lists
// those starting with the word before the cursor (two letters or more), each with its label
// ("EasyNegative · 8 tokens"); Enter, Tab or a click puts the word in, Escape closes it.

#include <QPlainTextEdit>
#include <QSyntaxHighlighter>

class QCompleter;
class QLabel;
class QStandardItemModel;

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

struct PromptCompletion {
  QString word;   // what goes into the prompt
  QString label;  // what the list shows (the word when empty)
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
  // The words completed as they are typed (none: no completion).
  void setCompletions(const QList<PromptCompletion>& completions);
  QCompleter* completer() const { return mCompleter; }
  // The word being typed before the cursor (letters, digits, '_', '-', '.').
  QString wordBeforeCursor() const;
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void resizeEvent(QResizeEvent* event) override;
  void changeEvent(QEvent* event) override;
  // Image files dropped here are not pasted as text: they go on to the page.
  bool canInsertFromMimeData(const QMimeData* source) const override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void placeCounter();
  void updateCompletion();
  void insertCompletion(const QString& word);
  void updateColors();

  PromptHighlighter* mHighlighter;
  QLabel* mCounter;
  QStandardItemModel* mCompletions;
  QCompleter* mCompleter;
  bool mOver = false;
  int mVisibleLines = 4;
};

}  // namespace kiln::widgets
