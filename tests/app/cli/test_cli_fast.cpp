// kiln-cli generate, fast: --taesd with --fast-decode reproduces diffusers' pipeline with
// AutoencoderTiny as its VAE (golden taesd/cases/txt2img_euler_4_cfg7.5_taesd) to the byte (+-1)
// and records "VAE Decoder: TAESD", the refusals say what is wrong; a few-step model (LCM, ...)
// recognised by its name gets its sampler, steps and CFG unless the command line sets them.
#include <QDir>
#include <QProcess>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QTest>

#include "cli_runner.h"
#include "image_compare.h"
#include "support/test_support.h"

using kiln::test::maxByteDiff;
using kiln::test::runCli;

namespace {

QString data(const QString& rel) {
  return QString::fromStdString(kiln::test::data_dir().string()) + QStringLiteral("/golden/") + rel;
}


}  // namespace

class TestCliFast : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void fastDecodeMatchesDiffusersAndIsRecorded() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("lighthouse.png"));
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), data(QStringLiteral("pipeline/tiny_sd1")),
                           QStringLiteral("--taesd"), data(QStringLiteral("taesd/model")), QStringLiteral("--fast-decode"),
                           QStringLiteral("--prompt"), QStringLiteral("a lighthouse on a cliff at sunset, oil painting"),
                           QStringLiteral("--prompt-syntax"), QStringLiteral("plain"), QStringLiteral("--sampler"),
                           QStringLiteral("euler"), QStringLiteral("--steps"), QStringLiteral("4"), QStringLiteral("--cfg"),
                           QStringLiteral("7.5"), QStringLiteral("--seed"), QStringLiteral("5300"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const int diff =
        maxByteDiff(QImage(out), QImage(data(QStringLiteral("taesd/cases/txt2img_euler_4_cfg7.5_taesd/image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));
    QVERIFY(runCli({QStringLiteral("png-info"), out}).out.contains("VAE Decoder: TAESD"));
  }

  void refusalsNameTheProblem() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("x.png"));
    auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), data(QStringLiteral("pipeline/tiny_sd1")),
                     QStringLiteral("--fast-decode"), QStringLiteral("--prompt"), QStringLiteral("a"), QStringLiteral("--out"), out});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--fast-decode needs --taesd FILE"), r.err.constData());
    // The full VAE is not a TAESD.
    r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), data(QStringLiteral("pipeline/tiny_sd1")),
                QStringLiteral("--taesd"), data(QStringLiteral("pipeline/tiny_sd1/vae")), QStringLiteral("--prompt"),
                QStringLiteral("a"), QStringLiteral("--steps"), QStringLiteral("1"), QStringLiteral("--out"), out});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("not a TAESD"), r.err.constData());
    QVERIFY(!QFile::exists(out));
  }
  void fewStepModelGetsItsSettingsUnlessGiven() {
    QTemporaryDir dir;
    // The tiny model under an LCM model's name.
    const QString model = dir.filePath(QStringLiteral("lcm_dreamshaper_tiny"));
    QProcess cp;
    cp.start(QStringLiteral("cp"), {QStringLiteral("-r"), data(QStringLiteral("pipeline/tiny_sd1")), model});
    QVERIFY(cp.waitForFinished() && cp.exitCode() == 0);
    const QString out = dir.filePath(QStringLiteral("a.png"));
    auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), model, QStringLiteral("--prompt"),
                     QStringLiteral("a fox"), QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("few-step: LCM (the name \"lcm_dreamshaper_tiny\" says LCM): sampler LCM, 4 steps, CFG 1.5"),
             r.err.constData());
    QVERIFY(r.err.contains("step 4/4"));
    QString info = QString::fromUtf8(runCli({QStringLiteral("png-info"), out}).out);
    QVERIFY2(info.contains(QStringLiteral("Steps: 4, Sampler: LCM, CFG scale: 1.5")), qPrintable(info));

    // What the command line says wins.
    r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), model, QStringLiteral("--prompt"), QStringLiteral("a fox"),
                QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--cfg"), QStringLiteral("1"),
                QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("few-step: LCM (the name \"lcm_dreamshaper_tiny\" says LCM): sampler LCM"), r.err.constData());
    info = QString::fromUtf8(runCli({QStringLiteral("png-info"), out}).out);
    QVERIFY2(info.contains(QStringLiteral("Steps: 2, Sampler: LCM, CFG scale: 1")), qPrintable(info));

    // An ordinary model: nothing said, nothing changed.
    r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), data(QStringLiteral("pipeline/tiny_sd1")),
                QStringLiteral("--prompt"), QStringLiteral("a fox"), QStringLiteral("--steps"), QStringLiteral("1"),
                QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(!r.err.contains("few-step"));
  }
};

QTEST_GUILESS_MAIN(TestCliFast)
#include "test_cli_fast.moc"
