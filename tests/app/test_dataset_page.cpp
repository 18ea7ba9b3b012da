// The Dataset page driven as a user would, on the face test photos (tests/data/faces): import a
// folder and find each image with its badges and the skipped file's reason; drag a crop box and
// find the output regenerated and the sidecar adjusted, then undo it; edit a caption and undo
// it; a bulk edit over all images and its undo; the training prompt; cancel an import.
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "dataset/prepare_dataset.h"
#include "dataset/sidecar.h"
#include "pages/dataset_delegate.h"
#include "pages/dataset_model.h"
#include "pages/dataset_page.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/crop_editor.h"
#include "widgets/message_banner.h"
#include "widgets/prompt_edit.h"

using kiln::app::AppSettings;
using kiln::app::DatasetItem;
using kiln::app::DatasetPage;

namespace {

constexpr int kTimeout = 180'000;
const QString kFaces = QStringLiteral(KILN_TEST_DATA "/faces");

QByteArray fileBytes(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text);
}

struct Studio {
  explicit Studio(const QString& settingsFile)
      : settings(std::make_unique<AppSettings>(settingsFile)), page(std::make_unique<DatasetPage>(settings.get())) {
    page->resize(1280, 800);
    page->show();
  }
  ~Studio() {
    page.reset();
    settings.reset();
  }
  std::unique_ptr<AppSettings> settings;
  std::unique_ptr<DatasetPage> page;
};

// Sends a left-button drag from `from` to `to` (widget coordinates), as a mouse would.
void drag(QWidget* widget, QPointF from, QPointF to) {
  const QPointF global = widget->mapToGlobal(QPoint(0, 0));
  QMouseEvent press(QEvent::MouseButtonPress, from, global + from, Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(widget, &press);
  for (int i = 1; i <= 4; ++i) {
    const QPointF at = from + (to - from) * (i / 4.0);
    QMouseEvent move(QEvent::MouseMove, at, global + at, Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(widget, &move);
  }
  QMouseEvent release(QEvent::MouseButtonRelease, to, global + to, Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(widget, &release);
}

}  // namespace

class TestDatasetPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void importsPhotosWithBadges();
  void movesACropAndRegeneratesTheOutput();
  void editsACaptionAndUndoes();
  void bulkEditsCaptionsAndUndoes();
  void cancelsAnImport();
  void removesAnImageAndUndoes();
  void remembersTheDataset();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString photos() const { return mDir->filePath(QStringLiteral("photos")); }
  QString dataset() const { return mDir->filePath(QStringLiteral("dataset")); }
  void copyPhoto(const QString& name, const QString& as);
  // Imports photos() into dataset() and waits for the grid.
  void importAndWait(Studio& s);

  std::unique_ptr<QTemporaryDir> mDir;
};

void TestDatasetPage::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
}

void TestDatasetPage::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  QVERIFY(QDir().mkpath(photos()));
}

void TestDatasetPage::copyPhoto(const QString& name, const QString& as) {
  QVERIFY2(QFile::copy(kFaces + QLatin1Char('/') + name, photos() + QLatin1Char('/') + as), qPrintable(name));
}

void TestDatasetPage::importAndWait(Studio& s) {
  s.page->openDataset(dataset());
  QSignalSpy ended(s.page.get(), &DatasetPage::importEnded);
  s.page->importSources({photos()});
  QVERIFY(s.page->isImporting());
  QVERIFY(ended.wait(kTimeout));
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isBusy(), kTimeout);
}

void TestDatasetPage::importsPhotosWithBadges() {
  copyPhoto(QStringLiteral("astronaut_512.png"), QStringLiteral("astronaut.png"));
  writeText(photos() + QStringLiteral("/astronaut.txt"), "an astronaut in front of a flag");
  copyPhoto(QStringLiteral("noface_cat.png"), QStringLiteral("cat.png"));
  copyPhoto(QStringLiteral("small_320x240.jpg"), QStringLiteral("small.jpg"));
  copyPhoto(QStringLiteral("hopper_portrait.jpg"), QStringLiteral("hopper.jpg"));
  copyPhoto(QStringLiteral("hopper_portrait.jpg"), QStringLiteral("hopper_copy.jpg"));
  copyPhoto(QStringLiteral("corrupt/empty.jpg"), QStringLiteral("empty.jpg"));
  Studio s(settingsFile());
  importAndWait(s);

  const auto* model = s.page->model();
  QCOMPARE(model->rowCount(), 5);
  const auto badges = [&](const QString& name) {
    const int row = model->rowOf(dataset() + QLatin1Char('/') + name);
    return row < 0 ? -1 : model->item(row).badges();
  };
  QCOMPARE(badges(QStringLiteral("astronaut.png")), int(DatasetItem::Face));
  // The cat photo is 300 px high: its crop is upscaled to 512.
  QCOMPARE(badges(QStringLiteral("cat.png")), DatasetItem::NoFace | DatasetItem::TooSmall | DatasetItem::NoCaption);
  QVERIFY(badges(QStringLiteral("small.png")) & DatasetItem::TooSmall);
  QCOMPARE(badges(QStringLiteral("hopper.png")), DatasetItem::Face | DatasetItem::NoCaption);
  QCOMPARE(badges(QStringLiteral("hopper_copy.png")), DatasetItem::Face | DatasetItem::NoCaption | DatasetItem::Duplicate);
  QCOMPARE(kiln::app::DatasetDelegate::badgeTexts(badges(QStringLiteral("cat.png"))),
           QStringList({QStringLiteral("No face"), QStringLiteral("Too small"), QStringLiteral("No caption")}));

  // The unreadable photo is reported by name with the engine's reason.
  QCOMPARE(s.page->lastImport().skipped(), 1);
  QVERIFY(s.page->banner()->isVisible());
  QCOMPARE(s.page->banner()->title(), QStringLiteral("1 photo could not be used"));
  QVERIFY2(s.page->banner()->details().contains(QStringLiteral("empty.jpg: empty file")),
           qPrintable(s.page->banner()->details()));

  // Thumbnails arrive off the GUI thread.
  QTRY_VERIFY_WITH_TIMEOUT(!model->data(model->index(0), Qt::DecorationRole).value<QPixmap>().isNull(), 20'000);

  // The training prompt: the caption as is; without one, the file name (with the token first).
  s.page->setInstanceToken(QStringLiteral("phtmejhn"));
  QCOMPARE(s.page->trainingPrompt(dataset() + QStringLiteral("/cat.png")), QStringLiteral("phtmejhn, cat"));
  QCOMPARE(s.page->trainingPrompt(dataset() + QStringLiteral("/astronaut.png")),
           QStringLiteral("phtmejhn, an astronaut in front of a flag"));
  s.page->selectRow(model->rowOf(dataset() + QStringLiteral("/astronaut.png")));
  QCOMPARE(s.page->trainingPromptLabel()->text(), QStringLiteral("phtmejhn, an astronaut in front of a flag"));
  QTRY_COMPARE_WITH_TIMEOUT(s.page->captionEdit()->counterText(), QStringLiteral("13/75"), 10'000);
}

void TestDatasetPage::movesACropAndRegeneratesTheOutput() {
  copyPhoto(QStringLiteral("hopper_portrait.jpg"), QStringLiteral("hopper.jpg"));  // 512x600: room to move down
  Studio s(settingsFile());
  importAndWait(s);
  const QString output = dataset() + QStringLiteral("/hopper.png");
  const QString sidecar = dataset() + QStringLiteral("/hopper.crop.json");
  s.page->selectRow(0);
  QCOMPARE(s.page->currentOutput(), output);
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->cropEditor()->image().isNull(), 20'000);
  const auto before = kiln::dataset::read_sidecar(sidecar.toStdString());
  QVERIFY(!before.adjusted);
  const QRect start = s.page->cropEditor()->crop();
  QCOMPARE(start, QRect(before.crop.x, before.crop.y, before.crop.w, before.crop.h));
  const QByteArray original = fileBytes(output);

  // Drag the box down and to the right by 40 pixels of the photo: only down is possible.
  auto* editor = s.page->cropEditor();
  const QPointF from = editor->toWidget(QRectF(start).center());
  const QPointF to = editor->toWidget(QRectF(start).center() + QPointF(40, 40));
  QSignalSpy applied(s.page.get(), &DatasetPage::cropApplied);
  drag(editor, from, to);
  QVERIFY(applied.wait(30'000));
  const QRect moved = editor->crop();
  QCOMPARE(moved.size(), start.size());
  QCOMPARE(moved.x(), start.x());  // the image is as wide as the crop: clamped
  QVERIFY2(moved.y() > start.y(), qPrintable(QStringLiteral("%1 -> %2").arg(start.y()).arg(moved.y())));

  const auto after = kiln::dataset::read_sidecar(sidecar.toStdString());
  QVERIFY(after.adjusted);
  QCOMPARE(QRect(after.crop.x, after.crop.y, after.crop.w, after.crop.h), moved);
  QVERIFY(fileBytes(output) != original);
  QCOMPARE(s.page->undoStack()->count(), 1);

  // Undo regenerates the crop before.
  applied.clear();
  s.page->undoStack()->undo();
  QVERIFY(applied.wait(30'000));
  const auto undone = kiln::dataset::read_sidecar(sidecar.toStdString());
  QCOMPARE(QRect(undone.crop.x, undone.crop.y, undone.crop.w, undone.crop.h), start);
  QTRY_COMPARE(editor->crop(), start);

  // Reset after a move puts back the proposed crop.
  applied.clear();
  s.page->undoStack()->redo();
  QVERIFY(applied.wait(30'000));
  applied.clear();
  s.page->resetCrop();
  QVERIFY(applied.wait(30'000));
  const auto reset = kiln::dataset::read_sidecar(sidecar.toStdString());
  QCOMPARE(QRect(reset.crop.x, reset.crop.y, reset.crop.w, reset.crop.h), start);
}

void TestDatasetPage::editsACaptionAndUndoes() {
  copyPhoto(QStringLiteral("astronaut_512.png"), QStringLiteral("astronaut.png"));
  writeText(photos() + QStringLiteral("/astronaut.txt"), "an astronaut");
  copyPhoto(QStringLiteral("noface_rocket.jpg"), QStringLiteral("rocket.jpg"));
  Studio s(settingsFile());
  importAndWait(s);
  const QString astronaut = dataset() + QStringLiteral("/astronaut.png");
  const QString astronautTxt = dataset() + QStringLiteral("/astronaut.txt");
  const QString rocketTxt = dataset() + QStringLiteral("/rocket.txt");
  QCOMPARE(fileBytes(astronautTxt), QByteArray("an astronaut"));
  QVERIFY(!QFile::exists(rocketTxt));

  s.page->selectRow(s.page->model()->rowOf(astronaut));
  QCOMPARE(s.page->captionEdit()->toPlainText(), QStringLiteral("an astronaut"));
  s.page->captionEdit()->setFocus();
  s.page->captionEdit()->moveCursor(QTextCursor::End);
  QTest::keyClicks(s.page->captionEdit(), QStringLiteral(" in space"));
  // Written after a pause in typing.
  QTRY_COMPARE_WITH_TIMEOUT(fileBytes(astronautTxt), QByteArray("an astronaut in space"), 5'000);
  QCOMPARE(s.page->trainingPromptLabel()->text(), QStringLiteral("an astronaut in space"));
  QCOMPARE(s.page->undoStack()->count(), 1);  // the typing is one step

  s.page->undoStack()->undo();
  QCOMPARE(fileBytes(astronautTxt), QByteArray("an astronaut"));
  QCOMPARE(s.page->captionEdit()->toPlainText(), QStringLiteral("an astronaut"));
  s.page->undoStack()->redo();
  QCOMPARE(fileBytes(astronautTxt), QByteArray("an astronaut in space"));

  // An image without a caption: undo removes the file again.
  s.page->selectRow(s.page->model()->rowOf(dataset() + QStringLiteral("/rocket.png")));
  s.page->captionEdit()->setPlainText(QStringLiteral("a rocket"));
  s.page->commitCaption();
  QCOMPARE(fileBytes(rocketTxt), QByteArray("a rocket"));
  QVERIFY(!(s.page->model()->item(s.page->model()->rowOf(dataset() + QStringLiteral("/rocket.png"))).badges() &
            DatasetItem::NoCaption));
  s.page->undoStack()->undo();
  QVERIFY(!QFile::exists(rocketTxt));
  QVERIFY(s.page->model()->item(s.page->model()->rowOf(dataset() + QStringLiteral("/rocket.png"))).badges() &
          DatasetItem::NoCaption);
}

void TestDatasetPage::bulkEditsCaptionsAndUndoes() {
  copyPhoto(QStringLiteral("astronaut_512.png"), QStringLiteral("astronaut.png"));
  writeText(photos() + QStringLiteral("/astronaut.txt"), "a man in a suit");
  copyPhoto(QStringLiteral("noface_rocket.jpg"), QStringLiteral("rocket.jpg"));
  Studio s(settingsFile());
  importAndWait(s);
  const QString astronautTxt = dataset() + QStringLiteral("/astronaut.txt");
  const QString rocketTxt = dataset() + QStringLiteral("/rocket.txt");

  s.page->bulkEdit(DatasetPage::BulkEdit::FillEmpty, QStringLiteral("a rocket"), {}, true);
  QCOMPARE(fileBytes(rocketTxt), QByteArray("a rocket"));
  QCOMPARE(fileBytes(astronautTxt), QByteArray("a man in a suit"));
  s.page->bulkEdit(DatasetPage::BulkEdit::FindReplace, QStringLiteral("a man"), QStringLiteral("phtmejhn"), true);
  QCOMPARE(fileBytes(astronautTxt), QByteArray("phtmejhn in a suit"));
  s.page->bulkEdit(DatasetPage::BulkEdit::AddToken, QStringLiteral("phtmejhn"), {}, true);
  QCOMPARE(fileBytes(astronautTxt), QByteArray("phtmejhn in a suit"));  // already there
  QCOMPARE(fileBytes(rocketTxt), QByteArray("phtmejhn, a rocket"));
  QCOMPARE(s.page->undoStack()->count(), 3);

  s.page->undoStack()->undo();
  QCOMPARE(fileBytes(rocketTxt), QByteArray("a rocket"));
  s.page->undoStack()->undo();
  QCOMPARE(fileBytes(astronautTxt), QByteArray("a man in a suit"));
  s.page->undoStack()->undo();
  QVERIFY(!QFile::exists(rocketTxt));

  // An empty token is refused with a message, nothing written.
  s.page->bulkEdit(DatasetPage::BulkEdit::AddToken, QStringLiteral("  "), {}, true);
  QVERIFY(s.page->banner()->isVisible());
  QCOMPARE(s.page->banner()->title(), QStringLiteral("No instance token"));
  QCOMPARE(s.page->undoStack()->count(), 3);
}

void TestDatasetPage::removesAnImageAndUndoes() {
  copyPhoto(QStringLiteral("astronaut_512.png"), QStringLiteral("astronaut.png"));
  writeText(photos() + QStringLiteral("/astronaut.txt"), "an astronaut");
  copyPhoto(QStringLiteral("noface_rocket.jpg"), QStringLiteral("rocket.jpg"));
  Studio s(settingsFile());
  importAndWait(s);
  QCOMPARE(s.page->model()->rowCount(), 2);
  const QString astronaut = dataset() + QStringLiteral("/astronaut.png");
  const QString caption = dataset() + QStringLiteral("/astronaut.txt");
  const QString sidecar = dataset() + QStringLiteral("/astronaut.crop.json");
  const QByteArray image = fileBytes(astronaut);
  QVERIFY(!image.isEmpty());

  s.page->selectRow(s.page->model()->rowOf(astronaut));
  QVERIFY(s.page->removeAction()->isEnabled());
  s.page->removeAction()->trigger();
  QCOMPARE(s.page->model()->rowCount(), 1);
  QCOMPARE(s.page->model()->rowOf(astronaut), -1);
  for (const QString& f : {astronaut, caption, sidecar}) QVERIFY2(!QFile::exists(f), qPrintable(f));
  QCOMPARE(fileBytes(dataset() + QStringLiteral("/.removed/astronaut.png")), image);
  QVERIFY(QFile::exists(dataset() + QStringLiteral("/.removed/astronaut.txt")));
  // Training does not see it: hidden folders are not listed.
  QCOMPARE(kiln::dataset::list_images(dataset().toStdString()).size(), std::size_t{1});

  s.page->undoStack()->undo();
  QCOMPARE(s.page->model()->rowCount(), 2);
  QVERIFY(s.page->model()->rowOf(astronaut) >= 0);
  QCOMPARE(fileBytes(astronaut), image);
  QCOMPARE(fileBytes(caption), QByteArray("an astronaut"));
  QVERIFY(QFile::exists(sidecar));
  s.page->undoStack()->redo();
  QCOMPARE(s.page->model()->rowCount(), 1);
}

void TestDatasetPage::cancelsAnImport() {
  const QStringList names{QStringLiteral("hopper_portrait.jpg"), QStringLiteral("portrait_beach.jpg"),
                          QStringLiteral("two_faces_brick.jpg"), QStringLiteral("face_fills_frame.jpg")};
  for (int i = 0; i < 16; ++i) copyPhoto(names[i % names.size()], QStringLiteral("photo%1.jpg").arg(i, 2, 10, QLatin1Char('0')));
  Studio s(settingsFile());
  s.page->openDataset(dataset());
  QSignalSpy ended(s.page.get(), &DatasetPage::importEnded);
  QSignalSpy activity(s.page.get(), &DatasetPage::activityChanged);
  s.page->importSources({photos()});
  // Once the first photo is done, cancel.
  QTRY_VERIFY_WITH_TIMEOUT(std::any_of(activity.begin(), activity.end(),
                                       [](const QList<QVariant>& a) { return a.at(1).toInt() > 0; }),
                           kTimeout);
  QVERIFY(s.page->cancelAction()->isEnabled());
  s.page->cancelAction()->trigger();
  QVERIFY(ended.wait(kTimeout));
  QVERIFY(!s.page->isImporting());
  QVERIFY(s.page->lastImport().cancelled);
  const int prepared = static_cast<int>(s.page->lastImport().items.size());
  QVERIFY2(prepared >= 1 && prepared < 16, qPrintable(QString::number(prepared)));
  QTRY_VERIFY_WITH_TIMEOUT(!s.page->isBusy(), kTimeout);
  QCOMPARE(s.page->model()->rowCount(), prepared);
  // Nothing half-written: every output has its sidecar and no temporary file is left.
  const QDir out(dataset());
  QCOMPARE(out.entryList({QStringLiteral("*.png")}, QDir::Files).size(), prepared);
  QCOMPARE(out.entryList({QStringLiteral("*.crop.json")}, QDir::Files).size(), prepared);
  for (const QString& name : out.entryList(QDir::Files | QDir::Hidden)) {
    QVERIFY2(name.endsWith(QLatin1String(".png")) || name.endsWith(QLatin1String(".json")), qPrintable(name));
  }
  // Responsive: another import runs to its end.
  QVERIFY(s.page->importAction()->isEnabled());
}

void TestDatasetPage::remembersTheDataset() {
  copyPhoto(QStringLiteral("astronaut_512.png"), QStringLiteral("astronaut.png"));
  {
    Studio s(settingsFile());
    importAndWait(s);
    s.page->setInstanceToken(QStringLiteral("phtmejhn"));
  }
  Studio again(settingsFile());
  QCOMPARE(again.page->datasetFolder(), QDir::cleanPath(dataset()));
  QTRY_COMPARE_WITH_TIMEOUT(again.page->model()->rowCount(), 1, 20'000);
  QCOMPARE(again.page->trainingPrompt(dataset() + QStringLiteral("/astronaut.png")), QStringLiteral("phtmejhn, astronaut"));
}

QTEST_MAIN(TestDatasetPage)
#include "test_dataset_page.moc"
