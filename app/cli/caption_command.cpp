// kiln-cli dataset caption and kiln-cli endpoint check: captions from a vision model behind an
// OpenAI-compatible endpoint (app/captioning).
#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QTimer>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "bridge/resource_paths.h"
#include "captioning/caption_run.h"
#include "captioning/endpoint_profile.h"
#include "captioning/vision_client.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "dataset/prepare_dataset.h"
#include "text/clip_tokenizer.h"

namespace kiln::cli {

namespace {

using namespace kiln::captioning;

// Exit codes beyond 0/1/2 (README): the endpoint stopped the run, the model has no vision.
constexpr int kEndpointStopExit = 3;
constexpr int kNoVisionExit = 4;

// The endpoint options shared by both commands. Returns false (message printed) on bad values.
void addEndpointOptions(QCommandLineParser& parser) {
  parser.addOption({QStringLiteral("endpoint"), QStringLiteral("Base URL up to /v1 (e.g. http://127.0.0.1:8080/v1)."),
                    QStringLiteral("URL")});
  parser.addOption({QStringLiteral("model"), QStringLiteral("The model's name on the endpoint."), QStringLiteral("NAME")});
  parser.addOption({QStringLiteral("preset-endpoint"),
                    QStringLiteral("Fill endpoint, model and key variable from a preset (maverick-llama-api, "
                                   "maverick-together, maverick-openrouter, llama-server, ollama, vllm, lm-studio)."),
                    QStringLiteral("ID")});
  parser.addOption({QStringLiteral("api-key-env"),
                    QStringLiteral("The environment variable holding the API key (the key is never given on the command "
                                   "line)."),
                    QStringLiteral("VAR")});
  parser.addOption({QStringLiteral("timeout"), QStringLiteral("Seconds per request (default 120)."), QStringLiteral("S")});
  parser.addOption({QStringLiteral("max-side"), QStringLiteral("Longest image side sent (default 1024)."),
                    QStringLiteral("PX")});
  parser.addOption({QStringLiteral("max-tokens"), QStringLiteral("Longest answer in tokens (default 300)."),
                    QStringLiteral("N")});
  parser.addOption({QStringLiteral("temperature"), QStringLiteral("Sampling temperature (default 0.2)."),
                    QStringLiteral("T")});
}

bool readEndpoint(const QCommandLineParser& parser, const char* command, EndpointProfile* profile) {
  auto intOption = [&](const char* name, int* out) {
    if (!parser.isSet(QLatin1String(name))) return true;
    bool ok = false;
    *out = parser.value(QLatin1String(name)).toInt(&ok);
    if (!ok) std::fprintf(stderr, "%s: --%s takes a number\n", command, name);
    return ok;
  };
  if (parser.isSet(QStringLiteral("preset-endpoint"))) {
    const EndpointPreset* preset = findPreset(parser.value(QStringLiteral("preset-endpoint")));
    if (!preset) {
      std::fprintf(stderr, "%s: no endpoint preset '%s'\n", command, qPrintable(parser.value(QStringLiteral("preset-endpoint"))));
      return false;
    }
    *profile = preset->profile;
  }
  if (parser.isSet(QStringLiteral("endpoint"))) profile->baseUrl = parser.value(QStringLiteral("endpoint"));
  if (parser.isSet(QStringLiteral("model"))) profile->model = parser.value(QStringLiteral("model"));
  if (parser.isSet(QStringLiteral("api-key-env"))) profile->apiKeyEnv = parser.value(QStringLiteral("api-key-env"));
  if (!intOption("timeout", &profile->timeoutSeconds) || !intOption("max-side", &profile->maxImageSide) ||
      !intOption("max-tokens", &profile->maxTokens))
    return false;
  if (parser.isSet(QStringLiteral("temperature"))) {
    bool ok = false;
    profile->temperature = parser.value(QStringLiteral("temperature")).toDouble(&ok);
    if (!ok) {
      std::fprintf(stderr, "%s: --temperature takes a number\n", command);
      return false;
    }
  }
  if (profile->baseUrl.isEmpty() || profile->model.isEmpty()) {
    std::fprintf(stderr, "%s: give --endpoint URL and --model NAME (or --preset-endpoint ID)\n", command);
    return false;
  }
  const QString invalid = profile->validate();
  if (!invalid.isEmpty()) {
    std::fprintf(stderr, "%s: %s\n", command, qPrintable(invalid));
    return false;
  }
  return true;
}

RetryPolicy retryFromEnvironment() {
  RetryPolicy policy;
  // Tests shorten the waits; users have no reason to.
  bool ok = false;
  const int first = qEnvironmentVariableIntValue("KILN_CAPTION_BACKOFF_MS", &ok);
  if (ok && first >= 0) {
    policy.firstBackoffMs = first;
    policy.maxBackoffMs = std::max(first, 1) * 8;
  }
  return policy;
}

int exitFor(VisionReply::Outcome outcome) {
  return outcome == VisionReply::Outcome::NoVision ? kNoVisionExit : kEndpointStopExit;
}

}  // namespace

int run_endpoint(const QStringList& args) {
  if (args.size() < 2 || args.at(1) != QLatin1String("check")) {
    std::fputs(
        "Usage: kiln-cli endpoint check --endpoint URL --model NAME [--api-key-env VAR] [--json]\n"
        "\n"
        "Checks an OpenAI-compatible vision endpoint: waits while a local server loads its model\n"
        "(/health), lists /v1/models, sends one small probe image and reports the latency.\n"
        "Exit status: 0 OK, 2 usage, 3 unreachable / refused / unknown model / quota, 4 no vision support,\n"
        "1 anything else.\n",
        args.size() < 2 ? stderr : stdout);
    return (args.size() >= 2 && (args.at(1) == QLatin1String("--help") || args.at(1) == QLatin1String("-h"))) ? 0 : 2;
  }
  QStringList rest = args;
  rest.removeAt(1);
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Checks a vision endpoint."));
  parser.addHelpOption();
  addEndpointOptions(parser);
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print the result as JSON.")});
  parser.addOption({QStringLiteral("health-wait"), QStringLiteral("Seconds to wait for a loading server (default 60)."),
                    QStringLiteral("S"), QStringLiteral("60")});
  const char* command = "kiln-cli endpoint check";
  if (!parser.parse(rest)) {
    std::fprintf(stderr, "%s: %s\n", command, qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  EndpointProfile profile;
  if (!readEndpoint(parser, command, &profile)) return 2;
  QNetworkAccessManager network;
  EndpointCheck check(profile, &network);
  check.setHealthWaitMs(int(parser.value(QStringLiteral("health-wait")).toDouble() * 1000));
  check.setRetryPolicy(retryFromEnvironment());
  const bool json = parser.isSet(QStringLiteral("json"));
  QObject::connect(&check, &EndpointCheck::progress, [json](const QString& step) {
    if (!json) std::fprintf(stderr, "%s…\n", qPrintable(step));
  });
  QEventLoop loop;
  QObject::connect(&check, &EndpointCheck::finished, &loop, &QEventLoop::quit);
  check.start();
  if (check.message().isEmpty()) loop.exec();
  if (json) {
    QJsonObject o{{QStringLiteral("result"), checkResultName(check.result())},
                  {QStringLiteral("message"), check.message()},
                  {QStringLiteral("models"), QJsonArray::fromStringList(check.models())},
                  {QStringLiteral("latency_ms"), double(check.latencyMs())},
                  {QStringLiteral("probe_answer"), check.probeAnswer()}};
    std::fputs(QJsonDocument(o).toJson().constData(), stdout);
  } else {
    std::printf("%s\n", qPrintable(check.message()));
  }
  switch (check.result()) {
    case EndpointCheck::Result::Ok: return 0;
    case EndpointCheck::Result::NoVision: return kNoVisionExit;
    case EndpointCheck::Result::Failed: return 1;
    default: return kEndpointStopExit;
  }
}

int run_dataset_caption(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Captions the images of a dataset folder with a vision model behind an OpenAI-compatible endpoint. "
      "Each caption is written as it arrives (.txt beside the image) with its provenance in "
      "DIR/.kiln-captions.json; captions you wrote, edited or reviewed are never replaced unless "
      "--overwrite-edited. Exit status: 0 done, 1 some images failed (listed), 2 usage, 3 the endpoint "
      "stopped the run (refused key, quota, unknown model, unreachable), 4 the model takes no images, "
      "130 interrupted (rerun with --mode fill to go on)."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("dir"), QStringLiteral("The dataset folder."));
  addEndpointOptions(parser);
  parser.addOption({QStringLiteral("preset"), QStringLiteral("Prompt preset: subject (default), style or tags."),
                    QStringLiteral("NAME"), QStringLiteral("subject")});
  parser.addOption({QStringLiteral("prompt-file"),
                    QStringLiteral("A custom prompt template ({token} {class} {filename} {existing})."),
                    QStringLiteral("F")});
  parser.addOption({QStringLiteral("token"), QStringLiteral("The instance token (subject preset)."), QStringLiteral("T")});
  parser.addOption({QStringLiteral("class"), QStringLiteral("The class word, e.g. man, dog (subject preset)."),
                    QStringLiteral("C")});
  parser.addOption({QStringLiteral("prefix"), QStringLiteral("Text put before each caption (joined with ', ')."),
                    QStringLiteral("TEXT")});
  parser.addOption({QStringLiteral("suffix"), QStringLiteral("Text put after each caption (joined with ', ')."),
                    QStringLiteral("TEXT")});
  parser.addOption({QStringLiteral("mode"),
                    QStringLiteral("fill (only images without a caption, default), replace or append."),
                    QStringLiteral("MODE"), QStringLiteral("fill")});
  parser.addOption({QStringLiteral("overwrite-edited"),
                    QStringLiteral("replace: also captions you wrote, edited or reviewed.")});
  parser.addOption({QStringLiteral("concurrency"),
                    QStringLiteral("Requests at a time (default 4 remote, 1 on this machine)."), QStringLiteral("N")});
  parser.addOption({QStringLiteral("dry-run"), QStringLiteral("Show which images would be asked for, and the prompt.")});
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print a JSON report on stdout.")});
  const char* command = "kiln-cli dataset caption";
  if (!parser.parse(args)) {
    std::fprintf(stderr, "%s: %s\n", command, qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  if (parser.positionalArguments().size() != 1) {
    std::fprintf(stderr, "%s: give one dataset folder (see --help)\n", command);
    return 2;
  }
  const QString dir = QDir(parser.positionalArguments().first()).absolutePath();
  if (!QFileInfo(dir).isDir()) {
    std::fprintf(stderr, "%s: %s is not a folder\n", command, qPrintable(dir));
    return 2;
  }
  CaptionRunSettings settings;
  if (!readEndpoint(parser, command, &settings.profile)) return 2;
  if (parser.isSet(QStringLiteral("concurrency"))) {
    bool ok = false;
    settings.profile.concurrency = parser.value(QStringLiteral("concurrency")).toInt(&ok);
    if (!ok || settings.profile.concurrency < 1 || settings.profile.concurrency > 64) {
      std::fprintf(stderr, "%s: --concurrency takes 1 to 64\n", command);
      return 2;
    }
  } else {
    settings.profile.concurrency = settings.profile.isLocal() ? 1 : 4;
  }
  const auto mode = modeFromId(parser.value(QStringLiteral("mode")));
  if (!mode) {
    std::fprintf(stderr, "%s: --mode is fill, replace or append\n", command);
    return 2;
  }
  settings.mode = *mode;
  settings.overwriteEdited = parser.isSet(QStringLiteral("overwrite-edited"));
  if (parser.isSet(QStringLiteral("prompt-file"))) {
    QFile f(parser.value(QStringLiteral("prompt-file")));
    if (!f.open(QIODevice::ReadOnly)) {
      std::fprintf(stderr, "%s: %s: %s\n", command, qPrintable(f.fileName()), qPrintable(f.errorString()));
      return 2;
    }
    settings.prompt.preset = PromptPreset::Custom;
    settings.prompt.customTemplate = QString::fromUtf8(f.readAll());
  } else {
    const auto preset = presetFromId(parser.value(QStringLiteral("preset")));
    if (!preset || *preset == PromptPreset::Custom) {
      std::fprintf(stderr, "%s: --preset is subject, style or tags (or give --prompt-file)\n", command);
      return 2;
    }
    settings.prompt.preset = *preset;
  }
  settings.prompt.token = parser.value(QStringLiteral("token"));
  settings.prompt.className = parser.value(QStringLiteral("class"));
  settings.prompt.prefix = parser.value(QStringLiteral("prefix"));
  settings.prompt.suffix = parser.value(QStringLiteral("suffix"));
  settings.retry = retryFromEnvironment();

  QStringList images;
  try {
    for (const auto& p : dataset::list_images(std::filesystem::path(dir.toStdString())))
      images << QString::fromStdString(p.string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", command, e.what());
    return 1;
  }
  if (images.isEmpty()) {
    std::fprintf(stderr, "%s: no images in %s\n", command, qPrintable(dir));
    return 1;
  }

  QNetworkAccessManager network;
  CaptionRun run(dir, images, settings, &network);
  const QString planError = run.plan();
  if (!planError.isEmpty()) {
    std::fprintf(stderr, "%s: %s\n", command, qPrintable(planError));
    return 2;
  }
  std::shared_ptr<const text::CLIPTokenizer> tokenizer;
  try {
    tokenizer = std::make_shared<const text::CLIPTokenizer>(text::CLIPTokenizer::from_folder(bridge::clipVocabularyDir()));
    run.setTokenCounter([tokenizer](const QString& t) { return int(tokenizer->encode(t.toStdString()).size()); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: note: no CLIP token counts (%s)\n", command, e.what());
  }
  const bool json = parser.isSet(QStringLiteral("json"));
  auto relative = [&dir](const QString& path) { return QDir(dir).relativeFilePath(path); };

  if (parser.isSet(QStringLiteral("dry-run"))) {
    QString firstPrompt;
    for (const CaptionItem& item : run.items()) {
      if (item.state == CaptionItem::State::Pending && firstPrompt.isEmpty()) firstPrompt = item.prompt;
      std::printf("%-5s %s%s\n", item.state == CaptionItem::State::Pending ? "ask" : "skip", qPrintable(relative(item.image)),
                  item.state == CaptionItem::State::Pending ? "" : qPrintable(QStringLiteral(" (%1)").arg(item.reason)));
    }
    std::printf("\n%d to ask, %d skipped; endpoint %s, model %s, %d at a time\nprompt: %s\n", run.pendingCount(),
                run.skippedCount(), qPrintable(settings.profile.baseUrl), qPrintable(settings.profile.model),
                settings.profile.concurrency, qPrintable(firstPrompt));
    return 0;
  }

  QEventLoop loop;
  QObject::connect(&run, &CaptionRun::finished, &loop, &QEventLoop::quit);
  QObject::connect(&run, &CaptionRun::note, [](const QString& line) { std::fprintf(stderr, "%s\n", qPrintable(line)); });
  const int total = run.pendingCount();
  QObject::connect(&run, &CaptionRun::itemChanged, [&](int index) {
    const CaptionItem& item = run.items().at(index);
    if (item.state == CaptionItem::State::Done) {
      const QStringList flags = flagNames(item.caption.flags);
      std::fprintf(stderr, "[%d/%d] %s: %s%s\n", run.doneCount() + run.failedCount(), total, qPrintable(relative(item.image)),
                   qPrintable(item.caption.text),
                   flags.isEmpty() ? "" : qPrintable(QStringLiteral("  [%1]").arg(flags.join(QStringLiteral(", ")))));
    } else if (item.state == CaptionItem::State::Failed) {
      std::fprintf(stderr, "[%d/%d] %s: failed: %s\n", run.doneCount() + run.failedCount(), total,
                   qPrintable(relative(item.image)), qPrintable(item.reason));
    }
  });
  InterruptWatcher interrupt("kiln-cli dataset caption");
  QTimer poll;
  QObject::connect(&poll, &QTimer::timeout, [&] {
    if (interrupt.stopRequested()) run.cancel();
  });
  poll.start(100);
  run.start();
  if (!run.isFinished()) loop.exec();
  poll.stop();

  if (json) {
    QJsonArray items;
    for (const CaptionItem& item : run.items()) {
      QJsonObject o{{QStringLiteral("image"), relative(item.image)}, {QStringLiteral("state"), itemStateName(item.state)}};
      if (!item.reason.isEmpty()) o.insert(QStringLiteral("reason"), item.reason);
      if (item.state == CaptionItem::State::Done) {
        o.insert(QStringLiteral("caption"), item.caption.text);
        o.insert(QStringLiteral("flags"), QJsonArray::fromStringList(flagNames(item.caption.flags)));
        o.insert(QStringLiteral("clip_tokens"), item.caption.clipTokens);
        o.insert(QStringLiteral("finish_reason"), item.reply.finishReason);
      }
      items.push_back(o);
    }
    QJsonObject root{{QStringLiteral("done"), run.doneCount()},     {QStringLiteral("failed"), run.failedCount()},
                     {QStringLiteral("skipped"), run.skippedCount()}, {QStringLiteral("stopped"), run.stopReason()},
                     {QStringLiteral("cancelled"), run.cancelled()},  {QStringLiteral("prompt_tokens"), double(run.promptTokens())},
                     {QStringLiteral("completion_tokens"), double(run.completionTokens())},
                     {QStringLiteral("images"), items}};
    std::fputs(QJsonDocument(root).toJson().constData(), stdout);
  }
  std::fprintf(stderr, "%d captioned, %d failed, %d skipped; tokens used: %lld prompt, %lld completion\n", run.doneCount(),
               run.failedCount(), run.skippedCount(), static_cast<long long>(run.promptTokens()),
               static_cast<long long>(run.completionTokens()));
  if (run.cancelled()) {
    std::fprintf(stderr, "%s: interrupted; the captions written so far are kept: rerun with --mode fill to go on\n", command);
    return kCancelledExit;
  }
  if (!run.stopReason().isEmpty()) {
    std::fprintf(stderr, "%s: stopped: %s\n", command, qPrintable(run.stopReason()));
    return exitFor(run.stopOutcome());
  }
  if (run.failedCount() > 0) {
    std::fprintf(stderr, "%s: %d image(s) failed:\n", command, run.failedCount());
    for (const CaptionItem& item : run.items())
      if (item.state == CaptionItem::State::Failed)
        std::fprintf(stderr, "  %s: %s\n", qPrintable(relative(item.image)), qPrintable(item.reason));
    return 1;
  }
  return 0;
}

}  // namespace kiln::cli
