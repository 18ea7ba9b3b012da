#include "jobs/engine_worker.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/error.h"
#include "base/runtime_info.h"
#include "bridge/control_image_qt.h"
#include "bridge/image_tensor.h"
#include "bridge/resource_paths.h"
#include "control/control_map_fit.h"
#include "pipelines/embeddings.h"
#include "pipelines/hires_fix.h"
#include "pipelines/lora.h"
#include "pipelines/model_loading.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"

namespace kiln::app {

namespace {

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }

// The next free number of A1111's "00042-<seed>.png" names in `folder`.
int nextImageNumber(const QDir& folder) {
  static const QRegularExpression numbered(QStringLiteral("^(\\d{5,})-"));
  int next = 0;
  for (const QString& name : folder.entryList({QStringLiteral("*.png")}, QDir::Files)) {
    const auto match = numbered.match(name);
    if (match.hasMatch()) next = std::max(next, match.captured(1).toInt() + 1);
  }
  return next;
}

// A1111's overlay for inpainting: outside the mask the result is the input image itself (the
// VAE round trip would otherwise shift colours and blur details that were not to change), with
// the mask's soft edge as the blend.
QImage pasteUnmasked(const QImage& result, const QImage& input, const QImage& mask) {
  const QSize size = result.size();
  const QImage original =
      input.scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(QImage::Format_RGB888);
  const QImage alpha =
      mask.scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(QImage::Format_Grayscale8);
  QImage out = result.convertToFormat(QImage::Format_RGB888);
  for (int y = 0; y < size.height(); ++y) {
    uchar* o = out.scanLine(y);
    const uchar* s = original.constScanLine(y);
    const uchar* m = alpha.constScanLine(y);
    for (int x = 0; x < size.width(); ++x) {
      for (int c = 0; c < 3; ++c) {
        const int i = 3 * x + c;
        o[i] = static_cast<uchar>((o[i] * m[x] + s[i] * (255 - m[x]) + 127) / 255);
      }
    }
  }
  return out;
}

}  // namespace

struct EngineWorker::Loaded {
  QString path;
  torch::Dtype dtype = torch::kFloat;
  pipelines::StableDiffusionModel model;
  pipelines::AppliedLoRAs loras;          // merged into `model`'s weights
  QList<bridge::LoRAUse> loraParameters;  // how the images' parameters name them
  // A1111's LoRA hash by "path|size|modified": a file is hashed once while it stays the same.
  QHash<QString, QString> loraHashes;
  QString taesdPath;  // the TAESD attached to `model` (empty: none)
};

// The ControlNets of the last job, by path, on the main model's device and dtype.
struct EngineWorker::ControlNets {
  struct Entry {
    pipelines::LoadedControlNet model;
    QString record;  // "name [hash]", as the PNG names it
  };
  std::map<QString, Entry> byPath;
  torch::Dtype dtype = torch::kFloat;  // of every entry
};

namespace {

torch::Device engineDevice() { return EngineWorker::usesCuda() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU); }

pipelines::ModelLoadOptions engineLoadOptions(torch::Dtype dtype) {
  pipelines::ModelLoadOptions options;
  options.device = engineDevice();
  options.dtype = dtype;
  return options;
}

}  // namespace

bool EngineWorker::usesCuda() {
  // Asked once; LibTorch's warning about a missing driver is not printed (Help > About says why).
  static const bool cuda = [] {
    struct Quiet : c10::WarningHandler {
      void process(const c10::Warning&) override {}
    } quiet;
    const c10::WarningUtils::WarningHandlerGuard guard(&quiet);
    return torch::cuda::is_available();
  }();
  return cuda;
}

EngineWorker::EngineWorker(QObject* parent)
    : QObject(parent), mControlNets(std::make_unique<ControlNets>()), mCpuBf16(cpu_computes_bf16_natively()) {
  qRegisterMetaType<kiln::app::GenerationProgress>();
  qRegisterMetaType<kiln::app::GeneratedImage>();
  qRegisterMetaType<kiln::app::UserMessage>();
}

EngineWorker::~EngineWorker() = default;

void EngineWorker::releaseModel() {
  mLoaded.reset();
  mControlNets->byPath.clear();
}

void EngineWorker::generate(const GenerationJob& job) {
  if (job.stop.stop_requested()) {
    Q_EMIT cancelled(job.id);
    return;
  }
  Q_EMIT started(job.id);
  try {
    // The guard is thread-local: inference runs on this thread only.
    c10::InferenceMode inference;
    ensureModel(job);
    ensureControlNets(job);
    ensureLoRAs(job);
    ensureTaesd(job);
    if (runJob(job))
      Q_EMIT finished(job.id);
    else
      Q_EMIT cancelled(job.id);
  } catch (const kiln::Error& e) {
    Q_EMIT failed(job.id, ErrorMessage::fromError(e));
  } catch (const std::exception& e) {
    Q_EMIT failed(job.id, ErrorMessage::fromException(e, job.modelPath));
  }
}

void EngineWorker::ensureModel(const GenerationJob& job) {
  // Refused precisions (bf16 on a CPU without it, fp16 on the CPU) fail the job before any load.
  const torch::Dtype dtype = resolve_precision(job.precision, engineDevice(), mCpuBf16).dtype;
  if (mLoaded && mLoaded->path == job.modelPath && mLoaded->dtype == dtype) return;
  Q_EMIT stageChanged(job.id, Stage::LoadingModel);
  mLoaded.reset();  // the old model's memory goes before the new one is read
  pipelines::ModelLoadOptions options = engineLoadOptions(dtype);
  options.tokenizer_dir = bridge::clipVocabularyDir();
  auto loaded = std::make_unique<Loaded>();
  loaded->path = job.modelPath;
  loaded->dtype = dtype;
  loaded->model = pipelines::load_stable_diffusion(toPath(job.modelPath), options);
  mLoaded = std::move(loaded);
}

void EngineWorker::ensureTaesd(const GenerationJob& job) {
  if (mLoaded->taesdPath == job.taesdPath) return;
  mLoaded->taesdPath.clear();
  pipelines::attach_taesd(mLoaded->model, toPath(job.taesdPath));  // empty: detached
  mLoaded->taesdPath = job.taesdPath;
}

void EngineWorker::ensureControlNets(const GenerationJob& job) {
  auto& byPath = mControlNets->byPath;
  // ControlNets compute in the main model's dtype: another precision loads them again.
  if (mControlNets->dtype != mLoaded->dtype) {
    byPath.clear();
    mControlNets->dtype = mLoaded->dtype;
  }
  // Files no unit names any more go first, so their memory is free before new ones load.
  for (auto it = byPath.begin(); it != byPath.end();) {
    const bool used = std::any_of(job.controlUnits.begin(), job.controlUnits.end(),
                                  [&](const ControlUnitJob& u) { return u.modelPath == it->first; });
    it = used ? std::next(it) : byPath.erase(it);
  }
  for (const ControlUnitJob& u : job.controlUnits) {
    if (byPath.count(u.modelPath) || job.stop.stop_requested()) continue;
    Q_EMIT stageChanged(job.id, Stage::LoadingControlNet);
    ControlNets::Entry entry;
    entry.model = pipelines::load_controlnet_model(toPath(u.modelPath), engineLoadOptions(mLoaded->dtype));
    const QFileInfo file(u.modelPath);
    entry.record = (file.isDir() ? file.fileName() : file.completeBaseName()) + QStringLiteral(" [") +
                   bridge::legacyModelHash(u.modelPath) + QLatin1Char(']');
    byPath.emplace(u.modelPath, std::move(entry));
  }
}

void EngineWorker::ensureLoRAs(const GenerationJob& job) {
  std::vector<pipelines::LoRASpec> specs;
  for (const LoRAChoice& l : job.loras) specs.push_back({toPath(l.path), l.weight});
  if (specs == mLoaded->loras.specs()) return;
  Q_EMIT stageChanged(job.id, Stage::ApplyingLoRAs);
  mLoaded->loras.restore();  // first the plain model again: a failure below leaves it so
  mLoaded->loraParameters.clear();
  mLoaded->loras = pipelines::apply_loras(mLoaded->model, specs);
  for (const LoRAChoice& l : job.loras) {
    const QFileInfo info(l.path);
    const QString key = QStringLiteral("%1|%2|%3").arg(l.path).arg(info.size()).arg(info.lastModified().toMSecsSinceEpoch());
    auto hash = mLoaded->loraHashes.find(key);
    if (hash == mLoaded->loraHashes.end())
      hash = mLoaded->loraHashes.insert(key, QString::fromStdString(pipelines::lora_file_hash(toPath(l.path)).substr(0, 12)));
    mLoaded->loraParameters << bridge::LoRAUse{info.completeBaseName(), l.weight, *hash};
  }
}

bool EngineWorker::runJob(const GenerationJob& job) {
  const bridge::GenerationParameters& p = job.parameters;
  pipelines::GenerationRequest request;
  request.prompt = p.prompt.toStdString();
  request.negative_prompt = p.negativePrompt.toStdString();
  request.width = p.width;
  request.height = p.height;
  request.steps = p.steps;
  request.guidance_scale = p.cfgScale;
  request.batch_size = job.batchSize;
  request.clip_skip = p.clipSkip;
  request.vae_tiling = pipelines::parse_vae_tiling(job.vaeTiling.toStdString()).value_or(pipelines::VaeTilingMode::Auto);
  request.fast_decode = job.fastDecode && !job.taesdPath.isEmpty();
  request.sampler = schedulers::parse_scheduler_name(p.sampler.toStdString());
  if (!job.initImage.isNull()) {
    request.init_image = bridge::initImageTensor(job.initImage, p.width, p.height);
    request.strength = p.denoisingStrength.value_or(0.75);
    if (!job.mask.isNull()) request.mask = bridge::maskTensor(job.mask, p.width, p.height);
  }
  // Cancelled while the ControlNets loaded: some may be missing.
  if (job.stop.stop_requested()) return false;
  QList<bridge::ControlNetUnitUse> controlRecords;
  for (const ControlUnitJob& u : job.controlUnits) {
    const ControlNets::Entry& cn = mControlNets->byPath.at(u.modelPath);
    const control::ControlImage fitted =
        control::fit_control_map(bridge::toControlImage(u.map), u.resizeMode, p.height, p.width);
    pipelines::ControlNetUnit unit;
    unit.model = cn.model.model;
    unit.family = cn.model.family;
    unit.image = bridge::controlImageTensor(bridge::toQImage(fitted), p.width, p.height);
    unit.weight = u.weight;
    unit.start = u.start;
    unit.end = u.end;
    unit.mode = u.mode;
    request.control_units.push_back(unit);

    bridge::ControlNetUnitUse use;
    use.module = u.module;
    use.model = cn.record;
    use.weight = u.weight;
    use.resizeMode = QString::fromUtf8(control::to_string(u.resizeMode));
    use.processorRes = u.resolution;
    use.thresholdA = u.thresholdA;
    use.thresholdB = u.thresholdB;
    use.guidanceStart = u.start;
    use.guidanceEnd = u.end;
    use.pixelPerfect = u.pixelPerfect;
    use.controlMode = bridge::a1111ControlModeName(u.mode);
    controlRecords << use;
  }

  // Textual inversion: the embeddings folders' names the prompts use, checked before sampling.
  QList<bridge::EmbeddingUse> embeddingRecords;
  for (const QString& dir : job.embeddingFolders)
    if (QFileInfo(dir).isDir()) request.embedding_folders.emplace_back(dir.toStdString());
  if (!request.embedding_folders.empty()) {
    const pipelines::EmbeddingLibrary library = pipelines::EmbeddingLibrary::scan(request.embedding_folders);
    for (const pipelines::TextualInversion& e :
         pipelines::resolve_embeddings(mLoaded->model, library, {request.prompt, request.negative_prompt},
                                       request.prompt_syntax)
             .used)
      embeddingRecords << bridge::EmbeddingUse{QString::fromStdString(e.name),
                                               QString::fromStdString(pipelines::textual_inversion_short_hash(e.file))};
  }

  QDir output(job.outputFolder);
  int number = -1;
  if (!job.outputFolder.isEmpty()) {
    if (!QDir().mkpath(job.outputFolder)) {
      throw kiln::FileError("cannot create the output folder", toPath(job.outputFolder));
    }
    number = nextImageNumber(output);
  }

  // A1111's seeds: every image its own run of one, seed + k.
  const bool perImage = job.a1111Seeds && job.batchSize > 1;
  if (perImage) request.batch_size = 1;
  const int runs = perImage ? job.batchCount * job.batchSize : job.batchCount;
  for (int run = 0; run < runs; ++run) {
    if (job.stop.stop_requested()) return false;
    request.seed = p.seed + static_cast<quint64>(run);
    GenerationProgress progress;
    progress.run = run;
    progress.runs = runs;
    QElapsedTimer sincePreview;
    pipelines::GenerationCallbacks callbacks;
    callbacks.on_stage = [&](std::string_view stage) {
      if (stage == "encoding prompt")
        Q_EMIT stageChanged(job.id, Stage::EncodingPrompt);
      else if (stage == "sampling")
        Q_EMIT stageChanged(job.id, Stage::Sampling);
      else if (stage == "decoding")
        Q_EMIT stageChanged(job.id, Stage::Decoding);
    };
    callbacks.on_step = [&](const pipelines::StepInfo& info) {
      progress.step = static_cast<int>(info.step);
      progress.total = static_cast<int>(info.total);
      progress.seconds = info.seconds;
      Q_EMIT this->progress(job.id, progress);
    };
    callbacks.preview_every = 1;
    callbacks.on_preview = [&](const torch::Tensor& preview, std::int64_t step) {
      // Throttled here: a preview every step of a tiny model would flood the GUI thread.
      const bool last = step >= progress.total;
      if (sincePreview.isValid() && sincePreview.elapsed() < mPreviewInterval * 1000 && !last) return;
      sincePreview.start();
      Q_EMIT this->preview(job.id, bridge::imageFromUint8(preview[0]));
    };

    std::optional<pipelines::HiresFix> hires;
    if (p.hires) {
      hires = pipelines::HiresFix{};
      hires->scale = p.hires->scale;
      hires->resize_x = p.hires->resizeX;
      hires->resize_y = p.hires->resizeY;
      hires->upscaler = p.hires->upscaler.toStdString();
      hires->steps = p.hires->steps;
      hires->denoising = p.denoisingStrength.value_or(0.7);
      if (!job.hiresUpscalerModel.isEmpty()) hires->upscaler_model = job.hiresUpscalerModel.toStdString();
    }
    const pipelines::GenerationResult result =
        hires ? pipelines::generate_hires(mLoaded->model, request, *hires, job.stop, callbacks)
              : pipelines::generate(mLoaded->model, request, job.stop, callbacks);
    if (result.cancelled) return false;
    for (const std::string& w : result.warnings) Q_EMIT warning(job.id, QString::fromStdString(w));

    if (number >= 0) Q_EMIT stageChanged(job.id, Stage::Saving);
    const int count = static_cast<int>(result.images.size(0));
    for (int i = 0; i < count; ++i) {
      GeneratedImage image;
      image.run = perImage ? run / job.batchSize : run;
      image.index = perImage ? run % job.batchSize : i;
      image.image = bridge::imageFromTensor(result.images[i]);
      if (!job.mask.isNull()) image.image = pasteUnmasked(image.image, job.initImage, job.mask);
      image.parameters = p;
      image.parameters.seed = request.seed;
      image.parameters.loras = mLoaded->loraParameters;
      image.parameters.controlNets = controlRecords;
      image.parameters.embeddings = embeddingRecords;
      image.parameters.extra.insert(bridge::kPrecisionKey, QString::fromStdString(precision_name(mLoaded->dtype)));
      if (request.fast_decode) image.parameters.extra.insert(bridge::kVaeDecoderKey, QStringLiteral("TAESD"));
      if (count > 1 || perImage) {
        image.parameters.extra.insert(QStringLiteral("Batch size"), QString::number(perImage ? job.batchSize : count));
        image.parameters.extra.insert(QStringLiteral("Batch pos"), QString::number(image.index));
      }
      if (number >= 0) {
        const QString path =
            output.filePath(QStringLiteral("%1-%2.png").arg(number++, 5, 10, QLatin1Char('0')).arg(request.seed));
        QString error;
        if (bridge::writePngWithParameters(path, image.image, image.parameters.toText(), &error))
          image.path = path;
        else
          image.saveError = error;
      }
      Q_EMIT imageReady(job.id, image);
    }
  }
  return true;
}

}  // namespace kiln::app
