// kiln-cli session export / import: a training session as one .zip, to carry it to another
// machine (services/session_archive.h).
#include <QCommandLineParser>
#include <QFileInfo>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "bridge/resource_paths.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "services/session_archive.h"

namespace kiln::cli {

namespace {

using app::SessionArchive;
using app::SessionArchiveContents;
using app::SessionArchiveProgress;

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// One line on stderr; 2 for a refused request or archive, 1 for failed work.
int report_error(const char* command, const std::exception& e) {
  std::string text = one_line(e.what());
  if (const auto* error = dynamic_cast<const kiln::Error*>(&e);
      error != nullptr && !error->hint().empty() && text.find(error->hint()) == std::string::npos) {
    text += " (" + one_line(error->hint()) + ")";
  }
  std::fprintf(stderr, "kiln-cli session %s: error: %s\n", command, text.c_str());
  const auto* error = dynamic_cast<const kiln::Error*>(&e);
  const bool refused =
      error != nullptr && (error->kind() == ErrorKind::InvalidRequest || error->kind() == ErrorKind::Format);
  return refused ? 2 : 1;
}

const char* kUsage =
    "Usage: kiln-cli session export DIR --out FILE.zip [--with-checkpoints|--weights-only] [--overwrite]\n"
    "       kiln-cli session import FILE.zip DIR [--models DIR...]\n"
    "\n"
    "Carries a training session to another machine and back as one .zip: settings.json, the\n"
    "session's copy of its images with their exact prompts, metrics, samples, the log, and a\n"
    "manifest.json with the sha256 of every entry and of the base model.\n"
    "\n"
    "export options:\n"
    "  --out FILE.zip        The archive to write (atomically: a cancelled or failed export leaves\n"
    "                        nothing)\n"
    "  --with-checkpoints    Also the checkpoints: latest.safetensors (weights, optimizer and\n"
    "                        generator state: the imported session resumes exactly) and the kept\n"
    "                        checkpoint files\n"
    "  --weights-only        Also the kept checkpoint files only (what generators load and Compare\n"
    "                        Checkpoints shows, fp16; no optimizer state, so no resume): the result,\n"
    "                        small\n"
    "  --overwrite           Replace an existing FILE.zip\n"
    "  (neither: no weights; train the session elsewhere from the start)\n"
    "\n"
    "import options:\n"
    "  DIR                   The new session folder (must not exist, or be empty)\n"
    "  --models DIR          A model file or folder (searched a few levels deep) to find the base\n"
    "                        model in by its hash; repeatable. The path the session names is tried\n"
    "                        last. Without a match the import is refused, naming the model and hash.\n"
    "\n"
    "The archive is checked whole before anything is written: paths outside DIR, links,\n"
    "duplicate names, sizes and compression ratios (zip bombs), entries the manifest does not\n"
    "list or lists with another sha256, a truncated archive; a refused import leaves nothing.\n"
    "Afterwards: kiln-cli train --session DIR --resume.\n"
    "Exit status: 0 done, 1 failed (I/O), 2 usage or a refused request/archive, 130 cancelled (Ctrl-C).\n";

// "dataset/000001-a.jpg  40%" on one stderr line, at most every 200 ms.
class ProgressLine {
 public:
  explicit ProgressLine(const char* command) : mCommand(command) {}
  void operator()(const SessionArchiveProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.what == mLast && now - mPrinted < std::chrono::milliseconds(200)) return;
    mLast = p.what;
    mPrinted = now;
    const int percent = p.total > 0 ? static_cast<int>(100 * p.done / p.total) : 0;
    std::fprintf(stderr, "kiln-cli session %s: %3d%% %s\n", mCommand, percent, qPrintable(p.what));
  }

 private:
  const char* mCommand;
  QString mLast;
  std::chrono::steady_clock::time_point mPrinted;
};

int run_session_export(const QStringList& args) {
  QCommandLineParser p;
  p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  p.addOption({{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Help.")});
  p.addOption({QStringLiteral("out"), QStringLiteral("Archive."), QStringLiteral("FILE")});
  p.addOption({QStringLiteral("with-checkpoints"), QStringLiteral("Checkpoints.")});
  p.addOption({QStringLiteral("weights-only"), QStringLiteral("Kept weights.")});
  p.addOption({QStringLiteral("overwrite"), QStringLiteral("Replace.")});
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli session export: %s (see kiln-cli session --help)\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (p.positionalArguments().size() != 1 || !p.isSet(QStringLiteral("out"))) {
    std::fprintf(stderr, "kiln-cli session export: expected DIR and --out FILE.zip (see kiln-cli session --help)\n");
    return 2;
  }
  if (p.isSet(QStringLiteral("with-checkpoints")) && p.isSet(QStringLiteral("weights-only"))) {
    std::fprintf(stderr, "kiln-cli session export: --with-checkpoints and --weights-only exclude each other\n");
    return 2;
  }
  app::SessionExportOptions options;
  if (p.isSet(QStringLiteral("with-checkpoints"))) options.contents = SessionArchiveContents::WithCheckpoints;
  if (p.isSet(QStringLiteral("weights-only"))) options.contents = SessionArchiveContents::WeightsOnly;
  options.overwrite = p.isSet(QStringLiteral("overwrite"));
  try {
    InterruptWatcher interrupt("kiln-cli session export");
    ProgressLine progress("export");
    const auto result = SessionArchive::write(p.positionalArguments().first(), p.value(QStringLiteral("out")), options,
                                              std::ref(progress), interrupt.token());
    if (result.cancelled) {
      std::fprintf(stderr, "kiln-cli session export: cancelled; nothing was written\n");
      return kCancelledExit;
    }
    for (const QString& note : result.notes)
      std::fprintf(stderr, "kiln-cli session export: note: %s\n", qPrintable(note));
    std::cout << "wrote " << result.zipPath.toStdString() << ": " << result.files << " files ("
              << app::toString(options.contents).toStdString() << "), " << result.bytes << " bytes";
    if (result.checkpointStep >= 0) std::cout << ", checkpoint at step " << result.checkpointStep;
    std::cout << "; base model sha256 " << result.baseModelSha256.toStdString() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return report_error("export", e);
  }
}

int run_session_import(const QStringList& args) {
  QCommandLineParser p;
  p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  p.addOption({{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Help.")});
  p.addOption({QStringLiteral("models"), QStringLiteral("Model folders."), QStringLiteral("DIR")});
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli session import: %s (see kiln-cli session --help)\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (p.positionalArguments().size() != 2) {
    std::fprintf(stderr, "kiln-cli session import: expected FILE.zip and DIR (see kiln-cli session --help)\n");
    return 2;
  }
  app::SessionImportOptions options;
  options.models = p.values(QStringLiteral("models"));
  for (const QString& m : options.models) {
    if (!QFileInfo::exists(m)) {
      std::fprintf(stderr, "kiln-cli session import: --models %s does not exist\n", qPrintable(m));
      return 2;
    }
  }
  options.tokenizerDir = QString::fromStdString(bridge::clipVocabularyDir().string());
  try {
    InterruptWatcher interrupt("kiln-cli session import");
    ProgressLine progress("import");
    const auto result = SessionArchive::read(p.positionalArguments().at(0), p.positionalArguments().at(1), options,
                                             std::ref(progress), interrupt.token());
    if (result.cancelled) {
      std::fprintf(stderr, "kiln-cli session import: cancelled; nothing was imported\n");
      return kCancelledExit;
    }
    for (const QString& note : result.notes)
      std::fprintf(stderr, "kiln-cli session import: note: %s\n", qPrintable(note));
    std::cout << "imported " << result.files << " files into " << result.sessionDir.toStdString() << "; base model "
              << result.baseModel.toStdString();
    if (result.checkpointStep >= 0) {
      std::cout << "; resume at step " << result.checkpointStep << " with: kiln-cli train --session "
                << result.sessionDir.toStdString() << " --resume";
    } else {
      std::cout << "; no checkpoint: train it with kiln-cli train --session " << result.sessionDir.toStdString()
                << " --resume";
    }
    std::cout << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return report_error("import", e);
  }
}

}  // namespace

int run_session(const QStringList& args) {
  // args: kiln-cli <subcommand> [options]
  const QString sub = args.size() > 1 ? args.at(1) : QString();
  if (sub == QLatin1String("-h") || sub == QLatin1String("--help") || sub == QLatin1String("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  QStringList rest = args;
  if (rest.size() > 1) rest.removeAt(1);
  if (sub == QLatin1String("export")) return run_session_export(rest);
  if (sub == QLatin1String("import")) return run_session_import(rest);
  if (sub.isEmpty()) {
    std::fputs(kUsage, stderr);
  } else {
    std::fprintf(stderr, "kiln-cli session: unknown subcommand '%s' (export, import; see kiln-cli session --help)\n",
                 qPrintable(sub));
  }
  return 2;
}

}  // namespace kiln::cli
