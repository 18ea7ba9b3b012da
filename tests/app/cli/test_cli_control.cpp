// kiln-cli control: detect on golden inputs (the map's pixels must hash to A1111's, from
// control_maps/opencv/cases.json), list, render-pose on golden pose fixtures (the PNG's pixels
// must hash to the reference render), size overrides, and broken input: one line, exit 1,
// nothing written.
#include <QCryptographicHash>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <csignal>
#include <filesystem>

#include "app/cli/cli_runner.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::CliResult;
using kiln::test::data_dir;
using kiln::test::fileBytes;
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

fs::path controlMaps() { return data_dir() / "golden/control_maps"; }

// sha256_raw of the golden map `file` ("opencv/canny/...png") as cases.json records it.
QByteArray goldenSha256(const QString& file) {
  const QJsonObject doc = QJsonDocument::fromJson(fileBytes(controlMaps() / "opencv/cases.json")).object();
  for (const QJsonValue c : doc.value(QStringLiteral("cases")).toArray()) {
    const QJsonObject output = c.toObject().value(QStringLiteral("output")).toObject();
    if (output.value(QStringLiteral("file")).toString() == file)
      return output.value(QStringLiteral("sha256_raw")).toString().toLatin1();
  }
  return {};
}

CliResult detect(const QStringList& args) {
  return runCli(QStringList{QStringLiteral("control"), QStringLiteral("detect")} + args);
}

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

  void detectMatchesA1111_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("golden");
    QTest::addColumn<QString>("summary");
    // Rows of control_maps/opencv/cases.json: A1111's preprocessors at a resolution.
    QTest::newRow("canny default") << QStringList{QStringLiteral("--module"), QStringLiteral("canny")}
                                   << "photo_portrait"
                                   << "opencv/canny/photo_portrait_r512_100_200.png"
                                   << "(512x600 RGB, canny, resolution 512, low_threshold=100, high_threshold=200)";
    QTest::newRow("canny params") << QStringList{QStringLiteral("--module=canny"), QStringLiteral("--param"),
                                                 QStringLiteral("low_threshold=50"), QStringLiteral("--param"),
                                                 QStringLiteral("high_threshold=150")}
                                  << "photo_landscape"
                                  << "opencv/canny/photo_landscape_r512_50_150.png"
                                  << "(768x512 RGB, canny, resolution 512, low_threshold=50, high_threshold=150)";
    QTest::newRow("canny 203 grey") << QStringList{QStringLiteral("--module"), QStringLiteral("canny"),
                                                   QStringLiteral("--resolution"), QStringLiteral("203")}
                                    << "photo_gray"
                                    << "opencv/canny/photo_gray_r203_100_200.png"
                                    << "(203x271 RGB, canny, resolution 203,";
    QTest::newRow("threshold") << QStringList{QStringLiteral("--module"),     QStringLiteral("threshold"),
                                              QStringLiteral("--resolution"), QStringLiteral("203"),
                                              QStringLiteral("--param"),      QStringLiteral("threshold=64")}
                               << "photo_gray"
                               << "opencv/threshold/photo_gray_r203_t64.png"
                               << "(203x271 RGB, threshold, resolution 203, threshold=64)";
    QTest::newRow("invert rgba") << QStringList{QStringLiteral("--module"), QStringLiteral("invert")} << "rgba"
                                 << "opencv/invert/rgba_invert.png"
                                 << "(240x320 RGB, invert)";
  }
  void detectMatchesA1111() {
    QFETCH(QStringList, args);
    QFETCH(QString, input);
    QFETCH(QString, golden);
    QFETCH(QString, summary);
    const QByteArray sha256 = goldenSha256(golden);
    QVERIFY2(!sha256.isEmpty(), qPrintable(golden));
    kiln::test::ScratchDir dir;
    const fs::path out = dir / "map.png";
    const CliResult r = detect(args + QStringList{q(controlMaps() / "inputs" / (input.toStdString() + ".png")),
                                                  QStringLiteral("--out"), q(out)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.startsWith("wrote " + q(out).toUtf8() + " " + summary.toUtf8()), r.out.constData());
    QCOMPARE(rawSha256(out), sha256);
  }

  void listShowsEveryPreprocessor() {
    CliResult r = runCli({QStringLiteral("control"), QStringLiteral("list")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("none\n  resolution: no\n  weights: none\n"), r.out.constData());
    QVERIFY(
        r.out.contains("\ncanny\n  resolution: yes (default 512)\n"
                       "  --param low_threshold=100  Low Threshold, 0..256 step 1 (Threshold A)\n"
                       "  --param high_threshold=200  High Threshold, 0..256 step 1 (Threshold B)\n"
                       "  weights: none\n"));
    QVERIFY(
        r.out.contains("\nsoftedge_hed  (also: hed)\n  resolution: yes (default 512)\n"
                       "  weights: ControlNetHED.pth or ControlNetHED.safetensors\n"
                       "  from: https://huggingface.co/lllyasviel/Annotators\n  licence: Apache-2.0"));
    QVERIFY(r.out.contains("\nlineart_standard  \"lineart_standard (from white bg & black line)\"\n"));
    QVERIFY(r.out.contains("  --param sigma=9  Sigma, 0.01..64 step 0.01 (Threshold A)\n"));

    r = runCli({QStringLiteral("control"), QStringLiteral("list"), QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 0);
    const QJsonArray all = QJsonDocument::fromJson(r.out).array();
    QStringList names;
    for (const QJsonValue v : all) names << v.toObject().value(QStringLiteral("name")).toString();
    QCOMPARE(names.value(0), QStringLiteral("none"));
    for (const char* name : {"canny", "threshold", "scribble_xdog", "lineart_standard", "invert", "tile_resample",
                             "blur_gaussian", "inpaint", "inpaint_only", "softedge_hed", "softedge_hedsafe",
                             "scribble_hed", "lineart_realistic", "lineart_coarse", "depth_anything_v2",
                             "dw_openpose_full"})
      QVERIFY2(names.contains(QLatin1String(name)), name);
    for (const QJsonValue v : all) {
      const QJsonObject p = v.toObject();
      if (p.value(QStringLiteral("name")) != QStringLiteral("depth_anything_v2")) continue;
      QCOMPARE(p.value(QStringLiteral("takes_resolution")).toBool(), true);
      const QJsonObject weights = p.value(QStringLiteral("weights")).toObject();
      QCOMPARE(weights.value(QStringLiteral("files")).toArray().first().toString(),
               QStringLiteral("depth_anything_v2_vits.pth"));
      QVERIFY(weights.value(QStringLiteral("licence")).toString().startsWith(QLatin1String("Apache-2.0")));
    }
  }

  void detectDwpose() {
    // DWPose's two files under their published names in A1111's layout; the tiny test models.
    kiln::test::ScratchDir dir;
    const fs::path annotators = dir / "annotators";
    fs::create_directories(annotators / "openpose");
    fs::copy_file(data_dir() / "dwpose/dwpose_tiny.onnx", annotators / "openpose/dw-ll_ucoco_384.onnx");
    const fs::path out = dir / "pose.png";
    const QStringList args{QStringLiteral("--module"), QStringLiteral("dw_openpose_full"),
                           q(controlMaps() / "inputs/photo_landscape.png"), QStringLiteral("--out"), q(out),
                           QStringLiteral("--annotator-dir"), q(annotators)};
    CliResult r = detect(args);  // the detector is missing
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("yolox_l.onnx") && r.err.contains("https://huggingface.co/yzd-v/DWPose"),
             r.err.constData());
    QVERIFY2(r.err.contains(q(annotators / "openpose").toUtf8()), r.err.constData());
    QVERIFY(!fs::exists(out));

    fs::copy_file(data_dir() / "dwpose/yolox_tiny.onnx", annotators / "openpose/yolox_l.onnx");
    r = detect(args);
    QCOMPARE(r.exitCode, 0);
    const QImage map(q(out));
    QCOMPARE(map.size(), QSize(768, 512));  // 300x200 at 512, the padding cropped off
    int lit = 0;
    for (int y = 0; y < map.height(); ++y)
      for (int x = 0; x < map.width(); ++x) lit += map.pixel(x, y) != qRgb(0, 0, 0);
    QVERIFY(lit > 1000);  // the tiny models find 22 people there

    r = runCli({QStringLiteral("control"), QStringLiteral("list")});
    QVERIFY(r.out.contains("\ndw_openpose_full\n  resolution: yes (default 512)\n"
                           "  weights: dw-ll_ucoco_384.onnx\n  from: https://huggingface.co/yzd-v/DWPose\n"
                           "  licence: Apache-2.0"));
    QVERIFY(r.out.contains("  and: yolox_l.onnx\n  from: https://huggingface.co/yzd-v/DWPose\n"));
  }

  void detectErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown module") << QStringList{QStringLiteral("--module"), QStringLiteral("sobel")}
                                    << QStringLiteral("unknown preprocessor 'sobel' (known preprocessors: none, ");
    QTest::newRow("unknown param") << QStringList{QStringLiteral("--module"), QStringLiteral("canny"),
                                                  QStringLiteral("--param"), QStringLiteral("lowthreshold=5")}
                                   << QStringLiteral(
                                          "preprocessor 'canny' has no parameter 'lowthreshold' (its "
                                          "parameters: low_threshold, high_threshold)");
    QTest::newRow("out of range") << QStringList{QStringLiteral("--module"), QStringLiteral("canny"),
                                                 QStringLiteral("--param"), QStringLiteral("low_threshold=300")}
                                  << QStringLiteral(
                                         "preprocessor 'canny': low_threshold = 300 is outside 0..256 (Low "
                                         "Threshold (default 100))");
    QTest::newRow("resolution") << QStringList{QStringLiteral("--module"), QStringLiteral("canny"),
                                               QStringLiteral("--resolution"), QStringLiteral("0")}
                                << QStringLiteral("preprocessor 'canny': resolution 0 is outside 1..16384");
    QTest::newRow("missing weights") << QStringList{QStringLiteral("--module"), QStringLiteral("softedge_hed")}
                                     << QStringLiteral(
                                            "preprocessor 'softedge_hed' needs its weights ControlNetHED.pth or "
                                            "ControlNetHED.safetensors, found in none of: ");
    QTest::newRow("corrupt image") << QStringList{QStringLiteral("--module"), QStringLiteral("canny")}
                                   << QStringLiteral("corrupt or truncated PNG image");
  }
  void detectErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    kiln::test::ScratchDir dir;
    const fs::path annotators = dir / "annotators";
    fs::create_directories(annotators);  // empty: no weights anywhere
    fs::path image = controlMaps() / "inputs/photo_landscape.png";
    if (QString::fromLatin1(QTest::currentDataTag()) == QLatin1String("corrupt image")) {
      image = dir / "broken.png";
      QByteArray png = fileBytes(controlMaps() / "inputs/photo_landscape.png");
      png.truncate(png.size() / 2);
      kiln::test::write_text(image, png.toStdString());
    }
    // A map from an earlier run stays as it was: the new one would appear by rename.
    const fs::path out = dir / "map.png";
    kiln::test::write_text(out, "earlier map");
    const CliResult r = detect(args + QStringList{q(image), QStringLiteral("--out"), q(out),
                                                  QStringLiteral("--annotator-dir"), q(annotators)});
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(lineCount(r.err), 1);
    QVERIFY2(r.err.startsWith("kiln-cli: error: "), r.err.constData());
    QVERIFY2(r.err.contains(expected.toUtf8()), r.err.constData());
    if (QString::fromLatin1(QTest::currentDataTag()) == QLatin1String("missing weights")) {
      // Where it looked, where to get the file and its licence.
      QVERIFY2(r.err.contains(q(annotators).toUtf8() + ", " + q(annotators / "hed").toUtf8()), r.err.constData());
      QVERIFY2(r.err.contains("download ControlNetHED.pth from https://huggingface.co/lllyasviel/Annotators "
                              "(licence: Apache-2.0"),
               r.err.constData());
    }
    if (QString::fromLatin1(QTest::currentDataTag()) == QLatin1String("corrupt image"))
      QVERIFY2(r.err.contains(q(image).toUtf8()), r.err.constData());
    QCOMPARE(fileBytes(out), QByteArray("earlier map"));
    // Nothing else either (no temporary file left beside it).
    const long expectedEntries = image.parent_path() == dir.path() ? 3 : 2;
    QCOMPARE(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), expectedEntries);
  }

  void detectUsageErrors() {
    const QString image = q(controlMaps() / "inputs/lines.png");
    CliResult r = detect({image, QStringLiteral("--out"), QStringLiteral("x.png")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--module NAME is required"));
    r = detect({QStringLiteral("--module"), QStringLiteral("canny"), image});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--out MAP.png is required"));
    r = detect({QStringLiteral("--module"), QStringLiteral("canny"), image, QStringLiteral("--out"),
                QStringLiteral("x.png"), QStringLiteral("--param"), QStringLiteral("low_threshold")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--param takes KEY=VALUE with a number, e.g. low_threshold=50, got 'low_threshold'"),
             r.err.constData());
    r = detect({QStringLiteral("--module"), QStringLiteral("canny"), image, QStringLiteral("--out"),
                QStringLiteral("x.png"), QStringLiteral("--resolution"), QStringLiteral("big")});
    QCOMPARE(r.exitCode, 2);
    r = detect({QStringLiteral("--module"), QStringLiteral("canny"), image, QStringLiteral("--out"),
                QStringLiteral("x.png"), QStringLiteral("--device"), QStringLiteral("tpu")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--device is cpu, cuda or cuda:N, got 'tpu'"));
    r = detect({QStringLiteral("--module"), QStringLiteral("inpaint"), image, QStringLiteral("--out"),
                QStringLiteral("x.png")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("'inpaint' needs --mask FILE"));
    r = detect({QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--annotator-dir DIR"));
    QVERIFY(!fs::exists("x.png"));
  }

  void ctrlCCancelsDetect() {
    // softedge_hed with tiny weights at a large resolution runs for a while: SIGINT stops it
    // between its stages; exit 130, no map written.
    kiln::test::ScratchDir dir;
    const fs::path annotators = dir.path() / "annotators";
    fs::create_directories(annotators);
    fs::copy_file(controlMaps() / "nets/hed/weights.safetensors", annotators / "ControlNetHED.safetensors");
    const fs::path out = dir.path() / "map.png";
    QProcess p;
    p.start(QStringLiteral(KILN_CLI),
            {QStringLiteral("control"), QStringLiteral("detect"), QStringLiteral("--module"),
             QStringLiteral("softedge_hed"), q(controlMaps() / "inputs/photo_landscape.png"),
             QStringLiteral("--resolution"), QStringLiteral("2048"), QStringLiteral("--annotator-dir"), q(annotators),
             QStringLiteral("--out"), q(out)});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    while (!err.contains("running softedge_hed") && p.state() == QProcess::Running) {
      p.waitForReadyRead(100);
      err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("running softedge_hed at resolution 2048 (Ctrl-C cancels)"), err.constData());
    QCOMPARE(::kill(static_cast<pid_t>(p.processId()), SIGINT), 0);
    QVERIFY(p.waitForFinished(120000));
    err += p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(err.contains("kiln-cli control detect: cancelled; nothing written"), err.constData());
    QVERIFY(!fs::exists(out));
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
    QVERIFY(r.err.contains("unknown sub-command 'paint' (sub-commands: detect, list, render-pose;"));
    r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--renderer NAME"));
    r = runCli({QStringLiteral("control"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("render-pose"));
    QVERIFY(r.out.contains("detect --module NAME IMAGE --out MAP.png"));
    r = runCli({QStringLiteral("control"), QStringLiteral("render-pose"), QStringLiteral("/nonexistent/pose.json"),
                QStringLiteral("--out"), QStringLiteral("x.png")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("/nonexistent/pose.json: cannot read the pose file"));
  }
};

QTEST_GUILESS_MAIN(TestCliControl)
#include "test_cli_control.moc"
