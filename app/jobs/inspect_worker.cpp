#include "jobs/inspect_worker.h"

#include <filesystem>

#include "base/error.h"
#include "convert/model_info.h"
#include "io/sha256.h"

namespace kiln::app {

namespace {

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }

}  // namespace

InspectWorker::InspectWorker(QObject* parent) : QObject(parent) {}

void InspectWorker::run(const InspectJob& job) {
  if (job.stop.stop_requested()) {
    Q_EMIT cancelled(job.id);
    return;
  }
  Q_EMIT started(job.id);
  const QString& subject = job.kind == InspectJob::Kind::Hash ? job.hashedFile : job.path;
  try {
    if (job.kind == InspectJob::Kind::Hash) hash(job);
    else inspect(job);
  } catch (const kiln::Error& e) {
    Q_EMIT failed(job.id, ErrorMessage::fromError(e));
  } catch (const std::exception& e) {
    Q_EMIT failed(job.id, ErrorMessage::fromException(e, subject));
  }
}

void InspectWorker::inspect(const InspectJob& job) {
  convert::InspectOptions options;
  options.hash = false;
  options.stop = job.stop;
  const auto info = convert::inspect_model(toPath(job.path), options);
  if (job.stop.stop_requested()) {
    Q_EMIT cancelled(job.id);
    return;
  }
  Q_EMIT inspected(job.id, ModelSummary::fromModelInfo(info));
}

void InspectWorker::hash(const InspectJob& job) {
  int lastPercent = -1;
  const auto progress = [&](std::uint64_t done, std::uint64_t total) {
    const int percent = total ? static_cast<int>(done * 100 / total) : 100;
    if (percent == lastPercent) return;
    lastPercent = percent;
    Q_EMIT hashProgress(job.id, done, total);
  };
  const std::string digest = io::sha256_file_cached(toPath(job.hashedFile), job.stop, progress);
  if (digest.empty() || job.stop.stop_requested()) {
    Q_EMIT cancelled(job.id);
    return;
  }
  Q_EMIT hashed(job.id, QString::fromStdString(digest));
}

}  // namespace kiln::app
