// The precision choice of the Generate page: what the combo offers for both answers of "does
// the CPU compute bf16 natively" (and on CUDA), the one-line note, the setting's round trip, and
// the engine worker loading the model in the chosen dtype (reloading when it changes, refusing
// bf16 on a CPU without it), end to end from the combo to the image's parameters.
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <memory>

#include "base/engine.h"
#include "base/precision.h"
#include "bridge/generation_parameters.h"
#include "jobs/engine_worker.h"
#include "pages/gallery_model.h"
#include "pages/generate_page.h"
#include "pages/generation_form_view.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/generation_settings.h"
#include "state/language.h"
#include "widgets/message_banner.h"

using kiln::Precision;
using kiln::app::EngineWorker;
using kiln::app::GenerationFormView;

namespace {

constexpr int kTimeout = 120'000;
const QString kTinyModel = QStringLiteral(KILN_TEST_DATA "/golden/pipeline/tiny_sd1");

bool itemEnabled(const QComboBox* combo, int row) {
  const auto* items = qobject_cast<const QStandardItemModel*>(combo->model());
  return items && items->item(row)->isEnabled();
}

QStringList itemTexts(const QComboBox* combo) {
  QStringList texts;
  for (int i = 0; i < combo->count(); ++i) texts << combo->itemText(i);
  return texts;
}

int rowOf(const QComboBox* combo, Precision p) { return combo->findData(QString::fromUtf8(kiln::to_string(p).data())); }

kiln::app::GenerationJob tinyJob(quint64 id, Precision precision) {
  kiln::app::GenerationJob job;
  job.id = id;
  job.modelPath = kTinyModel;
  job.parameters.prompt = QStringLiteral("a castle");
  job.parameters.steps = 2;
  job.parameters.width = 64;
  job.parameters.height = 64;
  job.parameters.seed = 7;
  job.precision = precision;
  return job;
}

QString recordedPrecision(const QSignalSpy& images) {
  if (images.isEmpty()) return {};
  const auto image = qvariant_cast<kiln::app::GeneratedImage>(images.last().at(1));
  return image.parameters.extra.value(kiln::bridge::kPrecisionKey);
}

int modelLoads(const QSignalSpy& stages) {
  int loads = 0;
  for (const QList<QVariant>& s : stages)
    loads += qvariant_cast<EngineWorker::Stage>(s.at(1)) == EngineWorker::Stage::LoadingModel;
  return loads;
}

}  // namespace

class TestPrecisionChoice : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    kiln::init_engine();
    QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
  }

  // A CPU without native bf16: Automatic and fp32 only; bf16 and fp16 are listed, disabled,
  // with the reason, and the note says why bf16 is missing.
  void cpuWithoutBf16OffersFp32Only() {
    GenerationFormView view;
    view.setPrecisionSupport(false, false);
    const QComboBox* combo = view.precisionCombo();
    QCOMPARE(itemTexts(combo), (QStringList{QStringLiteral("Automatic (fp32)"), QStringLiteral("fp32"),
                                            QStringLiteral("bf16"), QStringLiteral("fp16")}));
    QVERIFY(itemEnabled(combo, rowOf(combo, Precision::Auto)));
    QVERIFY(itemEnabled(combo, rowOf(combo, Precision::FP32)));
    QVERIFY(!itemEnabled(combo, rowOf(combo, Precision::BF16)));
    QVERIFY(!itemEnabled(combo, rowOf(combo, Precision::FP16)));
    QVERIFY(combo->itemData(rowOf(combo, Precision::BF16), Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("does not compute bf16 natively")));
    QVERIFY(combo->itemData(rowOf(combo, Precision::FP16), Qt::ToolTipRole).toString().contains(QStringLiteral("CUDA")));
    QVERIFY(combo->itemData(rowOf(combo, Precision::FP32), Qt::ToolTipRole).isNull());
    QCOMPARE(view.precision(), Precision::Auto);
    QVERIFY2(view.precisionNote()->text().startsWith(QStringLiteral("Automatic uses fp32 here.")),
             qPrintable(view.precisionNote()->text()));
    QVERIFY(view.precisionNote()->text().endsWith(QStringLiteral("bf16 is not offered: this CPU does not compute it natively.")));
    // A saved bf16 (from another machine) shows as Automatic.
    view.setPrecision(Precision::BF16);
    QCOMPARE(view.precision(), Precision::Auto);
    view.setPrecision(Precision::FP32);
    QCOMPARE(view.precision(), Precision::FP32);
    QVERIFY(view.precisionNote()->text().startsWith(QStringLiteral("Full precision")));
  }

  // A CPU that computes bf16 natively: bf16 is offered; fp16 still needs CUDA. Automatic names
  // what kCpuAutoUsesBf16 makes of it.
  void cpuWithBf16OffersBf16() {
    GenerationFormView view;
    view.setPrecisionSupport(false, true);
    const QComboBox* combo = view.precisionCombo();
    const QString automatic = kiln::kCpuAutoUsesBf16 ? QStringLiteral("bf16") : QStringLiteral("fp32");
    QCOMPARE(combo->itemText(rowOf(combo, Precision::Auto)), QStringLiteral("Automatic (%1)").arg(automatic));
    QVERIFY(itemEnabled(combo, rowOf(combo, Precision::BF16)));
    QVERIFY(combo->itemData(rowOf(combo, Precision::BF16), Qt::ToolTipRole).isNull());
    QVERIFY(!itemEnabled(combo, rowOf(combo, Precision::FP16)));
    QVERIFY(!view.precisionNote()->text().contains(QStringLiteral("not offered")));
    view.setPrecision(Precision::BF16);
    QCOMPARE(view.precision(), Precision::BF16);
    QVERIFY2(view.precisionNote()->text().startsWith(QStringLiteral("Computed natively by this CPU")),
             qPrintable(view.precisionNote()->text()));
    QVERIFY(view.precisionNote()->text().contains(QStringLiteral("differ slightly from fp32")));
    // Choosing in the combo is announced (the page saves it); setting it is not.
    QSignalSpy chosen(&view, &GenerationFormView::precisionChosen);
    view.setPrecision(Precision::FP32);
    QCOMPARE(chosen.count(), 0);
    view.precisionCombo()->setCurrentIndex(rowOf(combo, Precision::BF16));
    Q_EMIT view.precisionCombo()->activated(view.precisionCombo()->currentIndex());
    QCOMPARE(chosen.count(), 1);
    QCOMPARE(qvariant_cast<Precision>(chosen.first().at(0)), Precision::BF16);
    // The CPU turns out not to have it: the choice falls back to Automatic.
    view.setPrecisionSupport(false, false);
    QCOMPARE(view.precision(), Precision::Auto);
  }

  void cudaOffersEverything() {
    GenerationFormView view;
    view.setPrecisionSupport(true, false);
    const QComboBox* combo = view.precisionCombo();
    QCOMPARE(combo->itemText(0), QStringLiteral("Automatic (fp16)"));
    for (int i = 0; i < combo->count(); ++i) QVERIFY(itemEnabled(combo, i));
    QVERIFY(view.precisionNote()->text().startsWith(QStringLiteral("Automatic uses fp16 here.")));
    view.setPrecision(Precision::FP16);
    QCOMPARE(view.precision(), Precision::FP16);
    QVERIFY(view.precisionNote()->text().contains(QStringLiteral("GPU")));
  }

  void settingRoundTrips() {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("settings.ini"));
    {
      kiln::app::AppSettings settings(file);
      kiln::app::GenerationSettings generation(&settings);
      QCOMPARE(generation.precision(), Precision::Auto);  // the default
      for (Precision p : kiln::kAllPrecisions) {
        generation.setPrecision(p);
        QCOMPARE(generation.precision(), p);
      }
      generation.setPrecision(Precision::BF16);
    }
    {
      kiln::app::AppSettings settings(file);
      kiln::app::GenerationSettings generation(&settings);
      QCOMPARE(generation.precision(), Precision::BF16);
    }
    QSettings raw(file, QSettings::IniFormat);
    QCOMPARE(raw.value(QStringLiteral("generate/precision")).toString(), QStringLiteral("bf16"));
    raw.setValue(QStringLiteral("generate/precision"), QStringLiteral("fp8"));
    raw.sync();
    kiln::app::AppSettings settings(file);
    kiln::app::GenerationSettings generation(&settings);
    QCOMPARE(generation.precision(), Precision::Auto);  // unknown text: Automatic
  }

  // The worker resolves the job's precision, loads the model in that dtype (again when it
  // changes, not when it stays), records it in the image's parameters, and refuses bf16 on a
  // CPU without native bf16 before loading anything.
  void workerLoadsTheChosenDtype() {
    if (EngineWorker::usesCuda()) QSKIP("the CPU rules; this machine runs the engine on CUDA");
    EngineWorker worker;
    worker.setPreviewInterval(1000);
    QSignalSpy stages(&worker, &EngineWorker::stageChanged);
    QSignalSpy images(&worker, &EngineWorker::imageReady);
    QSignalSpy failed(&worker, &EngineWorker::failed);

    worker.setCpuBf16(false);
    worker.generate(tinyJob(1, Precision::FP32));
    QVERIFY(failed.isEmpty());
    QCOMPARE(images.count(), 1);
    QCOMPARE(recordedPrecision(images), QStringLiteral("fp32"));
    QCOMPARE(modelLoads(stages), 1);
    const QImage fp32 = qvariant_cast<kiln::app::GeneratedImage>(images.last().at(1)).image;

    worker.generate(tinyJob(2, Precision::Auto));  // fp32 on this CPU: the same model
    QCOMPARE(recordedPrecision(images), QStringLiteral("fp32"));
    QCOMPARE(modelLoads(stages), 1);

    worker.generate(tinyJob(3, Precision::BF16));
    QCOMPARE(failed.count(), 1);
    const auto refusal = qvariant_cast<kiln::app::UserMessage>(failed.last().at(1));
    QVERIFY2(refusal.details.contains(QStringLiteral("does not compute bf16 natively")), qPrintable(refusal.details));
    QVERIFY(refusal.details.contains(QStringLiteral("use fp32")));
    QCOMPARE(modelLoads(stages), 1);
    QCOMPARE(images.count(), 2);

    worker.setCpuBf16(true);
    worker.generate(tinyJob(4, Precision::BF16));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(images.count(), 3);
    QCOMPARE(recordedPrecision(images), QStringLiteral("bf16"));
    QCOMPARE(modelLoads(stages), 2);  // reloaded in bf16
    const QImage bf16 = qvariant_cast<kiln::app::GeneratedImage>(images.last().at(1)).image;
    QCOMPARE(bf16.size(), fp32.size());
    QVERIFY(bf16 != fp32);  // computed in another precision

    worker.generate(tinyJob(5, Precision::FP32));
    QCOMPARE(recordedPrecision(images), QStringLiteral("fp32"));
    QCOMPARE(modelLoads(stages), 3);
    QCOMPARE(qvariant_cast<kiln::app::GeneratedImage>(images.last().at(1)).image, fp32);  // fp32 again, the same image
  }

  // From the page's combo to the job: the choice is saved, restored by the next page, and the
  // image is computed (and recorded) in it.
  void pagePassesTheChoiceToTheWorker() {
    if (EngineWorker::usesCuda()) QSKIP("the CPU rules; this machine runs the engine on CUDA");
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("settings.ini"));
    const QString models = dir.filePath(QStringLiteral("models"));
    namespace fs = std::filesystem;
    fs::create_directories(models.toStdString());
    fs::copy(kTinyModel.toStdString(), (models + QStringLiteral("/tiny_sd1")).toStdString(), fs::copy_options::recursive);
    {
      kiln::app::AppSettings settings(file);
      settings.setModelFolders({models});
      kiln::app::GenerationSettings generation(&settings);
      generation.setSaveAutomatically(false);
    }
    {
      kiln::app::AppSettings settings(file);
      kiln::app::ModelLibrary library(&settings);
      kiln::app::GeneratePage page(&library, &settings);
      page.resize(1280, 800);
      page.show();
      QTRY_VERIFY_WITH_TIMEOUT(page.modelCombo()->count() == 1, kTimeout);
      page.worker()->setCpuBf16(true);  // before any job; the worker's thread is idle
      page.formView()->setPrecisionSupport(false, true);
      QComboBox* combo = page.formView()->precisionCombo();
      combo->setCurrentIndex(rowOf(combo, Precision::BF16));
      Q_EMIT combo->activated(combo->currentIndex());
      QCOMPARE(page.generationSettings()->precision(), Precision::BF16);
      kiln::app::GenerationForm f = page.form();
      f.prompt = QStringLiteral("a castle");
      f.steps = 2;
      f.width = 64;
      f.height = 64;
      f.seed = 7;
      page.setForm(f);
      page.generateAction()->trigger();
      QVERIFY(page.isGenerating());
      QTRY_VERIFY_WITH_TIMEOUT(!page.isGenerating(), kTimeout);
      QVERIFY(page.banner()->isHidden());
      QCOMPARE(page.gallery()->rowCount(), 1);
      QCOMPARE(page.gallery()->item(0).parameters.extra.value(kiln::bridge::kPrecisionKey), QStringLiteral("bf16"));

      combo->setCurrentIndex(rowOf(combo, Precision::FP32));
      Q_EMIT combo->activated(combo->currentIndex());
    }
    kiln::app::AppSettings settings(file);
    kiln::app::ModelLibrary library(&settings);
    kiln::app::GeneratePage page(&library, &settings);
    QCOMPARE(page.formView()->precision(), Precision::FP32);  // restored (fp32 is offered everywhere)
  }
};

QTEST_MAIN(TestPrecisionChoice)
#include "test_precision_choice.moc"
