// kiln-cli upscale with the tiny RRDBNets of tests/data/esrgan: output size at the model's scale
// and at another, tiled; the input PNG's parameters kept and A1111's postprocessing chunk added;
// usage errors (exit 2) and files that are no upscaler or no image (exit 1, nothing written);
// Ctrl-C between tiles (exit 130, nothing written); kiln-cli generate --hires-upscaler FILE.pth on the tiny SD 1.x
// pipeline.
#include <QImage>
#include <QImageWriter>
#include <QProcess>
#include <QtTest>

#include <csignal>
#include <filesystem>

#include "app/cli/cli_runner.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::data_dir;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;

namespace {

const QString kParameters = QStringLiteral("a red fox, Steps: 20, Seed: 7, Size: 37x29");

fs::path model(const char* name) { return data_dir() / "esrgan" / name; }

void writeInput(const fs::path& path, int width = 37, int height = 29) {
  QImage image(width, height, QImage::Format_RGB888);
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x)
      image.setPixel(x, y, qRgb((x * 7 + y * 3) % 256, (x * y) % 256, (x + 5 * y) % 256));
  QImageWriter writer(q(path), "png");
  writer.setText(QStringLiteral("parameters"), kParameters);
  QVERIFY(writer.write(image));
}

}  // namespace

class TestCliUpscale : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void modelScaleKeepsParameters() {
    kiln::test::ScratchDir dir("kiln-cli-upscale");
    writeInput(dir / "in.png");
    const fs::path out = dir / "out.png";
    const auto r = runCli({QStringLiteral("upscale"), q(dir / "in.png"), QStringLiteral("--model"),
                           q(model("x4_old.pth")), QStringLiteral("--out"), q(out)});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("4x RRDBNet (old ESRGAN layout"), r.err.constData());
    const QImage image(q(out));
    QCOMPARE(image.size(), QSize(148, 116));
    const auto info = runCli({QStringLiteral("png-info"), q(out)});
    QCOMPARE(info.exitCode, 0);
    QCOMPARE(QString::fromUtf8(info.out).trimmed(), kParameters);
    QVERIFY(fileBytes(out).contains("postprocessing\0Postprocess upscale by: 4, Postprocess upscaler: x4_old"_qba));
  }

  void otherScaleTiled() {
    kiln::test::ScratchDir dir("kiln-cli-upscale");
    writeInput(dir / "in.png");
    const fs::path out = dir / "out.png";
    const auto r =
        runCli({QStringLiteral("upscale"), q(dir / "in.png"), QStringLiteral("--model"), q(model("x4_basicsr.pth")),
                QStringLiteral("--scale"), QStringLiteral("2.5"), QStringLiteral("--tile"), QStringLiteral("32"),
                QStringLiteral("--overlap"), QStringLiteral("8"), QStringLiteral("--out"), q(out)});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("tile 2/2"), r.err.constData());
    // A1111's size: floor(37 x 2.5 / 8) x 8 = 88, floor(29 x 2.5 / 8) x 8 = 72.
    QCOMPARE(QImage(q(out)).size(), QSize(88, 72));
    QVERIFY(fileBytes(out).contains("Postprocess upscale by: 2.5, Postprocess upscaler: x4_basicsr"_qba));
  }

  void refusals() {
    kiln::test::ScratchDir dir("kiln-cli-upscale");
    writeInput(dir / "in.png");
    const fs::path out = dir / "out.png";
    const QString in = q(dir / "in.png");
    auto run = [&](QStringList extra) { return runCli(QStringList{QStringLiteral("upscale")} + extra); };
    QCOMPARE(run({in, QStringLiteral("--out"), q(out)}).exitCode, 2);                    // no --model
    QCOMPARE(run({in, QStringLiteral("--model"), q(model("x4_old.pth"))}).exitCode, 2);  // no --out
    QCOMPARE(run({in, QStringLiteral("--model"), q(model("x4_old.pth")), QStringLiteral("--scale"),
                  QStringLiteral("big"), QStringLiteral("--out"), q(out)})
                 .exitCode,
             2);
    QCOMPARE(run({in, QStringLiteral("--model"), q(model("x4_old.pth")), QStringLiteral("--tile"), QStringLiteral("8"),
                  QStringLiteral("--out"), q(out)})
                 .exitCode,
             1);
    const auto swin =
        run({in, QStringLiteral("--model"), q(model("swinir_like.safetensors")), QStringLiteral("--out"), q(out)});
    QCOMPARE(swin.exitCode, 1);
    QVERIFY2(swin.err.contains("swinir_like.safetensors: not an ESRGAN-family (RRDBNet) upscaler"),
             swin.err.constData());
    const auto notImage = run(
        {q(model("x4_old.pth")), QStringLiteral("--model"), q(model("x4_old.pth")), QStringLiteral("--out"), q(out)});
    QCOMPARE(notImage.exitCode, 1);
    QVERIFY2(notImage.err.contains("cannot read the image"), notImage.err.constData());
    QVERIFY(!fs::exists(out));
  }

  void ctrlCStopsBetweenTiles() {
    kiln::test::ScratchDir dir("kiln-cli-upscale");
    writeInput(dir / "big.png", 1024, 1024);
    const fs::path out = dir / "out.png";
    QProcess p;
    p.start(QStringLiteral(KILN_CLI),
            {QStringLiteral("upscale"), q(dir / "big.png"), QStringLiteral("--model"), q(model("x4_old.pth")),
             QStringLiteral("--tile"), QStringLiteral("32"), QStringLiteral("--overlap"), QStringLiteral("8"),
             QStringLiteral("--out"), q(out)});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    while (!err.contains("tile 2/1849") && p.state() == QProcess::Running) {  // 43 x 43 tiles
      p.waitForReadyRead(100);
      err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("tile 2/1849"), err.constData());
    QCOMPARE(::kill(static_cast<pid_t>(p.processId()), SIGINT), 0);
    QVERIFY(p.waitForFinished(120000));
    err += p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(err.contains("kiln-cli upscale: cancelled; nothing written"), err.constData());
    QVERIFY(!fs::exists(out));
  }

  void hiresFixWithUpscalerModel() {
    kiln::test::ScratchDir dir("kiln-cli-upscale");
    const fs::path out = dir / "hires.png";
    const QStringList base{QStringLiteral("generate"),
                           QStringLiteral("--model"),
                           q(data_dir() / "golden/pipeline/tiny_sd1"),
                           QStringLiteral("--prompt"),
                           QStringLiteral("a castle"),
                           QStringLiteral("--steps"),
                           QStringLiteral("4"),
                           QStringLiteral("--seed"),
                           QStringLiteral("9"),
                           QStringLiteral("--hires-scale"),
                           QStringLiteral("1.5"),
                           QStringLiteral("--out"),
                           q(out)};
    auto r = runCli(base + QStringList{QStringLiteral("--hires-upscaler"), q(model("x4_old.pth"))});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QImage(q(out)).size(), QSize(96, 96));
    const auto info = runCli({QStringLiteral("png-info"), q(out)});
    QVERIFY2(info.out.contains("Hires upscale: 1.5, Hires upscaler: x4_old"), info.out.constData());

    fs::remove(out);
    r = runCli(base + QStringList{QStringLiteral("--hires-upscaler"), q(model("swinir_like.safetensors"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("not an ESRGAN-family (RRDBNet) upscaler"), r.err.constData());
    QVERIFY(!fs::exists(out));
  }
};

QTEST_GUILESS_MAIN(TestCliUpscale)
#include "test_cli_upscale.moc"
