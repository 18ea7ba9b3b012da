// kiln-cli session export / import on the golden tiny pipeline: a session stopped in the middle,
// exported with its checkpoints, imported elsewhere with its base model in another folder and
// resumed writes the same checkpoint, byte for byte, as an uninterrupted run; a session exported
// without weights trains from the start to the same bytes; hostile or damaged archives are
// refused naming the entry, with nothing written anywhere; a cancelled export leaves nothing.
#include <quazip.h>
#include <quazipfile.h>

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QThread>
#include <QtTest>

#include <filesystem>
#include <map>
#include <random>

#include "app/cli/cli_runner.h"
#include "app/cli/zip_writer.h"
#include "services/session_archive.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::CliResult;
using kiln::test::data_dir;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;
using kiln::test::ZipWriter;

namespace {

constexpr int kLimit = 600000;

int metricLines(const fs::path& session) { return static_cast<int>(fileBytes(session / "metrics.jsonl").count('\n')); }

QStringList trainArgs(const fs::path& session, const fs::path& base, const fs::path& images) {
  return {QStringLiteral("train"),
          QStringLiteral("--session"),
          q(session),
          QStringLiteral("--base"),
          q(base),
          QStringLiteral("--images"),
          q(images),
          QStringLiteral("--token"),
          QStringLiteral("sks"),
          QStringLiteral("--resolution"),
          QStringLiteral("64"),
          QStringLiteral("--text-encoder-steps"),
          QStringLiteral("2"),
          QStringLiteral("--unet-steps"),
          QStringLiteral("14"),
          QStringLiteral("--lr-text"),
          QStringLiteral("1e-4"),
          QStringLiteral("--lr-unet"),
          QStringLiteral("1e-4"),
          QStringLiteral("--save-every"),
          QStringLiteral("4"),
          QStringLiteral("--keep-checkpoints"),
          QStringLiteral("2"),
          QStringLiteral("--seed"),
          QStringLiteral("11")};
}

void copyTree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy(from, to, fs::copy_options::recursive);
}

// Every file and folder under `root`, relative, sorted (hidden ones too).
QStringList everything(const fs::path& root) {
  QStringList out;
  QDirIterator it(q(root), QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System,
                  QDirIterator::Subdirectories);
  while (it.hasNext()) out.push_back(QDir(q(root)).relativeFilePath(it.next()));
  out.sort();
  return out;
}

// The entries of a zip, in order, with their data.
std::vector<std::pair<QByteArray, QByteArray>> readZip(const fs::path& path) {
  std::vector<std::pair<QByteArray, QByteArray>> out;
  QuaZip zip(q(path));
  if (!zip.open(QuaZip::mdUnzip)) return out;
  for (bool more = zip.goToFirstFile(); more; more = zip.goToNextFile()) {
    QuaZipFile f(&zip);
    f.open(QIODevice::ReadOnly);
    out.emplace_back(zip.getCurrentFileName().toUtf8(), f.readAll());
  }
  return out;
}

QJsonObject manifestOf(const std::vector<std::pair<QByteArray, QByteArray>>& entries) {
  for (const auto& [name, data] : entries) {
    if (name == "manifest.json") return QJsonDocument::fromJson(data).object();
  }
  return {};
}

}  // namespace

class TestCliSession : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(scratch_.isValid());
    root_ = fs::path(scratch_.path().toStdString());
    // The model hash cache of this test's own (kiln-cli inherits it).
    qputenv("KILN_CACHE_DIR", (scratch_.path() + QStringLiteral("/cache")).toUtf8());
    images_ = root_ / "images";
    fs::create_directories(images_);
    fs::copy_file(data_dir() / "faces/hopper_portrait.jpg", images_ / "hopper.jpg");
    fs::copy_file(data_dir() / "faces/portrait_beach.jpg", images_ / "beach.jpg");
    // The uninterrupted run every travelled session must match, on the golden model in place.
    straight_ = root_ / "straight";
    const CliResult r = runCli(trainArgs(straight_, data_dir() / "golden/pipeline/tiny_sd1", images_), kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("trained 16 steps"));
  }

  // Laptop: a session on a copy of the model, stopped in the middle, exported with its
  // checkpoints. GPU box: the model in another folder; the import finds it by its hash; the
  // resumed run ends with the uninterrupted run's bytes.
  void exportedSessionResumesExactlyElsewhere() {
    const fs::path laptopModel = root_ / "laptop/models/tiny_sd1";
    copyTree(data_dir() / "golden/pipeline/tiny_sd1", laptopModel);
    const fs::path session = root_ / "laptop/session";
    QProcess p;
    p.start(QStringLiteral(KILN_CLI), trainArgs(session, laptopModel, images_));
    QVERIFY(p.waitForStarted(10000));
    QElapsedTimer timer;
    timer.start();
    while (metricLines(session) < 7) {
      QVERIFY(p.state() == QProcess::Running && timer.elapsed() < kLimit);
      QThread::msleep(10);
    }
    p.terminate();  // a stop: saves a checkpoint at the step it reached
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 130);
    const int stoppedAt = metricLines(session);
    QVERIFY(stoppedAt >= 7 && stoppedAt < 16);

    const fs::path zip = root_ / "carried.zip";
    CliResult r = runCli({QStringLiteral("session"), QStringLiteral("export"), q(session), QStringLiteral("--out"),
                          q(zip), QStringLiteral("--with-checkpoints")},
                         kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("checkpoint at step " + QByteArray::number(stoppedAt)), r.out.constData());
    const auto entries = readZip(zip);
    std::map<QByteArray, QByteArray> byName(entries.begin(), entries.end());
    for (const char* name :
         {"settings.json", "metrics.jsonl", "log.txt", "dataset/dataset.json", "dataset/000000-beach.jpg",
          "dataset/000001-hopper.jpg", "checkpoints/latest.safetensors", "manifest.json"}) {
      QVERIFY2(byName.count(name) == 1, name);
    }
    const QJsonObject manifest = manifestOf(entries);
    QCOMPARE(manifest.value(QStringLiteral("files")).toArray().size(), static_cast<qsizetype>(entries.size() - 1));
    QCOMPARE(manifest.value(QStringLiteral("base_model")).toObject().value(QStringLiteral("name")).toString(),
             QStringLiteral("tiny_sd1"));
    QCOMPARE(everything(root_).filter(QStringLiteral(".partial")), QStringList{});

    // The other machine: the laptop's model is gone, a copy lies elsewhere.
    fs::remove_all(root_ / "laptop");
    const fs::path boxModels = root_ / "box/models";
    copyTree(data_dir() / "golden/pipeline/tiny_sd1", boxModels / "sd/tiny_sd1");
    const fs::path imported = root_ / "box/sessions/travelled";
    r = runCli({QStringLiteral("session"), QStringLiteral("import"), q(zip), q(imported)}, kLimit);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("the session's base model 'tiny_sd1' (sha256 " +
                            manifest.value(QStringLiteral("base_model"))
                                .toObject()
                                .value(QStringLiteral("sha256"))
                                .toString()
                                .toUtf8() +
                            ") is not here"),
             r.err.constData());
    QVERIFY(!fs::exists(root_ / "box/sessions") || everything(root_ / "box/sessions").isEmpty());

    r = runCli({QStringLiteral("session"), QStringLiteral("import"), q(zip), q(imported), QStringLiteral("--models"),
                q(boxModels)},
               kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("resume at step " + QByteArray::number(stoppedAt)), r.out.constData());
    const QJsonObject settings = QJsonDocument::fromJson(fileBytes(imported / "settings.json")).object();
    QCOMPARE(settings.value(QStringLiteral("base_model")).toString(), q(boxModels / "sd/tiny_sd1"));
    QCOMPARE(settings.value(QStringLiteral("images")).toString(), q(imported / "dataset"));
    QVERIFY(!fs::exists(imported / "manifest.json"));
    QCOMPARE(
        everything(root_ / "box/sessions"), QStringList{QStringLiteral("travelled")} + [&] {
          QStringList inside = everything(imported);
          for (QString& s : inside) s.prepend(QStringLiteral("travelled/"));
          return inside;
        }());
    // Importing again into the same folder is refused.
    r = runCli({QStringLiteral("session"), QStringLiteral("import"), q(zip), q(imported), QStringLiteral("--models"),
                q(boxModels)});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("already exists and is not an empty folder"), r.err.constData());

    r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(imported), QStringLiteral("--resume")}, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("resumed from"));
    QCOMPARE(metricLines(imported), 16);
    const QByteArray a = fileBytes(straight_ / "checkpoints/latest.safetensors");
    const QByteArray b = fileBytes(imported / "checkpoints/latest.safetensors");
    QVERIFY(a.size() > 100000);
    QVERIFY2(a == b, "the imported session's resumed checkpoint differs from the uninterrupted run's");
  }

  // Without weights the session trains from the start on the images and prompts it brought,
  // to the same bytes; --weights-only carries the kept files but no resume state.
  void sessionWithoutWeightsAndWeightsOnly() {
    const fs::path zip = root_ / "plain.zip";
    CliResult r = runCli(
        {QStringLiteral("session"), QStringLiteral("export"), q(straight_), QStringLiteral("--out"), q(zip)}, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    for (const auto& [name, data] : readZip(zip)) QVERIFY2(!name.startsWith("checkpoints/"), name.constData());
    r = runCli({QStringLiteral("session"), QStringLiteral("export"), q(straight_), QStringLiteral("--out"), q(zip)});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("already exists"), r.err.constData());

    const fs::path imported = root_ / "fresh";
    r = runCli({QStringLiteral("session"), QStringLiteral("import"), q(zip), q(imported)}, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("no checkpoint"), r.out.constData());
    r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(imported), QStringLiteral("--resume")}, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("training on the session's own copy of its images"), r.err.constData());
    QVERIFY(fileBytes(straight_ / "checkpoints/latest.safetensors") ==
            fileBytes(imported / "checkpoints/latest.safetensors"));

    const fs::path weights = root_ / "weights.zip";
    r = runCli({QStringLiteral("session"), QStringLiteral("export"), q(straight_), QStringLiteral("--out"), q(weights),
                QStringLiteral("--weights-only")},
               kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QStringList checkpoints;
    for (const auto& [name, data] : readZip(weights)) {
      if (name.startsWith("checkpoints/")) checkpoints.push_back(QString::fromUtf8(name));
    }
    QCOMPARE(checkpoints, (QStringList{QStringLiteral("checkpoints/straight-000014.safetensors"),
                                       QStringLiteral("checkpoints/straight-000016.safetensors")}));
    r = runCli({QStringLiteral("session"), QStringLiteral("export"), q(straight_), QStringLiteral("--out"), q(weights),
                QStringLiteral("--weights-only"), QStringLiteral("--with-checkpoints")});
    QCOMPARE(r.exitCode, 2);
  }

  void cancelledExportLeavesNothing() {
    const fs::path out = root_ / "cancelled";
    fs::create_directories(out);
    std::stop_source stop;
    stop.request_stop();
    const auto result = kiln::app::SessionArchive::write(q(straight_), q(out / "s.zip"), {}, {}, stop.get_token());
    QVERIFY(result.cancelled);
    QCOMPARE(everything(out), QStringList{});
    // And an import cancelled part-way (after its first entry) leaves nothing either.
    const fs::path zip = root_ / "for-cancel.zip";
    QVERIFY(!kiln::app::SessionArchive::write(q(straight_), q(zip), {}).cancelled);
    std::stop_source importStop;
    int calls = 0;
    const auto imported = kiln::app::SessionArchive::read(
        q(zip), q(out / "s"), {},
        [&](const kiln::app::SessionArchiveProgress& p) {
          if (p.what == QLatin1String("metrics.jsonl") && ++calls == 1) importStop.request_stop();
        },
        importStop.get_token());
    QVERIFY(imported.cancelled);
    QCOMPARE(everything(out), QStringList{});
  }

  void hostileArchives_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("dot-dot") << "dotdot"
                             << "zip entry '../evil.txt' would be written outside the folder ('..' component)";
    QTest::newRow("dot-dot deep") << "deep"
                                  << "zip entry 'samples/../../evil.png' would be written outside the folder";
    QTest::newRow("absolute") << "absolute"
                              << "would be written outside the folder (absolute path)";
    QTest::newRow("symlink") << "symlink"
                             << "zip entry 'samples/link.png' is a symbolic link";
    QTest::newRow("duplicate") << "duplicate"
                               << "zip entry 'log.txt' appears twice";
    QTest::newRow("duplicate spelled differently") << "duplicate2"
                                                   << "zip entry 'dataset/./dataset.json' appears twice";
    QTest::newRow("file and folder") << "fileFolder"
                                     << "zip entry 'samples/a.png' is both a file and a folder";
    QTest::newRow("not a session entry") << "foreign"
                                         << "zip entry 'evil.sh' is not part of a training session";
    QTest::newRow("bomb: declared size") << "bomb"
                                         << "zip entry 'samples/bomb.png' would inflate 0.0 MiB to 3840.0 MiB";
    QTest::newRow("bomb: deflated zeros") << "zeros"
                                          << "zip entry 'samples/zeros.png' would inflate";
    QTest::newRow("understated size") << "understated"
                                      << "zip entry 'log.txt' is damaged (CRC or data error)";
    QTest::newRow("manifest: missing entry") << "missing"
                                             << "the manifest lists 'dataset/000000-beach.jpg', which the zip lacks";
    QTest::newRow("manifest: extra entry") << "extra"
                                           << "zip entry 'samples/extra.png' is not in the manifest";
    QTest::newRow("manifest: wrong sha256") << "sha"
                                            << "zip entry 'log.txt' does not match its sha256 in the manifest";
    QTest::newRow("manifest: wrong size") << "size"
                                          << "zip entry 'metrics.jsonl' declares";
    QTest::newRow("no manifest") << "nomanifest"
                                 << "the zip has no manifest.json";
    QTest::newRow("truncated") << "truncated"
                               << "not a readable zip archive";
  }

  void hostileArchives() {
    QFETCH(QString, kind);
    QFETCH(QString, message);
    const fs::path good = root_ / "good.zip";
    if (!fs::exists(good)) {
      const CliResult r =
          runCli({QStringLiteral("session"), QStringLiteral("export"), q(straight_), QStringLiteral("--out"), q(good)},
                 kLimit);
      QVERIFY2(r.exitCode == 0, r.err.constData());
    }
    auto entries = readZip(good);
    QVERIFY(entries.size() > 5);
    QJsonObject manifest = manifestOf(entries);
    auto setManifest = [&](const QJsonObject& m) {
      for (auto& [name, data] : entries) {
        if (name == "manifest.json") data = QJsonDocument(m).toJson();
      }
    };
    std::random_device rd;
    const fs::path absolute = fs::temp_directory_path() / ("kiln-evil-" + std::to_string(rd()) + ".png");
    kiln::test::ScratchDir work;
    const fs::path zip = work / "hostile.zip";

    ZipWriter writer;
    bool quazip = false;
    auto addAll = [&] {
      for (const auto& [name, data] : entries) writer.add(name, data);
    };
    if (kind == QLatin1String("dotdot")) {
      addAll();
      writer.add("../evil.txt", "evil");
    } else if (kind == QLatin1String("deep")) {
      addAll();
      writer.add("samples/../../evil.png", "evil");
    } else if (kind == QLatin1String("absolute")) {
      addAll();
      writer.add(QByteArray::fromStdString(absolute.string()), "evil");
    } else if (kind == QLatin1String("symlink")) {
      addAll();
      writer.addSymlink("samples/link.png", "/etc/passwd");
    } else if (kind == QLatin1String("duplicate")) {
      addAll();
      writer.add("log.txt", "a second log");
    } else if (kind == QLatin1String("duplicate2")) {
      addAll();
      writer.add("dataset/./dataset.json", "{}");
    } else if (kind == QLatin1String("fileFolder")) {
      addAll();
      writer.add("samples/a.png", "x");
      writer.add("samples/a.png/b.png", "y");
    } else if (kind == QLatin1String("foreign")) {
      addAll();
      writer.add("evil.sh", "rm -rf ~");
    } else if (kind == QLatin1String("bomb")) {
      addAll();
      writer.addLying("samples/bomb.png", "tiny", 0xF0000000u);
    } else if (kind == QLatin1String("zeros")) {
      // A real deflate bomb, written with QuaZip: 64 MiB of zeros in about 64 KiB.
      quazip = true;
      QuaZip out(q(zip));
      QVERIFY(out.open(QuaZip::mdCreate));
      for (const auto& [name, data] : entries) {
        QuaZipFile f(&out);
        QVERIFY(f.open(QIODevice::WriteOnly, QuaZipNewInfo(QString::fromUtf8(name))));
        f.write(data);
        f.close();
      }
      QuaZipFile f(&out);
      QVERIFY(f.open(QIODevice::WriteOnly, QuaZipNewInfo(QStringLiteral("samples/zeros.png"))));
      const QByteArray zeros(1 << 20, '\0');
      for (int i = 0; i < 64; ++i) f.write(zeros);
      f.close();
      out.close();
    } else if (kind == QLatin1String("understated")) {
      // log.txt's headers and the manifest say half its size: the CRC catches it.
      QJsonArray files = manifest.value(QStringLiteral("files")).toArray();
      for (qsizetype i = 0; i < files.size(); ++i) {
        QJsonObject f = files.at(i).toObject();
        if (f.value(QStringLiteral("name")).toString() == QLatin1String("log.txt")) {
          f.insert(QStringLiteral("bytes"), f.value(QStringLiteral("bytes")).toInteger() / 2);
          files.replace(i, f);
        }
      }
      manifest.insert(QStringLiteral("files"), files);
      setManifest(manifest);
      for (const auto& [name, data] : entries) {
        if (name == "log.txt")
          writer.addLying(name, data, static_cast<quint32>(data.size() / 2));
        else
          writer.add(name, data);
      }
    } else if (kind == QLatin1String("missing")) {
      for (const auto& [name, data] : entries) {
        if (name != "dataset/000000-beach.jpg") writer.add(name, data);
      }
    } else if (kind == QLatin1String("extra")) {
      addAll();
      writer.add("samples/extra.png", "not listed");
    } else if (kind == QLatin1String("sha")) {
      for (auto& [name, data] : entries) {
        if (name == "log.txt") data[0] = static_cast<char>(data[0] ^ 1);  // same size, other bytes
      }
      addAll();
    } else if (kind == QLatin1String("size")) {
      for (auto& [name, data] : entries) {
        if (name == "metrics.jsonl") data.append("{}\n");
      }
      addAll();
    } else if (kind == QLatin1String("nomanifest")) {
      for (const auto& [name, data] : entries) {
        if (name != "manifest.json") writer.add(name, data);
      }
    } else if (kind == QLatin1String("truncated")) {
      quazip = true;
      QByteArray bytes = fileBytes(good);
      bytes.truncate(bytes.size() / 2);
      QFile f(q(zip));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(bytes);
    }
    if (!quazip) writer.write(zip);

    const fs::path dest = work / "sessions" / "imported";
    fs::create_directories(dest.parent_path());
    const CliResult r = runCli({QStringLiteral("session"), QStringLiteral("import"), q(zip), q(dest)}, kLimit);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
    QCOMPARE(r.err.count("error:"), 1);
    // Nothing at all was written: no session, no staging folder, nothing outside.
    QCOMPARE(everything(work.path()), (QStringList{QStringLiteral("hostile.zip"), QStringLiteral("sessions")}));
    QVERIFY(!fs::exists(absolute));
    QVERIFY(!fs::exists(work / "evil.txt"));
    QVERIFY(!fs::exists(work / "evil.png"));
  }

 private:
  QTemporaryDir scratch_;
  fs::path root_;
  fs::path images_;
  fs::path straight_;
};

QTEST_GUILESS_MAIN(TestCliSession)
#include "test_cli_session.moc"
