// kiln-cli models: the built-in catalog and verified, resumable downloads (app/downloads).
//   models catalog [--json] [--family F] [--kind K]
//   models download ID|URL|hf:OWNER/REPO/FILE[@REV]|civitai:VERSION --to DIR [--name FILE] [--sha256 HEX]
// Progress goes to stderr; Ctrl-C leaves NAME.part (+ .part.json) and exits 130, and the same
// command run again re-hashes the part and fetches the rest.
#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QRegularExpression>
#include <QTimer>

#include <cstdio>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "downloads/catalog.h"
#include "downloads/file_download.h"

namespace kiln::cli {

namespace {

using downloads::Catalog;
using downloads::CatalogEntry;
using downloads::FileDownload;
using downloads::formatBytes;

void print_models_usage(std::FILE* out) {
  std::fputs(
      "Usage: kiln-cli models <sub-command> [options]\n"
      "\n"
      "Getting models.\n"
      "\n"
      "Sub-commands:\n"
      "  catalog [--json] [--family F] [--kind K]\n"
      "                         The built-in catalog: id, family, kind, size, licence, and where each\n"
      "                         entry's size and sha256 come from (--json)\n"
      "  download SOURCE --to DIR [--name FILE] [--sha256 HEX] [--retries N] [--stall-timeout S]\n"
      "                         Downloads a catalog id, hf:OWNER/REPO/FILE[@REV], civitai:VERSION, or a\n"
      "                         Hugging Face / Civitai / https link into DIR, verified by sha256\n"
      "                         (see download --help)\n",
      out);
}

QJsonObject entryJson(const CatalogEntry& e) {
  QJsonObject o;
  o.insert(QStringLiteral("id"), e.id);
  o.insert(QStringLiteral("name"), e.name);
  o.insert(QStringLiteral("family"), e.family);
  o.insert(QStringLiteral("kind"), e.kind);
  o.insert(QStringLiteral("preprocessors"), QJsonArray::fromStringList(e.preprocessors));
  o.insert(QStringLiteral("source"), e.source.toString());
  o.insert(QStringLiteral("file"), e.fileName());
  o.insert(QStringLiteral("size"), e.size > 0 ? QJsonValue(double(e.size)) : QJsonValue());
  o.insert(QStringLiteral("sha256"), e.sha256.isEmpty() ? QJsonValue() : QJsonValue(e.sha256));
  o.insert(QStringLiteral("license"), e.licence.name);
  o.insert(QStringLiteral("license_url"), e.licence.url);
  o.insert(QStringLiteral("description"), e.description);
  o.insert(QStringLiteral("provenance"), e.provenance);
  return o;
}

int run_catalog(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("The models Kiln can download."));
  parser.addHelpOption();
  parser.addOption({QStringLiteral("json"), QStringLiteral("Print JSON.")});
  parser.addOption({QStringLiteral("family"), QStringLiteral("Only this family (sd1, sd2, sd2-v, sdxl, sdxl-refiner)."),
                    QStringLiteral("F")});
  parser.addOption({QStringLiteral("kind"), QStringLiteral("Only this kind (checkpoint, vae, controlnet, annotator)."),
                    QStringLiteral("K")});
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli models catalog: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  if (!parser.positionalArguments().isEmpty()) {
    std::fprintf(stderr, "kiln-cli models catalog: unexpected '%s'\n", qPrintable(parser.positionalArguments().first()));
    return 2;
  }
  const Catalog& catalog = Catalog::builtIn();
  const QString family = parser.value(QStringLiteral("family"));
  const QString kind = parser.value(QStringLiteral("kind"));
  QList<const CatalogEntry*> chosen;
  for (const CatalogEntry& e : catalog.entries())
    if ((family.isEmpty() || e.family == family) && (kind.isEmpty() || e.kind == kind)) chosen << &e;
  if (parser.isSet(QStringLiteral("json"))) {
    QJsonArray entries;
    for (const CatalogEntry* e : chosen) entries.push_back(entryJson(*e));
    QJsonObject root;
    root.insert(QStringLiteral("version"), catalog.version());
    root.insert(QStringLiteral("entries"), entries);
    std::fputs(QJsonDocument(root).toJson().constData(), stdout);
    return 0;
  }
  std::printf("Kiln model catalog %s (%lld entries; `kiln-cli models download ID --to DIR`)\n\n",
              qPrintable(catalog.version()), static_cast<long long>(chosen.size()));
  std::printf("%-26s %-13s %-11s %9s  %s\n", "ID", "FAMILY", "KIND", "SIZE", "NAME / LICENCE");
  for (const CatalogEntry* e : chosen)
    std::printf("%-26s %-13s %-11s %9s  %s (%s)%s\n", qPrintable(e->id), qPrintable(e->family), qPrintable(e->kind),
                qPrintable(formatBytes(e->size)), qPrintable(e->name), qPrintable(e->licence.name),
                e->sha256.isEmpty() ? " [sha256 from the server]" : "");
  return 0;
}

QString rateText(const FileDownload& d) {
  QString s = formatBytes(d.received());
  if (d.total() > 0) s += QStringLiteral(" / %1 (%2%)").arg(formatBytes(d.total())).arg(d.received() * 100 / d.total());
  if (d.bytesPerSecond() > 0) s += QStringLiteral(", %1/s").arg(formatBytes(qint64(d.bytesPerSecond())));
  const qint64 left = d.secondsLeft();
  if (left >= 0) s += QStringLiteral(", %1:%2 left").arg(left / 60).arg(left % 60, 2, 10, QLatin1Char('0'));
  return s;
}

int run_download(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Downloads a model file into a folder: verified by sha256 (the catalog's, Hugging Face's LFS record, "
      "Civitai's, or --sha256), written to NAME.part and renamed when verified. Ctrl-C keeps the part; the same "
      "command again resumes it. HF_TOKEN / CIVITAI_TOKEN from the environment open gated files; HF_ENDPOINT "
      "picks a Hugging Face mirror. Exit codes: 0 done, 1 failed, 2 usage, 130 interrupted."));
  parser.addHelpOption();
  parser.addPositionalArgument(QStringLiteral("source"),
                               QStringLiteral("A catalog id, hf:OWNER/REPO/FILE[@REV], civitai:VERSION or a link."));
  parser.addOption({QStringLiteral("to"), QStringLiteral("The folder the file goes into (created if missing)."),
                    QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("name"), QStringLiteral("The file's name (default: the source's)."),
                    QStringLiteral("FILE")});
  parser.addOption({QStringLiteral("sha256"), QStringLiteral("The sha256 the file must have."), QStringLiteral("HEX")});
  parser.addOption({QStringLiteral("retries"),
                    QStringLiteral("Tries in a row without progress before giving up (default 8)."), QStringLiteral("N"),
                    QStringLiteral("8")});
  parser.addOption({QStringLiteral("stall-timeout"),
                    QStringLiteral("Seconds without a byte before the connection is retried (default 30)."),
                    QStringLiteral("S"), QStringLiteral("30")});
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli models download: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  const QStringList positional = parser.positionalArguments();
  if (positional.size() != 1 || !parser.isSet(QStringLiteral("to"))) {
    std::fprintf(stderr, "kiln-cli models download: give one SOURCE and --to DIR (see --help)\n");
    return 2;
  }
  downloads::DownloadRequest request;
  request.directory = QDir(parser.value(QStringLiteral("to"))).absolutePath();
  request.fileName = parser.value(QStringLiteral("name"));
  const QString text = positional.first();
  if (const CatalogEntry* e = Catalog::builtIn().find(text)) {
    request.source = e->source;
    if (request.fileName.isEmpty()) request.fileName = e->fileName();
    request.expectedSha256 = e->sha256;
    request.expectedSize = e->size;
    request.label = e->name;
  } else {
    QString error;
    const std::optional<downloads::SourceSpec> source = downloads::parseSource(text, &error);
    if (!source) {
      std::fprintf(stderr, "kiln-cli models download: %s (catalog ids: kiln-cli models catalog)\n", qPrintable(error));
      return 2;
    }
    request.source = *source;
  }
  if (parser.isSet(QStringLiteral("sha256"))) {
    const QString sha = parser.value(QStringLiteral("sha256")).toLower();
    if (!QRegularExpression(QStringLiteral("^[0-9a-f]{64}$")).match(sha).hasMatch()) {
      std::fprintf(stderr, "kiln-cli models download: --sha256 takes 64 hex digits\n");
      return 2;
    }
    if (!request.expectedSha256.isEmpty() && request.expectedSha256 != sha) {
      std::fprintf(stderr, "kiln-cli models download: --sha256 differs from the catalog's %s\n",
                   qPrintable(request.expectedSha256));
      return 2;
    }
    if (request.expectedSha256.isEmpty()) request.shaOrigin = QStringLiteral("--sha256");
    request.expectedSha256 = sha;
  }
  if (request.fileName.isEmpty() && request.source.type == downloads::SourceSpec::Type::Url &&
      request.source.defaultFileName().isEmpty()) {
    std::fprintf(stderr, "kiln-cli models download: the link has no file name; give one with --name\n");
    return 2;
  }
  bool ok = false;
  downloads::DownloadOptions options;
  options.maxAttempts = parser.value(QStringLiteral("retries")).toInt(&ok);
  if (!ok || options.maxAttempts < 1) {
    std::fprintf(stderr, "kiln-cli models download: --retries takes a number >= 1\n");
    return 2;
  }
  const double stall = parser.value(QStringLiteral("stall-timeout")).toDouble(&ok);
  if (!ok || stall <= 0) {
    std::fprintf(stderr, "kiln-cli models download: --stall-timeout takes seconds > 0\n");
    return 2;
  }
  options.stallTimeoutMs = int(stall * 1000);

  QNetworkAccessManager network;
  FileDownload download(request, &network, options);
  QEventLoop loop;
  const bool tty = isatty(fileno(stderr)) != 0;
  QElapsedTimer lastLine;
  lastLine.start();
  QObject::connect(&download, &FileDownload::note, [](const QString& line) {
    std::fprintf(stderr, "\n%s\n", qPrintable(line));
  });
  QObject::connect(&download, &FileDownload::progress, [&] {
    if (tty) {
      if (lastLine.elapsed() < 200) return;
      std::fprintf(stderr, "\r%s: %s\033[K", qPrintable(download.label()), qPrintable(rateText(download)));
    } else {
      if (lastLine.elapsed() < 5000) return;
      std::fprintf(stderr, "%s: %s\n", qPrintable(download.label()), qPrintable(rateText(download)));
    }
    std::fflush(stderr);
    lastLine.restart();
  });
  QObject::connect(&download, &FileDownload::finished, &loop, &QEventLoop::quit);

  InterruptWatcher interrupt("kiln-cli models download");
  bool interrupted = false;
  QTimer poll;
  QObject::connect(&poll, &QTimer::timeout, [&] {
    if (!interrupt.stopRequested()) return;
    interrupted = true;
    download.pause();
    loop.quit();
  });
  poll.start(100);
  download.start();
  if (!download.isActive() && download.state() != FileDownload::State::Finished &&
      download.state() != FileDownload::State::Failed)
    return 1;
  if (download.isActive()) loop.exec();
  poll.stop();
  if (tty) std::fputs("\n", stderr);
  if (interrupted) {
    std::fprintf(stderr, "kiln-cli models download: interrupted; %s of %s kept in %s: run the same command to resume\n",
                 qPrintable(formatBytes(download.received())), qPrintable(download.label()),
                 qPrintable(QDir::toNativeSeparators(download.partPath())));
    return kCancelledExit;
  }
  if (download.state() != FileDownload::State::Finished) {
    std::fprintf(stderr, "kiln-cli models download: %s\n", qPrintable(download.error()));
    return 1;
  }
  if (download.wasAlreadyThere())
    std::printf("%s\nsha256 %s (already there, verified against %s)\n",
                qPrintable(QDir::toNativeSeparators(download.targetPath())), qPrintable(download.expectedSha256()),
                qPrintable(download.shaOrigin()));
  else if (download.verified())
    std::printf("%s\nsha256 %s (verified against %s)\n", qPrintable(QDir::toNativeSeparators(download.targetPath())),
                qPrintable(download.expectedSha256()), qPrintable(download.shaOrigin()));
  else
    std::printf("%s\nsha256 %s (not verified: no published sha256 for this source; pass --sha256 to check one)\n",
                qPrintable(QDir::toNativeSeparators(download.targetPath())), qPrintable(download.expectedSha256()));
  return 0;
}

}  // namespace

int run_models(const QStringList& args) {
  if (args.size() < 2 || args.at(1) == QLatin1String("--help") || args.at(1) == QLatin1String("-h")) {
    print_models_usage(args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  QStringList rest = args;
  const QString sub = rest.takeAt(1);
  if (sub == QLatin1String("catalog")) return run_catalog(rest);
  if (sub == QLatin1String("download")) return run_download(rest);
  std::fprintf(stderr, "kiln-cli models: unknown sub-command '%s' (catalog, download)\n", qPrintable(sub));
  return 2;
}

}  // namespace kiln::cli
