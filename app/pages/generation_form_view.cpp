#include "pages/generation_form_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTextCursor>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

#include "base/runtime_info.h"
#include "bridge/generation_parameters.h"
#include "jobs/engine_worker.h"
#include "schedulers/scheduler_kind.h"
#include "text/clip_tokenizer.h"
#include "text/prompt.h"
#include "widgets/elided_label.h"
#include "widgets/prompt_edit.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

const char* const kIconPath = "kilnIconPath";
const char* const kLoRAPath = "kilnLoRAPath";

QLabel* sectionTitle(const QString& text, QWidget* parent) {
  auto* label = new QLabel(text, parent);
  QFont bold = label->font();
  bold.setWeight(QFont::DemiBold);
  label->setFont(bold);
  return label;
}

QString samplerName(schedulers::SchedulerKind kind) {
  const std::string_view name = schedulers::display_name(kind);
  return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}

}  // namespace

GenerationFormView::GenerationFormView(QWidget* parent) : QWidget(parent), mCountTimer(new QTimer(this)) {
  setObjectName(QStringLiteral("generationForm"));
  mModel = new QComboBox(this);
  mModel->setObjectName(QStringLiteral("modelCombo"));
  mModel->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  mModel->setMinimumContentsLength(12);
  mModel->setPlaceholderText(tr("No model: add a folder on the Models page"));
  // Qt sizes a combo to its whole placeholder whatever the adjust policy; the German one made the
  // form wider than its panel at 1280x800 (the right edge was cut). The text is elided instead.
  mModel->setMinimumWidth(fontMetrics().averageCharWidth() * 16);
  connect(mModel, &QComboBox::currentIndexChanged, this, &GenerationFormView::modelChanged);
  connect(mModel, &QComboBox::activated, this, [this] { mWantedModel.clear(); });  // the user chose

  mPrompt = new widgets::PromptEdit(this);
  mPrompt->setObjectName(QStringLiteral("promptEdit"));
  mPrompt->setPlaceholderText(tr("What to draw, e.g. a photo of a red fox in the snow, (golden hour:1.2)"));
  mPrompt->setVisibleLines(5);
  mNegative = new widgets::PromptEdit(this);
  mNegative->setObjectName(QStringLiteral("negativePromptEdit"));
  mNegative->setPlaceholderText(tr("What to avoid, e.g. blurry, low quality"));
  mNegative->setVisibleLines(3);
  mCountTimer->setSingleShot(true);
  mCountTimer->setInterval(120);
  connect(mCountTimer, &QTimer::timeout, this, &GenerationFormView::updateTokenCounts);
  for (auto* edit : {mPrompt, mNegative}) {
    connect(edit, &QPlainTextEdit::textChanged, mCountTimer, qOverload<>(&QTimer::start));
  }

  mSampler = new QComboBox(this);
  mSampler->setObjectName(QStringLiteral("samplerCombo"));
  for (const auto kind : schedulers::kAllSchedulerKinds) mSampler->addItem(samplerName(kind));
  mSteps = new QSpinBox(this);
  mSteps->setObjectName(QStringLiteral("stepsSpin"));
  mSteps->setRange(1, 150);
  mCfg = new QDoubleSpinBox(this);
  mCfg->setObjectName(QStringLiteral("cfgSpin"));
  mCfg->setRange(1.0, 30.0);
  mCfg->setSingleStep(0.5);
  mCfg->setDecimals(1);
  mCfg->setToolTip(tr("How closely the image follows the prompt (classifier-free guidance)"));

  mSeed = new QLineEdit(this);
  mSeed->setObjectName(QStringLiteral("seedEdit"));
  mSeed->setPlaceholderText(tr("Random"));
  mSeed->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("\\d{0,10}")), mSeed));
  mSeed->setClearButtonEnabled(true);
  mSeed->setToolTip(tr("Empty: a new random seed each time; a number gives the same image again"));
  mRandomSeed = new QToolButton(this);
  mRandomSeed->setObjectName(QStringLiteral("randomSeedButton"));
  mRandomSeed->setToolTip(tr("Random seed each time"));
  mRandomSeed->setAutoRaise(true);
  mRandomSeed->setProperty(kIconPath, QStringLiteral(":/icons/dice.svg"));
  connect(mRandomSeed, &QToolButton::clicked, mSeed, &QLineEdit::clear);
  mReuseSeed = new QToolButton(this);
  mReuseSeed->setObjectName(QStringLiteral("reuseSeedButton"));
  mReuseSeed->setToolTip(tr("Reuse the last seed"));
  mReuseSeed->setAutoRaise(true);
  mReuseSeed->setProperty(kIconPath, QStringLiteral(":/icons/recycle.svg"));
  connect(mReuseSeed, &QToolButton::clicked, this, [this] {
    if (mLastSeed) mSeed->setText(QString::number(*mLastSeed));
  });
  auto* seedRow = new QHBoxLayout;
  seedRow->setSpacing(2);
  seedRow->addWidget(mSeed, 1);
  seedRow->addWidget(mRandomSeed);
  seedRow->addWidget(mReuseSeed);

  mWidth = new QSpinBox(this);
  mWidth->setObjectName(QStringLiteral("widthSpin"));
  mHeight = new QSpinBox(this);
  mHeight->setObjectName(QStringLiteral("heightSpin"));
  for (QSpinBox* side : {mWidth, mHeight}) {
    connect(side, &QSpinBox::valueChanged, this, &GenerationFormView::sizeChanged);
    side->setRange(64, 2048);
    side->setSingleStep(64);
    side->setSuffix(tr(" px"));
    side->setToolTip(tr("A multiple of 8"));
  }
  auto* sizeRow = new QHBoxLayout;
  sizeRow->setSpacing(4);
  sizeRow->addWidget(mWidth, 1);
  sizeRow->addWidget(new QLabel(QStringLiteral("×"), this));
  sizeRow->addWidget(mHeight, 1);

  mBatchCount = new QSpinBox(this);
  mBatchCount->setObjectName(QStringLiteral("batchCountSpin"));
  mBatchCount->setRange(1, 100);
  mBatchCount->setToolTip(tr("Batch count: runs one after the other, with seed, seed + 1, …"));
  mBatchSize = new QSpinBox(this);
  mBatchSize->setObjectName(QStringLiteral("batchSizeSpin"));
  mBatchSize->setRange(1, 16);
  mBatchSize->setToolTip(tr("Batch size: images drawn together in one run (more memory, faster per image)"));
  auto* batchRow = new QHBoxLayout;
  batchRow->setSpacing(4);
  batchRow->addWidget(mBatchCount, 1);
  batchRow->addWidget(new QLabel(QStringLiteral("×"), this));
  batchRow->addWidget(mBatchSize, 1);

  mClipSkip = new QSpinBox(this);
  mClipSkip->setObjectName(QStringLiteral("clipSkipSpin"));
  mClipSkip->setRange(1, 12);
  mClipSkip->setToolTip(tr("Use the text encoder's output this many layers from the end (1 = the last layer)"));
  mTiledVae = new QComboBox(this);
  mTiledVae->setObjectName(QStringLiteral("tiledVaeCombo"));
  mTiledVae->addItem(tr("Auto"), QStringLiteral("auto"));
  mTiledVae->addItem(tr("On"), QStringLiteral("on"));
  mTiledVae->addItem(tr("Off"), QStringLiteral("off"));
  mTiledVae->setToolTip(tr("Decode (and encode) the image in overlapping tiles: far less memory for large images, "
                           "very slightly different pixels. Auto tiles above 1536 × 1024 and when one piece runs out "
                           "of memory."));
  mTaesd = new QComboBox(this);
  mTaesd->setObjectName(QStringLiteral("taesdCombo"));
  mTaesd->addItem(tr("Cheap"), QString());
  // Long file names must not widen the form.
  mTaesd->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  mTaesd->setMinimumContentsLength(6);
  mTaesd->setToolTip(tr("What the picture shows while it is being made: a cheap colour approximation of the latents, or TAESD, "
                        "the tiny autoencoder (taesd_decoder for SD 1.x/2.x, taesdxl_decoder for SDXL; files in a "
                        "model folder's VAE-approx or vae_approx folder are listed), which shows the real picture; "
                        "where it is slow, not after every step (previews take at most 5 % of the time)"));
  mTaesdChoose = new QToolButton(this);
  mTaesdChoose->setObjectName(QStringLiteral("taesdChooseButton"));
  mTaesdChoose->setText(QStringLiteral("…"));
  mTaesdChoose->setToolTip(tr("Choose a TAESD file"));
  connect(mTaesdChoose, &QToolButton::clicked, this, &GenerationFormView::chooseTaesd);
  mFastDecode = new QCheckBox(tr("Fast decode"), this);
  mFastDecode->setObjectName(QStringLiteral("fastDecodeCheck"));
  mFastDecode->setToolTip(tr("Decode the final image with TAESD too: a fraction of the VAE's time, a little less "
                             "fine detail (recorded as \"VAE Decoder: TAESD\")"));
  mFastDecode->setEnabled(false);
  connect(mTaesd, &QComboBox::currentIndexChanged, this, [this] {
    const bool tiny = !mTaesd->currentData().toString().isEmpty();
    mFastDecode->setEnabled(tiny);
    if (!tiny) mFastDecode->setChecked(false);
  });
  mHires = new QCheckBox(tr("Upscale by"), this);
  mHires->setObjectName(QStringLiteral("hiresCheck"));
  mHires->setToolTip(tr("Hires. fix: make the image at this size, upscale it, then refine it at the larger size "
                        "(a second, image-to-image pass)"));
  mHiresScale = new QDoubleSpinBox(this);
  mHiresScale->setObjectName(QStringLiteral("hiresScaleSpin"));
  mHiresScale->setRange(1.0, 4.0);
  mHiresScale->setSingleStep(0.25);
  mHiresScale->setDecimals(2);
  mHiresScale->setPrefix(QStringLiteral("× "));
  mHiresUpscaler = new QComboBox(this);
  mHiresUpscaler->setObjectName(QStringLiteral("hiresUpscalerCombo"));
  mHiresUpscaler->addItems(bridge::hiresUpscalerNames());
  mHiresUpscaler->setToolTip(tr("Latent: the latents are resized (fast, adds detail); Lanczos / Nearest: the image is "
                                "resized and encoded again"));
  mHiresSteps = new QSpinBox(this);
  mHiresSteps->setObjectName(QStringLiteral("hiresStepsSpin"));
  mHiresSteps->setRange(0, 150);
  mHiresSteps->setSpecialValueText(tr("Same as steps"));
  mHiresSteps->setToolTip(tr("Steps of the second pass; it runs steps × denoising of them"));
  mHiresDenoising = new QDoubleSpinBox(this);
  mHiresDenoising->setObjectName(QStringLiteral("hiresDenoisingSpin"));
  mHiresDenoising->setRange(0.0, 1.0);
  mHiresDenoising->setSingleStep(0.05);
  mHiresDenoising->setToolTip(tr("How much the second pass may change the upscaled image"));
  connect(mHires, &QCheckBox::toggled, this, &GenerationFormView::updateHiresRows);
  mStrength = new QDoubleSpinBox(this);
  mStrength->setObjectName(QStringLiteral("strengthSpin"));
  mStrength->setRange(0.0, 1.0);
  mStrength->setSingleStep(0.05);
  mStrength->setDecimals(2);
  mStrength->setToolTip(tr("How much of the input image is redrawn (1 = all of it)"));

  mAddLoRA = new QToolButton(this);
  mAddLoRA->setObjectName(QStringLiteral("addLoRAButton"));
  mAddLoRA->setText(tr("Add…"));
  mAddLoRA->setToolTip(tr("Add a LoRA: a style or subject trained for this model's base, merged in with the "
                          "weight beside it (1 = full strength, 0 = off)"));
  mAddLoRA->setAutoRaise(true);
  connect(mAddLoRA, &QToolButton::clicked, this, &GenerationFormView::chooseLoRA);
  auto* loraTitle = new QHBoxLayout;
  loraTitle->setContentsMargins(0, 0, 0, 0);
  loraTitle->addWidget(sectionTitle(tr("LoRAs"), this));
  loraTitle->addStretch(1);
  loraTitle->addWidget(mAddLoRA);
  mLoRAList = new QWidget(this);
  mLoRAList->setObjectName(QStringLiteral("loraList"));
  mLoRARows = new QVBoxLayout(mLoRAList);
  mLoRARows->setContentsMargins(0, 0, 0, 0);
  mLoRARows->setSpacing(2);
  mLoRAList->hide();

  auto* grid = new QFormLayout;
  grid->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  grid->setLabelAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  grid->setHorizontalSpacing(10);
  grid->setVerticalSpacing(6);
  grid->addRow(tr("Sampler"), mSampler);
  grid->addRow(tr("Steps"), mSteps);
  grid->addRow(tr("CFG scale"), mCfg);
  grid->addRow(tr("Seed"), seedRow);
  grid->addRow(tr("Size"), sizeRow);
  grid->addRow(tr("Batches"), batchRow);
  grid->addRow(tr("Clip skip"), mClipSkip);
  grid->addRow(tr("Tiled VAE"), mTiledVae);
  auto* taesdRow = new QHBoxLayout;
  taesdRow->setSpacing(4);
  taesdRow->addWidget(mTaesd, 1);
  taesdRow->addWidget(mTaesdChoose);
  taesdRow->addWidget(mFastDecode);
  grid->addRow(tr("Previews"), taesdRow);
  auto* hiresRow = new QHBoxLayout;
  hiresRow->setSpacing(6);
  hiresRow->addWidget(mHires);
  hiresRow->addWidget(mHiresScale, 1);
  mHiresRow = grid->rowCount();
  grid->addRow(tr("Hires. fix"), hiresRow);
  grid->addRow(tr("Upscaler"), mHiresUpscaler);
  grid->addRow(tr("Hires steps"), mHiresSteps);
  grid->addRow(tr("Hires denoising"), mHiresDenoising);
  mGrid = grid;
  mStrengthLabel = new QLabel(tr("Denoising"), this);
  grid->addRow(mStrengthLabel, mStrength);
  addPrecisionRows(grid);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(14, 12, 10, 8);
  layout->setSpacing(6);
  layout->addWidget(sectionTitle(tr("Model"), this));
  layout->addWidget(mModel);
  layout->addSpacing(4);
  mEmbeddings = new QToolButton(this);
  mEmbeddings->setObjectName(QStringLiteral("embeddingsButton"));
  mEmbeddings->setText(tr("Embeddings"));
  mEmbeddings->setToolTip(tr("Textual inversion embeddings from the model folders' embeddings folders: a name in "
                             "the prompt uses it (each vector counts as one token)"));
  mEmbeddings->setAutoRaise(true);
  mEmbeddings->setPopupMode(QToolButton::InstantPopup);
  mEmbeddings->setMenu(new QMenu(mEmbeddings));
  mEmbeddings->hide();
  auto* promptTitle = new QHBoxLayout;
  promptTitle->setContentsMargins(0, 0, 0, 0);
  promptTitle->addWidget(sectionTitle(tr("Prompt"), this));
  promptTitle->addStretch(1);
  promptTitle->addWidget(mEmbeddings);
  layout->addLayout(promptTitle);
  layout->addWidget(mPrompt, 3);
  layout->addWidget(sectionTitle(tr("Negative prompt"), this));
  layout->addWidget(mNegative, 2);
  layout->addLayout(loraTitle);
  layout->addWidget(mLoRAList);
  layout->addSpacing(4);
  layout->addLayout(grid);
  layout->addStretch(1);
  // Room for long prompts, but on a tall screen the settings stay close under them.
  mPrompt->setMaximumHeight(mPrompt->fontMetrics().lineSpacing() * 12);
  mNegative->setMaximumHeight(mNegative->fontMetrics().lineSpacing() * 7);
  updateIcons();
}

GenerationFormView::~GenerationFormView() = default;

GenerationForm GenerationFormView::form(const GenerationForm& base) const {
  GenerationForm f = base;
  f.modelPath = selectedModelPath();
  f.prompt = mPrompt->toPlainText();
  f.negativePrompt = mNegative->toPlainText();
  f.sampler = mSampler->currentText();
  f.steps = mSteps->value();
  f.cfgScale = mCfg->value();
  bool ok = false;
  const qulonglong seed = mSeed->text().toULongLong(&ok);
  f.seed = ok ? static_cast<qint64>(seed) : -1;
  f.width = mWidth->value();
  f.height = mHeight->value();
  f.batchCount = mBatchCount->value();
  f.batchSize = mBatchSize->value();
  f.clipSkip = mClipSkip->value();
  f.tiledVae = mTiledVae->currentData().toString();
  f.taesd = mTaesd->currentData().toString();
  f.fastDecode = mFastDecode->isChecked() && !f.taesd.isEmpty();
  f.hires = mHires->isChecked();
  f.hiresScale = mHiresScale->value();
  // A model file's path, or a built-in upscaler's name.
  f.hiresUpscaler = mHiresUpscaler->currentData().toString().isEmpty() ? mHiresUpscaler->currentText()
                                                                         : mHiresUpscaler->currentData().toString();
  f.hiresSteps = mHiresSteps->value();
  f.hiresDenoising = mHiresDenoising->value();
  f.denoisingStrength = mStrength->value();
  f.loras = loras();
  return f;
}

void GenerationFormView::setForm(const GenerationForm& f) {
  if (!f.modelPath.isEmpty()) selectModel(f.modelPath);
  if (f.prompt != mPrompt->toPlainText()) mPrompt->setPlainText(f.prompt);
  if (f.negativePrompt != mNegative->toPlainText()) mNegative->setPlainText(f.negativePrompt);
  const int sampler = mSampler->findText(f.sampler);
  mSampler->setCurrentIndex(sampler >= 0 ? sampler : mSampler->findText(QStringLiteral("Euler a")));
  mSteps->setValue(f.steps);
  mCfg->setValue(f.cfgScale);
  mSeed->setText(f.seed >= 0 ? QString::number(f.seed) : QString());
  mWidth->setValue(f.width);
  mHeight->setValue(f.height);
  mBatchCount->setValue(f.batchCount);
  mBatchSize->setValue(f.batchSize);
  mClipSkip->setValue(f.clipSkip);
  const int tiled = mTiledVae->findData(f.tiledVae);
  mTiledVae->setCurrentIndex(tiled >= 0 ? tiled : 0);
  selectTaesd(f.taesd);
  mFastDecode->setChecked(f.fastDecode && !mTaesd->currentData().toString().isEmpty());
  mHires->setChecked(f.hires);
  mHiresScale->setValue(f.hiresScale);
  int upscaler = mHiresUpscaler->findData(f.hiresUpscaler);
  if (upscaler < 0) upscaler = mHiresUpscaler->findText(f.hiresUpscaler);
  if (upscaler < 0) upscaler = mHiresUpscaler->findText(QFileInfo(f.hiresUpscaler).completeBaseName());
  mHiresUpscaler->setCurrentIndex(upscaler >= 0 ? upscaler : 0);
  mHiresSteps->setValue(f.hiresSteps);
  mHiresDenoising->setValue(f.hiresDenoising);
  updateHiresRows();
  mStrength->setValue(f.denoisingStrength);
  if (f.loras != loras()) setLoRAs(f.loras);
}

void GenerationFormView::setModels(const QList<std::pair<QString, QString>>& models, const QString& fallback) {
  bool same = models.size() == mModel->count();
  for (int i = 0; same && i < models.size(); ++i) same = mModel->itemData(i).toString() == models[i].first;
  if (same) return;
  // The remembered model wins once it is listed (models are found one by one after start-up).
  if (mWantedModel.isEmpty() && mModel->currentIndex() < 0) mWantedModel = fallback;
  const bool wantedListed =
      std::any_of(models.begin(), models.end(), [this](const auto& m) { return m.first == mWantedModel; });
  const QString current = wantedListed ? mWantedModel : selectedModelPath();
  if (wantedListed) mWantedModel.clear();
  {
    const QSignalBlocker block(mModel);
    mModel->clear();
    for (const auto& [path, name] : models) {
      mModel->addItem(name, path);
      mModel->setItemData(mModel->count() - 1, QDir::toNativeSeparators(path), Qt::ToolTipRole);
    }
    const int index = mModel->findData(current);
    mModel->setCurrentIndex(index >= 0 ? index : (mModel->count() > 0 ? 0 : -1));
  }
  Q_EMIT modelChanged();
}

QString GenerationFormView::selectedModelPath() const { return mModel->currentData().toString(); }
QString GenerationFormView::selectedModelName() const { return mModel->currentText(); }
bool GenerationFormView::hasModel() const { return mModel->currentIndex() >= 0; }

void GenerationFormView::selectModel(const QString& path) {
  const int index = mModel->findData(path);
  if (index >= 0) mModel->setCurrentIndex(index);
  mWantedModel = index >= 0 ? QString() : path;  // selected when it appears
}

void GenerationFormView::setStrengthVisible(bool visible) {
  mStrength->setVisible(visible);
  mStrengthLabel->setVisible(visible);
}

void GenerationFormView::setEmbeddings(const QList<std::pair<QString, QString>>& embeddings) {
  QMenu* menu = mEmbeddings->menu();
  menu->clear();
  for (const auto& [name, label] : embeddings) {
    QAction* action = menu->addAction(label.isEmpty() ? tr("%1 (not an embedding)").arg(name) : label);
    action->setEnabled(!label.isEmpty());
    connect(action, &QAction::triggered, this, [this, name = name] {
      // At the cursor, separated from the words around it by a comma.
      QTextCursor cursor = mPrompt->textCursor();
      const QString text = mPrompt->toPlainText();
      const int at = cursor.position();
      const QString before = text.left(at).trimmed();
      QString insert = name;
      if (!before.isEmpty() && !before.endsWith(QLatin1Char(','))) insert.prepend(QStringLiteral(", "));
      else if (!before.isEmpty()) insert.prepend(QLatin1Char(' '));
      cursor.insertText(insert);
      mPrompt->setTextCursor(cursor);
      mPrompt->setFocus();
    });
  }
  mEmbeddings->setVisible(!embeddings.isEmpty());
  // Typed names complete in both prompts (negative embeddings are the common kind).
  QList<widgets::PromptCompletion> words;
  for (const auto& [name, label] : embeddings)
    if (!label.isEmpty()) words << widgets::PromptCompletion{name, label};
  mPrompt->setCompletions(words);
  mNegative->setCompletions(words);
}

void GenerationFormView::setUpscalerModels(const QStringList& files) {
  const QVariant current = mHiresUpscaler->currentData().isValid() && !mHiresUpscaler->currentData().toString().isEmpty()
                               ? mHiresUpscaler->currentData()
                               : QVariant(mHiresUpscaler->currentText());
  const QSignalBlocker block(mHiresUpscaler);
  const int builtIn = int(bridge::hiresUpscalerNames().size());
  while (mHiresUpscaler->count() > builtIn) mHiresUpscaler->removeItem(builtIn);
  for (const QString& file : files) mHiresUpscaler->addItem(QFileInfo(file).completeBaseName(), file);
  int index = mHiresUpscaler->findData(current);
  if (index < 0) index = mHiresUpscaler->findText(current.toString());
  mHiresUpscaler->setCurrentIndex(std::max(0, index));
}

void GenerationFormView::setTaesdModels(const QStringList& paths) {
  const QString current = mTaesd->currentData().toString();
  const bool fast = mFastDecode->isChecked();
  {
    const QSignalBlocker block(mTaesd);
    while (mTaesd->count() > 1) mTaesd->removeItem(1);
    for (const QString& path : paths) {
      mTaesd->addItem(QFileInfo(path).fileName(), path);
      mTaesd->setItemData(mTaesd->count() - 1, QDir::toNativeSeparators(path), Qt::ToolTipRole);
    }
  }
  selectTaesd(current);
  mFastDecode->setChecked(fast && !mTaesd->currentData().toString().isEmpty());
}

// Selects `path`, adding it when it is not listed (a file chosen by hand stays chosen); an empty
// path selects the cheap previews.
void GenerationFormView::selectTaesd(const QString& path) {
  int index = path.isEmpty() ? 0 : mTaesd->findData(path);
  if (index < 0 && QFileInfo::exists(path)) {
    mTaesd->addItem(QFileInfo(path).fileName(), path);
    index = mTaesd->count() - 1;
    mTaesd->setItemData(index, QDir::toNativeSeparators(path), Qt::ToolTipRole);
  }
  mTaesd->setCurrentIndex(std::max(0, index));
  const bool tiny = !mTaesd->currentData().toString().isEmpty();
  mFastDecode->setEnabled(tiny);
  if (!tiny) mFastDecode->setChecked(false);
}

void GenerationFormView::chooseTaesd() {
  const QString current = mTaesd->currentData().toString();
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Choose TAESD"), current.isEmpty() ? QString() : QFileInfo(current).absolutePath(),
      tr("TAESD files (*.safetensors *.pth *.pt *.bin)"));
  if (!path.isEmpty()) selectTaesd(path);
}

void GenerationFormView::setHiresAvailable(bool available) {
  mHiresAvailable = available;
  updateHiresRows();
}

// The hires row for text-to-image; its details only while it is on.
void GenerationFormView::updateHiresRows() {
  if (!mGrid) return;
  mGrid->setRowVisible(mHiresRow, mHiresAvailable);
  const bool details = mHiresAvailable && mHires->isChecked();
  mHiresScale->setEnabled(mHires->isChecked());
  mGrid->setRowVisible(mHiresUpscaler, details);
  mGrid->setRowVisible(mHiresSteps, details);
  mGrid->setRowVisible(mHiresDenoising, details);
}

void GenerationFormView::setTokenizer(std::shared_ptr<const text::CLIPTokenizer> tokenizer) {
  mTokenizer = std::move(tokenizer);
  updateTokenCounts();
}

void GenerationFormView::setBusy(bool busy) { mModel->setEnabled(!busy); }

void GenerationFormView::setLoRALibrary(const QList<std::pair<QString, QString>>& loras) { mLoRALibrary = loras; }

QList<LoRAChoice> GenerationFormView::loras() const {
  QList<LoRAChoice> list;
  for (int i = 0; i < mLoRARows->count(); ++i) {
    const QWidget* row = mLoRARows->itemAt(i)->widget();
    if (!row) continue;
    const auto* weight = row->findChild<QDoubleSpinBox*>(QStringLiteral("loraWeightSpin"));
    list << LoRAChoice{row->property(kLoRAPath).toString(), weight ? weight->value() : 1.0};
  }
  return list;
}

void GenerationFormView::setLoRAs(const QList<LoRAChoice>& loras) {
  while (mLoRARows->count() > 0) removeLoRA(mLoRARows->itemAt(0)->widget());
  for (const LoRAChoice& l : loras) addLoRA(l.path, l.weight);
}

void GenerationFormView::addLoRA(const QString& path, double weight) {
  for (int i = 0; i < mLoRARows->count(); ++i) {
    QWidget* row = mLoRARows->itemAt(i)->widget();
    if (row && row->property(kLoRAPath).toString() == path) {
      row->findChild<QDoubleSpinBox*>(QStringLiteral("loraWeightSpin"))->setValue(weight);
      return;
    }
  }
  auto* row = new QWidget(mLoRAList);
  row->setObjectName(QStringLiteral("loraRow"));
  row->setProperty(kLoRAPath, path);
  auto* name = new widgets::ElidedLabel(Qt::ElideMiddle, row);
  name->setText(QFileInfo(path).completeBaseName());
  name->setToolTip(QDir::toNativeSeparators(path));
  auto* spin = new QDoubleSpinBox(row);
  spin->setObjectName(QStringLiteral("loraWeightSpin"));
  spin->setRange(-5.0, 5.0);
  spin->setSingleStep(0.05);
  spin->setDecimals(2);
  spin->setValue(weight);
  spin->setToolTip(tr("Weight: how strongly the LoRA changes the model (1 = as trained, 0 = off, negative = the "
                      "opposite)"));
  auto* remove = new QToolButton(row);
  remove->setObjectName(QStringLiteral("removeLoRAButton"));
  remove->setAutoRaise(true);
  remove->setToolTip(tr("Remove this LoRA"));
  remove->setProperty(kIconPath, QStringLiteral(":/icons/clear.svg"));
  remove->setIcon(widgets::Theme::tinted(remove->property(kIconPath).toString(), palette().color(QPalette::ButtonText)));
  connect(remove, &QToolButton::clicked, this, [this, row] { removeLoRA(row); });
  auto* rowLayout = new QHBoxLayout(row);
  rowLayout->setContentsMargins(0, 0, 0, 0);
  rowLayout->setSpacing(4);
  rowLayout->addWidget(name, 1);
  rowLayout->addWidget(spin);
  rowLayout->addWidget(remove);
  mLoRARows->addWidget(row);
  mLoRAList->show();
}

void GenerationFormView::removeLoRA(QWidget* row) {
  if (!row) return;
  mLoRARows->removeWidget(row);
  row->hide();
  row->deleteLater();
  mLoRAList->setVisible(mLoRARows->count() > 0);
}

// The library's LoRAs in a menu (with "Browse…"), or straight to the file dialog without any.
void GenerationFormView::chooseLoRA() {
  if (mLoRALibrary.isEmpty()) {
    browseLoRA();
    return;
  }
  QMenu menu(this);
  const QList<LoRAChoice> listed = loras();
  for (const auto& [path, name] : mLoRALibrary) {
    QAction* action = menu.addAction(name);
    connect(action, &QAction::triggered, this, [this, path] {
      addLoRA(path);
      Q_EMIT loraChosen(path);
    });
    action->setToolTip(QDir::toNativeSeparators(path));
    action->setEnabled(std::none_of(listed.begin(), listed.end(), [&](const LoRAChoice& l) { return l.path == path; }));
  }
  menu.addSeparator();
  connect(menu.addAction(tr("Browse…")), &QAction::triggered, this, &GenerationFormView::browseLoRA);
  menu.exec(mAddLoRA->mapToGlobal(QPoint(0, mAddLoRA->height())));
}

void GenerationFormView::browseLoRA() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Add a LoRA"), mLoRAFolder,
                                                    tr("LoRA files (*.safetensors *.pt *.ckpt *.bin)"));
  if (path.isEmpty()) return;
  mLoRAFolder = QFileInfo(path).absolutePath();
  addLoRA(path);
  Q_EMIT loraChosen(path);
}

void GenerationFormView::updateTokenCounts() {
  countTokens(mPrompt);
  countTokens(mNegative);
}

// A1111's counter: the prompt's tokens over 75 per started chunk ("80/150").
void GenerationFormView::countTokens(widgets::PromptEdit* edit) {
  if (!mTokenizer) {
    edit->setCounterText({});
    return;
  }
  try {
    const auto tokens = text::tokenize_prompt(*mTokenizer, edit->toPlainText().toStdString(), text::PromptSyntax::A1111,
                                              text::PadConvention::SD1);
    const int limit = 75 * std::max<int>(1, static_cast<int>(tokens.chunks.size()));
    edit->setCounterText(QStringLiteral("%1/%2").arg(tokens.token_count).arg(limit));
  } catch (const std::exception&) {
    edit->setCounterText({});
  }
}

void GenerationFormView::updateIcons() {
  const QColor color = palette().color(QPalette::ButtonText);
  for (QToolButton* button : {mRandomSeed, mReuseSeed}) {
    button->setIcon(widgets::Theme::tinted(button->property(kIconPath).toString(), color));
  }
  for (QToolButton* button : mLoRAList->findChildren<QToolButton*>(QStringLiteral("removeLoRAButton"))) {
    button->setIcon(widgets::Theme::tinted(button->property(kIconPath).toString(), color));
  }
}

void GenerationFormView::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) updateIcons();
  if (event->type() == QEvent::LanguageChange) fillPrecisionItems();
}

// The precision combo and, under it, what the chosen item means on this machine.
void GenerationFormView::addPrecisionRows(QFormLayout* grid) {
  mPrecision = new QComboBox(this);
  mPrecision->setObjectName(QStringLiteral("precisionCombo"));
  for (const Precision p : kAllPrecisions) mPrecision->addItem(QString(), QString::fromUtf8(to_string(p).data()));
  mPrecisionNote = new QLabel(this);
  mPrecisionNote->setObjectName(QStringLiteral("precisionNote"));
  mPrecisionNote->setWordWrap(true);
  mPrecisionNote->setForegroundRole(QPalette::PlaceholderText);
  connect(mPrecision, &QComboBox::currentIndexChanged, this, &GenerationFormView::updatePrecisionNote);
  connect(mPrecision, &QComboBox::activated, this, [this] { Q_EMIT precisionChosen(precision()); });
  grid->addRow(tr("Precision"), mPrecision);
  grid->addRow(mPrecisionNote);
  setPrecisionSupport(EngineWorker::usesCuda(), cpu_computes_bf16_natively());
}

void GenerationFormView::setPrecisionSupport(bool cuda, bool cpuBf16) {
  mCuda = cuda;
  mCpuBf16 = cpuBf16;
  const Precision chosen = precision();
  fillPrecisionItems();
  setPrecision(chosen);
}

void GenerationFormView::fillPrecisionItems() {
  auto* items = qobject_cast<QStandardItemModel*>(mPrecision->model());
  const c10::Device device(mCuda ? c10::kCUDA : c10::kCPU);
  for (int i = 0; i < mPrecision->count(); ++i) {
    const Precision p = *precision_from_string(mPrecision->itemData(i).toString().toStdString());
    QString text = QString::fromUtf8(to_string(p).data());
    QString unavailable;
    if (p == Precision::Auto) {
      const std::string resolved = precision_name(resolve_precision(p, device, mCpuBf16).dtype);
      text = tr("Automatic (%1)").arg(QString::fromStdString(resolved));
    } else if (p == Precision::BF16 && !mCuda && !mCpuBf16) {
      unavailable = tr("Not offered: this CPU does not compute bf16 natively (it has neither AVX512-BF16 nor "
                       "AMX), so bf16 would run about 30 times slower than fp32.");
    } else if (p == Precision::FP16 && !mCuda) {
      unavailable = tr("Needs an NVIDIA GPU (CUDA): LibTorch's CPU kernels have no fp16 convolutions.");
    }
    mPrecision->setItemText(i, text);
    mPrecision->setItemData(i, unavailable.isEmpty() ? QVariant() : QVariant(unavailable), Qt::ToolTipRole);
    if (QStandardItem* item = items ? items->item(i) : nullptr) item->setEnabled(unavailable.isEmpty());
  }
  updatePrecisionNote();
}

Precision GenerationFormView::precision() const {
  return precision_from_string(mPrecision->currentData().toString().toStdString()).value_or(Precision::Auto);
}

void GenerationFormView::setPrecision(Precision p) {
  const auto* items = qobject_cast<const QStandardItemModel*>(mPrecision->model());
  int index = mPrecision->findData(QString::fromUtf8(to_string(p).data()));
  if (index < 0 || (items && !items->item(index)->isEnabled())) index = 0;  // Automatic
  mPrecision->setCurrentIndex(index);
  updatePrecisionNote();
}

// One line on what the choice means here; without native bf16 it also says why bf16 is missing.
void GenerationFormView::updatePrecisionNote() {
  const Precision p = precision();
  c10::ScalarType dtype = c10::ScalarType::Float;
  try {
    dtype = resolve_precision(p, c10::Device(mCuda ? c10::kCUDA : c10::kCPU), mCpuBf16).dtype;
  } catch (const std::exception&) {
    // A refused choice is disabled in the combo and never current.
  }
  QString note;
  switch (dtype) {
    case c10::ScalarType::BFloat16:
      note = mCuda ? tr("Half the memory of fp32; images differ slightly from fp32.")
                   : tr("Computed natively by this CPU: half the memory of fp32 and usually faster; images differ "
                        "slightly from fp32.");
      break;
    case c10::ScalarType::Half:
      note = tr("Fast on the GPU with half the memory of fp32; images differ slightly from fp32.");
      break;
    default:
      note = tr("Full precision: the reference images, and the most memory.");
      break;
  }
  if (p == Precision::Auto)
    note = tr("Automatic uses %1 here. %2").arg(QString::fromStdString(precision_name(dtype)), note);
  if (!mCuda && !mCpuBf16) note += QLatin1Char(' ') + tr("bf16 is not offered: this CPU does not compute it natively.");
  mPrecisionNote->setText(note);
}

}  // namespace kiln::app
