// kiln-cli train / export on the golden tiny pipeline: a run killed with SIGKILL and resumed
// writes the same checkpoint, byte for byte, as an uninterrupted run; SIGTERM/Ctrl-C saves and
// stops with 130; export writes a model that `kiln-cli info` reads; bad options are refused.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QThread>
#include <QtTest>

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

int metricLines(const fs::path& session) {
  const QByteArray text = fileBytes(session / "metrics.jsonl");
  return static_cast<int>(text.count('\n'));
}

QStringList trainArgs(const fs::path& session, const fs::path& images, int unetSteps) {
  return {QStringLiteral("train"),         QStringLiteral("--session"),     q(session),
          QStringLiteral("--base"),        q(data_dir() / "golden/pipeline/tiny_sd1"),
          QStringLiteral("--images"),      q(images),
          QStringLiteral("--token"),       QStringLiteral("sks"),
          QStringLiteral("--resolution"),  QStringLiteral("64"),
          QStringLiteral("--text-encoder-steps"), QStringLiteral("2"),
          QStringLiteral("--unet-steps"),  QString::number(unetSteps),
          QStringLiteral("--lr-text"),     QStringLiteral("1e-4"),
          QStringLiteral("--lr-unet"),     QStringLiteral("1e-4"),
          QStringLiteral("--save-every"),  QStringLiteral("4"),
          QStringLiteral("--seed"),        QStringLiteral("11")};
}

// Starts kiln-cli and waits until its metrics log has at least `lines` lines.
bool startAndWait(QProcess& p, const QStringList& args, const fs::path& session, int lines) {
  p.start(QStringLiteral(KILN_CLI), args);
  if (!p.waitForStarted(10000)) return false;
  QElapsedTimer timer;
  timer.start();
  while (metricLines(session) < lines) {
    if (p.state() != QProcess::Running || timer.elapsed() > 600000) return false;
    QThread::msleep(20);
  }
  return true;
}

}  // namespace

class TestCliTrain : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(scratch_.isValid());
    images_ = fs::path(scratch_.path().toStdString()) / "images";
    fs::create_directories(images_);
    fs::copy_file(data_dir() / "faces/hopper_portrait.jpg", images_ / "hopper.jpg");
    fs::copy_file(data_dir() / "faces/portrait_beach.jpg", images_ / "beach.jpg");
  }

  void killedRunResumesExactly() {
    const fs::path root = scratch_.path().toStdString();
    const fs::path straight = root / "straight";
    // Generous limits: a loaded CI machine runs other tests beside this one.
    constexpr int kLimit = 600000;
    CliResult r = runCli(trainArgs(straight, images_, 22), kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("[unet 22/22] step 24/24"));
    QVERIFY(r.out.contains("trained 24 steps"));

    const fs::path killed = root / "killed";
    QProcess p;
    QVERIFY(startAndWait(p, trainArgs(killed, images_, 22), killed, 11));
    p.kill();  // SIGKILL: no chance to save
    p.waitForFinished(10000);
    QVERIFY(fs::exists(killed / "checkpoints/latest.safetensors"));
    QVERIFY(metricLines(killed) < 24);

    r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(killed), QStringLiteral("--resume")}, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("resumed from"));
    QCOMPARE(metricLines(killed), 24);
    const QByteArray a = fileBytes(straight / "checkpoints/latest.safetensors");
    const QByteArray b = fileBytes(killed / "checkpoints/latest.safetensors");
    QVERIFY(a.size() > 100000);
    QVERIFY2(a == b, "the resumed run's checkpoint differs from the uninterrupted run's");

    // Export and read it back with kiln-cli info.
    const fs::path out = root / "sks.safetensors";
    r = runCli({QStringLiteral("export"), QStringLiteral("--session"), q(straight), QStringLiteral("--out"), q(out),
                QStringLiteral("--half")},
               kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("verified"));
    QVERIFY(fs::exists(out));
    r = runCli({QStringLiteral("export"), QStringLiteral("--session"), q(straight), QStringLiteral("--out"), q(out)});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("already exists"));
  }

  // A LoRA session keeps its newest checkpoints as LoRA files (--keep-checkpoints), and
  // `generate --x lora_file:...` puts them side by side on the base model.
  void keptLoRACheckpointsMakeAGrid() {
    const fs::path root = scratch_.path().toStdString();
    const fs::path session = root / "lora";
    QStringList args = trainArgs(session, images_, 3);
    args << QStringLiteral("--lora-rank") << QStringLiteral("2") << QStringLiteral("--save-every") << QStringLiteral("1")
         << QStringLiteral("--keep-checkpoints") << QStringLiteral("2") << QStringLiteral("--lr-unet") << QStringLiteral("1e-2");
    args[args.indexOf(QStringLiteral("--text-encoder-steps")) + 1] = QStringLiteral("0");
    CliResult r = runCli(args, 600000);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("removed lora-000001.safetensors (keeping the newest 2)"), r.err.constData());
    const fs::path a = session / "checkpoints/lora-000002.safetensors", b = session / "checkpoints/lora-000003.safetensors";
    QVERIFY(fs::exists(a) && fs::exists(b));
    QVERIFY(!fs::exists(session / "checkpoints/lora-000001.safetensors"));

    const QString out = q(root / "compare.png");
    r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), q(data_dir() / "golden/pipeline/tiny_sd1"),
                QStringLiteral("--prompt"), QStringLiteral("photo of sks"), QStringLiteral("--steps"), QStringLiteral("2"),
                QStringLiteral("--seed"), QStringLiteral("5"), QStringLiteral("--out"), out, QStringLiteral("--x"),
                QStringLiteral("lora_file:") + q(a) + QLatin1Char(',') + q(b)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QImage grid(out);
    QVERIFY(grid.width() >= 2 * 64);
    const auto first = runCli({QStringLiteral("png-info"), q(root / "compare-cells/000.png")});
    QVERIFY2(first.out.contains("<lora:lora-000002:1>") || first.out.contains("lora-000002"), first.out.constData());
    const auto second = runCli({QStringLiteral("png-info"), q(root / "compare-cells/001.png")});
    QVERIFY2(second.out.contains("lora-000003"), second.out.constData());
    QVERIFY(QImage(q(root / "compare-cells/000.png")) != QImage(q(root / "compare-cells/001.png")));
    // A file that is not there is refused before any work.
    r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), q(data_dir() / "golden/pipeline/tiny_sd1"),
                QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--out"), out, QStringLiteral("--x"),
                QStringLiteral("lora_file:") + q(root / "nothing.safetensors")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("no LoRA file at"), r.err.constData());
  }

  void terminateSavesAndStops() {
    const fs::path session = fs::path(scratch_.path().toStdString()) / "terminated";
    QProcess p;
    QVERIFY(startAndWait(p, trainArgs(session, images_, 400), session, 5));
    p.terminate();  // SIGTERM, handled like Ctrl-C
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY(p.readAllStandardOutput().contains("--resume"));
    const int done = metricLines(session);
    QVERIFY(done >= 5 && done < 402);
    // The checkpoint holds the last step exactly.
    const QByteArray checkpoint = fileBytes(session / "checkpoints/latest.safetensors");
    QVERIFY(checkpoint.contains(QByteArray("\\\"global_step\\\":") + QByteArray::number(done)));
  }

  void badOptionsAreRefused() {
    const fs::path root = scratch_.path().toStdString();
    CliResult r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(root / "x")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--base"));
    QStringList args = trainArgs(root / "y", images_, 2);
    args << QStringLiteral("--resolution") << QStringLiteral("100");
    r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("resolution"));
    r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(root / "straight"), QStringLiteral("--token"),
                QStringLiteral("zzz"), QStringLiteral("--resume")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("cannot change"));
    r = runCli({QStringLiteral("export"), QStringLiteral("--session"), q(root / "nothing"), QStringLiteral("--out"),
                q(root / "n.safetensors")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("not a training session"));
    r = runCli({QStringLiteral("train"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--lora-rank"));
  }

  // Re-running the original command line with --resume appended is accepted (the options fixed
  // at creation have their old values); a changed one is refused, naming both values.
  void resumeAcceptsTheOriginalOptions() {
    const fs::path straight = fs::path(scratch_.path().toStdString()) / "straight";
    QStringList args = trainArgs(straight, images_, 22);
    args << QStringLiteral("--resume");
    CliResult r = runCli(args, 600000);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("trained 24 steps"), r.out.constData());
    QStringList changed = args;
    changed[changed.indexOf(QStringLiteral("--seed")) + 1] = QStringLiteral("12");
    r = runCli(changed);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(
        r.err.contains("--seed cannot change in an existing session (the session has '11', the command line '12')"),
        r.err.constData());
    changed = args;
    changed[changed.indexOf(QStringLiteral("--resolution")) + 1] = QStringLiteral("128");
    r = runCli(changed);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(
                 "--resolution cannot change in an existing session (the session has '64', the command line '128')"),
             r.err.constData());
    changed = args;
    changed << QStringLiteral("--lora-rank") << QStringLiteral("4");
    r = runCli(changed);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--lora-rank cannot change"), r.err.constData());
    // The same base model spelled another way is the same value.
    changed = args;
    changed[changed.indexOf(QStringLiteral("--base")) + 1] = q(data_dir() / "golden/pipeline/../pipeline/tiny_sd1/");
    r = runCli(changed, 600000);
    QVERIFY2(r.exitCode == 0, r.err.constData());
  }

 private:
  QTemporaryDir scratch_;
  fs::path images_;
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
