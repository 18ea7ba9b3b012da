#include "fault_server.h"

#include <QHostAddress>
#include <QMetaObject>
#include <QPointer>
#include <QSemaphore>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace kiln::test {

namespace {

QByteArray reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// Writes a body in chunks with delays, then closes, drops or stalls.
class Sender : public QObject {
 public:
  Sender(QTcpSocket* socket, QByteArray body, ServeOptions options)
      : QObject(socket), mSocket(socket), mBody(std::move(body)), mOptions(std::move(options)) {}
  void next() {
    if (!mSocket || mSocket->state() != QAbstractSocket::ConnectedState) return;
    qint64 limit = mBody.size();
    if (mOptions.dropAfter >= 0) limit = std::min(limit, mOptions.dropAfter);
    if (mOptions.stallAfter >= 0) limit = std::min(limit, mOptions.stallAfter);
    if (mSent < limit) {
      const qint64 n = std::min<qint64>(mOptions.chunkBytes, limit - mSent);
      mSocket->write(mBody.constData() + mSent, n);
      mSent += n;
      QTimer::singleShot(mOptions.chunkDelayMs, this, [this] { next(); });
      return;
    }
    if (mOptions.stallAfter >= 0 && mSent >= mOptions.stallAfter && mSent < mBody.size()) {
      mSocket->flush();
      return;  // keep the socket open, send nothing more
    }
    if (mOptions.dropAfter >= 0 && mSent < mBody.size()) {
      mSocket->flush();
      mSocket->abort();
      return;
    }
    mSocket->disconnectFromHost();
  }

 private:
  QPointer<QTcpSocket> mSocket;
  QByteArray mBody;
  ServeOptions mOptions;
  qint64 mSent = 0;
};

}  // namespace

class FaultServerWorker : public QObject {
 public:
  explicit FaultServerWorker(FaultServer* owner) : mOwner(owner) {}
  void onConnection(QTcpServer* server) {
    while (QTcpSocket* socket = server->nextPendingConnection()) {
      connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
      auto buffer = std::make_shared<QByteArray>();
      auto handled = std::make_shared<bool>(false);
      connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer, handled] {
        buffer->append(socket->readAll());
        if (*handled) return;
        const qsizetype end = buffer->indexOf("\r\n\r\n");
        if (end < 0) return;
        HttpRequest request;
        const QList<QByteArray> lines = buffer->left(end).split('\n');
        const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
        request.method = first.value(0);
        request.path = first.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
          const qsizetype colon = lines[i].indexOf(':');
          if (colon > 0) request.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
        }
        const qint64 length = request.header("Content-Length").toLongLong();
        if (buffer->size() < end + 4 + length) return;  // the body is still coming
        request.body = buffer->mid(end + 4, length);
        *handled = true;
        mOwner->log(request);
        QByteArray routePath = request.path;
        const qsizetype q = routePath.indexOf('?');
        if (q >= 0) routePath.truncate(q);
        const FaultServer::Handler handler = mOwner->handlerFor(routePath);
        if (handler)
          handler(request, socket);
        else
          FaultServer::respond(socket, 404, {{"Content-Type", "text/plain"}}, "no such test route");
      });
    }
  }

 private:
  FaultServer* mOwner;
};

FaultServer::FaultServer() {
  mThread.setObjectName(QStringLiteral("fault-server"));
  mThread.start();
  QSemaphore ready;
  auto* worker = new FaultServerWorker(this);
  worker->moveToThread(&mThread);
  QMetaObject::invokeMethod(worker, [this, worker, &ready] {
    mServer = new QTcpServer(worker);
    mServer->listen(QHostAddress::Any, 0);
    mPort = mServer->serverPort();
    QObject::connect(mServer, &QTcpServer::newConnection, worker, [this, worker] { worker->onConnection(mServer); });
    ready.release();
  });
  ready.acquire();
  QObject::connect(&mThread, &QThread::finished, worker, &QObject::deleteLater);
}

FaultServer::~FaultServer() {
  mThread.quit();
  mThread.wait();
}

void FaultServer::route(const QByteArray& path, Handler handler) {
  QMutexLocker lock(&mMutex);
  mRoutes.insert(path, std::move(handler));
}

FaultServer::Handler FaultServer::handlerFor(const QByteArray& path) const {
  QMutexLocker lock(&mMutex);
  return mRoutes.value(path);
}

QString FaultServer::base(const QString& host) const { return QStringLiteral("http://%1:%2").arg(host).arg(mPort); }

QUrl FaultServer::url(const QByteArray& path, const QString& host) const {
  return QUrl(base(host) + QString::fromLatin1(path));
}

void FaultServer::log(const HttpRequest& request) {
  QMutexLocker lock(&mMutex);
  mLog.push_back(request);
}

QList<HttpRequest> FaultServer::requests() const {
  QMutexLocker lock(&mMutex);
  return mLog;
}

QList<HttpRequest> FaultServer::requestsFor(const QByteArray& path) const {
  QList<HttpRequest> out;
  for (const HttpRequest& r : requests())
    if (r.path == path || r.path.startsWith(path + '?')) out << r;
  return out;
}

void FaultServer::clearLog() {
  QMutexLocker lock(&mMutex);
  mLog.clear();
}

void FaultServer::respond(QTcpSocket* socket, int status, const QList<QPair<QByteArray, QByteArray>>& headers,
                          const QByteArray& body) {
  QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) + "\r\n";
  bool hasLength = false;
  for (const auto& [name, value] : headers) {
    head += name + ": " + value + "\r\n";
    hasLength = hasLength || name.toLower() == "content-length";
  }
  if (!hasLength) head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  socket->write(head + body);
  socket->disconnectFromHost();
}

void FaultServer::serveBytes(const HttpRequest& request, QTcpSocket* socket, const QByteArray& body,
                             const ServeOptions& options) {
  const qint64 size = body.size();
  qint64 from = 0;
  int status = 200;
  const QByteArray range = request.header("Range");
  const QByteArray ifRange = request.header("If-Range");
  if (!range.isEmpty() && !options.ignoreRange && (ifRange.isEmpty() || ifRange == options.etag)) {
    from = range.mid(range.indexOf('=') + 1).split('-').value(0).toLongLong();
    if (from >= size) {
      respond(socket, 416, {{"Content-Range", "bytes */" + QByteArray::number(size)}});
      return;
    }
    status = 206;
  }
  QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) + "\r\n";
  head += "Content-Type: " + options.contentType + "\r\n";
  if (!options.etag.isEmpty()) head += "ETag: " + options.etag + "\r\n";
  head += "Accept-Ranges: bytes\r\n";
  for (const auto& [name, value] : options.extraHeaders) head += name + ": " + value + "\r\n";
  QByteArray payload;
  if (status == 206 && options.wrongRange) {
    head += "Content-Range: bytes 0-" + QByteArray::number(size - 1) + "/" + QByteArray::number(size) + "\r\n";
    payload = body;
  } else if (status == 206) {
    head += "Content-Range: bytes " + QByteArray::number(from) + "-" + QByteArray::number(size - 1) + "/" +
            QByteArray::number(size) + "\r\n";
    payload = body.mid(from);
  } else {
    payload = body;
  }
  payload += options.extraBody;
  if (!options.noContentLength) head += "Content-Length: " + QByteArray::number(payload.size() - options.extraBody.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  socket->write(head);
  auto* sender = new Sender(socket, payload, options);
  sender->next();
}

}  // namespace kiln::test
