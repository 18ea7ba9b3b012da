// Downloads against a local misbehaving server (fault_server.h): every fault of issue 16 ends with
// a clear one-line reason, no unverified file ever takes the target name, and a resume picks up
// where it stopped. Also the source parser, the built-in catalog, the queue and kiln-cli.
#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>

#include "downloads/catalog.h"
#include "downloads/download_manager.h"
#include "downloads/file_download.h"
#include "downloads/source_spec.h"
#include "fault_server.h"

using kiln::downloads::Catalog;
using kiln::downloads::DownloadManager;
using kiln::downloads::DownloadOptions;
using kiln::downloads::DownloadRequest;
using kiln::downloads::FileDownload;
using kiln::downloads::parseSource;
using kiln::downloads::SourceSpec;
using kiln::test::FaultServer;
using kiln::test::HttpRequest;
using kiln::test::ServeOptions;
using State = FileDownload::State;

namespace {

QByteArray randomBytes(qsizetype n, quint32 seed) {
  QByteArray out(n, Qt::Uninitialized);
  QRandomGenerator gen(seed);
  gen.fillRange(reinterpret_cast<quint32*>(out.data()), n / 4);
  for (qsizetype i = n / 4 * 4; i < n; ++i) out[i] = char(gen.generate());
  return out;
}

QString sha256Hex(const QByteArray& data) {
  return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

QByteArray readFile(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString& path, const QByteArray& data) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(data);
}

DownloadOptions fastOptions() {
  DownloadOptions o;
  o.firstBackoffMs = 50;
  o.maxBackoffMs = 200;
  o.stallTimeoutMs = 15000;  // a loaded CI machine must not look like a stall (the stall test sets its own)
  o.maxAttempts = 4;
  o.freeSpaceMargin = 0;
  return o;
}

// Runs a download to its end (or `timeoutMs`).
bool runToEnd(FileDownload& d, int timeoutMs = 20000) {
  QSignalSpy done(&d, &FileDownload::finished);
  d.start();
  if (d.state() == State::Finished || d.state() == State::Failed) return true;
  return done.wait(timeoutMs);
}

}  // namespace

class TestDownloads : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
  void parsesSources();
  void builtInCatalogIsWellFormed();
  void rejectsBrokenCatalogs();
  void plainDownloadIsVerifiedAndPlaced();
  void huggingFaceRedirectAdoptsLinkedHashAndKeepsTokenOnItsHost();
  void resumesAfterPauseInANewProcessObject();
  void rangeAnsweredWith200StartsOver();
  void wrongContentRangeStartsOver();
  void rangeNotSatisfiableOnACompletePartVerifiesIt();
  void droppedConnectionResumes();
  void stalledServerIsRetried();
  void wrongHashRemovesTheDownload();
  void gatedRepoSaysWhatToDo();
  void missingFileIsNamed();
  void tooManyRequestsHonoursRetryAfter();
  void redirectLoopsEnd();
  void webPageInsteadOfTheFile();
  void moreBytesThanAnnounced();
  void sizeOtherThanTheCatalogs();
  void fullDiskKeepsThePart();
  void notEnoughFreeSpace();
  void civitaiVersionResolvesFileAndHash();
  void queueHonoursConcurrencyAndSurvivesRestart();
  void cliDownloadsInterruptsAndResumes();
  void cliCatalog();

 private:
  std::unique_ptr<FaultServer> mServer;
  std::unique_ptr<QTemporaryDir> mDir;
  QNetworkAccessManager mNetwork;
};

void TestDownloads::init() {
  mServer = std::make_unique<FaultServer>();
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
  qputenv("HF_ENDPOINT", mServer->base().toLatin1());
  qputenv("KILN_CIVITAI_ENDPOINT", mServer->base().toLatin1());
  qunsetenv("HF_TOKEN");
  qunsetenv("HUGGING_FACE_HUB_TOKEN");
  qunsetenv("CIVITAI_TOKEN");
}

void TestDownloads::parsesSources() {
  QString error;
  auto s = parseSource(QStringLiteral("hf:stable-diffusion-v1-5/stable-diffusion-v1-5/v1-5-pruned-emaonly.safetensors"), &error);
  QVERIFY2(s, qPrintable(error));
  QCOMPARE(s->type, SourceSpec::Type::HuggingFace);
  QCOMPARE(s->repo, QStringLiteral("stable-diffusion-v1-5/stable-diffusion-v1-5"));
  QCOMPARE(s->file, QStringLiteral("v1-5-pruned-emaonly.safetensors"));
  QCOMPARE(s->revision, QStringLiteral("main"));

  s = parseSource(QStringLiteral("hf:owner/repo/sub/dir/model.safetensors@0123abc"), &error);
  QVERIFY(s);
  QCOMPARE(s->file, QStringLiteral("sub/dir/model.safetensors"));
  QCOMPARE(s->revision, QStringLiteral("0123abc"));
  QCOMPARE(s->toString(), QStringLiteral("hf:owner/repo/sub/dir/model.safetensors@0123abc"));
  QCOMPARE(s->defaultFileName(), QStringLiteral("model.safetensors"));

  s = parseSource(QStringLiteral("https://huggingface.co/owner/repo/blob/main/unet/x.safetensors?download=true"), &error);
  QVERIFY(s);
  QCOMPARE(s->type, SourceSpec::Type::HuggingFace);
  QCOMPARE(s->file, QStringLiteral("unet/x.safetensors"));
  s = parseSource(QStringLiteral("https://huggingface.co/owner/repo/resolve/v1.0/x.ckpt"), &error);
  QVERIFY(s);
  QCOMPARE(s->revision, QStringLiteral("v1.0"));

  s = parseSource(QStringLiteral("https://civitai.com/models/4201/realistic?modelVersionId=130072"), &error);
  QVERIFY(s);
  QCOMPARE(s->type, SourceSpec::Type::Civitai);
  QCOMPARE(s->civitaiVersion, 130072);
  s = parseSource(QStringLiteral("https://civitai.com/api/download/models/130072"), &error);
  QVERIFY(s);
  QCOMPARE(s->civitaiVersion, 130072);
  QVERIFY(parseSource(QStringLiteral("civitai:7"), &error));

  s = parseSource(QStringLiteral("https://example.org/files/model.safetensors"), &error);
  QVERIFY(s);
  QCOMPARE(s->type, SourceSpec::Type::Url);
  QCOMPARE(s->defaultFileName(), QStringLiteral("model.safetensors"));

  QVERIFY(!parseSource(QStringLiteral("https://civitai.com/models/4201/realistic"), &error));
  QVERIFY2(error.contains(QLatin1String("version")), qPrintable(error));
  QVERIFY(!parseSource(QStringLiteral("hf:owner/repo"), &error));
  QVERIFY2(error.contains(QLatin1String("no file")), qPrintable(error));
  QVERIFY(!parseSource(QStringLiteral("hf:owner/repo/../../etc/passwd"), &error));
  QVERIFY(!parseSource(QStringLiteral("civitai:abc"), &error));
  QVERIFY(!parseSource(QStringLiteral("ftp://example.org/x.bin"), &error));
  QVERIFY(!parseSource(QStringLiteral("sd15-typo"), &error));
  QVERIFY2(error.contains(QLatin1String("catalog id")), qPrintable(error));

  // The resolve URL follows HF_ENDPOINT and encodes each part.
  s = parseSource(QStringLiteral("hf:owner/repo/dir/a b.safetensors@refs/pr/1"), &error);
  QVERIFY(s);
  QCOMPARE(QString::fromLatin1(kiln::downloads::huggingFaceResolveUrl(*s).toEncoded()),
           mServer->base() + QStringLiteral("/owner/repo/resolve/refs%2Fpr%2F1/dir/a%20b.safetensors"));
}

void TestDownloads::builtInCatalogIsWellFormed() {
  const Catalog& c = Catalog::builtIn();
  QVERIFY(c.entries().size() >= 5);
  QVERIFY(c.find(QStringLiteral("sd15")));
  for (const auto& e : c.entries()) {
    QVERIFY2(!e.licence.name.isEmpty() && e.licence.url.startsWith(QLatin1String("https://")), qPrintable(e.id));
    QVERIFY2(!e.provenance.isEmpty(), qPrintable(e.id + QStringLiteral(": no provenance")));
    QVERIFY2(!e.fileName().isEmpty(), qPrintable(e.id));
    if (e.kind == QLatin1String("controlnet")) QVERIFY2(!e.preprocessors.isEmpty(), qPrintable(e.id));
  }
}

void TestDownloads::rejectsBrokenCatalogs() {
  const QByteArray good = R"({"id":"a","name":"A","family":"sd1","kind":"checkpoint",
    "source":{"type":"hf","repo":"o/r","file":"a.safetensors","revision":"main"},
    "size":10,"sha256":null,"license":{"name":"MIT","url":"https://x"},"description":"d"})";
  QString error;
  QVERIFY2(Catalog::parse("{\"format\":1,\"entries\":[" + good + "]}", QStringLiteral("c.json"), &error), qPrintable(error));
  QVERIFY(!Catalog::parse("{\"format\":1,\"entries\":[" + good + "," + good + "]}", QStringLiteral("c.json"), &error));
  QVERIFY2(error.contains(QLatin1String("c.json: entry 2 (a): id 'a' appears twice")), qPrintable(error));
  QByteArray bad = good;
  bad.replace("\"sha256\":null", "\"sha256\":\"ABC\"");
  QVERIFY(!Catalog::parse("{\"format\":1,\"entries\":[" + bad + "]}", QStringLiteral("c.json"), &error));
  QVERIFY2(error.contains(QLatin1String("sha256")), qPrintable(error));
  bad = good;
  bad.replace("\"file\":\"a.safetensors\"", "\"file\":\"../a.safetensors\"");
  QVERIFY(!Catalog::parse("{\"format\":1,\"entries\":[" + bad + "]}", QStringLiteral("c.json"), &error));
  QVERIFY(!Catalog::parse("{\"format\":2}", QStringLiteral("c.json"), &error));
  QVERIFY(!Catalog::parse("not json", QStringLiteral("c.json"), &error));
  QVERIFY2(error.startsWith(QLatin1String("c.json: not JSON")), qPrintable(error));
}

void TestDownloads::plainDownloadIsVerifiedAndPlaced() {
  const QByteArray body = randomBytes(300 * 1024 + 7, 1);
  mServer->route("/files/model.safetensors", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/files/model.safetensors").toString(), nullptr);
  req.directory = mDir->filePath(QStringLiteral("models"));
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Finished);
  QVERIFY(d.verified());
  QCOMPARE(readFile(d.targetPath()), body);
  QVERIFY(!QFileInfo::exists(d.partPath()));
  QVERIFY(!QFileInfo::exists(d.partPath() + QStringLiteral(".json")));
  QCOMPARE(d.total(), body.size());

  // Already there with the expected hash (a script run twice): done, nothing asked.
  mServer->clearLog();
  FileDownload again(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(again));
  QCOMPARE(again.state(), State::Finished);
  QVERIFY(again.wasAlreadyThere() && again.verified());
  QVERIFY(mServer->requests().isEmpty());
  // A different file of that name is never overwritten.
  req.expectedSha256 = sha256Hex("something else");
  FileDownload other(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(other));
  QCOMPARE(other.state(), State::Failed);
  QVERIFY2(other.error().contains(QLatin1String("a different")) && other.error().contains(QLatin1String("already there")),
           qPrintable(other.error()));
  QCOMPARE(readFile(d.targetPath()), body);
  // Without a hash to compare, an existing file is not touched either.
  req.expectedSha256.clear();
  FileDownload unknown(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(unknown));
  QCOMPARE(unknown.state(), State::Failed);
  QVERIFY2(unknown.error().contains(QLatin1String("already there")), qPrintable(unknown.error()));
}

void TestDownloads::huggingFaceRedirectAdoptsLinkedHashAndKeepsTokenOnItsHost() {
  const QByteArray body = randomBytes(200 * 1024, 2);
  const QByteArray sha = sha256Hex(body).toLatin1();
  // The resolve endpoint answers 302 to a "CDN" on another host name, with the LFS record.
  const QString cdn = mServer->url("/cdn/blob", QStringLiteral("localhost")).toString();
  mServer->route("/owner/repo/resolve/main/model.safetensors", [cdn, sha, body](const HttpRequest&, QTcpSocket* s) {
    FaultServer::respond(s, 302,
                         {{"Location", cdn.toLatin1() + "?X-Amz-Signature=secret"},
                          {"X-Linked-Etag", "\"" + sha + "\""},
                          {"X-Linked-Size", QByteArray::number(body.size())},
                          {"ETag", "\"gitsha1\""}});
  });
  mServer->route("/cdn/blob", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  qputenv("HF_TOKEN", "hf_secret_token");
  DownloadRequest req;
  req.source = *parseSource(QStringLiteral("hf:owner/repo/model.safetensors"), nullptr);
  req.directory = mDir->path();
  FileDownload d(req, &mNetwork, fastOptions());
  QStringList notes;
  connect(&d, &FileDownload::note, [&notes](const QString& n) { notes << n; });
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QVERIFY(d.verified());
  QCOMPARE(d.shaOrigin(), QStringLiteral("Hugging Face"));
  QCOMPARE(d.expectedSha256(), QString::fromLatin1(sha));
  const auto resolve = mServer->requestsFor("/owner/repo/resolve/main/model.safetensors");
  const auto blob = mServer->requestsFor("/cdn/blob");
  QCOMPARE(resolve.size(), 1);
  QCOMPARE(blob.size(), 1);
  QCOMPARE(resolve[0].header("Authorization"), QByteArray("Bearer hf_secret_token"));
  QVERIFY2(blob[0].header("Authorization").isEmpty(), "the token went to the CDN host");
  for (const QString& n : notes) QVERIFY2(!n.contains(QLatin1String("secret")), qPrintable(n));

  // The catalog's hash disagrees with the server's record: nothing is downloaded.
  QFile::remove(d.targetPath());
  mServer->clearLog();
  req.expectedSha256 = QString(64, QLatin1Char('0'));
  FileDownload changed(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(changed));
  QCOMPARE(changed.state(), State::Failed);
  QVERIFY2(changed.error().contains(QLatin1String("changed upstream")), qPrintable(changed.error()));
  QVERIFY(mServer->requestsFor("/cdn/blob").isEmpty());
  QVERIFY(!QFileInfo::exists(changed.targetPath()));
}

void TestDownloads::resumesAfterPauseInANewProcessObject() {
  const QByteArray body = randomBytes(2 * 1024 * 1024, 3);
  ServeOptions slow;
  slow.chunkBytes = 32 * 1024;
  slow.chunkDelayMs = 5;
  mServer->route("/slow.bin", [body, slow](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body, slow); });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/slow.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  qint64 kept = 0;
  {
    FileDownload first(req, &mNetwork, fastOptions());
    first.start();
    QTRY_VERIFY_WITH_TIMEOUT(first.received() > 256 * 1024, 10000);
    first.pause();
    QCOMPARE(first.state(), State::Paused);
    kept = QFileInfo(first.partPath()).size();
    QCOMPARE(kept, first.received());
    QVERIFY(kept < body.size());
    QVERIFY(QFileInfo::exists(first.partPath() + QStringLiteral(".json")));
  }
  mServer->clearLog();
  FileDownload second(req, &mNetwork, fastOptions());  // as after a restart: re-hashes the part
  QVERIFY(runToEnd(second));
  QVERIFY2(second.state() == State::Finished, qPrintable(second.error()));
  QCOMPARE(readFile(second.targetPath()), body);
  const auto log = mServer->requestsFor("/slow.bin");
  QCOMPARE(log.size(), 1);
  QCOMPARE(log[0].header("Range"), "bytes=" + QByteArray::number(kept) + "-");
  QCOMPARE(log[0].header("If-Range"), QByteArray("\"kiln-test-v1\""));
}

void TestDownloads::rangeAnsweredWith200StartsOver() {
  const QByteArray body = randomBytes(150 * 1024, 4);
  ServeOptions opts;
  opts.ignoreRange = true;
  mServer->route("/norange.bin", [body, opts](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body, opts); });
  writeFile(mDir->filePath(QStringLiteral("norange.bin.part")), body.left(50 * 1024));
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/norange.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QCOMPARE(readFile(d.targetPath()), body);  // not appended to the part
  QCOMPARE(mServer->requestsFor("/norange.bin").value(0).header("Range"), QByteArray("bytes=51200-"));
}

void TestDownloads::wrongContentRangeStartsOver() {
  const QByteArray body = randomBytes(150 * 1024, 5);
  ServeOptions opts;
  opts.wrongRange = true;
  mServer->route("/badrange.bin", [body, opts](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body, opts); });
  writeFile(mDir->filePath(QStringLiteral("badrange.bin.part")), body.left(40 * 1024));
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/badrange.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());
  QStringList notes;
  connect(&d, &FileDownload::note, [&notes](const QString& n) { notes << n; });
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QCOMPARE(readFile(d.targetPath()), body);
  const auto log = mServer->requestsFor("/badrange.bin");
  QCOMPARE(log.size(), 2);
  QVERIFY(log[1].header("Range").isEmpty());
  QVERIFY2(notes.join(QLatin1Char('\n')).contains(QLatin1String("instead of the rest from byte 40960")),
           qPrintable(notes.join(QLatin1Char('\n'))));
}

void TestDownloads::rangeNotSatisfiableOnACompletePartVerifiesIt() {
  const QByteArray body = randomBytes(80 * 1024, 6);
  mServer->route("/done.bin", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  writeFile(mDir->filePath(QStringLiteral("done.bin.part")), body);
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/done.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QVERIFY(d.verified());
  QCOMPARE(readFile(d.targetPath()), body);
  QCOMPARE(mServer->requestsFor("/done.bin").size(), 1);
}

void TestDownloads::droppedConnectionResumes() {
  const QByteArray body = randomBytes(400 * 1024, 7);
  int calls = 0;
  mServer->route("/drop.bin", [body, &calls](const HttpRequest& r, QTcpSocket* s) {
    ServeOptions o;
    if (calls++ == 0) o.dropAfter = 100 * 1024;
    FaultServer::serveBytes(r, s, body, o);
  });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/drop.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QCOMPARE(readFile(d.targetPath()), body);
  const auto log = mServer->requestsFor("/drop.bin");
  // Under load Qt's HTTP layer may send the first GET again by itself when its connection closes
  // before the answer reached us (seen: "", "", "bytes=102400-"); what counts is that the download
  // resumed with a Range request instead of starting over.
  QVERIFY(log.size() >= 2);
  QVERIFY(log.last().header("Range").startsWith("bytes="));
  QVERIFY(log.last().header("Range") != "bytes=0-");
}

void TestDownloads::stalledServerIsRetried() {
  const QByteArray body = randomBytes(300 * 1024, 8);
  int calls = 0;
  mServer->route("/stall.bin", [body, &calls](const HttpRequest& r, QTcpSocket* s) {
    ServeOptions o;
    if (calls++ == 0) o.stallAfter = 64 * 1024;
    FaultServer::serveBytes(r, s, body, o);
  });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/stall.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  DownloadOptions o = fastOptions();
  o.stallTimeoutMs = 400;
  FileDownload d(req, &mNetwork, o);
  QStringList notes;
  connect(&d, &FileDownload::note, [&notes](const QString& n) { notes << n; });
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QCOMPARE(readFile(d.targetPath()), body);
  QCOMPARE(mServer->requestsFor("/stall.bin").value(1).header("Range"), QByteArray("bytes=65536-"));
  QVERIFY2(notes.join(QLatin1Char('\n')).contains(QLatin1String("no data for 0.4 s")), qPrintable(notes.join(QLatin1Char('\n'))));
}

void TestDownloads::wrongHashRemovesTheDownload() {
  const QByteArray body = randomBytes(64 * 1024, 9);
  mServer->route("/tampered.bin", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/tampered.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body + "x");
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().contains(QLatin1String("damaged")) && d.error().contains(sha256Hex(body)) &&
               d.error().contains(QLatin1String("removed")),
           qPrintable(d.error()));
  QVERIFY(!d.error().contains(QLatin1Char('\n')));
  QVERIFY(!QFileInfo::exists(d.targetPath()));
  QVERIFY(!QFileInfo::exists(d.partPath()));
}

void TestDownloads::gatedRepoSaysWhatToDo() {
  mServer->route("/stabilityai/gated/resolve/main/m.safetensors", [](const HttpRequest&, QTcpSocket* s) {
    FaultServer::respond(s, 401, {{"Content-Type", "application/json"}}, R"({"error":"Access to model is restricted"})");
  });
  DownloadRequest req;
  req.source = *parseSource(QStringLiteral("hf:stabilityai/gated/m.safetensors"), nullptr);
  req.directory = mDir->path();
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().contains(QLatin1String("HTTP 401")) && d.error().contains(QLatin1String("HF_TOKEN")) &&
               d.error().contains(mServer->base() + QStringLiteral("/stabilityai/gated")) &&
               d.error().contains(QLatin1String("licence")),
           qPrintable(d.error()));
  QVERIFY(!QFileInfo::exists(d.targetPath()));
  QVERIFY(!QFileInfo::exists(d.partPath()));

  qputenv("HF_TOKEN", "hf_wrong");
  FileDownload withToken(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(withToken));
  QVERIFY2(withToken.error().contains(QLatin1String("not accepted")), qPrintable(withToken.error()));
  QVERIFY(!withToken.error().contains(QLatin1String("hf_wrong")));
}

void TestDownloads::missingFileIsNamed() {
  DownloadRequest req;
  req.source = *parseSource(QStringLiteral("hf:owner/repo/nothing.safetensors@abc123"), nullptr);
  req.directory = mDir->path();
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QCOMPARE(d.error(), QStringLiteral("HTTP 404: owner/repo has no file nothing.safetensors at revision abc123"));
}

void TestDownloads::tooManyRequestsHonoursRetryAfter() {
  const QByteArray body = randomBytes(32 * 1024, 10);
  int calls = 0;
  mServer->route("/busy.bin", [body, &calls](const HttpRequest& r, QTcpSocket* s) {
    if (calls++ == 0)
      FaultServer::respond(s, 429, {{"Retry-After", "1"}, {"Content-Type", "text/plain"}}, "slow down");
    else
      FaultServer::serveBytes(r, s, body);
  });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/busy.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());  // backoff alone would wait 50 ms
  QElapsedTimer clock;
  clock.start();
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QVERIFY2(clock.elapsed() >= 950, qPrintable(QString::number(clock.elapsed())));
  QCOMPARE(calls, 2);

  // A Retry-After beyond the limit ends the download with the wait named.
  mServer->route("/later.bin", [](const HttpRequest&, QTcpSocket* s) {
    FaultServer::respond(s, 503, {{"Retry-After", "7200"}}, "maintenance");
  });
  req.source = *parseSource(mServer->url("/later.bin").toString(), nullptr);
  FileDownload later(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(later));
  QCOMPARE(later.state(), State::Failed);
  QVERIFY2(later.error().contains(QLatin1String("HTTP 503")) && later.error().contains(QLatin1String("120 min")),
           qPrintable(later.error()));
}

void TestDownloads::redirectLoopsEnd() {
  const QUrl a = mServer->url("/loop/a");
  const QUrl b = mServer->url("/loop/b");
  mServer->route("/loop/a", [b](const HttpRequest&, QTcpSocket* s) { FaultServer::respond(s, 302, {{"Location", b.toEncoded()}}); });
  mServer->route("/loop/b", [a](const HttpRequest&, QTcpSocket* s) { FaultServer::respond(s, 307, {{"Location", a.toEncoded()}}); });
  DownloadRequest req;
  req.source = *parseSource(a.toString(), nullptr);
  req.directory = mDir->path();
  req.fileName = QStringLiteral("x.bin");
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().contains(QLatin1String("redirects in a loop")), qPrintable(d.error()));

  // A long chain: /chain/N -> /chain/N+1 ...
  mServer->route("/chain", [this](const HttpRequest& r, QTcpSocket* s) {
    const int n = r.path.mid(r.path.indexOf('=') + 1).toInt();
    FaultServer::respond(s, 302, {{"Location", "/chain?n=" + QByteArray::number(n + 1)}});
  });
  req.source = *parseSource(mServer->url("/chain?n=0").toString(), nullptr);
  FileDownload chain(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(chain));
  QCOMPARE(chain.state(), State::Failed);
  QVERIFY2(chain.error().contains(QLatin1String("more than 10 redirects")), qPrintable(chain.error()));
  QCOMPARE(mServer->requestsFor("/chain").size(), 11);
}

void TestDownloads::webPageInsteadOfTheFile() {
  mServer->route("/login.safetensors", [](const HttpRequest&, QTcpSocket* s) {
    FaultServer::respond(s, 200, {{"Content-Type", "text/html; charset=utf-8"}}, "<!DOCTYPE html><html>Sign in</html>");
  });
  // The same, mislabelled as a binary.
  mServer->route("/sneaky.safetensors", [](const HttpRequest& r, QTcpSocket* s) {
    FaultServer::serveBytes(r, s, "<!doctype html>\n<html><body>Error 500</body></html>");
  });
  for (const QByteArray& path : {QByteArray("/login.safetensors"), QByteArray("/sneaky.safetensors")}) {
    DownloadRequest req;
    req.source = *parseSource(mServer->url(path).toString(), nullptr);
    req.directory = mDir->path();
    FileDownload d(req, &mNetwork, fastOptions());
    QVERIFY(runToEnd(d));
    QCOMPARE(d.state(), State::Failed);
    QVERIFY2(d.error().contains(QLatin1String("web page instead of the file")), qPrintable(d.error()));
    QVERIFY(!QFileInfo::exists(d.targetPath()));
    QVERIFY(!QFileInfo::exists(d.partPath()));
  }
}

void TestDownloads::moreBytesThanAnnounced() {
  const QByteArray body = randomBytes(100 * 1024, 11);
  ServeOptions o;
  o.noContentLength = true;
  o.extraBody = "trailing garbage";
  const QByteArray sha = sha256Hex(body).toLatin1();
  mServer->route("/owner/repo/resolve/main/big.safetensors", [this, sha, body](const HttpRequest&, QTcpSocket* s) {
    FaultServer::respond(s, 302, {{"Location", mServer->url("/blob/big").toEncoded()},
                                  {"X-Linked-Etag", "\"" + sha + "\""},
                                  {"X-Linked-Size", QByteArray::number(body.size())}});
  });
  mServer->route("/blob/big", [body, o](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body, o); });
  DownloadRequest req;
  req.source = *parseSource(QStringLiteral("hf:owner/repo/big.safetensors"), nullptr);
  req.directory = mDir->path();
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().contains(QLatin1String("more than the 102400 bytes")), qPrintable(d.error()));
  QVERIFY(!QFileInfo::exists(d.targetPath()));
  QVERIFY(!QFileInfo::exists(d.partPath()));
}

void TestDownloads::sizeOtherThanTheCatalogs() {
  const QByteArray body = randomBytes(10 * 1024, 12);
  mServer->route("/sized.bin", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/sized.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSize = 12345;
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().contains(QLatin1String("10240 bytes")) && d.error().contains(QLatin1String("expected 12345")),
           qPrintable(d.error()));
  QVERIFY(!QFileInfo::exists(d.targetPath()));
}

void TestDownloads::fullDiskKeepsThePart() {
  if (!QFileInfo::exists(QStringLiteral("/dev/full"))) QSKIP("this system has no /dev/full to simulate a full disk");
  const QByteArray body = randomBytes(64 * 1024, 13);
  mServer->route("/full.bin", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  // The part is a link to /dev/full: every write fails with ENOSPC, as on a full disk.
  QVERIFY(QFile::link(QStringLiteral("/dev/full"), mDir->filePath(QStringLiteral("full.bin.part"))));
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/full.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSha256 = sha256Hex(body);
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().contains(QLatin1String("cannot write")) && d.error().contains(QLatin1String("full.bin.part")) &&
               d.error().contains(QLatin1String("disk full")),
           qPrintable(d.error()));
  QVERIFY(!QFileInfo::exists(d.targetPath()));
}

void TestDownloads::notEnoughFreeSpace() {
  mServer->route("/huge.bin", [](const HttpRequest&, QTcpSocket* s) { FaultServer::respond(s, 200, {}, "x"); });
  DownloadRequest req;
  req.source = *parseSource(mServer->url("/huge.bin").toString(), nullptr);
  req.directory = mDir->path();
  req.expectedSize = qint64(1) << 60;  // an exabyte
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QCOMPARE(d.state(), State::Failed);
  QVERIFY2(d.error().startsWith(QLatin1String("not enough free space in")), qPrintable(d.error()));
  QVERIFY(mServer->requestsFor("/huge.bin").isEmpty());  // checked before asking
}

void TestDownloads::civitaiVersionResolvesFileAndHash() {
  const QByteArray body = randomBytes(120 * 1024, 14);
  const QByteArray sha = sha256Hex(body).toUpper().toLatin1();
  const QByteArray download = mServer->url("/api/download/models/42").toEncoded();
  mServer->route("/api/v1/model-versions/42", [sha, download](const HttpRequest&, QTcpSocket* s) {
    const QByteArray json = R"({"id":42,"files":[{"name":"notes.txt","type":"Training Data","primary":false,
      "hashes":{},"downloadUrl":"http://x/y"},{"name":"../../myModel_v2.safetensors","type":"Model","primary":true,
      "sizeKB":120.0,"hashes":{"SHA256":")" + sha + R"("},"downloadUrl":")" + download + R"("}]})";
    FaultServer::respond(s, 200, {{"Content-Type", "application/json"}}, json);
  });
  const QByteArray cdn = mServer->url("/civitai-cdn/file", QStringLiteral("localhost")).toEncoded();
  mServer->route("/api/download/models/42", [cdn](const HttpRequest&, QTcpSocket* s) {
    FaultServer::respond(s, 307, {{"Location", cdn}});
  });
  mServer->route("/civitai-cdn/file", [body](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, body); });
  qputenv("CIVITAI_TOKEN", "civ_secret");
  DownloadRequest req;
  req.source = *parseSource(QStringLiteral("civitai:42"), nullptr);
  req.directory = mDir->path();
  FileDownload d(req, &mNetwork, fastOptions());
  QVERIFY(runToEnd(d));
  QVERIFY2(d.state() == State::Finished, qPrintable(d.error()));
  QCOMPARE(d.fileName(), QStringLiteral("myModel_v2.safetensors"));  // never a path from the server
  QCOMPARE(QFileInfo(d.targetPath()).dir().absolutePath(), QDir(mDir->path()).absolutePath());
  QVERIFY(d.verified());
  QCOMPARE(d.shaOrigin(), QStringLiteral("Civitai"));
  QCOMPARE(mServer->requestsFor("/api/v1/model-versions/42").value(0).header("Authorization"), QByteArray("Bearer civ_secret"));
  QCOMPARE(mServer->requestsFor("/api/download/models/42").value(0).header("Authorization"), QByteArray("Bearer civ_secret"));
  QVERIFY(mServer->requestsFor("/civitai-cdn/file").value(0).header("Authorization").isEmpty());
}

void TestDownloads::queueHonoursConcurrencyAndSurvivesRestart() {
  const QByteArray a = randomBytes(1024 * 1024, 15);
  const QByteArray b = randomBytes(700 * 1024, 16);
  ServeOptions slow;
  slow.chunkBytes = 16 * 1024;
  slow.chunkDelayMs = 5;
  mServer->route("/q/a.bin", [a, slow](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, a, slow); });
  mServer->route("/q/b.bin", [b, slow](const HttpRequest& r, QTcpSocket* s) { FaultServer::serveBytes(r, s, b, slow); });
  const QString stateFile = mDir->filePath(QStringLiteral("state/downloads.json"));
  auto request = [this](const QByteArray& path, const QByteArray& body) {
    DownloadRequest r;
    r.source = *parseSource(mServer->url(path).toString(), nullptr);
    r.directory = mDir->filePath(QStringLiteral("lib"));
    r.expectedSha256 = sha256Hex(body);
    return r;
  };
  {
    DownloadManager first(stateFile);
    first.setOptions(fastOptions());
    first.setMaxConcurrent(1);
    FileDownload* da = first.enqueue(request("/q/a.bin", a));
    FileDownload* db = first.enqueue(request("/q/b.bin", b));
    QVERIFY(da->isActive());
    QVERIFY(first.isQueued(db));
    QCOMPARE(first.activeCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(da->received() > 200 * 1024, 10000);
    QCOMPARE(db->state(), State::Idle);  // still waiting for its slot
    // Kiln is closed here (or killed: the state file is written on every state change).
  }
  QVERIFY(QFileInfo::exists(mDir->filePath(QStringLiteral("lib/a.bin.part"))));
  mServer->clearLog();
  DownloadManager second(stateFile);
  second.setOptions(fastOptions());
  QSignalSpy completed(&second, &DownloadManager::completed);
  second.restore();
  QCOMPARE(second.downloads().size(), 2);
  QTRY_COMPARE_WITH_TIMEOUT(completed.size(), 2, 20000);
  QCOMPARE(readFile(mDir->filePath(QStringLiteral("lib/a.bin"))), a);
  QCOMPARE(readFile(mDir->filePath(QStringLiteral("lib/b.bin"))), b);
  QVERIFY(mServer->requestsFor("/q/a.bin").value(0).header("Range").startsWith("bytes="));
  // Finished downloads leave the saved queue.
  QFile state(stateFile);
  QVERIFY(state.open(QIODevice::ReadOnly));
  QCOMPARE(QJsonDocument::fromJson(state.readAll()).object().value(QLatin1String("downloads")).toArray().size(), 0);
}

void TestDownloads::cliDownloadsInterruptsAndResumes() {
  const QByteArray body = randomBytes(3 * 1024 * 1024, 17);
  ServeOptions slow;
  slow.chunkBytes = 32 * 1024;
  slow.chunkDelayMs = 20;
  mServer->route("/cli/model.safetensors", [body, slow](const HttpRequest& r, QTcpSocket* s) {
    FaultServer::serveBytes(r, s, body, slow);
  });
  const QString out = mDir->filePath(QStringLiteral("cli"));
  const QStringList args{QStringLiteral("models"), QStringLiteral("download"), mServer->url("/cli/model.safetensors").toString(),
                         QStringLiteral("--to"), out, QStringLiteral("--sha256"), sha256Hex(body)};
  QProcess first;
  first.start(QStringLiteral(KILN_CLI), args);
  QVERIFY(first.waitForStarted());
  const QString part = out + QStringLiteral("/model.safetensors.part");
  QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(part).size() > 256 * 1024, 20000);
  ::kill(pid_t(first.processId()), SIGINT);
  QVERIFY(first.waitForFinished(20000));
  const QString firstErr = QString::fromUtf8(first.readAllStandardError());
  QCOMPARE(first.exitCode(), 130);
  QVERIFY2(firstErr.contains(QLatin1String("run the same command to resume")), qPrintable(firstErr));
  const qint64 kept = QFileInfo(part).size();
  QVERIFY(kept > 0 && kept < body.size());
  QVERIFY(!QFileInfo::exists(out + QStringLiteral("/model.safetensors")));

  mServer->clearLog();
  QProcess second;
  second.start(QStringLiteral(KILN_CLI), args);
  QVERIFY(second.waitForFinished(60000));
  const QString err = QString::fromUtf8(second.readAllStandardError());
  QVERIFY2(second.exitCode() == 0, qPrintable(err));
  const QString stdOut = QString::fromUtf8(second.readAllStandardOutput());
  QVERIFY2(stdOut.contains(QLatin1String("verified against --sha256")), qPrintable(stdOut));
  QCOMPARE(readFile(out + QStringLiteral("/model.safetensors")), body);
  QCOMPARE(mServer->requestsFor("/cli/model.safetensors").value(0).header("Range"), "bytes=" + QByteArray::number(kept) + "-");

  // Failures: exit 1 with one line; usage: exit 2.
  QProcess missing;
  missing.start(QStringLiteral(KILN_CLI), {QStringLiteral("models"), QStringLiteral("download"),
                                           QStringLiteral("hf:owner/repo/absent.safetensors"), QStringLiteral("--to"), out});
  QVERIFY(missing.waitForFinished(20000));
  QCOMPARE(missing.exitCode(), 1);
  QCOMPARE(QString::fromUtf8(missing.readAllStandardError()).trimmed(),
           QStringLiteral("kiln-cli models download: HTTP 404: owner/repo has no file absent.safetensors at revision main"));
  QProcess usage;
  usage.start(QStringLiteral(KILN_CLI), {QStringLiteral("models"), QStringLiteral("download"), QStringLiteral("nonsense")});
  QVERIFY(usage.waitForFinished(20000));
  QCOMPARE(usage.exitCode(), 2);
}

void TestDownloads::cliCatalog() {
  QProcess p;
  p.start(QStringLiteral(KILN_CLI), {QStringLiteral("models"), QStringLiteral("catalog"), QStringLiteral("--json")});
  QVERIFY(p.waitForFinished(20000));
  QCOMPARE(p.exitCode(), 0);
  const QJsonArray entries = QJsonDocument::fromJson(p.readAllStandardOutput()).object().value(QLatin1String("entries")).toArray();
  QCOMPARE(entries.size(), Catalog::builtIn().entries().size());
  QCOMPARE(entries.at(0).toObject().value(QLatin1String("id")).toString(), Catalog::builtIn().entries().first().id);
  QProcess text;
  text.start(QStringLiteral(KILN_CLI), {QStringLiteral("models"), QStringLiteral("catalog"), QStringLiteral("--kind"),
                                        QStringLiteral("checkpoint")});
  QVERIFY(text.waitForFinished(20000));
  QCOMPARE(text.exitCode(), 0);
  QVERIFY(QString::fromUtf8(text.readAllStandardOutput()).contains(QLatin1String("sd15")));
}

QTEST_GUILESS_MAIN(TestDownloads)
#include "test_downloads.moc"
