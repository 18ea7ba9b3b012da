#pragma once
// kiln::Error -> what the user reads: a translated title and sentence, and the engine's own
// words (what, where, expected vs got, hint) as details shown on request. The only place where
// engine errors become user messages (DESIGN §4).

#include <QCoreApplication>
#include <QMetaType>
#include <QString>

#include <exception>

namespace kiln {
class Error;
}

namespace kiln::app {

struct UserMessage {
  QString title;    // "Not a model Kiln can read"
  QString brief;    // a word or two for a table cell: "Unreadable"
  QString text;     // one or two translated sentences naming the file
  QString details;  // the engine's message, the path and the hint (English, for reports)

  bool isEmpty() const { return title.isEmpty(); }
};

class ErrorMessage {
  Q_DECLARE_TR_FUNCTIONS(ErrorMessage)

 public:
  static UserMessage fromError(const kiln::Error& error);
  // Anything else that escaped the engine (std::bad_alloc, a LibTorch error); `path` is the
  // file or folder that was being worked on.
  static UserMessage fromException(const std::exception& error, const QString& path);
  // One line for a status or note in a panel, from a background task's exception: a Kiln error's
  // title and its own words (which file, where Kiln looked, where to get it), else what() alone.
  static QString oneLine(const std::exception& error);
};

}  // namespace kiln::app

Q_DECLARE_METATYPE(kiln::app::UserMessage)
