#pragma once
// What Kiln reads from an OpenAI-compatible endpoint's answer, as pure functions of the bytes and
// headers (no network): the chat-completions body, a server's error object, Retry-After, and
// whether an answer is a web page. The client (vision_client) decides on retries from these;
// they are fuzzed (fuzz/fuzz_caption_answer.cpp) because the bytes come from any server.
#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <optional>

namespace kiln::captioning {

// The error object's message, type and code, as servers write them ({"error": {...}},
// {"error": "..."}, vLLM's {"object": "error", "message": ...}); a body that is not JSON gives
// its first 200 characters. The message is one line of at most 300 characters.
struct ServerError {
  QString message;
  QString kind;  // type and code, lower-case
};
ServerError parseServerError(const QByteArray& body);

// A successful (HTTP 200) chat-completions answer: the first choice's text (content as a string
// or as an array of text parts, else the refusal), its finish_reason and the token usage (-1 when
// absent). Nothing, with `error` set, when the body is not JSON or has no choice.
struct CompletionAnswer {
  QString content;
  QString finishReason;
  int promptTokens = -1;
  int completionTokens = -1;
};
std::optional<CompletionAnswer> parseCompletion(const QByteArray& body, QString* error);

// retry-after-ms, else Retry-After (seconds or an HTTP date, relative to `nowUtc`), in ms clamped
// to [0, INT_MAX]; -1 when neither says anything usable.
int retryAfterMs(const QByteArray& retryAfterMsHeader, const QByteArray& retryAfterHeader, const QDateTime& nowUtc);

// Whether a server's text says that the model takes no images (llama.cpp without mmproj, vLLM,
// Ollama, OpenAI's wordings).
bool mentionsNoVision(const QString& text);

// Whether an answer is a web page (a proxy's or captive portal's) rather than JSON.
bool looksLikeHtml(const QString& contentType, const QByteArray& body);

}  // namespace kiln::captioning
