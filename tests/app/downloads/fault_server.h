#pragma once
// A small HTTP/1.1 server for download tests, in its own thread, that misbehaves on request:
// answers Range requests correctly or with 200 / a wrong Content-Range / 416, drops the
// connection or stalls part-way, throttles, redirects, serves web pages or more bytes than
// announced. Every request is logged with its headers. Each answer closes its connection.

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QMutex>
#include <QThread>
#include <QUrl>

#include <functional>
#include <memory>

class QTcpServer;
class QTcpSocket;

namespace kiln::test {

struct HttpRequest {
  QByteArray method;
  QByteArray path;  // with the query
  QMap<QByteArray, QByteArray> headers;  // lower-case names
  QByteArray body;  // of a POST (Content-Length)
  QByteArray header(const QByteArray& name) const { return headers.value(name.toLower()); }
};

// How serveBytes answers.
struct ServeOptions {
  QByteArray etag = "\"kiln-test-v1\"";
  QByteArray contentType = "application/octet-stream";
  QList<QPair<QByteArray, QByteArray>> extraHeaders;
  int chunkBytes = 64 * 1024;  // bytes per write
  int chunkDelayMs = 0;        // between writes (throttle)
  qint64 dropAfter = -1;       // close the connection after this many body bytes
  qint64 stallAfter = -1;      // stop sending (socket kept open) after this many body bytes
  bool ignoreRange = false;    // answer Range with 200 and the whole file
  bool wrongRange = false;     // answer Range with 206 from byte 0
  bool noContentLength = false;  // body ends when the connection closes
  QByteArray extraBody;        // sent after the file (with noContentLength: more than announced)
};

class FaultServer {
 public:
  using Handler = std::function<void(const HttpRequest&, QTcpSocket*)>;

  FaultServer();
  ~FaultServer();

  // Handlers run in the server's thread; set them before the requests come.
  void route(const QByteArray& path, Handler handler);
  // http://127.0.0.1:PORT/path (or with `host`, e.g. "localhost", to look like another host).
  QUrl url(const QByteArray& path, const QString& host = QStringLiteral("127.0.0.1")) const;
  QString base(const QString& host = QStringLiteral("127.0.0.1")) const;
  quint16 port() const { return mPort; }

  QList<HttpRequest> requests() const;
  QList<HttpRequest> requestsFor(const QByteArray& path) const;
  void clearLog();

  // Answers helpers (call them from a handler).
  static void serveBytes(const HttpRequest& request, QTcpSocket* socket, const QByteArray& body,
                         const ServeOptions& options = {});
  static void respond(QTcpSocket* socket, int status, const QList<QPair<QByteArray, QByteArray>>& headers = {},
                      const QByteArray& body = {});

 private:
  friend class FaultServerWorker;
  void log(const HttpRequest& request);
  Handler handlerFor(const QByteArray& path) const;

  QThread mThread;
  QTcpServer* mServer = nullptr;
  quint16 mPort = 0;
  mutable QMutex mMutex;
  QMap<QByteArray, Handler> mRoutes;
  QList<HttpRequest> mLog;
};

}  // namespace kiln::test
