// Captions from a vision endpoint, against FakeVisionServer on loopback: the answer's cleaning
// and flags, the prepared image, the endpoint check, a run over a dataset in each mode with every
// fault of issue 17, resuming a killed run, and kiln-cli dataset caption / endpoint check.
#include <QBuffer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <climits>
#include <memory>

#include "captioning/caption_run.h"
#include "captioning/caption_store.h"
#include "captioning/caption_text.h"
#include "captioning/completion_answer.h"
#include "captioning/endpoint_profile.h"
#include "captioning/vision_client.h"
#include "fake_vision_server.h"

using namespace kiln::captioning;
using Fault = kiln::test::FakeVisionServer::Fault;
using kiln::test::FakeVisionServer;

namespace {

QString readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
}

void writeText(const QString& path, const QString& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text.toUtf8());
}

QString captionPath(const QString& image) {
  const QFileInfo fi(image);
  return fi.dir().filePath(fi.completeBaseName() + QStringLiteral(".txt"));
}

}  // namespace

class TestCaptioning : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
  void cleansAnswersAndFlagsThem();
  void buildsPrompts();
  void readsAnswersErrorsAndRetryAfter();
  void preparesImagesUprightSmallAndWithoutMetadata();
  void checkReportsEachCase();
  void fillCaptionsEveryImageWithProvenance();
  void retriesWhatCanPassAndHalvesConcurrency();
  void brokenAnswersAreRetriedThenFailTheImage();
  void stopsOnWhatConcernsTheEndpoint();
  void neverRetriesABadRequestAndSwitchesMaxTokens();
  void refusalsAndEmptyAnswersAreNotWritten();
  void stalledAnswerTimesOut();
  void modesKeepWhatThePersonWrote();
  void killedRunResumesWithFill();
  void cliCaptionsChecksAndExitsByCause();

 private:
  CaptionRunSettings settings(int concurrency = 1) const;
  QStringList makeDataset(int n);
  bool runToEnd(CaptionRun& run, int timeoutMs = 30000);

  std::unique_ptr<FakeVisionServer> mServer;
  std::unique_ptr<QTemporaryDir> mDir;
  QNetworkAccessManager mNetwork;
};

void TestCaptioning::init() {
  mServer = std::make_unique<FakeVisionServer>();
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(mDir->isValid());
}

CaptionRunSettings TestCaptioning::settings(int concurrency) const {
  CaptionRunSettings s;
  s.profile.baseUrl = mServer->baseUrl();
  s.profile.model = QStringLiteral("vision-model");
  s.profile.concurrency = concurrency;
  s.profile.timeoutSeconds = 5;
  s.prompt.preset = PromptPreset::Subject;
  s.prompt.token = QStringLiteral("ohwx");
  s.prompt.className = QStringLiteral("man");
  s.retry.firstBackoffMs = 20;
  s.retry.maxBackoffMs = 100;
  s.retry.maxAttempts = 3;
  return s;
}

QStringList TestCaptioning::makeDataset(int n) {
  QStringList images;
  for (int i = 0; i < n; ++i) {
    QImage image(96 + 32 * (i % 3), 96 + 16 * (i % 2), QImage::Format_RGB888);
    image.fill(QColor::fromHsv((i * 47) % 360, 200, 60 + (i * 30) % 190));
    const QString path = mDir->filePath(QStringLiteral("img_%1.png").arg(i, 2, 10, QLatin1Char('0')));
    image.save(path);
    images << path;
  }
  return images;
}

bool TestCaptioning::runToEnd(CaptionRun& run, int timeoutMs) {
  QSignalSpy done(&run, &CaptionRun::finished);
  run.start();
  return run.isFinished() || done.wait(timeoutMs);
}

void TestCaptioning::cleansAnswersAndFlagsThem() {
  QCOMPARE(cleanAnswer(QStringLiteral("  This image shows a man in a red coat.\n\n ")), QStringLiteral("a man in a red coat."));
  QCOMPARE(cleanAnswer(QStringLiteral("Here is a caption for the image: \"ohwx man on a bike\"")),
           QStringLiteral("ohwx man on a bike"));
  QCOMPARE(cleanAnswer(QStringLiteral("Sure! Caption: ohwx man,   smiling")), QStringLiteral("ohwx man, smiling"));
  QCOMPARE(cleanAnswer(QStringLiteral("<think>hmm</think>In this photo, a dog runs")), QStringLiteral("a dog runs"));
  QVERIFY(looksLikeRefusal(QStringLiteral("I'm sorry, I can't help with that.")));
  QVERIFY(!looksLikeRefusal(QStringLiteral("ohwx man sorry-looking")));
  QVERIFY(hasRepetitionLoop(QStringLiteral("a red car, a red car, a red car, a red car")));
  QVERIFY(hasRepetitionLoop(QStringLiteral("the the the the")));
  QVERIFY(!hasRepetitionLoop(QStringLiteral("a man, a woman, a dog and a cat in a park")));

  PromptSettings p;
  p.token = QStringLiteral("ohwx");
  p.className = QStringLiteral("man");
  p.prefix = QStringLiteral("photo,");
  p.suffix = QStringLiteral("film grain");
  ProcessedCaption c = processAnswer(QStringLiteral("This photo shows ohwx man reading"), QStringLiteral("stop"), p);
  QCOMPARE(c.text, QStringLiteral("photo, ohwx man reading, film grain"));
  QCOMPARE(c.flags, 0u);
  c = processAnswer(QStringLiteral("a man reading"), QStringLiteral("length"), p);
  QCOMPARE(flagNames(c.flags), (QStringList{QStringLiteral("truncated"), QStringLiteral("token-missing")}));
  QVERIFY(c.usable());
  c = processAnswer(QStringLiteral("I cannot describe people."), QStringLiteral("stop"), p);
  QVERIFY(!c.usable());
  QVERIFY(c.text.isEmpty());
  c = processAnswer(QStringLiteral("   "), QStringLiteral("stop"), p);
  QCOMPARE(c.flags, unsigned(FlagEmpty));
  // Over one CLIP chunk: counted, flagged, never cut.
  const QString longAnswer = QStringLiteral("ohwx man ") + QStringLiteral("word ").repeated(90);
  c = processAnswer(longAnswer, QStringLiteral("stop"), p, [](const QString& t, void*) { return int(t.split(QLatin1Char(' ')).size()); });
  QVERIFY(c.flags & FlagOverLimit);
  QVERIFY(c.text.contains(longAnswer.trimmed()));
  QCOMPARE(flagsFromNames(flagNames(FlagRefusal | FlagOverLimit)), unsigned(FlagRefusal | FlagOverLimit));
}

void TestCaptioning::readsAnswersErrorsAndRetryAfter() {
  using namespace kiln::captioning;
  QString why;
  auto a = parseCompletion(R"({"choices":[{"message":{"content":[{"type":"text","text":"a cat"},{"text":" on a mat"}]},
                               "finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":4}})",
                           &why);
  QVERIFY(a);
  QCOMPARE(a->content, QStringLiteral("a cat on a mat"));
  QCOMPARE(a->finishReason, QStringLiteral("stop"));
  QCOMPARE(a->promptTokens, 12);
  QCOMPARE(a->completionTokens, 4);
  a = parseCompletion(R"({"choices":[{"message":{"content":null,"refusal":"I can't help with that."}}]})", &why);
  QVERIFY(a);
  QCOMPARE(a->content, QStringLiteral("I can't help with that."));
  QCOMPARE(a->promptTokens, -1);
  QVERIFY(!parseCompletion(R"({"choices":[]})", &why));
  QCOMPARE(why, QStringLiteral("the answer has no choices"));
  QVERIFY(!parseCompletion("<html>", &why));
  QVERIFY(why.startsWith(QStringLiteral("the answer is not JSON")));

  ServerError e = parseServerError(R"({"error":{"message":"Image input is\nnot supported","type":"invalid_request_error","code":400}})");
  QCOMPARE(e.message, QStringLiteral("Image input is not supported"));
  QCOMPARE(e.kind, QStringLiteral("invalid_request_error 400"));
  QVERIFY(mentionsNoVision(e.message));
  QCOMPARE(parseServerError(R"({"object":"error","message":"boom"})").message, QStringLiteral("boom"));
  QCOMPARE(parseServerError(R"({"error":"quota"})").message, QStringLiteral("quota"));
  e = parseServerError(QByteArray(1000, 'x'));
  QCOMPARE(e.message.size(), 200);
  QVERIFY(parseServerError(QByteArray(R"({"message":")") + QByteArray(400, 'y') + "\"}").message.endsWith(QStringLiteral("…")));

  const QDateTime now(QDate(2026, 12, 7), QTime(12, 0, 0), Qt::UTC);
  QCOMPARE(retryAfterMs("250", "7", now), 250);
  QCOMPARE(retryAfterMs("", " 7 ", now), 7000);
  QCOMPARE(retryAfterMs("", "Mon, 07 Dec 2026 12:00:30 GMT", now), 30000);
  QCOMPARE(retryAfterMs("", "Mon, 07 Dec 2026 11:00:00 GMT", now), 0);  // in the past: now
  QCOMPARE(retryAfterMs("", "1e300", now), INT_MAX);
  QCOMPARE(retryAfterMs("-5", "", now), -1);
  QCOMPARE(retryAfterMs("", "soon", now), -1);
  QVERIFY(looksLikeHtml(QStringLiteral("text/html; charset=utf-8"), "{}"));
  QVERIFY(looksLikeHtml(QString(), "  <!DOCTYPE html><html>"));
  QVERIFY(!looksLikeHtml(QStringLiteral("application/json"), "{}"));
}

void TestCaptioning::buildsPrompts() {
  PromptSettings p;
  QString error;
  QVERIFY(!buildPrompt(p, QStringLiteral("a.jpg"), {}, &error));
  QVERIFY2(error.contains(QLatin1String("{token}")) && error.contains(QLatin1String("instance token")), qPrintable(error));
  p.token = QStringLiteral("ohwx");
  p.className = QStringLiteral("dog");
  auto prompt = buildPrompt(p, QStringLiteral("a.jpg"), {}, &error);
  QVERIFY(prompt);
  QVERIFY(prompt->contains(QLatin1String("\"ohwx dog\"")));
  p.preset = PromptPreset::Style;
  prompt = buildPrompt(p, QStringLiteral("a.jpg"), {}, &error);
  QVERIFY(prompt && !prompt->contains(QLatin1String("ohwx")));
  p.preset = PromptPreset::Custom;
  p.customTemplate = QStringLiteral("File {filename}; keep: {existing}; subject {token} {class}");
  prompt = buildPrompt(p, QStringLiteral("x.png"), QStringLiteral("old text"), &error);
  QCOMPARE(*prompt, QStringLiteral("File x.png; keep: old text; subject ohwx dog"));
  p.customTemplate = QStringLiteral("Describe {subject}");
  QVERIFY(!buildPrompt(p, QStringLiteral("x.png"), {}, &error));
  QVERIFY2(error.contains(QLatin1String("{subject}")), qPrintable(error));
}

void TestCaptioning::preparesImagesUprightSmallAndWithoutMetadata() {
  const QString photo = QStringLiteral(KILN_TEST_DATA "/faces/exif6_hopper.jpg");
  QImageReader raw(photo);
  raw.setAutoTransform(false);
  const QSize stored = raw.size();
  QVERIFY(stored.isValid());
  QString error;
  const auto jpeg = prepareImage(photo, 128, &error);
  QVERIFY2(jpeg, qPrintable(error));
  QImage sent;
  QVERIFY(sent.loadFromData(*jpeg, "JPEG"));
  QCOMPARE(std::max(sent.width(), sent.height()), 128);
  // Orientation 6: the stored landscape is shown (and sent) in portrait, or the reverse.
  QCOMPARE(sent.width() > sent.height(), stored.height() > stored.width());
  QVERIFY2(!jpeg->contains("Exif"), "metadata left the machine");
  QVERIFY(dataUrl(*jpeg).startsWith("data:image/jpeg;base64,/9j/"));
  QVERIFY(!prepareImage(QStringLiteral(KILN_TEST_DATA "/faces/README.md"), 128, &error));
  QVERIFY2(error.contains(QLatin1String("README.md")) && error.contains(QLatin1String("not a readable image")), qPrintable(error));
}

void TestCaptioning::checkReportsEachCase() {
  auto check = [this](EndpointProfile p, int healthWait = 5000) {
    auto c = std::make_unique<EndpointCheck>(p, &mNetwork);
    c->setHealthWaitMs(healthWait);
    RetryPolicy r;
    r.firstBackoffMs = 20;
    r.maxAttempts = 2;
    c->setRetryPolicy(r);
    QSignalSpy done(c.get(), &EndpointCheck::finished);
    c->start();
    if (c->message().isEmpty()) done.wait(20000);
    return c;
  };
  EndpointProfile p = settings().profile;
  mServer->setLoadingHealthChecks(3);
  auto ok = check(p);
  QCOMPARE(ok->result(), EndpointCheck::Result::Ok);
  QVERIFY2(ok->message().startsWith(QLatin1String("OK: vision-model answered a probe image in")), qPrintable(ok->message()));
  QCOMPARE(ok->models(), (QStringList{QStringLiteral("vision-model"), QStringLiteral("text-only")}));
  QCOMPARE(mServer->http().requestsFor("/health").size(), 4);  // 3 x 503 while "loading", then 200

  p.model = QStringLiteral("llava-typo");
  auto unknown = check(p);
  QCOMPARE(unknown->result(), EndpointCheck::Result::UnknownModel);
  QVERIFY2(unknown->message().contains(QLatin1String("vision-model, text-only")), qPrintable(unknown->message()));

  p.model = QStringLiteral("text-only");
  auto blind = check(p);
  QCOMPARE(blind->result(), EndpointCheck::Result::NoVision);
  QVERIFY2(blind->message().contains(QLatin1String("takes no images")), qPrintable(blind->message()));

  p.model = QStringLiteral("vision-model");
  mServer->setRequiredKey("sk-right");
  qputenv("KILN_TEST_CAPTION_KEY", "sk-wrong");
  p.apiKeyEnv = QStringLiteral("KILN_TEST_CAPTION_KEY");
  auto refused = check(p);
  QCOMPARE(refused->result(), EndpointCheck::Result::Unauthorized);
  QVERIFY2(refused->message().contains(QLatin1String("$KILN_TEST_CAPTION_KEY")) && !refused->message().contains(QLatin1String("sk-")),
           qPrintable(refused->message()));
  qputenv("KILN_TEST_CAPTION_KEY", "sk-right");
  QCOMPARE(check(p)->result(), EndpointCheck::Result::Ok);

  p.baseUrl = QStringLiteral("http://127.0.0.1:1/v1");  // nothing listens on port 1
  auto away = check(p);
  QCOMPARE(away->result(), EndpointCheck::Result::Unreachable);
  QVERIFY2(away->message().startsWith(QLatin1String("cannot reach http://127.0.0.1:1/v1")), qPrintable(away->message()));
}

void TestCaptioning::fillCaptionsEveryImageWithProvenance() {
  const QStringList images = makeDataset(5);
  mServer->setAnswerPrefix(QStringLiteral("This image shows "));
  CaptionRun run(mDir->path(), images, settings(2), &mNetwork);
  run.setTokenCounter([](const QString& t) { return int(t.split(QLatin1Char(' ')).size()); });
  QVERIFY(runToEnd(run));
  QCOMPARE(run.doneCount(), 5);
  QCOMPARE(run.failedCount(), 0);
  QVERIFY(run.stopReason().isEmpty());
  QCOMPARE(mServer->chatCount(), 5);
  QCOMPARE(run.promptTokens(), 5 * 120);
  CaptionStore store(mDir->path());
  for (const QString& image : images) {
    const QString text = readText(captionPath(image));
    QVERIFY2(text.startsWith(QLatin1String("ohwx man in a ")), qPrintable(text));  // preamble stripped, token first
    QCOMPARE(text, FakeVisionServer::captionFor(QImage(image), QStringLiteral("ohwx man")));
    const auto record = store.record(image);
    QVERIFY(record);
    QCOMPARE(record->status, QStringLiteral("auto"));
    QCOMPARE(record->model, QStringLiteral("vision-model"));
    QCOMPARE(record->endpointHost, QStringLiteral("127.0.0.1"));
    QCOMPARE(record->prompt, QStringLiteral("subject"));
    QCOMPARE(record->promptTokens, 120);
    QVERIFY(record->clipTokens > 0);
    QCOMPARE(store.status(image, text), QStringLiteral("auto"));
  }
  // What was sent: model, max_tokens, a text part and a JPEG data URL, as the API wants it.
  const QJsonObject first = mServer->chatRequests().first();
  QCOMPARE(first.value(QLatin1String("model")).toString(), QStringLiteral("vision-model"));
  QCOMPARE(first.value(QLatin1String("max_tokens")).toInt(), 300);
  const QJsonArray parts = first.value(QLatin1String("messages")).toArray().at(0).toObject().value(QLatin1String("content")).toArray();
  QCOMPARE(parts.size(), 2);
  QVERIFY(parts.at(1).toObject().value(QLatin1String("image_url")).toObject().value(QLatin1String("url")).toString().startsWith(
      QLatin1String("data:image/jpeg;base64,")));
  // An edit by the person (anywhere) turns the record into "edited".
  writeText(captionPath(images[0]), QStringLiteral("ohwx man, my own words"));
  QCOMPARE(store.status(images[0], readText(captionPath(images[0]))), QStringLiteral("edited"));
}

void TestCaptioning::retriesWhatCanPassAndHalvesConcurrency() {
  const QStringList images = makeDataset(4);
  mServer->script({Fault::RateLimitSeconds, Fault::RateLimitMs, Fault::RateLimitDate, Fault::ServerError, Fault::HtmlError,
                   Fault::CutOff});
  CaptionRunSettings s = settings(4);
  s.retry.maxAttempts = 6;
  CaptionRun run(mDir->path(), images, s, &mNetwork);
  QStringList notes;
  connect(&run, &CaptionRun::note, [&notes](const QString& n) { notes << n; });
  QElapsedTimer clock;
  clock.start();
  QVERIFY(runToEnd(run));
  QCOMPARE(run.doneCount(), 4);
  QCOMPARE(run.failedCount(), 0);
  QCOMPARE(mServer->chatCount(), 4 + 6);
  QCOMPARE(run.concurrency(), 1);  // 4 -> 2 -> 1 after the 429s
  QVERIFY2(clock.elapsed() >= 900, "Retry-After: 1 was not honoured");
  const QString all = notes.join(QLatin1Char('\n'));
  QVERIFY2(all.contains(QLatin1String("HTTP 429")) && all.contains(QLatin1String("HTTP 502 (an error page)")) &&
               all.contains(QLatin1String("1 request(s) at a time")),
           qPrintable(all));
}

void TestCaptioning::brokenAnswersAreRetriedThenFailTheImage() {
  const QStringList images = makeDataset(2);
  mServer->script({Fault::BrokenJson, Fault::BrokenJson, Fault::BrokenJson});  // image 0: 3 tries, all broken
  CaptionRun run(mDir->path(), images, settings(1), &mNetwork);
  QVERIFY(runToEnd(run));
  QCOMPARE(run.doneCount(), 1);
  QCOMPARE(run.failedCount(), 1);
  const CaptionItem& failed = run.items().at(0);
  QCOMPARE(failed.state, CaptionItem::State::Failed);
  QVERIFY2(failed.reason.contains(QLatin1String("not JSON")) && failed.reason.contains(QLatin1String("after 3 tries")),
           qPrintable(failed.reason));
  QVERIFY(!QFileInfo::exists(captionPath(images[0])));
  QCOMPARE(CaptionStore(mDir->path()).record(images[0])->status, QStringLiteral("failed"));
}

void TestCaptioning::stopsOnWhatConcernsTheEndpoint() {
  struct Case {
    QList<Fault> script;
    QString model;
    VisionReply::Outcome outcome;
    const char* words;
  };
  const QList<Case> cases{
      {{Fault::Quota}, QStringLiteral("vision-model"), VisionReply::Outcome::Quota, "quota"},
      {{Fault::Unauthorized}, QStringLiteral("vision-model"), VisionReply::Outcome::Unauthorized, "HTTP 401"},
      {{}, QStringLiteral("no-such-model"), VisionReply::Outcome::NotFound, "does not know the model no-such-model"},
      {{}, QStringLiteral("text-only"), VisionReply::Outcome::NoVision, "takes no images"},
  };
  for (const Case& c : cases) {
    init();
    const QStringList images = makeDataset(6);
    mServer->script(c.script);
    CaptionRunSettings s = settings(1);
    s.profile.model = c.model;
    CaptionRun run(mDir->path(), images, s, &mNetwork);
    QVERIFY(runToEnd(run));
    QCOMPARE(run.stopOutcome(), c.outcome);
    QVERIFY2(run.stopReason().contains(QLatin1String(c.words)), qPrintable(run.stopReason()));
    QCOMPARE(mServer->chatCount(), 1);  // stopped at once, not once per image
    QCOMPARE(run.doneCount(), 0);
    QCOMPARE(run.failedCount(), 0);     // no image is blamed
    for (const QString& image : images) QVERIFY(!QFileInfo::exists(captionPath(image)));
  }
}

void TestCaptioning::neverRetriesABadRequestAndSwitchesMaxTokens() {
  QStringList images = makeDataset(1);
  mServer->script({Fault::BadRequest});
  CaptionRun run(mDir->path(), images, settings(1), &mNetwork);
  QVERIFY(runToEnd(run));
  QCOMPARE(run.failedCount(), 1);
  QCOMPARE(mServer->chatCount(), 1);
  QVERIFY2(run.items().at(0).reason.startsWith(QLatin1String("HTTP 400: temperature")), qPrintable(run.items().at(0).reason));

  init();
  images = makeDataset(2);
  mServer->setWantsCompletionTokens(true);
  CaptionRun switched(mDir->path(), images, settings(1), &mNetwork);
  QVERIFY(runToEnd(switched));
  QCOMPARE(switched.doneCount(), 2);
  const auto requests = mServer->chatRequests();
  QCOMPARE(requests.size(), 4);  // each image: refused max_tokens once, then max_completion_tokens
  QVERIFY(requests.at(1).contains(QLatin1String("max_completion_tokens")) && !requests.at(1).contains(QLatin1String("max_tokens")));
}

void TestCaptioning::refusalsAndEmptyAnswersAreNotWritten() {
  const QStringList images = makeDataset(3);
  mServer->script({Fault::Refusal, Fault::Empty, Fault::Truncated});
  CaptionRun run(mDir->path(), images, settings(1), &mNetwork);
  QVERIFY(runToEnd(run));
  QCOMPARE(run.items().at(0).state, CaptionItem::State::Failed);
  QVERIFY2(run.items().at(0).reason.startsWith(QLatin1String("the model refused")), qPrintable(run.items().at(0).reason));
  QCOMPARE(run.items().at(1).state, CaptionItem::State::Failed);
  QVERIFY(!QFileInfo::exists(captionPath(images[0])));
  QVERIFY(!QFileInfo::exists(captionPath(images[1])));
  // Cut off by max_tokens: written, flagged for review.
  QCOMPARE(run.items().at(2).state, CaptionItem::State::Done);
  QVERIFY(run.items().at(2).caption.flags & FlagTruncated);
  QCOMPARE(CaptionStore(mDir->path()).record(images[2])->flags, QStringList{QStringLiteral("truncated")});
}

void TestCaptioning::stalledAnswerTimesOut() {
  const QStringList images = makeDataset(1);
  mServer->script({Fault::Stall});
  CaptionRun run(mDir->path(), images, settings(1), &mNetwork);  // 5 s per request
  QStringList notes;
  connect(&run, &CaptionRun::note, [&notes](const QString& n) { notes << n; });
  QVERIFY(runToEnd(run, 30000));
  QCOMPARE(run.doneCount(), 1);
  QCOMPARE(mServer->chatCount(), 2);
  QVERIFY2(!notes.isEmpty() && notes.first().contains(QLatin1String("trying again")), qPrintable(notes.join(QLatin1Char('\n'))));
}

void TestCaptioning::modesKeepWhatThePersonWrote() {
  const QStringList images = makeDataset(4);
  CaptionRun first(mDir->path(), images, settings(1), &mNetwork);
  QVERIFY(runToEnd(first));
  QCOMPARE(first.doneCount(), 4);
  // The person edits image 1, reviews image 2 (in Kiln), writes image 3 by hand (no record).
  writeText(captionPath(images[1]), QStringLiteral("ohwx man, edited by hand"));
  {
    CaptionStore store(mDir->path());
    store.markReviewed(images[2]);
    store.remove(images[3]);
    QVERIFY(store.save());
  }
  writeText(captionPath(images[3]), QStringLiteral("ohwx man, my caption"));
  const QString autoCaption = readText(captionPath(images[0]));
  const QString reviewed = readText(captionPath(images[2]));

  // Replace: only Kiln's own untouched caption is asked again.
  mServer->http().clearLog();
  CaptionRunSettings s = settings(1);
  s.mode = CaptionMode::Replace;
  s.prompt.prefix = QStringLiteral("v2");
  CaptionRun replace(mDir->path(), images, s, &mNetwork);
  QVERIFY(runToEnd(replace));
  QCOMPARE(replace.doneCount(), 1);
  QCOMPARE(replace.skippedCount(), 3);
  QCOMPARE(readText(captionPath(images[0])), QStringLiteral("v2, ") + autoCaption);
  QCOMPARE(readText(captionPath(images[1])), QStringLiteral("ohwx man, edited by hand"));
  QCOMPARE(readText(captionPath(images[2])), reviewed);
  QCOMPARE(readText(captionPath(images[3])), QStringLiteral("ohwx man, my caption"));
  QVERIFY2(replace.items().at(1).reason.contains(QLatin1String("edited by you")), qPrintable(replace.items().at(1).reason));
  QVERIFY2(replace.items().at(2).reason.startsWith(QLatin1String("reviewed")), qPrintable(replace.items().at(2).reason));

  // Fill: nothing to do (every image has a caption).
  CaptionRun fill(mDir->path(), images, settings(1), &mNetwork);
  const int before = mServer->chatCount();
  QVERIFY(runToEnd(fill));
  QCOMPARE(fill.skippedCount(), 4);
  QCOMPARE(mServer->chatCount(), before);

  // Append: after the existing text.
  s.mode = CaptionMode::Append;
  s.prompt.prefix.clear();
  CaptionRun append(mDir->path(), QStringList{images[3]}, s, &mNetwork);
  QVERIFY(runToEnd(append));
  QVERIFY2(readText(captionPath(images[3])).startsWith(QLatin1String("ohwx man, my caption, ohwx man in a")),
           qPrintable(readText(captionPath(images[3]))));

  // A caption typed while its request runs is kept.
  QFile::remove(captionPath(images[0]));
  mServer->setAnswerDelayMs(400);
  CaptionRun racing(mDir->path(), QStringList{images[0]}, settings(1), &mNetwork);
  QSignalSpy done(&racing, &CaptionRun::finished);
  racing.start();
  QTRY_COMPARE_WITH_TIMEOUT(racing.items().at(0).state, CaptionItem::State::Running, 5000);
  writeText(captionPath(images[0]), QStringLiteral("typed meanwhile"));
  QVERIFY(done.wait(10000));
  QCOMPARE(readText(captionPath(images[0])), QStringLiteral("typed meanwhile"));
  QVERIFY2(racing.items().at(0).reason.contains(QLatin1String("kept yours")), qPrintable(racing.items().at(0).reason));
}

void TestCaptioning::killedRunResumesWithFill() {
  const QStringList images = makeDataset(6);
  mServer->setAnswerDelayMs(150);
  {
    CaptionRun run(mDir->path(), images, settings(1), &mNetwork);
    run.start();
    QTRY_VERIFY_WITH_TIMEOUT(run.doneCount() >= 2, 10000);
    run.cancel();  // as if Kiln were closed or killed here: captions so far are on disk
    QVERIFY(run.cancelled());
  }
  int captioned = 0;
  for (const QString& image : images) captioned += QFileInfo::exists(captionPath(image)) ? 1 : 0;
  QVERIFY(captioned >= 2 && captioned < 6);
  mServer->setAnswerDelayMs(0);
  const int before = mServer->chatCount();
  CaptionRun rerun(mDir->path(), images, settings(1), &mNetwork);
  QVERIFY(runToEnd(rerun));
  QCOMPARE(rerun.doneCount(), 6 - captioned);
  QCOMPARE(mServer->chatCount() - before, 6 - captioned);  // only the missing ones were asked
  for (const QString& image : images) QVERIFY(QFileInfo::exists(captionPath(image)));
}

void TestCaptioning::cliCaptionsChecksAndExitsByCause() {
  const QStringList images = makeDataset(3);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("KILN_CAPTION_BACKOFF_MS"), QStringLiteral("20"));
  auto cli = [&env](const QStringList& args, QString* out = nullptr, QString* err = nullptr) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(KILN_CLI), args);
    if (!p.waitForFinished(60000)) return -1;
    if (out) *out = QString::fromUtf8(p.readAllStandardOutput());
    if (err) *err = QString::fromUtf8(p.readAllStandardError());
    return p.exitCode();
  };
  const QStringList base{QStringLiteral("dataset"), QStringLiteral("caption"), mDir->path(), QStringLiteral("--endpoint"),
                         mServer->baseUrl(),         QStringLiteral("--token"),  QStringLiteral("ohwx"),
                         QStringLiteral("--class"),  QStringLiteral("man")};
  QString out, err;
  QCOMPARE(cli(base + QStringList{QStringLiteral("--model"), QStringLiteral("vision-model"), QStringLiteral("--dry-run")}, &out, &err), 0);
  QVERIFY2(out.contains(QLatin1String("3 to ask, 0 skipped")) && out.contains(QLatin1String("\"ohwx man\"")), qPrintable(out));
  QCOMPARE(mServer->chatCount(), 0);

  QCOMPARE(cli(base + QStringList{QStringLiteral("--model"), QStringLiteral("text-only")}, &out, &err), 4);
  QVERIFY2(err.contains(QLatin1String("stopped: the model text-only takes no images")), qPrintable(err));

  mServer->script({Fault::Unauthorized});
  QCOMPARE(cli(base + QStringList{QStringLiteral("--model"), QStringLiteral("vision-model")}, &out, &err), 3);

  mServer->script({Fault::BadRequest});
  QCOMPARE(cli(base + QStringList{QStringLiteral("--model"), QStringLiteral("vision-model"), QStringLiteral("--json")}, &out, &err), 1);
  QVERIFY2(err.contains(QLatin1String("1 image(s) failed:")) && err.contains(QLatin1String("img_00.png: HTTP 400")), qPrintable(err));
  const QJsonObject report = QJsonDocument::fromJson(out.toUtf8()).object();
  QCOMPARE(report.value(QLatin1String("done")).toInt(), 2);
  QCOMPARE(report.value(QLatin1String("failed")).toInt(), 1);

  // The rerun in fill mode asks only for the failed one.
  const int before = mServer->chatCount();
  QCOMPARE(cli(base + QStringList{QStringLiteral("--model"), QStringLiteral("vision-model")}, &out, &err), 0);
  QCOMPARE(mServer->chatCount() - before, 1);
  for (const QString& image : images) QVERIFY(readText(captionPath(image)).startsWith(QLatin1String("ohwx man")));

  QCOMPARE(cli({QStringLiteral("endpoint"), QStringLiteral("check"), QStringLiteral("--endpoint"), mServer->baseUrl(),
                QStringLiteral("--model"), QStringLiteral("vision-model"), QStringLiteral("--json")},
               &out, &err),
           0);
  QCOMPARE(QJsonDocument::fromJson(out.toUtf8()).object().value(QLatin1String("result")).toString(), QStringLiteral("ok"));
  QCOMPARE(cli({QStringLiteral("endpoint"), QStringLiteral("check"), QStringLiteral("--endpoint"), QStringLiteral("not a url"),
                QStringLiteral("--model"), QStringLiteral("m")},
               &out, &err),
           2);
  QCOMPARE(cli(base + QStringList{QStringLiteral("--model"), QStringLiteral("vision-model"), QStringLiteral("--mode"),
                                  QStringLiteral("overwrite")},
               &out, &err),
           2);
}

QTEST_GUILESS_MAIN(TestCaptioning)
#include "test_captioning.moc"
