#pragma once
// One model file fetched over HTTP(S) into a folder, as a user of a desktop app expects it:
// resumable, verified, never half-written in the library.
//
// - The bytes go to NAME.part beside the target, with NAME.part.json holding what the part is
//   (source, expected sha256 and size, the server's ETag). A later FileDownload of the same
//   request (after pause, a crash, a restart of Kiln or kiln-cli) re-hashes the part, then asks
//   for the rest with Range + If-Range. A 200 answer to a Range request restarts from zero; a 206
//   whose Content-Range does not start where the part ends is dropped and the file restarted; 416
//   means the part is complete or stale.
// - SHA-256 is computed while streaming. The expected value is the catalog's, the caller's, Hugging
//   Face's LFS record (X-Linked-Etag on the resolve answer) or Civitai's file hash. Only a verified
//   file is renamed to NAME; a mismatch removes the part and says so.
// - Redirects are followed by hand (at most `maxRedirects`, loops detected); Authorization
//   (HF_TOKEN, CIVITAI_TOKEN from the environment, never stored or logged) goes only to the
//   service's own host, never to the CDN it redirects to.
// - Faults: 401/403 (gated: accept the licence on the model page and set HF_TOKEN), 404, a web page
//   served instead of the file, a size other than announced, more bytes than announced, a full
//   disk (checked before starting and on every write) end it with one line in error(); dropped
//   connections, stalls (no byte for `stallTimeoutMs`), 408/429/5xx are retried with exponential
//   backoff honouring Retry-After, up to `maxAttempts` tries in a row without progress.
// Lives in the thread of its QNetworkAccessManager; everything is asynchronous.

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <memory>

#include "downloads/source_spec.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace kiln::downloads {

struct DownloadOptions {
  int maxAttempts = 8;                      // tries in a row without a byte of progress
  int stallTimeoutMs = 30'000;              // no byte for this long: drop and retry
  int firstBackoffMs = 1'000;               // then doubled per try
  int maxBackoffMs = 60'000;
  int maxRetryAfterMs = 15 * 60 * 1'000;    // a longer Retry-After ends the download
  int maxRedirects = 10;
  qint64 freeSpaceMargin = 200'000'000;     // keep this much free beyond the file
};

struct DownloadRequest {
  SourceSpec source;
  QString directory;        // where the file goes (created if missing)
  QString fileName;         // empty: the source's own name
  QString expectedSha256;   // lowercase hex; empty when not known before the server says
  QString shaOrigin;        // where expectedSha256 comes from, for messages (default "catalog")
  qint64 expectedSize = -1;
  QString label;            // what the user sees ("Stable Diffusion 1.5"); empty: the file name
};

class FileDownload : public QObject {
  Q_OBJECT

 public:
  enum class State {
    Idle,        // created, not started
    Checking,    // reading the Civitai file list, or re-hashing a part already on disk
    Connecting,  // request sent, no byte yet
    Downloading,
    Waiting,     // before a retry
    Paused,      // stopped by the user; the part stays
    Finished,    // the file is in place (verified() says whether a hash was checked)
    Failed,      // error() says why; the part stays when a resume can help
    Cancelled,   // stopped by the user; the part was removed
  };
  Q_ENUM(State)

  FileDownload(DownloadRequest request, QNetworkAccessManager* network, DownloadOptions options = {},
               QObject* parent = nullptr);
  ~FileDownload() override;

  // Starts, or resumes after pause() or a failure.
  void start();
  // Stops and keeps the part for a later start().
  void pause();
  // Stops and removes the part.
  void cancel();
  // A download brought back from a saved queue that the user had paused (or that had failed):
  // shown as paused until start().
  void holdPaused();

  const DownloadRequest& request() const { return mRequest; }
  State state() const { return mState; }
  bool isActive() const;
  QString label() const;
  QString fileName() const { return mFileName; }
  QString targetPath() const;
  QString partPath() const;
  qint64 received() const { return mHave; }
  qint64 total() const { return mTotal; }  // -1 while unknown
  double bytesPerSecond() const { return mRate; }
  // Seconds left at the current speed, -1 when unknown.
  qint64 secondsLeft() const;
  QString error() const { return mError; }
  QString expectedSha256() const { return mExpectedSha; }
  // Where the expected sha256 came from ("catalog", "Hugging Face", "Civitai", "given").
  QString shaOrigin() const { return mShaOrigin; }
  bool verified() const { return mVerified; }
  // Finished without downloading: the target was already there with the expected sha256.
  bool wasAlreadyThere() const { return mAlreadyThere; }
  int attempts() const { return mAttempts; }

 Q_SIGNALS:
  void stateChanged(kiln::downloads::FileDownload::State state);
  void progress(qint64 received, qint64 total);
  // Notes for a log: retries, restarts, redirects (URLs without their query).
  void note(const QString& line);
  void finished();  // Finished, Failed or Cancelled

 private:
  void setState(State state);
  void fail(const QString& message, bool removePart);
  void resolveCivitai();
  void onCivitaiAnswer();
  void beginFile();
  void hashFile(const QString& path);
  void hashSlice();
  void sendRequest(const QUrl& url);
  void onHeaders();
  void onData();
  void onReplyFinished();
  void onStall();
  void retry(const QString& reason, int retryAfterMs = -1);
  void restartFromZero(const QString& reason);
  void complete();
  void dropReply();
  void closePart();
  bool openPart();
  void writeMeta();
  void removePartFiles();
  bool adoptExpectedSha(const QString& sha, const QString& origin);
  bool adoptExpectedSize(qint64 size, const QString& origin);
  bool checkFreeSpace(qint64 needed);
  void updateRate();
  QByteArray authorizationFor(const QUrl& url) const;

  DownloadRequest mRequest;
  QNetworkAccessManager* mNetwork;
  DownloadOptions mOptions;
  State mState = State::Idle;
  QString mFileName;
  QString mError;
  QString mExpectedSha;
  QString mShaOrigin;
  qint64 mExpectedSize = -1;
  QUrl mStartUrl;           // the service's URL; redirects start here again on each try
  QString mAuthHost;        // the host that may see the token
  QByteArray mToken;
  QString mEtag;            // of the body, for If-Range
  qint64 mHave = 0;
  qint64 mTotal = -1;
  bool mHashValid = false;  // mHash covers exactly the mHave bytes of the part
  bool mVerified = false;
  bool mCheckingTarget = false;
  bool mAlreadyThere = false;
  bool mHeadersDone = false;
  bool mBodyStarted = false;
  bool mProgressThisTry = false;
  int mAttempts = 0;
  int mRedirects = 0;
  QSet<QString> mVisited;
  std::unique_ptr<QCryptographicHash> mHash;
  QFile mPart;
  QFile mHashSource;        // the part being re-hashed
  QPointer<QNetworkReply> mReply;
  QTimer mStallTimer;
  QTimer mRetryTimer;
  QElapsedTimer mRateClock;
  qint64 mRateBytes = 0;
  double mRate = 0;
};

QString stateName(FileDownload::State state);

}  // namespace kiln::downloads
