// kiln-cli control render-pose on golden pose fixtures (the PNG's pixels must hash to the
// reference render), size overrides, and broken input: one line, exit 1, nothing written.
#include <QCryptographicHash>
#include <QImage>
#include <QProcess>
#include <QtTest>

#include <filesystem>

#include "app/cli/cli_runner.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::CliResult;
using kiln::test::data_dir;
using kiln::test::q;
using kiln::test::runCli;

namespace {

fs::path fixture(const std::string& name) { return data_dir() / "golden/control_maps/openpose/fixtures" / name; }

// sha256 of the image's packed RGB rows (the golden's sha256_raw).
QByteArray rawSha256(const fs::path& png) {
  const QImage image = QImage(q(png)).convertToFormat(QImage::Format_RGB888);
  QCryptographicHash hash(QCryptographicHash::Sha256);
  for (int y = 0; y < image.height(); ++y)
    hash.addData(QByteArrayView(reinterpret_cast<const char*>(image.constScanLine(y)), image.width() * 3));
  return hash.result().toHex();
}

int lineCount(const QByteArray& text) { return static_cast<int>(text.trimmed().split('\n').size()); }

}  // namespace

class TestCliControl : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QVERIFY(fs::exists(KILN_CLI)); }

  void rendersGoldenPoses_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("renderer");
    QTest::addColumn<QByteArray>("sha256");
    // From openpose/cases.json.
    QTest::newRow("single a1111") << "single_512x768.a1111.json"
                                  << "a1111"
                                  << QByteArray("b60e153d82b672d06e920a28d394c7b6b28d717c10650ceb83f4e578843f7a7b");
    QTest::newRow("two_overlap cn11") << "two_overlap_512x512.a1111.json"
                                      << "cn11"
                                      << QByteArray("fb6ee095162f0d01cbdcd588b41fbc76e0d5569611dff2b29d2797d56a2bb063");
    QTest::newRow("pixels comfy") << "pixels_512x768.comfy_pose_keypoint.json"
                                  << "comfy" << QByteArray("");  // filled in from the a1111 render below
    QTest::newRow("hands_face xinsr") << "hands_face_512x512.comfy_pose_keypoint.json"
                                      << "comfy_xinsr" << QByteArray("");
  }
  void rendersGoldenPoses() {
    QFETCH(QString, file);
    QFETCH(QString, renderer);
    QFETCH(QByteArray, sha256);
    kiln::test::ScratchDir dir;
    const fs::path out = dir / "map.png";
    const CliResult r =
        runCli({QStringLiteral("control"), QStringLiteral("render-pose"), q(fixture(file.toStdString())),
                QStringLiteral("--out"), q(out), QStringLiteral("--renderer"), renderer});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("wrote "), r.out.constData());
    QVERIFY(fs::exists(out));
    if (sha256.isEmpty()) {
      // The same render through the other format's file and the golden PNG itself.
      const QString stem = file.section(QLatin1Char('.'), 0, 0);
      const QString golden = QStringLiteral("%1_%2.png")
                                 .arg(stem, renderer == QLatin1String("comfy") ? QStringLiteral("a1111") : renderer);
      sha256 = rawSha256(data_dir() / "golden/control_maps/openpose/renders" / golden.toStdString());
    }
    QCOMPARE(rawSha256(out), sha256);
  }

  void sizeOverride() {
    kiln::test::ScratchDir dir;
    const fs::path out = dir / "map.png";
    const CliResult r =
        runCli({QStringLiteral("control"), QStringLiteral("render-pose"), q(fixture("single_512x512.a1111.json")),
                QStringLiteral("--out"), q(out), QStringLiteral("--width"), QStringLiteral("320"),
                QStringLiteral("--height"), QStringLiteral("200")});
    QCOMPARE(r.exitCode, 0);
    const QImage image(q(out));
    QCOMPARE(image.width(), 320);
    QCOMPARE(image.height(), 200);
    QVERIFY(r.out.contains("320x200, a1111, 1 person, 0 animals"));
  }

  void badInput_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("truncated") << QByteArray(R"({"people": [{"pose_keypoints_2d": [0.5, 0.1)")
                               << QStringLiteral("not valid JSON (line 1, column 44");
    QTest::newRow("wrong length")
        << QByteArray(
               R"({"people": [{"pose_keypoints_2d": [0.5, 0.1, 1]}], "canvas_width": 512, "canvas_height": 512})")
        << QStringLiteral("people[0].pose_keypoints_2d has 3 numbers, expected 54");
    QTest::newRow("absurd canvas") << QByteArray(R"({"people": [], "canvas_width": 512, "canvas_height": 1e9})")
                                   << QStringLiteral("canvas_height = 1000000000.0 is out of range (1 to 8192)");
    QTest::newRow("frame") << QByteArray(R"([{"people": [], "canvas_width": 64, "canvas_height": 64}])")
                           << QStringLiteral("--frame 2: ");
  }
  void badInput() {
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    kiln::test::ScratchDir dir;
    const fs::path pose = dir / "pose.json";
    kiln::test::write_text(pose, content.toStdString());
    const fs::path out = dir / "map.png";
    QStringList args{QStringLiteral("control"), QStringLiteral("render-pose"), q(pose), QStringLiteral("--out"),
                     q(out)};
    if (QString::fromLatin1(QTest::currentDataTag()) == QLatin1String("frame"))
      args << QStringLiteral("--frame") << QStringLiteral("2");
    const CliResult r = runCli(args);
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(lineCount(r.err), 1);
    QVERIFY2(r.err.contains(expected.toUtf8()), r.err.constData());
    QVERIFY2(r.err.contains(q(pose).toUtf8()), r.err.constData());
    QVERIFY(!fs::exists(out));
  }

  void usageErrors() {
    const QString pose = q(fixture("single_512x512.a1111.json"));
    CliResult r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), pose});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--out MAP.png is required"));
    r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), pose, QStringLiteral("--out"),
                QStringLiteral("x.png"), QStringLiteral("--renderer"), QStringLiteral("openpose")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--renderer is a1111, comfy, comfy_xinsr, controlnet_aux or cn11, got 'openpose'"));
    r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), pose, QStringLiteral("--out"),
                QStringLiteral("x.png"), QStringLiteral("--width"), QStringLiteral("0")});
    QCOMPARE(r.exitCode, 2);
    r = runCli({QStringLiteral("control"), QStringLiteral("paint")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("unknown sub-command 'paint' (sub-commands: render-pose;"));
    r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--renderer NAME"));
    r = runCli({QStringLiteral("control"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("render-pose"));
    r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), QStringLiteral("/nonexistent/pose.json"),
                QStringLiteral("--out"), QStringLiteral("x.png")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("/nonexistent/pose.json: cannot read the pose file"));
  }
};

QTEST_GUILESS_MAIN(TestCliControl)
#include "test_cli_control.moc"
