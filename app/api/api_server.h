#pragma once
// AUTOMATIC1111's web API (/sdapi/v1/...) on Qt's HTTP server, so A1111 clients (webuiapi,
// SillyTavern, Open WebUI, Krita and Photoshop plug-ins, scripts) can drive Kiln unchanged.
//
// Generation runs on the Generate page's EngineWorker in its own thread, one job at a time;
// requests wait in a queue and get their answer when their images are done. progress,
// interrupt and skip answer at once while a job runs (the HTTP side never waits on the engine).
// Each image of batch_size x n_iter is its own engine run with seed + i (A1111's all_seeds).
//
// Defaults a user can trust: loopback unless told otherwise; HTTP Basic on every route when
// credentials are set; a Host-header check against DNS rebinding; no CORS headers unless the
// origin is listed, and a request with any other Origin is refused; JSON bodies only (415 before
// any work); a request-body limit enforced while the request arrives (413) and image-size limits
// (422); images only as base64, never fetched from URLs or opened from paths.

#include <QElapsedTimer>
#include <QHostAddress>
#include <QImage>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QThreadPool>
#include <QtHttpServer/QAbstractHttpServer>

#include <memory>
#include <stop_token>

#include "api/api_request.h"
#include "api/model_catalog.h"
#include "jobs/engine_worker.h"

class QTcpServer;
class QTcpSocket;
class QHttpServerRequest;

namespace kiln::api {

struct ApiOptions {
  QHostAddress address = QHostAddress::LocalHost;
  QString host = QStringLiteral("127.0.0.1");  // as given on the command line (for the Host check)
  quint16 port = 7860;                         // 0: any free port
  QStringList modelFolders;
  QStringList embeddingFolders;                // textual inversion embeddings (a prompt word equal to a file's name)
  QList<QPair<QString, QString>> credentials;  // user, password; empty: no authentication
  QStringList corsOrigins;                     // "*" allows any origin
  // More names a request's Host may carry, with any port (a tunnel's public name).
  QStringList extraHosts;
  qint64 maxBodyBytes = 64LL * 1024 * 1024;
  ImageLimits imageLimits;
};

// What `kiln-cli serve` and the app's API server settings take, as text: false with `error` (one
// line naming the value) when it does not parse.
bool setApiHost(ApiOptions& options, const QString& host, QString* error);                 // "127.0.0.1", "::", "[::1]", "localhost"
bool setApiCredentials(ApiOptions& options, const QString& pairs, QString* error);        // "user:pass[,user:pass]"
void setApiCorsOrigins(ApiOptions& options, const QString& origins);                      // "a,b"; "*" any

// The Host values ("name:port") a request may carry for `options`, beside `extraHosts` (empty:
// any, when bound to every address).
QStringList allowedHosts(const ApiOptions& options, quint16 port);
// Whether a request's Host header passes the DNS-rebinding check.
bool hostAllowed(const QByteArray& host, const QStringList& allowed, const QStringList& extraHosts);

class ApiServer : public QAbstractHttpServer {
  Q_OBJECT

 public:
  explicit ApiServer(ApiOptions options, QObject* parent = nullptr);
  // Generation on `sharedWorker` (the desktop app's Generate page worker, in its own thread):
  // one engine and one loaded model for the page and the API; jobs run one at a time in the
  // order they reach the worker. Its job ids are kept apart from the page's (kSharedJobIds up).
  ApiServer(ApiOptions options, app::EngineWorker* sharedWorker, QObject* parent = nullptr);
  static constexpr quint64 kSharedJobIds = quint64{1} << 48;
  // Stops the running job and waits for the engine thread (its own; a shared one is left running).
  ~ApiServer() override;
  // Model folders to list (the app's library folders); takes effect at the next refresh.
  void setModelFolders(const QStringList& folders);
  // Whether a request is waiting or running.
  bool isBusy() const { return mCurrent != nullptr || !mQueue.isEmpty(); }

  // Searches the model folders and listens; false with `error` set.
  bool start(QString* error);
  quint16 port() const { return mPort; }
  // Stops the running job and drops the queued ones (their clients get 503).
  void stopAll();

 protected:
  bool handleRequest(const QHttpServerRequest& request, QTcpSocket* socket) override;
  void missingHandler(const QHttpServerRequest& request, QTcpSocket* socket) override;

 private:
  struct Client;
  struct Task;
  struct Reply {
    int status = 200;
    QByteArray body;  // JSON
    QList<QPair<QByteArray, QByteArray>> headers;
  };

  static Reply json(const QJsonValue& value, int status = 200);
  static Reply error(int status, const QString& detail);
  void send(QTcpSocket* socket, const Client& client, const Reply& reply);

  // The routes; a null optional means the reply comes later (generation).
  std::optional<Reply> route(const QString& method, const QString& path, const QHttpServerRequest& request,
                             const QJsonObject& body, QTcpSocket* socket, const Client& client);
  Reply progressReply(bool skipImage) const;
  Reply optionsReply() const;
  Reply setOptions(const QJsonObject& body);
  Reply sdModels() const;
  Reply loras() const;
  Reply pngInfo(const QJsonObject& body) const;
  Reply memory() const;
  Reply embeddings() const;
  Reply cmdFlags() const;
  Reply controlNetModels() const;
  Reply controlNetModules() const;
  Reply detect(const QJsonObject& body, QTcpSocket* socket, const Client& client);
  Reply enqueue(const QJsonObject& body, bool img2img, QTcpSocket* socket, const Client& client);

  void startNext();
  void runStep();
  void finishTask(std::optional<Reply> failure = std::nullopt);
  QJsonObject infoObject(const Task& task) const;

  void onProgress(quint64 id, const kiln::app::GenerationProgress& progress);
  void onPreview(quint64 id, const QImage& image);
  void onImage(quint64 id, const kiln::app::GeneratedImage& image);
  void onRunEnded(quint64 id);
  void onFailed(quint64 id, const kiln::app::UserMessage& message);
  void connectWorker(app::EngineWorker* worker);

  ApiOptions mOptions;
  QStringList mAllowedHosts;
  quint16 mPort = 0;
  ModelCatalog mCatalog;
  QString mModelPath;  // the current checkpoint (options' sd_model_checkpoint)
  int mClipSkip = 1;   // options' CLIP_stop_at_last_layers
  bool mLivePreviews = true;

  QThreadPool mDetectPool;  // /controlnet/detect, one at a time
  QThread mThread;
  QPointer<app::EngineWorker> mWorker;
  quint64 mNextJobId = 0;
  QList<std::shared_ptr<Task>> mQueue;
  std::shared_ptr<Task> mCurrent;
};

}  // namespace kiln::api
