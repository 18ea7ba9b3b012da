// kiln-cli tokenize: what the text encoder gets for a prompt, chunk by chunk.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "base/error.h"
#include "bridge/resource_paths.h"
#include "cli/commands.h"
#include "text/clip_tokenizer.h"
#include "text/prompt.h"

namespace kiln::cli {

namespace {

// The shortest text that reads back as the same float: 1.1f prints "1.1", not
// 1.10000002384185791.
std::string float_text(float value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

double float_as_json_number(float value) {
  const std::string text = float_text(value);
  double out = 0;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return out;
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void print_human(const text::TokenizedPrompt& prompt) {
  for (const auto& chunk : prompt.chunks) {
    std::string line = "ids:";
    for (const auto id : chunk.ids) line += " " + std::to_string(id);
    std::cout << line << "\n";
    bool emphasized = false;
    for (const float w : chunk.weights) emphasized = emphasized || w != 1.0f;
    if (!emphasized) continue;
    line = "weights:";
    for (const float w : chunk.weights) line += " " + float_text(w);
    std::cout << line << "\n";
  }
  const int limit = 75 * static_cast<int>(prompt.chunks.size());
  std::cout << "tokens: " << prompt.token_count << "/" << limit;
  if (prompt.truncated) std::cout << " (truncated: " << prompt.token_count - limit << " dropped)";
  std::cout << std::endl;
}

// The format: {"chunks": [[ids...], ...], "weights": [[...], ...], "tokens": n}, plus the
// limit A1111 shows (75 per chunk) and whether plain mode truncated.
nlohmann::json to_json(const text::TokenizedPrompt& prompt) {
  nlohmann::json chunks = nlohmann::json::array();
  nlohmann::json weights = nlohmann::json::array();
  for (const auto& chunk : prompt.chunks) {
    nlohmann::json w = nlohmann::json::array();
    for (const float x : chunk.weights) w.push_back(float_as_json_number(x));
    chunks.push_back(chunk.ids);
    weights.push_back(std::move(w));
  }
  return {{"chunks", chunks},
          {"weights", weights},
          {"tokens", prompt.token_count},
          {"limit", 75 * static_cast<int>(prompt.chunks.size())},
          {"truncated", prompt.truncated}};
}

}  // namespace

int run_tokenize(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("The token ids a prompt gives the text encoder: 77 per chunk (bos, 75 tokens, eos, padding), the\n"
                     "emphasis weight of each position when there is emphasis, and the token count as AUTOMATIC1111\n"
                     "shows it (n/75, n/150 for two chunks). Quote TEXT; put -- before a TEXT that starts with '-'.\n"
                     "Rules: docs/prompt-syntax.md."));
  parser.addHelpOption();
  parser.addOption({QStringLiteral("pad"),
                    QStringLiteral("Padding after eos: sd1 (<|endoftext|>, 49407) or sd2 (0, and \"!\" is special in\n"
                                   "plain mode, as in SD 2.x tokenizer folders). Default: sd1."),
                    QStringLiteral("sd1|sd2"), QStringLiteral("sd1")});
  parser.addOption({QStringLiteral("prompt-syntax"),
                    QStringLiteral("a1111: (text:1.2), [text], BREAK, chunks of 75 tokens; plain: diffusers' single\n"
                                   "77-token window, truncated. Default: a1111."),
                    QStringLiteral("a1111|plain"), QStringLiteral("a1111")});
  parser.addOption({QStringLiteral("tokenizer"),
                    QStringLiteral("A tokenizer folder (vocab.json + merges.txt), e.g. a diffusers model's\n"
                                   "tokenizer/. Default: the vocabulary bundled with Kiln."),
                    QStringLiteral("FOLDER")});
  parser.addOption({QStringLiteral("json"),
                    QStringLiteral("Print one JSON object: {\"chunks\": [[ids...], ...], \"weights\": [[...], ...],\n"
                                   "\"tokens\": n, \"limit\": 75 x chunks, \"truncated\": plain mode dropped tokens}.")});
  parser.addPositionalArgument(QStringLiteral("TEXT"), QStringLiteral("The prompt."));
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli tokenize: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  const QStringList texts = parser.positionalArguments();
  if (texts.size() != 1) {
    std::fprintf(stderr,
                 "kiln-cli tokenize: expected one TEXT, got %lld (quote the prompt; see kiln-cli tokenize --help)\n",
                 static_cast<long long>(texts.size()));
    return 2;
  }
  const QString pad = parser.value(QStringLiteral("pad"));
  if (pad != QLatin1String("sd1") && pad != QLatin1String("sd2")) {
    std::fprintf(stderr, "kiln-cli tokenize: --pad must be sd1 or sd2, got '%s'\n", qPrintable(pad));
    return 2;
  }
  const QString syntax = parser.value(QStringLiteral("prompt-syntax"));
  if (syntax != QLatin1String("a1111") && syntax != QLatin1String("plain")) {
    std::fprintf(stderr, "kiln-cli tokenize: --prompt-syntax must be a1111 or plain, got '%s'\n", qPrintable(syntax));
    return 2;
  }

  try {
    const std::filesystem::path folder =
        parser.isSet(QStringLiteral("tokenizer"))
            ? std::filesystem::path(parser.value(QStringLiteral("tokenizer")).toStdString())
            : bridge::clipVocabularyDir();
    const auto tokenizer = text::CLIPTokenizer::from_folder(folder);
    const auto prompt =
        text::tokenize_prompt(tokenizer, texts.front().toStdString(),
                              syntax == QLatin1String("plain") ? text::PromptSyntax::Plain : text::PromptSyntax::A1111,
                              pad == QLatin1String("sd2") ? text::PadConvention::SD2 : text::PadConvention::SD1);
    if (parser.isSet(QStringLiteral("json"))) {
      std::cout << to_json(prompt).dump() << std::endl;
    } else {
      print_human(prompt);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return 1;
}

}  // namespace kiln::cli
