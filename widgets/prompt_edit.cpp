#include "widgets/prompt_edit.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QDragEnterEvent>
#include <QKeyEvent>
#include <QStandardItemModel>
#include <QEvent>
#include <QLabel>
#include <QMimeData>
#include <QScrollBar>
#include <QTextBlock>

#include "widgets/theme.h"

namespace kiln::widgets {

namespace {

bool isWeight(const QString& text, qsizetype from, qsizetype to) {
  if (from >= to) return false;
  bool ok = false;
  text.mid(from, to - from).trimmed().toDouble(&ok);
  return ok;
}

bool hasOnlyFiles(const QMimeData* data) {
  if (!data->hasUrls()) return false;
  for (const QUrl& url : data->urls()) {
    if (!url.isLocalFile()) return false;
  }
  return true;
}

}  // namespace

PromptHighlighter::PromptHighlighter(QTextDocument* document) : QSyntaxHighlighter(document) {}

void PromptHighlighter::setDark(bool dark) {
  if (dark == mDark) return;
  mDark = dark;
  rehighlight();
}

QTextCharFormat PromptHighlighter::format(Role role) const {
  QTextCharFormat f;
  switch (role) {
    case Role::Bracket:
      f.setForeground(mDark ? QColor(0xf0, 0xb4, 0x5a) : QColor(0xa8, 0x5b, 0x00));
      f.setFontWeight(QFont::Bold);
      break;
    case Role::Weight:
      f.setForeground(mDark ? QColor(0x7e, 0xc9, 0xf5) : QColor(0x0b, 0x6b, 0xb0));
      break;
    case Role::Emphasis:
      f.setForeground(mDark ? QColor(0xf5, 0xd0, 0x8f) : QColor(0x8a, 0x4b, 0x00));
      break;
    case Role::Deemphasis:
      f.setForeground(mDark ? QColor(0x9a, 0x9e, 0xa6) : QColor(0x6b, 0x70, 0x78));
      break;
    case Role::Break:
      f.setForeground(mDark ? QColor(0xf2, 0x7c, 0x9b) : QColor(0xb8, 0x1d, 0x4a));
      f.setFontWeight(QFont::Bold);
      break;
    case Role::Extra:
      f.setForeground(mDark ? QColor(0x9f, 0xdb, 0x8c) : QColor(0x2e, 0x7d, 0x32));
      break;
    case Role::Escape:
      f.setForeground(mDark ? QColor(0xb3, 0x9d, 0xdb) : QColor(0x6a, 0x3f, 0xb5));
      break;
  }
  return f;
}

// One pass over the line with a stack of open brackets, as A1111's parser reads it: "(" and
// "[" nest, ":number)" closes a weighted group, "<...>" is an extra network, "\(" an escape.
// The block state carries the bracket depth over line breaks (parenthesis depth * 64 + square).
void PromptHighlighter::highlightBlock(const QString& text) {
  int state = previousBlockState();
  int round = state > 0 ? state / 64 : 0;
  int square = state > 0 ? state % 64 : 0;
  const QTextCharFormat bracket = format(Role::Bracket);
  for (qsizetype i = 0; i < text.size(); ++i) {
    const QChar c = text[i];
    if (round > 0 || square > 0) {
      setFormat(static_cast<int>(i), 1, format(round >= square ? Role::Emphasis : Role::Deemphasis));
    }
    if (c == QLatin1Char('\\') && i + 1 < text.size()) {
      setFormat(static_cast<int>(i), 2, format(Role::Escape));
      ++i;
      continue;
    }
    if (c == QLatin1Char('<')) {
      const qsizetype end = text.indexOf(QLatin1Char('>'), i);
      if (end > i) {
        setFormat(static_cast<int>(i), static_cast<int>(end - i + 1), format(Role::Extra));
        i = end;
        continue;
      }
    }
    if (c == QLatin1Char('(')) {
      ++round;
      setFormat(static_cast<int>(i), 1, bracket);
    } else if (c == QLatin1Char('[')) {
      ++square;
      setFormat(static_cast<int>(i), 1, bracket);
    } else if (c == QLatin1Char(')') && round > 0) {
      --round;
      setFormat(static_cast<int>(i), 1, bracket);
    } else if (c == QLatin1Char(']') && square > 0) {
      --square;
      setFormat(static_cast<int>(i), 1, bracket);
    } else if (c == QLatin1Char(':') && round > 0) {
      const qsizetype close = text.indexOf(QLatin1Char(')'), i);
      if (close > i && isWeight(text, i + 1, close)) {
        setFormat(static_cast<int>(i), static_cast<int>(close - i), format(Role::Weight));
        i = close - 1;
      }
    }
  }
  // BREAK is a keyword only as a whole, upper-case word.
  for (qsizetype at = text.indexOf(QLatin1String("BREAK")); at >= 0;
       at = text.indexOf(QLatin1String("BREAK"), at + 5)) {
    const bool startsWord = at == 0 || !text[at - 1].isLetterOrNumber();
    const bool endsWord = at + 5 >= text.size() || !text[at + 5].isLetterOrNumber();
    if (startsWord && endsWord) setFormat(static_cast<int>(at), 5, format(Role::Break));
  }
  setCurrentBlockState(std::min(round, 63) * 64 + std::min(square, 63));
}

PromptEdit::PromptEdit(QWidget* parent)
    : QPlainTextEdit(parent),
      mHighlighter(new PromptHighlighter(document())),
      mCounter(new QLabel(this)),
      mCompletions(new QStandardItemModel(this)),
      mCompleter(new QCompleter(mCompletions, this)) {
  mCompleter->setWidget(this);
  mCompleter->setCompletionMode(QCompleter::PopupCompletion);
  mCompleter->setCaseSensitivity(Qt::CaseInsensitive);
  mCompleter->setCompletionRole(Qt::UserRole);  // matched on the word, shown with its label
  mCompleter->setModelSorting(QCompleter::UnsortedModel);
  mCompleter->setMaxVisibleItems(8);
  connect(mCompleter, qOverload<const QModelIndex&>(&QCompleter::activated), this,
          [this](const QModelIndex& index) { insertCompletion(index.data(Qt::UserRole).toString()); });
  setTabChangesFocus(true);
  setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
  mCounter->setObjectName(QStringLiteral("promptCounter"));
  mCounter->setAttribute(Qt::WA_TransparentForMouseEvents);
  mCounter->setContentsMargins(4, 1, 4, 1);
  QFont small = mCounter->font();
  small.setPointSizeF(small.pointSizeF() * 0.85);
  mCounter->setFont(small);
  mCounter->hide();
  // Room at the bottom so the counter never hides the last line.
  setViewportMargins(0, 0, 0, mCounter->sizeHint().height() / 2);
  updateColors();
}

void PromptEdit::setCounterText(const QString& text, bool over) {
  mCounter->setText(text);
  mCounter->setVisible(!text.isEmpty());
  if (over != mOver) {
    mOver = over;
    updateColors();
  }
  placeCounter();
}

QString PromptEdit::counterText() const { return mCounter->text(); }

void PromptEdit::setVisibleLines(int lines) {
  mVisibleLines = std::max(1, lines);
  updateGeometry();
}

QSize PromptEdit::sizeHint() const {
  const int height = fontMetrics().lineSpacing() * mVisibleLines + 2 * frameWidth() +
                     static_cast<int>(document()->documentMargin() * 2) + mCounter->sizeHint().height() / 2;
  return {QPlainTextEdit::sizeHint().width(), height};
}

QSize PromptEdit::minimumSizeHint() const {
  return {QPlainTextEdit::minimumSizeHint().width(), fontMetrics().lineSpacing() * 2 + 2 * frameWidth() + 8};
}

void PromptEdit::resizeEvent(QResizeEvent* event) {
  QPlainTextEdit::resizeEvent(event);
  placeCounter();
}

void PromptEdit::changeEvent(QEvent* event) {
  QPlainTextEdit::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) updateColors();
}

bool PromptEdit::canInsertFromMimeData(const QMimeData* source) const {
  return !hasOnlyFiles(source) && QPlainTextEdit::canInsertFromMimeData(source);
}

void PromptEdit::dragEnterEvent(QDragEnterEvent* event) {
  if (hasOnlyFiles(event->mimeData())) {
    event->ignore();
    return;
  }
  QPlainTextEdit::dragEnterEvent(event);
}

void PromptEdit::setCompletions(const QList<PromptCompletion>& completions) {
  mCompleter->popup()->hide();
  mCompletions->clear();
  for (const PromptCompletion& c : completions) {
    auto* item = new QStandardItem(c.label.isEmpty() ? c.word : c.label);
    item->setData(c.word, Qt::UserRole);
    item->setEditable(false);
    mCompletions->appendRow(item);
  }
}

namespace {
bool isWordChar(QChar c) {
  return c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('-') || c == QLatin1Char('.');
}
}  // namespace

QString PromptEdit::wordBeforeCursor() const {
  const QTextCursor cursor = textCursor();
  const QString text = cursor.block().text();
  const int end = cursor.positionInBlock();
  int start = end;
  while (start > 0 && isWordChar(text.at(start - 1))) --start;
  return text.mid(start, end - start);
}

void PromptEdit::insertCompletion(const QString& word) {
  if (word.isEmpty()) return;
  QTextCursor cursor = textCursor();
  const int typed = static_cast<int>(wordBeforeCursor().size());
  cursor.beginEditBlock();  // one undo step
  cursor.movePosition(QTextCursor::Left, QTextCursor::KeepAnchor, typed);
  cursor.insertText(word);
  cursor.endEditBlock();
  setTextCursor(cursor);
  mCompleter->popup()->hide();
}

void PromptEdit::updateCompletion() {
  const QString word = wordBeforeCursor();
  if (mCompletions->rowCount() == 0 || word.size() < 2) {
    mCompleter->popup()->hide();
    return;
  }
  mCompleter->setCompletionPrefix(word);
  const int matches = mCompleter->completionCount();
  // Nothing to offer, or only what is already there.
  if (matches == 0 || (matches == 1 && mCompleter->currentCompletion().compare(word, Qt::CaseSensitive) == 0)) {
    mCompleter->popup()->hide();
    return;
  }
  mCompleter->popup()->setCurrentIndex(mCompleter->completionModel()->index(0, 0));
  QRect rect = cursorRect();
  rect.setWidth(std::max(220, mCompleter->popup()->sizeHintForColumn(0) +
                                  mCompleter->popup()->verticalScrollBar()->sizeHint().width() + 8));
  mCompleter->complete(rect);
}

void PromptEdit::keyPressEvent(QKeyEvent* event) {
  if (mCompleter->popup()->isVisible()) {
    switch (event->key()) {
      case Qt::Key_Enter:
      case Qt::Key_Return:
      case Qt::Key_Tab:
      case Qt::Key_Backtab: {
        const QModelIndex current = mCompleter->popup()->currentIndex();
        insertCompletion((current.isValid() ? current : mCompleter->completionModel()->index(0, 0)).data(Qt::UserRole).toString());
        event->accept();
        return;
      }
      case Qt::Key_Escape:
        mCompleter->popup()->hide();
        event->accept();
        return;
      default:
        break;
    }
  }
  QPlainTextEdit::keyPressEvent(event);
  const bool typed = !event->text().isEmpty() && (event->text().at(0).isPrint() || event->key() == Qt::Key_Backspace);
  if (typed && !(event->modifiers() & (Qt::ControlModifier | Qt::AltModifier)))
    updateCompletion();
  else if (event->key() != Qt::Key_Shift)
    mCompleter->popup()->hide();
}

void PromptEdit::placeCounter() {
  mCounter->adjustSize();
  const QRect area = viewport()->geometry();
  const int scroll = verticalScrollBar()->isVisible() ? verticalScrollBar()->width() : 0;
  const int x = frameWidth() + contentsRect().width() - scroll - mCounter->width() - 2;
  const int y = area.bottom() + viewportMargins().bottom() - mCounter->height() + 1;
  mCounter->move(std::max(0, x), std::max(0, y));
  mCounter->raise();
}

void PromptEdit::updateColors() {
  const bool dark = Theme::isDark(palette());
  mHighlighter->setDark(dark);
  QPalette p = mCounter->palette();
  const QColor warn = dark ? QColor(0xf2, 0x7c, 0x9b) : QColor(0xb8, 0x1d, 0x4a);
  p.setColor(QPalette::WindowText, mOver ? warn : palette().color(QPalette::PlaceholderText));
  mCounter->setPalette(p);
}

}  // namespace kiln::widgets
