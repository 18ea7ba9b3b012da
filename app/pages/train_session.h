#pragma once
// The Train page's view of a session folder in Qt terms: the form <-> the engine's
// TrainingSettings, the checks made before Start (validate_settings, the exact prompt of each
// image, missing captions, resolution vs the model's, a rough CUDA memory estimate), creating,
// reading and extending sessions, and the metrics a session has written so far. Engine errors
// come back as UserMessages (app/bridge). No LibTorch here: the training headers are plain C++.

#include <QCoreApplication>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

#include "bridge/error_message.h"
#include "jobs/training_worker.h"

namespace kiln::app {

struct TrainForm {
  QString baseModel;
  QString images;
  QString token = QStringLiteral("sks");
  QString classPrompt;
  bool fileNameCaptions = false;  // the file-name rule instead of caption files
  bool lora = false;
  int loraRank = 4;
  double loraAlpha = 4.0;
  qint64 textEncoderSteps = 350;
  double textEncoderLearningRate = 1e-6;
  qint64 unetSteps = 1500;
  double unetLearningRate = 2e-6;
  int resolution = 512;
  int batchSize = 1;
  qint64 saveEvery = 500;
  int keepCheckpoints = 4;  // newest checkpoints kept as model / LoRA files
  qint64 sampleEvery = 0;
  QString samplePrompt;
  quint64 seed = 1337;
  QString device = QStringLiteral("cpu");
  QString mixedPrecision = QStringLiteral("no");  // "no", "fp16", "bf16" (CUDA)
  bool gradientCheckpointing = false;
  QString optimizer = QStringLiteral("adamw");  // "adamw", "adamw8bit", "adafactor" (fixed for a session)

  bool operator==(const TrainForm&) const = default;
};

struct TrainExample {
  QString image;
  QString prompt;  // exactly what the text encoder sees
  bool fromCaptionFile = false;
};

// What the page shows under the form before Start.
struct TrainCheck {
  UserMessage error;     // the first thing that makes Start impossible; empty when none
  QStringList warnings;  // things that work but are probably not meant
  QList<TrainExample> examples;
  int missingCaptions = 0;  // images without a caption file (caption-file mode)
  QString memoryEstimate;   // CUDA only; empty on the CPU
};

struct SessionState {
  bool exists = false;  // the folder holds a session (settings.json)
  bool hasCheckpoint = false;
  qint64 step = 0;  // the latest checkpoint's global step
  qint64 totalSteps = 0;
  bool finished = false;  // every stage is complete
  int keptCheckpoints = 0;  // checkpoints kept as files (see CheckpointComparison)
};

// What "Compare Checkpoints" hands the Generate page: the kept checkpoints of a session as an
// X/Y/Z plot axis over models (DreamBooth) or LoRA files on the base model (LoRA).
struct CheckpointComparison {
  QString session;
  QStringList files;  // oldest first
  bool lora = false;
  QString baseModel;  // what the LoRAs go on; DreamBooth: the model the session started from
  QString prompt;     // the session's sample prompt, else "photo of <token>"
  int resolution = 512;
  quint64 seed = 0;   // the session's sample seed
  // The axis text ("checkpoint:A,B" / "lora_file:A,B").
  QString axisText() const;
};

class TrainSession {
  Q_DECLARE_TR_FUNCTIONS(TrainSession)

 public:
  // Safe on any thread: reads the image folder and the model's config only.
  // `nativeResolution` 0: not known; `family` as the library names it ("sd1"), empty: not known.
  static TrainCheck check(const TrainForm& form, int nativeResolution, const QString& family);
  // The resolution a model was trained at: a diffusers folder's unet sample_size times the VAE's
  // scale; else by family ("sd2" 768, "sdxl" 1024, other SD 512); 0 when unknown.
  static int nativeResolution(const QString& modelPath, const QString& family);

  static std::optional<UserMessage> create(const QString& dir, const TrainForm& form);
  static std::optional<TrainForm> read(const QString& dir, UserMessage* error);
  // Writes `form` over the session's settings (the run continues with them on resume).
  static std::optional<UserMessage> write(const QString& dir, const TrainForm& form);
  static SessionState state(const QString& dir);
  // The session's kept checkpoints and what to make with them; nullopt when it keeps none.
  static std::optional<CheckpointComparison> comparison(const QString& dir);
  // metrics.jsonl, in order; lines that do not parse are skipped.
  static QList<TrainingStep> readMetrics(const QString& dir);
  // The session's sample images, oldest first (samples/*.png).
  static QStringList samples(const QString& dir);
};

}  // namespace kiln::app
