#include "pages/generate_page.h"

#include <QAction>
#include <QDateTime>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QImageReader>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSet>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QTabBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "base/error.h"
#include "io/weight_file.h"
#include "bridge/image_file.h"
#include "bridge/image_tensor.h"
#include "bridge/resource_paths.h"
#include "pages/control_unit_editor.h"
#include "pages/controlnet_panel.h"
#include "pages/gallery_model.h"
#include "pages/gallery_panel.h"
#include "pages/generation_form_view.h"
#include "pages/generation_queue.h"
#include "pages/pose_editor_panel.h"
#include "pages/xyz_plot_dialog.h"
#include "pages/train_session.h"
#include "pipelines/embeddings.h"
#include "pipelines/upscale.h"
#include "schedulers/scheduler_kind.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "text/clip_tokenizer.h"
#include "widgets/image_canvas.h"
#include "widgets/message_banner.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

// Families the engine can generate with (LoRAs, VAEs and ControlNets are not listed).
bool isGenerationModel(const ModelEntry& e) {
  static const QStringList families{QStringLiteral("sd1"), QStringLiteral("sd2"), QStringLiteral("sdxl"),
                                    QStringLiteral("sd1_inpaint"), QStringLiteral("sd2_inpaint")};
  return e.isKnown() && families.contains(e.summary.family);
}

// The LoRA family that fits a generation model's family ("sd1_inpaint" -> "lora_sd1").
QString loraFamilyFor(const QString& modelFamily) {
  if (modelFamily.startsWith(QLatin1String("sdxl"))) return QStringLiteral("lora_sdxl");
  if (modelFamily.startsWith(QLatin1String("sd2"))) return QStringLiteral("lora_sd2");
  return QStringLiteral("lora_sd1");
}

bool isLoRA(const ModelEntry& e) { return e.isKnown() && e.summary.family.startsWith(QLatin1String("lora_")); }

QString modeId(GeneratePage::Mode mode) {
  switch (mode) {
    case GeneratePage::Mode::ImageToImage:
      return QStringLiteral("img2img");
    case GeneratePage::Mode::Inpaint:
      return QStringLiteral("inpaint");
    case GeneratePage::Mode::TextToImage:
      break;
  }
  return QStringLiteral("txt2img");
}

QString durationText(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  if (s < 60) return GeneratePage::tr("%n s", nullptr, s);
  return GeneratePage::tr("%1:%2 min").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

bool isImageFile(const QString& path) { return !QImageReader::imageFormat(path).isEmpty(); }

}  // namespace

void GeneratePage::updateModels() {
  QList<ModelEntry> entries;
  for (const ModelEntry& e : mLibrary->entries()) {
    if (isGenerationModel(e)) entries << e;
  }
  std::sort(entries.begin(), entries.end(), [](const ModelEntry& a, const ModelEntry& b) {
    return QString::compare(a.name(), b.name(), Qt::CaseInsensitive) < 0;
  });
  QList<std::pair<QString, QString>> models;
  for (const ModelEntry& e : entries) models.emplace_back(e.path, e.name());
  mForm->setModels(models, mGenerationSettings->form().modelPath);
  updateLoRALibrary();
  // Upscaler models live where A1111 and ComfyUI keep them, inside a model folder.
  QStringList upscalers;
  for (const QString& folder : mLibrary->folders())
    for (const char* sub : {"ESRGAN", "RealESRGAN", "upscale_models"})
      for (const QFileInfo& f : QDir(QDir(folder).filePath(QLatin1String(sub)))
                                    .entryInfoList({QStringLiteral("*.pth"), QStringLiteral("*.safetensors")}, QDir::Files,
                                                   QDir::Name | QDir::IgnoreCase))
        upscalers << f.absoluteFilePath();
  mForm->setUpscalerModels(upscalers);
  // TAESD where A1111 (VAE-approx) and ComfyUI (vae_approx) keep it: decoder files (the encoder
  // beside one is found by the loader), ComfyUI's combined files and diffusers folders.
  QStringList taesd;
  for (const QString& folder : mLibrary->folders())
    for (const char* sub : {"VAE-approx", "vae_approx", "taesd"})
      for (const QFileInfo& f : QDir(QDir(folder).filePath(QLatin1String(sub)))
                                    .entryInfoList({QStringLiteral("*tae*")}, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot,
                                                   QDir::Name | QDir::IgnoreCase)) {
        const QString name = f.fileName().toLower();
        if (name.contains(QLatin1String("encoder"))) continue;
        if (f.isDir() ? QFileInfo::exists(QDir(f.absoluteFilePath()).filePath(QStringLiteral("config.json")))
                      : io::is_weight_file_name(f.absoluteFilePath().toStdString()))
          taesd << f.absoluteFilePath();
      }
  mForm->setTaesdModels(taesd);
  // Embeddings with their token counts (the files are small: read here).
  QList<std::pair<QString, QString>> embeddings;
  for (const QString& folder : mLibrary->folders())
    for (const QFileInfo& f : QDir(QDir(folder).filePath(QStringLiteral("embeddings")))
                                  .entryInfoList({QStringLiteral("*.pt"), QStringLiteral("*.bin"), QStringLiteral("*.safetensors")},
                                                 QDir::Files, QDir::Name | QDir::IgnoreCase)) {
      QString label;
      try {
        const pipelines::TextualInversion e = pipelines::load_textual_inversion(f.absoluteFilePath().toStdString());
        label = tr("%1 · %n token(s)", nullptr, int(e.count())).arg(f.completeBaseName()) +
                (e.is_sdxl() ? QStringLiteral(" · SDXL") : QString());
      } catch (const std::exception&) {
      }
      embeddings.emplace_back(f.completeBaseName(), label);
    }
  mForm->setEmbeddings(embeddings);
}

// The library's LoRAs made for the selected model's base, for the form's "Add" menu.
void GeneratePage::updateLoRALibrary() {
  const auto model = mLibrary->entry(selectedModelPath());
  const QString family = model ? loraFamilyFor(model->summary.family) : QString();
  QList<ModelEntry> entries;
  for (const ModelEntry& e : mLibrary->entries()) {
    if (isLoRA(e) && (family.isEmpty() || e.summary.family == family)) entries << e;
  }
  std::sort(entries.begin(), entries.end(), [](const ModelEntry& a, const ModelEntry& b) {
    return QString::compare(a.name(), b.name(), Qt::CaseInsensitive) < 0;
  });
  QList<std::pair<QString, QString>> loras;
  for (const ModelEntry& e : entries) loras.emplace_back(e.path, e.name());
  mForm->setLoRALibrary(loras);
}

QString GeneratePage::selectedModelPath() const { return mForm->selectedModelPath(); }
void GeneratePage::selectModel(const QString& path) { mForm->selectModel(path); }
widgets::PromptEdit* GeneratePage::promptEdit() const { return mForm->promptEdit(); }
widgets::PromptEdit* GeneratePage::negativePromptEdit() const { return mForm->negativePromptEdit(); }
QComboBox* GeneratePage::modelCombo() const { return mForm->modelCombo(); }
QLineEdit* GeneratePage::seedEdit() const { return mForm->seedEdit(); }

void GeneratePage::setMode(Mode mode) {
  const bool showsInput = mMode == Mode::TextToImage && mode != Mode::TextToImage;
  mMode = mode;
  {
    const QSignalBlocker block(mModeTabs);
    mModeTabs->setCurrentIndex(static_cast<int>(mode));
  }
  updateModeView();
  updateActions();
  // Once laid out: input and result share the width when the input appears.
  if (showsInput) QTimer::singleShot(0, this, &GeneratePage::balanceCanvases);
}

void GeneratePage::updateModeView() {
  const bool drawing = mScribbleUnit != nullptr;
  const bool input = mMode != Mode::TextToImage || drawing;
  const bool inpaint = mMode == Mode::Inpaint;
  mPosePanel->setVisible(mPosing);
  // While posing the result may narrow below its usual minimum, so that the pose editor's
  // toolbar gets its width (balanceCanvases).
  mOutput->setMinimumWidth(mPosing ? 130 : 0);
  mInput->setVisible(input && !mPosing);
  mOutput->setPlaceholderText(input ? tr("The result appears here.")
                                    : tr("Write a prompt and press Generate (Ctrl+Enter).\nDrop a Kiln or "
                                         "AUTOMATIC1111 PNG here to read its parameters."));
  mCanvasTools->setVisible(input && !mPosing);
  mMaskTools->setVisible(inpaint || drawing);
  mClearMask->setText(drawing ? tr("Clear Scribble") : tr("Clear Mask"));
  mDoneDrawing->setEnabled(drawing);
  mDoneDrawingButton->setVisible(drawing);
  mForm->setStrengthVisible(mMode != Mode::TextToImage);
  mForm->setHiresAvailable(mMode == Mode::TextToImage);
  using Tool = widgets::ImageCanvas::Tool;
  mInput->setLayer(drawing ? widgets::ImageCanvas::Layer::Scribble : widgets::ImageCanvas::Layer::Mask);
  mInput->setTool(inpaint || drawing ? (mEraser->isChecked() ? Tool::Eraser : Tool::Brush) : Tool::None);
  mBrushSize->setToolTip(drawing ? tr("Size of the scribble pen in image pixels ([ and ]); the mask brush has its own")
                                 : tr("Size of the mask brush in image pixels ([ and ]); the scribble pen has its own"));
  mBrush->setToolTip(drawing ? tr("Draw the scribble (B; [ and ] change the size)")
                             : tr("Paint the area to repaint (B; [ and ] change the size)"));
  mEraser->setToolTip(drawing ? tr("Erase the scribble (E)") : tr("Erase the mask (E)"));
  // Image to image ignores the mask: it is kept for Inpaint but not shown.
  const QColor mask = widgets::Theme::isDark(palette()) ? QColor(255, 92, 122) : QColor(235, 30, 80);
  mInput->setMaskColor(inpaint ? mask : QColor(Qt::transparent));
}

void GeneratePage::beginScribble(ControlUnitEditor* unit) {
  endPoseEdit();
  if (!mInput->hasImage() || mBlankScribbleSheet) {
    const GenerationForm f = form();
    if (!mInput->hasImage() || mInput->image().size() != QSize(f.width, f.height)) {
      // A white sheet of the output size: the lines are the picture.
      QImage sheet(f.width, f.height, QImage::Format_RGB32);
      sheet.fill(Qt::white);
      mInput->setImage(sheet);
      mScribbleOwner = nullptr;
    }
    mInput->setScribbleBackdrop(1.0);
    mBlankScribbleSheet = true;
  } else {
    mInput->setScribbleBackdrop(0.75);
  }
  mScribbleUnit = unit;
  // The layer holds one drawing: another unit's is replaced by this unit's own (undoable).
  if (mScribbleOwner != unit) {
    mScribbleOwner = unit;
    if (!unit->drawnMap().isNull())
      mInput->setScribble(unit->drawnMap(), widgets::ImageCanvas::Polarity::WhiteOnBlack);
    else if (mInput->hasScribble())
      mInput->clearScribble();
  }
  unit->setDrawnMap(mInput->hasScribble() ? mInput->scribbleControlMap() : QImage());
  mBrush->setChecked(!mEraser->isChecked());
  updateModeView();
  updateActions();
  QTimer::singleShot(0, this, &GeneratePage::balanceCanvases);
  mInput->setFocus();
  Q_EMIT message(tr("Draw the scribble on the canvas; press Done Drawing when it is finished"));
}

ControlUnitEditor* GeneratePage::scribbleUnit() const { return mScribbleUnit; }

void GeneratePage::endScribble() {
  if (!mScribbleUnit) return;
  mScribbleUnit = nullptr;
  updateModeView();
  updateActions();
}

void GeneratePage::beginPoseEdit(ControlUnitEditor* unit) {
  endScribble();
  const QImage background = mInput->hasImage() && !mBlankScribbleSheet ? mInput->image() : QImage();
  mPosePanel->edit(unit, background);
  mPosing = true;
  updateModeView();
  QTimer::singleShot(0, this, &GeneratePage::balanceCanvases);
  mPosePanel->editor()->setFocus();
}

void GeneratePage::endPoseEdit() {
  if (!mPosing) return;
  mPosing = false;
  updateModeView();
}

void GeneratePage::balanceCanvases() {
  // Three widgets: the pose editor (while a pose is edited), the input canvas and the result.
  const int total = mCanvasSplitter->width() - mCanvasSplitter->handleWidth();
  int first = total / 2;
  // The pose editor's toolbar wants its whole width (at 1280 pixels half is too little).
  if (mPosing)
    first = std::clamp(mPosePanel->sizeHint().width(), first, std::max(first, total - mOutput->minimumWidth()));
  if (total > 0) mCanvasSplitter->setSizes({mPosing ? first : 0, mPosing ? 0 : first, total - first});
}

void GeneratePage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (mMode != Mode::TextToImage && !mCanvasesBalanced) QTimer::singleShot(0, this, &GeneratePage::balanceCanvases);
  mCanvasesBalanced = true;
}

void GeneratePage::updateActions() {
  const bool busy = isGenerating();
  const bool hasModel = mForm->hasModel();
  const bool canQueue = hasModel && !mWaitingForMaps;
  mGenerate->setEnabled(canQueue);
  mGenerateButton->setEnabled(canQueue);
  mGenerateButton->setText(busy ? tr("Queue") : mGenerate->text().remove(QLatin1Char('&')));
  mGenerateButton->setToolTip(!hasModel ? tr("Add a model folder on the Models page first")
                              : busy    ? tr("Add this to the queue: it runs when the jobs before it are done (Ctrl+Enter)")
                                        : mGenerate->toolTip());
  mCancel->setEnabled(busy);
  mCancelButton->setEnabled(busy);
  mClearMask->setEnabled(mInput->hasImage());
  mForm->setBusy(busy);
}

void GeneratePage::updateSelection() {
  const int row = selectedRow();
  if (row >= 0 && !isGenerating()) mOutput->setImage(mGallery->item(row).image);
}

int GeneratePage::selectedRow() const { return mGalleryPanel->selectedRow(); }

GenerationForm GeneratePage::form() const {
  GenerationForm f;
  f.mode = modeId(mMode);
  using Layer = widgets::ImageCanvas::Layer;
  f.brushSize = mInput->brushSizeOf(Layer::Mask);
  f.brushHardness = mInput->brushHardnessOf(Layer::Mask);
  f.scribbleBrushSize = mInput->brushSizeOf(Layer::Scribble);
  f.scribbleBrushHardness = mInput->brushHardnessOf(Layer::Scribble);
  return mForm->form(f);
}

void GeneratePage::setForm(const GenerationForm& f) {
  mForm->setForm(f);
  using Layer = widgets::ImageCanvas::Layer;
  mInput->setBrushSizeOf(Layer::Mask, f.brushSize);
  mInput->setBrushHardnessOf(Layer::Mask, f.brushHardness);
  mInput->setBrushSizeOf(Layer::Scribble, f.scribbleBrushSize);
  mInput->setBrushHardnessOf(Layer::Scribble, f.scribbleBrushHardness);
  // The sliders show the brush of the layer being painted.
  mBrushSize->setValue(mInput->brushSize());
  mHardness->setValue(static_cast<int>(mInput->brushHardness() * 100 + 0.5));
}

void GeneratePage::saveForm() {
  mGenerationSettings->setForm(form());
  mControlNet->saveUnits();
}

// The precision is the machine's setting, saved when the user chooses it (a saved choice this
// machine does not offer shows as Automatic and stays saved).
void GeneratePage::connectPrecision() {
  mForm->setPrecision(mGenerationSettings->precision());
  connect(mForm, &GenerationFormView::precisionChosen, mGenerationSettings.get(), &GenerationSettings::setPrecision);
}

void GeneratePage::applyParameters(const bridge::GenerationParameters& p) {
  GenerationForm f = form();
  f.prompt = p.prompt;
  f.negativePrompt = p.negativePrompt;
  try {
    f.sampler =
        QString::fromUtf8(schedulers::display_name(schedulers::parse_scheduler_name(p.sampler.toStdString())).data());
  } catch (const std::exception&) {
    Q_EMIT message(tr("Kiln has no sampler “%1”; the sampler is unchanged").arg(p.sampler));
  }
  f.steps = p.steps;
  f.cfgScale = p.cfgScale;
  f.seed = static_cast<qint64>(p.seed);
  f.width = p.width;
  f.height = p.height;
  f.clipSkip = p.clipSkip;
  f.hires = p.hires.has_value();
  if (p.hires) {
    // A1111's txt2img records the second pass's strength as "Denoising strength".
    f.hiresScale = p.hires->scale;
    f.hiresUpscaler = p.hires->upscaler;
    f.hiresSteps = p.hires->steps;
    if (p.denoisingStrength) f.hiresDenoising = *p.denoisingStrength;
    if (p.hires->resizeX > 0 && p.width > 0) f.hiresScale = double(p.hires->resizeX) / p.width;
  } else if (p.denoisingStrength) {
    f.denoisingStrength = *p.denoisingStrength;
  }
  if (p.extra.contains(QStringLiteral("Batch size"))) f.batchSize = p.extra.value(QStringLiteral("Batch size")).toInt();
  // LoRAs by A1111's name (the file name): those already listed, else the library's.
  QList<LoRAChoice> loras;
  QStringList missing;
  for (const bridge::LoRAUse& use : p.loras) {
    QString path;
    for (const LoRAChoice& l : f.loras) {
      if (QFileInfo(l.path).completeBaseName() == use.name) path = l.path;
    }
    for (const ModelEntry& e : mLibrary->entries()) {
      if (path.isEmpty() && isLoRA(e) && QFileInfo(e.path).completeBaseName() == use.name) path = e.path;
    }
    if (path.isEmpty())
      missing << use.name;
    else
      loras << LoRAChoice{path, use.weight};
  }
  f.loras = loras;
  // The model, when the library has it: by A1111's short hash, else by name.
  for (const ModelEntry& e : mLibrary->entries()) {
    if (!isGenerationModel(e)) continue;
    const bool byHash = !p.modelHash.isEmpty() && e.summary.shortHash().compare(p.modelHash, Qt::CaseInsensitive) == 0;
    const bool byName = !p.modelName.isEmpty() && QFileInfo(e.path).completeBaseName() == p.modelName;
    if (byHash || byName) {
      f.modelPath = e.path;
      if (byHash) break;
    }
  }
  setForm(f);
  // After the model: the units offer the ControlNets of its family.
  mControlNet->setBaseModel(f.modelPath);
  missing << mControlNet->applyRecords(p.controlNets);
  // Embeddings are words of the prompt: they stay in it; one without its file is only named.
  QStringList missingEmbeddings;
  for (const bridge::EmbeddingUse& use : p.embeddings) {
    bool found = false;
    for (const QString& folder : mLibrary->folders())
      for (const char* ext : {".pt", ".bin", ".safetensors"})
        found = found || QFileInfo::exists(QDir(folder).filePath(QStringLiteral("embeddings/") + use.name + QLatin1String(ext)));
    if (!found) missingEmbeddings << use.name;
  }
  if (!missing.isEmpty())
    Q_EMIT message(tr("Not in the library, left out: %1").arg(missing.join(QStringLiteral(", "))));
  if (!missingEmbeddings.isEmpty())
    Q_EMIT message(tr("Embeddings not in any model folder's embeddings folder (the words stay in the prompt): %1")
                       .arg(missingEmbeddings.join(QStringLiteral(", "))));
}

bridge::GenerationParameters GeneratePage::parametersFromForm(quint64 seed) const {
  const GenerationForm f = form();
  bridge::GenerationParameters p;
  p.prompt = f.prompt.trimmed();
  p.negativePrompt = f.negativePrompt.trimmed();
  p.steps = f.steps;
  p.sampler = f.sampler;
  p.cfgScale = f.cfgScale;
  p.seed = seed;
  p.width = f.width;
  p.height = f.height;
  p.clipSkip = f.clipSkip;
  if (mMode != Mode::TextToImage) p.denoisingStrength = f.denoisingStrength;
  if (mMode == Mode::TextToImage && f.hires) {
    bridge::HiresUse hires;
    hires.scale = f.hiresScale;
    // A model file is recorded by its name, as A1111 does; the job carries the file.
    hires.upscaler = QFileInfo(f.hiresUpscaler).isFile() ? QFileInfo(f.hiresUpscaler).completeBaseName() : f.hiresUpscaler;
    hires.steps = f.hiresSteps;
    p.hires = hires;
    p.denoisingStrength = f.hiresDenoising;
  }
  const QFileInfo info(f.modelPath);
  p.modelName = info.isDir() ? info.fileName() : info.completeBaseName();
  if (const auto e = mLibrary->entry(f.modelPath)) p.modelHash = e->summary.shortHash();
  return p;
}

void GeneratePage::generate() {
  if (!mForm->hasModel() || mWaitingForMaps) return;
  hideError();
  if (mMode != Mode::TextToImage && (!mInput->hasImage() || mBlankScribbleSheet)) {
    showError(tr("No input image"), tr("Open or drop the image to start from, or send one from the gallery."));
    return;
  }
  if (mMode == Mode::Inpaint && !mInput->hasMask()) {
    showError(tr("Nothing to repaint"), tr("Paint over the part of the image to repaint with the brush."));
    return;
  }
  // A map still being computed (a network takes a second or two): Generate waits for it.
  mControlNet->computeCancelledMaps();
  if (mControlNet->isComputing() && isGenerating()) {
    Q_EMIT message(tr("A control map is still being computed: queue again when it is ready"));
    return;
  }
  if (mControlNet->isComputing()) {
    mWaitingForMaps = true;
    mStatus->setText(tr("Computing control map…"));
    setActivity(tr("Computing control map…"), -1);
    updateActions();
    Q_EMIT generatingChanged(true);
    return;
  }
  QString controlProblem;
  const QList<ControlUnitJob> controlUnits = mControlNet->jobs(&controlProblem);
  if (!controlProblem.isEmpty()) {
    showError(tr("ControlNet unit not ready"), controlProblem);
    return;
  }
  bool fixed = true;
  GenerationJob job = jobFromForm(controlUnits, &fixed);
  saveForm();
  if (isGenerating()) {
    // Another job runs: this one waits its turn, complete as it is now.
    GenerationQueue::Entry entry;
    entry.job = job;
    entry.randomSeed = !fixed;
    entry.modelName = mForm->selectedModelName();
    mQueue->append(entry);
    Q_EMIT message(tr("Added to the queue (%n waiting)", nullptr, mQueue->count()));
    return;
  }
  startJob(job);
}

GenerationJob GeneratePage::jobFromForm(const QList<ControlUnitJob>& controlUnits, bool* fixedSeed) {
  const GenerationForm f = form();
  const bool fixed = f.seed >= 0;
  if (fixedSeed) *fixedSeed = fixed;
  const quint64 seed = fixed ? static_cast<quint64>(f.seed) : QRandomGenerator::global()->generate();

  GenerationJob job;
  job.id = mNextJob++;
  job.modelPath = selectedModelPath();
  job.parameters = parametersFromForm(seed);
  job.batchSize = f.batchSize;
  job.a1111Seeds = true;  // image k has seed + k, as AUTOMATIC1111 gives them
  job.batchCount = f.batchCount;
  if (mMode != Mode::TextToImage) job.initImage = mInput->image();
  if (mMode == Mode::Inpaint) job.mask = mInput->mask();
  job.loras = f.loras;
  job.controlUnits = controlUnits;
  job.precision = mForm->precision();
  job.vaeTiling = form().tiledVae;
  job.taesdPath = form().taesd;
  job.fastDecode = form().fastDecode;
  if (f.hires && mMode == Mode::TextToImage && QFileInfo(f.hiresUpscaler).isFile()) job.hiresUpscalerModel = f.hiresUpscaler;
  // Embeddings live in an "embeddings" folder inside a model folder (A1111's name for it).
  for (const QString& folder : mLibrary->folders()) job.embeddingFolders << QDir(folder).filePath(QStringLiteral("embeddings"));
  if (mGenerationSettings->saveAutomatically()) job.outputFolder = mGenerationSettings->outputFolder();
  return job;
}

void GeneratePage::startNextQueued() {
  if (isGenerating() || mQueue->isEmpty()) return;
  startJob(mQueue->takeFirst().job);
}

void GeneratePage::startJob(GenerationJob job) {
  const quint64 seed = job.parameters.seed;
  const bool fixed = form().seed >= 0 && static_cast<quint64>(form().seed) == seed;
  mLastSeed = seed;
  mForm->setLastSeed(seed);
  mStop = std::stop_source();
  job.stop = mStop.get_token();

  mJob = job.id;
  mJobImages = 0;
  mJobRuns = job.batchCount;
  // A neutral picture of the right shape for the previews to be drawn over.
  QImage blank(job.parameters.width, job.parameters.height, QImage::Format_RGB32);
  blank.fill(palette().color(QPalette::Base).darker(110));
  mOutput->setImage(blank);
  mProgress->setValue(0);
  mStatus->setText(fixed ? tr("Starting, seed %1…").arg(seed) : tr("Starting, random seed %1…").arg(seed));
  if (!mOtherJobs.isEmpty()) mStatus->setText(tr("Waiting for the API server's request to finish…"));
  setActivity(tr("Generating…"), -1);
  updateActions();
  Q_EMIT generatingChanged(true);
  QMetaObject::invokeMethod(
      mWorker, [worker = mWorker, job] { worker->generate(job); }, Qt::QueuedConnection);
}

void GeneratePage::generateAfterMaps() {
  if (!mWaitingForMaps || mControlNet->isComputing()) return;
  mWaitingForMaps = false;
  generate();
  if (isGenerating()) return;
  // Nothing started (a unit's map failed, say): generate() said why in the banner.
  mStatus->setText(tr("Ready"));
  setActivity({}, 0);
  updateActions();
  Q_EMIT generatingChanged(false);
}

void GeneratePage::cancel() {
  if (mWaitingForMaps) {
    // Both: the wait and the maps being computed.
    mWaitingForMaps = false;
    mControlNet->cancelMaps();
    endJob(tr("Cancelled"));
    return;
  }
  if (!isGenerating()) return;
  mStop.request_stop();
  mStatus->setText(tr("Cancelling…"));
  setActivity(tr("Cancelling…"), -1);
  mCancel->setEnabled(false);
  mCancelButton->setEnabled(false);
}

void GeneratePage::onStage(quint64 id, EngineWorker::Stage stage) {
  if (id != mJob || mStop.stop_requested()) return;
  QString text;
  switch (stage) {
    case EngineWorker::Stage::LoadingModel:
      text = tr("Loading %1…").arg(mForm->selectedModelName());
      break;
    case EngineWorker::Stage::LoadingControlNet:
      text = tr("Loading ControlNet…");
      break;
    case EngineWorker::Stage::ApplyingLoRAs:
      text = tr("Applying LoRAs…");
      break;
    case EngineWorker::Stage::EncodingPrompt:
      text = tr("Reading the prompt…");
      break;
    case EngineWorker::Stage::Sampling:
      return;  // the steps say more
    case EngineWorker::Stage::Decoding:
      text = tr("Decoding the image…");
      break;
    case EngineWorker::Stage::Saving:
      text = tr("Saving…");
      break;
  }
  mStatus->setText(text);
  setActivity(text, static_cast<int>(mProgress->value() / 10));
}

void GeneratePage::onProgress(quint64 id, const GenerationProgress& p) {
  if (id != mJob || mStop.stop_requested()) return;
  mProgress->setValue(static_cast<int>(p.fraction() * 1000));
  const double rate = p.seconds > 0 ? p.step / p.seconds : 0;
  const int remaining = (p.total - p.step) + (p.runs - p.run - 1) * p.total;
  QStringList parts;
  if (p.runs > 1) parts << tr("Run %1 of %2").arg(p.run + 1).arg(p.runs);
  parts << tr("Step %1 of %2").arg(p.step).arg(p.total);
  if (rate >= 1)
    parts << tr("%1 it/s").arg(rate, 0, 'f', 1);
  else if (rate > 0)
    parts << tr("%1 s/it").arg(1 / rate, 0, 'f', 1);
  if (rate > 0 && remaining > 0) parts << tr("%1 left").arg(durationText(remaining / rate));
  const QString text = parts.join(QStringLiteral(" · "));
  mStatus->setText(text);
  setActivity(text, static_cast<int>(p.fraction() * 100));
}

void GeneratePage::onPreview(quint64 id, const QImage& image) {
  if (id != mJob) return;
  mOutput->setPreview(image);
}

void GeneratePage::onImage(quint64 id, const GeneratedImage& image) {
  if (id != mJob) return;
  ++mJobImages;
  mGallery->prepend(image.image, image.parameters, image.path);
  mOutput->setImage(image.image);
  mGalleryPanel->selectRow(0);
  if (!image.saveError.isEmpty()) {
    showError(tr("Could not save the image"),
              tr("The image is in the gallery but was not written to %1.")
                  .arg(QDir::toNativeSeparators(mGenerationSettings->outputFolder())),
              image.saveError);
  }
  plotImage(id, image);  // after the cell: the grid goes on top
}

void GeneratePage::onWarning(quint64 id, const QString& text) {
  if (id == mJob) Q_EMIT message(text);
}

void GeneratePage::onFinished(quint64 id) {
  if (id != mJob) return;
  endJob(tr("Done: %n image(s), seed %1", nullptr, mJobImages).arg(mLastSeed.value_or(0)));
}

void GeneratePage::onFailed(quint64 id, const UserMessage& message) {
  if (id != mJob) return;
  plotJobEnded(id, false);
  showError(message.title, message.text, message.details);
  endJob(tr("Failed"));
}

void GeneratePage::onCancelled(quint64 id) {
  if (id != mJob) return;
  plotJobEnded(id, mJobImages > 0);
  endJob(mJobImages > 0 ? tr("Cancelled after %n image(s)", nullptr, mJobImages) : tr("Cancelled"));
}

void GeneratePage::endJob(const QString& status) {
  mJob = 0;
  mProgress->setValue(0);
  mStatus->setText(status);
  mOutput->setPreview(QImage());
  if (mJobImages == 0) {
    // Nothing came out: show the selected image again, or nothing.
    const int row = selectedRow();
    if (row >= 0)
      mOutput->setImage(mGallery->item(row).image);
    else
      mOutput->clear();
  }
  setActivity({}, 0);
  updateActions();
  Q_EMIT generatingChanged(false);
  Q_EMIT message(status);
  // The queue goes on after a job ends, also a cancelled or failed one (Clear Queue empties it).
  if (!mQueue->isEmpty()) QTimer::singleShot(0, this, &GeneratePage::startNextQueued);
}

void GeneratePage::setActivity(const QString& text, int percent) {
  mActivityText = text;
  mActivityPercent = percent;
  const QString queued = !text.isEmpty() && !mQueue->isEmpty() ? tr(" · %n queued", nullptr, mQueue->count()) : QString();
  Q_EMIT activityChanged(text + queued, percent);
}

void GeneratePage::showError(const QString& title, const QString& text, const QString& details) {
  mBanner->setMessage(widgets::MessageBanner::Kind::Error, title, text, details);
  mBanner->show();
}

void GeneratePage::hideError() { mBanner->hide(); }

void GeneratePage::reuseSelected() {
  const int row = selectedRow();
  if (row < 0) return;
  applyParameters(mGallery->item(row).parameters);
  Q_EMIT message(tr("The form now holds this image's parameters"));
}

void GeneratePage::sendSelectedToInput(Mode mode) {
  const int row = selectedRow();
  if (row < 0) return;
  const GalleryItem& item = mGallery->item(row);
  applyParameters(item.parameters);
  mInput->setImage(item.image);
  mBlankScribbleSheet = false;
  mScribbleOwner = nullptr;
  setMode(mode);
}

void GeneratePage::setInputImage(const QImage& image) {
  mInput->setImage(image);
  mBlankScribbleSheet = false;
  mScribbleOwner = nullptr;
  // The engine works in multiples of 8; the input's size is the natural choice.
  GenerationForm f = form();
  f.width = std::max(64, image.width() / 8 * 8);
  f.height = std::max(64, image.height() / 8 * 8);
  mForm->setForm(f);
  if (mMode == Mode::TextToImage) setMode(Mode::ImageToImage);
  updateActions();
}

void GeneratePage::openFile(const QString& path, bool asInput) {
  const QString name = QFileInfo(path).fileName();
  const bridge::OpenedImage opened = bridge::readImageFile(path);
  const QImage& image = opened.image;
  if (image.isNull()) {
    showError(tr("Not an image"), tr("Kiln cannot read %1 as an image.").arg(name), opened.problem);
    return;
  }
  hideError();
  const auto parameters = bridge::GenerationParameters::fromText(bridge::readPngParameters(path));
  if (asInput || (mMode != Mode::TextToImage && !parameters)) {
    setInputImage(image);
    Q_EMIT message(tr("Opened %1 as the input image").arg(name));
    return;
  }
  if (!parameters) {
    showError(tr("No parameters"), tr("%1 does not say how it was made (it has no “parameters” text).").arg(name));
    return;
  }
  applyParameters(*parameters);
  mOutput->setImage(image);
  Q_EMIT message(tr("Read the parameters of %1").arg(name));
}

void GeneratePage::chooseInputImage() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open Image"), {}, tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"));
  if (!path.isEmpty()) openFile(path, true);
}

void GeneratePage::chooseOutputFolder() {
  const QString folder =
      QFileDialog::getExistingDirectory(this, tr("Folder for Generated Images"), mGenerationSettings->outputFolder());
  if (!folder.isEmpty()) mGenerationSettings->setOutputFolder(folder);
}

void GeneratePage::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* data = event->mimeData();
  if (data->hasUrls() && !data->urls().isEmpty() && data->urls().front().isLocalFile() &&
      isImageFile(data->urls().front().toLocalFile())) {
    event->acceptProposedAction();
  }
}

void GeneratePage::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.front().isLocalFile()) return;
  event->acceptProposedAction();
  openFile(urls.front().toLocalFile());
}

}  // namespace kiln::app
