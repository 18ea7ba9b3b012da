#include "pages/train_form_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDoubleValidator>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace kiln::app {

namespace {

QSpinBox* spin(QWidget* parent, int min, int max, int step = 1) {
  auto* box = new QSpinBox(parent);
  box->setRange(min, max);
  box->setSingleStep(step);
  box->setAccelerated(true);
  return box;
}

// Learning rates are written as 2e-6: a spin box with eight decimals reads badly.
QLineEdit* rateEdit(QWidget* parent) {
  auto* edit = new QLineEdit(parent);
  auto* validator = new QDoubleValidator(0.0, 1.0, 12, edit);
  validator->setNotation(QDoubleValidator::ScientificNotation);
  validator->setLocale(QLocale::c());
  edit->setValidator(validator);
  return edit;
}

QString rateText(double rate) { return QString::number(rate, 'g', 6); }

}  // namespace

TrainFormView::TrainFormView(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("trainForm"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 8, 8, 8);
  layout->setSpacing(10);
  const auto label = [this](const char* text) {
    auto* l = new QLabel(this);
    mLabels.append({l, text});
    return l;
  };
  const auto form = [](QGroupBox* group) {
    auto* f = new QFormLayout(group);
    f->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    f->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return f;
  };

  mDataGroup = new QGroupBox(this);
  auto* data = form(mDataGroup);
  mModel = new QComboBox(this);
  mModel->setObjectName(QStringLiteral("trainModel"));
  mModel->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  mModel->setMinimumContentsLength(12);
  mModelBrowse = new QToolButton(this);
  mModelBrowse->setText(QStringLiteral("…"));
  mModelBrowse->setPopupMode(QToolButton::InstantPopup);
  auto* browseMenu = new QMenu(mModelBrowse);
  QAction* file = browseMenu->addAction(QString());
  QAction* folder = browseMenu->addAction(QString());
  file->setObjectName(QStringLiteral("modelFileAction"));
  folder->setObjectName(QStringLiteral("modelFolderAction"));
  connect(file, &QAction::triggered, this, &TrainFormView::chooseModelFile);
  connect(folder, &QAction::triggered, this, &TrainFormView::chooseModelFolder);
  mModelBrowse->setMenu(browseMenu);
  auto* modelRow = new QHBoxLayout;
  modelRow->addWidget(mModel, 1);
  modelRow->addWidget(mModelBrowse);
  data->addRow(label(QT_TR_NOOP("Base model")), modelRow);
  mImages = new QLineEdit(this);
  mImages->setObjectName(QStringLiteral("trainImages"));
  mImagesBrowse = new QToolButton(this);
  mImagesBrowse->setText(QStringLiteral("…"));
  connect(mImagesBrowse, &QToolButton::clicked, this, &TrainFormView::chooseImages);
  auto* imagesRow = new QHBoxLayout;
  imagesRow->addWidget(mImages, 1);
  imagesRow->addWidget(mImagesBrowse);
  data->addRow(label(QT_TR_NOOP("Images")), imagesRow);
  mToken = new QLineEdit(this);
  mToken->setObjectName(QStringLiteral("trainToken"));
  data->addRow(label(QT_TR_NOOP("Token")), mToken);
  mCaptions = new QComboBox(this);
  mCaptions->addItems({QString(), QString()});
  data->addRow(label(QT_TR_NOOP("Prompts from")), mCaptions);
  mClassPrompt = new QLineEdit(this);
  data->addRow(label(QT_TR_NOOP("Class prompt")), mClassPrompt);
  layout->addWidget(mDataGroup);

  mMethodGroup = new QGroupBox(this);
  auto* method = form(mMethodGroup);
  mMethod = new QComboBox(this);
  mMethod->setObjectName(QStringLiteral("trainMethod"));
  mMethod->addItems({QStringLiteral("DreamBooth"), QStringLiteral("LoRA")});
  method->addRow(label(QT_TR_NOOP("Method")), mMethod);
  mRank = spin(this, 1, 1024);
  mAlpha = new QDoubleSpinBox(this);
  mAlpha->setRange(0.1, 1024);
  mAlpha->setDecimals(1);
  auto* loraRow = new QHBoxLayout;
  loraRow->addWidget(mRank, 1);
  loraRow->addWidget(label(QT_TR_NOOP("Alpha")));
  loraRow->addWidget(mAlpha, 1);
  method->addRow(label(QT_TR_NOOP("LoRA rank")), loraRow);
  layout->addWidget(mMethodGroup);

  mStagesGroup = new QGroupBox(this);
  auto* stages = form(mStagesGroup);
  mTextSteps = spin(this, 0, 1'000'000, 50);
  mTextSteps->setObjectName(QStringLiteral("textEncoderSteps"));
  mTextRate = rateEdit(this);
  auto* textRow = new QHBoxLayout;
  textRow->addWidget(mTextSteps, 1);
  textRow->addWidget(label(QT_TR_NOOP("at")));
  textRow->addWidget(mTextRate, 1);
  stages->addRow(label(QT_TR_NOOP("Text encoder")), textRow);
  mUNetSteps = spin(this, 0, 1'000'000, 100);
  mUNetSteps->setObjectName(QStringLiteral("unetSteps"));
  mUNetRate = rateEdit(this);
  auto* unetRow = new QHBoxLayout;
  unetRow->addWidget(mUNetSteps, 1);
  unetRow->addWidget(label(QT_TR_NOOP("at")));
  unetRow->addWidget(mUNetRate, 1);
  stages->addRow(label(QT_TR_NOOP("UNet")), unetRow);
  layout->addWidget(mStagesGroup);

  mRunGroup = new QGroupBox(this);
  auto* run = form(mRunGroup);
  mResolution = spin(this, 64, 4096, 64);
  mResolution->setObjectName(QStringLiteral("trainResolution"));
  mBatch = spin(this, 1, 64);
  auto* sizeRow = new QHBoxLayout;
  sizeRow->addWidget(mResolution, 1);
  sizeRow->addWidget(label(QT_TR_NOOP("Batch")));
  sizeRow->addWidget(mBatch, 1);
  run->addRow(label(QT_TR_NOOP("Resolution")), sizeRow);
  mSaveEvery = spin(this, 0, 1'000'000, 100);
  mKeep = spin(this, 0, 1000);
  mKeep->setObjectName(QStringLiteral("keepCheckpoints"));
  auto* saveRow = new QHBoxLayout;
  saveRow->addWidget(mSaveEvery, 1);
  saveRow->addWidget(label(QT_TR_NOOP("Keep")));
  saveRow->addWidget(mKeep, 1);
  run->addRow(label(QT_TR_NOOP("Save every")), saveRow);
  mSampleEvery = spin(this, 0, 1'000'000, 100);
  run->addRow(label(QT_TR_NOOP("Sample every")), mSampleEvery);
  mSamplePrompt = new QLineEdit(this);
  run->addRow(label(QT_TR_NOOP("Sample prompt")), mSamplePrompt);
  mSeed = new QLineEdit(this);
  mSeed->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("\\d{1,19}")), mSeed));
  mDevice = new QComboBox(this);
  mDevice->addItem(QStringLiteral("CPU"), QStringLiteral("cpu"));
  mDevice->addItem(QStringLiteral("CUDA"), QStringLiteral("cuda"));
  auto* seedRow = new QHBoxLayout;
  seedRow->addWidget(mSeed, 1);
  seedRow->addWidget(label(QT_TR_NOOP("Device")));
  seedRow->addWidget(mDevice, 1);
  run->addRow(label(QT_TR_NOOP("Seed")), seedRow);
  mPrecision = new QComboBox(this);
  mPrecision->addItem(QString(), QStringLiteral("no"));
  mPrecision->addItem(QString(), QStringLiteral("fp16"));
  mPrecision->addItem(QString(), QStringLiteral("bf16"));
  mCheckpointing = new QCheckBox(this);
  run->addRow(label(QT_TR_NOOP("Precision")), mPrecision);
  mOptimizer = new QComboBox(this);
  mOptimizer->setObjectName(QStringLiteral("optimizerCombo"));
  mOptimizer->addItem(QString(), QStringLiteral("adamw"));
  mOptimizer->addItem(QString(), QStringLiteral("adamw8bit"));
  mOptimizer->addItem(QString(), QStringLiteral("adafactor"));
  run->addRow(label(QT_TR_NOOP("Optimizer")), mOptimizer);
  run->addRow(QString(), mCheckpointing);
  layout->addWidget(mRunGroup);
  layout->addStretch(1);

  retranslate();
  setForm(TrainForm{});
  for (QLineEdit* e : {mImages, mToken, mClassPrompt, mTextRate, mUNetRate, mSamplePrompt, mSeed})
    connect(e, &QLineEdit::textChanged, this, &TrainFormView::changed);
  for (QSpinBox* s : {mRank, mTextSteps, mUNetSteps, mResolution, mBatch, mSaveEvery, mKeep, mSampleEvery})
    connect(s, &QSpinBox::valueChanged, this, &TrainFormView::changed);
  connect(mAlpha, &QDoubleSpinBox::valueChanged, this, &TrainFormView::changed);
  for (QComboBox* c : {mModel, mCaptions, mMethod, mDevice, mPrecision, mOptimizer})
    connect(c, &QComboBox::currentIndexChanged, this, &TrainFormView::changed);
  connect(mCheckpointing, &QCheckBox::toggled, this, &TrainFormView::changed);
  // Mixed precision runs on CUDA only.
  const auto updatePrecision = [this] {
    const bool cuda = mDevice->currentData().toString() == QLatin1String("cuda");
    mPrecision->setEnabled(cuda);
    if (!cuda) mPrecision->setCurrentIndex(0);
  };
  connect(mDevice, &QComboBox::currentIndexChanged, this, updatePrecision);
  updatePrecision();
  connect(mMethod, &QComboBox::currentIndexChanged, this, &TrainFormView::updateMethod);
}

void TrainFormView::retranslate() {
  for (const auto& [l, text] : mLabels) l->setText(tr(text));
  mDataGroup->setTitle(tr("Model and images"));
  mMethodGroup->setTitle(tr("Method"));
  mStagesGroup->setTitle(tr("Stages (steps at learning rate)"));
  mRunGroup->setTitle(tr("Run"));
  mPrecision->setItemText(0, tr("fp32"));
  mPrecision->setItemText(1, tr("fp16 mixed"));
  mPrecision->setItemText(2, tr("bf16 mixed"));
  mPrecision->setToolTip(tr("CUDA only: compute in half precision with fp32 master weights (less memory, faster)"));
  mOptimizer->setItemText(0, tr("AdamW"));
  mOptimizer->setItemText(1, tr("8-bit AdamW (less memory)"));
  mOptimizer->setItemText(2, tr("Adafactor (least memory)"));
  mOptimizer->setToolTip(tr("AdamW keeps 8 bytes of state for every trained weight; 8-bit AdamW (bitsandbytes' "
                            "block-wise quantised moments) 2 bytes, nearly the same updates; Adafactor almost none, "
                            "with different updates. Fixed for a session once it has started."));
  mCheckpointing->setText(tr("Gradient checkpointing"));
  mCheckpointing->setToolTip(tr("Recompute activations in the backward pass: less memory, about a third slower"));
  mModelBrowse->setToolTip(tr("Choose a model file or diffusers folder that is not in the library"));
  mModelBrowse->menu()->actions().at(0)->setText(tr("Model File…"));
  mModelBrowse->menu()->actions().at(1)->setText(tr("Diffusers Folder…"));
  mImagesBrowse->setToolTip(tr("Choose the folder of training images"));
  mImages->setPlaceholderText(tr("Folder of training images"));
  mToken->setToolTip(tr("The rare word that will mean your subject, added to every prompt"));
  mCaptions->setItemText(0, tr("Caption files (.txt)"));
  mCaptions->setItemText(1, tr("File names"));
  mClassPrompt->setPlaceholderText(tr("Optional: e.g. “photo of a person” (prior preservation)"));
  mRank->setToolTip(tr("Size of the LoRA adapters (4–32 is usual)"));
  mSaveEvery->setSpecialValueText(tr("Stage ends only"));
  mSaveEvery->setSuffix(tr(" steps"));
  mKeep->setSpecialValueText(tr("None"));
  mKeep->setSuffix(tr(" newest"));
  mKeep->setToolTip(tr("Checkpoints kept as model files (a LoRA: LoRA files) to compare with “Compare Checkpoints…”; "
                       "a whole model takes about 2 GB (SD 1.5) to 7 GB (SDXL) each"));
  mSampleEvery->setSpecialValueText(tr("Never"));
  mSampleEvery->setSuffix(tr(" steps"));
  mSamplePrompt->setPlaceholderText(tr("e.g. photo of sks person, portrait"));
  mTextSteps->setToolTip(tr("Stage 1: the text encoder learns the token; 0 skips it"));
  mUNetSteps->setToolTip(tr("Stage 2: the UNet learns the subject; 0 skips it"));
}

void TrainFormView::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

TrainForm TrainFormView::form() const {
  TrainForm f;
  f.baseModel = mModel->currentData().toString();
  f.images = mImages->text().trimmed();
  f.token = mToken->text().trimmed();
  f.fileNameCaptions = mCaptions->currentIndex() == 1;
  f.classPrompt = mClassPrompt->text().trimmed();
  f.lora = mMethod->currentIndex() == 1;
  f.loraRank = mRank->value();
  f.loraAlpha = mAlpha->value();
  f.textEncoderSteps = mTextSteps->value();
  f.textEncoderLearningRate = QLocale::c().toDouble(mTextRate->text());
  f.unetSteps = mUNetSteps->value();
  f.unetLearningRate = QLocale::c().toDouble(mUNetRate->text());
  f.resolution = mResolution->value();
  f.batchSize = mBatch->value();
  f.saveEvery = mSaveEvery->value();
  f.keepCheckpoints = mKeep->value();
  f.sampleEvery = mSampleEvery->value();
  f.samplePrompt = mSamplePrompt->text().trimmed();
  f.seed = mSeed->text().toULongLong();
  f.device = mDevice->currentData().toString();
  f.mixedPrecision = mPrecision->currentData().toString();
  f.gradientCheckpointing = mCheckpointing->isChecked();
  f.optimizer = mOptimizer->currentData().toString();
  return f;
}

void TrainFormView::setForm(const TrainForm& f) {
  // One changed() for the whole form, not one per field.
  blockSignals(true);
  selectModelPath(f.baseModel);
  mImages->setText(f.images);
  mToken->setText(f.token);
  mCaptions->setCurrentIndex(f.fileNameCaptions ? 1 : 0);
  mClassPrompt->setText(f.classPrompt);
  mMethod->setCurrentIndex(f.lora ? 1 : 0);
  mRank->setValue(f.loraRank);
  mAlpha->setValue(f.loraAlpha);
  mTextSteps->setValue(static_cast<int>(f.textEncoderSteps));
  mTextRate->setText(rateText(f.textEncoderLearningRate));
  mUNetSteps->setValue(static_cast<int>(f.unetSteps));
  mUNetRate->setText(rateText(f.unetLearningRate));
  mResolution->setValue(f.resolution);
  mBatch->setValue(f.batchSize);
  mSaveEvery->setValue(static_cast<int>(f.saveEvery));
  mKeep->setValue(f.keepCheckpoints);
  mSampleEvery->setValue(static_cast<int>(f.sampleEvery));
  mSamplePrompt->setText(f.samplePrompt);
  mSeed->setText(QString::number(f.seed));
  const int device = mDevice->findData(f.device.startsWith(QLatin1String("cuda")) ? QStringLiteral("cuda") : f.device);
  mDevice->setCurrentIndex(std::max(0, device));
  mPrecision->setCurrentIndex(std::max(0, mPrecision->findData(f.mixedPrecision)));
  mCheckpointing->setChecked(f.gradientCheckpointing);
  mOptimizer->setCurrentIndex(std::max(0, mOptimizer->findData(f.optimizer)));
  updateMethod();
  blockSignals(false);
  Q_EMIT changed();
}

void TrainFormView::setModels(const QList<TrainModelChoice>& models) {
  const QString current = mModel->currentData().toString();
  mModels = models;
  {
    const QSignalBlocker block(mModel);
    mModel->clear();
    for (const TrainModelChoice& m : models) {
      mModel->addItem(m.label, m.path);
      mModel->setItemData(mModel->count() - 1, QDir::toNativeSeparators(m.path), Qt::ToolTipRole);
    }
    selectModelPath(current);
  }
  if (mModel->currentData().toString() != current) Q_EMIT changed();
}

QString TrainFormView::modelFamily() const {
  const QString path = mModel->currentData().toString();
  for (const TrainModelChoice& m : mModels)
    if (m.path == path) return m.family;
  return {};
}

void TrainFormView::selectModelPath(const QString& path) {
  int index = path.isEmpty() ? (mModel->count() > 0 ? 0 : -1) : mModel->findData(path);
  if (index < 0 && !path.isEmpty()) {
    // A model outside the library: listed by its name.
    mModel->addItem(QFileInfo(path).fileName(), path);
    index = mModel->count() - 1;
    mModel->setItemData(index, QDir::toNativeSeparators(path), Qt::ToolTipRole);
  }
  mModel->setCurrentIndex(index);
}

void TrainFormView::chooseModelFile() {
  const QString file =
      QFileDialog::getOpenFileName(this, tr("Choose the Base Model"), QString(), tr("Models (*.safetensors *.ckpt)"));
  if (!file.isEmpty()) selectModelPath(file);
}

void TrainFormView::chooseModelFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Choose a Diffusers Folder"));
  if (!folder.isEmpty()) selectModelPath(folder);
}

void TrainFormView::chooseImages() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Choose the Training Images"), mImages->text());
  if (!folder.isEmpty()) mImages->setText(folder);
}

void TrainFormView::updateMethod() {
  const bool lora = mMethod->currentIndex() == 1;
  mRank->setEnabled(lora);
  mAlpha->setEnabled(lora);
  mTextSteps->setToolTip(lora ? tr("LoRA: steps for text-encoder adapters; 0 trains the UNet only")
                              : tr("Stage 1: the text encoder learns the token; 0 skips it"));
}

}  // namespace kiln::app
