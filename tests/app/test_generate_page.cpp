// The Generate page driven as a user would, with the tiny SD 1.x pipeline (a diffusers folder
// in a temporary model folder): generate at 64x64 and find the image in the gallery and on disk
// with its parameters; cancel mid-run and find the page responsive with nothing written; read
// parameters back from a dropped PNG; inpaint with a painted mask; the token counter.
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QTextCursor>
#include <QMenu>
#include <QAbstractItemView>
#include <QCompleter>
#include <QDir>
#include <QDropEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "bridge/generation_parameters.h"
#include "jobs/engine_worker.h"
#include "pages/gallery_model.h"
#include "pages/gallery_panel.h"
#include <torch/torch.h>

#include "io/safetensors.h"
#include "pages/generate_page.h"
#include "pages/generation_form_view.h"
#include "pages/generation_queue.h"
#include "pages/xyz_plot_dialog.h"
#include "page_studio.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/generation_settings.h"
#include "state/language.h"
#include "widgets/gallery_view.h"
#include "widgets/image_canvas.h"
#include "widgets/message_banner.h"
#include "widgets/prompt_edit.h"

using kiln::app::AppSettings;
using kiln::app::GalleryModel;
using kiln::app::GeneratePage;
using kiln::app::GenerationForm;
using kiln::app::ModelEntry;
using kiln::app::ModelLibrary;
using kiln::bridge::GenerationParameters;

namespace {

constexpr int kTimeout = 120'000;

const QString kGolden = QStringLiteral(KILN_TEST_DATA "/golden/pipeline");

using Studio = kiln::test::PageStudio<GeneratePage>;

QStringList filesIn(const QString& folder) {
  return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

}  // namespace

class TestGeneratePage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void generatesIntoTheGalleryWithItsParameters();
  void drawsAndShowsARandomSeed();
  void batchCountAndSizeMakeEveryImage();
  void cancelsMidGenerationWithNothingWritten();
  void shortcutsGenerateAndCancel();
  void readsParametersFromADroppedPng();
  void reusesTheParametersOfAGalleryImage();
  void inpaintsThePaintedMask();
  void maskStrokesUndoAndRedo();
  void countsPromptTokens();
  void remembersTheFormAcrossRuns();
  void hiresFixMakesTheLargerImageAndRecordsIt();
  void sizeFollowsTheModelsNativeSize();
  void generateWhileGeneratingQueuesInOrder();
  void embeddingsInTheModelFoldersAreUsedByName();
  void xyzPlotQueuesEveryCellAndAddsTheGrid();
  void upscalesAGalleryImage();
  void hiresFixWithAnUpscalerModelFromTheModelFolder();
  void taesdPreviewsAndFastDecodeFromTheModelFolder();
  void aFewStepLoRASetsItsSamplerStepsAndCfg();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString models() const { return mDir->filePath(QStringLiteral("models")); }
  QString output() const { return mDir->filePath(QStringLiteral("output")); }
  QString tinyModel() const { return models() + QStringLiteral("/tiny_sd1"); }
  // Waits until the tiny model is listed and hashed, and fills the form for a quick run.
  void prepare(Studio& s, int steps = 3, qint64 seed = 42);
  void generateAndWait(Studio& s);

  std::unique_ptr<QTemporaryDir> mDir;
};

void TestGeneratePage::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
}

void TestGeneratePage::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  namespace fs = std::filesystem;
  fs::create_directories(models().toStdString());
  fs::copy(fs::path(kGolden.toStdString()) / "tiny_sd1", tinyModel().toStdString(), fs::copy_options::recursive);
  AppSettings settings(settingsFile());
  settings.setModelFolders({models()});
  kiln::app::GenerationSettings generation(&settings);
  generation.setOutputFolder(output());
}

void TestGeneratePage::prepare(Studio& s, int steps, qint64 seed) {
  QTRY_VERIFY_WITH_TIMEOUT(s.page->modelCombo()->count() == 1, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(s.library->entry(tinyModel())->status == ModelEntry::Status::Ready, kTimeout);
  QCOMPARE(s.page->selectedModelPath(), tinyModel());
  GenerationForm f = s.page->form();
  f.prompt = QStringLiteral("a photo of a (red:1.2) fox");
  f.negativePrompt = QStringLiteral("blurry");
  f.sampler = QStringLiteral("Euler a");
  f.steps = steps;
  f.cfgScale = 7.5;
  f.seed = seed;
  f.width = 64;
  f.height = 64;
  f.batchCount = 1;
  f.batchSize = 1;
  f.clipSkip = 1;
  s.page->setForm(f);
}

void TestGeneratePage::generateAndWait(Studio& s) {
  QSignalSpy done(s.page.get(), &GeneratePage::generatingChanged);
  QVERIFY(s.page->generateAction()->isEnabled());
  s.page->generateAction()->trigger();
  QVERIFY(s.page->isGenerating());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QVERIFY(s.page->banner()->isHidden());
}

void TestGeneratePage::generatesIntoTheGalleryWithItsParameters() {
  Studio s(settingsFile());
  prepare(s);
  // The engine runs on its own thread, never on the GUI thread.
  QThread* stepThread = nullptr;
  connect(
      s.page->worker(), &kiln::app::EngineWorker::progress, s.page->worker(),
      [&stepThread] { stepThread = QThread::currentThread(); }, Qt::DirectConnection);
  QSignalSpy progress(s.page->worker(), &kiln::app::EngineWorker::progress);
  generateAndWait(s);
  QCOMPARE(stepThread, s.page->engineThread());
  QVERIFY(progress.count() >= 3);

  QCOMPARE(s.page->gallery()->rowCount(), 1);
  const kiln::app::GalleryItem& item = s.page->gallery()->item(0);
  QCOMPARE(item.image.size(), QSize(64, 64));
  const GenerationParameters& p = item.parameters;
  QCOMPARE(p.prompt, QStringLiteral("a photo of a (red:1.2) fox"));
  QCOMPARE(p.negativePrompt, QStringLiteral("blurry"));
  QCOMPARE(p.steps, 3);
  QCOMPARE(p.sampler, QStringLiteral("Euler a"));
  QCOMPARE(p.cfgScale, 7.5);
  QCOMPARE(p.seed, quint64(42));
  QCOMPARE(p.width, 64);
  QCOMPARE(p.height, 64);
  QCOMPARE(p.modelName, QStringLiteral("tiny_sd1"));
  QCOMPARE(p.modelHash, s.library->entry(tinyModel())->summary.shortHash());
  QCOMPARE(p.modelHash.size(), 10);
  QVERIFY(!p.denoisingStrength);

  // Shown selected, and written with A1111's parameters chunk.
  QCOMPARE(s.page->selectedRow(), 0);
  QCOMPARE(s.page->outputCanvas()->image().size(), QSize(64, 64));
  QCOMPARE(filesIn(output()), QStringList{QStringLiteral("00000-42.png")});
  QCOMPARE(item.path, QDir(output()).filePath(QStringLiteral("00000-42.png")));
  QCOMPARE(kiln::bridge::readPngParameters(item.path), p.toText());
  QCOMPARE(QImage(item.path).convertToFormat(QImage::Format_RGB888), item.image.convertToFormat(QImage::Format_RGB888));

  // The same seed gives the same image again.
  generateAndWait(s);
  QCOMPARE(s.page->gallery()->rowCount(), 2);
  QCOMPARE(s.page->gallery()->item(0).image, s.page->gallery()->item(1).image);
  QCOMPARE(filesIn(output()).size(), 2);
}

void TestGeneratePage::drawsAndShowsARandomSeed() {
  Studio s(settingsFile());
  // Nothing selected: the gallery's buttons are off.
  const auto buttons = s.page->galleryPanel()->findChildren<QPushButton*>();
  QCOMPARE(buttons.size(), 4);
  for (const QPushButton* b : buttons) QVERIFY2(!b->isEnabled(), qPrintable(b->text()));
  prepare(s, 2, -1);
  QVERIFY(s.page->seedEdit()->text().isEmpty());
  generateAndWait(s);
  for (const QPushButton* b : buttons) QVERIFY2(b->isEnabled(), qPrintable(b->text()));
  QVERIFY(s.page->lastSeed().has_value());
  const quint64 seed = *s.page->lastSeed();
  QVERIFY(seed <= 0xffffffffULL);
  QCOMPARE(s.page->gallery()->item(0).parameters.seed, seed);
  QVERIFY(s.page->statusLabel()->text().contains(QString::number(seed)));
  QVERIFY(s.page->seedEdit()->text().isEmpty());  // still random for the next run
  s.page->findChild<QToolButton*>(QStringLiteral("reuseSeedButton"))->click();
  QCOMPARE(s.page->seedEdit()->text(), QString::number(seed));
  s.page->findChild<QToolButton*>(QStringLiteral("randomSeedButton"))->click();
  QVERIFY(s.page->seedEdit()->text().isEmpty());
}

void TestGeneratePage::batchCountAndSizeMakeEveryImage() {
  Studio s(settingsFile());
  prepare(s, 2, 7);
  GenerationForm f = s.page->form();
  f.batchCount = 2;
  f.batchSize = 2;
  s.page->setForm(f);
  generateAndWait(s);
  QCOMPARE(s.page->gallery()->rowCount(), 4);
  QList<quint64> seeds;
  for (int row = 3; row >= 0; --row) seeds << s.page->gallery()->item(row).parameters.seed;
  // AUTOMATIC1111's seeds: image k of the batches has seed + k with its own noise.
  QCOMPARE(seeds, (QList<quint64>{7, 8, 9, 10}));
  QCOMPARE(s.page->gallery()->item(3).parameters.extra.value(QStringLiteral("Batch pos")), QStringLiteral("0"));
  QCOMPARE(s.page->gallery()->item(2).parameters.extra.value(QStringLiteral("Batch pos")), QStringLiteral("1"));
  QCOMPARE(s.page->gallery()->item(2).parameters.extra.value(QStringLiteral("Batch size")), QStringLiteral("2"));
  QCOMPARE(filesIn(output()).size(), 4);
  // So any of them is made again alone from its seed.
  const QImage second = s.page->gallery()->item(2).image;
  f.batchCount = 1;
  f.batchSize = 1;
  f.seed = 8;
  s.page->setForm(f);
  generateAndWait(s);
  QCOMPARE(s.page->gallery()->item(0).parameters.seed, quint64{8});
  QVERIFY(s.page->gallery()->item(0).image == second);
  QVERIFY(s.page->gallery()->item(0).image != s.page->gallery()->item(4).image);  // seed 7's
  // The gallery fills its rows before it goes down.
  auto* view = s.page->galleryPanel()->view();
  QCOMPARE(view->visualRect(view->model()->index(1, 0)).top(), view->visualRect(view->model()->index(0, 0)).top());
}

void TestGeneratePage::cancelsMidGenerationWithNothingWritten() {
  Studio s(settingsFile());
  prepare(s, 150, 3);
  GenerationForm f = s.page->form();
  f.batchCount = 5;
  s.page->setForm(f);
  QSignalSpy progress(s.page->worker(), &kiln::app::EngineWorker::progress);
  QSignalSpy cancelled(s.page->worker(), &kiln::app::EngineWorker::cancelled);
  s.page->generateAction()->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 2, kTimeout);
  QVERIFY(s.page->cancelAction()->isEnabled());
  s.page->cancelAction()->trigger();
  // The GUI thread never waited: the page answers at once, and the engine stops within a step.
  QVERIFY(s.page->isGenerating());
  QVERIFY(!s.page->cancelAction()->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), 10'000);
  QCOMPARE(cancelled.count(), 1);
  QCOMPARE(s.page->gallery()->rowCount(), 0);
  QVERIFY(filesIn(output()).isEmpty());
  QCOMPARE(s.page->statusLabel()->text(), QStringLiteral("Cancelled"));
  QVERIFY(s.page->generateAction()->isEnabled());

  // And it generates again afterwards.
  f.steps = 2;
  f.batchCount = 1;
  s.page->setForm(f);
  generateAndWait(s);
  QCOMPARE(s.page->gallery()->rowCount(), 1);
  QCOMPARE(filesIn(output()).size(), 1);
}

void TestGeneratePage::shortcutsGenerateAndCancel() {
  Studio s(settingsFile());
  prepare(s, 150, 5);
  s.page->activateWindow();
  s.page->promptEdit()->setFocus();
  QSignalSpy progress(s.page->worker(), &kiln::app::EngineWorker::progress);
  QTest::keyClick(s.page->promptEdit(), Qt::Key_Return, Qt::ControlModifier);
  QVERIFY(s.page->isGenerating());
  QCOMPARE(s.page->promptEdit()->toPlainText(), QStringLiteral("a photo of a (red:1.2) fox"));  // no new line
  QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 1, kTimeout);
  QTest::keyClick(s.page->promptEdit(), Qt::Key_Escape);
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), 10'000);
  QCOMPARE(s.page->gallery()->rowCount(), 0);
}

void TestGeneratePage::readsParametersFromADroppedPng() {
  Studio s(settingsFile());
  QTRY_VERIFY_WITH_TIMEOUT(s.page->modelCombo()->count() == 1, kTimeout);
  // As AUTOMATIC1111 writes it.
  const QString a1111 = QStringLiteral(
      "masterpiece, (castle:1.3) on a hill\nNegative prompt: lowres, bad anatomy\nSteps: 28, Sampler: DPM++ 2M Karras, "
      "CFG scale: 6.5, Seed: 1234567890, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
      "Clip skip: 2, Version: v1.9.0");
  QImage picture(32, 48, QImage::Format_RGB888);
  picture.fill(Qt::darkCyan);
  const QString file = mDir->filePath(QStringLiteral("a1111.png"));
  QString error;
  QVERIFY2(kiln::bridge::writePngWithParameters(file, picture, a1111, &error), qPrintable(error));

  QMimeData data;
  data.setUrls({QUrl::fromLocalFile(file)});
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(s.page.get(), &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(s.page.get(), &drop);

  const GenerationForm f = s.page->form();
  QCOMPARE(f.prompt, QStringLiteral("masterpiece, (castle:1.3) on a hill"));
  QCOMPARE(f.negativePrompt, QStringLiteral("lowres, bad anatomy"));
  QCOMPARE(f.steps, 28);
  QCOMPARE(f.sampler, QStringLiteral("DPM++ 2M Karras"));
  QCOMPARE(f.cfgScale, 6.5);
  QCOMPARE(f.seed, qint64(1234567890));
  QCOMPARE(f.width, 512);
  QCOMPARE(f.height, 768);
  QCOMPARE(f.clipSkip, 2);
  QCOMPARE(f.modelPath, tinyModel());  // no such model here: the selection stays
  QVERIFY(s.page->banner()->isHidden());

  // A PNG without parameters says so.
  const QString plain = mDir->filePath(QStringLiteral("plain.png"));
  QVERIFY(picture.save(plain));
  s.page->openFile(plain);
  QVERIFY(!s.page->banner()->isHidden());
  QCOMPARE(s.page->form().steps, 28);

  // A PNG cut short is refused by name (Kiln's probe), not decoded with a grey bottom; the input
  // image stays as it was.
  QFile whole(plain);
  QVERIFY(whole.open(QIODevice::ReadOnly));
  const QByteArray bytes = whole.readAll();
  const QString cut = mDir->filePath(QStringLiteral("cut.png"));
  QFile cutFile(cut);
  QVERIFY(cutFile.open(QIODevice::WriteOnly));
  cutFile.write(bytes.left(bytes.size() - 20));
  cutFile.close();
  const QImage before = s.page->inputCanvas()->image();
  s.page->openFile(cut, true);
  QVERIFY(!s.page->banner()->isHidden());
  QVERIFY2(s.page->banner()->text().contains(QLatin1String("cut.png")), qPrintable(s.page->banner()->text()));
  QVERIFY2(s.page->banner()->details().contains(QLatin1String("truncated PNG")),
           qPrintable(s.page->banner()->details()));
  QCOMPARE(s.page->inputCanvas()->image(), before);
}

void TestGeneratePage::reusesTheParametersOfAGalleryImage() {
  Studio s(settingsFile());
  prepare(s, 2, 99);
  generateAndWait(s);
  GenerationForm f = s.page->form();
  f.prompt = QStringLiteral("something else");
  f.seed = -1;
  f.steps = 9;
  s.page->setForm(f);
  s.page->reuseSelected();
  QCOMPARE(s.page->form().prompt, QStringLiteral("a photo of a (red:1.2) fox"));
  QCOMPARE(s.page->form().seed, qint64(99));
  QCOMPARE(s.page->form().steps, 2);

  s.page->sendSelectedToInput(GeneratePage::Mode::ImageToImage);
  QCOMPARE(s.page->mode(), GeneratePage::Mode::ImageToImage);
  QCOMPARE(s.page->inputCanvas()->image().size(), QSize(64, 64));
  generateAndWait(s);
  QCOMPARE(s.page->gallery()->rowCount(), 2);
  QVERIFY(s.page->gallery()->item(0).parameters.denoisingStrength.has_value());
}

void TestGeneratePage::inpaintsThePaintedMask() {
  Studio s(settingsFile());
  prepare(s, 3, 11);
  QImage start(64, 64, QImage::Format_RGB32);
  start.fill(QColor(40, 90, 200));
  s.page->setInputImage(start);
  s.page->setMode(GeneratePage::Mode::Inpaint);
  // Without a mask there is nothing to repaint.
  s.page->generateAction()->trigger();
  QVERIFY(!s.page->isGenerating());
  QVERIFY(!s.page->banner()->isHidden());

  auto* canvas = s.page->inputCanvas();
  QCOMPARE(canvas->tool(), kiln::widgets::ImageCanvas::Tool::Brush);
  canvas->setBrushSize(16);
  canvas->setBrushHardness(1.0);
  canvas->paintStroke({QPointF(8, 8), QPointF(24, 8)});
  QVERIFY(canvas->hasMask());
  const QImage mask = canvas->mask();
  QCOMPARE(qGray(mask.pixel(16, 8)), 255);
  QCOMPARE(qGray(mask.pixel(48, 48)), 0);
  generateAndWait(s);
  QCOMPARE(s.page->gallery()->rowCount(), 1);
  const QImage result = s.page->gallery()->item(0).image;
  // Outside the mask the input stays as it was (A1111's overlay); the stroke is repainted.
  QCOMPARE(result.pixelColor(56, 56), QColor(40, 90, 200));
  QVERIFY(result.pixelColor(16, 8) != QColor(40, 90, 200));
}

void TestGeneratePage::maskStrokesUndoAndRedo() {
  Studio s(settingsFile());
  QImage start(128, 96, QImage::Format_RGB32);
  start.fill(Qt::gray);
  s.page->setInputImage(start);
  s.page->setMode(GeneratePage::Mode::Inpaint);
  auto* canvas = s.page->inputCanvas();
  canvas->setBrushSize(20);
  canvas->setBrushHardness(0.5);
  canvas->paintStroke({QPointF(20, 20), QPointF(100, 20)});
  QVERIFY(canvas->hasMask());
  // A soft brush: full in the middle, fading at the edge.
  QCOMPARE(qGray(canvas->mask().pixel(60, 20)), 255);
  const int edge = qGray(canvas->mask().pixel(60, 28));
  QVERIFY2(edge > 0 && edge < 255, qPrintable(QString::number(edge)));
  canvas->setTool(kiln::widgets::ImageCanvas::Tool::Eraser);
  canvas->paintStroke({QPointF(60, 20)});
  QCOMPARE(qGray(canvas->mask().pixel(60, 20)), 0);
  QCOMPARE(canvas->undoStack()->count(), 2);
  canvas->undoStack()->undo();
  QCOMPARE(qGray(canvas->mask().pixel(60, 20)), 255);
  canvas->undoStack()->undo();
  QVERIFY(!canvas->hasMask());
  canvas->undoStack()->redo();
  QVERIFY(canvas->hasMask());
  canvas->clearMask();
  QVERIFY(!canvas->hasMask());
  canvas->undoStack()->undo();
  QVERIFY(canvas->hasMask());

  // A mask from a file: gray levels, scaled to the image.
  QImage loaded(64, 48, QImage::Format_Grayscale8);
  loaded.fill(0);
  for (int y = 0; y < 48; ++y) {
    for (int x = 32; x < 64; ++x) loaded.setPixel(x, y, qRgb(255, 255, 255));
  }
  canvas->setMask(loaded);
  QCOMPARE(qGray(canvas->mask().pixel(10, 50)), 0);
  QCOMPARE(qGray(canvas->mask().pixel(120, 50)), 255);
  canvas->undoStack()->undo();
  QCOMPARE(qGray(canvas->mask().pixel(60, 20)), 255);
}

void TestGeneratePage::countsPromptTokens() {
  Studio s(settingsFile());
  s.page->promptEdit()->setPlainText(QStringLiteral("a photo of a cat"));
  QTRY_COMPARE_WITH_TIMEOUT(s.page->promptEdit()->counterText(), QStringLiteral("5/75"), 10'000);
  QString longPrompt;
  for (int i = 0; i < 40; ++i) longPrompt += QStringLiteral("red fox, ");
  s.page->promptEdit()->setPlainText(longPrompt);
  QTRY_VERIFY_WITH_TIMEOUT(s.page->promptEdit()->counterText().endsWith(QLatin1String("/150")), 10'000);
}

void TestGeneratePage::remembersTheFormAcrossRuns() {
  {
    Studio s(settingsFile());
    prepare(s, 17, 1234);
    s.page->setMode(GeneratePage::Mode::ImageToImage);
    auto* tiled = s.page->findChild<QComboBox*>(QStringLiteral("tiledVaeCombo"));
    QVERIFY(tiled);
    QCOMPARE(s.page->form().tiledVae, QStringLiteral("auto"));
    tiled->setCurrentIndex(tiled->findData(QStringLiteral("on")));
    QCOMPARE(s.page->form().tiledVae, QStringLiteral("on"));
  }
  // Another model that sorts first and may be listed first: the remembered one still wins.
  namespace fs = std::filesystem;
  fs::copy(tinyModel().toStdString(), (models() + QStringLiteral("/a_model")).toStdString(),
           fs::copy_options::recursive);
  Studio s(settingsFile());
  QTRY_VERIFY_WITH_TIMEOUT(s.page->modelCombo()->count() == 2, kTimeout);
  QCOMPARE(s.page->modelCombo()->itemData(0).toString(), models() + QStringLiteral("/a_model"));
  QCOMPARE(s.page->form().steps, 17);
  QCOMPARE(s.page->form().seed, qint64(1234));
  QCOMPARE(s.page->form().prompt, QStringLiteral("a photo of a (red:1.2) fox"));
  QCOMPARE(s.page->mode(), GeneratePage::Mode::ImageToImage);
  QCOMPARE(s.page->selectedModelPath(), tinyModel());
  QCOMPARE(s.page->form().tiledVae, QStringLiteral("on"));
}

void TestGeneratePage::hiresFixMakesTheLargerImageAndRecordsIt() {
  Studio s(settingsFile());
  prepare(s, 4, 7);
  auto* hires = s.page->findChild<QCheckBox*>(QStringLiteral("hiresCheck"));
  auto* upscaler = s.page->findChild<QComboBox*>(QStringLiteral("hiresUpscalerCombo"));
  QVERIFY(hires && upscaler);
  QVERIFY(hires->isVisible());
  QVERIFY(!upscaler->isVisible());  // details only while it is on
  GenerationForm f = s.page->form();
  f.hires = true;
  f.hiresScale = 1.5;
  f.hiresUpscaler = QStringLiteral("Latent (bicubic)");
  f.hiresSteps = 6;
  f.hiresDenoising = 0.5;
  s.page->setForm(f);
  QVERIFY(hires->isChecked());
  QVERIFY(upscaler->isVisible());
  QCOMPARE(upscaler->currentText(), QStringLiteral("Latent (bicubic)"));
  generateAndWait(s);
  const kiln::app::GalleryItem& item = s.page->gallery()->item(0);
  QCOMPARE(item.image.size(), QSize(96, 96));
  QVERIFY(item.parameters.hires);
  QCOMPARE(item.parameters.hires->scale, 1.5);
  QCOMPARE(item.parameters.hires->upscaler, QStringLiteral("Latent (bicubic)"));
  QCOMPARE(*item.parameters.denoisingStrength, 0.5);
  QCOMPARE(item.parameters.width, 64);  // the first pass, as A1111 records it
  QVERIFY(kiln::bridge::readPngParameters(item.path).contains(
      QStringLiteral("Hires upscale: 1.5, Hires steps: 6, Hires upscaler: Latent (bicubic)")));

  // Reusing the image's parameters turns hires fix on with its settings; img2img hides it.
  f.hires = false;
  s.page->setForm(f);
  QVERIFY(!hires->isChecked());
  s.page->applyParameters(item.parameters);
  QVERIFY(s.page->form().hires);
  QCOMPARE(s.page->form().hiresSteps, 6);
  QCOMPARE(s.page->form().hiresDenoising, 0.5);
  s.page->setMode(GeneratePage::Mode::ImageToImage);
  QVERIFY(!hires->isVisible());
}

void TestGeneratePage::sizeFollowsTheModelsNativeSize() {
  // A fresh page keeps A1111's 512 x 512 until a model is chosen; the tiny model is 64 px native
  // (its UNet's sample_size 8 x the VAE's 8), and 512 is outside what it accepts (16 to 256).
  Studio s(settingsFile());
  QTRY_VERIFY_WITH_TIMEOUT(s.page->modelCombo()->count() == 1, kTimeout);
  QTRY_COMPARE_WITH_TIMEOUT(s.page->form().width, 64, kTimeout);
  QCOMPARE(s.page->form().height, 64);
  // A size the user chose within the model's range stays when nothing changes the model.
  GenerationForm f = s.page->form();
  f.width = 128;
  f.height = 96;
  s.page->setForm(f);
  s.page->adaptSizeToModel();
  QCOMPARE(s.page->form().width, 128);
  QCOMPARE(s.page->form().height, 96);
}

void TestGeneratePage::generateWhileGeneratingQueuesInOrder() {
  Studio s(settingsFile());
  prepare(s, 3, 11);
  auto* queue = s.page->queue();
  QSignalSpy activity(s.page.get(), &GeneratePage::activityChanged);
  const auto queueWith = [&](const QString& prompt) {
    GenerationForm f = s.page->form();
    f.prompt = prompt;
    s.page->setForm(f);
    s.page->generateAction()->trigger();
  };
  queueWith(QStringLiteral("first"));
  QVERIFY(s.page->isGenerating());
  queueWith(QStringLiteral("second"));
  queueWith(QStringLiteral("third"));
  queueWith(QStringLiteral("fourth"));
  QCOMPARE(queue->count(), 3);
  QVERIFY(s.page->findChild<QWidget*>(QStringLiteral("queueBox"))->isVisible());
  // Editing the form after queueing changes nothing queued.
  QCOMPARE(queue->entry(0).job.parameters.prompt, QStringLiteral("second"));
  // fourth before third; second removed; third repeated (fixed seed: the same job again).
  queue->moveUp(2);
  queue->remove(0);
  queue->repeat(1, 1000);
  QCOMPARE(queue->count(), 3);
  QCOMPARE(queue->entry(0).job.parameters.prompt, QStringLiteral("fourth"));
  QCOMPARE(queue->entry(2).job.parameters.prompt, QStringLiteral("third"));
  bool counted = false;
  for (const QList<QVariant>& a : activity) counted = counted || a.at(0).toString().contains(QStringLiteral("queued"));
  QVERIFY(counted);  // the job area shows the queue
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating() && queue->isEmpty(), kTimeout);
  QCOMPARE(s.page->gallery()->rowCount(), 4);
  // The gallery puts the newest first: third (repeat), third, fourth, first.
  QStringList order;
  for (int i = 0; i < 4; ++i) order << s.page->gallery()->item(i).parameters.prompt;
  QCOMPARE(order, (QStringList{QStringLiteral("third"), QStringLiteral("third"), QStringLiteral("fourth"),
                               QStringLiteral("first")}));
  QVERIFY(!s.page->findChild<QWidget*>(QStringLiteral("queueBox"))->isVisible());

  // Cancel stops the running job; the queue goes on; Clear empties it.
  queueWith(QStringLiteral("a"));
  queueWith(QStringLiteral("b"));
  queueWith(QStringLiteral("c"));
  queue->clear();
  QVERIFY(queue->isEmpty());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QCOMPARE(s.page->gallery()->rowCount(), 5);
}

void TestGeneratePage::embeddingsInTheModelFoldersAreUsedByName() {
  // A textual inversion file in <model folder>/embeddings: its name in the prompt uses it.
  QVERIFY(QDir().mkpath(models() + QStringLiteral("/embeddings")));
  torch::manual_seed(5);
  kiln::io::write_safetensors((models() + QStringLiteral("/embeddings/tiemb.safetensors")).toStdString(),
                              {{"emb_params", torch::randn({2, 32})}});
  Studio s(settingsFile());
  prepare(s, 2, 42);
  // Offered above the prompt with its token count; choosing it writes the name into the prompt.
  QToolButton* button = s.page->findChild<QToolButton*>(QStringLiteral("embeddingsButton"));
  QVERIFY(button && button->isVisible());
  QCOMPARE(button->menu()->actions().size(), 1);
  QCOMPARE(button->menu()->actions().first()->text(), QStringLiteral("tiemb · 2 tokens"));
  generateAndWait(s);
  const QImage without = s.page->gallery()->item(0).image;
  QVERIFY(s.page->gallery()->item(0).parameters.embeddings.isEmpty());
  QTextCursor end = s.page->promptEdit()->textCursor();
  end.movePosition(QTextCursor::End);
  s.page->promptEdit()->setTextCursor(end);
  button->menu()->actions().first()->trigger();
  QCOMPARE(s.page->form().prompt, QStringLiteral("a photo of a (red:1.2) fox, tiemb"));
  // Typing a name completes it, in the negative prompt too: the list shows the token count, Enter
  // puts the name in (its case as the file spells it) in one undo step.
  kiln::widgets::PromptEdit* negative = s.page->negativePromptEdit();
  negative->setFocus();
  negative->selectAll();
  QTest::keyClicks(negative, QStringLiteral("blurry, TI"));
  QVERIFY(negative->completer()->popup()->isVisible());
  QCOMPARE(negative->completer()->popup()->model()->rowCount(), 1);
  QCOMPARE(negative->completer()->popup()->currentIndex().data().toString(), QStringLiteral("tiemb · 2 tokens"));
  QTest::keyClick(negative->completer()->popup(), Qt::Key_Return);
  QCOMPARE(negative->toPlainText(), QStringLiteral("blurry, tiemb"));
  QVERIFY(!negative->completer()->popup()->isVisible());
  negative->undo();
  QCOMPARE(negative->toPlainText(), QStringLiteral("blurry, TI"));
  // A word no embedding starts with shows nothing; Escape closes the list.
  QTest::keyClicks(negative, QStringLiteral("x"));
  QVERIFY(!negative->completer()->popup()->isVisible());
  negative->clear();
  QTest::keyClicks(negative, QStringLiteral("ti"));
  QVERIFY(negative->completer()->popup()->isVisible());
  QTest::keyClick(negative->completer()->popup(), Qt::Key_Escape);
  QVERIFY(!negative->completer()->popup()->isVisible());
  QCOMPARE(negative->toPlainText(), QStringLiteral("ti"));
  negative->clear();
  generateAndWait(s);
  const kiln::app::GalleryItem& item = s.page->gallery()->item(0);
  QCOMPARE(item.parameters.embeddings.size(), 1);
  QCOMPARE(item.parameters.embeddings.first().name, QStringLiteral("tiemb"));
  QCOMPARE(item.parameters.embeddings.first().hash.size(), 12);
  QVERIFY(item.image != without);
  QVERIFY(kiln::bridge::readPngParameters(item.path).contains(QStringLiteral("TI hashes: \"tiemb: ")));
  // Reading parameters that name an embedding this machine lacks says so.
  QSignalSpy messages(s.page.get(), &GeneratePage::message);
  kiln::bridge::GenerationParameters other = item.parameters;
  other.embeddings << kiln::bridge::EmbeddingUse{QStringLiteral("elsewhere"), QStringLiteral("0123456789ab")};
  s.page->applyParameters(other);
  bool named = false;
  for (const QList<QVariant>& m : messages)
    named = named || (m.at(0).toString().contains(QStringLiteral("elsewhere")) && !m.at(0).toString().contains(QStringLiteral("tiemb")));
  QVERIFY(named);
}

void TestGeneratePage::xyzPlotQueuesEveryCellAndAddsTheGrid() {
  Studio s(settingsFile());
  prepare(s, 2, 42);
  kiln::app::XyzPlotDialog dialog;
  dialog.setAxisText(0, QStringLiteral("steps:2,3"));
  dialog.setAxisText(1, QStringLiteral("prompt:red,blue"));
  auto axes = dialog.axes();
  QVERIFY(axes[0] && axes[1] && !axes[2]);
  QVERIFY(s.page->queuePlot(axes).isEmpty());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating() && s.page->queue()->isEmpty(), kTimeout);
  QCOMPARE(s.page->gallery()->rowCount(), 5);  // four cells, then the grid on top
  const kiln::app::GalleryItem& grid = s.page->gallery()->item(0);
  QVERIFY(grid.image.width() > 2 * 64 && grid.image.height() > 2 * 64);
  QCOMPARE(grid.parameters.extra.value(QStringLiteral("Script")), QStringLiteral("X/Y/Z plot"));
  QCOMPARE(grid.parameters.extra.value(QStringLiteral("Y Type")), QStringLiteral("Prompt S/R"));
  QVERIFY(QFileInfo(grid.path).fileName().startsWith(QStringLiteral("xyz_grid-")));
  QCOMPARE(s.page->gallery()->item(1).parameters.prompt, QStringLiteral("a photo of a (blue:1.2) fox"));
  QCOMPARE(s.page->gallery()->item(1).parameters.steps, 3);

  // Refused before anything is queued; a cleared queue drops the plot without a grid.
  dialog.setAxisText(0, QStringLiteral("checkpoint:no_such_model"));
  QVERIFY(s.page->queuePlot(dialog.axes()).contains(QStringLiteral("no_such_model")));
  QVERIFY(s.page->queue()->isEmpty());
  dialog.setAxisText(0, QStringLiteral("seed:1-4"));
  dialog.setAxisText(1, QString());
  QVERIFY(s.page->queuePlot({dialog.axes()[0], std::nullopt, std::nullopt}).isEmpty());
  s.page->queue()->clear();
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QTest::qWait(50);
  QCOMPARE(s.page->gallery()->rowCount(), 6);  // the one cell that ran, no grid
}

void TestGeneratePage::upscalesAGalleryImage() {
  Studio s(settingsFile());
  prepare(s, 2, 42);
  generateAndWait(s);
  QVERIFY(s.page->galleryPanel()->upscaleAction()->isEnabled());
  // A tiny x4 RRDBNet in the old ESRGAN layout (tests/data/esrgan).
  s.page->upscaleRow(0, QStringLiteral(KILN_TEST_DATA "/esrgan/x4_old.pth"), 0);
  QVERIFY(s.page->isUpscaling());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isUpscaling(), kTimeout);
  QCOMPARE(s.page->gallery()->rowCount(), 2);
  const kiln::app::GalleryItem& up = s.page->gallery()->item(0);
  QCOMPARE(up.image.size(), QSize(256, 256));
  QCOMPARE(up.parameters.extra.value(QStringLiteral("Postprocess upscaler")), QStringLiteral("x4_old"));
  QCOMPARE(up.parameters.seed, quint64(42));  // the original's parameters are kept
  QVERIFY(QFileInfo(up.path).fileName().endsWith(QStringLiteral("-upscaled.png")));
  // Not an upscaler: the reason in the banner, nothing added.
  s.page->upscaleRow(1, QStringLiteral(KILN_TEST_DATA "/esrgan/swinir_like.safetensors"), 0);
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isUpscaling(), kTimeout);
  QCOMPARE(s.page->gallery()->rowCount(), 2);
  QVERIFY(!s.page->banner()->isHidden());
}

void TestGeneratePage::hiresFixWithAnUpscalerModelFromTheModelFolder() {
  // An ESRGAN model in <model folder>/ESRGAN is offered after the built-in upscalers.
  QVERIFY(QDir().mkpath(models() + QStringLiteral("/ESRGAN")));
  QVERIFY(QFile::copy(QStringLiteral(KILN_TEST_DATA "/esrgan/x4_old.pth"), models() + QStringLiteral("/ESRGAN/x4_old.pth")));
  Studio s(settingsFile());
  prepare(s, 2, 42);
  auto* upscaler = s.page->findChild<QComboBox*>(QStringLiteral("hiresUpscalerCombo"));
  QVERIFY(upscaler->findText(QStringLiteral("x4_old")) >= 0);
  GenerationForm f = s.page->form();
  f.hires = true;
  f.hiresScale = 1.5;
  f.hiresUpscaler = models() + QStringLiteral("/ESRGAN/x4_old.pth");
  f.hiresDenoising = 0.5;
  s.page->setForm(f);
  QCOMPARE(upscaler->currentText(), QStringLiteral("x4_old"));
  generateAndWait(s);
  const kiln::app::GalleryItem& item = s.page->gallery()->item(0);
  QCOMPARE(item.image.size(), QSize(96, 96));
  QCOMPARE(item.parameters.hires->upscaler, QStringLiteral("x4_old"));  // recorded by name, as A1111
}

void TestGeneratePage::taesdPreviewsAndFastDecodeFromTheModelFolder() {
  // A diffusers AutoencoderTiny folder in <model folder>/VAE-approx is offered for previews.
  const QString taesd = models() + QStringLiteral("/VAE-approx/taesd");
  QVERIFY(QDir().mkpath(taesd));
  for (const char* f : {"config.json", "diffusion_pytorch_model.safetensors"})
    QVERIFY(QFile::copy(QStringLiteral(KILN_TEST_DATA "/golden/taesd/model/") + QLatin1String(f),
                        taesd + QLatin1Char('/') + QLatin1String(f)));
  {
    Studio s(settingsFile());
    prepare(s, 3, 42);
    auto* combo = s.page->findChild<QComboBox*>(QStringLiteral("taesdCombo"));
    auto* fast = s.page->findChild<QCheckBox*>(QStringLiteral("fastDecodeCheck"));
    QVERIFY(combo && fast);
    QCOMPARE(combo->currentIndex(), 0);  // cheap previews until one is chosen
    QVERIFY(!fast->isEnabled());
    const int index = combo->findText(QStringLiteral("taesd"));
    QVERIFY(index > 0);
    combo->setCurrentIndex(index);
    QVERIFY(fast->isEnabled());

    s.page->worker()->setPreviewInterval(0);
    QSignalSpy previews(s.page->worker(), &kiln::app::EngineWorker::preview);
    generateAndWait(s);
    QVERIFY(!previews.isEmpty());
    QCOMPARE(previews.first().at(1).value<QImage>().size(), QSize(64, 64));  // TAESD: full size, not 8x8
    QCOMPARE(s.page->gallery()->rowCount(), 1);
    const kiln::app::GalleryItem full = s.page->gallery()->item(0);
    QVERIFY(!full.parameters.extra.contains(kiln::bridge::kVaeDecoderKey));

    fast->setChecked(true);
    generateAndWait(s);
    QCOMPARE(s.page->gallery()->rowCount(), 2);
    int fastRow = -1;
    for (int i = 0; i < 2; ++i)
      if (s.page->gallery()->item(i).parameters.extra.value(kiln::bridge::kVaeDecoderKey) == QStringLiteral("TAESD")) fastRow = i;
    QVERIFY(fastRow >= 0);
    // The same latents, another decoder: another picture.
    QVERIFY(s.page->gallery()->item(fastRow).image != full.image);
  }
  // Both are remembered.
  Studio again(settingsFile());
  QTRY_VERIFY_WITH_TIMEOUT(again.page->modelCombo()->count() == 1, kTimeout);
  QCOMPARE(again.page->form().taesd, taesd);
  QVERIFY(again.page->form().fastDecode);
}

void TestGeneratePage::aFewStepLoRASetsItsSamplerStepsAndCfg() {
  Studio s(settingsFile());
  prepare(s, 20, 42);
  QCOMPARE(s.page->form().sampler, QStringLiteral("Euler a"));
  const QString lora = mDir->filePath(QStringLiteral("lcm-lora-sdv1-5.safetensors"));
  {
    QFile f(lora);
    QVERIFY(f.open(QIODevice::WriteOnly));  // the name decides; the file is read when generating
    f.write("not read here");
  }
  auto* form = s.page->findChild<kiln::app::GenerationFormView*>();
  QVERIFY(form);
  QSignalSpy messages(s.page.get(), &GeneratePage::message);
  form->addLoRA(lora);
  Q_EMIT form->loraChosen(lora);  // what the Add menu and its file dialog do
  QCOMPARE(s.page->form().sampler, QStringLiteral("LCM"));
  QCOMPARE(s.page->form().steps, 4);
  QCOMPARE(s.page->form().cfgScale, 1.5);
  QVERIFY(!messages.isEmpty());
  QVERIFY2(messages.last().at(0).toString().startsWith(QStringLiteral("LCM recognised (the name \"lcm-lora-sdv1-5.safetensors\" says LCM)")),
           qPrintable(messages.last().at(0).toString()));
  // An ordinary LoRA changes nothing.
  GenerationForm f = s.page->form();
  f.steps = 9;
  s.page->setForm(f);
  Q_EMIT form->loraChosen(mDir->filePath(QStringLiteral("film_grain.safetensors")));
  QCOMPARE(s.page->form().steps, 9);
}

QTEST_MAIN(TestGeneratePage)
#include "test_generate_page.moc"
