#include "jobs/dataset_worker.h"

#include <QFileInfo>

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "dataset/display_image.h"
#include "dataset/prepare_dataset.h"
#include "services/zip_import.h"

namespace kiln::app {

namespace {

std::filesystem::path toPath(const QString& path) { return std::filesystem::path(path.toStdString()); }
QString fromPath(const std::filesystem::path& path) { return QString::fromStdString(path.string()); }

UserMessage messageFor(const std::exception& error, const QString& path) {
  if (const auto* e = dynamic_cast<const kiln::Error*>(&error)) return ErrorMessage::fromError(*e);
  return ErrorMessage::fromException(error, path);
}

bool isZip(const QString& path) {
  return QFileInfo(path).isFile() && path.endsWith(QLatin1String(".zip"), Qt::CaseInsensitive);
}

}  // namespace

int DatasetImportResult::skipped() const {
  return static_cast<int>(std::count_if(items.begin(), items.end(),
                                        [](const DatasetImportItem& i) { return i.status == QLatin1String("skipped"); }));
}

DatasetWorker::DatasetWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<kiln::app::DatasetImportJob>();
  qRegisterMetaType<kiln::app::DatasetImportResult>();
  qRegisterMetaType<kiln::app::UserMessage>();
}

void DatasetWorker::import(const DatasetImportJob& job) {
  DatasetImportResult result;
  QString current = job.outputFolder;
  try {
    dataset::PrepareRequest request;
    request.output_dir = toPath(job.outputFolder);
    request.resolution = job.resolution;
    request.instance_token = job.instanceToken.trimmed().toStdString();
    request.filename_captions = job.filenameCaptions;
    for (const QString& source : job.sources) request.sources.push_back(toPath(source));
    dataset::validate_request(request);

    // Zips are checked whole and extracted into the dataset's .originals first; the extracted
    // folder then goes to the engine like any other.
    request.sources.clear();
    for (const QString& source : job.sources) {
      if (job.stop.stop_requested()) break;
      current = source;
      if (isZip(source)) {
        const ZipImportResult zip = ZipImport::extract(source, job.outputFolder);
        for (const QString& name : zip.ignored) result.notes << tr("%1: ignored %2 (not an image)").arg(QFileInfo(source).fileName(), name);
        request.sources.push_back(toPath(zip.stagingDir));
      } else {
        request.sources.push_back(toPath(source));
      }
    }
    current = job.outputFolder;
    if (job.stop.stop_requested()) {
      result.cancelled = true;
      Q_EMIT importFinished(job.id, result);
      return;
    }

    const auto progress = [this, &job](const dataset::PrepareProgress& p) {
      Q_EMIT importProgress(job.id, static_cast<int>(p.done), static_cast<int>(p.total),
                            p.last ? fromPath(p.last->source.filename()) : QString());
    };
    const dataset::PrepareResult prepared = dataset::prepare_dataset(request, job.stop, progress);
    for (const auto& r : prepared.images) {
      result.items << DatasetImportItem{fromPath(r.source), fromPath(r.output), QString::fromUtf8(dataset::to_string(r.status)),
                                        QString::fromStdString(r.reason())};
    }
    for (const auto& note : prepared.notes) result.notes << QString::fromStdString(note);
    result.cancelled = prepared.cancelled;
    Q_EMIT importFinished(job.id, result);
  } catch (const std::exception& e) {
    Q_EMIT importFailed(job.id, messageFor(e, current));
  }
}

void DatasetWorker::loadOriginal(quint64 id, const QString& source, int maxSide) {
  try {
    const dataset::RgbImage rgb = dataset::load_display_image(toPath(source), maxSide);
    QImage image(rgb.pixels.data(), rgb.width, rgb.height, 3 * rgb.width, QImage::Format_RGB888);
    Q_EMIT originalLoaded(id, source, image.copy(), QSize(rgb.displayed.width, rgb.displayed.height));
  } catch (const std::exception& e) {
    Q_EMIT originalFailed(id, source, messageFor(e, source));
  }
}

void DatasetWorker::regenerate(quint64 id, const QString& output, const QRect& crop) {
  try {
    dataset::regenerate_output(toPath(output), dataset::Box{crop.x(), crop.y(), crop.width(), crop.height()});
    Q_EMIT regenerated(id, output, crop);
  } catch (const std::exception& e) {
    Q_EMIT regenerateFailed(id, output, messageFor(e, output));
  }
}

}  // namespace kiln::app
