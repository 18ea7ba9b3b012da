// kiln-cli tokenize: golden ids through the bundled vocabulary, A1111 chunks and weights,
// the n/75 count, options and errors.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "app/cli/cli_runner.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::data_dir;

namespace {

using kiln::test::CliResult;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;

const nlohmann::json& goldenPrompts() {
  static const nlohmann::json prompts =
      nlohmann::json::parse(kiln::test::read_text(data_dir() / "golden/tokenizer/prompts.json"))["prompts"];
  return prompts;
}

QJsonArray toJsonArray(const nlohmann::json& ids) {
  QJsonArray out;
  for (const auto& id : ids) out.append(id.get<qint64>());
  return out;
}

QJsonArray ones() {
  QJsonArray out;
  for (int i = 0; i < 77; ++i) out.append(1.0);
  return out;
}

}  // namespace

class TestCliTokenize : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QVERIFY(fs::exists(KILN_CLI)); }

  void goldenPlain_data() {
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("pad");
    // Plain text, empty, "!" (special in SD 2.x folders), CJK, typed special tokens, 76 tokens.
    for (int index : {0, 2, 13, 14, 24, 40, 53}) {
      for (const char* pad : {"sd1", "sd2"}) {
        QTest::addRow("prompt %d %s", index, pad) << index << QString::fromLatin1(pad);
      }
    }
  }

  void goldenPlain() {
    QFETCH(int, index);
    QFETCH(QString, pad);
    const auto& p = goldenPrompts().at(static_cast<std::size_t>(index));
    const auto r = runCli({QStringLiteral("tokenize"), QStringLiteral("--prompt-syntax"), QStringLiteral("plain"),
                           QStringLiteral("--pad"), pad, QStringLiteral("--json"), QStringLiteral("--"),
                           QString::fromStdString(p["prompt"].get<std::string>())});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject o = r.json();
    const QJsonArray chunks = o.value(QStringLiteral("chunks")).toArray();
    QCOMPARE(chunks.size(), 1);
    const auto expected = toJsonArray(p[pad == QLatin1String("sd1") ? "ids_sd1" : "ids_sd2"]);
    QCOMPARE(chunks[0].toArray(), expected);
    QCOMPARE(o.value(QStringLiteral("weights")).toArray().at(0).toArray(), ones());
    // n_tokens counts SD 1.x tokens; with the SD 2.x specials each "!" is a token of its own.
    int count = p["n_tokens"].get<int>();
    if (pad == QLatin1String("sd2") && p["prompt"].get<std::string>().find('!') != std::string::npos) {
      count = 1;
      while (expected[count].toInteger() != 49407) ++count;
      --count;
    }
    QCOMPARE(o.value(QStringLiteral("tokens")).toInt(), count);
    QCOMPARE(o.value(QStringLiteral("limit")).toInt(), 75);
    QCOMPARE(o.value(QStringLiteral("truncated")).toBool(), p["truncated"].get<bool>());
  }

  void a1111Weights() {
    const auto r = runCli({QStringLiteral("tokenize"), QStringLiteral("--json"), QStringLiteral("a (cat:1.2) [dog]")});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject o = r.json();
    const QJsonArray ids = o.value(QStringLiteral("chunks")).toArray().at(0).toArray();
    QCOMPARE(ids.size(), 77);
    QCOMPARE(ids[0].toInteger(), 49406);
    QCOMPARE(ids[1].toInteger(), 320);
    QCOMPARE(ids[2].toInteger(), 2368);
    QCOMPARE(ids[3].toInteger(), 1929);
    QCOMPARE(ids[4].toInteger(), 49407);
    QCOMPARE(ids[76].toInteger(), 49407);
    const QJsonArray weights = o.value(QStringLiteral("weights")).toArray().at(0).toArray();
    QCOMPARE(weights.size(), 77);
    QCOMPARE(weights[1].toDouble(), 1.0);
    QCOMPARE(weights[2].toDouble(), 1.2);         // printed as the float's shortest text
    QCOMPARE(weights[3].toDouble(), 0.90909094);  // float(1 / 1.1)
    QCOMPARE(o.value(QStringLiteral("tokens")).toInt(), 3);
    QCOMPARE(o.value(QStringLiteral("limit")).toInt(), 75);
  }

  void humanOutput() {
    auto r = runCli({QStringLiteral("tokenize"), QStringLiteral("a (cat:1.2)")});
    QCOMPARE(r.exitCode, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines[0].startsWith("ids: 49406 320 2368 49407 49407"));
    QCOMPARE(lines[0].count(' '), 77);
    QVERIFY(lines[1].startsWith("weights: 1 1 1.2 1 1"));
    QCOMPARE(lines[2], QByteArray("tokens: 2/75"));

    r = runCli({QStringLiteral("tokenize"), QStringLiteral("cat")});
    QCOMPARE(r.out.trimmed().split('\n').size(), 2);  // no weights line without emphasis

    r = runCli({QStringLiteral("tokenize"), QString()});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.endsWith("tokens: 0/75\n"));
  }

  void chunks() {
    const QString longPrompt = QString::fromStdString(goldenPrompts().at(49)["prompt"].get<std::string>());
    auto r = runCli({QStringLiteral("tokenize"), longPrompt});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.endsWith("tokens: 119/150\n"), r.out.constData());
    QCOMPARE(r.out.count("ids: 49406 "), 2);

    r = runCli({QStringLiteral("tokenize"), QStringLiteral("--json"), QStringLiteral("a BREAK b")});
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("chunks")).toArray().size(), 2);
    QCOMPARE(o.value(QStringLiteral("tokens")).toInt(), 76);
    QCOMPARE(o.value(QStringLiteral("limit")).toInt(), 150);

    r = runCli({QStringLiteral("tokenize"), QStringLiteral("--prompt-syntax"), QStringLiteral("plain"), longPrompt});
    QVERIFY2(r.out.endsWith("tokens: 119/75 (truncated: 44 dropped)\n"), r.out.constData());
  }

  void sd2Padding() {
    const auto r = runCli({QStringLiteral("tokenize"), QStringLiteral("--pad"), QStringLiteral("sd2"),
                           QStringLiteral("--json"), QStringLiteral("a cat")});
    const QJsonArray ids =
        r.json().value(QStringLiteral("chunks")).toArray().at(0).toArray();
    QCOMPARE(ids[3].toInteger(), 49407);
    QCOMPARE(ids[4].toInteger(), 0);
    QCOMPARE(ids[76].toInteger(), 0);
  }

  void tokenizerFolder() {
    const QString prompt = QStringLiteral("a photo of an astronaut, (riding a horse:1.3) on mars");
    const auto bundled = runCli({QStringLiteral("tokenize"), QStringLiteral("--json"), prompt});
    const auto folder = runCli({QStringLiteral("tokenize"), QStringLiteral("--json"), QStringLiteral("--tokenizer"),
                                q(data_dir() / "golden/pipeline/tiny_sd1/tokenizer"), prompt});
    QCOMPARE(folder.exitCode, 0);
    QCOMPARE(folder.out, bundled.out);
  }

  void errors() {
    kiln::test::ScratchDir dir("kiln-cli-tokenize");
    auto r = runCli({QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), q(dir.path()), QStringLiteral("cat")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.startsWith("kiln-cli: error: "), r.err.constData());
    QVERIFY2(r.err.contains((dir / "vocab.json").string().c_str()), r.err.constData());

    kiln::test::write_text(dir / "vocab.json", "{not json");
    kiln::test::write_text(dir / "merges.txt", "#version: 0.2\n");
    r = runCli({QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), q(dir.path()), QStringLiteral("cat")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("not valid JSON"), r.err.constData());

    r = runCli({QStringLiteral("tokenize"), QStringLiteral("(cat:1.2.3)")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("is not a number"), r.err.constData());
  }

  void usage() {
    auto r = runCli({QStringLiteral("tokenize")});
    QCOMPARE(r.exitCode, 2);
    r = runCli({QStringLiteral("tokenize"), QStringLiteral("a"), QStringLiteral("b")});
    QCOMPARE(r.exitCode, 2);
    r = runCli({QStringLiteral("tokenize"), QStringLiteral("--pad"), QStringLiteral("sd3"), QStringLiteral("a")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--pad must be sd1 or sd2"));
    r = runCli(
        {QStringLiteral("tokenize"), QStringLiteral("--prompt-syntax"), QStringLiteral("comfy"), QStringLiteral("a")});
    QCOMPARE(r.exitCode, 2);
    r = runCli({QStringLiteral("tokenize"), QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--prompt-syntax"));
    r = runCli({QStringLiteral("--help")});
    QVERIFY(r.out.contains("tokenize TEXT"));
  }
};

QTEST_GUILESS_MAIN(TestCliTokenize)
#include "test_cli_tokenize.moc"
