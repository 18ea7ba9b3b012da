// kiln-cli serve end to end: a real server process on a free loopback port with the tiny
// pipeline as its models, every /sdapi/v1 endpoint called over HTTP with the response shapes of
// AUTOMATIC1111's modules/api/models.py checked, seeds as A1111 gives them, progress and
// interrupt while a generation runs, Basic auth, and each security rule (JSON only, Host check,
// CORS, body and image limits, no URLs or paths as images).
#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QtEndian>

#include <cmath>
#include <csignal>
#include <memory>

#include <signal.h>
#include <sys/types.h>

#include "support/test_support.h"

namespace {

QString tinyControlNet() {
  return QString::fromStdString((kiln::test::data_dir() / "golden/controlnet/model").string());
}

// An F32 safetensors file written by hand, one tensor per (key, shape), values from a sine
// (a scalar is 2). Returns the sha256 of the data section, empty on failure.
QByteArray writeF32Safetensors(const QString& path, const QList<QPair<QString, QList<int>>>& tensors, double scale) {
  QJsonObject header;
  QByteArray data;
  int k = 0;
  for (const auto& [key, shape] : tensors) {
    int count = 1;
    QJsonArray dims;
    for (int d : shape) {
      count *= d;
      dims.append(d);
    }
    const qsizetype begin = data.size();
    for (int i = 0; i < count; ++i) {
      const float v = shape.isEmpty() ? 2.0f : static_cast<float>(scale * std::sin(++k * 0.7));
      char bytes[4];
      qToLittleEndian(v, bytes);
      data.append(bytes, 4);
    }
    header.insert(key, QJsonObject{{QStringLiteral("dtype"), QStringLiteral("F32")},
                                   {QStringLiteral("shape"), dims},
                                   {QStringLiteral("data_offsets"), QJsonArray{begin, data.size()}}});
  }
  QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  while (json.size() % 8 != 0) json.append(' ');
  char length[8];
  qToLittleEndian(static_cast<quint64>(json.size()), length);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return {};
  file.write(length, 8);
  file.write(json);
  file.write(data);
  return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

// A kohya LoRA for the tiny model's first self-attention query (rank 4, alpha 2); returns
// A1111's LoRA hash (the sha256 of the data section).
QByteArray writeTinyLoRA(const QString& path) {
  const QString name = QStringLiteral("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q");
  return writeF32Safetensors(path,
                             {{name + QStringLiteral(".lora_down.weight"), {4, 32}},
                              {name + QStringLiteral(".lora_up.weight"), {32, 4}},
                              {name + QStringLiteral(".alpha"), {}}},
                             0.5);
}

QString tinyModel() { return QString::fromStdString((kiln::test::data_dir() / "golden/pipeline/tiny_sd1").string()); }

bool copyTree(const QString& from, const QString& to) {
  QDir().mkpath(to);
  QDirIterator it(from, QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString file = it.next();
    const QString target = to + QLatin1Char('/') + QDir(from).relativeFilePath(file);
    QDir().mkpath(QFileInfo(target).path());
    if (!QFile::copy(file, target)) return false;
  }
  return true;
}

struct Response {
  int status = 0;  // 0: no HTTP answer
  QByteArray body;
  QList<QNetworkReply::RawHeaderPair> headers;
  QJsonValue json() const {
    const QJsonDocument d = QJsonDocument::fromJson(body);
    if (d.isObject()) return d.object();
    if (d.isArray()) return d.array();
    return body.trimmed() == "null" ? QJsonValue(QJsonValue::Null) : QJsonValue(QJsonValue::Undefined);
  }
  QJsonObject object() const { return json().toObject(); }
  QByteArray header(const QByteArray& name) const {
    for (const auto& [k, v] : headers)
      if (k.compare(name, Qt::CaseInsensitive) == 0) return v;
    return {};
  }
};

// A running `kiln-cli serve`.
class Server {
 public:
  explicit Server(const QStringList& args) {
    mProcess.setProgram(QStringLiteral(KILN_CLI));
    mProcess.setArguments(QStringList{QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0")} + args);
    mProcess.start();
    QElapsedTimer t;
    t.start();
    static const QRegularExpression listening(QStringLiteral("listening on http://([^/]+):(\\d+)/sdapi/v1"));
    while (t.elapsed() < 60000 && mPort == 0 && mProcess.state() != QProcess::NotRunning) {
      mProcess.waitForReadyRead(200);
      mOut += mProcess.readAllStandardOutput();
      const auto m = listening.match(QString::fromUtf8(mOut));
      if (m.hasMatch()) mPort = m.captured(2).toUShort();
    }
  }
  ~Server() {
    if (mProcess.state() != QProcess::NotRunning) {
      mProcess.terminate();
      if (!mProcess.waitForFinished(10000)) mProcess.kill();
      mProcess.waitForFinished(5000);
    }
  }
  quint16 port() const { return mPort; }
  QString base() const { return QStringLiteral("http://127.0.0.1:%1").arg(mPort); }
  QByteArray stderrText() {
    mErr += mProcess.readAllStandardError();
    return mErr;
  }
  QProcess& process() { return mProcess; }

 private:
  QProcess mProcess;
  QByteArray mOut, mErr;
  quint16 mPort = 0;
};

QNetworkAccessManager& nam() {
  static QNetworkAccessManager manager;
  return manager;
}

// Starts a request; the reply is read with wait().
QNetworkReply* start(const QString& url, const QByteArray& method, const QByteArray& body = {},
                     const QList<QPair<QByteArray, QByteArray>>& headers = {}) {
  QNetworkRequest request{QUrl(url)};
  bool typed = false;
  for (const auto& [k, v] : headers) {
    request.setRawHeader(k, v);
    typed = typed || k.compare("content-type", Qt::CaseInsensitive) == 0;
  }
  if (!typed && !body.isEmpty()) request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
  request.setTransferTimeout(120000);
  if (method == "GET") return nam().get(request);
  return nam().sendCustomRequest(request, method, body);
}

Response wait(QNetworkReply* reply, int timeoutMs = 120000) {
  if (!reply->isFinished()) {
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
  }
  Response r;
  r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  r.body = reply->readAll();
  r.headers = reply->rawHeaderPairs();
  reply->deleteLater();
  return r;
}

Response call(const QString& url, const QByteArray& method, const QByteArray& body = {},
              const QList<QPair<QByteArray, QByteArray>>& headers = {}) {
  return wait(start(url, method, body, headers));
}

Response postJson(const QString& url, const QJsonObject& body,
                  const QList<QPair<QByteArray, QByteArray>>& headers = {}) {
  return call(url, "POST", QJsonDocument(body).toJson(QJsonDocument::Compact), headers);
}

// Raw bytes to the server (headers a browser would send, which QNetworkAccessManager sets
// itself); returns the status of the answer (0 when none came).
int rawStatus(quint16 port, const QByteArray& request, QByteArray* answer = nullptr, const QByteArray& more = {}) {
  QTcpSocket socket;
  socket.connectToHost(QStringLiteral("127.0.0.1"), port);
  if (!socket.waitForConnected(5000)) return 0;
  socket.write(request);
  if (!more.isEmpty()) socket.write(more);
  socket.flush();
  QByteArray in;
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < 10000) {
    if (!socket.waitForReadyRead(200) && socket.state() != QAbstractSocket::ConnectedState) break;
    in += socket.readAll();
    const qsizetype end = in.indexOf("\r\n\r\n");
    if (end >= 0) {
      static const QRegularExpression length(QStringLiteral("(?i)content-length:\\s*(\\d+)"));
      const auto m = length.match(QString::fromLatin1(in.left(end)));
      if (m.hasMatch() && in.size() >= end + 4 + m.captured(1).toLongLong()) break;
    }
  }
  in += socket.readAll();
  if (answer) *answer = in;
  const QList<QByteArray> first = in.left(in.indexOf("\r\n")).split(' ');
  return first.size() >= 2 ? first.at(1).toInt() : 0;
}

QString pngBase64(const QImage& image) {
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return QString::fromLatin1(png.toBase64());
}

QImage fromBase64(const QJsonValue& v) {
  return QImage::fromData(QByteArray::fromBase64(v.toString().toLatin1()), "PNG");
}

bool sameImage(const QImage& a, const QImage& b) {
  return !a.isNull() && a.convertToFormat(QImage::Format_RGB888) == b.convertToFormat(QImage::Format_RGB888);
}

// Field name -> JSON type, for the schema checks.
using Schema = QList<QPair<QString, QJsonValue::Type>>;

bool matches(const QJsonObject& o, const Schema& schema, bool nullable = false) {
  for (const auto& [key, type] : schema) {
    if (!o.contains(key)) {
      qWarning("missing field %s in %s", qPrintable(key),
               QJsonDocument(o).toJson(QJsonDocument::Compact).left(300).constData());
      return false;
    }
    const QJsonValue::Type got = o.value(key).type();
    if (got != type && !(nullable && got == QJsonValue::Null)) {
      qWarning("field %s has type %d, expected %d", qPrintable(key), int(got), int(type));
      return false;
    }
  }
  return true;
}

QJsonObject tinyRequest(int steps = 3) {
  return QJsonObject{{QStringLiteral("prompt"), QStringLiteral("a photo of a cat")},
                     {QStringLiteral("negative_prompt"), QStringLiteral("blurry")},
                     {QStringLiteral("steps"), steps},
                     {QStringLiteral("width"), 64},
                     {QStringLiteral("height"), 64},
                     {QStringLiteral("seed"), 42},
                     {QStringLiteral("sampler_name"), QStringLiteral("Euler a")},
                     {QStringLiteral("unknown_key_clients_send"), QStringLiteral("ignored")}};
}

}  // namespace

class TestCliServe : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir mDir;
  QString mModels;
  std::unique_ptr<Server> mServer;
  QByteArray mLoraHash;
  QByteArray mEmbeddingHash;
  QString api(const QString& path) const { return mServer->base() + QStringLiteral("/sdapi/v1/") + path; }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(mDir.isValid());
    mModels = mDir.filePath(QStringLiteral("models"));
    QVERIFY(copyTree(tinyModel(), mModels + QStringLiteral("/tiny_sd1")));
    QVERIFY(copyTree(tinyModel(), mModels + QStringLiteral("/other/tiny_b")));
    QVERIFY(copyTree(tinyControlNet(), mModels + QStringLiteral("/ControlNet/control_tiny")));
    QVERIFY(QDir().mkpath(mModels + QStringLiteral("/Lora")));
    mLoraHash = writeTinyLoRA(mModels + QStringLiteral("/Lora/film.safetensors"));
    QVERIFY(!mLoraHash.isEmpty());
    // Textual inversion: two vectors of the tiny text encoder's width, and a file that is none.
    const QString embeddings = mDir.filePath(QStringLiteral("embeddings"));
    QVERIFY(QDir().mkpath(embeddings));
    QVERIFY(!writeF32Safetensors(embeddings + QStringLiteral("/tiemb.safetensors"),
                                 {{QStringLiteral("emb_params"), {2, 32}}}, 0.05)
                 .isEmpty());
    QFile broken(embeddings + QStringLiteral("/broken.pt"));
    QVERIFY(broken.open(QIODevice::WriteOnly) && broken.write("not a tensor file") > 0);
    broken.close();
    QFile tiemb(embeddings + QStringLiteral("/tiemb.safetensors"));
    QVERIFY(tiemb.open(QIODevice::ReadOnly));
    mEmbeddingHash = QCryptographicHash::hash(tiemb.readAll(), QCryptographicHash::Sha256).toHex().left(12);
    mServer = std::make_unique<Server>(
        QStringList{QStringLiteral("--models"), mModels, QStringLiteral("--embeddings"), embeddings});
    QVERIFY2(mServer->port() != 0, mServer->stderrText().constData());
  }

  void cleanupTestCase() {
    if (!mServer) return;
    // Ctrl-C stops it cleanly.
    ::kill(static_cast<pid_t>(mServer->process().processId()), SIGINT);
    QVERIFY(mServer->process().waitForFinished(20000));
    QCOMPARE(mServer->process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(mServer->process().exitCode(), 0);
    QVERIFY(mServer->stderrText().contains("stopped"));
  }

  void listEndpoints() {
    Response r = call(api(QStringLiteral("sd-models")), "GET");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    const QJsonArray models = r.json().toArray();
    QCOMPARE(models.size(), 2);
    QStringList titles;
    for (const QJsonValue& m : models) {
      QVERIFY(matches(m.toObject(), {{QStringLiteral("title"), QJsonValue::String},
                                     {QStringLiteral("model_name"), QJsonValue::String},
                                     {QStringLiteral("filename"), QJsonValue::String}}));
      QVERIFY(matches(m.toObject(),
                      {{QStringLiteral("hash"), QJsonValue::String},
                       {QStringLiteral("sha256"), QJsonValue::String},
                       {QStringLiteral("config"), QJsonValue::String}},
                      true));
      titles << m[QStringLiteral("title")].toString();
    }
    QVERIFY(titles.contains(QStringLiteral("tiny_sd1")));
    QVERIFY(titles.contains(QStringLiteral("other/tiny_b")));

    r = call(api(QStringLiteral("samplers")), "GET");
    QCOMPARE(r.status, 200);
    QStringList samplers;
    for (const QJsonValue& s : r.json().toArray()) {
      QVERIFY(matches(s.toObject(), {{QStringLiteral("name"), QJsonValue::String},
                                     {QStringLiteral("aliases"), QJsonValue::Array},
                                     {QStringLiteral("options"), QJsonValue::Object}}));
      samplers << s[QStringLiteral("name")].toString();
    }
    for (const char* name :
         {"Euler a", "Euler", "DPM++ 2M", "DPM++ 2M Karras", "DDIM", "UniPC", "LMS", "PLMS", "DPM++ 2M SDE",
          "DPM++ 2M SDE Karras", "Heun", "DPM2", "DPM2 a", "DPM2 a Karras", "DEIS", "LCM", "TCD", "Euler a Trailing"})
      QVERIFY2(samplers.contains(QLatin1String(name)), name);

    r = call(api(QStringLiteral("schedulers")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(!r.json().toArray().isEmpty());
    for (const QJsonValue& s : r.json().toArray())
      QVERIFY(matches(s.toObject(),
                      {{QStringLiteral("name"), QJsonValue::String}, {QStringLiteral("label"), QJsonValue::String}}));

    for (const char* path : {"loras", "upscalers", "hypernetworks", "prompt-styles", "face-restorers",
                             "realesrgan-models", "sd-vae", "latent-upscale-modes"}) {
      r = call(api(QLatin1String(path)), "GET");
      QCOMPARE(r.status, 200);
      QVERIFY2(r.json().isArray(), path);
    }
    for (const QJsonValue& u : call(api(QStringLiteral("upscalers")), "GET").json().toArray())
      QVERIFY(matches(u.toObject(), {{QStringLiteral("name"), QJsonValue::String}}));
    for (const QJsonValue& u : call(api(QStringLiteral("latent-upscale-modes")), "GET").json().toArray())
      QVERIFY(matches(u.toObject(), {{QStringLiteral("name"), QJsonValue::String}}));

    r = call(api(QStringLiteral("embeddings")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(),
                    {{QStringLiteral("loaded"), QJsonValue::Object}, {QStringLiteral("skipped"), QJsonValue::Object}}));
    const QJsonObject tiemb = r.object()[QStringLiteral("loaded")][QStringLiteral("tiemb")].toObject();
    QVERIFY(matches(tiemb,
                    {{QStringLiteral("shape"), QJsonValue::Double}, {QStringLiteral("vectors"), QJsonValue::Double}}));
    QCOMPARE(tiemb[QStringLiteral("shape")].toInt(), 32);
    QCOMPARE(tiemb[QStringLiteral("vectors")].toInt(), 2);
    QVERIFY(r.object()[QStringLiteral("skipped")].toObject().contains(QStringLiteral("broken")));
    r = call(api(QStringLiteral("scripts")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(),
                    {{QStringLiteral("txt2img"), QJsonValue::Array}, {QStringLiteral("img2img"), QJsonValue::Array}}));

    r = call(api(QStringLiteral("memory")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(),
                    {{QStringLiteral("ram"), QJsonValue::Object}, {QStringLiteral("cuda"), QJsonValue::Object}}));
    QVERIFY(matches(r.object()[QStringLiteral("ram")].toObject(), {{QStringLiteral("free"), QJsonValue::Double},
                                                                   {QStringLiteral("used"), QJsonValue::Double},
                                                                   {QStringLiteral("total"), QJsonValue::Double}}));
    QVERIFY(r.object()[QStringLiteral("ram")][QStringLiteral("total")].toDouble() > 0);

    r = call(api(QStringLiteral("cmd-flags")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(r.json().isObject());
    QVERIFY(r.object()[QStringLiteral("api_auth")].isNull());

    r = call(api(QStringLiteral("options")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(), {{QStringLiteral("sd_model_checkpoint"), QJsonValue::String},
                                 {QStringLiteral("CLIP_stop_at_last_layers"), QJsonValue::Double}}));

    r = postJson(api(QStringLiteral("refresh-checkpoints")), {});
    QCOMPARE(r.status, 200);
    QVERIFY(r.json().isObject());
    r = call(api(QStringLiteral("refresh-checkpoints")), "POST");  // no body at all, as webuiapi sends it
    QCOMPARE(r.status, 200);

    r = call(mServer->base() + QStringLiteral("/internal/ping"), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(r.json().isObject());
    r = call(api(QStringLiteral("nothing-here")), "GET");
    QCOMPARE(r.status, 404);
    QVERIFY(r.object().contains(QStringLiteral("detail")));
    r = call(api(QStringLiteral("txt2img")), "GET");
    QCOMPARE(r.status, 405);
  }

  void txt2imgSeedsAndSchema() {
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("batch_size"), 2);
    body.insert(QStringLiteral("n_iter"), 2);
    body.insert(QStringLiteral("sampler_name"), QStringLiteral("DPM++ 2M Karras"));
    Response r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(), {{QStringLiteral("images"), QJsonValue::Array},
                                 {QStringLiteral("parameters"), QJsonValue::Object},
                                 {QStringLiteral("info"), QJsonValue::String}}));
    const QJsonArray images = r.object()[QStringLiteral("images")].toArray();
    QCOMPARE(images.size(), 4);
    const QJsonObject parameters = r.object()[QStringLiteral("parameters")].toObject();
    QCOMPARE(parameters[QStringLiteral("prompt")].toString(), QStringLiteral("a photo of a cat"));
    QCOMPARE(parameters[QStringLiteral("batch_size")].toInt(), 2);
    const QJsonObject info = QJsonDocument::fromJson(r.object()[QStringLiteral("info")].toString().toUtf8()).object();
    QVERIFY(matches(info, {{QStringLiteral("prompt"), QJsonValue::String},
                           {QStringLiteral("negative_prompt"), QJsonValue::String},
                           {QStringLiteral("seed"), QJsonValue::Double},
                           {QStringLiteral("all_seeds"), QJsonValue::Array},
                           {QStringLiteral("subseed"), QJsonValue::Double},
                           {QStringLiteral("all_subseeds"), QJsonValue::Array},
                           {QStringLiteral("all_prompts"), QJsonValue::Array},
                           {QStringLiteral("width"), QJsonValue::Double},
                           {QStringLiteral("height"), QJsonValue::Double},
                           {QStringLiteral("sampler_name"), QJsonValue::String},
                           {QStringLiteral("cfg_scale"), QJsonValue::Double},
                           {QStringLiteral("steps"), QJsonValue::Double},
                           {QStringLiteral("batch_size"), QJsonValue::Double},
                           {QStringLiteral("sd_model_name"), QJsonValue::String},
                           {QStringLiteral("infotexts"), QJsonValue::Array},
                           {QStringLiteral("job_timestamp"), QJsonValue::String},
                           {QStringLiteral("clip_skip"), QJsonValue::Double},
                           {QStringLiteral("index_of_first_image"), QJsonValue::Double}}));
    QCOMPARE(info[QStringLiteral("seed")].toInteger(), 42);
    QCOMPARE(info[QStringLiteral("all_seeds")].toArray(), (QJsonArray{42, 43, 44, 45}));
    QCOMPARE(info[QStringLiteral("sampler_name")].toString(), QStringLiteral("DPM++ 2M Karras"));
    const QJsonArray infotexts = info[QStringLiteral("infotexts")].toArray();
    QCOMPARE(infotexts.size(), 4);
    QVERIFY(infotexts[2].toString().contains(QLatin1String("Seed: 44,")));
    QVERIFY(infotexts[3].toString().contains(QLatin1String("Batch pos: 1")));
    // Every image is a PNG carrying its own parameters.
    QList<QImage> decoded;
    for (int i = 0; i < 4; ++i) {
      const QByteArray png = QByteArray::fromBase64(images[i].toString().toLatin1());
      QVERIFY(png.startsWith("\x89PNG"));
      // Before the image data, where PIL (A1111, its clients) reads it without decoding.
      QVERIFY(png.indexOf("parameters") > 0 && png.indexOf("parameters") < png.indexOf("IDAT"));
      QImage image = QImage::fromData(png, "PNG");
      QCOMPARE(image.size(), QSize(64, 64));
      QCOMPARE(image.text(QStringLiteral("parameters")), infotexts[i].toString());
      decoded << image;
    }
    QVERIFY(!sameImage(decoded[0], decoded[1]));  // each image has its own noise

    // Any image comes back alone from its seed.
    body = tinyRequest();
    body.insert(QStringLiteral("sampler_name"), QStringLiteral("DPM++ 2M"));
    body.insert(QStringLiteral("scheduler"), QStringLiteral("Karras"));
    body.insert(QStringLiteral("seed"), 44);
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QVERIFY(sameImage(fromBase64(r.object()[QStringLiteral("images")][0]), decoded[2]));

    // A1111 1.9+ sends the sigma schedule apart: "DPM++ 2M SDE" + "Karras" is DPM++ 2M SDE Karras.
    body.insert(QStringLiteral("sampler_name"), QStringLiteral("DPM++ 2M SDE"));
    body.insert(QStringLiteral("steps"), 3);
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(QJsonDocument::fromJson(r.object()[QStringLiteral("info")].toString().toUtf8())
                 .object()[QStringLiteral("sampler_name")]
                 .toString(),
             QStringLiteral("DPM++ 2M SDE Karras"));

    // seed -1: the seed drawn is reported.
    body.insert(QStringLiteral("seed"), -1);
    body.insert(QStringLiteral("send_images"), false);
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("images")].toArray().size(), 0);
    const QJsonObject drawn = QJsonDocument::fromJson(r.object()[QStringLiteral("info")].toString().toUtf8()).object();
    const qint64 seed = drawn[QStringLiteral("seed")].toInteger(-1);
    QVERIFY(seed >= 0 && seed < 4294967295LL);
    QCOMPARE(drawn[QStringLiteral("all_seeds")][0].toInteger(), seed);
    QVERIFY(drawn[QStringLiteral("infotexts")][0].toString().contains(QStringLiteral("Seed: %1,").arg(seed)));
  }

  void loras() {
    Response r = call(api(QStringLiteral("loras")), "GET");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().toArray().size(), 1);
    const QJsonObject lora = r.json().toArray().at(0).toObject();
    QVERIFY(matches(lora, {{QStringLiteral("name"), QJsonValue::String},
                           {QStringLiteral("alias"), QJsonValue::String},
                           {QStringLiteral("path"), QJsonValue::String},
                           {QStringLiteral("metadata"), QJsonValue::Object}}));
    QCOMPARE(lora[QStringLiteral("name")].toString(), QStringLiteral("film"));

    const QImage plain =
        fromBase64(postJson(api(QStringLiteral("txt2img")), tinyRequest()).object()[QStringLiteral("images")][0]);
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("prompt"), QStringLiteral("a photo of a cat <lora:film:0.8>"));
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    const QImage styled = fromBase64(r.object()[QStringLiteral("images")][0]);
    QVERIFY(!sameImage(styled, plain));
    const QString infotext = styled.text(QStringLiteral("parameters"));
    QVERIFY2(infotext.startsWith(QLatin1String("a photo of a cat <lora:film:0.8>\n")), qPrintable(infotext));
    QVERIFY2(
        infotext.contains(QStringLiteral("Lora hashes: \"film: %1\"").arg(QString::fromLatin1(mLoraHash.left(12)))),
        qPrintable(infotext));
    // A tag naming no LoRA here is ignored, as A1111 does: the image is the plain one.
    body.insert(QStringLiteral("prompt"), QStringLiteral("a photo of a cat <lora:not_here:1>"));
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QVERIFY(sameImage(fromBase64(r.object()[QStringLiteral("images")][0]), plain));
  }

  void hiresFix() {
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("enable_hr"), true);
    body.insert(QStringLiteral("hr_scale"), 1.5);
    body.insert(QStringLiteral("hr_upscaler"), QStringLiteral("Latent"));
    body.insert(QStringLiteral("hr_second_pass_steps"), 2);
    body.insert(QStringLiteral("denoising_strength"), 0.6);
    Response r = postJson(api(QStringLiteral("txt2img")), body);
    QVERIFY2(r.status == 200, r.body.constData());
    const QImage image = fromBase64(r.object()[QStringLiteral("images")][0]);
    QCOMPARE(image.size(), QSize(96, 96));
    const QString infotext = image.text(QStringLiteral("parameters"));
    QVERIFY2(infotext.contains(QLatin1String("Hires upscale: 1.5")) &&
                 infotext.contains(QLatin1String("Hires steps: 2")) &&
                 infotext.contains(QLatin1String("Denoising strength: 0.6")),
             qPrintable(infotext));
    body.insert(QStringLiteral("hr_upscaler"), QStringLiteral("R-ESRGAN 4x+"));
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 422);
    QVERIFY(r.object()[QStringLiteral("detail")].toString().contains(QLatin1String("Lanczos")));
  }

  void textualInversion() {
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("prompt"), QStringLiteral("a photo of a cat, tiemb"));
    const Response r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    const QString infotext = fromBase64(r.object()[QStringLiteral("images")][0]).text(QStringLiteral("parameters"));
    QVERIFY2(infotext.contains(QStringLiteral("TI hashes: \"tiemb: %1\"").arg(QString::fromLatin1(mEmbeddingHash))),
             qPrintable(infotext));
  }

  void samplerErrors() {
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("sampler_name"), QStringLiteral("Heun++ 9000"));
    Response r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 422);
    QVERIFY(r.object()[QStringLiteral("detail")].toString().contains(QLatin1String("DPM++ 2M Karras")));
    body.insert(QStringLiteral("sampler_name"), QStringLiteral("Euler"));
    body.insert(QStringLiteral("scheduler"), QStringLiteral("Karras"));
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 422);
    body.insert(QStringLiteral("scheduler"), QStringLiteral("Automatic"));
    body.insert(QStringLiteral("steps"), 100000);
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 422);
    QCOMPARE(call(api(QStringLiteral("txt2img")), "POST", "{not json").status, 422);
    // fuzz_api_request's finding: a seed beyond 2^63 - 1 was cast as it stood.
    body = tinyRequest();
    body.insert(QStringLiteral("seed"), 1e19);
    Response big = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(big.status, 422);
    QVERIFY(big.object()[QStringLiteral("detail")].toString().contains(QLatin1String("9223372036854775807")));
    body = tinyRequest();
    body.insert(QStringLiteral("script_name"), QStringLiteral("x/y/z plot"));
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 422);
    body.insert(QStringLiteral("script_name"), QJsonValue::Null);  // what clients send without a script
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 200);
  }

  void img2imgWithMask() {
    QImage init(64, 64, QImage::Format_RGB888);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) init.setPixelColor(x, y, QColor(4 * x, 4 * y, 128));
    QImage mask(64, 64, QImage::Format_Grayscale8);
    mask.fill(0);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 32; ++x) mask.setPixel(x, y, qRgb(255, 255, 255));
    QJsonObject body = tinyRequest(4);
    body.insert(QStringLiteral("init_images"), QJsonArray{QStringLiteral("data:image/png;base64,") + pngBase64(init)});
    body.insert(QStringLiteral("mask"), pngBase64(mask));
    body.insert(QStringLiteral("mask_blur"), 0);
    body.insert(QStringLiteral("denoising_strength"), 0.9);
    Response r = postJson(api(QStringLiteral("img2img")), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("images")].toArray().size(), 1);
    QVERIFY(r.object()[QStringLiteral("parameters")][QStringLiteral("init_images")].isNull());
    const QJsonObject info = QJsonDocument::fromJson(r.object()[QStringLiteral("info")].toString().toUtf8()).object();
    QCOMPARE(info[QStringLiteral("denoising_strength")].toDouble(), 0.9);
    QVERIFY(info[QStringLiteral("infotexts")][0].toString().contains(QLatin1String("Denoising strength: 0.9")));
    auto keptHalf = [&](const QImage& out, bool right) {
      const QImage a = out.convertToFormat(QImage::Format_RGB888), b = init;
      int worst = 0;
      for (int y = 0; y < 64; ++y)
        for (int x = right ? 40 : 0; x < (right ? 64 : 24); ++x) {
          const QColor p = a.pixelColor(x, y), q = b.pixelColor(x, y);
          worst = std::max(
              {worst, std::abs(p.red() - q.red()), std::abs(p.green() - q.green()), std::abs(p.blue() - q.blue())});
        }
      return worst;
    };
    const QImage masked = fromBase64(r.object()[QStringLiteral("images")][0]);
    QCOMPARE(masked.size(), QSize(64, 64));
    QVERIFY(keptHalf(masked, true) <= 1);  // outside the mask: the input image
    QVERIFY(keptHalf(masked, false) > 8);  // inside: repainted
    body.insert(QStringLiteral("inpainting_mask_invert"), 1);
    r = postJson(api(QStringLiteral("img2img")), body);
    QCOMPARE(r.status, 200);
    const QImage inverted = fromBase64(r.object()[QStringLiteral("images")][0]);
    QVERIFY(keptHalf(inverted, false) <= 1);
    QVERIFY(keptHalf(inverted, true) > 8);

    body.remove(QStringLiteral("init_images"));
    QCOMPARE(postJson(api(QStringLiteral("img2img")), body).status, 422);
  }

  void pngInfo() {
    Response r = postJson(api(QStringLiteral("txt2img")), tinyRequest());
    QCOMPARE(r.status, 200);
    r = postJson(api(QStringLiteral("png-info")), {{QStringLiteral("image"), r.object()[QStringLiteral("images")][0]}});
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(), {{QStringLiteral("info"), QJsonValue::String},
                                 {QStringLiteral("items"), QJsonValue::Object},
                                 {QStringLiteral("parameters"), QJsonValue::Object}}));
    QVERIFY(r.object()[QStringLiteral("info")].toString().startsWith(
        QLatin1String("a photo of a cat\nNegative prompt: blurry\n")));
    const QJsonObject p = r.object()[QStringLiteral("parameters")].toObject();
    QCOMPARE(p[QStringLiteral("Prompt")].toString(), QStringLiteral("a photo of a cat"));
    QCOMPARE(p[QStringLiteral("Negative prompt")].toString(), QStringLiteral("blurry"));
    QCOMPARE(p[QStringLiteral("Seed")].toString(), QStringLiteral("42"));
    QCOMPARE(p[QStringLiteral("Sampler")].toString(), QStringLiteral("Euler a"));
    QCOMPARE(p[QStringLiteral("Size-1")].toString(), QStringLiteral("64"));
    QCOMPARE(p[QStringLiteral("Size-2")].toString(), QStringLiteral("64"));
    // A PNG without parameters: empty info.
    r = postJson(api(QStringLiteral("png-info")),
                 {{QStringLiteral("image"), pngBase64(QImage(8, 8, QImage::Format_RGB888))}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("info")].toString(), QString());
  }

  void optionsSwitchModel() {
    Response r = postJson(api(QStringLiteral("options")),
                          {{QStringLiteral("sd_model_checkpoint"), QStringLiteral("other/tiny_b")},
                           {QStringLiteral("some_setting_kiln_lacks"), 3},
                           {QStringLiteral("outdir_samples"), mDir.filePath(QStringLiteral("elsewhere"))}});
    QCOMPARE(r.status, 200);
    QVERIFY(r.json().isObject());
    r = call(api(QStringLiteral("options")), "GET");
    QVERIFY(r.object()[QStringLiteral("sd_model_checkpoint")].toString().startsWith(QLatin1String("other/tiny_b")));
    QVERIFY(!r.object().contains(QStringLiteral("some_setting_kiln_lacks")));
    r = postJson(api(QStringLiteral("txt2img")), tinyRequest());
    QCOMPARE(r.status, 200);
    QJsonObject info = QJsonDocument::fromJson(r.object()[QStringLiteral("info")].toString().toUtf8()).object();
    QCOMPARE(info[QStringLiteral("sd_model_name")].toString(), QStringLiteral("tiny_b"));
    QVERIFY(info[QStringLiteral("infotexts")][0].toString().contains(QLatin1String("Model: tiny_b")));
    // Once used, the model has its hash: sd-models and options show it.
    r = call(api(QStringLiteral("options")), "GET");
    QVERIFY(r.object()[QStringLiteral("sd_model_checkpoint")].toString().contains(
        QRegularExpression(QStringLiteral("\\[[0-9a-f]{10}\\]$"))));
    const QString title = r.object()[QStringLiteral("sd_model_checkpoint")].toString();
    bool listed = false;
    for (const QJsonValue& m : call(api(QStringLiteral("sd-models")), "GET").json().toArray())
      listed = listed ||
               (m[QStringLiteral("title")].toString() == title && m[QStringLiteral("sha256")].toString().size() == 64);
    QVERIFY(listed);
    QVERIFY(!QDir(mDir.filePath(QStringLiteral("elsewhere"))).exists());

    // override_settings: this request only.
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("override_settings"),
                QJsonObject{{QStringLiteral("sd_model_checkpoint"), QStringLiteral("tiny_sd1")}});
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    info = QJsonDocument::fromJson(r.object()[QStringLiteral("info")].toString().toUtf8()).object();
    QCOMPARE(info[QStringLiteral("sd_model_name")].toString(), QStringLiteral("tiny_sd1"));
    body.insert(QStringLiteral("override_settings"),
                QJsonObject{{QStringLiteral("sd_model_checkpoint"), QStringLiteral("nope")}});
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 404);
    QCOMPARE(postJson(api(QStringLiteral("options")), {{QStringLiteral("sd_model_checkpoint"), QStringLiteral("nope")}})
                 .status,
             404);
    // What GET gave, posted back whole: accepted, nothing changes.
    const QJsonObject options = call(api(QStringLiteral("options")), "GET").object();
    QCOMPARE(postJson(api(QStringLiteral("options")), options).status, 200);
    QCOMPARE(call(api(QStringLiteral("options")), "GET").object(), options);
    QCOMPARE(
        postJson(api(QStringLiteral("options")), {{QStringLiteral("sd_model_checkpoint"), QStringLiteral("tiny_sd1")}})
            .status,
        200);
  }

  void progressAndInterrupt() {
    // Idle: nothing running.
    Response r = call(api(QStringLiteral("progress")), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(), {{QStringLiteral("progress"), QJsonValue::Double},
                                 {QStringLiteral("eta_relative"), QJsonValue::Double},
                                 {QStringLiteral("state"), QJsonValue::Object}}));
    QVERIFY(r.object().contains(QStringLiteral("current_image")));
    const Schema state{
        {QStringLiteral("job_count"), QJsonValue::Double},     {QStringLiteral("job_no"), QJsonValue::Double},
        {QStringLiteral("sampling_step"), QJsonValue::Double}, {QStringLiteral("sampling_steps"), QJsonValue::Double},
        {QStringLiteral("interrupted"), QJsonValue::Bool},     {QStringLiteral("skipped"), QJsonValue::Bool},
        {QStringLiteral("job"), QJsonValue::String},           {QStringLiteral("job_timestamp"), QJsonValue::String}};
    QVERIFY(matches(r.object()[QStringLiteral("state")].toObject(), state));
    QCOMPARE(r.object()[QStringLiteral("state")][QStringLiteral("job_count")].toInt(), 0);

    // A long job: many steps, several images.
    QJsonObject body = tinyRequest(400);
    body.insert(QStringLiteral("width"), 128);
    body.insert(QStringLiteral("height"), 128);
    body.insert(QStringLiteral("n_iter"), 3);
    QNetworkReply* running = start(api(QStringLiteral("txt2img")), "POST", QJsonDocument(body).toJson());
    QElapsedTimer t;
    t.start();
    bool sampling = false, previewSeen = false;
    while (t.elapsed() < 60000 && !running->isFinished()) {
      QElapsedTimer answer;
      answer.start();
      r = call(api(QStringLiteral("progress")), "GET");
      QVERIFY2(answer.elapsed() < 1000, qPrintable(QStringLiteral("progress took %1 ms").arg(answer.elapsed())));
      QCOMPARE(r.status, 200);
      QVERIFY(matches(r.object()[QStringLiteral("state")].toObject(), state));
      const QJsonObject s = r.object()[QStringLiteral("state")].toObject();
      if (s[QStringLiteral("sampling_step")].toInt() > 0) {
        sampling = true;
        QCOMPARE(s[QStringLiteral("job_count")].toInt(), 3);
        QCOMPARE(s[QStringLiteral("sampling_steps")].toInt(), 400);
        QVERIFY(r.object()[QStringLiteral("progress")].toDouble() > 0);
        if (r.object()[QStringLiteral("current_image")].isString()) {
          previewSeen = !fromBase64(r.object()[QStringLiteral("current_image")]).isNull();
          // skip_current_image leaves it out.
          QVERIFY(call(api(QStringLiteral("progress?skip_current_image=true")), "GET")
                      .object()[QStringLiteral("current_image")]
                      .isNull());
        }
        if (previewSeen) break;
      }
      QTest::qWait(30);
    }
    QVERIFY2(sampling, "the job never reported a sampling step");
    QVERIFY(previewSeen);
    QVERIFY(!running->isFinished());
    // A second request waits in the queue meanwhile.
    QNetworkReply* queued = start(api(QStringLiteral("txt2img")), "POST", QJsonDocument(tinyRequest()).toJson());
    QElapsedTimer answer;
    answer.start();
    r = postJson(api(QStringLiteral("interrupt")), {});
    QVERIFY(answer.elapsed() < 1000);
    QCOMPARE(r.status, 200);
    QVERIFY(r.json().isObject());
    const Response interrupted = wait(running, 30000);
    QCOMPARE(interrupted.status, 200);
    const QJsonObject info =
        QJsonDocument::fromJson(interrupted.object()[QStringLiteral("info")].toString().toUtf8()).object();
    QVERIFY(interrupted.object()[QStringLiteral("images")].toArray().size() < 3);
    QCOMPARE(info[QStringLiteral("all_seeds")].toArray().size(), 3);
    // The queued request still runs, to the end.
    const Response next = wait(queued, 60000);
    QCOMPARE(next.status, 200);
    QCOMPARE(next.object()[QStringLiteral("images")].toArray().size(), 1);
    r = call(api(QStringLiteral("progress")), "GET");
    QCOMPARE(r.object()[QStringLiteral("state")][QStringLiteral("job_count")].toInt(), 0);

    // skip: the image being made is dropped, the next one is made.
    body = tinyRequest(150);  // long enough that the skip lands in the first image, even on a loaded machine
    body.insert(QStringLiteral("n_iter"), 2);
    running = start(api(QStringLiteral("txt2img")), "POST", QJsonDocument(body).toJson());
    t.restart();
    while (t.elapsed() < 60000 && !running->isFinished()) {
      if (call(api(QStringLiteral("progress")), "GET")
              .object()[QStringLiteral("state")][QStringLiteral("sampling_step")]
              .toInt() > 0)
        break;
      QTest::qWait(20);
    }
    r = postJson(api(QStringLiteral("skip")), {});
    QCOMPARE(r.status, 200);
    QVERIFY(r.json().isObject());
    const Response skipped = wait(running, 60000);
    QCOMPARE(skipped.status, 200);
    QCOMPARE(skipped.object()[QStringLiteral("images")].toArray().size(), 1);
    QVERIFY(QJsonDocument::fromJson(skipped.object()[QStringLiteral("info")].toString().toUtf8())
                .object()[QStringLiteral("infotexts")][0]
                .toString()
                .contains(QLatin1String("Seed: 43,")));
    // A client that hangs up stops its request.
    body = tinyRequest(400);
    body.insert(QStringLiteral("width"), 128);
    body.insert(QStringLiteral("height"), 128);
    running = start(api(QStringLiteral("txt2img")), "POST", QJsonDocument(body).toJson());
    t.restart();
    while (t.elapsed() < 60000) {
      if (call(api(QStringLiteral("progress")), "GET")
              .object()[QStringLiteral("state")][QStringLiteral("sampling_step")]
              .toInt() > 0)
        break;
      QTest::qWait(20);
    }
    running->abort();
    running->deleteLater();
    t.restart();
    bool stopped = false;
    while (t.elapsed() < 15000 && !stopped) {
      stopped = call(api(QStringLiteral("progress")), "GET")
                    .object()[QStringLiteral("state")][QStringLiteral("job_count")]
                    .toInt() == 0;
      QTest::qWait(50);
    }
    QVERIFY(stopped);
    // Idle interrupt and skip answer too.
    QCOMPARE(postJson(api(QStringLiteral("interrupt")), {}).status, 200);
    QCOMPARE(call(api(QStringLiteral("skip")), "POST").status, 200);
  }

  void controlNet() {
    Response r = call(mServer->base() + QStringLiteral("/controlnet/version"), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(r.object()[QStringLiteral("version")].isDouble());
    r = call(mServer->base() + QStringLiteral("/controlnet/model_list"), "GET");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("model_list")].toArray(), QJsonArray{QStringLiteral("control_tiny [fea4b5d4]")});
    r = call(mServer->base() + QStringLiteral("/controlnet/module_list"), "GET");
    QCOMPARE(r.status, 200);
    QVERIFY(matches(r.object(), {{QStringLiteral("module_list"), QJsonValue::Array},
                                 {QStringLiteral("module_detail"), QJsonValue::Object}}));
    QVERIFY(r.object()[QStringLiteral("module_list")].toArray().contains(QStringLiteral("canny")));
    QVERIFY(r.object()[QStringLiteral("module_list")].toArray().contains(QStringLiteral("none")));
    QVERIFY(
        matches(r.object()[QStringLiteral("module_detail")][QStringLiteral("canny")].toObject(),
                {{QStringLiteral("sliders"), QJsonValue::Array}, {QStringLiteral("model_free"), QJsonValue::Bool}}));

    QImage picture(64, 64, QImage::Format_RGB888);
    picture.fill(Qt::white);
    for (int y = 16; y < 48; ++y)
      for (int x = 16; x < 48; ++x) picture.setPixelColor(x, y, Qt::black);
    r = postJson(mServer->base() + QStringLiteral("/controlnet/detect"),
                 {{QStringLiteral("controlnet_module"), QStringLiteral("canny")},
                  {QStringLiteral("controlnet_input_images"), QJsonArray{pngBase64(picture)}},
                  {QStringLiteral("controlnet_processor_res"), 64},
                  {QStringLiteral("controlnet_threshold_a"), 100},
                  {QStringLiteral("controlnet_threshold_b"), 200}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("info")].toString(), QStringLiteral("Success"));
    const QImage edges = fromBase64(r.object()[QStringLiteral("images")][0]);
    QVERIFY(!edges.isNull());
    int white = 0;
    for (int y = 0; y < edges.height(); ++y)
      for (int x = 0; x < edges.width(); ++x) white += edges.pixelColor(x, y).red() > 128;
    // The square's outline, not its inside.
    QVERIFY2(white > 40 && edges.pixelColor(edges.width() / 2, edges.height() / 2).red() < 128,
             qPrintable(QStringLiteral("%1 white pixels of %2x%3").arg(white).arg(edges.width()).arg(edges.height())));
    QCOMPARE(postJson(mServer->base() + QStringLiteral("/controlnet/detect"),
                      {{QStringLiteral("controlnet_module"), QStringLiteral("no_such_module")},
                       {QStringLiteral("controlnet_input_images"), QJsonArray{pngBase64(picture)}}})
                 .status,
             422);

    // A unit in txt2img: its map is appended after the images, and the PNG records the unit.
    QJsonObject unit{{QStringLiteral("image"), pngBase64(picture)},
                     {QStringLiteral("module"), QStringLiteral("canny")},
                     {QStringLiteral("model"), QStringLiteral("control_tiny [fea4b5d4]")},
                     {QStringLiteral("weight"), 0.8},
                     {QStringLiteral("threshold_a"), 64},
                     {QStringLiteral("threshold_b"), 64},
                     {QStringLiteral("processor_res"), 64},
                     {QStringLiteral("control_mode"), 1}};
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("alwayson_scripts"),
                QJsonObject{{QStringLiteral("ControlNet"), QJsonObject{{QStringLiteral("args"), QJsonArray{unit}}}}});
    r = postJson(api(QStringLiteral("txt2img")), body);
    QVERIFY2(r.status == 200, r.body.constData());
    const QJsonArray images = r.object()[QStringLiteral("images")].toArray();
    QCOMPARE(images.size(), 2);
    const QString infotext = fromBase64(images[0]).text(QStringLiteral("parameters"));
    QVERIFY2(
        infotext.contains(QLatin1String("ControlNet 0: \"Module: canny, Model: control_tiny [fea4b5d4], Weight: 0.8")),
        qPrintable(infotext));
    QVERIFY(infotext.contains(QLatin1String("Control Mode: My prompt is more important")));
    QVERIFY(fromBase64(images[1]).text(QStringLiteral("parameters")).isEmpty());  // the detected map
    QCOMPARE(fromBase64(images[1]).size(), QSize(64, 64));
    const QImage plain =
        fromBase64(postJson(api(QStringLiteral("txt2img")), tinyRequest()).object()[QStringLiteral("images")][0]);
    QVERIFY(!sameImage(fromBase64(images[0]), plain));  // the unit changed the image

    unit.insert(QStringLiteral("save_detected_map"), false);
    body.insert(QStringLiteral("alwayson_scripts"),
                QJsonObject{{QStringLiteral("controlnet"), QJsonObject{{QStringLiteral("args"), QJsonArray{unit}}}}});
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("images")].toArray().size(), 1);
    // A disabled unit, or one without model, does nothing.
    unit.insert(QStringLiteral("enabled"), false);
    body.insert(QStringLiteral("alwayson_scripts"),
                QJsonObject{{QStringLiteral("controlnet"), QJsonObject{{QStringLiteral("args"), QJsonArray{unit}}}}});
    r = postJson(api(QStringLiteral("txt2img")), body);
    QCOMPARE(r.status, 200);
    QVERIFY(sameImage(fromBase64(r.object()[QStringLiteral("images")][0]), plain));
    // Refusals before any work.
    unit.insert(QStringLiteral("enabled"), true);
    unit.insert(QStringLiteral("model"), QStringLiteral("control_missing [00000000]"));
    body.insert(QStringLiteral("alwayson_scripts"),
                QJsonObject{{QStringLiteral("controlnet"), QJsonObject{{QStringLiteral("args"), QJsonArray{unit}}}}});
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 422);
    unit.insert(QStringLiteral("model"), QStringLiteral("control_tiny"));
    unit.insert(QStringLiteral("image"), QStringLiteral("http://example.com/pose.png"));
    body.insert(QStringLiteral("alwayson_scripts"),
                QJsonObject{{QStringLiteral("controlnet"), QJsonObject{{QStringLiteral("args"), QJsonArray{unit}}}}});
    QCOMPARE(postJson(api(QStringLiteral("txt2img")), body).status, 422);

    // img2img: a unit without image uses the init image.
    unit.remove(QStringLiteral("image"));
    unit.insert(QStringLiteral("module"), QStringLiteral("none"));
    unit.insert(QStringLiteral("save_detected_map"), true);
    body.insert(QStringLiteral("alwayson_scripts"),
                QJsonObject{{QStringLiteral("controlnet"), QJsonObject{{QStringLiteral("args"), QJsonArray{unit}}}}});
    body.insert(QStringLiteral("init_images"), QJsonArray{pngBase64(picture)});
    r = postJson(api(QStringLiteral("img2img")), body);
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.object()[QStringLiteral("images")].toArray().size(), 2);  // the map of module none: the input, fitted
    QCOMPARE(fromBase64(r.object()[QStringLiteral("images")][1]).size(), QSize(64, 64));
    QVERIFY(fromBase64(r.object()[QStringLiteral("images")][0])
                .text(QStringLiteral("parameters"))
                .contains(QLatin1String("ControlNet 0: \"Module: none, Model: control_tiny [fea4b5d4]")));
  }

  void onlyBase64Images() {
    QJsonObject body = tinyRequest();
    const QList<QPair<QString, QString>> probes{
        {QStringLiteral("http://127.0.0.1:1/cat.png"), QStringLiteral("never fetched")},
        {QStringLiteral("https://example.com/cat.png"), QStringLiteral("never fetched")},
        {QStringLiteral("file:///etc/passwd"), QStringLiteral("never fetched")},
        {QStringLiteral("/tmp/cat.png"), QStringLiteral("never opened")},
        {QStringLiteral("C:\\images\\cat.png"), QStringLiteral("never opened")},
        {QStringLiteral("/etc/passwd"), QStringLiteral("init_images[0]")},
        {QStringLiteral("data:image/png,notbase64"), QStringLiteral("base64")},
    };
    for (const auto& [value, word] : probes) {
      body.insert(QStringLiteral("init_images"), QJsonArray{value});
      const Response r = postJson(api(QStringLiteral("img2img")), body);
      QCOMPARE(r.status, 422);
      QVERIFY2(r.object()[QStringLiteral("detail")].toString().contains(word),
               qPrintable(value + QStringLiteral(": ") + r.body));
    }
    // png-info and mask follow the same rule.
    QCOMPARE(
        postJson(api(QStringLiteral("png-info")), {{QStringLiteral("image"), QStringLiteral("/etc/hostname")}}).status,
        422);
    body.insert(QStringLiteral("init_images"), QJsonArray{pngBase64(QImage(64, 64, QImage::Format_RGB888))});
    body.insert(QStringLiteral("mask"), QStringLiteral("http://example.com/mask.png"));
    QCOMPARE(postJson(api(QStringLiteral("img2img")), body).status, 422);
    // Image size limit.
    QImage huge(9000, 8, QImage::Format_Grayscale8);
    huge.fill(0);
    body.remove(QStringLiteral("mask"));
    body.insert(QStringLiteral("init_images"), QJsonArray{pngBase64(huge)});
    const Response r = postJson(api(QStringLiteral("img2img")), body);
    QCOMPARE(r.status, 422);
    QVERIFY(r.object()[QStringLiteral("detail")].toString().contains(QLatin1String("9000x8")));
  }

  void hostileImageContainers() {
    // fuzz_api_request's finding: a 92-byte PNG whose chunk after IHDR claims 1.7 GB made libpng
    // (under QImageReader::size) allocate 1.7 GB; Kiln walks the chunks first and refuses it.
    QFile file(QStringLiteral(KILN_TEST_DATA "/fuzz_regressions/api_png_chunk_1_7gb.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject hostile = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(!hostile.isEmpty());
    QJsonObject body = tinyRequest();
    body.insert(QStringLiteral("init_images"), hostile[QStringLiteral("init_images")]);
    Response r = postJson(api(QStringLiteral("img2img")), body);
    QCOMPARE(r.status, 422);
    QString detail = r.object()[QStringLiteral("detail")].toString();
    QVERIFY2(detail.startsWith(QLatin1String("init_images[0]: ")) && detail.contains(QLatin1String("PNG")),
             qPrintable(detail));
    r = postJson(api(QStringLiteral("png-info")), {{QStringLiteral("image"), hostile[QStringLiteral("mask")]}});
    QCOMPARE(r.status, 422);
    QVERIFY2(r.object()[QStringLiteral("detail")].toString().contains(QLatin1String("PNG")), qPrintable(r.body));
    // A PNG cut short and bytes of no known format are refused by name too; a whole PNG still works.
    const QByteArray whole = QByteArray::fromBase64(pngBase64(QImage(64, 64, QImage::Format_RGB888)).toLatin1());
    body.insert(QStringLiteral("init_images"), QJsonArray{QString::fromLatin1(whole.left(whole.size() - 12).toBase64())});
    r = postJson(api(QStringLiteral("img2img")), body);
    QCOMPARE(r.status, 422);
    QVERIFY2(r.object()[QStringLiteral("detail")].toString().contains(QLatin1String("truncated PNG")), qPrintable(r.body));
    body.insert(QStringLiteral("init_images"), QJsonArray{QString::fromLatin1(QByteArray("GIF89a....").toBase64())});
    r = postJson(api(QStringLiteral("img2img")), body);
    QCOMPARE(r.status, 422);
    QVERIFY2(r.object()[QStringLiteral("detail")].toString().contains(QLatin1String("not a supported image")),
             qPrintable(r.body));
    body.insert(QStringLiteral("init_images"), QJsonArray{QString::fromLatin1(whole.toBase64())});
    QCOMPARE(postJson(api(QStringLiteral("img2img")), body).status, 200);
  }

  void jsonOnly() {
    // A web page's form or text/plain POST does nothing (415 before any work).
    Response r = call(api(QStringLiteral("txt2img")), "POST", QJsonDocument(tinyRequest()).toJson(),
                      {{"Content-Type", "text/plain"}});
    QCOMPARE(r.status, 415);
    r = call(api(QStringLiteral("interrupt")), "POST", "x=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
    QCOMPARE(r.status, 415);
    r = call(api(QStringLiteral("options")), "POST", "{\"sd_model_checkpoint\":\"other/tiny_b\"}",
             {{"Content-Type", "text/plain"}});
    QCOMPARE(r.status, 415);
    QVERIFY(call(api(QStringLiteral("options")), "GET")
                .object()[QStringLiteral("sd_model_checkpoint")]
                .toString()
                .startsWith(QLatin1String("tiny_sd1")));
    r = call(api(QStringLiteral("txt2img")), "POST", QJsonDocument(tinyRequest()).toJson(),
             {{"Content-Type", "application/json; charset=utf-8"}});
    QCOMPARE(r.status, 200);
  }

  void hostAndOrigin() {
    const QByteArray port = QByteArray::number(mServer->port());
    QByteArray answer;
    // DNS rebinding: the page's own name in Host.
    QCOMPARE(rawStatus(mServer->port(), "GET /sdapi/v1/sd-models HTTP/1.1\r\nHost: evil.example:" + port + "\r\n\r\n",
                       &answer),
             403);
    QVERIFY(!answer.contains("tiny_sd1"));
    QCOMPARE(rawStatus(mServer->port(), "GET /sdapi/v1/sd-models HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n"),
             200);
    QCOMPARE(rawStatus(mServer->port(), "GET /sdapi/v1/sd-models HTTP/1.1\r\nHost: [::1]:" + port + "\r\n\r\n"), 200);
    QCOMPARE(rawStatus(mServer->port(), "GET /sdapi/v1/sd-models HTTP/1.1\r\n\r\n"), 403);
    // No CORS unless configured: another origin gets a refusal without CORS headers.
    Response r = call(api(QStringLiteral("sd-models")), "GET", {}, {{"Origin", "http://evil.example"}});
    QCOMPARE(r.status, 403);
    QVERIFY(r.header("access-control-allow-origin").isEmpty());
    r = postJson(api(QStringLiteral("interrupt")), {}, {{"Origin", "http://evil.example"}});
    QCOMPARE(r.status, 403);
    QCOMPARE(rawStatus(mServer->port(),
                       "OPTIONS /sdapi/v1/txt2img HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                           "\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n",
                       &answer),
             403);
    QVERIFY(!answer.toLower().contains("access-control-allow-origin"));
    r = call(api(QStringLiteral("sd-models")), "GET");
    QVERIFY(r.header("access-control-allow-origin").isEmpty());
  }

  void bodyLimit() {
    Server small({QStringLiteral("--models"), mModels, QStringLiteral("--max-body-mb"), QStringLiteral("1"),
                  QStringLiteral("--allowed-hosts"), QStringLiteral("my-tunnel.example.net")});
    QVERIFY(small.port() != 0);
    const QByteArray host = "Host: 127.0.0.1:" + QByteArray::number(small.port()) + "\r\n";
    // --allowed-hosts: a tunnel's name passes the Host check, with or without a port.
    QCOMPARE(rawStatus(small.port(), "GET /sdapi/v1/samplers HTTP/1.1\r\nHost: my-tunnel.example.net\r\n\r\n"), 200);
    QCOMPARE(rawStatus(small.port(), "GET /sdapi/v1/samplers HTTP/1.1\r\nHost: MY-TUNNEL.example.net:443\r\n\r\n"),
             200);
    QCOMPARE(rawStatus(small.port(), "GET /sdapi/v1/samplers HTTP/1.1\r\nHost: other.example.net\r\n\r\n"), 403);
    // Announced too large: refused before the body arrives.
    QByteArray answer;
    QCOMPARE(rawStatus(small.port(),
                       "POST /sdapi/v1/txt2img HTTP/1.1\r\n" + host +
                           "Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{\"prompt\":",
                       &answer),
             413);
    QVERIFY(answer.contains("detail"));
    // Sent in chunks without a length: refused once past the limit.
    QByteArray chunks;
    const QByteArray piece(64 * 1024, 'a');
    for (int i = 0; i < 20; ++i) chunks += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
    QCOMPARE(rawStatus(small.port(),
                       "POST /sdapi/v1/txt2img HTTP/1.1\r\n" + host +
                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                       nullptr, chunks),
             413);
    // Expect: 100-continue (curl) is answered before the body is sent.
    {
      QTcpSocket socket;
      socket.connectToHost(QStringLiteral("127.0.0.1"), small.port());
      QVERIFY(socket.waitForConnected(5000));
      const QByteArray body = "{\"prompt\": \"x\", \"steps\": 1, \"width\": 64, \"height\": 64}";
      socket.write("POST /sdapi/v1/txt2img HTTP/1.1\r\n" + host + "Content-Type: application/json\r\nContent-Length: " +
                   QByteArray::number(body.size()) + "\r\nExpect: 100-continue\r\n\r\n");
      QVERIFY(socket.waitForReadyRead(5000));
      QVERIFY(socket.readAll().startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
      socket.write(body);
      QByteArray answer;
      QElapsedTimer t;
      t.start();
      while (!answer.contains("\"info\"") && t.elapsed() < 60000 && socket.waitForReadyRead(1000))
        answer += socket.readAll();
      QVERIFY2(answer.startsWith("HTTP/1.1 200 OK"), answer.left(300).constData());
    }
    // The server still answers.
    QCOMPARE(call(QStringLiteral("http://127.0.0.1:%1/sdapi/v1/samplers").arg(small.port()), "GET").status, 200);
  }

  void authAndCors() {
    Server secured({QStringLiteral("--models"), mModels, QStringLiteral("--api-auth"),
                    QStringLiteral("alice:s3cret,bob:pw"), QStringLiteral("--cors-allow-origins"),
                    QStringLiteral("http://good.example,http://other.example")});
    QVERIFY(secured.port() != 0);
    const QString base = secured.base() + QStringLiteral("/sdapi/v1/");
    const QByteArray alice = "Basic " + QByteArray("alice:s3cret").toBase64();
    Response r = call(base + QStringLiteral("sd-models"), "GET");
    QCOMPARE(r.status, 401);
    QVERIFY(r.header("www-authenticate").startsWith("Basic"));
    QVERIFY(!r.body.contains("tiny_sd1"));
    QCOMPARE(call(base + QStringLiteral("sd-models"), "GET", {},
                  {{"Authorization", "Basic " + QByteArray("alice:wrong").toBase64()}})
                 .status,
             401);
    QCOMPARE(call(base + QStringLiteral("progress"), "GET", {},
                  {{"Authorization", "Basic " + QByteArray("mallory:s3cret").toBase64()}})
                 .status,
             401);
    QCOMPARE(postJson(base + QStringLiteral("txt2img"), tinyRequest()).status, 401);
    QCOMPARE(postJson(base + QStringLiteral("interrupt"), {}).status, 401);
    r = call(base + QStringLiteral("sd-models"), "GET", {}, {{"Authorization", alice}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().toArray().size(), 2);
    QCOMPARE(call(base + QStringLiteral("samplers"), "GET", {},
                  {{"Authorization", "Basic " + QByteArray("bob:pw").toBase64()}})
                 .status,
             200);
    r = postJson(base + QStringLiteral("txt2img"), tinyRequest(), {{"Authorization", alice}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object()[QStringLiteral("images")].toArray().size(), 1);
    // cmd-flags never shows the credentials.
    r = call(base + QStringLiteral("cmd-flags"), "GET", {}, {{"Authorization", alice}});
    QCOMPARE(r.status, 200);
    QVERIFY(!r.body.contains("s3cret"));

    // A listed origin: CORS headers on answers and a preflight that needs no credentials.
    r = call(base + QStringLiteral("samplers"), "GET", {},
             {{"Authorization", alice}, {"Origin", "http://good.example"}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("access-control-allow-origin"), QByteArray("http://good.example"));
    QByteArray answer;
    QCOMPARE(rawStatus(secured.port(),
                       "OPTIONS /sdapi/v1/txt2img HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(secured.port()) +
                           "\r\nOrigin: http://other.example\r\nAccess-Control-Request-Method: POST\r\n"
                           "Access-Control-Request-Headers: authorization, content-type\r\n\r\n",
                       &answer),
             204);
    QVERIFY(answer.toLower().contains("access-control-allow-origin: http://other.example"));
    QVERIFY(answer.toLower().contains("access-control-allow-methods:"));
    // A listed origin still needs credentials for the routes themselves.
    r = call(base + QStringLiteral("samplers"), "GET", {}, {{"Origin", "http://good.example"}});
    QCOMPARE(r.status, 401);
    r = call(base + QStringLiteral("samplers"), "GET", {},
             {{"Authorization", alice}, {"Origin", "http://evil.example"}});
    QCOMPARE(r.status, 403);
    QVERIFY(r.header("access-control-allow-origin").isEmpty());
  }

  void warnsWithoutAuthOnOtherHosts() {
    Server open({QStringLiteral("--host"), QStringLiteral("0.0.0.0"), QStringLiteral("--models"), mModels});
    QVERIFY(open.port() != 0);
    QTest::qWait(200);
    QVERIFY(open.stderrText().contains("without --api-auth"));
    Server quiet({QStringLiteral("--host"), QStringLiteral("0.0.0.0"), QStringLiteral("--models"), mModels,
                  QStringLiteral("--api-auth"), QStringLiteral("u:p")});
    QVERIFY(quiet.port() != 0);
    QTest::qWait(200);
    QVERIFY(!quiet.stderrText().contains("without --api-auth"));
    // Bad usage.
    QProcess p;
    p.start(QStringLiteral(KILN_CLI),
            {QStringLiteral("serve"), QStringLiteral("--api-auth"), QStringLiteral("nopassword")});
    QVERIFY(p.waitForFinished(20000));
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(p.readAllStandardError().contains("USER:PASS"));
  }
};

QTEST_GUILESS_MAIN(TestCliServe)
#include "test_cli_serve.moc"
