#include "captioning/caption_text.h"

#include <QHash>
#include <QRegularExpression>

namespace kiln::captioning {

QString presetId(PromptPreset preset) {
  switch (preset) {
    case PromptPreset::Subject: return QStringLiteral("subject");
    case PromptPreset::Style: return QStringLiteral("style");
    case PromptPreset::Tags: return QStringLiteral("tags");
    case PromptPreset::Custom: return QStringLiteral("custom");
  }
  return {};
}

std::optional<PromptPreset> presetFromId(const QString& id) {
  for (PromptPreset p : {PromptPreset::Subject, PromptPreset::Style, PromptPreset::Tags, PromptPreset::Custom})
    if (presetId(p) == id) return p;
  return std::nullopt;
}

QString presetTemplate(PromptPreset preset) {
  switch (preset) {
    case PromptPreset::Subject:
      return QStringLiteral(
          "Write a caption for this photo to train an image model on one subject, called \"{token} {class}\". "
          "Begin with \"{token} {class}\". Then describe what changes from photo to photo: clothing, pose, "
          "expression, what the subject is doing, framing and camera angle, background, lighting. Do not describe "
          "the subject's fixed identity (face shape, eye colour, hair colour, skin, body shape, markings). "
          "One plain sentence of at most 60 words, no preamble, no quotes.");
    case PromptPreset::Style:
      return QStringLiteral(
          "Write a caption for this image to train an image model on its style. Describe only the content: the "
          "subjects, what they are doing, the setting, composition and colours. Never name or describe the "
          "artistic style, medium, technique or artist. One plain sentence of at most 60 words, no preamble, no "
          "quotes.");
    case PromptPreset::Tags:
      return QStringLiteral(
          "List what is visible in this image as short lowercase tags separated by commas: subjects, clothing, "
          "actions, objects, setting, lighting, framing; most important first, at most 25 tags. Only the tags, no "
          "sentence and no preamble.");
    case PromptPreset::Custom:
      return {};
  }
  return {};
}

std::optional<QString> buildPrompt(const PromptSettings& s, const QString& fileName, const QString& existing,
                                   QString* error) {
  const QString tmpl = s.preset == PromptPreset::Custom ? s.customTemplate : presetTemplate(s.preset);
  auto fail = [error](const QString& message) -> std::optional<QString> {
    if (error) *error = message;
    return std::nullopt;
  };
  if (tmpl.trimmed().isEmpty()) return fail(QStringLiteral("the prompt template is empty"));
  const QHash<QString, QString> values{{QStringLiteral("token"), s.token.trimmed()},
                                       {QStringLiteral("class"), s.className.trimmed()},
                                       {QStringLiteral("filename"), fileName},
                                       {QStringLiteral("existing"), existing.trimmed()}};
  static const QRegularExpression placeholder(QStringLiteral("\\{([A-Za-z_]+)\\}"));
  QString out;
  qsizetype last = 0;
  for (auto it = placeholder.globalMatch(tmpl); it.hasNext();) {
    const auto m = it.next();
    const QString name = m.captured(1);
    if (!values.contains(name))
      return fail(QStringLiteral("the prompt names {%1}; known are {token} {class} {filename} {existing}").arg(name));
    if ((name == QLatin1String("token") || name == QLatin1String("class")) && values.value(name).isEmpty())
      return fail(QStringLiteral("the prompt uses {%1} but no %2 is set").arg(name, name == QLatin1String("token")
                                                                                        ? QStringLiteral("instance token")
                                                                                        : QStringLiteral("class")));
    out += tmpl.mid(last, m.capturedStart() - last) + values.value(name);
    last = m.capturedEnd();
  }
  out += tmpl.mid(last);
  return out.simplified();
}

QStringList flagNames(unsigned flags) {
  QStringList out;
  if (flags & FlagEmpty) out << QStringLiteral("empty");
  if (flags & FlagRefusal) out << QStringLiteral("refusal");
  if (flags & FlagRepetition) out << QStringLiteral("repetition");
  if (flags & FlagTruncated) out << QStringLiteral("truncated");
  if (flags & FlagMissingToken) out << QStringLiteral("token-missing");
  if (flags & FlagOverLimit) out << QStringLiteral("over-75");
  return out;
}

unsigned flagsFromNames(const QStringList& names) {
  unsigned f = 0;
  for (unsigned bit = 1; bit <= FlagOverLimit; bit <<= 1)
    if (names.contains(flagNames(bit).value(0))) f |= bit;
  return f;
}

QString cleanAnswer(const QString& raw) {
  QString t = raw;
  // Reasoning models may wrap their thoughts.
  static const QRegularExpression think(QStringLiteral("<think>.*?</think>"),
                                        QRegularExpression::DotMatchesEverythingOption);
  t.remove(think);
  t = t.simplified();
  static const QList<QRegularExpression> preambles{
      QRegularExpression(QStringLiteral("^(sure|certainly|of course)[!,.]?\\s*"), QRegularExpression::CaseInsensitiveOption),
      QRegularExpression(QStringLiteral("^here(?: is|'s| are)\\s+(?:a|an|the|my)?\\s*(?:\\w+\\s+){0,3}"
                                        "(?:caption|description|tags)[^:]{0,40}:\\s*"),
                         QRegularExpression::CaseInsensitiveOption),
      QRegularExpression(QStringLiteral("^(?:caption|description|tags)\\s*:\\s*"), QRegularExpression::CaseInsensitiveOption),
      QRegularExpression(QStringLiteral("^(?:in\\s+)?(?:this|the)\\s+(?:image|photo|photograph|picture)\\s*,?\\s*"
                                        "(?:shows|depicts|features|captures|contains|presents|is of|we see|there is|there are)?"
                                        "\\s*"),
                         QRegularExpression::CaseInsensitiveOption),
  };
  for (int pass = 0; pass < 2; ++pass)
    for (const QRegularExpression& re : preambles) t.remove(re);
  t = t.trimmed();
  // Quotes around the whole caption.
  for (const auto& [open, close] : {std::pair{u'"', u'"'}, std::pair{u'\'', u'\''}, std::pair{u'\u201c', u'\u201d'}})
    if (t.size() >= 2 && t.front() == QChar(open) && t.back() == QChar(close)) t = t.mid(1, t.size() - 2).trimmed();
  return t;
}

bool looksLikeRefusal(const QString& text) {
  static const QRegularExpression re(
      QStringLiteral("^(?:i'm sorry|i am sorry|sorry,|i can(?:'|no)t|i cannot|i am unable|i'm unable|i won't|"
                     "i will not|as an ai|unfortunately,? i)"),
      QRegularExpression::CaseInsensitiveOption);
  return re.match(text.trimmed()).hasMatch();
}

bool hasRepetitionLoop(const QString& text) {
  // The same phrase of 1 to 6 words four times in a row ("a red a red a red a red"), or the same
  // comma-separated part four times.
  const QStringList words = text.toLower().split(QRegularExpression(QStringLiteral("[\\s,.;]+")), Qt::SkipEmptyParts);
  for (int n = 1; n <= 6; ++n) {
    for (qsizetype start = 0; start + 4 * n <= words.size(); ++start) {
      bool same = true;
      for (int rep = 1; rep < 4 && same; ++rep)
        for (int k = 0; k < n && same; ++k) same = words[start + k] == words[start + rep * n + k];
      if (same) return true;
    }
  }
  QHash<QString, int> parts;
  for (const QString& part : text.toLower().split(QLatin1Char(','), Qt::SkipEmptyParts))
    if (++parts[part.trimmed()] >= 4 && !part.trimmed().isEmpty()) return true;
  return false;
}

namespace {

bool containsWord(const QString& text, const QString& word) {
  if (word.isEmpty()) return true;
  const QRegularExpression re(QStringLiteral("(?<![\\p{L}\\p{N}])%1(?![\\p{L}\\p{N}])").arg(QRegularExpression::escape(word)),
                              QRegularExpression::CaseInsensitiveOption);
  return re.match(text).hasMatch();
}

QString joined(const QString& a, const QString& b) {
  if (a.trimmed().isEmpty()) return b;
  if (b.trimmed().isEmpty()) return a;
  QString left = a.trimmed();
  while (left.endsWith(QLatin1Char(','))) left.chop(1);
  QString right = b.trimmed();
  while (right.startsWith(QLatin1Char(','))) right = right.mid(1).trimmed();
  return left + QStringLiteral(", ") + right;
}

}  // namespace

ProcessedCaption processAnswer(const QString& raw, const QString& finishReason, const PromptSettings& settings,
                               int (*countTokens)(const QString&, void*), void* countContext) {
  ProcessedCaption out;
  const QString clean = cleanAnswer(raw);
  if (finishReason == QLatin1String("length")) out.flags |= FlagTruncated;
  if (clean.isEmpty()) {
    out.flags |= FlagEmpty;
    return out;
  }
  if (looksLikeRefusal(clean)) {
    out.flags |= FlagRefusal;
    return out;
  }
  if (hasRepetitionLoop(clean)) out.flags |= FlagRepetition;
  if (settings.preset == PromptPreset::Subject && !containsWord(clean, settings.token.trimmed()))
    out.flags |= FlagMissingToken;
  out.text = joined(joined(settings.prefix, clean), settings.suffix);
  if (countTokens) {
    out.clipTokens = countTokens(out.text, countContext);
    if (out.clipTokens > 75) out.flags |= FlagOverLimit;
  }
  return out;
}

}  // namespace kiln::captioning
