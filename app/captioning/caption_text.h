#pragma once
// What a vision model is asked, and what is made of its answer.
//
// Prompts: presets for a subject dataset (the caption starts with "{token} {class}" and describes
// everything except the subject's fixed identity, so that the token learns the identity), a style
// dataset (content only, the style never named, so that the style is what the model has to learn)
// and short tags; or a custom template with {token} {class} {filename} {existing}.
// Answers: trimmed, unquoted, preambles ("This image shows", "Here is a caption:") stripped,
// whitespace collapsed; flagged when empty, a refusal, a repetition loop, cut off (finish_reason
// "length") or without the token; the prefix / suffix the user set are joined with ", ".
// Nothing is ever truncated: the CLIP token count is reported against the 75-token chunk.

#include <QString>
#include <QStringList>

#include <optional>

namespace kiln::captioning {

enum class PromptPreset { Subject, Style, Tags, Custom };

struct PromptSettings {
  PromptPreset preset = PromptPreset::Subject;
  QString customTemplate;  // for Custom
  QString token;           // the instance token, e.g. "phtmejhn"
  QString className;       // e.g. "man", "dog", "style"
  QString prefix;          // joined before the caption with ", "
  QString suffix;          // joined after it
};

QString presetId(PromptPreset preset);  // "subject", "style", "tags", "custom"
std::optional<PromptPreset> presetFromId(const QString& id);
// The preset's template (with placeholders).
QString presetTemplate(PromptPreset preset);

// The prompt for one image. `error` (one line) when the template is empty, names an unknown
// {placeholder}, or needs a token/class that is not set.
std::optional<QString> buildPrompt(const PromptSettings& settings, const QString& fileName, const QString& existing,
                                   QString* error);

// Flags of a processed answer (bits).
enum CaptionFlag : unsigned {
  FlagEmpty = 1u << 0,
  FlagRefusal = 1u << 1,
  FlagRepetition = 1u << 2,
  FlagTruncated = 1u << 3,     // finish_reason "length"
  FlagMissingToken = 1u << 4,  // subject preset: the token is not in the caption
  FlagOverLimit = 1u << 5,     // more CLIP tokens than one 75-token chunk
};
QStringList flagNames(unsigned flags);  // "empty", "refusal", "repetition", "truncated", "token-missing", "over-75"
unsigned flagsFromNames(const QStringList& names);

struct ProcessedCaption {
  QString text;         // what goes into the .txt (empty for Empty / Refusal)
  unsigned flags = 0;
  int clipTokens = -1;  // -1 when not counted
  bool usable() const { return !(flags & (FlagEmpty | FlagRefusal)); }
};

// Cleans the model's answer (`raw`) and applies prefix/suffix. `countTokens` may be null.
ProcessedCaption processAnswer(const QString& raw, const QString& finishReason, const PromptSettings& settings,
                               int (*countTokens)(const QString&, void*) = nullptr, void* countContext = nullptr);

// Cleaning only (exposed for tests): trim, unquote, strip preambles, collapse whitespace.
QString cleanAnswer(const QString& raw);
bool looksLikeRefusal(const QString& text);
bool hasRepetitionLoop(const QString& text);

}  // namespace kiln::captioning
