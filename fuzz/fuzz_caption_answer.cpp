// What a captioning endpoint answers (any OpenAI-compatible server, or whatever sits at its URL):
// the chat-completions body, an error object, Retry-After, then the caption cleaned and flagged
// as the run does before it is shown for review.
#include <QCoreApplication>
#include <QDateTime>

#include "captioning/caption_text.h"
#include "captioning/completion_answer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static QCoreApplication app(*argc, *argv);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kiln::captioning;
  const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
  QString why;
  const auto answer = parseCompletion(bytes, &why);
  if (!answer && why.isEmpty()) __builtin_trap();
  const ServerError error = parseServerError(bytes);
  if (error.message.size() > 301) __builtin_trap();  // one line of at most 300 characters (+ "…")
  (void)mentionsNoVision(error.message + QLatin1Char(' ') + error.kind);
  (void)looksLikeHtml(QString::fromLatin1(bytes.left(40)), bytes);
  const int newline = bytes.indexOf('\n');
  const QByteArray header = newline < 0 ? bytes : bytes.left(newline);
  const int wait = retryAfterMs(header, header, QDateTime(QDate(2026, 12, 7), QTime(12, 0), Qt::UTC));
  if (wait < -1) __builtin_trap();
  const QString raw = answer ? answer->content : QString::fromUtf8(bytes);
  PromptSettings settings;
  for (const QString& finish : {QStringLiteral("stop"), QStringLiteral("length")}) {
    const ProcessedCaption caption = processAnswer(raw, finish, settings);
    (void)flagNames(caption.flags);
  }
  return 0;
}
