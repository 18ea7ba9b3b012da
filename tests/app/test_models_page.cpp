// The Models page against real files: the tiny SD 1.x pipeline as a diffusers folder and as a
// single fp16 file, copied into a temporary folder that the test then changes under the page.
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "pages/model_details_view.h"
#include "pages/model_list_model.h"
#include "pages/models_page.h"
#include "page_studio.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/empty_state.h"
#include "widgets/folder_list_editor.h"
#include "widgets/message_banner.h"

using kiln::app::AppSettings;
using kiln::app::ModelEntry;
using kiln::app::ModelLibrary;
using kiln::app::ModelListModel;
using kiln::app::ModelsPage;

namespace {

constexpr int kTimeout = 60'000;

const QString kGolden = QStringLiteral(KILN_TEST_DATA "/golden/pipeline");

// Settings, library and page on one settings file, torn down in the right order.
struct Studio : kiln::test::PageStudio<ModelsPage> {
  explicit Studio(const QString& settingsFile) : PageStudio(settingsFile, QSize(1200, 800)) {
    library->setRescanDelay(50);
  }

  QAbstractItemModel* table() const { return page->table()->model(); }

  // Row of `path` in the table as shown (sorted, filtered), -1 if absent.
  int row(const QString& path) const {
    for (int r = 0; r < table()->rowCount(); ++r) {
      if (table()->index(r, 0).data(ModelListModel::PathRole).toString() == path) return r;
    }
    return -1;
  }
  QVariant cell(const QString& path, int column, int role = Qt::DisplayRole) const {
    const int r = row(path);
    return r < 0 ? QVariant() : table()->index(r, column).data(role);
  }
  int status(const QString& path) const { return cell(path, 0, ModelListModel::StatusRole).toInt(); }
};

constexpr int statusOf(ModelEntry::Status s) { return static_cast<int>(s); }

}  // namespace

class TestModelsPage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void listsBothLayoutsWithWhatInfoKnows();
  void inspectsOffTheGuiThread();
  void showsTheHashOfTheSingleFile();
  void hashesEachFileOnce();
  void followsFilesThatAppearAndVanish();
  void showsAReadableErrorForGarbage();
  void foldersSurviveARestart();
  void showsTheEmptyStateWithoutFolders();
  void filtersAndSorts();
  void showsDetailsOfTheSelectedModel();

 private:
  QString settingsFile() const { return mDir->filePath(QStringLiteral("settings.ini")); }
  QString models() const { return mDir->filePath(QStringLiteral("models")); }
  QString folderModel() const { return models() + QStringLiteral("/tiny_sd1"); }
  QString fileModel() const { return models() + QStringLiteral("/tiny_sd1.safetensors"); }
  void waitUntilKnown(const Studio& s, const QString& path);

  std::unique_ptr<QTemporaryDir> mDir;
};

void TestModelsPage::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  kiln::init_engine();
  // English, with its plural forms ("2 models", not "2 model(s)").
  QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
}

void TestModelsPage::init() {
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  namespace fs = std::filesystem;
  const fs::path golden = kGolden.toStdString();
  const fs::path target = models().toStdString();
  fs::create_directories(target);
  fs::copy(golden / "tiny_sd1", target / "tiny_sd1", fs::copy_options::recursive);
  fs::copy_file(golden / "tiny_sd1.safetensors", target / "tiny_sd1.safetensors");
  AppSettings settings(settingsFile());
  settings.setModelFolders({models()});
}

void TestModelsPage::waitUntilKnown(const Studio& s, const QString& path) {
  QTRY_VERIFY_WITH_TIMEOUT(s.row(path) >= 0, kTimeout);
  QTRY_VERIFY_WITH_TIMEOUT(s.status(path) != statusOf(ModelEntry::Status::Inspecting), kTimeout);
}

void TestModelsPage::listsBothLayoutsWithWhatInfoKnows() {
  Studio s(settingsFile());
  waitUntilKnown(s, folderModel());
  waitUntilKnown(s, fileModel());
  QCOMPARE(s.table()->rowCount(), 2);
  QCOMPARE(s.page->findChild<QLabel*>(QStringLiteral("modelsSummary"))->text(), QStringLiteral("2 models · 1 folder"));

  QCOMPARE(s.cell(folderModel(), ModelListModel::Name).toString(), QStringLiteral("tiny_sd1"));
  QCOMPARE(s.cell(folderModel(), 0, ModelListModel::FamilyIdRole).toString(), QStringLiteral("sd1"));
  QCOMPARE(s.cell(folderModel(), ModelListModel::Family).toString(), QStringLiteral("Stable Diffusion 1.x"));
  QCOMPARE(s.cell(folderModel(), 0, ModelListModel::LayoutIdRole).toString(), QStringLiteral("diffusers"));
  QCOMPARE(s.cell(folderModel(), ModelListModel::Format).toString(), QStringLiteral("Diffusers folder"));
  QCOMPARE(s.cell(folderModel(), 0, ModelListModel::PredictionIdRole).toString(), QStringLiteral("epsilon"));
  QCOMPARE(s.cell(folderModel(), ModelListModel::Prediction).toString(), QStringLiteral("Epsilon"));
  QVERIFY(s.cell(folderModel(), ModelListModel::Prediction, Qt::ToolTipRole).toString().contains(
      QStringLiteral("scheduler_config.json")));

  QCOMPARE(s.cell(fileModel(), ModelListModel::Name).toString(), QStringLiteral("tiny_sd1.safetensors"));
  QCOMPARE(s.cell(fileModel(), 0, ModelListModel::FamilyIdRole).toString(), QStringLiteral("sd1"));
  QCOMPARE(s.cell(fileModel(), ModelListModel::Family).toString(), QStringLiteral("Stable Diffusion 1.x"));
  QCOMPARE(s.cell(fileModel(), 0, ModelListModel::LayoutIdRole).toString(), QStringLiteral("single_file"));
  QCOMPARE(s.cell(fileModel(), ModelListModel::Format).toString(), QStringLiteral("Safetensors"));
  QCOMPARE(s.cell(fileModel(), 0, ModelListModel::PredictionIdRole).toString(), QStringLiteral("unknown"));
  QCOMPARE(s.cell(fileModel(), ModelListModel::Prediction).toString(), QStringLiteral("Unknown"));

  const auto entry = s.library->entry(fileModel());
  QVERIFY(entry.has_value());
  QVERIFY(entry->summary.parameters() > 0);
  QCOMPARE(entry->summary.dtypes().value(0), QStringLiteral("F16"));
  QVERIFY(!s.cell(fileModel(), ModelListModel::Parameters).toString().isEmpty());
  QCOMPARE(s.cell(fileModel(), ModelListModel::Size).toString(), QLocale().formattedDataSize(6254368, 1, QLocale::DataSizeIecFormat));
}

void TestModelsPage::inspectsOffTheGuiThread() {
  QThread* inspectedOn = nullptr;
  QThread* hashedOn = nullptr;
  {
    Studio s(settingsFile());
    QVERIFY(s.library->inspectionThread() != QThread::currentThread());
    QVERIFY(s.library->hashingThread() != QThread::currentThread());
    QVERIFY(s.library->inspectionThread()->isRunning());
    QVERIFY(s.library->hashingThread()->isRunning());
    // Direct connections run in the emitting thread: the worker's.
    connect(s.library->inspector(), &kiln::app::InspectWorker::inspected, this,
            [&](quint64, const kiln::app::ModelSummary&) { inspectedOn = QThread::currentThread(); }, Qt::DirectConnection);
    connect(s.library->hasher(), &kiln::app::InspectWorker::hashed, this,
            [&](quint64, const QString&) { hashedOn = QThread::currentThread(); }, Qt::DirectConnection);
    s.library->rescan();
    QTRY_VERIFY_WITH_TIMEOUT(hashedOn != nullptr && s.library->hasScanned() && !s.library->isBusy(), kTimeout);
    QCOMPARE(inspectedOn, s.library->inspectionThread());
    QCOMPARE(hashedOn, s.library->hashingThread());
  }
}

void TestModelsPage::showsTheHashOfTheSingleFile() {
  Studio s(settingsFile());
  QTRY_COMPARE_WITH_TIMEOUT(s.cell(fileModel(), ModelListModel::Hash).toString(), QStringLiteral("fbecea6473"), kTimeout);
  QTRY_COMPARE_WITH_TIMEOUT(s.status(fileModel()), statusOf(ModelEntry::Status::Ready), kTimeout);
  QCOMPARE(s.cell(fileModel(), ModelListModel::Status).toString(), QStringLiteral("Ready"));
  const auto entry = s.library->entry(fileModel());
  QCOMPARE(entry->summary.sha256.size(), 64);
  QVERIFY(entry->summary.sha256.startsWith(QStringLiteral("fbecea6473")));
  // A folder's hash is its UNet's weights file's, as A1111-style tools hash it.
  QTRY_COMPARE_WITH_TIMEOUT(s.status(folderModel()), statusOf(ModelEntry::Status::Ready), kTimeout);
  QVERIFY(s.library->entry(folderModel())->summary.hashedFile.endsWith(
      QStringLiteral("unet/diffusion_pytorch_model.safetensors")));
  QCOMPARE(s.cell(folderModel(), ModelListModel::Hash).toString().size(), 10);
}

void TestModelsPage::hashesEachFileOnce() {
  {
    Studio s(settingsFile());
    QTRY_COMPARE_WITH_TIMEOUT(s.status(fileModel()), statusOf(ModelEntry::Status::Ready), kTimeout);
  }
  Studio s(settingsFile());
  QList<int> statuses;
  connect(s.library.get(), &ModelLibrary::entryChanged, this, [&](const ModelEntry& e) {
    if (e.path == fileModel()) statuses << statusOf(e.status);
  });
  QTRY_COMPARE_WITH_TIMEOUT(s.status(fileModel()), statusOf(ModelEntry::Status::Ready), kTimeout);
  QCOMPARE(s.cell(fileModel(), ModelListModel::Hash).toString(), QStringLiteral("fbecea6473"));
  QVERIFY2(!statuses.contains(statusOf(ModelEntry::Status::Hashing)), "the cached hash was not used");
}

void TestModelsPage::followsFilesThatAppearAndVanish() {
  Studio s(settingsFile());
  waitUntilKnown(s, fileModel());
  const QString copy = models() + QStringLiteral("/sub/renamed copy.safetensors");
  QVERIFY(QDir().mkpath(models() + QStringLiteral("/sub")));
  QVERIFY(QFile::copy(fileModel(), copy));
  QTRY_VERIFY_WITH_TIMEOUT(s.row(copy) >= 0, kTimeout);
  QTRY_COMPARE_WITH_TIMEOUT(s.cell(copy, 0, ModelListModel::FamilyIdRole).toString(), QStringLiteral("sd1"), kTimeout);
  QCOMPARE(s.table()->rowCount(), 3);

  QVERIFY(QFile::remove(copy));
  QTRY_COMPARE_WITH_TIMEOUT(s.row(copy), -1, kTimeout);
  QCOMPARE(s.table()->rowCount(), 2);

  // A whole diffusers folder going away takes its row with it.
  QVERIFY(QDir(folderModel()).removeRecursively());
  QTRY_COMPARE_WITH_TIMEOUT(s.row(folderModel()), -1, kTimeout);
  QCOMPARE(s.table()->rowCount(), 1);
}

void TestModelsPage::showsAReadableErrorForGarbage() {
  Studio s(settingsFile());
  waitUntilKnown(s, fileModel());
  const QString garbage = models() + QStringLiteral("/broken.safetensors");
  {
    QFile f(garbage);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is not a safetensors file, just some text that happens to have the name of one");
  }
  QTRY_VERIFY_WITH_TIMEOUT(s.row(garbage) >= 0, kTimeout);
  QTRY_COMPARE_WITH_TIMEOUT(s.status(garbage), statusOf(ModelEntry::Status::Failed), kTimeout);
  QCOMPARE(s.cell(garbage, ModelListModel::Status).toString(), QStringLiteral("Error"));
  QCOMPARE(s.cell(garbage, ModelListModel::Family).toString(), QStringLiteral("Unreadable"));
  QCOMPARE(s.cell(garbage, 0, ModelListModel::ErrorTitleRole).toString(), QStringLiteral("Not a model Kiln can read"));
  const QString tip = s.cell(garbage, ModelListModel::Family, Qt::ToolTipRole).toString();
  QVERIFY2(tip.contains(QStringLiteral("Not a model Kiln can read")) && tip.contains(QStringLiteral("“broken.safetensors”")),
           qPrintable(tip));

  // The details say it in words, with the engine's message on request.
  s.page->selectPath(garbage);
  const auto* banner = s.page->details()->errorBanner();
  QVERIFY(banner->isVisibleTo(s.page.get()));
  QCOMPARE(banner->title(), QStringLiteral("Not a model Kiln can read"));
  QVERIFY(banner->text().contains(QStringLiteral("broken.safetensors")));
  QVERIFY(!banner->detailsVisible());
  QVERIFY(banner->details().contains(garbage));
  QVERIFY(banner->details().size() > garbage.size() + 20);

  // The other models are untouched.
  QCOMPARE(s.status(fileModel()) == statusOf(ModelEntry::Status::Failed), false);
}

void TestModelsPage::foldersSurviveARestart() {
  const QString second = mDir->filePath(QStringLiteral("more models"));
  QVERIFY(QDir().mkpath(second));
  {
    Studio s(settingsFile());
    s.library->addFolder(second);
    QCOMPARE(s.library->folders(), (QStringList{models(), second}));
    const auto* editor = s.page->findChild<kiln::widgets::FolderListEditor*>(QStringLiteral("folderEditor"));
    QCOMPARE(editor->folders(), (QStringList{models(), second}));
  }
  AppSettings reopened(settingsFile());
  QCOMPARE(reopened.modelFolders(), (QStringList{models(), second}));

  Studio s(settingsFile());
  waitUntilKnown(s, fileModel());
  QCOMPARE(s.page->findChild<kiln::widgets::FolderListEditor*>(QStringLiteral("folderEditor"))->folders(),
           (QStringList{models(), second}));
  // Removing a folder removes its models.
  s.library->removeFolder(models());
  QTRY_COMPARE_WITH_TIMEOUT(s.table()->rowCount(), 0, kTimeout);
}

void TestModelsPage::showsTheEmptyStateWithoutFolders() {
  AppSettings(settingsFile()).setModelFolders({});
  Studio s(settingsFile());
  const auto* empty = s.page->findChild<kiln::widgets::EmptyState*>(QStringLiteral("noFoldersState"));
  QVERIFY(empty);
  QVERIFY(empty->isVisible());
  QVERIFY(empty->text().contains(QStringLiteral(".safetensors")));
  QVERIFY(!s.page->table()->isVisible());

  s.library->addFolder(models());
  QTRY_VERIFY(!empty->isVisible());
  waitUntilKnown(s, fileModel());
  QVERIFY(s.page->table()->isVisible());

  // A folder without models says so instead of showing an empty table.
  const QString empty2 = mDir->filePath(QStringLiteral("empty"));
  QVERIFY(QDir().mkpath(empty2));
  s.library->setFolders({empty2});
  const auto* noModels = s.page->findChild<kiln::widgets::EmptyState*>(QStringLiteral("noModelsState"));
  QTRY_VERIFY_WITH_TIMEOUT(noModels->isVisible() && s.table()->rowCount() == 0, kTimeout);
  QTRY_COMPARE(noModels->title(), QStringLiteral("No models in these folders"));
  QVERIFY(s.library->unavailableFolders().isEmpty());

  // A folder that is gone is marked, not dropped: it may be a drive that is not mounted.
  const QString gone = mDir->filePath(QStringLiteral("unplugged drive"));
  s.library->setFolders({empty2, gone});
  QTRY_COMPARE_WITH_TIMEOUT(s.library->unavailableFolders(), QStringList{gone}, kTimeout);
  QCOMPARE(s.library->folders(), (QStringList{empty2, gone}));
}

void TestModelsPage::filtersAndSorts() {
  Studio s(settingsFile());
  waitUntilKnown(s, folderModel());
  waitUntilKnown(s, fileModel());
  s.page->setFilterText(QStringLiteral("SAFETENSORS"));
  QCOMPARE(s.table()->rowCount(), 1);
  QVERIFY(s.row(fileModel()) >= 0);
  s.page->setFilterText(QStringLiteral("no such model"));
  QCOMPARE(s.table()->rowCount(), 0);
  QVERIFY(s.page->findChild<kiln::widgets::EmptyState*>(QStringLiteral("noModelsState"))->isVisible());
  s.page->setFilterText({});
  QCOMPARE(s.table()->rowCount(), 2);

  // Sizes sort by bytes, not by their text.
  s.page->table()->sortByColumn(ModelListModel::Size, Qt::DescendingOrder);
  const qint64 first = s.table()->index(0, ModelListModel::Size).data(ModelListModel::SortRole).toLongLong();
  const qint64 second = s.table()->index(1, ModelListModel::Size).data(ModelListModel::SortRole).toLongLong();
  QVERIFY(first >= second);
}

void TestModelsPage::showsDetailsOfTheSelectedModel() {
  Studio s(settingsFile());
  waitUntilKnown(s, folderModel());
  s.page->selectPath(folderModel());
  QCOMPARE(s.page->selectedPath(), folderModel());
  const auto* details = s.page->details();
  QCOMPARE(details->shownPath(), folderModel());
  QCOMPARE(details->findChild<QLabel*>(QStringLiteral("detailsFamily"))->text(), QStringLiteral("Stable Diffusion 1.x"));
  QVERIFY(details->findChild<QLabel*>(QStringLiteral("detailsPrediction"))->text().startsWith(QStringLiteral("Epsilon")));
  QTRY_COMPARE_WITH_TIMEOUT(s.status(folderModel()), statusOf(ModelEntry::Status::Ready), kTimeout);
  const QString sha = s.library->entry(folderModel())->summary.sha256;
  QCOMPARE(sha.size(), 64);
  QCOMPARE(details->findChild<QLabel*>(QStringLiteral("detailsSha256"))->text().remove(QLatin1Char('\n')), sha);
  const auto* components = details->findChild<QTreeWidget*>(QStringLiteral("detailsComponents"));
  QStringList names;
  for (int i = 0; i < components->topLevelItemCount(); ++i) names << components->topLevelItem(i)->text(0);
  QVERIFY2(names.contains(QStringLiteral("unet")) && names.contains(QStringLiteral("vae")) &&
               names.contains(QStringLiteral("text_encoder")),
           qPrintable(names.join(QLatin1Char(','))));
  QVERIFY(!details->errorBanner()->isVisibleTo(s.page.get()));

  // The selection is remembered.
  QCOMPARE(s.settings->selectedModel(), folderModel());
}

QTEST_MAIN(TestModelsPage)
#include "test_models_page.moc"
