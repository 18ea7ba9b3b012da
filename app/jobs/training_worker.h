#pragma once
// Runs a training session off the GUI thread (DESIGN §3: training gets its own worker). One
// instance lives in its own QThread; run() and exportSession() arrive as queued calls and run
// the engine's synchronous run_training / export_session there. The engine's callbacks arrive on
// that thread and leave as signals that carry values. Pausing and stopping request the stop
// token the job carries: the engine saves a checkpoint and returns, and a later run with
// `resume` continues exactly where it stopped.

#include <QMetaType>
#include <QObject>
#include <QString>

#include <stop_token>

#include "bridge/error_message.h"

namespace kiln::app {

// One optimizer step as the charts read it (the engine's StepMetrics in Qt terms).
struct TrainingStep {
  qint64 step = 0;  // global, 1-based
  qint64 totalSteps = 0;
  bool textEncoder = false;  // the stage: text encoder, else UNet
  qint64 stageStep = 0;      // 1-based within the stage
  qint64 stageSteps = 0;
  double loss = 0;
  double learningRate = 0;
  double gradNorm = 0;
  double seconds = 0;  // wall time of the step
  quint64 memory = 0;  // bytes: CUDA peak allocated, or the resident set size on the CPU
};

struct TrainingJob {
  QString session;
  bool resume = true;
  std::stop_token stop;
};

struct ExportJob {
  QString session;
  QString output;
  QString format = QStringLiteral("safetensors");  // "safetensors", "ckpt", "diffusers"
  bool half = false;
  bool overwrite = false;
};

class TrainingWorker : public QObject {
  Q_OBJECT

 public:
  explicit TrainingWorker(QObject* parent = nullptr);
  ~TrainingWorker() override;

  // On this object's thread (a queued call). Ends with finished(), stopped() or failed().
  void run(const kiln::app::TrainingJob& job);
  // On this object's thread. Ends with exported() or exportFailed().
  void exportSession(const kiln::app::ExportJob& job);

 Q_SIGNALS:
  void started(const QString& session);
  void stepDone(const kiln::app::TrainingStep& step);
  // The engine's words (English), also in the session's log.txt.
  void logLine(const QString& text);
  void sampleReady(const QString& image, qint64 step, const QString& prompt);
  void checkpointSaved(qint64 step, bool textEncoder, bool allStagesDone);
  void finished(qint64 steps);
  // A stop request ended the run early; the checkpoint at `step` holds it.
  void stopped(qint64 step, qint64 totalSteps);
  void failed(const kiln::app::UserMessage& message);
  void exported(const QString& output, qint64 steps, quint64 bytes, bool lora);
  void exportFailed(const kiln::app::UserMessage& message);
};

}  // namespace kiln::app

Q_DECLARE_METATYPE(kiln::app::TrainingStep)
