// kiln-cli serve: AUTOMATIC1111's web API (/sdapi/v1/...) on Kiln's engine, for the programs
// that drive A1111 (webuiapi, SillyTavern, Open WebUI, Krita / Photoshop plug-ins, scripts).
// Loopback by default; see app/api/api_server.h for the rules it keeps and docs/api.md.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QHostAddress>
#include <QTimer>

#include <cstdio>

#include "api/api_server.h"
#include "cli/commands.h"
#include "cli/interrupt.h"

namespace kiln::cli {

int run_serve(const QStringList& args) {
  QCommandLineParser p;
  p.setApplicationDescription(QStringLiteral(
      "Serves AUTOMATIC1111's web API (/sdapi/v1/txt2img, img2img, progress, interrupt, options, sd-models, "
      "png-info, ...) so A1111 clients can use Kiln unchanged. Generation runs one request at a time, the "
      "others wait in a queue. Listens on 127.0.0.1 unless --host says otherwise. Ctrl-C stops the running "
      "job and quits. See docs/api.md."));
  p.addHelpOption();
  p.addPositionalArgument(QStringLiteral("DIR..."), QStringLiteral("More model folders (after --models)."),
                          QStringLiteral("[DIR...]"));
  auto opt = [&](const char* name, const char* help, const char* value) {
    p.addOption(QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help), QString::fromLatin1(value)));
  };
  opt("host", "The address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface: set --api-auth).",
      "ADDRESS");
  opt("port", "The port (default 7860; 0 picks a free one).", "PORT");
  opt("models",
      "Folders searched for checkpoints, LoRAs and ControlNets (four levels deep); the first checkpoint found "
      "is the current model until a client sets sd_model_checkpoint.",
      "DIR");
  opt("embeddings",
      "A folder of textual inversion embeddings (.pt, .bin, .safetensors, with its subfolders): a prompt word "
      "equal to a file's name uses it. Repeatable.",
      "DIR");
  opt("api-auth", "HTTP Basic credentials every request must carry, USER:PASS[,USER:PASS...].", "CREDENTIALS");
  opt("cors-allow-origins",
      "Web origins allowed to call the API from a browser, comma-separated (e.g. http://localhost:3000).", "LIST");
  opt("allowed-hosts",
      "More host names requests may be addressed to, comma-separated (a tunnel's or reverse proxy's public "
      "name); by default only the --host address, localhost, 127.0.0.1 and [::1] (DNS rebinding protection).",
      "LIST");
  opt("max-body-mb", "The largest request body accepted, in MiB (default 64).", "MB");
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli serve: %s\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(p.helpText()), stdout);
    return 0;
  }
  auto usage = [](const QString& message) {
    std::fprintf(stderr, "kiln-cli serve: %s (see kiln-cli serve --help)\n", qPrintable(message));
    return 2;
  };

  api::ApiOptions options;
  QString error;
  if (p.isSet(QStringLiteral("host")) && !api::setApiHost(options, p.value(QStringLiteral("host")), &error))
    return usage(QStringLiteral("--host: ") + error);
  if (p.isSet(QStringLiteral("port"))) {
    bool ok = false;
    const uint port = p.value(QStringLiteral("port")).toUInt(&ok);
    if (!ok || port > 65535) return usage(QStringLiteral("--port: expected 0..65535"));
    options.port = static_cast<quint16>(port);
  }
  QStringList folders = p.values(QStringLiteral("models"));
  if (!p.positionalArguments().isEmpty()) {
    if (folders.isEmpty())
      return usage(QStringLiteral("unexpected argument '%1'").arg(p.positionalArguments().first()));
    folders += p.positionalArguments();
  }
  for (const QString& f : folders) {
    if (!QFileInfo(f).isDir()) return usage(QStringLiteral("--models: '%1' is not a folder").arg(f));
    options.modelFolders << QFileInfo(f).absoluteFilePath();
  }
  for (const QString& f : p.values(QStringLiteral("embeddings"))) {
    if (!QFileInfo(f).isDir()) return usage(QStringLiteral("--embeddings: '%1' is not a folder").arg(f));
    options.embeddingFolders << QFileInfo(f).absoluteFilePath();
  }
  if (p.isSet(QStringLiteral("api-auth"))) {
    if (!api::setApiCredentials(options, p.value(QStringLiteral("api-auth")), &error) || options.credentials.isEmpty())
      return usage(QStringLiteral("--api-auth: expected USER:PASS[,USER:PASS...]"));
  }
  if (p.isSet(QStringLiteral("cors-allow-origins"))) api::setApiCorsOrigins(options, p.value(QStringLiteral("cors-allow-origins")));
  if (p.isSet(QStringLiteral("allowed-hosts")))
    for (const QString& h : p.value(QStringLiteral("allowed-hosts")).split(QLatin1Char(','), Qt::SkipEmptyParts))
      options.extraHosts << h.trimmed().toLower();
  if (p.isSet(QStringLiteral("max-body-mb"))) {
    bool ok = false;
    const int mb = p.value(QStringLiteral("max-body-mb")).toInt(&ok);
    if (!ok || mb < 1 || mb > 1024) return usage(QStringLiteral("--max-body-mb: expected 1..1024"));
    options.maxBodyBytes = static_cast<qint64>(mb) * 1024 * 1024;
  }

  if (!options.address.isLoopback() && options.credentials.isEmpty())
    std::fprintf(stderr,
                 "kiln-cli serve: warning: listening on %s without --api-auth: anyone who can reach this address can "
                 "generate and read the model list\n",
                 qPrintable(options.host));

  api::ApiServer server(options);
  if (!server.start(&error)) {
    std::fprintf(stderr, "kiln-cli serve: cannot listen on %s:%u: %s\n", qPrintable(options.host),
                 unsigned(options.port), qPrintable(error));
    return 1;
  }
  QString shown = options.host;
  if (options.address.protocol() == QAbstractSocket::IPv6Protocol && !shown.startsWith(QLatin1Char('[')))
    shown = QLatin1Char('[') + shown + QLatin1Char(']');
  // One line a script can wait for (the port matters with --port 0).
  std::printf("kiln-cli serve: listening on http://%s:%u/sdapi/v1 (Ctrl-C stops)\n", qPrintable(shown),
              unsigned(server.port()));
  std::fflush(stdout);

  InterruptWatcher interrupt("kiln-cli serve");
  QTimer poll;
  QObject::connect(&poll, &QTimer::timeout, [&] {
    if (!interrupt.stopRequested()) return;
    poll.stop();
    server.stopAll();
    QCoreApplication::exit(0);  // Ctrl-C is how a server is stopped: not a failure
  });
  poll.start(100);
  const int code = QCoreApplication::exec();
  std::fprintf(stderr, "kiln-cli serve: stopped\n");
  return code;
}

}  // namespace kiln::cli
