#pragma once
// Captioning a set of dataset images through a vision endpoint: plan, bounded queue, results.
//
// Modes: Fill (only images without a caption or with a blank one: a rerun after a stop resumes),
// Replace (also Kiln's own earlier captions and failed ones; captions the person wrote, edited or
// marked reviewed are skipped unless overwriteEdited), Append (the new text after the existing
// caption). Each caption is written atomically as it arrives (`.txt` beside the image) and its
// provenance goes to the dataset's CaptionStore. Empty answers and refusals are not written (the
// image is marked failed); truncated, repetitive, over-75-token or token-less captions are written
// and flagged for review. At most `concurrency` requests are in flight (halved after a 429, down
// to 1); an outcome that concerns the endpoint (401, 403, 404, quota, no vision, unreachable)
// stops the run with its reason. Pause stops starting requests; cancel aborts those in flight
// (nothing half-written).

#include <QFutureWatcher>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

#include "captioning/caption_store.h"
#include "captioning/caption_text.h"
#include "captioning/endpoint_profile.h"
#include "captioning/vision_client.h"

namespace kiln::captioning {

enum class CaptionMode { Fill, Replace, Append };
QString modeId(CaptionMode mode);  // "fill", "replace", "append"
std::optional<CaptionMode> modeFromId(const QString& id);

struct CaptionRunSettings {
  EndpointProfile profile;
  PromptSettings prompt;
  CaptionMode mode = CaptionMode::Fill;
  bool overwriteEdited = false;
  RetryPolicy retry;
};

struct CaptionItem {
  enum class State { Pending, Skipped, Running, Done, Failed };
  QString image;        // absolute path
  State state = State::Pending;
  QString reason;       // Skipped / Failed: one line
  QString existing;     // the caption before the run
  QString prompt;       // what was asked
  ProcessedCaption caption;
  VisionReply reply;
};
QString itemStateName(CaptionItem::State state);

class CaptionRun : public QObject {
  Q_OBJECT

 public:
  using TokenCounter = std::function<int(const QString&)>;

  CaptionRun(QString datasetDir, QStringList images, CaptionRunSettings settings, QNetworkAccessManager* network,
             QObject* parent = nullptr);
  ~CaptionRun() override;

  void setTokenCounter(TokenCounter counter) { mCounter = std::move(counter); }
  // Reads the captions and decides, per image, whether it is asked for; also done by start().
  // Returns "" or one line (a prompt template error).
  QString plan();
  void start();
  void pause();
  void resume();
  void cancel();

  const QList<CaptionItem>& items() const { return mItems; }
  int pendingCount() const;
  int doneCount() const;
  int failedCount() const;
  int skippedCount() const;
  int inFlight() const { return int(mCalls.size()); }
  int concurrency() const { return mConcurrency; }
  bool isRunning() const { return mRunning; }
  bool isPaused() const { return mPaused; }
  bool isFinished() const { return mFinished; }
  // Why the run stopped early ("" when it did not), and the outcome that stopped it.
  QString stopReason() const { return mStopReason; }
  VisionReply::Outcome stopOutcome() const { return mStopOutcome; }
  bool cancelled() const { return mCancelled; }
  qint64 promptTokens() const { return mPromptTokens; }
  qint64 completionTokens() const { return mCompletionTokens; }
  // Seconds left at the pace so far, -1 when unknown.
  qint64 secondsLeft() const;

 Q_SIGNALS:
  void itemChanged(int index);
  void note(const QString& line);
  void finished();

 private:
  struct Call;
  void pump();
  void launch(int index);
  void onPrepared(int index, QFutureWatcher<std::optional<QByteArray>>* watcher);
  void onReply(int index, CaptionCall* call);
  void complete(int index);
  void stop(const QString& reason, VisionReply::Outcome outcome);
  void abortInFlight();
  void finishIfDone();
  void saveStore();

  QString mDir;
  QStringList mImages;
  CaptionRunSettings mSettings;
  QNetworkAccessManager* mNetwork;
  CaptionStore mStore;
  TokenCounter mCounter;
  QList<CaptionItem> mItems;
  QHash<int, QObject*> mCalls;  // index -> preparing watcher or CaptionCall
  int mConcurrency = 1;
  bool mPlanned = false;
  bool mRunning = false;
  bool mPaused = false;
  bool mFinished = false;
  bool mCancelled = false;
  QString mStopReason;
  VisionReply::Outcome mStopOutcome = VisionReply::Outcome::Ok;
  qint64 mPromptTokens = 0;
  qint64 mCompletionTokens = 0;
  QElapsedTimer mClock;
  int mCompletedThisRun = 0;
};

}  // namespace kiln::captioning
