// The Train page driven as a user would, with the tiny SD 1.x pipeline and a few face photos:
// the form is checked before Start (the exact prompt per image, missing captions, an impossible
// resolution); a two-stage run fills the charts with one point per step and marks the stage
// boundary, writes the log and a checkpoint; Stop-and-save mid-run leaves a checkpoint and the
// page responsive, Resume finishes and Extend adds UNet steps; Export writes a model that joins
// the library.
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "pages/gallery_model.h"
#include "pages/generate_page.h"
#include "pages/train_charts.h"
#include "pages/xyz_plot_dialog.h"
#include "pages/train_form_view.h"
#include "pages/train_page.h"
#include "pages/train_session.h"
#include "page_studio.h"
#include "services/model_library.h"
#include "services/session_archive.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/message_banner.h"

#include <QAbstractButton>
#include <QApplication>
#include <QMessageBox>
#include <QTimer>
#include <QToolButton>

#include "main_window.h"

using kiln::app::AppSettings;
using kiln::app::ModelLibrary;
using kiln::app::TrainForm;
using kiln::app::TrainPage;

namespace {

constexpr int kTimeout = 240'000;

const QString kTinyModel = QStringLiteral(KILN_TEST_DATA "/golden/pipeline/tiny_sd1");
const QString kFaces = QStringLiteral(KILN_TEST_DATA "/faces");

using Studio = kiln::test::PageStudio<TrainPage>;

}  // namespace

class TestTrainPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void checksTheFormBeforeStart();
  void trainsBothStagesIntoTheCharts();
  void stopsMidRunThenResumesAndExtends();
  void exportsIntoTheLibrary();
  void mainWindowJobAreaStopsTheRun();
  void comparesKeptLoRACheckpointsInOneGrid();
  void exportsAndImportsTheSession();
  void fileMenuOffersSessionArchives();
  void theFormIsNotCutOff();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString images() const { return mDir->filePath(QStringLiteral("images")); }
  QString session() const { return mDir->filePath(QStringLiteral("session")); }
  TrainForm quickForm(qint64 textSteps, qint64 unetSteps) const;
  void runAndWait(TrainPage& page);

  std::unique_ptr<QTemporaryDir> mDir;
};

void TestTrainPage::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
}

void TestTrainPage::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  QVERIFY(QDir().mkpath(images()));
  // Four photos are enough for a run; one gets a caption file.
  for (const QString& name : {QStringLiteral("hopper_portrait.jpg"), QStringLiteral("portrait_beach.jpg"),
                              QStringLiteral("face_fills_frame.jpg"), QStringLiteral("profile_camera.png")}) {
    QVERIFY(QFile::copy(kFaces + QLatin1Char('/') + name, images() + QLatin1Char('/') + name));
  }
  QFile caption(images() + QStringLiteral("/hopper_portrait.txt"));
  QVERIFY(caption.open(QIODevice::WriteOnly));
  caption.write("photo of sks person, black and white");
}

TrainForm TestTrainPage::quickForm(qint64 textSteps, qint64 unetSteps) const {
  TrainForm f;
  f.baseModel = kTinyModel;
  f.images = images();
  f.token = QStringLiteral("sks");
  f.textEncoderSteps = textSteps;
  f.textEncoderLearningRate = 1e-4;
  f.unetSteps = unetSteps;
  f.unetLearningRate = 1e-4;
  f.resolution = 64;
  f.saveEvery = 0;
  f.sampleEvery = 0;
  f.seed = 7;
  return f;
}

void TestTrainPage::runAndWait(TrainPage& page) {
  page.start();
  QVERIFY(page.isRunning());
  QTRY_VERIFY_WITH_TIMEOUT(!page.isRunning(), kTimeout);
}

void TestTrainPage::checksTheFormBeforeStart() {
  Studio s(settingsFile());
  TrainForm f = quickForm(2, 4);
  s.page->formView()->setForm(f);
  s.page->waitForCheck();
  // The exact prompt of every image; three have no caption file.
  QCOMPARE(s.page->promptList()->topLevelItemCount(), 4);
  QStringList prompts;
  for (int i = 0; i < 4; ++i) prompts << s.page->promptList()->topLevelItem(i)->text(1);
  QVERIFY2(prompts.contains(QStringLiteral("photo of sks person, black and white")), qPrintable(prompts.join('|')));
  for (const QString& p : prompts) QVERIFY2(p.contains(QStringLiteral("sks")), qPrintable(p));
  QVERIFY2(s.page->checkLabel()->text().contains(QStringLiteral("3 images have no caption file")),
           qPrintable(s.page->checkLabel()->text()));
  // An impossible resolution is named before Start.
  f.resolution = 96;
  s.page->formView()->setForm(f);
  s.page->waitForCheck();
  QVERIFY2(s.page->checkLabel()->text().contains(QStringLiteral("resolution must be a multiple of 64")),
           qPrintable(s.page->checkLabel()->text()));
  // On CUDA, a rough memory need.
  f.resolution = 64;
  f.device = QStringLiteral("cuda");
  s.page->formView()->setForm(f);
  s.page->waitForCheck();
  QVERIFY2(s.page->checkLabel()->text().contains(QStringLiteral("CUDA memory")),
           qPrintable(s.page->checkLabel()->text()));
  // The optimizer is part of the form; a memory saver lowers the estimate (SD 1.5 DreamBooth).
  auto* optimizer = s.page->formView()->findChild<QComboBox*>(QStringLiteral("optimizerCombo"));
  QVERIFY(optimizer);
  optimizer->setCurrentIndex(optimizer->findData(QStringLiteral("adamw8bit")));
  QCOMPARE(s.page->formView()->form().optimizer, QStringLiteral("adamw8bit"));
  const auto gigabytes = [&](const QString& choice) {
    TrainForm g = s.page->formView()->form();
    g.optimizer = choice;
    g.resolution = 512;
    const QString text = kiln::app::TrainSession::check(g, 512, QStringLiteral("sd1")).memoryEstimate;
    const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("memory need: ([0-9.]+) GB")).match(text);
    return m.hasMatch() ? m.captured(1).toDouble() : -1.0;
  };
  const double adamw = gigabytes(QStringLiteral("adamw")), eightBit = gigabytes(QStringLiteral("adamw8bit")),
               adafactor = gigabytes(QStringLiteral("adafactor"));
  QVERIFY2(adamw > 0 && eightBit > 0 && eightBit < adamw && adafactor < eightBit,
           qPrintable(QStringLiteral("%1 %2 %3").arg(adamw).arg(eightBit).arg(adafactor)));
}

void TestTrainPage::trainsBothStagesIntoTheCharts() {
  Studio s(settingsFile());
  s.page->formView()->setForm(quickForm(2, 4));
  QVERIFY(s.page->newSession(session()));
  QCOMPARE(s.page->startButton()->text(), QStringLiteral("Start"));
  runAndWait(*s.page);
  QVERIFY2(s.page->lastOutcome() == TrainPage::Outcome::Finished, qPrintable(s.page->banner()->details()));

  kiln::app::TrainCharts* charts = s.page->charts();
  QCOMPARE(charts->lossSeries(true)->count(), 2);
  QCOMPARE(charts->lossSeries(false)->count(), 4);
  QCOMPARE(charts->smoothedSeries(false)->count(), 4);
  QCOMPARE(charts->learningRateSeries()->count(), 6);
  QCOMPARE(charts->memorySeries()->count(), 6);
  QCOMPARE(charts->boundaryStep(), 3);
  QCOMPARE(charts->boundarySeries()->count(), 2);
  QVERIFY(s.page->logView()->document()->blockCount() > 1);
  QVERIFY(QFile::exists(session() + QStringLiteral("/checkpoints/latest.safetensors")));
  QVERIFY(!s.page->startButton()->isEnabled());  // finished: extend or export

  // Reopening the session shows the same charts (from metrics.jsonl), and it is remembered.
  Studio again(settingsFile());
  QCOMPARE(again.page->sessionFolder(), QDir::cleanPath(session()));
  QCOMPARE(again.page->charts()->lossSeries(true)->count(), 2);
  QCOMPARE(again.page->charts()->lossSeries(false)->count(), 4);
  QCOMPARE(again.page->charts()->boundaryStep(), 3);
}

void TestTrainPage::stopsMidRunThenResumesAndExtends() {
  Studio s(settingsFile());
  s.page->formView()->setForm(quickForm(2, 200));
  QVERIFY(s.page->newSession(session()));
  s.page->start();
  QTRY_VERIFY_WITH_TIMEOUT(s.page->charts()->lastStep() >= 4, kTimeout);
  s.page->stopAndSave();
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isRunning(), kTimeout);
  QVERIFY2(s.page->lastOutcome() == TrainPage::Outcome::Stopped, qPrintable(s.page->banner()->details()));
  const kiln::app::SessionState stopped = kiln::app::TrainSession::state(session());
  QVERIFY(stopped.hasCheckpoint);
  QVERIFY2(stopped.step >= 4 && stopped.step < 202, qPrintable(QString::number(stopped.step)));
  // Responsive: Resume is offered, the settings are the session's now.
  QVERIFY(s.page->startButton()->isEnabled());
  QCOMPARE(s.page->startButton()->text(), QStringLiteral("Resume"));
  QVERIFY(!s.page->formView()->isEnabled());
  QVERIFY(!s.page->stopButton()->isEnabled());

  runAndWait(*s.page);
  QVERIFY2(s.page->lastOutcome() == TrainPage::Outcome::Finished, qPrintable(s.page->banner()->details()));
  QCOMPARE(s.page->charts()->lastStep(), 202);
  QCOMPARE(s.page->charts()->lossSeries(false)->count(), 200);  // one point per step across the pause
  QCOMPARE(s.page->charts()->boundaryStep(), 3);

  // Extend: three more UNet steps, continued from the finished checkpoint.
  s.page->extend(3);
  QVERIFY(s.page->isRunning());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isRunning(), kTimeout);
  QVERIFY2(s.page->lastOutcome() == TrainPage::Outcome::Finished, qPrintable(s.page->banner()->details()));
  QCOMPARE(s.page->charts()->lastStep(), 205);
  QCOMPARE(kiln::app::TrainSession::state(session()).step, 205);
}

// The main window's status-bar job area shows a run and its button is Stop & Save.
void TestTrainPage::mainWindowJobAreaStopsTheRun() {
  AppSettings settings(settingsFile());
  kiln::app::MainWindow window(&settings);
  window.show();
  TrainPage* page = window.trainPage();
  page->formView()->setForm(quickForm(0, 400));
  QVERIFY(page->newSession(session()));
  page->start();
  auto* stop = window.findChild<QToolButton*>(QStringLiteral("cancelJobButton"));
  QVERIFY(stop != nullptr);
  QTRY_VERIFY_WITH_TIMEOUT(page->charts()->lastStep() >= 2, kTimeout);
  QTRY_VERIFY(stop->isVisible());
  QCOMPARE(stop->defaultAction(), page->stopAction());
  // Closing the window while training asks first; "Keep Training" keeps the window and the run.
  bool asked = false;
  QTimer::singleShot(100, &window, [&asked] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box) return;
    asked = true;
    for (QAbstractButton* b : box->buttons()) {
      if (box->buttonRole(b) == QMessageBox::RejectRole) b->click();
    }
  });
  QVERIFY(!window.close());
  QVERIFY(asked);
  QVERIFY(page->isRunning());
  stop->click();
  QTRY_VERIFY_WITH_TIMEOUT(!page->isRunning(), kTimeout);
  QVERIFY2(page->lastOutcome() == TrainPage::Outcome::Stopped, qPrintable(page->banner()->details()));
  QVERIFY(!stop->isVisible());
  QVERIFY(kiln::app::TrainSession::state(session()).hasCheckpoint);
}

void TestTrainPage::exportsIntoTheLibrary() {
  Studio s(settingsFile());
  s.page->formView()->setForm(quickForm(0, 2));
  QVERIFY(s.page->newSession(session()));
  runAndWait(*s.page);
  QVERIFY2(s.page->lastOutcome() == TrainPage::Outcome::Finished, qPrintable(s.page->banner()->details()));
  const QString models = mDir->filePath(QStringLiteral("models"));
  QVERIFY(QDir().mkpath(models));
  const QString output = models + QStringLiteral("/trained.safetensors");
  QSignalSpy done(s.page.get(), &TrainPage::exportFinished);
  s.page->exportTo(output, QStringLiteral("safetensors"), true);
  QVERIFY(done.wait(kTimeout));
  QVERIFY2(done.at(0).at(0).toBool(), qPrintable(s.page->banner()->details()));
  QVERIFY(QFile::exists(output));
  QVERIFY(s.library->folders().contains(QDir::cleanPath(models)));
  QTRY_VERIFY_WITH_TIMEOUT(s.library->entry(output).has_value(), kTimeout);
}

// A LoRA session keeps its checkpoints as LoRA files; "Compare Checkpoints…" opens the Generate
// page's plot with them as the X axis on the session's base model, and the grid arrives.
void TestTrainPage::comparesKeptLoRACheckpointsInOneGrid() {
  AppSettings settings(settingsFile());
  kiln::app::MainWindow window(&settings);
  window.show();
  TrainPage* page = window.trainPage();
  TrainForm f = quickForm(0, 3);
  f.lora = true;
  f.loraRank = 2;
  f.loraAlpha = 2;
  f.unetLearningRate = 1e-2;
  f.saveEvery = 1;
  f.keepCheckpoints = 2;
  f.samplePrompt = QStringLiteral("photo of sks person");
  page->formView()->setForm(f);
  QCOMPARE(page->formView()->form().keepCheckpoints, 2);
  QVERIFY(page->newSession(session()));
  QVERIFY(!page->compareButton()->isEnabled());
  runAndWait(*page);
  QVERIFY2(page->lastOutcome() == TrainPage::Outcome::Finished, qPrintable(page->banner()->details()));
  QVERIFY(page->compareButton()->isEnabled());
  QCOMPARE(page->findChild<QLabel*>(QStringLiteral("keptLabel"))->text(), QStringLiteral("2 checkpoints kept"));
  const auto comparison = kiln::app::TrainSession::comparison(session());
  QVERIFY(comparison.has_value());
  QCOMPARE(comparison->files.size(), 2);
  QVERIFY(comparison->files[0].endsWith(QStringLiteral("session-000002.safetensors")));
  QVERIFY(comparison->files[1].endsWith(QStringLiteral("session-000003.safetensors")));
  QVERIFY(comparison->lora);
  QVERIFY(comparison->axisText().startsWith(QStringLiteral("lora_file:")));

  // Without the base model in the library the comparison says what to do.
  kiln::app::GeneratePage* generate = window.generatePage();
  QVERIFY(generate->prepareComparison(*comparison).contains(QStringLiteral("not in the library")));
  window.library()->addFolder(QFileInfo(kTinyModel).absolutePath());
  QTRY_VERIFY_WITH_TIMEOUT(window.library()->entry(kTinyModel).has_value(), kTimeout);
  // Listed for generation once the library has read what it is.
  QTRY_VERIFY_WITH_TIMEOUT(generate->modelCombo()->findText(QStringLiteral("tiny_sd1")) >= 0, kTimeout);

  // The button: the Generate page, the plot dialog with X preset, accepted as it is.
  QString preset;
  QTimer poll;
  connect(&poll, &QTimer::timeout, &window, [&preset, &poll] {
    auto* dialog = qobject_cast<kiln::app::XyzPlotDialog*>(QApplication::activeModalWidget());
    if (!dialog) return;
    poll.stop();
    preset = dialog->findChild<QLineEdit*>(QStringLiteral("plotValues0"))->text();
    dialog->accept();
  });
  poll.start(20);
  page->compareButton()->click();
  QCOMPARE(window.currentPage(), QStringLiteral("generate"));
  QVERIFY2(!preset.isEmpty(), qPrintable(generate->banner()->text() + QLatin1Char(' ') + generate->banner()->details()));
  QCOMPARE(preset, comparison->files.join(QLatin1Char(',')));
  QCOMPARE(generate->form().prompt, QStringLiteral("photo of sks person"));
  QCOMPARE(generate->form().width, 64);
  QVERIFY(generate->form().loras.isEmpty());
  QTRY_VERIFY_WITH_TIMEOUT(generate->gallery()->rowCount() == 3, kTimeout);  // two cells and the grid
  const auto grid = generate->gallery()->item(0);
  QCOMPARE(grid.parameters.extra.value(QStringLiteral("X Type")), QStringLiteral("LoRA"));
  QVERIFY(grid.image.width() >= 2 * 64);
  // Each cell used its own LoRA file at weight 1, on the base model.
  const auto first = generate->gallery()->item(2);
  QCOMPARE(first.parameters.loras.size(), 1);
  QCOMPARE(first.parameters.loras[0].name, QStringLiteral("session-000002"));
  QCOMPARE(generate->gallery()->item(1).parameters.loras[0].name, QStringLiteral("session-000003"));
  QVERIFY(first.image != generate->gallery()->item(1).image);
}

// File > Export Session… with the checkpoints writes a .zip off the GUI thread; Import Session…
// refuses a folder that holds something (the banner says why), then imports into a new one,
// finding the base model by its hash in a library folder, and opens the session where it stopped.
void TestTrainPage::exportsAndImportsTheSession() {
  Studio s(settingsFile());
  s.page->formView()->setForm(quickForm(0, 3));
  QVERIFY(s.page->newSession(session()));
  runAndWait(*s.page);
  QVERIFY2(s.page->lastOutcome() == TrainPage::Outcome::Finished, qPrintable(s.page->banner()->details()));
  QVERIFY(s.page->exportSessionAction()->isEnabled());

  const QString zip = mDir->filePath(QStringLiteral("carried.zip"));
  QSignalSpy done(s.page.get(), &TrainPage::sessionTransferFinished);
  // Cancelled at once (the progress dialog's Cancel): nothing is left, not even a partial file.
  s.page->exportSessionTo(zip, kiln::app::SessionArchiveContents::WithCheckpoints);
  s.page->cancelSessionTransfer();
  QVERIFY(done.wait(kTimeout));
  QVERIFY(!done.at(0).at(0).toBool());
  QCOMPARE(s.page->statusLabel()->text(), QStringLiteral("Export cancelled; nothing was written"));
  QVERIFY(QDir(mDir->path()).entryList({QStringLiteral("*carried*")}, QDir::Files | QDir::Hidden).isEmpty());
  done.clear();
  s.page->exportSessionTo(zip, kiln::app::SessionArchiveContents::WithCheckpoints);
  QVERIFY(s.page->isTransferring());
  QVERIFY(!s.page->startButton()->isEnabled());
  QVERIFY(!s.page->importSessionAction()->isEnabled());
  QVERIFY(done.wait(kTimeout));
  QVERIFY2(done.at(0).at(0).toBool(), qPrintable(s.page->banner()->details()));
  QVERIFY(QFileInfo(zip).size() > 100000);
  QVERIFY(s.page->banner()->isVisible());
  QCOMPARE(s.page->banner()->title(), QStringLiteral("Session exported"));
  QVERIFY(!s.page->isTransferring());

  // The session's own folder is taken: refused, with the reason in the banner.
  done.clear();
  s.page->importSessionFrom(zip, session());
  QVERIFY(done.wait(kTimeout));
  QVERIFY(!done.at(0).at(0).toBool());
  QVERIFY2(s.page->banner()->details().contains(QStringLiteral("already exists and is not an empty folder")),
           qPrintable(s.page->banner()->details()));

  // "Another machine": the model in a library folder of its own.
  const QString models = mDir->filePath(QStringLiteral("library"));
  std::filesystem::create_directories(models.toStdString());
  std::filesystem::copy(kTinyModel.toStdString(), (models + QStringLiteral("/tiny_sd1")).toStdString(),
                        std::filesystem::copy_options::recursive);
  s.library->addFolder(models);
  const QString imported = mDir->filePath(QStringLiteral("elsewhere/imported"));
  done.clear();
  s.page->importSessionFrom(zip, imported);
  QVERIFY(done.wait(kTimeout));
  QVERIFY2(done.at(0).at(0).toBool(), qPrintable(s.page->banner()->details()));
  QCOMPARE(s.page->sessionFolder(), QDir::cleanPath(imported));
  QCOMPARE(s.page->formView()->form().baseModel, models + QStringLiteral("/tiny_sd1"));
  QCOMPARE(s.page->banner()->title(), QStringLiteral("Session imported"));
  QVERIFY2(s.page->banner()->text().contains(QStringLiteral("step 3")) ||
               s.page->banner()->text().contains(QStringLiteral("resumes")),
           qPrintable(s.page->banner()->text()));
  // The prompts shown are the ones the session recorded (its own copy of the images).
  s.page->waitForCheck();
  QStringList prompts;
  for (int i = 0; i < s.page->promptList()->topLevelItemCount(); ++i)
    prompts << s.page->promptList()->topLevelItem(i)->text(1);
  QCOMPARE(prompts.size(), 4);
  QVERIFY2(prompts.contains(QStringLiteral("photo of sks person, black and white")),
           qPrintable(prompts.join(QLatin1Char('|'))));
  const auto state = kiln::app::TrainSession::state(imported);
  QVERIFY(state.hasCheckpoint);
  QCOMPARE(state.step, 3);
  QFile a(session() + QStringLiteral("/checkpoints/latest.safetensors"));
  QFile b(imported + QStringLiteral("/checkpoints/latest.safetensors"));
  QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
  QVERIFY(a.readAll() == b.readAll());
  QCOMPARE(QDir(mDir->filePath(QStringLiteral("elsewhere")))
               .entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
           QStringList{QStringLiteral("imported")});
}

void TestTrainPage::fileMenuOffersSessionArchives() {
  AppSettings settings(settingsFile());
  kiln::app::MainWindow window(&settings);
  window.show();
  QMenu* file = window.menuBar()->actions().value(0)->menu();
  QVERIFY(file != nullptr);
  QStringList texts;
  for (QAction* a : file->actions()) texts << a->text();
  QVERIFY2(texts.contains(QStringLiteral("E&xport Session…")) && texts.contains(QStringLiteral("I&mport Session…")),
           qPrintable(texts.join(QLatin1Char('|'))));
  // Nothing to export without a session; importing is always possible.
  QVERIFY(!window.trainPage()->exportSessionAction()->isEnabled());
  QVERIFY(window.trainPage()->importSessionAction()->isEnabled());
  // The entry shows the Train page and asks for the archive (dismissed here).
  window.showPage(QStringLiteral("models"));
  bool asked = false;
  QTimer poll;
  connect(&poll, &QTimer::timeout, &window, [&asked, &poll] {
    QWidget* dialog = QApplication::activeModalWidget();
    if (!dialog) return;
    poll.stop();
    asked = true;
    QMetaObject::invokeMethod(dialog, "reject", Qt::QueuedConnection);
  });
  poll.start(20);
  window.trainPage()->importSessionAction()->trigger();
  QVERIFY(asked);
  QCOMPARE(window.currentPage(), QStringLiteral("train"));
  QVERIFY(window.trainPage()->sessionFolder().isEmpty());
}

void TestTrainPage::theFormIsNotCutOff() {
  Studio s(settingsFile());
  s.page->resize(1280, 800);
  s.page->show();
  QVERIFY(QTest::qWaitForWindowExposed(s.page.get()));
  QCoreApplication::processEvents();
  // The form lives in a scroll area's viewport; a form wider than the viewport is cut off.
  QWidget* form = s.page->formView();
  QWidget* box = form->parentWidget();
  QVERIFY(box && box->parentWidget());
  const QWidget* viewport = box->parentWidget();
  QTRY_VERIFY2(viewport->width() >= box->minimumSizeHint().width(),
               qPrintable(QStringLiteral("the form needs %1 px, its panel shows %2")
                              .arg(box->minimumSizeHint().width())
                              .arg(viewport->width())));
  QVERIFY2(viewport->width() < s.page->width() / 2, qPrintable(QString::number(viewport->width())));
}

QTEST_MAIN(TestTrainPage)
#include "test_train_page.moc"
