// kiln-cli train as a data-parallel job on CPU (Gloo, loopback): --nproc-per-node 2 trains the
// tiny model end to end with the metrics written once, the same weights as two ranks started
// by hand with the launchers' environment (what torchrun sets); a rank killed with SIGKILL makes
// the other stop within --dist-timeout naming it, and --resume with two ranks then writes the
// checkpoint of an uninterrupted two-rank run, byte for byte; torchrun starts it too.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/cli/cli_runner.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::CliResult;
using kiln::test::data_dir;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;

namespace {

constexpr int kLimit = 600000;  // generous: a loaded CI machine runs other tests beside these

int metricLines(const fs::path& session) { return static_cast<int>(fileBytes(session / "metrics.jsonl").count('\n')); }

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
          QStringLiteral("--save-every"),  QStringLiteral("2"),
          QStringLiteral("--keep-checkpoints"), QStringLiteral("0"),
          QStringLiteral("--seed"),        QStringLiteral("11")};
}

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The child of `parent` whose environment has RANK=<rank>; -1 when there is none (yet).
pid_t rankProcess(pid_t parent, int rank) {
  const std::string want = "RANK=" + std::to_string(rank);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream env(entry.path() / "environ", std::ios::binary);
    for (std::string var; std::getline(env, var, '\0');) {
      if (var == want) return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

}  // namespace

class TestCliTrainDistributed : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(scratch_.isValid());
    root_ = scratch_.path().toStdString();
    images_ = root_ / "images";
    fs::create_directories(images_);
    fs::copy_file(data_dir() / "faces/hopper_portrait.jpg", images_ / "hopper.jpg");
    fs::copy_file(data_dir() / "faces/portrait_beach.jpg", images_ / "beach.jpg");
  }

  // --nproc-per-node 2, and the same job started by hand as two processes with RANK,
  // WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT (what torchrun
  // --nproc_per_node 2 sets).
  void nprocPerNodeMatchesTheLaunchersEnvironment() {
    const fs::path launched = root_ / "launched";
    QStringList args = trainArgs(launched, images_, 3);
    args << QStringLiteral("--nproc-per-node") << QStringLiteral("2") << QStringLiteral("--dist-timeout")
         << QStringLiteral("120");
    CliResult r = runCli(args, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("starting 2 ranks"), r.err.constData());
    QVERIFY2(r.err.contains("rank 0 of 2 (c10d gloo), global batch 2"), r.err.constData());
    QVERIFY2(r.err.contains("[unet 3/3] step 5/5"), r.err.constData());
    QCOMPARE(r.out.count("trained 5 steps"), 1);  // rank 0 alone reports
    QCOMPARE(metricLines(launched), 5);           // and writes the metrics, once
    QVERIFY(fileBytes(launched / "settings.json").contains("\"data_parallel\": true"));

    const fs::path by_hand = root_ / "by-hand";
    const int port = freePort();
    std::vector<std::unique_ptr<QProcess>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      auto p = std::make_unique<QProcess>();
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert(QStringLiteral("RANK"), QString::number(rank));
      env.insert(QStringLiteral("LOCAL_RANK"), QString::number(rank));
      env.insert(QStringLiteral("WORLD_SIZE"), QStringLiteral("2"));
      env.insert(QStringLiteral("LOCAL_WORLD_SIZE"), QStringLiteral("2"));
      env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
      env.insert(QStringLiteral("MASTER_PORT"), QString::number(port));
      p->setProcessEnvironment(env);
      p->start(QStringLiteral(KILN_CLI), trainArgs(by_hand, images_, 3) << QStringLiteral("--dist-timeout")
                                                                        << QStringLiteral("120"));
      QVERIFY(p->waitForStarted(10000));
      ranks.push_back(std::move(p));
    }
    QByteArray out[2], err[2];
    for (int rank = 0; rank < 2; ++rank) {
      QProcess& p = *ranks[static_cast<std::size_t>(rank)];
      QVERIFY(p.waitForFinished(kLimit));
      out[rank] = p.readAllStandardOutput();
      err[rank] = p.readAllStandardError();
      QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, err[rank].constData());
    }
    QCOMPARE(out[0].count("trained 5 steps"), 1);
    QVERIFY(err[0].contains("[unet 3/3] step 5/5"));
    QVERIFY(!out[1].contains("trained"));
    // The other ranks print only their errors (c10d's own warnings aside).
    QVERIFY2(!err[1].contains("kiln-cli") && !err[1].contains("[unet"), err[1].constData());
    QCOMPARE(metricLines(by_hand), 5);
    const QByteArray a = fileBytes(launched / "checkpoints/latest.safetensors");
    QVERIFY(a.size() > 100000);
    QVERIFY2(a == fileBytes(by_hand / "checkpoints/latest.safetensors"),
             "the hand-launched ranks wrote another checkpoint than --nproc-per-node");

    // A session started for one process cannot continue on several.
    const fs::path single = root_ / "single";
    r = runCli(trainArgs(single, images_, 1), kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(single), QStringLiteral("--resume"),
                QStringLiteral("--unet-steps"), QStringLiteral("2"), QStringLiteral("--nproc-per-node"), QStringLiteral("2")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("started for one process"), r.err.constData());
  }

  // torchrun (the pinned LibTorch's Python: torch.distributed.run) starts kiln-cli like any
  // PyTorch job; its agent hosts the rendezvous store (TORCHELASTIC_USE_AGENT_STORE). The same
  // checkpoint as --nproc-per-node, byte for byte (one thread per rank in both: torchrun sets
  // OMP_NUM_THREADS=1).
  void torchrunMatchesNprocPerNode() {
    QProcess probe;
    probe.start(QStringLiteral(KILN_PYTHON3), {QStringLiteral("-c"), QStringLiteral("import torch.distributed.run")});
    QVERIFY2(probe.waitForFinished(120000) && probe.exitCode() == 0,
             "no Python with torch (KILN_TORCH_PYTHON): scripts/setup-libtorch.sh installs it");
    const fs::path torchrun = root_ / "torchrun", nproc = root_ / "nproc";
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(KILN_PYTHON3), QStringList{QStringLiteral("-m"), QStringLiteral("torch.distributed.run"),
                                                      QStringLiteral("--standalone"), QStringLiteral("--nproc_per_node"),
                                                      QStringLiteral("2"), QStringLiteral("--no-python"),
                                                      QStringLiteral(KILN_CLI)}
                                              << trainArgs(torchrun, images_, 3));
    QVERIFY(p.waitForFinished(kLimit));
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, err.constData());
    QVERIFY2(err.contains("rank 0 of 2 (c10d gloo)"), err.constData());
    QCOMPARE(p.readAllStandardOutput().count("trained 5 steps"), 1);
    QCOMPARE(metricLines(torchrun), 5);

    QProcess q2;
    q2.setProcessEnvironment(env);
    q2.start(QStringLiteral(KILN_CLI), trainArgs(nproc, images_, 3) << QStringLiteral("--nproc-per-node") << QStringLiteral("2"));
    QVERIFY(q2.waitForFinished(kLimit));
    QVERIFY2(q2.exitStatus() == QProcess::NormalExit && q2.exitCode() == 0, q2.readAllStandardError().constData());
    QVERIFY2(fileBytes(torchrun / "checkpoints/latest.safetensors") == fileBytes(nproc / "checkpoints/latest.safetensors"),
             "torchrun's ranks wrote another checkpoint than --nproc-per-node");
  }

  // SIGKILL of rank 1: rank 0 stops within the timeout naming rank 1, the launcher says which
  // rank died; --resume with two ranks ends on the uninterrupted run's checkpoint.
  void killedRankStopsTheOtherAndResumes() {
    constexpr int kSteps = 30;
    const fs::path straight = root_ / "straight";
    QStringList args = trainArgs(straight, images_, kSteps);
    args << QStringLiteral("--nproc-per-node") << QStringLiteral("2");
    CliResult r = runCli(args, kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(metricLines(straight), kSteps + 2);

    const fs::path killed = root_ / "killed";
    args = trainArgs(killed, images_, kSteps);
    args << QStringLiteral("--nproc-per-node") << QStringLiteral("2") << QStringLiteral("--dist-timeout")
         << QStringLiteral("10");
    QProcess launcher;
    launcher.start(QStringLiteral(KILN_CLI), args);
    QVERIFY(launcher.waitForStarted(10000));
    QElapsedTimer timer;
    timer.start();
    while (metricLines(killed) < 6) {
      QVERIFY2(launcher.state() == QProcess::Running && timer.elapsed() < kLimit, "the run ended before step 6");
      QThread::msleep(20);
    }
    const pid_t rank1 = rankProcess(static_cast<pid_t>(launcher.processId()), 1);
    QVERIFY(rank1 > 0);
    QCOMPARE(::kill(rank1, SIGKILL), 0);
    QElapsedTimer stopped;
    stopped.start();
    QVERIFY(launcher.waitForFinished(60000));
    const qint64 ms = stopped.elapsed();
    const QByteArray err = launcher.readAllStandardError();
    QVERIFY2(launcher.exitCode() != 0, err.constData());
    QVERIFY2(err.contains("rank 1 was killed by signal 9 (SIGKILL)"), err.constData());
    QVERIFY2(err.contains("rank 1 stopped responding"), err.constData());  // rank 0's own message
    QVERIFY2(ms < 10000 + 15000, qPrintable(QString::number(ms)));          // --dist-timeout + slack
    qInfo("the other rank stopped %lld ms after the SIGKILL", static_cast<long long>(ms));
    QVERIFY(fs::exists(killed / "checkpoints/latest.safetensors"));
    QVERIFY(metricLines(killed) < kSteps + 2);

    r = runCli({QStringLiteral("train"), QStringLiteral("--session"), q(killed), QStringLiteral("--resume"),
                QStringLiteral("--nproc-per-node"), QStringLiteral("2")},
               kLimit);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("resumed from"), r.err.constData());
    QCOMPARE(metricLines(killed), kSteps + 2);
    const QByteArray a = fileBytes(straight / "checkpoints/latest.safetensors");
    QVERIFY(a.size() > 100000);
    QVERIFY2(a == fileBytes(killed / "checkpoints/latest.safetensors"),
             "the resumed two-rank run's checkpoint differs from the uninterrupted one's");
  }

 private:
  QTemporaryDir scratch_;
  fs::path root_, images_;
};

QTEST_GUILESS_MAIN(TestCliTrainDistributed)
#include "test_cli_train_distributed.moc"
