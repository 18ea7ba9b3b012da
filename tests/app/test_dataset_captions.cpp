// Captions from a vision model on the Dataset page, against FakeVisionServer on loopback: caption
// the missing ones (captions on disk, shown, badged auto), an edit in the caption editor marks the
// caption edited, the review key marks it reviewed and moves on, Caption Selected in replace mode
// leaves the person's captions alone unless agreed, a 401 stops the run with its reason in the
// banner, a run cancelled half-way keeps its captions while a fill run asks only for the rest, pause
// and resume, Retry Failed asks only for the failed ones, and the options dialog checks the prompt.
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "captioning/caption_run.h"
#include "captioning/caption_store.h"
#include "captioning/vision_client.h"
#include "dataset/sidecar.h"
#include "fake_vision_server.h"
#include "pages/caption_endpoint_dialog.h"
#include "pages/caption_options_dialog.h"
#include "pages/dataset_delegate.h"
#include "pages/dataset_model.h"
#include "pages/dataset_page.h"
#include "state/app_settings.h"
#include "state/caption_settings.h"
#include "state/language.h"
#include "widgets/gallery_view.h"
#include "widgets/message_banner.h"
#include "widgets/prompt_edit.h"

using kiln::app::AppSettings;
using kiln::app::DatasetModel;
using kiln::app::DatasetPage;
using kiln::captioning::CaptionMode;
using Fault = kiln::test::FakeVisionServer::Fault;
using kiln::test::FakeVisionServer;
using Scope = DatasetPage::CaptionScope;

namespace {

constexpr int kTimeout = 30'000;

QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
}

// What the fake answers for an image, as sent (the JPEG shifts the mean colour a little).
QString expectedCaption(const QString& image) {
  QString error;
  const auto jpeg = kiln::captioning::prepareImage(image, 1024, &error);
  return jpeg ? FakeVisionServer::captionFor(QImage::fromData(*jpeg, "JPEG"), QStringLiteral("ohwx man")) : error;
}

QString captionPath(const QString& image) {
  const QFileInfo fi(image);
  return fi.dir().filePath(fi.completeBaseName() + QStringLiteral(".txt"));
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

}  // namespace

class TestDatasetCaptions : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void endpointDialogSavesNoKeyAndTests();
  void captionsMissingImagesAsTheyArrive();
  void editReviewAndReplaceKeepThePersonsCaptions();
  void unauthorizedStopsWithTheReasonInTheBanner();
  void cancelKeepsCaptionsAndFillAsksOnlyTheRest();
  void pausesResumesAndRetriesTheFailed();
  void optionsDialogChecksThePrompt();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString dataset() const { return mDir->filePath(QStringLiteral("dataset")); }
  // `n` prepared images (outputs with sidecars, originals in photos/), opened in the page.
  QStringList makeDataset(Studio& s, int n);
  void pointAtServer(Studio& s);
  bool caption(Studio& s, Scope scope, CaptionMode mode);

  std::unique_ptr<QTemporaryDir> mDir;
  std::unique_ptr<FakeVisionServer> mServer;
};

void TestDatasetCaptions::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
  qputenv("KILN_CAPTION_BACKOFF_MS", "20");
}

void TestDatasetCaptions::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  mServer = std::make_unique<FakeVisionServer>();
}

QStringList TestDatasetCaptions::makeDataset(Studio& s, int n) {
  QDir().mkpath(dataset());
  QDir().mkpath(mDir->filePath(QStringLiteral("photos")));
  QStringList outputs;
  for (int i = 0; i < n; ++i) {
    QImage image(160, 128, QImage::Format_RGB888);
    image.fill(QColor::fromHsv((i * 53) % 360, 180, 90 + (i * 37) % 160));
    const QString name = QStringLiteral("img_%1.png").arg(i, 2, 10, QLatin1Char('0'));
    const QString original = mDir->filePath(QStringLiteral("photos/") + name);
    image.save(original);
    const QString output = QDir(dataset()).filePath(name);
    image.copy(16, 0, 128, 128).save(output);
    kiln::dataset::CropSidecar sidecar;
    sidecar.source = std::filesystem::path(original.toStdString());
    sidecar.output = name.toStdString();
    sidecar.source_size = {160, 128};
    sidecar.resolution = 128;
    sidecar.crop = {16, 0, 128, 128};
    kiln::dataset::write_sidecar(kiln::dataset::sidecar_path_for(std::filesystem::path(output.toStdString())), sidecar);
    outputs << output;
  }
  QSignalSpy loaded(s.page->model(), &DatasetModel::loaded);
  s.page->openDataset(dataset());
  if (s.page->model()->rowCount() != n && !loaded.wait(kTimeout)) return {};
  return outputs;
}

void TestDatasetCaptions::pointAtServer(Studio& s) {
  kiln::captioning::EndpointProfile p;
  p.baseUrl = mServer->baseUrl();
  p.model = QStringLiteral("vision-model");
  p.concurrency = 1;
  p.timeoutSeconds = 5;
  s.page->captionSettings()->setProfile(p);
  kiln::captioning::PromptSettings prompt;
  prompt.preset = kiln::captioning::PromptPreset::Subject;
  prompt.className = QStringLiteral("man");
  s.page->captionSettings()->setPrompt(prompt);
  s.page->setInstanceToken(QStringLiteral("ohwx"));
}

bool TestDatasetCaptions::caption(Studio& s, Scope scope, CaptionMode mode) {
  QSignalSpy changed(s.page.get(), &DatasetPage::captioningChanged);
  if (!s.page->startCaptioning(scope, mode)) return false;
  QElapsedTimer clock;
  clock.start();
  while (changed.size() < 2 && clock.elapsed() < kTimeout) QTest::qWait(20);
  return changed.size() == 2 && !changed.last().at(0).toBool();
}

void TestDatasetCaptions::endpointDialogSavesNoKeyAndTests() {
  Studio s(settingsFile());
  qputenv("KILN_TEST_CAPTION_KEY", "secret-key-123");
  kiln::app::CaptionEndpointDialog dialog(s.page->captionSettings(), s.page->network());
  dialog.applyPreset(QStringLiteral("ollama"));
  QVERIFY(dialog.profile().baseUrl.contains(QLatin1String("11434")));
  kiln::captioning::EndpointProfile p = dialog.profile();
  p.baseUrl = mServer->baseUrl();
  p.model = QStringLiteral("vision-model");
  p.apiKeyEnv = QStringLiteral("KILN_TEST_CAPTION_KEY");
  dialog.setProfile(p);
  QCOMPARE(dialog.keyStatusLabel()->text(), QStringLiteral("● set"));
  dialog.testEndpoint();
  QTRY_VERIFY_WITH_TIMEOUT(dialog.resultLabel()->text().startsWith(QLatin1String("OK")), kTimeout);
  QVERIFY2(dialog.resultLabel()->text().contains(QLatin1String("vision-model")), qPrintable(dialog.resultLabel()->text()));
  dialog.accept();
  QCOMPARE(s.page->captionSettings()->profile().apiKeyEnv, QStringLiteral("KILN_TEST_CAPTION_KEY"));
  QCOMPARE(s.page->captionSettings()->profile().baseUrl, mServer->baseUrl());
  s.page.reset();  // nothing written anywhere holds the key itself
  s.settings.reset();
  QVERIFY(!readText(settingsFile()).contains(QLatin1String("secret-key-123")));
  QVERIFY(readText(settingsFile()).contains(QLatin1String("KILN_TEST_CAPTION_KEY")));
  qunsetenv("KILN_TEST_CAPTION_KEY");
  dialog.setProfile(p);
  QCOMPARE(dialog.keyStatusLabel()->text(), QStringLiteral("● not set"));
}

void TestDatasetCaptions::captionsMissingImagesAsTheyArrive() {
  Studio s(settingsFile());
  const QStringList images = makeDataset(s, 4);
  QCOMPARE(images.size(), 4);
  pointAtServer(s);
  // One image already has the person's caption: fill leaves it.
  QFile own(captionPath(images[3]));
  QVERIFY(own.open(QIODevice::WriteOnly));
  own.write("ohwx man, my own words");
  own.close();
  s.page->model()->refresh(images[3]);
  QSignalSpy activity(s.page.get(), &DatasetPage::activityChanged);
  QVERIFY(caption(s, Scope::Missing, CaptionMode::Fill));
  QCOMPARE(mServer->chatCount(), 3);
  for (int i = 0; i < 3; ++i) {
    const QString expected = expectedCaption(images[i]);
    QCOMPARE(readText(captionPath(images[i])), expected);
    QCOMPARE(s.page->model()->item(i).caption.value_or(QString()), expected);
    QCOMPARE(s.page->captionStatus(images[i]), QStringLiteral("auto"));
    const QModelIndex index = s.page->model()->index(i);
    QCOMPARE(index.data(DatasetModel::CaptionStatusRole).toString(), QStringLiteral("auto"));
    QCOMPARE(kiln::app::DatasetDelegate::captionBadgeTexts(index.data(DatasetModel::CaptionStatusRole).toString(),
                                                            index.data(DatasetModel::CaptionFlagsRole).toUInt())
                 .value(0),
             QStringLiteral("Auto"));
  }
  QCOMPARE(readText(captionPath(images[3])), QStringLiteral("ohwx man, my own words"));
  QCOMPARE(s.page->captionStatus(images[3]), QString());
  bool sawProgress = false;
  for (const QList<QVariant>& a : activity) sawProgress |= a.at(0).toString().startsWith(QLatin1String("Captioning "));
  QVERIFY(sawProgress);
  QVERIFY(activity.last().at(0).toString().isEmpty());
  // The current image's caption is in the editor, with where it came from.
  s.page->selectRow(1);
  QCOMPARE(s.page->captionEdit()->toPlainText(), readText(captionPath(images[1])));
  QVERIFY2(s.page->captionInfoLabel()->text().contains(QLatin1String("vision-model")), qPrintable(s.page->captionInfoLabel()->text()));
}

void TestDatasetCaptions::editReviewAndReplaceKeepThePersonsCaptions() {
  Studio s(settingsFile());
  const QStringList images = makeDataset(s, 5);
  QCOMPARE(images.size(), 5);
  pointAtServer(s);
  QVERIFY(caption(s, Scope::Missing, CaptionMode::Fill));
  QCOMPARE(mServer->chatCount(), 5);

  // An edit in the caption editor: edited (also in the dataset's record file).
  s.page->selectRow(0);
  s.page->captionEdit()->setPlainText(QStringLiteral("ohwx man, edited by hand"));
  s.page->commitCaption();
  QCOMPARE(readText(captionPath(images[0])), QStringLiteral("ohwx man, edited by hand"));
  QCOMPARE(s.page->captionStatus(images[0]), QStringLiteral("edited"));
  QCOMPARE(s.page->model()->index(0).data(DatasetModel::CaptionStatusRole).toString(), QStringLiteral("edited"));
  QVERIFY(readText(kiln::captioning::CaptionStore::fileFor(dataset())).contains(QLatin1String("\"edited\"")));

  // The review key: reviewed, and on to the next auto caption.
  s.page->activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(s.page.get()));
  s.page->selectRow(1);
  s.page->captionEdit()->setFocus();
  QTest::keyClick(s.page->captionEdit(), Qt::Key_Return, Qt::ControlModifier);
  QCOMPARE(s.page->captionStatus(images[1]), QStringLiteral("reviewed"));
  QCOMPARE(s.page->grid()->currentIndex().row(), 2);
  QCOMPARE(s.page->captionEdit()->toPlainText(), readText(captionPath(images[2])));  // no newline typed
  QTest::keyClick(s.page->captionEdit(), Qt::Key_A, Qt::AltModifier);
  QCOMPARE(s.page->captionStatus(images[2]), QStringLiteral("reviewed"));
  QCOMPARE(s.page->grid()->currentIndex().row(), 3);
  QTest::keyClick(s.page->captionEdit(), Qt::Key_N, Qt::AltModifier);
  QCOMPARE(s.page->grid()->currentIndex().row(), 4);
  QTest::keyClick(s.page->captionEdit(), Qt::Key_P, Qt::AltModifier);
  QCOMPARE(s.page->grid()->currentIndex().row(), 3);
  const QString reviewed1 = readText(captionPath(images[1]));

  // Caption Selected over all five, replace: asks about the three of the person's; "keep" asks
  // the server only for the two auto ones.
  s.page->grid()->selectAll();
  int asked = -1;
  s.page->setReplaceQuestion([&asked](int n) {
    asked = n;
    return DatasetPage::ReplaceAnswer::Cancel;
  });
  int before = mServer->chatCount();
  QVERIFY(!s.page->startCaptioning(Scope::Selected, CaptionMode::Replace));
  QCOMPARE(asked, 3);
  QCOMPARE(mServer->chatCount(), before);
  s.page->setReplaceQuestion([](int) { return DatasetPage::ReplaceAnswer::Keep; });
  mServer->setAnswerPrefix(QStringLiteral("This image shows "));  // stripped; the text is the same
  QVERIFY(caption(s, Scope::Selected, CaptionMode::Replace));
  QCOMPARE(mServer->chatCount() - before, 2);
  QCOMPARE(readText(captionPath(images[0])), QStringLiteral("ohwx man, edited by hand"));
  QCOMPARE(readText(captionPath(images[1])), reviewed1);
  QCOMPARE(s.page->captionStatus(images[0]), QStringLiteral("edited"));
  QCOMPARE(s.page->captionStatus(images[1]), QStringLiteral("reviewed"));
  QCOMPARE(s.page->captionStatus(images[2]), QStringLiteral("reviewed"));
  QCOMPARE(s.page->captionStatus(images[3]), QStringLiteral("auto"));
}

void TestDatasetCaptions::unauthorizedStopsWithTheReasonInTheBanner() {
  Studio s(settingsFile());
  const QStringList images = makeDataset(s, 3);
  QCOMPARE(images.size(), 3);
  pointAtServer(s);
  mServer->script({Fault::Unauthorized});
  QVERIFY(caption(s, Scope::Missing, CaptionMode::Fill));
  QVERIFY(s.page->banner()->isVisible());
  QCOMPARE(s.page->banner()->title(), QStringLiteral("Captioning stopped"));
  QVERIFY2(s.page->banner()->text().contains(QLatin1String("401")), qPrintable(s.page->banner()->text()));
  QCOMPARE(mServer->chatCount(), 1);  // never retried
  for (const QString& image : images) QVERIFY(!QFileInfo::exists(captionPath(image)));
}

void TestDatasetCaptions::cancelKeepsCaptionsAndFillAsksOnlyTheRest() {
  Studio s(settingsFile());
  const QStringList images = makeDataset(s, 6);
  QCOMPARE(images.size(), 6);
  pointAtServer(s);
  mServer->setAnswerDelayMs(150);
  QSignalSpy changed(s.page.get(), &DatasetPage::captioningChanged);
  QVERIFY(s.page->startCaptioning(Scope::Missing, CaptionMode::Fill));
  QVERIFY(s.page->isCaptioning());
  QTRY_VERIFY_WITH_TIMEOUT(s.page->captionRun()->doneCount() >= 2, kTimeout);
  QVERIFY(s.page->captionRunLabel()->text().startsWith(QLatin1String("Captioning ")));
  s.page->cancelCaptioning();
  QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 2, kTimeout);
  QVERIFY(!s.page->isCaptioning());
  int captioned = 0;
  for (const QString& image : images) captioned += QFileInfo::exists(captionPath(image)) ? 1 : 0;
  QVERIFY(captioned >= 2 && captioned < 6);
  for (int i = 0; i < 6; ++i) {
    if (QFileInfo::exists(captionPath(images[i]))) QCOMPARE(s.page->captionStatus(images[i]), QStringLiteral("auto"));
  }
  mServer->setAnswerDelayMs(0);
  const int before = mServer->chatCount();
  QVERIFY(caption(s, Scope::Missing, CaptionMode::Fill));
  QCOMPARE(mServer->chatCount() - before, 6 - captioned);
  for (const QString& image : images) QVERIFY(QFileInfo::exists(captionPath(image)));
}

void TestDatasetCaptions::pausesResumesAndRetriesTheFailed() {
  Studio s(settingsFile());
  const QStringList images = makeDataset(s, 4);
  QCOMPARE(images.size(), 4);
  pointAtServer(s);
  mServer->setAnswerDelayMs(100);
  mServer->script({Fault::Refusal});  // the first image: a refusal, not written, failed
  QSignalSpy changed(s.page.get(), &DatasetPage::captioningChanged);
  QVERIFY(s.page->startCaptioning(Scope::Missing, CaptionMode::Fill));
  s.page->pauseCaptioning();
  QVERIFY(s.page->captionRunLabel()->text().startsWith(QLatin1String("Paused")));
  QTest::qWait(600);  // the request in flight ends; nothing new starts
  QVERIFY(mServer->chatCount() <= 1);
  QVERIFY(s.page->isCaptioning());
  s.page->pauseCaptioning();  // resume
  QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 2, kTimeout);
  QCOMPARE(mServer->chatCount(), 4);
  QCOMPARE(s.page->captionStatus(images[0]), QStringLiteral("failed"));
  QVERIFY(!QFileInfo::exists(captionPath(images[0])));
  QVERIFY(s.page->banner()->isVisible());
  QVERIFY2(s.page->banner()->details().contains(QLatin1String("img_00.png")), qPrintable(s.page->banner()->details()));
  const QModelIndex first = s.page->model()->index(0);
  QCOMPARE(kiln::app::DatasetDelegate::captionBadgeTexts(first.data(DatasetModel::CaptionStatusRole).toString(),
                                                          first.data(DatasetModel::CaptionFlagsRole).toUInt()),
           (QStringList{QStringLiteral("Failed"), QStringLiteral("Refusal")}));
  // Retry over a selection that holds the failed one and a captioned one: only the failed is asked.
  mServer->setAnswerDelayMs(0);
  s.page->selectRow(0);
  s.page->grid()->selectionModel()->select(s.page->model()->index(1), QItemSelectionModel::Select);
  QVERIFY(caption(s, Scope::Failed, CaptionMode::Replace));
  QCOMPARE(mServer->chatCount(), 5);
  QCOMPARE(readText(captionPath(images[0])), expectedCaption(images[0]));
  QCOMPARE(s.page->captionStatus(images[0]), QStringLiteral("auto"));
  // Nothing failed is selected: nothing is asked.
  s.page->selectRow(2);
  QVERIFY(!s.page->startCaptioning(Scope::Failed, CaptionMode::Replace));
  QCOMPARE(mServer->chatCount(), 5);
}

void TestDatasetCaptions::optionsDialogChecksThePrompt() {
  Studio s(settingsFile());
  pointAtServer(s);
  kiln::captioning::PromptSettings noClass = s.page->captionSettings()->prompt();
  noClass.className.clear();
  s.page->captionSettings()->setPrompt(noClass);
  kiln::app::CaptionOptionsDialog dialog(s.page->captionSettings(), s.page->network(), QStringLiteral("ohwx"),
                                         CaptionMode::Replace, 3);
  QCOMPARE(dialog.mode(), CaptionMode::Replace);
  dialog.accept();  // the subject preset names {class}: refused with the reason
  QCOMPARE(dialog.result(), int(QDialog::Rejected));
  auto* error = dialog.findChild<QLabel*>(QStringLiteral("captionOptionsError"));
  QVERIFY(error && !error->isHidden());
  QVERIFY2(error->text().contains(QLatin1String("{class}")), qPrintable(error->text()));
  dialog.findChild<QLineEdit*>(QStringLiteral("captionClass"))->setText(QStringLiteral("woman"));
  dialog.findChild<QLineEdit*>(QStringLiteral("captionSuffix"))->setText(QStringLiteral("film grain"));
  dialog.accept();
  QCOMPARE(dialog.result(), int(QDialog::Accepted));
  QCOMPARE(s.page->captionSettings()->prompt().className, QStringLiteral("woman"));
  QCOMPARE(s.page->captionSettings()->prompt().suffix, QStringLiteral("film grain"));
  QCOMPARE(dialog.prompt().token, QStringLiteral("ohwx"));
}

QTEST_MAIN(TestDatasetCaptions)
#include "test_dataset_captions.moc"
