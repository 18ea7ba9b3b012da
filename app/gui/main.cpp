// kiln: the desktop app.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QImageWriter>
#include <QPointer>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTimer>

#include <cstdio>
#include <functional>
#include <memory>
#include <string_view>

#include "base/engine.h"
#include "base/runtime_info.h"
#include "downloads/download_manager.h"
#include "main_window.h"
#include "pages/catalog_dialog.h"
#include "pages/control_unit_editor.h"
#include "pages/controlnet_panel.h"
#include "captioning/caption_run.h"
#include "pages/api_server_dialog.h"
#include "pages/caption_endpoint_dialog.h"
#include "pages/dataset_model.h"
#include "pages/dataset_page.h"
#include "pages/generate_page.h"
#include "pages/models_page.h"
#include "pages/gallery_model.h"
#include "pages/train_page.h"
#include "pages/train_session.h"
#include "widgets/image_canvas.h"
#include "widgets/prompt_edit.h"
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

// Downloads under way show their speed; those starting (checking a part, connecting) not yet.
bool downloadsSettled(kiln::app::MainWindow* window) {
  using kiln::downloads::FileDownload;
  for (const FileDownload* d : window->downloadManager()->downloads()) {
    if (window->downloadManager()->isQueued(d)) continue;
    const FileDownload::State s = d->state();
    if (s == FileDownload::State::Idle || s == FileDownload::State::Checking || s == FileDownload::State::Connecting)
      return false;
    if (s == FileDownload::State::Downloading && d->bytesPerSecond() <= 0) return false;
  }
  return true;
}

// Saves a picture of `window` (of the Get Models dialog when it is open) once the models are
// listed, inspected and hashed and the downloads are under way, then quits.
// With `afterGeneration`, waits for a generation to end as well.
// `ready`, when set, must hold as well; `target` (default: the window) is what is pictured.
void takeScreenshotWhenIdle(kiln::app::MainWindow* window, const QString& file, bool afterGeneration,
                            std::function<bool()> ready = {}, QPointer<QWidget> target = {}) {
  auto* library = window->library();
  auto generated = std::make_shared<bool>(!afterGeneration);
  QObject::connect(window->generatePage(), &kiln::app::GeneratePage::generatingChanged, window,
                   [generated](bool generating) {
                     if (!generating) *generated = true;
                   });
  auto* poll = new QTimer(window);
  auto* deadline = new QTimer(window);
  deadline->setSingleShot(true);
  const auto shoot = [window, file, poll, deadline, target] {
    poll->stop();
    deadline->stop();
    QTimer::singleShot(400, window, [window, file, target] {
      QWidget* dialog = window->modelsPage()->catalogDialog();
      QWidget* shown = target                                 ? static_cast<QWidget*>(target)
                       : dialog && dialog->isVisible() ? dialog
                                                              : static_cast<QWidget*>(window);
      // Written beside and renamed, like every file Kiln writes.
      QSaveFile out(file);
      QImageWriter writer(&out, "png");
      writer.setQuality(0);  // PNG: the strongest compression (pictures for the docs stay small)
      if (!out.open(QIODevice::WriteOnly) || !writer.write(shown->grab().toImage()) || !out.commit()) {
        const QString why = writer.error() != QImageWriter::UnknownError ? writer.errorString() : out.errorString();
        std::fprintf(stderr, "kiln: %s: %s\n", qPrintable(file), qPrintable(why));
        QCoreApplication::exit(1);
        return;
      }
      QCoreApplication::quit();
    });
  };
  QObject::connect(poll, &QTimer::timeout, window, [window, library, shoot, generated, ready] {
    if (ready && !ready()) return;
    if (library->hasScanned() && !library->isBusy() && *generated && !window->datasetPage()->isBusy() &&
        !window->trainPage()->isRunning() && !window->generatePage()->controlNetPanel()->isBusy() &&
        downloadsSettled(window))
      shoot();
  });
  QObject::connect(deadline, &QTimer::timeout, window, shoot);
  poll->start(100);
  deadline->start(120'000);
}

// --control-unit SPEC...: "pose", "scribble", "MODULE" (on the --input picture) or "MODULE:FILE".
// Then --control-edit N opens unit N's pose editor or scribble, with --scribble's drawing (black
// lines on white) on the canvas. For screenshots and demos.
bool setUpControlUnits(kiln::app::GeneratePage* page, const QStringList& specs, const QString& input, int edit,
                       const QString& scribble) {
  using Source = kiln::app::ControlUnitEditor::Source;
  // The units given replace those kept from the last session.
  if (!specs.isEmpty()) page->controlNetPanel()->removeAllUnits();
  for (const QString& spec : specs) {
    kiln::app::ControlUnitEditor* unit = page->controlNetPanel()->addUnit();
    if (!unit) return false;
    if (spec == QLatin1String("pose")) {
      unit->setSource(Source::Pose);
    } else if (spec == QLatin1String("scribble")) {
      unit->setSource(Source::Scribble);
    } else {
      const qsizetype colon = spec.indexOf(QLatin1Char(':'));
      const QString file = colon < 0 ? input : spec.mid(colon + 1);
      if (!file.isEmpty() && !unit->openImageFile(file)) return false;
      unit->setPreprocessor(colon < 0 ? spec : spec.left(colon));
    }
  }
  page->showControlNet();
  const auto units = page->controlNetPanel()->units();
  if (edit < 1 || edit > units.size()) return edit == 0;
  kiln::app::ControlUnitEditor* unit = units[edit - 1];
  if (unit->source() == Source::Pose) {
    page->beginPoseEdit(unit);
  } else if (unit->source() == Source::Scribble) {
    page->beginScribble(unit);
    if (!scribble.isEmpty()) page->inputCanvas()->setScribble(QImage(scribble));
  }
  return true;
}

}  // namespace

// --help and --version print and exit: they must work without a display (over ssh, in scripts,
// on a server), so they run on Qt's offscreen platform unless one was chosen.
bool only_prints(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "-v" || a == "--version") return true;
  }
  return false;
}

int main(int argc, char** argv) {
  if (only_prints(argc, argv) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
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
  // Not Qt's version option: Kiln's version alone does not say what it can run on.
  const QCommandLineOption version({QStringLiteral("v"), QStringLiteral("version")},
                                   Main::tr("Print the versions of Kiln and LibTorch (CUDA, cuDNN) and the "
                                            "devices it sees, then exit."));
  parser.addOption(version);
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
  const QCommandLineOption page(QStringLiteral("page"), Main::tr("Page to show: models, dataset, train or generate."),
                                Main::tr("page"));
  const QCommandLineOption prompt(QStringLiteral("prompt"), Main::tr("Prompt to put on the Generate page."),
                                  Main::tr("text"));
  const QCommandLineOption generate(QStringLiteral("generate"),
                                    Main::tr("Generate once the models are listed (with --screenshot: the picture "
                                             "is taken when the images are done)."));
  const QCommandLineOption input(QStringLiteral("input"),
                                 Main::tr("Image to start from on the Generate page (image to image)."),
                                 Main::tr("FILE"));
  const QCommandLineOption mask(QStringLiteral("mask"),
                                Main::tr("Mask for the --input image (white = repaint): opens Inpaint."),
                                Main::tr("FILE"));
  const QCommandLineOption dataset(QStringLiteral("dataset"), Main::tr("Dataset folder to open on the Dataset page."),
                                   Main::tr("FOLDER"));
  // Not "--session": QGuiApplication takes that one (X11 session management).
  const QCommandLineOption session(QStringLiteral("training-session"),
                                   Main::tr("Training session folder to open on the Train page."), Main::tr("FOLDER"));
  const QCommandLineOption train(QStringLiteral("train"),
                                 Main::tr("Start or resume the --training-session's training (with --screenshot: the picture "
                                          "is taken when it ends)."));
  const QCommandLineOption controlUnit(QStringLiteral("control-unit"),
                                      Main::tr("Add a ControlNet unit on the Generate page: pose, scribble, a "
                                               "preprocessor (on the --input image) or PREPROCESSOR:FILE. Repeatable."),
                                      Main::tr("spec"));
  const QCommandLineOption controlEdit(QStringLiteral("control-edit"),
                                       Main::tr("Open the pose editor or the scribble of ControlNet unit N."),
                                       Main::tr("N"));
  const QCommandLineOption scribble(QStringLiteral("scribble"),
                                    Main::tr("Drawing (black lines on white) for the scribble that --control-edit opens."),
                                    Main::tr("FILE"));
  const QCommandLineOption getModels(QStringLiteral("get-models"),
                                     Main::tr("Open the Get Models dialog (with --screenshot: the picture is of the "
                                              "dialog, at --window-size)."));
  const QCommandLineOption caption(QStringLiteral("caption"),
                                   Main::tr("On the Dataset page: \"missing\" captions the images without one with "
                                            "the saved endpoint (with --screenshot: the picture is taken while the last one is asked), "
                                            "\"endpoint\" opens the caption endpoint settings and tests the endpoint."),
                                   Main::tr("what"));
  const QCommandLineOption compare(QStringLiteral("compare-checkpoints"),
                                   Main::tr("With --training-session: Compare Checkpoints, the plot made without asking "
                                            "(with --screenshot: the picture once the grid is there)."));
  const QCommandLineOption upscaleWith(QStringLiteral("upscale-with"),
                                       Main::tr("With --generate: upscale the new image with this ESRGAN-family model file "
                                                "(with --screenshot: the picture once the upscaled image is there)."),
                                       Main::tr("file"));
  const QCommandLineOption apiSettings(QStringLiteral("api-server-settings"),
                                       Main::tr("Open File > API Server… (with --screenshot: the picture of the dialog)."));
  parser.addOptions({getModels, lang, appearance, size, screenshot, page, prompt, input, mask, generate, dataset, session, train,
                     controlUnit, controlEdit, scribble, caption, compare, upscaleWith, apiSettings});
  parser.addPositionalArgument(Main::tr("folders"),
                               Main::tr("Folders to add to the model folders (a model file adds its folder)."),
                               Main::tr("[FOLDER...]"));
  parser.process(app);
  if (parser.isSet(version)) {
    std::printf("kiln %s\n%s", KILN_VERSION, kiln::describe(kiln::runtime_info()).c_str());
    return 0;
  }

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
  if (parser.isSet(page)) window.showPage(parser.value(page));
  if (parser.isSet(dataset)) window.datasetPage()->openDataset(parser.value(dataset));
  if (parser.isSet(session) && !window.trainPage()->openSession(parser.value(session))) {
    std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: %1: not a training session").arg(parser.value(session))));
    return 2;
  }
  if (parser.isSet(prompt)) window.generatePage()->promptEdit()->setPlainText(parser.value(prompt));
  if (parser.isSet(input)) window.generatePage()->openFile(parser.value(input), true);
  if (parser.isSet(mask)) {
    const QImage maskImage(parser.value(mask));
    if (maskImage.isNull()) {
      std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: %1: not an image").arg(parser.value(mask))));
      return 2;
    }
    window.generatePage()->setMode(kiln::app::GeneratePage::Mode::Inpaint);
    window.generatePage()->inputCanvas()->setMask(maskImage);
  }
  if ((parser.isSet(controlUnit) || parser.isSet(controlEdit)) &&
      !setUpControlUnits(window.generatePage(), parser.values(controlUnit), parser.value(input),
                         parser.value(controlEdit).toInt(), parser.value(scribble))) {
    std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: the ControlNet units could not be set up")));
    return 2;
  }
  window.show();
  if (parser.isSet(generate)) {
    // Once the model list is known: the page picks its model from it.
    auto* wait = new QTimer(&window);
    QObject::connect(wait, &QTimer::timeout, &window, [&window, wait] {
      if (!window.library()->hasScanned() || window.library()->isBusy()) return;
      wait->stop();
      window.generatePage()->generate();
    });
    wait->start(100);
  }
  if (parser.isSet(train)) window.trainPage()->start();
  if (parser.isSet(getModels)) {
    window.showPage(QStringLiteral("models"));
    window.modelsPage()->showCatalog();
    if (windowSize.isValid() && window.modelsPage()->catalogDialog())
      window.modelsPage()->catalogDialog()->resize(windowSize);
  }
  std::function<bool()> ready;
  QPointer<QWidget> target;
  if (parser.isSet(apiSettings)) {
    auto* dialog = new kiln::app::ApiServerDialog(settings.apiServer(), &window);
    QObject::connect(dialog, &QDialog::accepted, &window, [&window, &settings, dialog] {
      settings.setApiServer(dialog->settings());
      window.applyApiServer();
    });
    dialog->show();
    target = dialog;
  }
  if (parser.isSet(upscaleWith)) {
    auto* generatePage = window.generatePage();
    auto upscaled = std::make_shared<bool>(false);
    QObject::connect(generatePage, &kiln::app::GeneratePage::generatingChanged, &window,
                     [generatePage, upscaled, file = parser.value(upscaleWith)](bool generating) {
                       if (generating || *upscaled || generatePage->gallery()->rowCount() == 0) return;
                       *upscaled = true;
                       generatePage->upscaleRow(0, file, 0);
                     });
    ready = [generatePage, upscaled] { return *upscaled && !generatePage->isUpscaling(); };
  }
  if (parser.isSet(compare)) {
    const auto comparison = kiln::app::TrainSession::comparison(window.trainPage()->sessionFolder());
    if (!comparison) {
      std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: --compare-checkpoints needs a --training-session that keeps checkpoints")));
      return 2;
    }
    auto* generatePage = window.generatePage();
    auto queued = std::make_shared<int>(-1);  // gallery rows before the plot
    auto* wait = new QTimer(&window);
    QObject::connect(wait, &QTimer::timeout, &window, [&window, generatePage, wait, comparison = *comparison, queued] {
      if (!window.library()->hasScanned() || window.library()->isBusy()) return;
      wait->stop();
      window.showPage(QStringLiteral("generate"));
      QString problem = generatePage->prepareComparison(comparison);
      *queued = generatePage->gallery()->rowCount();
      if (problem.isEmpty())
        problem = generatePage->queuePlot({kiln::bridge::parseGridAxis(comparison.axisText(), nullptr), std::nullopt, std::nullopt});
      if (!problem.isEmpty()) std::fprintf(stderr, "kiln: %s\n", qPrintable(problem));
    });
    wait->start(100);
    ready = [generatePage, queued, n = comparison->files.size()] {
      return *queued >= 0 && generatePage->gallery()->rowCount() >= *queued + n + 1 && !generatePage->isGenerating();
    };
  }
  if (parser.value(caption) == QLatin1String("missing")) {
    // Once the dataset is read; the picture while the last caption is asked for.
    auto* dataset = window.datasetPage();
    auto started = std::make_shared<bool>(false);
    auto* wait = new QTimer(&window);
    QObject::connect(wait, &QTimer::timeout, &window, [dataset, wait, started] {
      if (dataset->isBusy() || dataset->model()->rowCount() == 0) return;
      wait->stop();
      *started = dataset->startCaptioning(kiln::app::DatasetPage::CaptionScope::Missing, kiln::captioning::CaptionMode::Fill);
    });
    wait->start(100);
    ready = [dataset, started] {
      const auto* run = dataset->captionRun();
      return *started && run && run->doneCount() + run->failedCount() + 1 >= run->items().size() - run->skippedCount();
    };
  } else if (parser.value(caption) == QLatin1String("endpoint")) {
    auto* dialog = new kiln::app::CaptionEndpointDialog(window.datasetPage()->captionSettings(), window.datasetPage()->network(), &window);
    dialog->show();
    dialog->testEndpoint();
    target = dialog;
    ready = [dialog] { return !dialog->isTesting(); };
  } else if (parser.isSet(caption)) {
    std::fprintf(stderr, "%s\n", qPrintable(Main::tr("kiln: --caption is missing or endpoint")));
    return 2;
  }
  if (parser.isSet(screenshot))
    takeScreenshotWhenIdle(&window, parser.value(screenshot), parser.isSet(generate), ready, target);
  return QApplication::exec();
}
