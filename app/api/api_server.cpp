#include "api/api_server.h"
#include "api/api_server_helpers.h"

#include <QBuffer>
#include <QDateTime>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>
#include <QtConcurrent/QtConcurrentRun>
#include <QtHttpServer/QHttpServerRequest>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "bridge/control_image_qt.h"
#include "bridge/generation_parameters.h"
#include "control/control_map_fit.h"
#include "control/geometry.h"
#include "control/network_preprocessors.h"
#include "control/preprocessor.h"
#include "convert/model_info.h"
#include "pipelines/generation_request.h"

namespace kiln::api {

namespace {

constexpr qint64 kMaxHeaderBytes = 64 * 1024;

QByteArray reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

QByteArray errorBody(int status, const QString& detail) {
  return QJsonDocument(QJsonObject{{QStringLiteral("error"), QString::fromLatin1(reason(status))},
                                   {QStringLiteral("detail"), detail}})
      .toJson(QJsonDocument::Compact);
}

// Writes a complete response by hand (the answer to a generation comes long after the request
// was handled, so Qt's responder, bound to the request, is not used).
void writeRaw(QTcpSocket* socket, int status, const QByteArray& body,
              const QList<QPair<QByteArray, QByteArray>>& headers, bool close) {
  QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
  for (const auto& [key, value] : headers) out += key + ": " + value + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  socket->write(out + body);
  if (close) socket->disconnectFromHost();
}

// Refuses a request whose headers or body exceed the limits while it still arrives, before
// Qt's parser buffers it: watches the socket's bytes ahead of the HTTP server (connected first)
// and, past a limit, answers 413 / 431 and closes the connection without reading the rest.
class BodyGuard : public QObject {
 public:
  BodyGuard(QTcpSocket* socket, qint64 limit) : QObject(socket), mSocket(socket), mLimit(limit) {
    setObjectName(QLatin1String(kName));
    connect(socket, &QTcpSocket::readyRead, this, &BodyGuard::onReadyRead);
  }
  static constexpr const char* kName = "kiln-body-guard";
  static BodyGuard* of(QTcpSocket* socket) {
    return dynamic_cast<BodyGuard*>(socket->findChild<QObject*>(QLatin1String(kName), Qt::FindDirectChildrenOnly));
  }
  // The HTTP server handled a whole request: the next bytes start a new one.
  void requestDone() {
    mHead.clear();
    mHeaderDone = false;
    mReceived = 0;
  }

 private:
  void onReadyRead() {
    if (mRefused) {
      mSocket->readAll();  // discarded: the connection is closing
      return;
    }
    const qint64 n = mSocket->bytesAvailable();
    mReceived += n;
    if (!mHeaderDone) {
      mHead += mSocket->peek(std::min<qint64>(n, kMaxHeaderBytes + 4 - mHead.size()));
      const qsizetype end = mHead.indexOf("\r\n\r\n");
      if (end >= 0) {
        mHeaderDone = true;
        bool expectsContinue = false;
        for (const QByteArray& line : mHead.left(end).split('\n')) {
          const qsizetype colon = line.indexOf(':');
          if (colon <= 0) continue;
          const QByteArray name = line.left(colon).trimmed().toLower(), value = line.mid(colon + 1).trimmed();
          if (name == "content-length" && value.toLongLong() > mLimit)
            return refuse(413, QStringLiteral("the request body is larger than %1 MiB").arg(mLimit / (1024 * 1024)));
          expectsContinue = expectsContinue || (name == "expect" && value.toLower() == "100-continue");
        }
        // curl asks before sending a body; Qt's server never answers, so curl would wait a second.
        if (expectsContinue) mSocket->write("HTTP/1.1 100 Continue\r\n\r\n");
      } else if (mHead.size() > kMaxHeaderBytes) {
        return refuse(431, QStringLiteral("the request headers are larger than %1 KiB").arg(kMaxHeaderBytes / 1024));
      }
    }
    if (mReceived > mLimit + kMaxHeaderBytes)
      refuse(413, QStringLiteral("the request body is larger than %1 MiB").arg(mLimit / (1024 * 1024)));
  }

  void refuse(int status, const QString& detail) {
    mRefused = true;
    // The HTTP server sees no more of this connection; what it buffered goes.
    disconnect(mSocket, &QTcpSocket::readyRead, nullptr, nullptr);
    if (mSocket->isTransactionStarted()) mSocket->commitTransaction();
    mSocket->readAll();
    connect(mSocket, &QTcpSocket::readyRead, this, &BodyGuard::onReadyRead);
    writeRaw(mSocket, status, errorBody(status, detail), {}, true);
  }

  QTcpSocket* mSocket;
  qint64 mLimit;
  QByteArray mHead;
  bool mHeaderDone = false;
  bool mRefused = false;
  qint64 mReceived = 0;
};

class GuardedTcpServer : public QTcpServer {
 public:
  GuardedTcpServer(qint64 limit, QObject* parent) : QTcpServer(parent), mLimit(limit) {}

 protected:
  void incomingConnection(qintptr descriptor) override {
    auto* socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
      delete socket;
      return;
    }
    new BodyGuard(socket, mLimit);
    addPendingConnection(socket);
  }

 private:
  qint64 mLimit;
};

QByteArray header(const QHttpServerRequest& request, QByteArrayView name) {
  for (const auto& [key, value] : request.headers())
    if (key.compare(name, Qt::CaseInsensitive) == 0) return value;
  return {};
}

QString pngBase64(const QImage& image, const QString& parameters) {
  QString error;
  QByteArray png = parameters.isEmpty() ? QByteArray() : bridge::pngWithParameters(image, parameters, &error);
  if (png.isEmpty()) {
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
  }
  return QString::fromLatin1(png.toBase64());
}


// What the preparation of a job found off the HTTP thread.
struct Prepared {
  QString sha256;  // empty when not asked or not readable
  QList<QImage> maps;
  QList<int> resolutions;
  QString error;  // a preprocessor failed
  bool cancelled = false;
};

// The preprocessor's map of `image` as sd-webui-controlnet computes it (RGBA unit images follow
// its canvas-scribble rule; Pixel Perfect picks the resolution from the output size). Throws.
QImage runPreprocessor(const QString& module, const QImage& image, int resolution, bool pixelPerfect,
                       control::ResizeMode mode, int width, int height, const control::PreprocessorParams& given,
                       const control::PreprocessorContext& context, int* used) {
  const auto p = control::find_preprocessor(module.toStdString());
  if (!p) throw InvalidRequestError("unknown preprocessor '" + module.toStdString() + "'");
  const control::ControlImage input = control::from_rgba_to_input(bridge::toControlImage(image));
  if (pixelPerfect)
    resolution = control::pixel_perfect_resolution(input.height, input.width, control::align_dim_latent(height),
                                                   control::align_dim_latent(width), mode);
  if (used) *used = resolution;
  const control::PreprocessorParams params = control::resolve_params(*p, resolution, given);
  return bridge::toQImage(control::run_preprocessor(p->name, input, resolution, params, context));
}

bool bindsEverywhere(const QHostAddress& a) {
  return a == QHostAddress::Any || a == QHostAddress::AnyIPv4 || a == QHostAddress::AnyIPv6;
}

}  // namespace

std::vector<std::filesystem::path> annotatorDirs(const QStringList& folders) {
  std::vector<std::filesystem::path> dirs;
  for (const QString& f : folders) dirs.emplace_back(f.toStdString());
  return dirs;
}

QJsonValue orNull(const QString& s) { return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s); }

QStringList allowedHosts(const ApiOptions& options, quint16 port) {
  if (bindsEverywhere(options.address)) return {};
  const QString p = QString::number(port);
  QStringList hosts{QStringLiteral("127.0.0.1:") + p, QStringLiteral("localhost:") + p, QStringLiteral("[::1]:") + p};
  QString own = options.host.toLower();
  if (options.address.protocol() == QAbstractSocket::IPv6Protocol && !own.startsWith(QLatin1Char('[')))
    own = QLatin1Char('[') + own + QLatin1Char(']');
  if (!hosts.contains(own + QLatin1Char(':') + p)) hosts << own + QLatin1Char(':') + p;
  return hosts;
}

bool hostAllowed(const QByteArray& host, const QStringList& allowed, const QStringList& extraHosts) {
  if (allowed.isEmpty()) return true;
  const QString h = QString::fromLatin1(host).toLower();
  if (allowed.contains(h)) return true;
  // The name without its port ("[v6]:port" keeps its brackets).
  QString name = h;
  const qsizetype colon = h.lastIndexOf(QLatin1Char(':'));
  if (colon > 0 && colon > h.lastIndexOf(QLatin1Char(']'))) name = h.left(colon);
  return !name.isEmpty() && std::any_of(extraHosts.begin(), extraHosts.end(),
                                        [&](const QString& e) { return e.compare(name, Qt::CaseInsensitive) == 0; });
}

struct ApiServer::Client {
  QByteArray origin;  // a CORS origin the options allow (echoed in the answer); empty: none
  bool close = false;
};

struct ApiServer::Task {
  GenerationRequest request;
  QPointer<QTcpSocket> socket;
  Client client;
  CatalogModel model;
  QList<app::LoRAChoice> loras;
  quint64 seed = 0, subseed = 0;
  int total = 1;  // images asked for: batch_size x n_iter
  int index = 0;  // the image being made
  quint64 jobId = 0;
  std::unique_ptr<std::stop_source> stop;  // of the run going on
  std::stop_source hashStop;               // of the preparation (hash, preprocessors)
  // The enabled ControlNet units; `map` is filled by the preparation.
  QList<app::ControlUnitJob> controlJobs;
  QList<QImage> controlInputs;
  QList<control::PreprocessorParams> controlParams;
  QList<bool> saveMaps;
  bool started = false, interrupted = false, skipped = false;
  QStringList images;
  QStringList infotexts;
  QString timestamp;
  QElapsedTimer clock;
  int step = 0, steps = 0;
  QImage preview;
};

bool setApiHost(ApiOptions& options, const QString& host, QString* error) {
  options.host = host.trimmed();
  QString address = options.host;
  if (address == QLatin1String("localhost")) address = QStringLiteral("127.0.0.1");
  if (address.startsWith(QLatin1Char('[')) && address.endsWith(QLatin1Char(']'))) address = address.mid(1, address.size() - 2);
  if (options.address.setAddress(address)) return true;
  if (error) *error = QStringLiteral("'%1' is not an IP address").arg(options.host);
  return false;
}

bool setApiCredentials(ApiOptions& options, const QString& pairs, QString* error) {
  options.credentials.clear();
  for (const QString& pair : pairs.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    const qsizetype colon = pair.indexOf(QLatin1Char(':'));
    if (colon <= 0 || colon == pair.size() - 1) {
      if (error) *error = QStringLiteral("expected USER:PASS[,USER:PASS...]");
      return false;
    }
    options.credentials << qMakePair(pair.left(colon), pair.mid(colon + 1));
  }
  if (options.credentials.isEmpty() && !pairs.trimmed().isEmpty()) {
    if (error) *error = QStringLiteral("expected USER:PASS[,USER:PASS...]");
    return false;
  }
  return true;
}

void setApiCorsOrigins(ApiOptions& options, const QString& origins) {
  options.corsOrigins.clear();
  for (const QString& o : origins.split(QLatin1Char(','), Qt::SkipEmptyParts))
    if (!o.trimmed().isEmpty()) options.corsOrigins << o.trimmed();
}

ApiServer::ApiServer(ApiOptions options, QObject* parent)
    : QAbstractHttpServer(parent), mOptions(std::move(options)), mCatalog(mOptions.modelFolders) {
  static const bool registered = [] {
    control::register_network_preprocessors();  // HED, lineart, Depth Anything V2, DWPose beside the OpenCV ones
    return true;
  }();
  (void)registered;
  auto* worker = new app::EngineWorker;
  worker->moveToThread(&mThread);
  connect(&mThread, &QThread::finished, worker, &QObject::deleteLater);
  connectWorker(worker);
  mDetectPool.setMaxThreadCount(1);
  mThread.setObjectName(QStringLiteral("kiln-api-engine"));
  mThread.start();
}

ApiServer::ApiServer(ApiOptions options, app::EngineWorker* sharedWorker, QObject* parent)
    : QAbstractHttpServer(parent), mOptions(std::move(options)), mCatalog(mOptions.modelFolders) {
  static const bool registered = [] {
    control::register_network_preprocessors();
    return true;
  }();
  (void)registered;
  mNextJobId = kSharedJobIds;
  connectWorker(sharedWorker);
  mDetectPool.setMaxThreadCount(1);
}

void ApiServer::connectWorker(app::EngineWorker* worker) {
  // Every job's signals reach every listener; each handler keeps to its own job ids.
  connect(worker, &app::EngineWorker::progress, this, &ApiServer::onProgress);
  connect(worker, &app::EngineWorker::preview, this, &ApiServer::onPreview);
  connect(worker, &app::EngineWorker::imageReady, this, &ApiServer::onImage);
  connect(worker, &app::EngineWorker::finished, this, &ApiServer::onRunEnded);
  connect(worker, &app::EngineWorker::cancelled, this, &ApiServer::onRunEnded);
  connect(worker, &app::EngineWorker::failed, this, &ApiServer::onFailed);
  mWorker = worker;
}

ApiServer::~ApiServer() {
  stopAll();
  if (mThread.isRunning()) {
    mThread.quit();
    mThread.wait();
  }
  mDetectPool.waitForDone();
}

void ApiServer::setModelFolders(const QStringList& folders) {
  mOptions.modelFolders = folders;
  mCatalog = ModelCatalog(folders);
  mCatalog.refresh();
  if (!mCatalog.findCheckpoint(mModelPath)) {
    const QList<CatalogModel> checkpoints = mCatalog.checkpoints();
    mModelPath = checkpoints.isEmpty() ? QString() : checkpoints.first().path;
  }
}

bool ApiServer::start(QString* error) {
  mCatalog.refresh();
  const QList<CatalogModel> checkpoints = mCatalog.checkpoints();
  if (!checkpoints.isEmpty()) mModelPath = checkpoints.first().path;
  auto* tcp = new GuardedTcpServer(mOptions.maxBodyBytes, this);
  if (!tcp->listen(mOptions.address, mOptions.port)) {
    if (error) *error = tcp->errorString();
    delete tcp;
    return false;
  }
  mPort = tcp->serverPort();
  mAllowedHosts = allowedHosts(mOptions, mPort);
  bind(tcp);
  return true;
}

void ApiServer::stopAll() {
  for (const auto& task : std::as_const(mQueue))
    if (task->socket) writeRaw(task->socket, 503, errorBody(503, QStringLiteral("the server is stopping")), {}, true);
  mQueue.clear();
  if (mCurrent) {
    mCurrent->interrupted = true;
    mCurrent->hashStop.request_stop();
    if (mCurrent->stop) mCurrent->stop->request_stop();
  }
}

ApiServer::Reply ApiServer::json(const QJsonValue& value, int status) {
  Reply r;
  r.status = status;
  r.body = value.isObject()  ? QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact)
           : value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                             : QByteArray("null");
  return r;
}

ApiServer::Reply ApiServer::error(int status, const QString& detail) {
  Reply r;
  r.status = status;
  r.body = errorBody(status, detail);
  return r;
}

void ApiServer::send(QTcpSocket* socket, const Client& client, const Reply& reply) {
  if (!socket || socket->state() != QAbstractSocket::ConnectedState) return;
  auto headers = reply.headers;
  if (!client.origin.isEmpty()) {
    headers << qMakePair(QByteArray("Access-Control-Allow-Origin"), client.origin)
            << qMakePair(QByteArray("Access-Control-Allow-Credentials"), QByteArray("true"))
            << qMakePair(QByteArray("Vary"), QByteArray("Origin"));
  }
  writeRaw(socket, reply.status, reply.body, headers, client.close);
}

void ApiServer::missingHandler(const QHttpServerRequest&, QTcpSocket* socket) {
  writeRaw(socket, 404, errorBody(404, QStringLiteral("Not Found")), {}, false);
}

bool ApiServer::handleRequest(const QHttpServerRequest& request, QTcpSocket* socket) {
  if (BodyGuard* guard = BodyGuard::of(socket)) guard->requestDone();
  Client client;
  client.close = header(request, "connection").compare("close", Qt::CaseInsensitive) == 0;

  // DNS rebinding: a page of another site that resolves its name to this machine still names
  // its own host.
  const QByteArray host = header(request, "host").toLower();
  if (!hostAllowed(host, mAllowedHosts, mOptions.extraHosts)) {
    send(socket, client,
         error(403, QStringLiteral("Host '%1' is not allowed (this server answers %2; behind a tunnel or proxy add "
                                   "its name with kiln-cli serve --allowed-hosts)")
                        .arg(QString::fromLatin1(host), mAllowedHosts.join(QStringLiteral(", ")))));
    return true;
  }
  // A web page of another origin gets nothing, not even a side effect, unless it is listed.
  const QByteArray origin = header(request, "origin");
  if (!origin.isEmpty()) {
    const bool listed = mOptions.corsOrigins.contains(QStringLiteral("*")) ||
                        mOptions.corsOrigins.contains(QString::fromLatin1(origin));
    const bool sameOrigin = origin == "http://" + host;
    if (!listed && !sameOrigin) {
      send(socket, client,
           error(403, QStringLiteral("Origin '%1' is not allowed (kiln-cli serve --cors-allow-origins)")
                          .arg(QString::fromLatin1(origin))));
      return true;
    }
    if (listed) client.origin = origin;
  }
  const QString path = request.url().path();
  const auto method = request.method();
  // A CORS preflight of a listed origin carries no credentials by design: answered before auth.
  if (method == QHttpServerRequest::Method::Options && !client.origin.isEmpty()) {
    Reply r;
    r.status = 204;
    QByteArray allowHeaders = header(request, "access-control-request-headers");
    if (allowHeaders.isEmpty()) allowHeaders = "Authorization, Content-Type";
    r.headers << qMakePair(QByteArray("Access-Control-Allow-Methods"), QByteArray("GET, POST, OPTIONS"))
              << qMakePair(QByteArray("Access-Control-Allow-Headers"), allowHeaders)
              << qMakePair(QByteArray("Access-Control-Max-Age"), QByteArray("600"));
    send(socket, client, r);
    return true;
  }
  if (!mOptions.credentials.isEmpty()) {
    const QByteArray auth = header(request, "authorization");
    bool ok = false;
    if (auth.left(6).compare("Basic ", Qt::CaseInsensitive) == 0) {
      const QString pair = QString::fromUtf8(QByteArray::fromBase64(auth.mid(6).trimmed()));
      const qsizetype colon = pair.indexOf(QLatin1Char(':'));
      if (colon >= 0) {
        const QString user = pair.left(colon), password = pair.mid(colon + 1);
        for (const auto& [u, p] : std::as_const(mOptions.credentials)) {
          // Every pair is compared in full, whatever matched before (no early exit on timing).
          bool same = u.size() == user.size() && p.size() == password.size();
          int diff = 0;
          for (qsizetype i = 0; same && i < u.size(); ++i) diff |= u.at(i).unicode() ^ user.at(i).unicode();
          for (qsizetype i = 0; same && i < p.size(); ++i) diff |= p.at(i).unicode() ^ password.at(i).unicode();
          ok = ok || (same && diff == 0);
        }
      }
    }
    if (!ok) {
      Reply r = error(401, QStringLiteral("Incorrect username or password"));
      r.headers << qMakePair(QByteArray("WWW-Authenticate"), QByteArray("Basic realm=\"Kiln\""));
      send(socket, client, r);
      return true;
    }
  }
  QString methodName;
  switch (method) {
    case QHttpServerRequest::Method::Get:
      methodName = QStringLiteral("GET");
      break;
    case QHttpServerRequest::Method::Post:
      methodName = QStringLiteral("POST");
      break;
    case QHttpServerRequest::Method::Options: {
      Reply r;
      r.status = 204;
      r.headers << qMakePair(QByteArray("Allow"), QByteArray("GET, POST, OPTIONS"));
      send(socket, client, r);
      return true;
    }
    default:
      send(socket, client, error(405, QStringLiteral("Method Not Allowed")));
      return true;
  }
  QJsonObject body;
  const QByteArray raw = request.body();
  if (methodName == QLatin1String("POST")) {
    // JSON only: a form or text/plain POST (what a web page may send without asking) does nothing.
    QByteArray type = header(request, "content-type").toLower();
    if (const qsizetype semi = type.indexOf(';'); semi >= 0) type = type.left(semi);
    type = type.trimmed();
    if ((!type.isEmpty() && type != "application/json") || (type.isEmpty() && !raw.trimmed().isEmpty())) {
      send(socket, client, error(415, QStringLiteral("request bodies must be JSON (Content-Type: application/json)")));
      return true;
    }
    if (raw.size() > mOptions.maxBodyBytes) {
      send(socket, client,
           error(413,
                 QStringLiteral("the request body is larger than %1 MiB").arg(mOptions.maxBodyBytes / (1024 * 1024))));
      return true;
    }
    if (!raw.trimmed().isEmpty()) {
      QJsonParseError parseError;
      const QJsonDocument doc = QJsonDocument::fromJson(raw, &parseError);
      if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        send(socket, client,
             error(422, parseError.error != QJsonParseError::NoError
                            ? QStringLiteral("invalid JSON at offset %1: %2")
                                  .arg(parseError.offset)
                                  .arg(parseError.errorString())
                            : QStringLiteral("the body must be a JSON object")));
        return true;
      }
      body = doc.object();
    }
  }
  try {
    if (const auto reply = route(methodName, path, request, body, socket, client)) send(socket, client, *reply);
  } catch (const ApiError& e) {
    send(socket, client, error(e.status, e.message));
  } catch (const std::exception& e) {
    send(socket, client, error(500, QString::fromUtf8(e.what())));
  }
  return true;
}

std::optional<ApiServer::Reply> ApiServer::route(const QString& method, const QString& path,
                                                 const QHttpServerRequest& request, const QJsonObject& body,
                                                 QTcpSocket* socket, const Client& client) {
  const bool get = method == QLatin1String("GET");
  const bool post = method == QLatin1String("POST");
  auto is = [&](const char* p) { return path == QLatin1String(p) || path == QLatin1String(p) + QLatin1Char('/'); };
  auto wrongMethod = [] { return error(405, QStringLiteral("Method Not Allowed")); };

  if (is("/sdapi/v1/txt2img") || is("/sdapi/v1/img2img")) {
    if (!post) return wrongMethod();
    const Reply r = enqueue(body, is("/sdapi/v1/img2img"), socket, client);
    if (r.status != 0) return r;
    return std::nullopt;
  }
  if (is("/sdapi/v1/progress")) {
    if (!get) return wrongMethod();
    const QString skip = QUrlQuery(request.url()).queryItemValue(QStringLiteral("skip_current_image")).toLower();
    return progressReply(skip == QLatin1String("true") || skip == QLatin1String("1"));
  }
  if (is("/sdapi/v1/interrupt") || is("/sdapi/v1/skip")) {
    if (!post) return wrongMethod();
    if (mCurrent) {
      if (is("/sdapi/v1/interrupt")) {
        mCurrent->interrupted = true;
        mCurrent->hashStop.request_stop();
      } else {
        mCurrent->skipped = true;
      }
      if (mCurrent->stop) mCurrent->stop->request_stop();
    }
    return json(QJsonObject());
  }
  if (is("/sdapi/v1/options")) {
    if (get) return optionsReply();
    if (post) return setOptions(body);
    return wrongMethod();
  }
  if (is("/sdapi/v1/sd-models")) return get ? sdModels() : wrongMethod();
  if (is("/sdapi/v1/refresh-checkpoints") || is("/sdapi/v1/refresh-loras")) {
    if (!post) return wrongMethod();
    mCatalog.refresh();
    if (mCatalog.checkpoints().isEmpty())
      mModelPath.clear();
    else if (!mCatalog.findCheckpoint(mModelPath))
      mModelPath = mCatalog.checkpoints().first().path;
    return json(QJsonObject());
  }
  if (is("/sdapi/v1/unload-checkpoint") || is("/sdapi/v1/reload-checkpoint")) {
    if (!post) return wrongMethod();
    if (is("/sdapi/v1/unload-checkpoint") && !mCurrent)
      QMetaObject::invokeMethod(
          mWorker, [w = mWorker.data()] { w->releaseModel(); }, Qt::QueuedConnection);
    return json(QJsonObject());
  }
  if (is("/sdapi/v1/samplers")) return get ? json(samplerList()) : wrongMethod();
  if (is("/sdapi/v1/schedulers")) return get ? json(schedulerList()) : wrongMethod();
  if (is("/sdapi/v1/loras")) return get ? loras() : wrongMethod();
  if (is("/sdapi/v1/png-info")) return post ? pngInfo(body) : wrongMethod();
  if (is("/sdapi/v1/memory")) return get ? memory() : wrongMethod();
  if (is("/sdapi/v1/cmd-flags")) return get ? cmdFlags() : wrongMethod();
  if (is("/sdapi/v1/upscalers")) {
    if (!get) return wrongMethod();
    // The pixel upscalers the hires fix has without a model file (A1111 lists them too).
    QJsonArray list;
    for (const char* name : {"None", "Lanczos", "Nearest"})
      list.append(QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                              {QStringLiteral("model_name"), QJsonValue::Null},
                              {QStringLiteral("model_path"), QJsonValue::Null},
                              {QStringLiteral("model_url"), QJsonValue::Null},
                              {QStringLiteral("scale"), 4}});
    return json(list);
  }
  if (is("/sdapi/v1/latent-upscale-modes")) {
    if (!get) return wrongMethod();
    QJsonArray modes;
    for (const QString& name : bridge::hiresUpscalerNames())
      if (name.startsWith(QLatin1String("Latent"))) modes.append(QJsonObject{{QStringLiteral("name"), name}});
    return json(modes);
  }
  if (is("/sdapi/v1/hypernetworks") || is("/sdapi/v1/prompt-styles") || is("/sdapi/v1/face-restorers") ||
      is("/sdapi/v1/realesrgan-models") || is("/sdapi/v1/sd-vae") || is("/sdapi/v1/script-info") ||
      is("/sdapi/v1/sd-modules"))
    return get ? json(QJsonArray()) : wrongMethod();
  if (is("/sdapi/v1/embeddings")) return get ? embeddings() : wrongMethod();
  if (is("/sdapi/v1/refresh-embeddings")) return post ? json(QJsonObject()) : wrongMethod();  // read per request anyway
  if (is("/sdapi/v1/scripts")) {
    if (!get) return wrongMethod();
    return json(QJsonObject{{QStringLiteral("txt2img"), QJsonArray()}, {QStringLiteral("img2img"), QJsonArray()}});
  }
  if (is("/internal/ping")) return get ? json(QJsonObject()) : wrongMethod();  // what front ends probe (SillyTavern)
  if (is("/controlnet/version")) return get ? json(QJsonObject{{QStringLiteral("version"), 2}}) : wrongMethod();
  if (is("/controlnet/model_list")) {
    if (!get) return wrongMethod();
    const QString update = QUrlQuery(request.url()).queryItemValue(QStringLiteral("update")).toLower();
    if (update == QLatin1String("true") || update == QLatin1String("1")) mCatalog.refresh();
    return controlNetModels();
  }
  if (is("/controlnet/module_list")) return get ? controlNetModules() : wrongMethod();
  if (is("/controlnet/settings"))
    return get ? json(QJsonObject{{QStringLiteral("control_net_unit_count"), 3}}) : wrongMethod();
  if (is("/controlnet/detect")) {
    if (!post) return wrongMethod();
    const Reply r = detect(body, socket, client);
    if (r.status != 0) return r;
    return std::nullopt;
  }
  return error(404, QStringLiteral("Not Found"));
}

ApiServer::Reply ApiServer::detect(const QJsonObject& body, QTcpSocket* socket, const Client& client) {
  const QString module = body.value(QLatin1String("controlnet_module")).toString(QStringLiteral("none"));
  const auto p = control::find_preprocessor(module.toStdString());
  if (!p) return error(422, QStringLiteral("unknown module '%1' (GET /controlnet/module_list lists them)").arg(module));
  if (p->takes_mask) return error(422, QStringLiteral("the inpaint modules are not available over the API"));
  QJsonValue list = body.value(QLatin1String("controlnet_input_images"));
  if (!list.isArray() || list.toArray().isEmpty())
    list = body.value(QLatin1String("controlnet_images"));  // webuiapi's name
  if (!list.isArray() || list.toArray().isEmpty())
    return error(422, QStringLiteral("controlnet_input_images: expected a list of base64 images"));
  QList<QImage> images;
  for (qsizetype i = 0; i < list.toArray().size(); ++i)
    images << decodeImage(list.toArray().at(i), QStringLiteral("controlnet_input_images[%1]").arg(i),
                          mOptions.imageLimits);
  const double res = body.value(QLatin1String("controlnet_processor_res")).toDouble(-1);
  const int resolution = res > 0 ? static_cast<int>(res) : p->default_resolution;
  control::PreprocessorParams params;
  for (const control::PreprocessorParam& param : p->params) {
    const double v =
        body.value(QLatin1String(param.slot == 1 ? "controlnet_threshold_a" : "controlnet_threshold_b")).toDouble(-1);
    if (v != -1) params[param.key] = std::clamp(v, param.minimum, param.maximum);
  }
  const auto dirs = annotatorDirs(mOptions.modelFolders);
  try {
    control::resolve_params(*p, resolution, params);
    control::find_preprocessor_weights(*p, dirs);
  } catch (const kiln::Error& e) {
    return error(422,
                 QString::fromStdString(e.message()) +
                     (e.hint().empty() ? QString()
                                       : QStringLiteral(" (") + QString::fromStdString(e.hint()) + QLatin1Char(')')));
  }
  struct Detected {
    QStringList images;
    QString error;
  };
  auto* watcher = new QFutureWatcher<Detected>(this);
  const QPointer<QTcpSocket> target(socket);
  connect(watcher, &QFutureWatcher<Detected>::finished, this, [this, watcher, target, client] {
    const Detected d = watcher->result();
    watcher->deleteLater();
    if (!d.error.isEmpty())
      send(target, client, error(422, d.error));
    else
      send(target, client,
           json(QJsonObject{{QStringLiteral("images"), QJsonArray::fromStringList(d.images)},
                            {QStringLiteral("info"), QStringLiteral("Success")}}));
  });
  watcher->setFuture(QtConcurrent::run(&mDetectPool, [=]() {
    Detected out;
    control::PreprocessorContext context;
    context.annotator_dirs = dirs;
    try {
      for (const QImage& image : images)
        out.images << pngBase64(runPreprocessor(module, image, resolution, false, control::ResizeMode::CropAndResize,
                                                image.width(), image.height(), params, context, nullptr),
                                {});
    } catch (const std::exception& e) {
      out.error = QString::fromUtf8(e.what());
    }
    return out;
  }));
  Reply later;
  later.status = 0;
  return later;
}

ApiServer::Reply ApiServer::progressReply(bool skipImage) const {
  QJsonObject state{{QStringLiteral("skipped"), false},
                    {QStringLiteral("interrupted"), false},
                    {QStringLiteral("stopping_generation"), false},
                    {QStringLiteral("job"), QString()},
                    {QStringLiteral("job_count"), 0},
                    {QStringLiteral("job_timestamp"), QStringLiteral("0")},
                    {QStringLiteral("job_no"), 0},
                    {QStringLiteral("sampling_step"), 0},
                    {QStringLiteral("sampling_steps"), 0},
                    {QStringLiteral("queued"), static_cast<int>(mQueue.size())}};
  QJsonObject out{{QStringLiteral("progress"), 0.0},
                  {QStringLiteral("eta_relative"), 0.0},
                  {QStringLiteral("current_image"), QJsonValue::Null},
                  {QStringLiteral("textinfo"), QJsonValue::Null}};
  if (const Task* t = mCurrent.get()) {
    state.insert(QStringLiteral("skipped"), t->skipped);
    state.insert(QStringLiteral("interrupted"), t->interrupted);
    state.insert(QStringLiteral("stopping_generation"), t->interrupted);
    state.insert(QStringLiteral("job"),
                 t->request.img2img ? QStringLiteral("scripts_img2img") : QStringLiteral("scripts_txt2img"));
    state.insert(QStringLiteral("job_count"), t->total);
    state.insert(QStringLiteral("job_timestamp"), t->timestamp);
    state.insert(QStringLiteral("job_no"), t->index);
    state.insert(QStringLiteral("sampling_step"), t->step);
    state.insert(QStringLiteral("sampling_steps"), t->steps);
    // A1111's estimate: 0.01 at the start, then the share of the images and steps done.
    double progress = 0.01 + double(t->index) / t->total;
    if (t->steps > 0) progress += double(t->step) / t->steps / t->total;
    const double elapsed = t->clock.isValid() ? t->clock.elapsed() / 1000.0 : 0.0;
    out.insert(QStringLiteral("progress"), std::min(progress, 1.0));
    out.insert(QStringLiteral("eta_relative"), elapsed / progress - elapsed);
    if (!skipImage && !t->preview.isNull()) out.insert(QStringLiteral("current_image"), pngBase64(t->preview, {}));
    out.insert(QStringLiteral("textinfo"), t->started ? QStringLiteral("Sampling") : QStringLiteral("Loading model"));
  }
  out.insert(QStringLiteral("state"), state);
  return json(out);
}

ApiServer::Reply ApiServer::enqueue(const QJsonObject& body, bool img2img, QTcpSocket* socket, const Client& client) {
  auto task = std::make_shared<Task>();
  task->request = parseGenerationRequest(body, img2img, mOptions.imageLimits);
  const GenerationRequest& r = task->request;
  std::optional<CatalogModel> model = mCatalog.findCheckpoint(r.checkpoint.isEmpty() ? mModelPath : r.checkpoint);
  if (!model && !r.checkpoint.isEmpty()) {
    mCatalog.refresh();
    model = mCatalog.findCheckpoint(r.checkpoint);
  }
  if (!model) {
    if (!r.checkpoint.isEmpty())
      return error(404, QStringLiteral("model '%1' not found (GET /sdapi/v1/sd-models lists them)").arg(r.checkpoint));
    return error(422,
                 QStringLiteral("no Stable Diffusion checkpoint in the model folders (kiln-cli serve --models DIR)"));
  }
  task->model = *model;
  for (const auto& [name, weight] : r.loras) {
    if (const auto lora = mCatalog.findLoRA(name))
      task->loras << app::LoRAChoice{lora->path, weight};
    else
      std::fprintf(stderr, "kiln-cli serve: no LoRA named '%s' in the model folders; its tag is ignored\n",
                   qPrintable(name));
  }
  for (qsizetype i = 0; i < r.controlUnits.size(); ++i) {
    const ControlUnitRequest& u = r.controlUnits[i];
    const QString unitName = QStringLiteral("ControlNet unit %1").arg(i + 1);
    const auto cn = mCatalog.findControlNet(u.model);
    if (!cn)
      return error(422, QStringLiteral("%1: ControlNet model '%2' not found (GET /controlnet/model_list lists them)")
                            .arg(unitName, u.model));
    const auto p = control::find_preprocessor(u.module.toStdString());
    if (!p)
      return error(
          422,
          QStringLiteral("%1: unknown module '%2' (GET /controlnet/module_list lists them)").arg(unitName, u.module));
    if (p->takes_mask)
      return error(422, QStringLiteral("%1: the inpaint modules are not available over the API").arg(unitName));
    app::ControlUnitJob job;
    job.modelPath = cn->path;
    job.resizeMode = control::parse_resize_mode(u.resizeMode.toStdString());
    job.weight = u.weight;
    job.start = u.guidanceStart;
    job.end = u.guidanceEnd;
    job.mode = bridge::controlModeFromA1111(u.controlMode).value_or(pipelines::ControlMode{});
    job.module = QString::fromStdString(p->name);
    job.resolution = u.processorRes > 0 ? u.processorRes : p->default_resolution;
    job.pixelPerfect = u.pixelPerfect;
    control::PreprocessorParams params;
    // A1111 clients send -1 for "the default" and often the same threshold for every module
    // (webuiapi: 64): a value outside the slider is brought within it, as the extension's UI would.
    for (const control::PreprocessorParam& param : p->params) {
      const double v = param.slot == 1 ? u.thresholdA : u.thresholdB;
      if (v != -1) params[param.key] = std::clamp(v, param.minimum, param.maximum);
    }
    try {
      const control::PreprocessorParams resolved = control::resolve_params(*p, job.resolution, params);
      for (const control::PreprocessorParam& param : p->params) {
        if (param.slot == 1) job.thresholdA = resolved.at(param.key);
        if (param.slot == 2) job.thresholdB = resolved.at(param.key);
      }
      control::find_preprocessor_weights(*p, annotatorDirs(mOptions.modelFolders));
    } catch (const kiln::Error& e) {
      return error(422,
                   unitName + QStringLiteral(": ") + QString::fromStdString(e.message()) +
                       (e.hint().empty() ? QString()
                                         : QStringLiteral(" (") + QString::fromStdString(e.hint()) + QLatin1Char(')')));
    }
    task->controlJobs << job;
    task->controlInputs << u.image;
    task->controlParams << params;
    task->saveMaps << u.saveDetectedMap;
  }
  // A1111 draws seeds below 2^32 - 1.
  task->seed = r.seed >= 0 ? static_cast<quint64>(r.seed) : QRandomGenerator::global()->bounded(4294967294u);
  task->subseed = r.subseed >= 0 ? static_cast<quint64>(r.subseed) : QRandomGenerator::global()->bounded(4294967294u);
  task->total = r.batchSize * r.nIter;
  task->socket = socket;
  task->client = client;
  // A client that goes away stops its request (A1111 would go on making images nobody gets).
  const std::weak_ptr<Task> weak = task;
  connect(socket, &QObject::destroyed, this, [this, weak] {
    const std::shared_ptr<Task> t = weak.lock();
    if (!t) return;
    if (t == mCurrent) {
      t->interrupted = true;
      t->hashStop.request_stop();
      if (t->stop) t->stop->request_stop();
    } else {
      mQueue.removeAll(t);
    }
  });
  mQueue << task;
  if (!mCurrent) startNext();
  Reply later;
  later.status = 0;  // answered when the images are done
  return later;
}

void ApiServer::startNext() {
  if (mCurrent || mQueue.isEmpty()) return;
  mCurrent = mQueue.takeFirst();
  Task& t = *mCurrent;
  t.clock.start();
  t.timestamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMddHHmmss"));
  if (!t.model.sha256.isEmpty() && t.controlJobs.isEmpty()) {
    runStep();
    return;
  }
  // Off the HTTP thread, once per request: the checkpoint's sha256 (its short hash goes into
  // the PNGs) and the ControlNet units' preprocessors.
  auto* watcher = new QFutureWatcher<Prepared>(this);
  connect(watcher, &QFutureWatcher<Prepared>::finished, this, [this, watcher] {
    const Prepared prepared = watcher->result();
    watcher->deleteLater();
    if (!mCurrent) return;
    if (!prepared.sha256.isEmpty()) {
      mCatalog.setSha256(mCurrent->model.path, prepared.sha256);
      mCurrent->model.sha256 = prepared.sha256;
    }
    if (!prepared.error.isEmpty()) {
      finishTask(error(422, prepared.error));
      return;
    }
    if (prepared.cancelled) mCurrent->interrupted = true;
    for (qsizetype i = 0; i < prepared.maps.size() && i < mCurrent->controlJobs.size(); ++i) {
      mCurrent->controlJobs[i].map = prepared.maps[i];
      mCurrent->controlJobs[i].resolution = prepared.resolutions[i];
    }
    runStep();
  });
  const QString path = t.model.path;
  const bool hash = t.model.sha256.isEmpty();
  const std::stop_token stop = t.hashStop.get_token();
  const QList<app::ControlUnitJob> units = t.controlJobs;
  const QList<QImage> inputs = t.controlInputs;
  const QList<control::PreprocessorParams> params = t.controlParams;
  const int width = t.request.parameters.width, height = t.request.parameters.height;
  const auto dirs = annotatorDirs(mOptions.modelFolders);
  watcher->setFuture(QtConcurrent::run([=]() {
    Prepared out;
    if (hash) {
      try {
        convert::InspectOptions options;
        options.stop = stop;
        const convert::ModelInfo info = convert::inspect_model(path.toStdString(), options);
        if (info.sha256) out.sha256 = QString::fromStdString(*info.sha256);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "kiln-cli serve: cannot hash %s: %s\n", qPrintable(path), e.what());
      }
    }
    control::PreprocessorContext context;
    context.stop = stop;
    context.annotator_dirs = dirs;
    for (qsizetype i = 0; i < units.size(); ++i) {
      try {
        int used = units[i].resolution;
        const QImage map = runPreprocessor(units[i].module, inputs[i], units[i].resolution, units[i].pixelPerfect,
                                           units[i].resizeMode, width, height, params[i], context, &used);
        if (map.isNull()) {
          out.cancelled = true;
          return out;
        }
        // Fitted to the output size here (the worker's own fit is then the identity), so the
        // detected map the answer carries is the one the ControlNet saw, as the extension's.
        out.maps << bridge::toQImage(
            control::fit_control_map(bridge::toControlImage(map), units[i].resizeMode, height, width));
        out.resolutions << used;
      } catch (const std::exception& e) {
        out.error = QStringLiteral("ControlNet unit %1: %2").arg(i + 1).arg(QString::fromUtf8(e.what()));
        return out;
      }
    }
    return out;
  }));
}

void ApiServer::runStep() {
  Task& t = *mCurrent;
  if (t.interrupted || t.index >= t.total) {
    finishTask();
    return;
  }
  const GenerationRequest& r = t.request;
  app::GenerationJob job;
  job.id = t.jobId = ++mNextJobId;
  job.modelPath = t.model.path;
  job.parameters = r.parameters;
  job.parameters.seed = t.seed + static_cast<quint64>(t.index);
  job.parameters.modelHash = t.model.shortHash();
  job.parameters.modelName = QFileInfo(t.model.fileName).completeBaseName();
  job.parameters.clipSkip = r.clipSkip.value_or(mClipSkip);
  if (r.batchSize > 1) {
    job.parameters.extra.insert(QStringLiteral("Batch size"), QString::number(r.batchSize));
    job.parameters.extra.insert(QStringLiteral("Batch pos"), QString::number(t.index % r.batchSize));
  }
  job.initImage = r.initImage;
  job.mask = r.mask;
  job.loras = t.loras;
  job.controlUnits = t.controlJobs;
  job.embeddingFolders = mOptions.embeddingFolders;
  t.stop = std::make_unique<std::stop_source>();
  job.stop = t.stop->get_token();
  t.skipped = false;
  t.step = 0;
  t.steps = 0;
  QMetaObject::invokeMethod(
      mWorker, [w = mWorker.data(), job] { w->generate(job); }, Qt::QueuedConnection);
}

void ApiServer::onProgress(quint64 id, const app::GenerationProgress& progress) {
  if (!mCurrent || id != mCurrent->jobId) return;
  mCurrent->started = true;
  mCurrent->step = progress.step;
  mCurrent->steps = progress.total;
}

void ApiServer::onPreview(quint64 id, const QImage& image) {
  if (mCurrent && id == mCurrent->jobId && mLivePreviews) mCurrent->preview = image;
}

void ApiServer::onImage(quint64 id, const app::GeneratedImage& image) {
  if (!mCurrent || id != mCurrent->jobId) return;
  const QString text = image.parameters.toText();
  mCurrent->infotexts << text;
  if (mCurrent->request.sendImages) mCurrent->images << pngBase64(image.image, text);
}

void ApiServer::onRunEnded(quint64 id) {
  if (!mCurrent || id != mCurrent->jobId) return;
  ++mCurrent->index;
  runStep();
}

void ApiServer::onFailed(quint64 id, const app::UserMessage& message) {
  if (!mCurrent || id != mCurrent->jobId) return;
  QString detail = message.text.isEmpty() ? message.title : message.title + QStringLiteral(": ") + message.text;
  if (!message.details.isEmpty()) detail += QStringLiteral(" (") + message.details.simplified() + QLatin1Char(')');
  finishTask(error(500, detail));
}

QJsonObject ApiServer::infoObject(const Task& t) const {
  const GenerationRequest& r = t.request;
  const bridge::GenerationParameters& p = r.parameters;
  QJsonArray seeds, subseeds, prompts, negatives;
  for (int i = 0; i < t.total; ++i) {
    seeds.append(static_cast<double>(t.seed + static_cast<quint64>(i)));
    subseeds.append(static_cast<double>(t.subseed + static_cast<quint64>(i)));
    prompts.append(p.prompt);
    negatives.append(p.negativePrompt);
  }
  QJsonObject info{
      {QStringLiteral("prompt"), p.prompt},
      {QStringLiteral("all_prompts"), prompts},
      {QStringLiteral("negative_prompt"), p.negativePrompt},
      {QStringLiteral("all_negative_prompts"), negatives},
      {QStringLiteral("seed"), static_cast<double>(t.seed)},
      {QStringLiteral("all_seeds"), seeds},
      {QStringLiteral("subseed"), static_cast<double>(t.subseed)},
      {QStringLiteral("all_subseeds"), subseeds},
      {QStringLiteral("subseed_strength"), 0},
      {QStringLiteral("width"), p.width},
      {QStringLiteral("height"), p.height},
      {QStringLiteral("sampler_name"), p.sampler},
      {QStringLiteral("cfg_scale"), p.cfgScale},
      {QStringLiteral("steps"), p.steps},
      {QStringLiteral("batch_size"), r.batchSize},
      {QStringLiteral("restore_faces"), false},
      {QStringLiteral("face_restoration_model"), QJsonValue::Null},
      {QStringLiteral("sd_model_name"), QFileInfo(t.model.fileName).completeBaseName()},
      {QStringLiteral("sd_model_hash"), orNull(t.model.shortHash())},
      {QStringLiteral("sd_vae_name"), QJsonValue::Null},
      {QStringLiteral("sd_vae_hash"), QJsonValue::Null},
      {QStringLiteral("seed_resize_from_w"), -1},
      {QStringLiteral("seed_resize_from_h"), -1},
      {QStringLiteral("denoising_strength"),
       p.denoisingStrength ? QJsonValue(*p.denoisingStrength) : QJsonValue(QJsonValue::Null)},
      {QStringLiteral("extra_generation_params"), QJsonObject()},
      {QStringLiteral("index_of_first_image"), 0},
      {QStringLiteral("infotexts"), QJsonArray::fromStringList(t.infotexts)},
      {QStringLiteral("styles"), QJsonArray()},
      {QStringLiteral("job_timestamp"), t.timestamp},
      {QStringLiteral("clip_skip"), r.clipSkip.value_or(mClipSkip)},
      {QStringLiteral("is_using_inpainting_conditioning"), false},
      {QStringLiteral("version"), QStringLiteral("kiln " KILN_VERSION)},
  };
  return info;
}

void ApiServer::finishTask(std::optional<Reply> failure) {
  const std::shared_ptr<Task> task = std::move(mCurrent);
  mCurrent.reset();
  if (task->socket) {
    if (failure) {
      send(task->socket, task->client, *failure);
    } else {
      // sd-webui-controlnet appends each unit's detected map after the images.
      if (task->request.sendImages)
        for (qsizetype i = 0; i < task->controlJobs.size(); ++i)
          if (task->saveMaps.value(i) && !task->controlJobs[i].map.isNull())
            task->images << pngBase64(task->controlJobs[i].map, {});
      const QJsonObject response{
          {QStringLiteral("images"), QJsonArray::fromStringList(task->images)},
          {QStringLiteral("parameters"), task->request.echo},
          {QStringLiteral("info"), QString::fromUtf8(QJsonDocument(infoObject(*task)).toJson(QJsonDocument::Compact))}};
      send(task->socket, task->client, json(response));
    }
  }
  // The next request starts from the event loop (not inside the worker's signal).
  QTimer::singleShot(0, this, &ApiServer::startNext);
}

}  // namespace kiln::api
