#pragma once
// Runs the diffusion engine off the GUI thread. One persistent instance lives in its own
// QThread and owns the loaded model (kept until a job names another model, so device state
// stays on one thread). Jobs arrive as queued calls of generate(); progress, throttled
// previews and every finished image leave as signals that carry values. A job stops at the
// next step once its stop token is requested and ends with cancelled(); images of a run that
// did not finish are never announced or written.

#include <QImage>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <memory>
#include <stop_token>

#include "base/precision.h"
#include "bridge/error_message.h"
#include "bridge/generation_parameters.h"
#include "control/geometry.h"
#include "state/lora_choice.h"

namespace kiln::pipelines {
enum class ControlMode;
}

namespace kiln::app {

// One enabled ControlNet unit of a job. The worker fits `map` to the output size with
// `resizeMode` (A1111's detectmap_proc), loads each ControlNet file once and keeps it while the
// next jobs use it. The rest is what the PNG's "ControlNet i" record says of the unit.
struct ControlUnitJob {
  QString modelPath;
  QImage map;  // the preprocessor's output (or the drawn scribble, the rendered pose), any size
  control::ResizeMode resizeMode = control::ResizeMode::CropAndResize;
  double weight = 1.0;
  double start = 0.0, end = 1.0;
  pipelines::ControlMode mode{};  // Balanced
  QString module = QStringLiteral("none");
  int resolution = 512;
  bool pixelPerfect = false;
  double thresholdA = 0.5, thresholdB = 0.5;  // the preprocessor's sliders 1 and 2 (A1111's slots)
};

struct GenerationJob {
  quint64 id = 0;
  QString modelPath;
  // What to make; `parameters.seed` is the first run's seed, run i uses seed + i (A1111's batch
  // count). modelHash and modelName are written into the images' parameters.
  bridge::GenerationParameters parameters;
  int batchSize = 1;   // images per run (one sampling of a batch)
  int batchCount = 1;  // runs
  // AUTOMATIC1111's seeds (the Generate page): image k of batchCount x batchSize uses seed + k with
  // its own noise, so any image can be made again alone from its seed; each is its own engine run.
  // false: diffusers' batch, one generator for the batch of a run (seed + run).
  bool a1111Seeds = false;
  QImage initImage;    // img2img / inpainting; parameters.denoisingStrength is the strength
  QImage mask;         // inpainting: white = repaint (the init image's size or any size)
  // Merged into the model before the first run, in order; the worker keeps them merged while the
  // next jobs name the same list and restores the weights when it changes. Written into each
  // image's parameters (parameters.loras is filled by the worker).
  QList<LoRAChoice> loras;
  // In order; unit i is "ControlNet i" in the images' parameters (parameters.controlNets is filled
  // by the worker).
  QList<ControlUnitJob> controlUnits;
  // Each image is written there as a PNG with its parameters as soon as its run ends (atomically);
  // empty: not written.
  QString outputFolder;
  // What the models compute in, resolved by the worker for its device (base/precision.h); a
  // change reloads the model. Each image's parameters record the dtype ("Kiln precision").
  Precision precision = Precision::Auto;
  // The VAE in tiles: "auto", "on" or "off" (pipelines::VaeTilingMode; a machine setting like the
  // precision, not recorded in the images).
  QString vaeTiling = QStringLiteral("auto");
  // TAESD (taesd_decoder / taesdxl_decoder file or folder): live previews decoded by it while
  // sampling; empty: the cheap linear previews. With fastDecode the final image is decoded by it
  // too (recorded as "VAE Decoder: TAESD").
  QString taesdPath;
  bool fastDecode = false;
  // Folders of textual inversion embeddings (a prompt word equal to a file's name uses it).
  QStringList embeddingFolders;
  // Hires fix with an ESRGAN-family model file (parameters.hires->upscaler holds its name).
  QString hiresUpscalerModel;
  // A cell of the Generate page's X/Y/Z plot (0: not part of one); the worker ignores it.
  quint64 plotId = 0;
  int plotCell = -1;
  std::stop_token stop;
};

struct GenerationProgress {
  int run = 0;  // 0-based, of `runs`
  int runs = 1;
  int step = 0;  // 1-based, of `total` model calls of this run
  int total = 0;
  double seconds = 0;  // since this run's sampling began

  // Fraction of the whole job done, 0..1.
  double fraction() const { return total > 0 && runs > 0 ? (run + static_cast<double>(step) / total) / runs : 0.0; }
};

struct GeneratedImage {
  QImage image;
  bridge::GenerationParameters parameters;
  int run = 0;
  int index = 0;      // in its run's batch
  QString path;       // where it was written; empty when it was not
  QString saveError;  // why writing it failed
};

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  enum class Stage { LoadingModel, LoadingControlNet, ApplyingLoRAs, EncodingPrompt, Sampling, Decoding, Saving };
  Q_ENUM(Stage)

  explicit EngineWorker(QObject* parent = nullptr);
  ~EngineWorker() override;

  // Runs `job` on this object's thread; call it through a queued invocation.
  void generate(const kiln::app::GenerationJob& job);
  // Forgets the loaded model and ControlNets (frees their memory); on this object's thread.
  void releaseModel();

  // Seconds between two previews (default 0.25).
  void setPreviewInterval(double seconds) { mPreviewInterval = seconds; }
  // Whether the CPU computes bf16 natively, as the jobs' precision is resolved (default:
  // cpu_computes_bf16_natively()); tests set it to try both answers on any machine.
  void setCpuBf16(bool native) { mCpuBf16 = native; }
  // The device the worker loads models on: CUDA when LibTorch sees a device, else the CPU.
  static bool usesCuda();

 Q_SIGNALS:
  void started(quint64 id);
  void stageChanged(quint64 id, kiln::app::EngineWorker::Stage stage);
  void progress(quint64 id, const kiln::app::GenerationProgress& progress);
  // The first image of the batch as the sampler sees it, 1/8 of the output size.
  void preview(quint64 id, const QImage& image);
  void imageReady(quint64 id, const kiln::app::GeneratedImage& image);
  // The engine's remarks on a run (English).
  void warning(quint64 id, const QString& text);
  void finished(quint64 id);
  void failed(quint64 id, const kiln::app::UserMessage& message);
  void cancelled(quint64 id);

 private:
  struct Loaded;
  struct ControlNets;
  void ensureModel(const GenerationJob& job);
  void ensureControlNets(const GenerationJob& job);
  void ensureLoRAs(const GenerationJob& job);
  void ensureTaesd(const GenerationJob& job);
  // Returns false when cancelled.
  bool runJob(const GenerationJob& job);

  std::unique_ptr<Loaded> mLoaded;
  std::unique_ptr<ControlNets> mControlNets;
  double mPreviewInterval = 0.25;
  bool mCpuBf16;
};

}  // namespace kiln::app

Q_DECLARE_METATYPE(kiln::app::GenerationJob)
Q_DECLARE_METATYPE(kiln::app::GenerationProgress)
Q_DECLARE_METATYPE(kiln::app::GeneratedImage)
