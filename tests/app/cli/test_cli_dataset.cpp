// kiln-cli dataset prepare on a folder and on zips built here byte by byte: a normal one, one
// with a '../' entry, one with an absolute path, one with a symbolic link, one declaring a
// bomb-like size. Checks the report, the exit codes and that nothing lands outside OUT_DIR.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <filesystem>
#include <random>

#include "app/cli/cli_runner.h"
#include "app/cli/zip_writer.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::CliResult;
using kiln::test::data_dir;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;
using kiln::test::ZipWriter;

namespace {

QJsonObject readReport(const fs::path& p) { return QJsonDocument::fromJson(fileBytes(p)).object(); }

// Every file under `dir`, relative, sorted.
QStringList filesUnder(const fs::path& dir) {
  QStringList out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() || e.is_symlink()) out << q(e.path().lexically_relative(dir));
  }
  out.sort();
  return out;
}

fs::path faces() { return data_dir() / "faces"; }

}  // namespace

class TestCliDataset : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QVERIFY(fs::exists(KILN_CLI)); }

  void usage() {
    QCOMPARE(runCli({QStringLiteral("dataset")}).exitCode, 2);
    const CliResult help = runCli({QStringLiteral("dataset"), QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("kiln-cli dataset prepare SRC OUT_DIR --size N"));
    QCOMPARE(runCli({QStringLiteral("dataset"), QStringLiteral("crop")}).exitCode, 2);
    QCOMPARE(runCli({QStringLiteral("dataset"), QStringLiteral("prepare"), QStringLiteral("only-src")}).exitCode, 2);
    kiln::test::ScratchDir out;
    const CliResult bad = runCli({QStringLiteral("dataset"), QStringLiteral("prepare"), q(faces()), q(out.path()),
                                  QStringLiteral("--size"), QStringLiteral("500")});
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.contains("resolution must be 512 to 1024 in steps of 64, got 500"), bad.err.constData());
    QVERIFY(fs::is_empty(out.path()));
  }

  void folder() {
    kiln::test::ScratchDir src, out;
    fs::copy_file(faces() / "hopper_portrait.jpg", src / "phtmejhn (1).jpg");
    fs::copy_file(faces() / "two_people_bar.jpg", src / "phtmejhn (2).jpg");
    fs::copy_file(faces() / "noface_rocket.jpg", src / "rocket.jpg");
    fs::copy_file(faces() / "corrupt/truncated.jpg", src / "truncated.jpg");
    kiln::test::write_text(src / "rocket.txt", "a rocket at dusk");
    const fs::path report = out / "report.json";
    const CliResult r =
        runCli({QStringLiteral("dataset"), QStringLiteral("prepare"), q(src.path()), q(out.path()),
                QStringLiteral("--size"), QStringLiteral("640"), QStringLiteral("--token"), QStringLiteral("phtmejhn"),
                QStringLiteral("--filename-captions"), QStringLiteral("--json"), q(report)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("[4/4]"));
    QVERIFY(r.err.contains("skipped truncated.jpg: truncated JPEG: the data ends before the end-of-image marker"));
    const QJsonArray images = readReport(report).value(QStringLiteral("images")).toArray();
    QCOMPARE(images.size(), 4);
    const QJsonObject hopper = images.at(0).toObject();
    QCOMPARE(hopper.value(QStringLiteral("source")).toString(), q(src / "phtmejhn (1).jpg"));
    QCOMPARE(hopper.value(QStringLiteral("output")).toString(), q(out / "phtmejhn (1).png"));
    QCOMPARE(hopper.value(QStringLiteral("status")).toString(), QStringLiteral("warning"));
    QCOMPARE(hopper.value(QStringLiteral("reason")).toString(),
             QStringLiteral("upscaled: the crop is 512x512, smaller than 640x640"));
    QCOMPARE(hopper.value(QStringLiteral("faces")).toArray().size(), 1);
    const QJsonArray crop = hopper.value(QStringLiteral("crop")).toArray();
    QCOMPARE(crop.size(), 4);
    QCOMPARE(crop.at(2).toInt(), 512);  // the largest square of a 512x600 photo, upscaled to 640
    QCOMPARE(images.at(1).toObject().value(QStringLiteral("faces")).toArray().size(), 2);
    const QJsonObject rocket = images.at(2).toObject();
    QCOMPARE(rocket.value(QStringLiteral("status")).toString(), QStringLiteral("warning"));
    QVERIFY(rocket.value(QStringLiteral("reason")).toString().contains(QStringLiteral("no face found")));
    const QJsonObject truncated = images.at(3).toObject();
    QCOMPARE(truncated.value(QStringLiteral("status")).toString(), QStringLiteral("skipped"));
    QVERIFY(truncated.value(QStringLiteral("output")).isNull());
    QVERIFY(truncated.value(QStringLiteral("crop")).isNull());
    QCOMPARE(kiln::test::read_text(out / "phtmejhn (1).txt"), std::string("phtmejhn"));
    QCOMPARE(kiln::test::read_text(out / "rocket.txt"), std::string("phtmejhn, a rocket at dusk"));
    QVERIFY(fs::exists(out / "phtmejhn (2).crop.json"));
    QVERIFY(!fs::exists(out / "truncated.png"));
    // --json - prints the report on stdout.
    kiln::test::ScratchDir out2;
    const CliResult stdoutReport =
        runCli({QStringLiteral("dataset"), QStringLiteral("prepare"), q(src / "rocket.jpg"), q(out2.path()),
                QStringLiteral("--json"), QStringLiteral("-"), QStringLiteral("--no-faces")});
    QCOMPARE(stdoutReport.exitCode, 0);
    QCOMPARE(stdoutReport.json().value(QStringLiteral("images")).toArray().size(), 1);
  }

  void normalZip() {
    kiln::test::ScratchDir work;
    ZipWriter zip;
    zip.add("set/", {});
    zip.add("set/a.jpg", fileBytes(faces() / "hopper_portrait.jpg"));
    zip.add("set/a.txt", "a woman in uniform");
    zip.add("set/b.png", fileBytes(faces() / "astronaut_512.png"));
    zip.add("README.md", "not an image");
    zip.add("__MACOSX/set/._a.jpg", "resource fork");
    zip.write(work / "photos.zip");
    const fs::path out = work / "dataset";
    const fs::path report = work / "report.json";
    const CliResult r = runCli({QStringLiteral("dataset"), QStringLiteral("prepare"), q(work / "photos.zip"), q(out),
                                QStringLiteral("--json"), q(report)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("zip: ignored README.md (not an image)"));
    QVERIFY(r.err.contains("zip: extracted 3 file(s)"));
    const QJsonArray images = readReport(report).value(QStringLiteral("images")).toArray();
    QCOMPARE(images.size(), 2);
    QCOMPARE(images.at(0).toObject().value(QStringLiteral("source")).toString(),
             q(out / ".originals/photos/set/a.jpg"));
    QCOMPARE(kiln::test::read_text(out / "a.txt"), std::string("a woman in uniform"));
    QCOMPARE(filesUnder(out / ".originals"),
             (QStringList{QStringLiteral("photos/set/a.jpg"), QStringLiteral("photos/set/a.txt"),
                          QStringLiteral("photos/set/b.png")}));
    QCOMPARE(filesUnder(work.path()).filter(QStringLiteral("README")).size(), 0);
  }

  void hostileZips_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("dot-dot") << "dotdot"
                             << "zip entry '../evil.txt' would be written outside the folder ('..' component); "
                                "nothing was extracted";
    QTest::newRow("dot-dot deep") << "deep"
                                  << "zip entry 'set/../../evil.jpg' would be written outside the folder ('..' "
                                     "component); nothing was extracted";
    QTest::newRow("backslash") << "backslash"
                               << "zip entry '..\\evil.jpg' would be written outside the folder ('..' component)";
    QTest::newRow("absolute") << "absolute"
                              << "would be written outside the folder (absolute path)";
    QTest::newRow("drive letter") << "drive"
                                  << "zip entry 'C:/evil.jpg' would be written outside the folder (drive letter)";
    QTest::newRow("symlink") << "symlink"
                             << "zip entry 'set/link.jpg' is a symbolic link; nothing was extracted";
    QTest::newRow("bomb") << "bomb"
                          << "zip entry 'set/bomb.png' declares 3840.0 MiB (the limit is 1024.0 MiB)";
  }

  void hostileZips() {
    QFETCH(QString, kind);
    QFETCH(QString, message);
    kiln::test::ScratchDir work;
    std::random_device rd;
    const fs::path absolute = fs::temp_directory_path() / ("kiln-evil-" + std::to_string(rd()) + ".jpg");
    const QByteArray jpeg = fileBytes(faces() / "small_320x240.jpg");
    ZipWriter zip;
    zip.add("set/a.jpg", jpeg);  // a good entry first: it must not be written either
    if (kind == QLatin1String("dotdot")) zip.add("../evil.txt", "evil");
    if (kind == QLatin1String("deep")) zip.add("set/../../evil.jpg", jpeg);
    if (kind == QLatin1String("backslash")) zip.add("..\\evil.jpg", jpeg);
    if (kind == QLatin1String("absolute")) zip.add(QByteArray::fromStdString(absolute.string()), jpeg);
    if (kind == QLatin1String("drive")) zip.add("C:/evil.jpg", jpeg);
    if (kind == QLatin1String("symlink")) zip.addSymlink("set/link.jpg", "/etc/passwd");
    if (kind == QLatin1String("bomb")) zip.addLying("set/bomb.png", "tiny", 0xF0000000u);
    zip.write(work / "hostile.zip");
    const fs::path out = work / "out" / "dataset";
    fs::create_directories(out);
    const CliResult r = runCli({QStringLiteral("dataset"), QStringLiteral("prepare"), q(work / "hostile.zip"), q(out)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
    // Nothing at all was written: not outside, not even the good entry inside.
    QCOMPARE(filesUnder(work.path()), QStringList{QStringLiteral("hostile.zip")});
    QVERIFY(!fs::exists(absolute));
    QVERIFY(!fs::exists(work / "evil.txt"));
    QVERIFY(!fs::exists(work / "out" / "evil.txt"));
  }
};

QTEST_GUILESS_MAIN(TestCliDataset)
#include "test_cli_dataset.moc"
