// The Generate page's tools beside generating: the X/Y/Z plot (cells queued as jobs, the
// labelled grid composed when the last arrives) and upscaling a gallery image with an ESRGAN-family
// model. Split from generate_page.cpp to keep each file about one concept.
#include "pages/generate_page.h"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QSet>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

#include "base/error.h"
#include "bridge/error_message.h"
#include "bridge/image_tensor.h"
#include "pages/gallery_model.h"
#include "pages/gallery_panel.h"
#include "pages/controlnet_panel.h"
#include "pages/generation_form_view.h"
#include "pages/generation_queue.h"
#include "pages/xyz_plot_dialog.h"
#include "pipelines/upscale.h"
#include "schedulers/scheduler_kind.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "widgets/image_canvas.h"

namespace kiln::app {

void GeneratePage::choosePlot() { choosePlot(QString()); }

void GeneratePage::choosePlot(const QString& xAxis) {
  XyzPlotDialog dialog(this);
  if (!xAxis.isEmpty()) dialog.setAxisText(0, xAxis);
  if (dialog.exec() != QDialog::Accepted) return;
  const QString problem = queuePlot(dialog.axes());
  if (!problem.isEmpty()) showError(tr("Cannot make the plot"), problem);
}

QString GeneratePage::prepareComparison(const CheckpointComparison& c) {
  if (c.files.isEmpty()) return tr("The session keeps no checkpoint files.");
  for (const QString& file : c.files)
    if (!QFileInfo(file).isFile()) return tr("The checkpoint %1 is gone.").arg(QDir::toNativeSeparators(file));
  // The model the form generates with: a LoRA's base must be in the library; for whole models it
  // only names the run (every cell loads its checkpoint), so the base is taken when listed.
  const auto findEntry = [this](const QString& path) -> QString {
    const QString wanted = QFileInfo(path).absoluteFilePath();
    for (const ModelEntry& e : mLibrary->entries())
      if (QFileInfo(e.path).absoluteFilePath() == wanted) return e.path;
    return {};
  };
  const QString base = findEntry(c.baseModel);
  if (c.lora && base.isEmpty())
    return tr("The session's base model %1 is not in the library: add its folder on the Models page.")
        .arg(QDir::toNativeSeparators(c.baseModel));
  setMode(Mode::TextToImage);
  GenerationForm f = form();
  if (!base.isEmpty()) f.modelPath = base;
  f.prompt = c.prompt;
  f.width = f.height = c.resolution;
  f.seed = static_cast<qint64>(c.seed & 0x7fffffffffffffffULL);
  f.hires = false;
  if (c.lora) f.loras.clear();
  setForm(f);
  if (c.lora && selectedModelPath() != base)  // listed, but its kind is still being read
    return tr("The session's base model %1 is still being read by the library; try again in a moment.")
        .arg(QDir::toNativeSeparators(c.baseModel));
  if (!mForm->hasModel()) return tr("Choose a model first.");
  return {};
}

void GeneratePage::compareCheckpoints(const CheckpointComparison& c) {
  const QString problem = prepareComparison(c);
  if (!problem.isEmpty()) {
    showError(tr("Cannot compare the checkpoints"), problem);
    return;
  }
  choosePlot(c.axisText());
}

QString GeneratePage::queuePlot(const std::array<std::optional<bridge::GridAxis>, 3>& axes) {
  if (!mForm->hasModel()) return tr("Choose a model first.");
  if (mControlNet->isComputing()) return tr("A control map is still being computed; try again when it is ready.");
  const bridge::GridAxis* gx = axes[0] ? &*axes[0] : nullptr;
  const bridge::GridAxis* gy = axes[1] ? &*axes[1] : nullptr;
  const bridge::GridAxis* gz = axes[2] ? &*axes[2] : nullptr;
  if (!gx && !gy && !gz) return tr("Choose at least one axis.");
  const QList<bridge::GridCellIndex> cells = bridge::gridCells(gx, gy, gz);
  if (mMode != Mode::TextToImage && (!mInput->hasImage() || mBlankScribbleSheet))
    return tr("Open or drop the image to start from, or send one from the gallery.");
  QString controlProblem;
  const QList<ControlUnitJob> controlUnits = mControlNet->jobs(&controlProblem);
  if (!controlProblem.isEmpty()) return controlProblem;
  const GenerationJob base = jobFromForm(controlUnits, nullptr);
  // Every value checked before anything is queued.
  const auto modelFor = [this](const QString& value) -> QString {
    if (QFileInfo::exists(value)) return QFileInfo(value).absoluteFilePath();
    for (const ModelEntry& e : mLibrary->entries()) {
      const QFileInfo info(e.path);
      if ((info.isDir() ? info.fileName() : info.completeBaseName()) == value) return e.path;
    }
    return {};
  };
  for (const bridge::GridAxis* axis : {gx, gy, gz}) {
    if (!axis) continue;
    for (const QString& v : axis->values) {
      if (axis->kind == QLatin1String("checkpoint") && modelFor(v).isEmpty())
        return tr("No model “%1” in the library (give its name as listed, or a path).").arg(v);
      if (axis->kind == QLatin1String("lora_file") && modelFor(v).isEmpty())
        return tr("No LoRA “%1” in the library (give its name as listed, or a path).").arg(v);
      if (axis->kind == QLatin1String("sampler")) {
        try {
          (void)schedulers::parse_scheduler_name(v.toStdString());
        } catch (const std::exception&) {
          return tr("Kiln has no sampler “%1”.").arg(v);
        }
      }
    }
    const bool loraFileAxis = (gx && gx->kind == QLatin1String("lora_file")) || (gy && gy->kind == QLatin1String("lora_file")) ||
                              (gz && gz->kind == QLatin1String("lora_file"));
    if (axis->kind == QLatin1String("lora") && base.loras.isEmpty() && !loraFileAxis)
      return tr("A LoRA weight axis needs a LoRA in the list.");
    if (axis->kind == QLatin1String("prompt") && !base.parameters.prompt.contains(axis->values.first()) &&
        !base.parameters.negativePrompt.contains(axis->values.first()))
      return tr("“%1” is not in the prompt or the negative prompt.").arg(axis->values.first());
  }
  if (cells.size() > 100 &&
      QMessageBox::question(this, tr("A Large Plot"),
                            tr("This plot makes %1 images. Make them all?").arg(cells.size())) != QMessageBox::Yes)
    return {};
  const quint64 plotId = mNextPlot++;
  Plot plot;
  plot.axes = axes;
  plot.images = QList<QImage>(cells.size());
  plot.outputFolder = base.outputFolder;
  const auto valueOf = [&](const QString& kind, const bridge::GridCellIndex& c) -> std::optional<QString> {
    const bridge::GridAxis* list[3] = {gx, gy, gz};
    const int at[3] = {c.x, c.y, c.z};
    for (int a = 0; a < 3; ++a)
      if (list[a] && list[a]->kind == kind) return list[a]->values.at(at[a]);
    return std::nullopt;
  };
  for (qsizetype n = 0; n < cells.size(); ++n) {
    GenerationJob job = base;
    job.id = mNextJob++;
    job.batchCount = job.batchSize = 1;
    job.plotId = plotId;
    job.plotCell = int(n);
    bridge::GenerationParameters& p = job.parameters;
    if (const auto v = valueOf(QStringLiteral("seed"), cells[n])) p.seed = v->toULongLong();
    if (const auto v = valueOf(QStringLiteral("steps"), cells[n])) p.steps = v->toInt();
    if (const auto v = valueOf(QStringLiteral("cfg"), cells[n])) p.cfgScale = v->toDouble();
    if (const auto v = valueOf(QStringLiteral("sampler"), cells[n]))
      p.sampler = QString::fromUtf8(schedulers::display_name(schedulers::parse_scheduler_name(v->toStdString())).data());
    if (const auto v = valueOf(QStringLiteral("prompt"), cells[n])) {
      const bridge::GridAxis* axis = gx && gx->kind == QLatin1String("prompt")   ? gx
                                     : gy && gy->kind == QLatin1String("prompt") ? gy
                                                                                 : gz;
      p.prompt.replace(axis->values.first(), *v);
      p.negativePrompt.replace(axis->values.first(), *v);
    }
    if (const auto v = valueOf(QStringLiteral("checkpoint"), cells[n])) {
      job.modelPath = modelFor(*v);
      const QFileInfo info(job.modelPath);
      p.modelName = info.isDir() ? info.fileName() : info.completeBaseName();
      const auto entry = mLibrary->entry(job.modelPath);
      p.modelHash = entry ? entry->summary.shortHash() : QString();
    }
    if (const auto v = valueOf(QStringLiteral("lora_file"), cells[n])) {
      if (job.loras.isEmpty()) job.loras << LoRAChoice{modelFor(*v), 1.0};
      else job.loras[0].path = modelFor(*v);
    }
    if (const auto v = valueOf(QStringLiteral("lora"), cells[n])) job.loras[0].weight = v->toDouble();
    if (n == 0) plot.parameters = p;
    mPlotCells.insert(job.id, {plotId, int(n)});
    GenerationQueue::Entry entry;
    entry.job = job;
    entry.modelName = QFileInfo(job.modelPath).completeBaseName();
    mQueue->append(entry);
  }
  mPlots.insert(plotId, plot);
  Q_EMIT message(tr("X/Y/Z plot: %n image(s) queued", nullptr, int(cells.size())));
  if (!isGenerating()) startNextQueued();
  return {};
}

// A plot's cell arrived: kept until the last, then the grid goes to the gallery.
void GeneratePage::plotImage(quint64 jobId, const GeneratedImage& image) {
  const auto cell = mPlotCells.constFind(jobId);
  if (cell == mPlotCells.constEnd()) return;
  auto plot = mPlots.find(cell->first);
  if (plot == mPlots.end()) return;
  if (plot->images[cell->second].isNull()) ++plot->made;
  plot->images[cell->second] = image.image;
  if (plot->made < plot->images.size()) return;
  const auto& a = plot->axes;
  const QImage grid = bridge::composeGrid(plot->images, a[0] ? &*a[0] : nullptr, a[1] ? &*a[1] : nullptr,
                                          a[2] ? &*a[2] : nullptr);
  bridge::GenerationParameters p = plot->parameters;
  p.extra.insert(QStringLiteral("Script"), QStringLiteral("X/Y/Z plot"));
  const char* names[3] = {"X", "Y", "Z"};
  for (int i = 0; i < 3; ++i) {
    if (!a[i]) continue;
    p.extra.insert(QLatin1String(names[i]) + QStringLiteral(" Type"), a[i]->title());
    p.extra.insert(QLatin1String(names[i]) + QStringLiteral(" Values"), a[i]->valuesText());
  }
  QString path;
  if (!plot->outputFolder.isEmpty()) {
    const QString file = QDir(plot->outputFolder)
                             .filePath(QStringLiteral("xyz_grid-%1.png")
                                           .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    QString error;
    if (bridge::writePngWithParameters(file, grid, p.toText(), &error))
      path = file;
    else
      showError(tr("Could not save the plot"), tr("The grid is in the gallery but was not written."), error);
  }
  mGallery->prepend(grid, p, path);
  mGalleryPanel->selectRow(0);
  mOutput->setImage(grid);
  for (auto it = mPlotCells.begin(); it != mPlotCells.end();)
    it = it->first == cell->first ? mPlotCells.erase(it) : std::next(it);
  mPlots.erase(plot);
  Q_EMIT message(tr("X/Y/Z plot done"));
}

// A cell that ended without its image (failed, cancelled, or taken out of the queue): the plot
// cannot be completed and is dropped; its other cells stay in the gallery.
void GeneratePage::plotJobEnded(quint64 jobId, bool made) {
  if (made) return;
  const auto cell = mPlotCells.constFind(jobId);
  if (cell == mPlotCells.constEnd()) return;
  const quint64 plotId = cell->first;
  if (!mPlots.contains(plotId)) return;
  mPlots.remove(plotId);
  for (auto it = mPlotCells.begin(); it != mPlotCells.end();) it = it->first == plotId ? mPlotCells.erase(it) : std::next(it);
  Q_EMIT message(tr("The X/Y/Z plot stopped before its last image: no grid"));
}

// Plots whose cells are neither queued nor running any more (the queue was cleared or a cell
// removed) cannot finish: dropped, with a word.
void GeneratePage::dropOrphanPlots() {
  if (mPlots.isEmpty()) return;
  QSet<quint64> alive;
  if (mJob != 0) alive.insert(mJob);
  for (int i = 0; i < mQueue->count(); ++i) alive.insert(mQueue->entry(i).job.id);
  QSet<quint64> live;
  for (auto it = mPlotCells.cbegin(); it != mPlotCells.cend(); ++it)
    if (alive.contains(it.key())) live.insert(it->first);
  for (auto it = mPlots.begin(); it != mPlots.end();) {
    if (live.contains(it.key())) {
      ++it;
      continue;
    }
    const quint64 plotId = it.key();
    it = mPlots.erase(it);
    for (auto c = mPlotCells.begin(); c != mPlotCells.end();) c = c->first == plotId ? mPlotCells.erase(c) : std::next(c);
    Q_EMIT message(tr("The X/Y/Z plot lost queued images: no grid"));
  }
}

void GeneratePage::chooseUpscale() {
  const int row = selectedRow();
  if (row < 0 || mUpscaling) return;
  QSettings settings(mSettings->fileName(), QSettings::IniFormat);
  const QString last = settings.value(QStringLiteral("generate/upscalerModel")).toString();
  const QString file = QFileDialog::getOpenFileName(this, tr("Choose an Upscaler Model"), last,
                                                    tr("ESRGAN-family models (*.pth *.safetensors)"));
  if (file.isEmpty()) return;
  settings.setValue(QStringLiteral("generate/upscalerModel"), file);
  bool ok = false;
  const double scale = QInputDialog::getDouble(this, tr("Upscale"), tr("Upscale by (0 = the model's own scale):"),
                                               settings.value(QStringLiteral("generate/upscaleBy"), 2.0).toDouble(), 0,
                                               8, 2, &ok);
  if (!ok) return;
  settings.setValue(QStringLiteral("generate/upscaleBy"), scale);
  upscaleRow(row, file, scale);
}

void GeneratePage::upscaleRow(int row, const QString& modelFile, double scale) {
  if (row < 0 || row >= mGallery->rowCount() || mUpscaling) return;
  const GalleryItem item = mGallery->item(row);
  mUpscaling = true;
  mStatus->setText(tr("Upscaling with %1…").arg(QFileInfo(modelFile).completeBaseName()));
  const QImage input = item.image.convertToFormat(QImage::Format_RGB888);
  auto* watcher = new QFutureWatcher<QImage>(this);
  auto error = std::make_shared<UserMessage>();
  connect(watcher, &QFutureWatcher<QImage>::finished, this, [this, watcher, error, item, modelFile, scale] {
    watcher->deleteLater();
    mUpscaling = false;
    const QImage result = watcher->result();
    if (result.isNull()) {
      showError(error->title, error->text, error->details);
      mStatus->setText(tr("Upscaling failed"));
      return;
    }
    bridge::GenerationParameters p = item.parameters;
    p.extra.insert(QStringLiteral("Postprocess upscale by"), QString::number(double(result.width()) / item.image.width(), 'g', 4));
    p.extra.insert(QStringLiteral("Postprocess upscaler"), QFileInfo(modelFile).completeBaseName());
    QString path;
    if (mGenerationSettings->saveAutomatically()) {
      const QString base = item.path.isEmpty() ? QStringLiteral("upscaled") : QFileInfo(item.path).completeBaseName();
      const QString file = QDir(mGenerationSettings->outputFolder()).filePath(base + QStringLiteral("-upscaled.png"));
      QString writeError;
      if (QDir().mkpath(mGenerationSettings->outputFolder()) && bridge::writePngWithParameters(file, result, p.toText(), &writeError))
        path = file;
    }
    mGallery->prepend(result, p, path);
    mGalleryPanel->selectRow(0);
    mOutput->setImage(result);
    mStatus->setText(tr("Upscaled to %1 × %2").arg(result.width()).arg(result.height()));
  });
  watcher->setFuture(QtConcurrent::run([input, modelFile, scale, error]() -> QImage {
    try {
      const models::LoadedUpscaler upscaler = models::load_upscaler(modelFile.toStdString());
      pipelines::UpscaleOptions options;
      options.scale = scale;
      validate_upscale(upscaler, input.width(), input.height(), options);
      const torch::Tensor pixels =
          torch::from_blob(const_cast<uchar*>(input.constBits()), {input.height(), input.width(), 3},
                           {input.bytesPerLine(), 3, 1}, torch::kUInt8)
              .to(torch::kFloat)
              .div(255.0)
              .unsqueeze(0);
      const pipelines::UpscaleResult out = pipelines::upscale_images(upscaler, pixels, options);
      if (out.cancelled) return {};
      return bridge::imageFromTensor(out.images[0]);
    } catch (const kiln::Error& e) {
      *error = ErrorMessage::fromError(e);
    } catch (const std::exception& e) {
      *error = ErrorMessage::fromException(e, modelFile);
    }
    return {};
  }));
}

}  // namespace kiln::app
