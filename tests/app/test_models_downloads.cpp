// Getting models on the Models page (issue 16): the catalog dialog, the licence question, the
// downloads panel, the empty state's starter model, a download surviving a killed Kiln, and the
// main window's job area; against a local test server (HF_ENDPOINT), with a tiny catalog whose
// sha256 values match the bytes the server serves.
#include <QApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>
#include <QtTest>

#include <functional>
#include <memory>

#include "base/engine.h"
#include "downloads/catalog.h"
#include "downloads/download_manager.h"
#include "fault_server.h"
#include "main_window.h"
#include "pages/catalog_dialog.h"
#include "pages/downloads_panel.h"
#include "pages/models_page.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/empty_state.h"

using kiln::app::AppSettings;
using kiln::app::CatalogDialog;
using kiln::app::DownloadsPanel;
using kiln::app::ModelLibrary;
using kiln::app::ModelsPage;
using kiln::downloads::Catalog;
using kiln::downloads::DownloadManager;
using kiln::downloads::DownloadOptions;
using kiln::downloads::FileDownload;
using kiln::test::FaultServer;
using kiln::test::HttpRequest;
using kiln::test::ServeOptions;
using State = FileDownload::State;

namespace {

constexpr int kTimeout = 60'000;
const QString kLicence = QStringLiteral("CreativeML OpenRAIL-M");

QByteArray readFile(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString sha256Hex(const QByteArray& data) {
  return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

DownloadOptions fastOptions() {
  DownloadOptions o;
  o.firstBackoffMs = 50;
  o.maxBackoffMs = 200;
  o.stallTimeoutMs = 5000;
  o.maxAttempts = 4;
  o.freeSpaceMargin = 0;
  return o;
}

// Answers the next message box with the button whose text is `button` (nothing found: Escape).
// `seen` (if given) receives the box's text.
void answerNextBox(const QString& button, QString* seen = nullptr, int tries = 100) {
  QTimer::singleShot(50, qApp, [button, seen, tries] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box) {
      if (tries > 0) answerNextBox(button, seen, tries - 1);
      return;
    }
    if (seen) *seen = box->objectName() + QLatin1Char('|') + box->text();
    for (QAbstractButton* b : box->buttons()) {
      if (b->text() == button) {
        b->click();
        return;
      }
    }
    box->reject();
  });
}

// Settings, library, downloads and page; destroying it is what a killed Kiln leaves behind
// (the parts and the state file; nothing is saved on the way out).
struct Studio {
  Studio(const QString& settingsFile, const QString& stateFile, const Catalog* catalog)
      : settings(std::make_unique<AppSettings>(settingsFile)),
        library(std::make_unique<ModelLibrary>(settings.get())),
        manager(std::make_unique<DownloadManager>(stateFile)),
        page(std::make_unique<ModelsPage>(library.get(), settings.get())) {
    library->setRescanDelay(50);
    manager->setOptions(fastOptions());
    page->setDownloads(manager.get(), catalog);
    page->resize(1200, 800);
    page->show();
  }
  ~Studio() {
    page.reset();
    manager.reset();
    library.reset();
    settings.reset();
  }

  QWidget* row(const FileDownload* d) const { return page->downloadsPanel()->rowOf(d); }
  QString rowText(const FileDownload* d, const char* name) const {
    auto* label = row(d)->findChild<QLabel*>(QLatin1String(name));
    return label ? label->text() : QString();
  }
  QPushButton* rowButton(const FileDownload* d, const char* name) const {
    return row(d)->findChild<QPushButton*>(QLatin1String(name));
  }

  std::unique_ptr<AppSettings> settings;
  std::unique_ptr<ModelLibrary> library;
  std::unique_ptr<DownloadManager> manager;
  std::unique_ptr<ModelsPage> page;
};

}  // namespace

class TestModelsDownloads : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void cleanupTestCase();
  void catalogDownloadIsVerifiedAndListed();
  void pastedBadLinkShowsTheErrorInline();
  void resumesAfterKilnWasKilled();
  void pauseResumeCancelAndDismiss();
  void emptyStateGetsStableDiffusion15();
  void jobAreaShowsTheDownloads();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString stateFile() const { return mDir->filePath(QStringLiteral("downloads.json")); }
  QString models() const { return mDir->filePath(QStringLiteral("models")); }
  void useModelsFolder() {
    QDir().mkpath(models());
    AppSettings(settingsFile()).setModelFolders({models()});
  }

  std::unique_ptr<FaultServer> mServer;
  std::unique_ptr<QTemporaryDir> mDir;
  std::optional<Catalog> mCatalog;
  QByteArray mModel;  // a real SD 1.x single file (the library can read it)
  QByteArray mVae;    // bytes only
  QByteArray mSlow;   // served throttled
};

void TestModelsDownloads::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
  mServer = std::make_unique<FaultServer>();
  qputenv("HF_ENDPOINT", mServer->base().toLatin1());

  mModel = readFile(QStringLiteral(KILN_TEST_DATA "/golden/pipeline/tiny_sd1.safetensors"));
  QVERIFY(!mModel.isEmpty());
  mVae = QByteArray(200 * 1024, 'v');
  mSlow = mModel;  // 6 MB at 32 KB per 15 ms: about 3 s
  const QByteArray model = mModel, vae = mVae, slow = mSlow;
  mServer->route("/kiln/tiny/resolve/main/tiny.safetensors",
                 [model](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, model); });
  mServer->route("/kiln/tiny/resolve/main/tiny-vae.safetensors",
                 [vae](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, vae); });
  ServeOptions throttled;
  throttled.chunkBytes = 32 * 1024;
  throttled.chunkDelayMs = 15;
  mServer->route("/kiln/tiny/resolve/main/slow.safetensors", [slow, throttled](const HttpRequest& r, QTcpSocket* s) {
    FaultServer::serveBytes(r, s, slow, throttled);
  });
  mServer->route("/kiln/tiny/resolve/main/slow2.safetensors", [slow, throttled](const HttpRequest& r, QTcpSocket* s) {
    FaultServer::serveBytes(r, s, slow, throttled);
  });

  const auto entry = [](const QString& id, const QString& name, const QString& kind, const QString& file,
                        const QByteArray& body, const QString& licence) {
    return QStringLiteral(R"({"id":"%1","name":"%2","family":"sd1","kind":"%3",%7
      "source":{"type":"hf","repo":"kiln/tiny","file":"%4","revision":"main"},
      "size":%5,"sha256":"%6","license":{"name":"%8","url":"https://example.org/licence"},
      "description":"A tiny test model.","provenance":"the test"})")
        .arg(id, name, kind, file)
        .arg(body.size())
        .arg(sha256Hex(body),
             kind == QLatin1String("controlnet") ? QStringLiteral(R"("preprocessors":["canny"],)") : QString(),
             licence);
  };
  const QString json =
      QStringLiteral(R"({"format":1,"version":"test","entries":[%1]})")
          .arg(QStringList{entry(QStringLiteral("tiny"), QStringLiteral("Tiny SD"), QStringLiteral("checkpoint"),
                                 QStringLiteral("tiny.safetensors"), mModel, kLicence),
                           entry(QStringLiteral("tiny-vae"), QStringLiteral("Tiny VAE"), QStringLiteral("vae"),
                                 QStringLiteral("tiny-vae.safetensors"), mVae, kLicence),
                           entry(QStringLiteral("slow"), QStringLiteral("Slow SD"), QStringLiteral("checkpoint"),
                                 QStringLiteral("slow.safetensors"), mSlow, kLicence),
                           entry(QStringLiteral("slow2"), QStringLiteral("Slow SD 2"), QStringLiteral("checkpoint"),
                                 QStringLiteral("slow2.safetensors"), mSlow, kLicence)}
                   .join(QLatin1Char(',')));
  QString error;
  mCatalog = Catalog::parse(json.toUtf8(), QStringLiteral("test catalog"), &error);
  QVERIFY2(mCatalog, qPrintable(error));
}

void TestModelsDownloads::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  mServer->clearLog();
}

void TestModelsDownloads::cleanupTestCase() { mServer.reset(); }

void TestModelsDownloads::catalogDownloadIsVerifiedAndListed() {
  useModelsFolder();
  Studio s(settingsFile(), stateFile(), &*mCatalog);
  QVERIFY(!s.page->downloadsPanel()->isVisibleTo(s.page.get()));
  QVERIFY(s.page->getModelsAction()->isEnabled());
  s.page->getModelsAction()->trigger();
  CatalogDialog* dialog = s.page->catalogDialog();
  QVERIFY(dialog && dialog->isVisible());
  QCOMPARE(dialog->destination(), models());

  // The family filter: preprocessor weights hides these SD 1.5 entries.
  dialog->setFamilyFilter(QStringLiteral("annotator"));
  for (int row = 0; row < dialog->table()->rowCount(); ++row) QVERIFY(dialog->table()->isRowHidden(row));
  QVERIFY(!dialog->downloadButton()->isEnabled());
  dialog->setFamilyFilter(QStringLiteral("sd1"));
  dialog->selectEntry(QStringLiteral("tiny"));
  QCOMPARE(dialog->selectedId(), QStringLiteral("tiny"));
  QCOMPARE(dialog->table()->item(dialog->table()->currentRow(), CatalogDialog::Size)->text(),
           kiln::downloads::formatBytes(mModel.size()));
  QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("catalogDetails"))
              ->text()
              .contains(QLatin1String("https://example.org/licence")));
  QVERIFY(dialog->downloadButton()->isEnabled());

  QString question;
  answerNextBox(QStringLiteral("Accept and Download"), &question);
  dialog->downloadButton()->click();
  QVERIFY2(question.startsWith(QLatin1String("licenceQuestion|")) && question.contains(kLicence) &&
               question.contains(QLatin1String("href=\"https://example.org/licence\"")),
           qPrintable(question));
  QVERIFY(s.settings->isLicenceAccepted(kLicence));
  // Queued: not offered twice.
  QCOMPARE(dialog->table()->item(dialog->table()->currentRow(), CatalogDialog::Installed)->text(),
           QStringLiteral("Queued"));
  QVERIFY(!dialog->downloadButton()->isEnabled());
  QCOMPARE(s.manager->downloads().size(), 1);
  FileDownload* d = s.manager->downloads().front();
  QVERIFY(s.page->downloadsPanel()->isVisibleTo(s.page.get()));
  QCOMPARE(s.rowText(d, "downloadLabel"), QStringLiteral("Tiny SD"));
  QTRY_VERIFY_WITH_TIMEOUT(d->state() == State::Finished || d->state() == State::Failed, kTimeout);
  QVERIFY2(d->state() == State::Finished, qPrintable(d->error()));
  QVERIFY(d->verified());
  QCOMPARE(s.rowText(d, "downloadState"), QStringLiteral("Verified (sha256 from catalog)"));
  const QString target = models() + QStringLiteral("/tiny.safetensors");
  QCOMPARE(readFile(target), mModel);
  QVERIFY(s.rowButton(d, "downloadDismiss")->isVisible());

  // The folder watcher lists it, and the library's hash is the catalog's.
  QTRY_VERIFY_WITH_TIMEOUT(s.library->entry(target) && !s.library->entry(target)->summary.sha256.isEmpty(), kTimeout);
  QCOMPARE(s.library->entry(target)->summary.sha256, sha256Hex(mModel));
  // Installed now: ticked, not offered again.
  QTRY_COMPARE(dialog->table()->item(dialog->table()->currentRow(), CatalogDialog::Installed)->text(),
               QStringLiteral("✓"));
  QVERIFY(!dialog->downloadButton()->isEnabled());

  // The same licence is not asked again; the VAE goes to the VAE subfolder.
  dialog->selectEntry(QStringLiteral("tiny-vae"));
  QString again;
  answerNextBox(QStringLiteral("Cancel"), &again, 10);
  dialog->downloadButton()->click();
  QCOMPARE(s.manager->downloads().size(), 2);
  FileDownload* vae = s.manager->downloads().back();
  QCOMPARE(QDir::cleanPath(vae->request().directory), models() + QStringLiteral("/VAE"));
  QTRY_VERIFY_WITH_TIMEOUT(vae->state() == State::Finished, kTimeout);
  QTest::qWait(700);
  QVERIFY2(again.isEmpty(), qPrintable(again));
  QCOMPARE(readFile(models() + QStringLiteral("/VAE/tiny-vae.safetensors")), mVae);

  // Dismiss takes it off the list.
  s.rowButton(d, "downloadDismiss")->click();
  QCOMPARE(s.manager->downloads().size(), 1);
  QVERIFY(!s.page->downloadsPanel()->rowOf(d));
}

void TestModelsDownloads::pastedBadLinkShowsTheErrorInline() {
  useModelsFolder();
  Studio s(settingsFile(), stateFile(), &*mCatalog);
  s.page->showCatalog();
  CatalogDialog* dialog = s.page->catalogDialog();
  dialog->linkEdit()->setText(QStringLiteral("https://huggingface.co/kiln/tiny"));
  QVERIFY(dialog->linkButton()->isEnabled());
  dialog->linkButton()->click();
  QVERIFY(dialog->linkError()->isVisible());
  QVERIFY(!dialog->linkError()->text().isEmpty());
  QVERIFY(s.manager->downloads().isEmpty());
  // Enter in the box does the same; it neither closes the dialog nor downloads the selected entry.
  dialog->linkEdit()->setText(QStringLiteral("civitai:models/12"));
  QTest::keyClick(dialog->linkEdit(), Qt::Key_Return);
  QVERIFY(dialog->isVisible());
  QVERIFY(dialog->linkError()->isVisible());
  QVERIFY(s.manager->downloads().isEmpty());
  // Typing again clears it; a good short form queues with no licence question.
  dialog->linkEdit()->setText(QStringLiteral("hf:kiln/tiny/tiny-vae.safetensors"));
  QVERIFY(!dialog->linkError()->isVisible());
  QString question;
  answerNextBox(QStringLiteral("Cancel"), &question, 10);
  dialog->linkButton()->click();
  QCOMPARE(s.manager->downloads().size(), 1);
  FileDownload* d = s.manager->downloads().front();
  QTRY_VERIFY_WITH_TIMEOUT(d->state() == State::Finished || d->state() == State::Failed, kTimeout);
  QVERIFY2(d->state() == State::Finished, qPrintable(d->error()));
  QCOMPARE(readFile(models() + QStringLiteral("/tiny-vae.safetensors")), mVae);
  QVERIFY(question.isEmpty());
  QVERIFY(dialog->linkEdit()->text().isEmpty());
}

void TestModelsDownloads::resumesAfterKilnWasKilled() {
  useModelsFolder();
  AppSettings(settingsFile()).acceptLicence(kLicence);
  const QString target = models() + QStringLiteral("/slow.safetensors");
  {
    Studio first(settingsFile(), stateFile(), &*mCatalog);
    FileDownload* d = first.page->downloadEntry(QStringLiteral("slow"));
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->received() > 512 * 1024, kTimeout);
    QVERIFY(d->received() < mSlow.size());
    QVERIFY(first.rowText(d, "downloadProgressText").contains(QLatin1String(" of ")));
  }  // killed: nothing but the part and the state file remain
  QVERIFY(QFileInfo::exists(target + QStringLiteral(".part")));
  QVERIFY(!QFileInfo::exists(target));
  mServer->clearLog();

  // Kiln started again: the main window restores the downloads by itself.
  AppSettings settings(settingsFile());
  kiln::app::MainWindow window(&settings, stateFile(), &*mCatalog);
  QCOMPARE(window.downloadManager()->downloads().size(), 1);
  FileDownload* d = window.downloadManager()->downloads().front();
  QVERIFY(window.modelsPage()->downloadsPanel()->rowOf(d));
  QTRY_VERIFY_WITH_TIMEOUT(d->state() == State::Finished || d->state() == State::Failed, kTimeout);
  QVERIFY2(d->state() == State::Finished, qPrintable(d->error()));
  QVERIFY(d->verified());
  QCOMPARE(window.statusBar()->currentMessage(), QStringLiteral("Downloaded Slow SD (verified)"));
  QCOMPARE(readFile(target), mSlow);
  const auto log = mServer->requestsFor("/kiln/tiny/resolve/main/slow.safetensors");
  QVERIFY(!log.isEmpty());
  QVERIFY2(log.front().header("Range").startsWith("bytes=") && log.front().header("Range") != "bytes=0-",
           log.front().header("Range").constData());
  QTRY_VERIFY_WITH_TIMEOUT(window.library()->entry(target).has_value(), kTimeout);
}

void TestModelsDownloads::pauseResumeCancelAndDismiss() {
  useModelsFolder();
  AppSettings(settingsFile()).acceptLicence(kLicence);
  Studio s(settingsFile(), stateFile(), &*mCatalog);
  FileDownload* d = s.page->downloadEntry(QStringLiteral("slow"));
  QVERIFY(d);
  QTRY_VERIFY_WITH_TIMEOUT(d->received() > 256 * 1024, kTimeout);
  QPushButton* pauseResume = s.rowButton(d, "downloadPauseResume");
  QCOMPARE(pauseResume->text(), QStringLiteral("Pause"));
  pauseResume->click();
  QCOMPARE(d->state(), State::Paused);
  QCOMPARE(pauseResume->text(), QStringLiteral("Resume"));
  QCOMPARE(s.rowText(d, "downloadState"), QStringLiteral("Paused"));
  const qint64 kept = d->received();
  QTest::qWait(300);
  QCOMPARE(d->received(), kept);
  pauseResume->click();
  QTRY_VERIFY_WITH_TIMEOUT(d->state() == State::Downloading && d->received() > kept, kTimeout);
  QCOMPARE(pauseResume->text(), QStringLiteral("Pause"));

  // Cancel asks first (bytes were downloaded); keeping it keeps it going.
  QString question;
  answerNextBox(QStringLiteral("Keep Downloading"), &question);
  s.rowButton(d, "downloadCancel")->click();
  QVERIFY2(question.startsWith(QLatin1String("cancelDownloadQuestion|")), qPrintable(question));
  QVERIFY(d->isActive());
  answerNextBox(QStringLiteral("Cancel Download"));
  s.rowButton(d, "downloadCancel")->click();
  QCOMPARE(d->state(), State::Cancelled);
  QCOMPARE(s.rowText(d, "downloadState"), QStringLiteral("Cancelled"));
  QVERIFY(!QFileInfo::exists(models() + QStringLiteral("/slow.safetensors.part")));
  QVERIFY(!s.rowButton(d, "downloadPauseResume")->isVisible());
  QPushButton* dismiss = s.rowButton(d, "downloadDismiss");
  QVERIFY(dismiss->isVisible());
  dismiss->click();
  QVERIFY(s.manager->downloads().isEmpty());
  QVERIFY(!s.page->downloadsPanel()->isVisibleTo(s.page.get()));
}

void TestModelsDownloads::emptyStateGetsStableDiffusion15() {
  // No folders: the page offers SD 1.5 (the built-in catalog's entry) beside Add Folder.
  const Catalog& builtIn = Catalog::builtIn();
  const kiln::downloads::CatalogEntry* sd15 = builtIn.find(QStringLiteral("sd15-fp16"));
  QVERIFY(sd15);
  const QByteArray path =
      QUrl(kiln::downloads::huggingFaceResolveUrl(sd15->source)).path(QUrl::FullyEncoded).toLatin1();
  mServer->route(path, [](const HttpRequest&, QTcpSocket* s) { FaultServer::respond(s, 404, {}, "Entry not found"); });
  const QString appModels =
      QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/models");
  QDir(appModels).removeRecursively();

  Studio s(settingsFile(), stateFile(), &builtIn);
  auto* empty = s.page->findChild<kiln::widgets::EmptyState*>(QStringLiteral("noFoldersState"));
  QVERIFY(empty && empty->isVisible());
  auto* get = empty->findChild<QPushButton*>(QStringLiteral("emptyStateSecondaryAction"));
  QVERIFY(get && get->isVisible());
  QCOMPARE(get->text(), QStringLiteral("Get Stable Diffusion 1.5 (2.1 GB)"));
  QString question;
  answerNextBox(QStringLiteral("Accept and Download"), &question);
  get->click();
  QVERIFY2(question.contains(sd15->licence.name), qPrintable(question));
  // A models folder was made for it and added to the library.
  QCOMPARE(s.library->folders(), QStringList{QDir::cleanPath(appModels)});
  QVERIFY(QFileInfo(appModels).isDir());
  QCOMPARE(s.manager->downloads().size(), 1);
  FileDownload* d = s.manager->downloads().front();
  QCOMPARE(d->fileName(), sd15->fileName());
  QTRY_VERIFY_WITH_TIMEOUT(d->state() == State::Failed, kTimeout);
  QVERIFY(!mServer->requestsFor(path).isEmpty());
  QCOMPARE(s.rowText(d, "downloadState"), QStringLiteral("Failed"));
  const QString note = s.row(d)->findChild<QLabel*>(QStringLiteral("downloadNote"))->toolTip();
  QVERIFY2(note.contains(QLatin1String("404")) || note.contains(QLatin1String("not found"), Qt::CaseInsensitive),
           qPrintable(note));
  QCOMPARE(note, d->error());
  QVERIFY(!QFileInfo::exists(appModels + QLatin1Char('/') + sd15->fileName()));
  QVERIFY(s.rowButton(d, "downloadPauseResume")->isVisible());  // Resume: try again
  s.library->setFolders({});
  QDir(appModels).removeRecursively();
}

void TestModelsDownloads::jobAreaShowsTheDownloads() {
  useModelsFolder();
  AppSettings settings(settingsFile());
  settings.acceptLicence(kLicence);
  kiln::app::MainWindow window(&settings, stateFile(), &*mCatalog);
  window.downloadManager()->setOptions(fastOptions());
  window.downloadManager()->setMaxConcurrent(1);
  window.show();
  window.showPage(QStringLiteral("generate"));
  auto* label = window.statusBar()->findChild<QLabel*>(QStringLiteral("activityLabel"));
  auto* show = window.statusBar()->findChild<QToolButton*>(QStringLiteral("showDownloadsButton"));
  QVERIFY(label && show);
  FileDownload* first = window.modelsPage()->downloadEntry(QStringLiteral("slow"));
  FileDownload* second = window.modelsPage()->downloadEntry(QStringLiteral("slow2"));
  QVERIFY(first && second);
  QTRY_VERIFY_WITH_TIMEOUT(first->received() > 0 && label->text().contains(QLatin1Char('%')), kTimeout);
  QVERIFY2(label->text().startsWith(QLatin1String("Downloading Slow SD: ")) &&
               label->text().endsWith(QLatin1String("% (1 more queued)")),
           qPrintable(label->text()));
  QVERIFY(show->isVisible());
  show->click();
  QCOMPARE(window.currentPage(), QStringLiteral("models"));
  QVERIFY(!show->isVisible());
  window.downloadManager()->cancel(second);
  window.downloadManager()->cancel(first);
  QTRY_VERIFY(label->text().isEmpty() || !label->text().startsWith(QLatin1String("Downloading")));
}

QTEST_MAIN(TestModelsDownloads)
#include "test_models_downloads.moc"
