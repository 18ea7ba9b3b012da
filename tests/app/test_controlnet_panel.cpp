// The Generate page's ControlNet panel driven as a user would: a canny unit on an opened picture
// shows its map (computed on the pool) and follows its thresholds; units are removed and
// reordered; a pose unit renders the default pose; a scribble unit sends the inverted drawing;
// a generation with the tiny ControlNet records the unit in the PNG parameters and reusing them
// restores it; a network preprocessor without its weights says which file is missing; the pose
// editor snaps to the people DWPose (tiny test models) finds. Also the pose editor's people <->
// PoseScene conversion. Units come back in the next session (a vanished model or picture leaves
// a note in its unit); Generate waits for a map being computed and Cancel stops both; mask brush
// and scribble pen keep their own sizes; PNG thresholds set the sliders.
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "bridge/control_image_qt.h"
#include "bridge/generation_parameters.h"
#include "control/dwpose.h"
#include "control/pose_render.h"
#include "pages/control_unit_editor.h"
#include "pages/controlnet_panel.h"
#include "pages/gallery_model.h"
#include "pages/generate_page.h"
#include "pages/pose_conversion.h"
#include "pages/pose_editor_panel.h"
#include "pipelines/generation_request.h"
#include "page_studio.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/generation_settings.h"
#include "state/language.h"
#include "widgets/image_canvas.h"
#include "widgets/message_banner.h"
#include "widgets/pose_editor.h"

using kiln::app::AppSettings;
using kiln::app::ControlNetPanel;
using kiln::app::ControlUnitEditor;
using kiln::app::GeneratePage;
using kiln::app::GenerationForm;
using kiln::app::ModelEntry;
using kiln::app::ModelLibrary;
using kiln::widgets::PoseEditor;

namespace {

constexpr int kTimeout = 120'000;
const QString kGolden = QStringLiteral(KILN_TEST_DATA "/golden");

struct Studio : kiln::test::PageStudio<GeneratePage> {
  explicit Studio(const QString& settingsFile) : PageStudio(settingsFile) {}
  ControlNetPanel* panel() const { return page->controlNetPanel(); }
};

// Shapes with hard edges, so canny finds lines and the thresholds matter.
QImage shapes(int width, int height) {
  QImage image(width, height, QImage::Format_RGB32);
  image.fill(QColor(40, 40, 40));
  QPainter p(&image);
  p.setRenderHint(QPainter::Antialiasing);
  p.setBrush(QColor(220, 200, 60));
  p.setPen(Qt::NoPen);
  p.drawEllipse(QRectF(width * 0.1, height * 0.2, width * 0.4, height * 0.5));
  p.setBrush(QColor(70, 80, 90));  // a faint edge: gone at high thresholds
  p.drawRect(QRectF(width * 0.55, height * 0.15, width * 0.35, height * 0.6));
  return image;
}

QImage gray(const QImage& image) { return image.convertToFormat(QImage::Format_Grayscale8); }

int whitePixels(const QImage& image) {
  const QImage g = gray(image);
  int n = 0;
  for (int y = 0; y < g.height(); ++y)
    for (int x = 0; x < g.width(); ++x) n += g.constScanLine(y)[x] > 127 ? 1 : 0;
  return n;
}

void waitForMap(ControlUnitEditor* unit) {
  QTRY_VERIFY_WITH_TIMEOUT(!unit->isBusy() && !unit->map().isNull(), kTimeout);
  QTest::qWait(400);  // a debounced run may still be due
  QTRY_VERIFY_WITH_TIMEOUT(!unit->isBusy(), kTimeout);
}

}  // namespace

class TestControlNetPanel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void convertsPeopleToScenesAndBack();
  void cannyUnitShowsItsMapAndFollowsItsThresholds();
  void addsRemovesAndReordersUnits();
  void poseUnitRendersTheDefaultPose();
  void scribbleUnitSendsTheInvertedDrawing();
  void generatesWithAControlNetAndRestoresTheUnit();
  void missingNetworkWeightsAreNamedInTheUnit();
  void unitsComeBackInTheNextSession();
  void vanishedModelAndPicturesAreNotedInTheirUnits();
  void generateWaitsForTheMapAndCancelStopsBoth();
  void maskBrushAndScribblePenKeepTheirSizes();
  void pngThresholdsSetThePreprocessorSliders();
  void snapsThePoseToTheDetectedPeople();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString models() const { return mDir->filePath(QStringLiteral("models")); }
  QString tinyModel() const { return models() + QStringLiteral("/tiny_sd1"); }
  QString tinyControlNet() const { return models() + QStringLiteral("/tiny_controlnet"); }
  QString picture() const { return mDir->filePath(QStringLiteral("shapes.png")); }
  // The tiny model listed and the form set for a quick run; `controlNet`: the ControlNet listed too.
  void prepare(Studio& s, bool controlNet = true);

  std::unique_ptr<QTemporaryDir> mDir;
};

void TestControlNetPanel::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
}

void TestControlNetPanel::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  namespace fs = std::filesystem;
  fs::create_directories(models().toStdString());
  fs::copy(fs::path(kGolden.toStdString()) / "pipeline" / "tiny_sd1", tinyModel().toStdString(),
           fs::copy_options::recursive);
  fs::copy(fs::path(kGolden.toStdString()) / "controlnet" / "model", tinyControlNet().toStdString(),
           fs::copy_options::recursive);
  QVERIFY(shapes(96, 64).save(picture()));
  AppSettings settings(settingsFile());
  settings.setModelFolders({models()});
  kiln::app::GenerationSettings generation(&settings);
  generation.setOutputFolder(mDir->filePath(QStringLiteral("output")));
}

void TestControlNetPanel::prepare(Studio& s, bool controlNet) {
  QTRY_VERIFY_WITH_TIMEOUT(s.page->modelCombo()->count() == 1, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(s.library->entry(tinyModel()) && s.library->entry(tinyModel())->status == ModelEntry::Status::Ready,
                           kTimeout);
  if (controlNet)
    QTRY_VERIFY_WITH_TIMEOUT(s.library->entry(tinyControlNet()) && s.library->entry(tinyControlNet())->isKnown(),
                             kTimeout);
  GenerationForm f = s.page->form();
  f.prompt = QStringLiteral("a red fox");
  f.negativePrompt.clear();
  f.sampler = QStringLiteral("Euler a");
  f.steps = 3;
  f.seed = 7;
  f.width = 64;
  f.height = 64;
  f.batchCount = 1;
  f.batchSize = 1;
  s.page->setForm(f);
}

void TestControlNetPanel::convertsPeopleToScenesAndBack() {
  const QSize canvas(640, 480);
  PoseEditor::Person person = PoseEditor::defaultPerson(canvas);
  person.visible[PoseEditor::LEar] = false;
  const kiln::control::PoseScene scene = kiln::app::toPoseScene({person}, canvas);
  QCOMPARE(scene.canvas_width, 640);
  QCOMPARE(scene.canvas_height, 480);
  QCOMPARE(scene.people.size(), std::size_t{1});
  const auto& neck = scene.people[0].body[PoseEditor::Neck];
  QCOMPARE(neck.x, person.body[PoseEditor::Neck].x() / 640.0);
  QCOMPARE(neck.confidence, 1.0);
  QCOMPARE(scene.people[0].body[PoseEditor::LEar].confidence, 0.0);
  QVERIFY(kiln::control::scene_problem(scene).empty());

  const auto back = kiln::app::fromPoseScene(scene, canvas);
  QCOMPARE(back.people.size(), 1);
  QCOMPARE(back.droppedParts, 0);
  for (int j = 0; j < PoseEditor::kJointCount; ++j) {
    QVERIFY(std::abs(back.people[0].body[j].x() - person.body[j].x()) < 1e-9);
    QVERIFY(std::abs(back.people[0].body[j].y() - person.body[j].y()) < 1e-9);
    QCOMPARE(back.people[0].visible[j], person.visible[j]);
  }

  // Pixel coordinates of a 100x100 scene on a 200x100 canvas scale with it; a hand is dropped.
  kiln::control::PoseScene pixels;
  pixels.canvas_width = 100;
  pixels.canvas_height = 100;
  kiln::control::PosePerson p;
  p.body[0] = {50, 20, 1};
  p.body[1] = {50, 40, 1};
  p.left_hand.assign(kiln::control::kHandPoints, {});
  pixels.people.push_back(p);
  const auto placed = kiln::app::fromPoseScene(pixels, QSize(200, 100));
  QCOMPARE(placed.people[0].body[0], QPointF(100, 20));
  QVERIFY(placed.people[0].visible[0]);
  QVERIFY(!placed.people[0].visible[5]);
  QCOMPARE(placed.droppedParts, 1);
}

void TestControlNetPanel::cannyUnitShowsItsMapAndFollowsItsThresholds() {
  Studio s(settingsFile());
  ControlUnitEditor* unit = s.panel()->addUnit();
  QVERIFY(unit);
  QVERIFY(unit->openImageFile(picture()));
  unit->setPreprocessor(QStringLiteral("canny"));
  QVERIFY(unit->paramSpin(QStringLiteral("low_threshold")));
  QVERIFY(unit->paramSpin(QStringLiteral("high_threshold")));
  waitForMap(unit);
  QVERIFY(!unit->previewLabel()->pixmap().isNull());
  const QImage first = unit->map();
  const int edges = whitePixels(first);
  QVERIFY2(edges > 20, qPrintable(QString::number(edges)));

  // High thresholds drop the faint rectangle: fewer edge pixels.
  unit->paramSpin(QStringLiteral("high_threshold"))->setValue(250);
  unit->paramSpin(QStringLiteral("low_threshold"))->setValue(200);
  QTRY_VERIFY_WITH_TIMEOUT(unit->map() != first, kTimeout);
  waitForMap(unit);
  QVERIFY2(whitePixels(unit->map()) < edges, qPrintable(QString::number(whitePixels(unit->map()))));
  QVERIFY(unit->problem().contains(QLatin1String("ControlNet model")) || unit->problem().isEmpty());
}

void TestControlNetPanel::addsRemovesAndReordersUnits() {
  Studio s(settingsFile());
  ControlNetPanel* panel = s.panel();
  QVERIFY(panel->addButton()->isEnabled());
  ControlUnitEditor* a = panel->addUnit();
  ControlUnitEditor* b = panel->addUnit();
  ControlUnitEditor* c = panel->addUnit();
  QVERIFY(a && b && c);
  QVERIFY(!panel->addButton()->isEnabled());
  QVERIFY(!panel->addUnit());
  a->setWeight(0.3);
  c->setWeight(0.9);
  panel->moveUnit(c, -1);
  QCOMPARE(panel->units(), (QList<ControlUnitEditor*>{a, c, b}));
  panel->moveUnit(a, -1);  // already first: stays
  QCOMPARE(panel->units().first(), a);
  QSignalSpy removed(panel, &ControlNetPanel::unitRemoved);
  panel->removeUnit(a);
  QCOMPARE(removed.count(), 1);
  QCOMPARE(panel->units(), (QList<ControlUnitEditor*>{c, b}));
  QCOMPARE(panel->units().first()->weight(), 0.9);
  QVERIFY(panel->addButton()->isEnabled());
  // A disabled unit is left out of the job; an enabled one without a picture is named.
  c->setUnitEnabled(false);
  QString problem;
  panel->jobs(&problem);
  QVERIFY(problem.contains(QLatin1String("unit 2")));
  b->setUnitEnabled(false);
  QVERIFY(panel->jobs(&problem).isEmpty());
  QVERIFY(problem.isEmpty());
}

void TestControlNetPanel::poseUnitRendersTheDefaultPose() {
  Studio s(settingsFile());
  GenerationForm f = s.page->form();
  f.width = 128;
  f.height = 96;
  s.page->setForm(f);
  ControlUnitEditor* unit = s.panel()->addUnit();
  unit->setSource(ControlUnitEditor::Source::Pose);
  QCOMPARE(unit->people().size(), 1);
  QCOMPARE(unit->poseCanvas(), QSize(128, 96));
  waitForMap(unit);
  const QSize canvas(128, 96);
  const kiln::control::ControlImage expected =
      kiln::control::render_pose(kiln::app::toPoseScene({PoseEditor::defaultPerson(canvas)}, canvas));
  const QImage map = unit->map().convertToFormat(QImage::Format_RGB888);
  QCOMPARE(map.size(), canvas);
  for (int y = 0; y < map.height(); ++y)
    QVERIFY(std::memcmp(map.constScanLine(y), expected.pixels.data() + static_cast<std::size_t>(y) * 128 * 3, 128 * 3) == 0);

  // The editor moves a joint; the map follows.
  s.page->beginPoseEdit(unit);
  auto* editor = s.page->poseEditorPanel()->editor();
  QVERIFY(editor->isVisible());
  QVERIFY(!s.page->inputCanvas()->isVisible());
  QVERIFY(!s.page->poseEditorPanel()->snapAction()->isEnabled());
  editor->moveJoint(0, PoseEditor::RWrist, QPointF(10, 10));
  QTRY_VERIFY_WITH_TIMEOUT(unit->map().convertToFormat(QImage::Format_RGB888) != map, kTimeout);
  QCOMPARE(unit->people().first().body[PoseEditor::RWrist], QPointF(10, 10));

  // Export and import round trip (A1111 JSON).
  const QString json = mDir->filePath(QStringLiteral("pose.json"));
  QVERIFY(s.page->poseEditorPanel()->exportFile(json, false));
  editor->addPerson();
  QCOMPARE(editor->personCount(), 2);
  QVERIFY(s.page->poseEditorPanel()->importFile(json));
  QCOMPARE(editor->personCount(), 1);
  QVERIFY(std::abs(editor->people().first().body[PoseEditor::RWrist].x() - 10) < 1e-6);
  s.page->endPoseEdit();
  QVERIFY(!editor->isVisible());
}

void TestControlNetPanel::scribbleUnitSendsTheInvertedDrawing() {
  Studio s(settingsFile());
  GenerationForm f = s.page->form();
  f.width = 64;
  f.height = 64;
  s.page->setForm(f);
  ControlUnitEditor* unit = s.panel()->addUnit();
  unit->setSource(ControlUnitEditor::Source::Scribble);
  QCOMPARE(unit->preprocessor(), QStringLiteral("none"));
  s.page->showControlNet();
  QTRY_VERIFY(unit->editButton()->isVisible());
  QTest::mouseClick(unit->editButton(), Qt::LeftButton);
  auto* canvas = s.page->inputCanvas();
  QCOMPARE(s.page->scribbleUnit(), unit);
  QVERIFY(canvas->isVisible());
  QCOMPARE(canvas->layer(), kiln::widgets::ImageCanvas::Layer::Scribble);
  QCOMPARE(canvas->image().size(), QSize(64, 64));
  canvas->setBrushSize(6);
  canvas->paintStroke({QPointF(10, 10), QPointF(50, 50)});
  waitForMap(unit);
  const QImage sent = canvas->scribbleControlMap();
  QCOMPARE(gray(unit->map()), gray(sent));
  QVERIFY(whitePixels(sent) > 20);
  QCOMPARE(qGray(sent.pixel(30, 30)), 255);  // white line on black
  QCOMPARE(qGray(sent.pixel(5, 55)), 0);

  canvas->undoStack()->undo();
  QTRY_VERIFY_WITH_TIMEOUT(unit->map().isNull() || whitePixels(unit->map()) == 0, kTimeout);
  canvas->undoStack()->redo();
  QTRY_VERIFY_WITH_TIMEOUT(!unit->map().isNull() && whitePixels(unit->map()) > 20, kTimeout);
  s.page->endScribble();
  QCOMPARE(canvas->layer(), kiln::widgets::ImageCanvas::Layer::Mask);
  QVERIFY(!canvas->isVisible());  // text to image: the input canvas was only there for drawing
  QVERIFY(!unit->map().isNull());  // the unit keeps its drawing
}

void TestControlNetPanel::generatesWithAControlNetAndRestoresTheUnit() {
  Studio s(settingsFile());
  prepare(s);
  ControlUnitEditor* unit = s.panel()->addUnit();
  QCOMPARE(unit->modelPath(), tinyControlNet());
  QVERIFY(unit->openImageFile(picture()));
  unit->setPreprocessor(QStringLiteral("canny"));
  unit->setWeight(0.8);
  unit->setRange(0.1, 0.9);
  unit->setControlMode(kiln::pipelines::ControlMode::PromptMoreImportant);
  unit->setResizeMode(kiln::control::ResizeMode::JustResize);
  waitForMap(unit);
  QCOMPARE(unit->problem(), QString());

  s.page->generate();
  QVERIFY(s.page->isGenerating());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QVERIFY2(!s.page->banner()->isVisible(), qPrintable(s.page->statusLabel()->text()));
  QCOMPARE(s.page->gallery()->rowCount(), 1);
  const auto& item = s.page->gallery()->item(0);
  QCOMPARE(item.image.size(), QSize(64, 64));
  const QString text = item.parameters.toText();
  QVERIFY2(text.contains(QLatin1String("ControlNet 0: \"Module: canny, Model: tiny_controlnet [")), qPrintable(text));
  QCOMPARE(item.parameters.controlNets.size(), 1);
  const auto& use = item.parameters.controlNets.first();
  QCOMPARE(use.weight, 0.8);
  QCOMPARE(use.resizeMode, QStringLiteral("Just Resize"));
  QCOMPARE(use.controlMode, QStringLiteral("My prompt is more important"));
  QCOMPARE(use.guidanceStart, 0.1);
  QCOMPARE(use.guidanceEnd, 0.9);
  // On disk too.
  QVERIFY(!item.path.isEmpty());
  QVERIFY(kiln::bridge::readPngParameters(item.path).contains(QLatin1String("ControlNet 0:")));

  // Reusing the parameters gives the unit its fields back (its picture stays).
  unit->setWeight(1.0);
  unit->setResizeMode(kiln::control::ResizeMode::ResizeAndFill);
  unit->setPreprocessor(QStringLiteral("invert"));
  s.page->applyParameters(item.parameters);
  QCOMPARE(s.panel()->units().size(), 1);
  QCOMPARE(unit->weight(), 0.8);
  QCOMPARE(unit->preprocessor(), QStringLiteral("canny"));
  QCOMPARE(unit->resizeMode(), kiln::control::ResizeMode::JustResize);
  QCOMPARE(unit->controlMode(), kiln::pipelines::ControlMode::PromptMoreImportant);
  QCOMPARE(unit->modelPath(), tinyControlNet());
  QVERIFY(!unit->sourceImage().isNull());
}

void TestControlNetPanel::missingNetworkWeightsAreNamedInTheUnit() {
  Studio s(settingsFile());
  ControlUnitEditor* unit = s.panel()->addUnit();
  QVERIFY(unit->openImageFile(picture()));
  unit->setPreprocessor(QStringLiteral("softedge_hed"));
  QTRY_VERIFY_WITH_TIMEOUT(!unit->messageLabel()->isHidden(), kTimeout);
  const QString text = unit->messageLabel()->text();
  QVERIFY2(text.contains(QLatin1String("ControlNetHED.pth")), qPrintable(text));
  QVERIFY2(text.contains(QLatin1String("huggingface.co")), qPrintable(text));
  QVERIFY(!unit->problem().isEmpty());
  QString problem;
  s.panel()->jobs(&problem);
  QVERIFY(problem.contains(QLatin1String("unit 1")));
}

namespace {

// The three units of the persistence tests: a canny unit on the picture with every field off its
// default, a disabled scribble, and a pose with a moved and a hidden joint.
struct SavedUnits {
  QImage drawing;
  QList<PoseEditor::Person> people;
};

SavedUnits setUpThreeUnits(ControlNetPanel* panel, const QString& picture, const QString& controlNet) {
  SavedUnits saved;
  ControlUnitEditor* a = panel->addUnit();
  a->openImageFile(picture);
  a->setPreprocessor(QStringLiteral("canny"));
  a->setParam(QStringLiteral("low_threshold"), 80);
  a->setParam(QStringLiteral("high_threshold"), 160);
  a->setResolution(256);
  a->setWeight(0.6);
  a->setRange(0.2, 0.8);
  a->setControlMode(kiln::pipelines::ControlMode::ControlNetMoreImportant);
  a->setResizeMode(kiln::control::ResizeMode::ResizeAndFill);
  a->selectModel(controlNet);
  ControlUnitEditor* b = panel->addUnit();
  b->setSource(ControlUnitEditor::Source::Scribble);
  saved.drawing = QImage(64, 64, QImage::Format_RGB32);
  saved.drawing.fill(Qt::black);
  QPainter p(&saved.drawing);
  p.setPen(QPen(Qt::white, 3));
  p.drawLine(5, 5, 60, 40);
  p.end();
  b->setDrawnMap(saved.drawing);
  b->setUnitEnabled(false);
  b->setPixelPerfect(true);
  ControlUnitEditor* c = panel->addUnit();
  c->setSource(ControlUnitEditor::Source::Pose);
  saved.people = c->people();
  saved.people[0].body[PoseEditor::RWrist] = QPointF(12, 20);
  saved.people[0].visible[PoseEditor::LEar] = false;
  c->setPeople(saved.people);
  return saved;
}

}  // namespace

void TestControlNetPanel::unitsComeBackInTheNextSession() {
  SavedUnits saved;
  QString dataFolder;
  {
    Studio s(settingsFile());
    prepare(s);
    saved = setUpThreeUnits(s.panel(), picture(), tinyControlNet());
    for (ControlUnitEditor* unit : s.panel()->units()) waitForMap(unit);
    dataFolder = s.page->generationSettings()->dataFolder();
  }  // the page keeps the units as it closes
  // The drawing and the pose are files of the data folder; the picture is remembered by its path.
  const QStringList kept = QDir(dataFolder + QStringLiteral("/controlnet")).entryList(QDir::Files);
  QCOMPARE(kept.size(), 2);
  QVERIFY(kept.filter(QStringLiteral(".png")).size() == 1 && kept.filter(QStringLiteral(".json")).size() == 1);

  Studio s(settingsFile());
  const auto units = s.panel()->units();
  QCOMPARE(units.size(), 3);
  ControlUnitEditor* a = units[0];
  QTRY_COMPARE_WITH_TIMEOUT(a->modelPath(), tinyControlNet(), kTimeout);  // once the library lists it
  QVERIFY(a->isUnitEnabled());
  QCOMPARE(a->source(), ControlUnitEditor::Source::File);
  QCOMPARE(a->preprocessor(), QStringLiteral("canny"));
  QCOMPARE(a->params().at("low_threshold"), 80.0);
  QCOMPARE(a->params().at("high_threshold"), 160.0);
  QCOMPARE(a->resolution(), 256);
  QCOMPARE(a->weight(), 0.6);
  QCOMPARE(a->start(), 0.2);
  QCOMPARE(a->end(), 0.8);
  QCOMPARE(a->controlMode(), kiln::pipelines::ControlMode::ControlNetMoreImportant);
  QCOMPARE(a->resizeMode(), kiln::control::ResizeMode::ResizeAndFill);
  QCOMPARE(a->sourceImage().size(), QSize(96, 64));
  waitForMap(a);
  QCOMPARE(a->problem(), QString());
  QCOMPARE(a->noteText(), QString());

  ControlUnitEditor* b = units[1];
  QVERIFY(!b->isUnitEnabled());
  QVERIFY(b->pixelPerfect());
  QCOMPARE(b->source(), ControlUnitEditor::Source::Scribble);
  QCOMPARE(gray(b->drawnMap()), gray(saved.drawing));

  ControlUnitEditor* c = units[2];
  QCOMPARE(c->source(), ControlUnitEditor::Source::Pose);
  QCOMPARE(c->people().size(), 1);
  for (int j = 0; j < PoseEditor::kJointCount; ++j) {
    QVERIFY(std::abs(c->people()[0].body[j].x() - saved.people[0].body[j].x()) < 1e-6);
    QVERIFY(std::abs(c->people()[0].body[j].y() - saved.people[0].body[j].y()) < 1e-6);
    QCOMPARE(c->people()[0].visible[j], saved.people[0].visible[j]);
  }
  waitForMap(c);

  // A unit removed is gone next time, and so is its file.
  s.panel()->removeUnit(b);
  s.page->generationSettings()->setControlUnits({});
  QVERIFY(QDir(dataFolder + QStringLiteral("/controlnet")).entryList(QDir::Files).isEmpty());
}

void TestControlNetPanel::vanishedModelAndPicturesAreNotedInTheirUnits() {
  QString dataFolder;
  {
    Studio s(settingsFile());
    prepare(s);
    setUpThreeUnits(s.panel(), picture(), tinyControlNet());
    s.panel()->units()[1]->setUnitEnabled(true);
    for (ControlUnitEditor* unit : s.panel()->units()) waitForMap(unit);
    dataFolder = s.page->generationSettings()->dataFolder();
  }
  // Between the sessions the picture, the ControlNet and the kept drawing and pose disappear.
  QVERIFY(QFile::remove(picture()));
  QVERIFY(QDir().rename(tinyControlNet(), mDir->filePath(QStringLiteral("moved_controlnet"))));
  const QDir kept(dataFolder + QStringLiteral("/controlnet"));
  for (const QString& name : kept.entryList(QDir::Files)) QVERIFY(QFile::remove(kept.filePath(name)));

  Studio s(settingsFile());
  prepare(s, false);
  const auto units = s.panel()->units();
  QCOMPARE(units.size(), 3);
  ControlUnitEditor* a = units[0];
  QVERIFY2(a->noteText().contains(QStringLiteral("“tiny_controlnet” of the last session is gone")), qPrintable(a->noteText()));
  QVERIFY2(a->noteText().contains(QLatin1String("shapes.png")), qPrintable(a->noteText()));
  QVERIFY(!a->messageLabel()->isHidden());
  QVERIFY(a->modelPath().isEmpty());  // no other model stands in for it
  QVERIFY(a->problem().contains(QLatin1String("tiny_controlnet")));
  // The rest of the unit is as it was.
  QCOMPARE(a->preprocessor(), QStringLiteral("canny"));
  QCOMPARE(a->params().at("low_threshold"), 80.0);
  QCOMPARE(a->weight(), 0.6);
  QCOMPARE(a->resizeMode(), kiln::control::ResizeMode::ResizeAndFill);
  QVERIFY2(units[1]->noteText().contains(QLatin1String("scribble")), qPrintable(units[1]->noteText()));
  QVERIFY2(units[2]->noteText().contains(QLatin1String("default pose")), qPrintable(units[2]->noteText()));
  QCOMPARE(units[2]->people().size(), 1);
  QVERIFY(!s.page->banner()->isVisible());  // notes, not an error
  // Generating names the unit instead of guessing a model.
  s.page->generate();
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QVERIFY(s.page->banner()->isVisible());
  QCOMPARE(s.page->gallery()->rowCount(), 0);

  // The model back in the library: the unit takes it, its note goes.
  QVERIFY(QDir().rename(mDir->filePath(QStringLiteral("moved_controlnet")), tinyControlNet()));
  s.library->rescan();
  QTRY_COMPARE_WITH_TIMEOUT(a->modelPath(), tinyControlNet(), kTimeout);
  QVERIFY(!a->noteText().contains(QLatin1String("tiny_controlnet")));
  // Opening a picture clears the picture's note.
  QVERIFY(shapes(96, 64).save(picture()));
  QVERIFY(a->openImageFile(picture()));
  QCOMPARE(a->noteText(), QString());
}

void TestControlNetPanel::generateWaitsForTheMapAndCancelStopsBoth() {
  Studio s(settingsFile());
  prepare(s);
  ControlUnitEditor* unit = s.panel()->addUnit();
  QVERIFY(unit->openImageFile(picture()));
  unit->setPreprocessor(QStringLiteral("canny"));
  waitForMap(unit);

  // A slider moved just before Generate: the map is due; Generate waits, then generates.
  unit->paramSpin(QStringLiteral("low_threshold"))->setValue(60);
  QVERIFY(unit->isBusy());
  s.page->generate();
  QVERIFY(s.page->isGenerating());
  QVERIFY(s.page->waitsForControlMaps());
  QCOMPARE(s.page->statusLabel()->text(), QStringLiteral("Computing control map…"));
  QVERIFY(!s.page->banner()->isVisible());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QVERIFY2(!s.page->banner()->isVisible(), qPrintable(s.page->statusLabel()->text()));
  QCOMPARE(s.page->gallery()->rowCount(), 1);
  QCOMPARE(s.page->gallery()->item(0).parameters.controlNets.first().thresholdA, 60.0);

  // Cancel while waiting: neither the map nor the image comes; the next Generate computes both.
  unit->paramSpin(QStringLiteral("low_threshold"))->setValue(70);
  s.page->generate();
  QVERIFY(s.page->waitsForControlMaps());
  s.page->cancel();
  QVERIFY(!s.page->isGenerating());
  QVERIFY(!unit->isBusy());
  QVERIFY(unit->wasCancelled());
  QVERIFY(!unit->problem().isEmpty());
  QTest::qWait(600);
  QCOMPARE(s.page->gallery()->rowCount(), 1);
  QVERIFY(!unit->isBusy());
  s.page->generate();
  QVERIFY(s.page->waitsForControlMaps());
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isGenerating(), kTimeout);
  QCOMPARE(s.page->gallery()->rowCount(), 2);
  QCOMPARE(s.page->gallery()->item(0).parameters.controlNets.first().thresholdA, 70.0);
  QVERIFY(!unit->wasCancelled());
}

void TestControlNetPanel::maskBrushAndScribblePenKeepTheirSizes() {
  using Layer = kiln::widgets::ImageCanvas::Layer;
  {
    Studio s(settingsFile());
    auto* slider = s.page->findChild<QSlider*>(QStringLiteral("brushSizeSlider"));
    QVERIFY(slider);
    auto* canvas = s.page->inputCanvas();
    QCOMPARE(canvas->layer(), Layer::Mask);
    slider->setValue(80);
    QCOMPARE(canvas->brushSizeOf(Layer::Mask), 80);
    ControlUnitEditor* unit = s.panel()->addUnit();
    unit->setSource(ControlUnitEditor::Source::Scribble);
    s.page->beginScribble(unit);
    QCOMPARE(canvas->layer(), Layer::Scribble);
    QCOMPARE(slider->value(), 6);  // the pen's own size
    slider->setValue(14);
    QCOMPARE(canvas->brushSizeOf(Layer::Scribble), 14);
    QCOMPARE(canvas->brushSizeOf(Layer::Mask), 80);
    s.page->endScribble();
    QCOMPARE(slider->value(), 80);
  }
  Studio s(settingsFile());
  QCOMPARE(s.page->form().brushSize, 80);
  QCOMPARE(s.page->form().scribbleBrushSize, 14);
  auto* slider = s.page->findChild<QSlider*>(QStringLiteral("brushSizeSlider"));
  QCOMPARE(slider->value(), 80);
  QCOMPARE(s.panel()->units().size(), 1);
  s.page->beginScribble(s.panel()->units().first());
  QCOMPARE(slider->value(), 14);
  QCOMPARE(s.page->inputCanvas()->brushSize(), 14);
}

void TestControlNetPanel::pngThresholdsSetThePreprocessorSliders() {
  Studio s(settingsFile());
  prepare(s);
  // AUTOMATIC1111's record: canny's thresholds in slots A and B; threshold's slider in A (B unused,
  // -1 as newer versions write it); scribble_xdog's A out of its range (left at the default).
  const QString text = QStringLiteral(
      "a red fox\nSteps: 3, Sampler: Euler a, CFG scale: 7, Seed: 7, Size: 64x64, Model: tiny_sd1, "
      "ControlNet 0: \"Module: canny, Model: tiny_controlnet [00000000], Weight: 0.75, Resize Mode: Crop and Resize, "
      "Processor Res: 256, Threshold A: 64.0, Threshold B: 180.0, Guidance Start: 0.0, Guidance End: 1.0, "
      "Pixel Perfect: False, Control Mode: Balanced\", "
      "ControlNet 1: \"Module: threshold, Model: tiny_controlnet [00000000], Weight: 1.0, Resize Mode: Just Resize, "
      "Processor Res: 512, Threshold A: 150.5, Threshold B: -1, Guidance Start: 0.0, Guidance End: 1.0, "
      "Pixel Perfect: False, Control Mode: Balanced\", "
      "ControlNet 2: \"Module: scribble_xdog, Model: tiny_controlnet [00000000], Weight: 1.0, Resize Mode: Just Resize, "
      "Processor Res: 512, Threshold A: -1, Threshold B: -1, Guidance Start: 0.0, Guidance End: 1.0, "
      "Pixel Perfect: False, Control Mode: Balanced\"");
  const auto parameters = kiln::bridge::GenerationParameters::fromText(text);
  QVERIFY(parameters);
  QCOMPARE(parameters->controlNets.size(), 3);
  s.page->applyParameters(*parameters);
  const auto units = s.panel()->units();
  QCOMPARE(units.size(), 3);
  QCOMPARE(units[0]->preprocessor(), QStringLiteral("canny"));
  QCOMPARE(units[0]->paramSpin(QStringLiteral("low_threshold"))->value(), 64.0);
  QCOMPARE(units[0]->paramSpin(QStringLiteral("high_threshold"))->value(), 180.0);
  QCOMPARE(units[0]->resolution(), 256);
  // The slider beside the spin box moved too.
  const auto sliders = units[0]->findChildren<QSlider*>();
  QVERIFY(std::any_of(sliders.begin(), sliders.end(), [](const QSlider* sl) { return sl->value() == 64; }));
  QCOMPARE(units[1]->paramSpin(QStringLiteral("threshold"))->value(), 150.5);
  QCOMPARE(units[2]->paramSpin(QStringLiteral("threshold"))->value(), 32.0);
  // And the job records them back.
  QCOMPARE(units[0]->job().thresholdA, 64.0);
  QCOMPARE(units[0]->job().thresholdB, 180.0);
}

void TestControlNetPanel::snapsThePoseToTheDetectedPeople() {
  // DWPose's two files (the tiny test models) in a model folder, in A1111's layout.
  const QString folder = mDir->filePath(QStringLiteral("dwpose"));
  QVERIFY(QDir().mkpath(folder + QStringLiteral("/openpose")));
  const QString data = QStringLiteral(KILN_TEST_DATA "/dwpose/");
  QVERIFY(QFile::copy(data + QStringLiteral("yolox_tiny.onnx"), folder + QStringLiteral("/openpose/yolox_l.onnx")));
  QVERIFY(QFile::copy(data + QStringLiteral("dwpose_tiny.onnx"),
                      folder + QStringLiteral("/openpose/dw-ll_ucoco_384.onnx")));
  AppSettings(settingsFile()).setModelFolders({folder});
  Studio s(settingsFile());
  GenerationForm f = s.page->form();
  f.width = 256;
  f.height = 304;
  s.page->setForm(f);
  ControlUnitEditor* unit = s.panel()->addUnit();
  unit->setSource(ControlUnitEditor::Source::Pose);
  auto* panel = s.page->poseEditorPanel();
  s.page->beginPoseEdit(unit);
  QVERIFY(!panel->snapAction()->isEnabled());  // nothing under the pose to detect in
  QVERIFY(!panel->snapToDetected());

  const QImage portrait(kGolden + QStringLiteral("/control_maps/inputs/photo_portrait.png"));
  QVERIFY(!portrait.isNull());
  panel->edit(unit, portrait);
  QVERIFY(panel->snapAction()->isEnabled());
  const QList<PoseEditor::Person> before = panel->editor()->people();
  QSignalSpy finished(panel, &kiln::app::PoseEditorPanel::detectionFinished);
  panel->snapAction()->trigger();
  QVERIFY(panel->isDetecting());
  QVERIFY(!panel->snapAction()->isEnabled());
  QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, kTimeout);
  QVERIFY(panel->snapAction()->isEnabled());

  // The people the engine finds in the picture, with a body point shown, placed on the canvas.
  const auto files = kiln::control::find_dwpose_files({folder.toStdString()});
  auto scene = kiln::control::detect_dwpose(kiln::bridge::toControlImage(portrait), files);
  QVERIFY(scene.has_value());
  std::erase_if(scene->people, [](const kiln::control::PosePerson& p) {
    return std::none_of(p.body.begin(), p.body.end(), [](const kiln::control::Keypoint& k) { return k.drawn(); });
  });
  QVERIFY(scene->people.size() >= 2);
  QCOMPARE(finished.first().first().toInt(), static_cast<int>(scene->people.size()));
  const auto expected = kiln::app::fromPoseScene(*scene, panel->editor()->canvasSize());
  QVERIFY(expected.droppedParts > 0);  // faces and right hands are not edited here
  QCOMPARE(panel->editor()->people(), expected.people);
  QCOMPARE(unit->people(), expected.people);  // the unit renders them
  // One undo step brings the previous pose back.
  panel->editor()->undoStack()->undo();
  QCOMPARE(panel->editor()->people(), before);

  // Without the files the action is off and says what it needs.
  QVERIFY(QFile::remove(folder + QStringLiteral("/openpose/yolox_l.onnx")));
  panel->edit(unit, portrait);
  QVERIFY(!panel->snapAction()->isEnabled());
  QVERIFY2(panel->snapAction()->toolTip().contains(QLatin1String("yolox_l.onnx")),
           qPrintable(panel->snapAction()->toolTip()));
  s.page->endPoseEdit();
}

QTEST_MAIN(TestControlNetPanel)
#include "test_controlnet_panel.moc"
