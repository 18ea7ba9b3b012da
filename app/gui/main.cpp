// kiln: the desktop app.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QImageWriter>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTimer>

#include <cstdio>

#include "base/engine.h"
#include "main_window.h"
#include "pages/models_page.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/theme.h"

namespace {

// The language has to be known before the help text is built, so `--lang` is looked for
// before the parser runs.
QString languageArgument(const QStringList& args) {
  for (int i = 1; i < args.size(); ++i) {
    if (args[i].startsWith(QLatin1String("--lang="))) return args[i].mid(7);
    if (args[i] == QLatin1String("--lang") && i + 1 < args.size()) return args[i + 1];
  }
  return {};
}

// Translation context of the command line's texts.
class Main {
  Q_DECLARE_TR_FUNCTIONS(Main)
};

// Saves a picture of `window` once the models are listed, inspected and hashed, then quits.
void takeScreenshotWhenIdle(kiln::app::MainWindow* window, const QString& file) {
  auto* library = window->library();
  auto* poll = new QTimer(window);
  auto* deadline = new QTimer(window);
  deadline->setSingleShot(true);
  const auto shoot = [window, file, poll, deadline] {
    poll->stop();
    deadline->stop();
    QTimer::singleShot(400, window, [window, file] {
      // Written beside and renamed, like every file Kiln writes.
      QSaveFile out(file);
      QImageWriter writer(&out, "png");
      writer.setQuality(0);  // PNG: the strongest compression (pictures for the docs stay small)
      if (!out.open(QIODevice::WriteOnly) || !writer.write(window->grab().toImage()) || !out.commit()) {
        const QString why = writer.error() != QImageWriter::UnknownError ? writer.errorString() : out.errorString();
        std::fprintf(stderr, "kiln: %s: %s\n", qPrintable(file), qPrintable(why));
        QCoreApplication::exit(1);
        return;
      }
      QCoreApplication::quit();
    });
  };
  QObject::connect(poll, &QTimer::timeout, window, [library, shoot] {
    if (library->hasScanned() && !library->isBusy()) shoot();
  });
  QObject::connect(deadline, &QTimer::timeout, window, shoot);
  poll->start(100);
  deadline->start(120'000);
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("Kiln"));
  QCoreApplication::setApplicationName(QStringLiteral("kiln"));
  QCoreApplication::setApplicationVersion(QStringLiteral(KILN_VERSION));
  QGuiApplication::setApplicationDisplayName(QStringLiteral("Kiln"));
  QGuiApplication::setDesktopFileName(QStringLiteral("kiln"));
  QGuiApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/kiln.svg")));

  kiln::app::AppSettings settings;
  kiln::app::Language::install(kiln::app::Language::choose(languageArgument(app.arguments()), settings.language()));

  QCommandLineParser parser;
  parser.setApplicationDescription(Main::tr("Kiln: a desktop studio for personal Stable Diffusion models."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption lang(QStringLiteral("lang"),
                                Main::tr("Language of the interface, e.g. de or en (default: the system's; "
                                         "also $KILN_LANG)."),
                                Main::tr("code"));
  const QCommandLineOption appearance(QStringLiteral("appearance"),
                                      Main::tr("Light or dark look for this run: system, light or dark."),
                                      Main::tr("look"));
  const QCommandLineOption size(QStringLiteral("window-size"), Main::tr("Size of the window, e.g. 1280x800."),
                                Main::tr("WxH"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      Main::tr("Save a picture of the window to FILE (PNG) once the models are "
                                               "loaded, then quit."),
                                      Main::tr("FILE"));
  parser.addOptions({lang, appearance, size, screenshot});
  parser.addPositionalArgument(Main::tr("folders"),
                               Main::tr("Folders to add to the model folders (a model file adds its folder)."),
                               Main::tr("[FOLDER...]"));
  parser.process(app);

  QSize windowSize;
  if (parser.isSet(size)) {
    const auto match = QRegularExpression(QStringLiteral("^(\\d+)x(\\d+)$")).match(parser.value(size));
    if (!match.hasMatch()) {
      std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: --window-size wants WIDTHxHEIGHT, e.g. 1280x800")));
      return 2;
    }
    windowSize = QSize(match.captured(1).toInt(), match.captured(2).toInt());
  }

  kiln::init_engine();
  const QString look = parser.isSet(appearance) ? parser.value(appearance) : settings.appearance();
  kiln::widgets::Theme::apply(kiln::widgets::Theme::schemeFromString(look));

  kiln::app::MainWindow window(&settings);
  for (const QString& arg : parser.positionalArguments()) {
    const QFileInfo info(arg);
    if (!info.exists()) {
      std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: %1: no such file or folder").arg(arg)));
      continue;
    }
    window.library()->addFolder(info.isDir() ? info.absoluteFilePath() : info.absolutePath());
  }
  if (windowSize.isValid()) window.resize(windowSize);
  window.show();
  if (parser.isSet(screenshot)) takeScreenshotWhenIdle(&window, parser.value(screenshot));
  return QApplication::exec();
}
