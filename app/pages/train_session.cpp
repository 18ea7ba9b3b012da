#include "pages/train_session.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "training/session_export.h"
#include "training/trainer.h"
#include "training/training_settings.h"

namespace kiln::app {

namespace {

namespace kt = kiln::training;

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }
QString fromPath(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }

kt::TrainingSettings toSettings(const TrainForm& f) {
  kt::TrainingSettings s;
  s.base_model = toPath(f.baseModel);
  s.images = toPath(f.images);
  s.token = f.token.trimmed().toStdString();
  s.captions = f.fileNameCaptions ? kt::CaptionSource::FileNames : kt::CaptionSource::CaptionFiles;
  s.method = f.lora ? kt::TrainingMethod::LoRA : kt::TrainingMethod::DreamBooth;
  s.lora_rank = f.loraRank;
  s.lora_alpha = f.loraAlpha;
  // LoRA trains text-encoder adapters exactly when the form gives the text encoder steps.
  s.lora_text_encoder = f.lora && f.textEncoderSteps > 0;
  s.text_encoder = {f.textEncoderSteps, f.textEncoderLearningRate};
  s.unet = {f.unetSteps, f.unetLearningRate};
  s.resolution = f.resolution;
  s.batch_size = f.batchSize;
  s.class_prompt = f.classPrompt.trimmed().toStdString();
  s.save_every = f.saveEvery;
  s.keep_checkpoints = f.keepCheckpoints;
  s.sample_every = f.sampleEvery;
  if (!f.samplePrompt.trimmed().isEmpty()) s.sample_prompts = {f.samplePrompt.trimmed().toStdString()};
  s.seed = f.seed;
  s.device = f.device.toStdString();
  s.mixed_precision = f.mixedPrecision == QLatin1String("fp16")   ? kt::MixedPrecision::F16
                      : f.mixedPrecision == QLatin1String("bf16") ? kt::MixedPrecision::BF16
                                                                  : kt::MixedPrecision::No;
  s.gradient_checkpointing = f.gradientCheckpointing;
  s.optimizer = f.optimizer == QLatin1String("adamw8bit")   ? kt::OptimizerKind::AdamW8bit
                : f.optimizer == QLatin1String("adafactor") ? kt::OptimizerKind::Adafactor
                                                            : kt::OptimizerKind::AdamW;
  return s;
}

// Keeps what the form does not show (schedules, prior weight, ...) from `base`.
kt::TrainingSettings mergeInto(kt::TrainingSettings base, const TrainForm& f) {
  const kt::TrainingSettings s = toSettings(f);
  base.base_model = s.base_model;
  base.images = s.images;
  base.token = s.token;
  base.captions = s.captions;
  base.method = s.method;
  base.lora_rank = s.lora_rank;
  base.lora_alpha = s.lora_alpha;
  base.lora_text_encoder = s.lora_text_encoder;
  base.text_encoder = s.text_encoder;
  base.unet = s.unet;
  base.resolution = s.resolution;
  base.batch_size = s.batch_size;
  base.class_prompt = s.class_prompt;
  base.save_every = s.save_every;
  base.keep_checkpoints = s.keep_checkpoints;
  base.sample_every = s.sample_every;
  base.sample_prompts = s.sample_prompts;
  base.seed = s.seed;
  base.device = s.device;
  base.mixed_precision = s.mixed_precision;
  base.gradient_checkpointing = s.gradient_checkpointing;
  base.optimizer = s.optimizer;
  return base;
}

TrainForm toForm(const kt::TrainingSettings& s) {
  TrainForm f;
  f.baseModel = fromPath(s.base_model);
  f.images = fromPath(s.images);
  f.token = QString::fromStdString(s.token);
  f.fileNameCaptions = s.captions == kt::CaptionSource::FileNames;
  f.lora = s.method == kt::TrainingMethod::LoRA;
  f.loraRank = s.lora_rank;
  f.loraAlpha = s.lora_alpha;
  f.textEncoderSteps = s.method == kt::TrainingMethod::LoRA && !s.lora_text_encoder ? 0 : s.text_encoder.steps;
  f.textEncoderLearningRate = s.text_encoder.learning_rate;
  f.unetSteps = s.unet.steps;
  f.unetLearningRate = s.unet.learning_rate;
  f.resolution = s.resolution;
  f.batchSize = s.batch_size;
  f.classPrompt = QString::fromStdString(s.class_prompt);
  f.saveEvery = s.save_every;
  f.keepCheckpoints = s.keep_checkpoints;
  f.sampleEvery = s.sample_every;
  f.samplePrompt = s.sample_prompts.empty() ? QString() : QString::fromStdString(s.sample_prompts.front());
  f.seed = s.seed;
  f.device = QString::fromStdString(s.device);
  f.mixedPrecision = QString::fromUtf8(kt::to_string(s.mixed_precision).data(),
                                       static_cast<qsizetype>(kt::to_string(s.mixed_precision).size()));
  f.gradientCheckpointing = s.gradient_checkpointing;
  f.optimizer = QString::fromUtf8(kt::to_string(s.optimizer).data(), static_cast<qsizetype>(kt::to_string(s.optimizer).size()));
  return f;
}

// Parameter counts (millions) of the trained parts of the usual families: UNet, text
// encoder(s), VAE. From the reference checkpoints.
struct FamilySize {
  double unet, textEncoder, vae;
};
std::optional<FamilySize> familySize(const QString& family) {
  if (family.startsWith(QLatin1String("sdxl"))) return FamilySize{2567, 817, 84};
  if (family.startsWith(QLatin1String("sd2"))) return FamilySize{866, 340, 84};
  if (family.startsWith(QLatin1String("sd1"))) return FamilySize{860, 123, 84};
  return std::nullopt;
}

// A rough peak for one training step on CUDA in fp32: the trained part's weights, gradients and
// optimizer state (AdamW: 16 bytes a parameter; 8-bit AdamW: 10; Adafactor: about 8, its factored
// moments are tiny; LoRA: the frozen weights only), the frozen parts' weights,
// and activations that grow with the pixel count and the batch (about 3 GB for SD 1.x at 512).
QString memoryEstimate(const TrainForm& f, const QString& family) {
  const auto size = familySize(family);
  if (!size) return TrainSession::tr("Rough CUDA memory need: unknown for this kind of model.");
  const double mb = 1e6;
  double bytes = 0;
  const bool unetStage = f.unetSteps > 0;
  if (f.lora) {
    bytes = (size->unet + size->textEncoder + size->vae) * mb * 4;
  } else {
    const double trained = unetStage ? size->unet : size->textEncoder;
    const double frozen = (unetStage ? size->textEncoder : size->unet) + size->vae;
    const double perParameter = f.optimizer == QLatin1String("adamw8bit")   ? 10
                                : f.optimizer == QLatin1String("adafactor") ? 8
                                                                            : 16;
    bytes = trained * mb * perParameter + frozen * mb * 4;
  }
  const double pixels = static_cast<double>(f.resolution) * f.resolution / (512.0 * 512.0);
  const double familyScale = family.startsWith(QLatin1String("sdxl")) ? 2.5 : 1.0;
  bytes += 3e9 * pixels * f.batchSize * familyScale;
  return TrainSession::tr("Rough CUDA memory need: %1 GB (fp32, batch %2).")
      .arg(std::ceil(bytes / 1e8) / 10, 0, 'f', 1)
      .arg(f.batchSize);
}

}  // namespace

TrainCheck TrainSession::check(const TrainForm& form, int nativeResolution, const QString& family) {
  TrainCheck c;
  const kt::TrainingSettings settings = toSettings(form);
  try {
    kt::validate_settings(settings);
  } catch (const kiln::Error& e) {
    c.error = ErrorMessage::fromError(e);
  }
  if (!form.images.isEmpty() && QFileInfo(form.images).isDir()) {
    try {
      int small = 0;
      for (const kt::TrainingExample& e : kt::training_examples(settings)) {
        TrainExample example{fromPath(e.image), QString::fromStdString(e.prompt), e.from_caption_file};
        if (!form.fileNameCaptions && !e.from_caption_file) ++c.missingCaptions;
        const QSize size = QImageReader(example.image).size();
        if (size.isValid() && std::min(size.width(), size.height()) < form.resolution) ++small;
        c.examples << example;
      }
      if (c.missingCaptions > 0) {
        c.warnings << tr("%n image(s) have no caption file: their file name becomes the prompt.", nullptr,
                         c.missingCaptions);
      }
      if (small > 0) {
        c.warnings << tr("%n image(s) are smaller than %1 px: they are scaled up (blurry).", nullptr, small)
                          .arg(form.resolution);
      }
    } catch (const kiln::Error& e) {
      if (c.error.isEmpty()) c.error = ErrorMessage::fromError(e);
    }
  }
  if (nativeResolution > 0 && form.resolution != nativeResolution) {
    c.warnings << tr("The model was trained at %1 px; training at %2 px may give worse results.")
                      .arg(nativeResolution)
                      .arg(form.resolution);
  }
  if (form.device.startsWith(QLatin1String("cuda"))) c.memoryEstimate = memoryEstimate(form, family);
  return c;
}

int TrainSession::nativeResolution(const QString& modelPath, const QString& family) {
  const QFileInfo info(modelPath);
  if (info.isDir()) {
    const auto readJson = [](const QString& file) {
      QFile f(file);
      return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
    };
    const QJsonObject unet = readJson(modelPath + QStringLiteral("/unet/config.json"));
    const QJsonObject vae = readJson(modelPath + QStringLiteral("/vae/config.json"));
    const int sampleSize = unet.value(QStringLiteral("sample_size")).toInt();
    const qsizetype blocks = vae.value(QStringLiteral("block_out_channels")).toArray().size();
    if (sampleSize > 0 && blocks > 0) return sampleSize * (1 << (blocks - 1));
  }
  if (family.startsWith(QLatin1String("sdxl"))) return 1024;
  if (family.startsWith(QLatin1String("sd2"))) return 768;
  if (family.startsWith(QLatin1String("sd1"))) return 512;
  return 0;
}

std::optional<UserMessage> TrainSession::create(const QString& dir, const TrainForm& form) {
  try {
    kt::create_session(toPath(dir), toSettings(form));
    return std::nullopt;
  } catch (const kiln::Error& e) {
    return ErrorMessage::fromError(e);
  } catch (const std::exception& e) {
    return ErrorMessage::fromException(e, dir);
  }
}

std::optional<TrainForm> TrainSession::read(const QString& dir, UserMessage* error) {
  try {
    return toForm(kt::read_session_settings(toPath(dir)));
  } catch (const kiln::Error& e) {
    if (error) *error = ErrorMessage::fromError(e);
  } catch (const std::exception& e) {
    if (error) *error = ErrorMessage::fromException(e, dir);
  }
  return std::nullopt;
}

std::optional<UserMessage> TrainSession::write(const QString& dir, const TrainForm& form) {
  try {
    const kt::TrainingSettings settings = mergeInto(kt::read_session_settings(toPath(dir)), form);
    kt::validate_settings(settings);
    kt::write_session_settings(toPath(dir), settings);
    return std::nullopt;
  } catch (const kiln::Error& e) {
    return ErrorMessage::fromError(e);
  } catch (const std::exception& e) {
    return ErrorMessage::fromException(e, dir);
  }
}

SessionState TrainSession::state(const QString& dir) {
  SessionState s;
  if (dir.isEmpty() || !QFileInfo::exists(dir + QStringLiteral("/settings.json"))) return s;
  s.exists = true;
  try {
    const kt::TrainingSettings settings = kt::read_session_settings(toPath(dir));
    for (kt::Stage stage : settings.stages()) s.totalSteps += settings.stage(stage).steps;
    if (const auto checkpoint = kt::latest_checkpoint(toPath(dir))) {
      s.hasCheckpoint = true;
      s.step = checkpoint->global_step;
      s.finished = checkpoint->finished && checkpoint->global_step >= s.totalSteps;
    }
    s.keptCheckpoints = static_cast<int>(kt::kept_checkpoints(toPath(dir)).size());
  } catch (const std::exception&) {
    // A broken session shows as one without a checkpoint; running it reports the error.
  }
  return s;
}

QString CheckpointComparison::axisText() const {
  return (lora ? QStringLiteral("lora_file:") : QStringLiteral("checkpoint:")) + files.join(QLatin1Char(','));
}

std::optional<CheckpointComparison> TrainSession::comparison(const QString& dir) {
  try {
    const auto kept = kt::kept_checkpoints(toPath(dir));
    if (kept.empty()) return std::nullopt;
    const kt::TrainingSettings s = kt::read_session_settings(toPath(dir));
    CheckpointComparison c;
    c.session = dir;
    for (const kt::KeptCheckpoint& k : kept) c.files << fromPath(k.path);
    c.lora = s.method == kt::TrainingMethod::LoRA;
    c.baseModel = fromPath(s.base_model);
    c.prompt = s.sample_prompts.empty() ? QStringLiteral("photo of %1").arg(QString::fromStdString(s.token))
                                        : QString::fromStdString(s.sample_prompts.front());
    c.resolution = s.resolution;
    c.seed = s.sample_seed;
    return c;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

QList<TrainingStep> TrainSession::readMetrics(const QString& dir) {
  QList<TrainingStep> steps;
  QFile file(dir + QStringLiteral("/metrics.jsonl"));
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) return steps;
  while (!file.atEnd()) {
    const QJsonObject o = QJsonDocument::fromJson(file.readLine()).object();
    if (o.isEmpty()) continue;
    TrainingStep s;
    s.step = o.value(QStringLiteral("step")).toInteger();
    s.textEncoder = o.value(QStringLiteral("stage")).toString() == QLatin1String("text_encoder");
    s.stageStep = o.value(QStringLiteral("stage_step")).toInteger();
    s.loss = o.value(QStringLiteral("loss")).toDouble();
    s.learningRate = o.value(QStringLiteral("lr")).toDouble();
    s.gradNorm = o.value(QStringLiteral("grad_norm")).toDouble();
    s.seconds = o.value(QStringLiteral("seconds")).toDouble();
    s.memory = static_cast<quint64>(o.value(QStringLiteral("memory")).toDouble());
    steps << s;
  }
  return steps;
}

QStringList TrainSession::samples(const QString& dir) {
  // Named <step, zero-padded>-<stage>-<i>.png: the name order is the time order.
  QStringList out;
  const QDir folder(dir + QStringLiteral("/samples"));
  for (const QFileInfo& info : folder.entryInfoList({QStringLiteral("*.png")}, QDir::Files, QDir::Name))
    out << info.absoluteFilePath();
  return out;
}

}  // namespace kiln::app
