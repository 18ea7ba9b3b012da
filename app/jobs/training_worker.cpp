#include "jobs/training_worker.h"

#include <filesystem>

#include "base/error.h"
#include "training/session_export.h"
#include "training/trainer.h"

namespace kiln::app {

namespace {

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }
QString fromPath(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }

}  // namespace

TrainingWorker::TrainingWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<kiln::app::TrainingStep>();
  qRegisterMetaType<kiln::app::UserMessage>();
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::run(const TrainingJob& job) {
  Q_EMIT started(job.session);
  training::TrainingCallbacks callbacks;
  callbacks.on_log = [this](std::string_view message) {
    Q_EMIT logLine(QString::fromUtf8(message.data(), static_cast<qsizetype>(message.size())));
  };
  callbacks.on_step = [this](const training::StepMetrics& m) {
    TrainingStep s;
    s.step = m.step;
    s.totalSteps = m.total_steps;
    s.textEncoder = m.stage == training::Stage::TextEncoder;
    s.stageStep = m.stage_step;
    s.stageSteps = m.stage_steps;
    s.loss = m.loss;
    s.learningRate = m.lr;
    s.gradNorm = m.grad_norm;
    s.seconds = m.seconds;
    s.memory = m.memory;
    Q_EMIT stepDone(s);
  };
  callbacks.on_sample = [this](const std::filesystem::path& image, std::int64_t step, const std::string& prompt) {
    Q_EMIT sampleReady(fromPath(image), step, QString::fromStdString(prompt));
  };
  callbacks.on_checkpoint = [this](const training::CheckpointInfo& info) {
    Q_EMIT checkpointSaved(info.global_step, info.stage == training::Stage::TextEncoder, info.finished);
  };
  try {
    training::RunOptions options;
    options.resume = job.resume;
    const training::TrainingOutcome outcome = training::run_training(toPath(job.session), job.stop, callbacks, options);
    if (outcome.stopped && !outcome.finished)
      Q_EMIT stopped(outcome.global_step, outcome.total_steps);
    else
      Q_EMIT finished(outcome.global_step);
  } catch (const kiln::Error& e) {
    Q_EMIT failed(ErrorMessage::fromError(e));
  } catch (const std::exception& e) {
    Q_EMIT failed(ErrorMessage::fromException(e, job.session));
  }
}

void TrainingWorker::exportSession(const ExportJob& job) {
  try {
    training::SessionExportRequest request;
    request.session = toPath(job.session);
    request.output = toPath(job.output);
    request.format = training::parse_export_format(job.format.toStdString());
    request.half = job.half;
    request.overwrite = job.overwrite;
    const training::SessionExportResult result = training::export_session(request, [this](std::string_view message) {
      Q_EMIT logLine(QString::fromUtf8(message.data(), static_cast<qsizetype>(message.size())));
    });
    Q_EMIT exported(fromPath(result.output), result.steps, result.bytes, result.lora);
  } catch (const kiln::Error& e) {
    Q_EMIT exportFailed(ErrorMessage::fromError(e));
  } catch (const std::exception& e) {
    Q_EMIT exportFailed(ErrorMessage::fromException(e, job.output));
  }
}

}  // namespace kiln::app
