// kiln-cli generate beyond one pass: hires fix (a second pass at the larger size, recorded as
// AUTOMATIC1111 does) and the X/Y/Z plot (every cell, then one labelled grid), with the golden
// tiny pipeline. Split from test_cli_generate.cpp.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "cli_runner.h"
#include "support/test_support.h"

using kiln::test::runCli;

namespace {

QString golden(const QString& rel) {
  return QString::fromStdString((kiln::test::data_dir() / "golden/pipeline").string()) + QLatin1Char('/') + rel;
}

}  // namespace

class TestCliGeneratePasses : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void hiresFixUpscalesAndIsRecorded() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("hires.png"));
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("a castle"), QStringLiteral("--steps"),
                           QStringLiteral("4"), QStringLiteral("--seed"), QStringLiteral("9"), QStringLiteral("--out"), out};
    auto r = runCli(base + QStringList{QStringLiteral("--hires-scale"), QStringLiteral("1.5"), QStringLiteral("--hires-steps"),
                                       QStringLiteral("6")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QImage(out).size(), QSize(96, 96));
    const auto info = runCli({QStringLiteral("png-info"), out});
    QVERIFY2(info.out.contains("Size: 64x64") && info.out.contains("Denoising strength: 0.7") &&
                 info.out.contains("Hires upscale: 1.5, Hires steps: 6, Hires upscaler: Latent"),
             info.out.constData());

    QFile::remove(out);
    r = runCli(base + QStringList{QStringLiteral("--hires-resize"), QStringLiteral("128x80"), QStringLiteral("--hires-upscaler"),
                                  QStringLiteral("Lanczos")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QImage(out).size(), QSize(128, 80));
    QVERIFY(runCli({QStringLiteral("png-info"), out}).out.contains("Hires resize: 128x80, Hires upscaler: Lanczos"));

    QFile::remove(out);
    r = runCli(base + QStringList{QStringLiteral("--hires-upscaler"), QStringLiteral("4x_Wonder")});
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains("unknown hires upscaler '4x_Wonder'"), r.err.constData());
    QVERIFY(!QFile::exists(out));
  }

  void xyzPlotMakesEveryCellAndALabelledGrid() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("plot.png"));
    const QString tiny = golden(QStringLiteral("tiny_sd1"));
    // A second "checkpoint": the same weights in another folder.
    const QString other = dir.filePath(QStringLiteral("step_500"));
    QVERIFY(QProcess::execute(QStringLiteral("cp"), {QStringLiteral("-r"), tiny, other}) == 0);
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), tiny, QStringLiteral("--prompt"),
                           QStringLiteral("a red fox"), QStringLiteral("--seed"), QStringLiteral("3"),
                           QStringLiteral("--out"), out};
    auto r = runCli(base + QStringList{QStringLiteral("--x"), QStringLiteral("steps:2-4"), QStringLiteral("--y"),
                                       QStringLiteral("prompt:red,blue"), QStringLiteral("--z"),
                                       QStringLiteral("checkpoint:") + tiny + QStringLiteral(",") + other});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QStringList cells = QDir(dir.filePath(QStringLiteral("plot-cells"))).entryList(QDir::Files);
    QCOMPARE(cells.size(), 3 * 2 * 2);
    const QImage grid(out);
    QVERIFY(grid.width() > 2 * 3 * 64 && grid.height() > 2 * 64);  // two grids of 3 x 2 cells, with headers
    // Cell 4 = x 1 (3 steps), y 1 (blue), z 0; the same seed and size as the others.
    const auto cell = runCli({QStringLiteral("png-info"), dir.filePath(QStringLiteral("plot-cells/004.png"))});
    QVERIFY2(cell.out.contains("a blue fox\nSteps: 3,") && cell.out.contains("Seed: 3,"), cell.out.constData());
    const auto last = runCli({QStringLiteral("png-info"), dir.filePath(QStringLiteral("plot-cells/011.png"))});
    QVERIFY2(last.out.contains("Model: step_500"), last.out.constData());
    // Same weights, same seed, same settings: the two checkpoints' cells are the same picture.
    QCOMPARE(QImage(dir.filePath(QStringLiteral("plot-cells/000.png"))), QImage(dir.filePath(QStringLiteral("plot-cells/006.png"))));
    const auto info = runCli({QStringLiteral("png-info"), out});
    QVERIFY2(info.out.contains("Script: X/Y/Z plot, X Type: Steps, X Values: \"2, 3, 4\"") &&
                 info.out.contains("Y Type: Prompt S/R") && info.out.contains("Z Type: Checkpoint name"),
             info.out.constData());

    // Refused before any work: an unknown kind, a search text not in the prompt, too many images.
    QFile::remove(out);
    r = runCli(base + QStringList{QStringLiteral("--x"), QStringLiteral("denoise:0.1,0.2")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("unknown axis kind 'denoise'"), r.err.constData());
    r = runCli(base + QStringList{QStringLiteral("--x"), QStringLiteral("prompt:green,blue")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("'green' is not in the prompt"), r.err.constData());
    r = runCli(base + QStringList{QStringLiteral("--x"), QStringLiteral("seed:1-200"), QStringLiteral("--y"),
                                  QStringLiteral("cfg:1,2")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("makes 400 images, more than --grid-limit 100"), r.err.constData());
    QVERIFY(!QFile::exists(out));
  }
};

QTEST_GUILESS_MAIN(TestCliGeneratePasses)
#include "test_cli_generate_passes.moc"
