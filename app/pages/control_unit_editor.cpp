#include "pages/control_unit_editor.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "bridge/control_image_qt.h"
#include "bridge/error_message.h"
#include "bridge/image_file.h"
#include "control/pose_json.h"
#include "control/pose_render.h"
#include "pages/pose_conversion.h"

namespace kiln::app {

namespace {

constexpr int kPreviewSide = 112;

struct PreprocessResult {
  QImage map;
  QString error;
  bool cancelled = false;
};

QString fileName(const QString& path) { return QFileInfo(path).fileName(); }

// Decimals that show a parameter's step exactly (1 -> 0, 0.01 -> 2).
int decimalsFor(double step) {
  int decimals = 0;
  while (decimals < 4 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-9)
    ++decimals;
  return decimals;
}

}  // namespace

ControlUnitEditor::ControlUnitEditor(Context context, QWidget* parent)
    : QFrame(parent), mContext(std::move(context)), mDebounce(new QTimer(this)) {
  setFrameShape(QFrame::StyledPanel);
  setObjectName(QStringLiteral("controlUnit"));
  mDebounce->setSingleShot(true);
  connect(mDebounce, &QTimer::timeout, this, &ControlUnitEditor::startPreprocessing);
  build();
  retranslate();
  rebuildParams();
  updateSourceView();
  updateResolutionView();
}

ControlUnitEditor::~ControlUnitEditor() {
  // A run still going finishes on the pool on its own (it holds copies, not this unit).
  mStop.request_stop();
}

void ControlUnitEditor::build() {
  mExpand = new QToolButton(this);
  mExpand->setObjectName(QStringLiteral("controlUnitExpand"));
  mExpand->setAutoRaise(true);
  mExpand->setCheckable(true);
  mExpand->setChecked(true);
  mExpand->setArrowType(Qt::DownArrow);
  connect(mExpand, &QToolButton::toggled, this, &ControlUnitEditor::setExpanded);
  mEnabled = new QCheckBox(this);
  mEnabled->setChecked(true);
  connect(mEnabled, &QCheckBox::toggled, this, [this] { Q_EMIT mapChanged(); });
  mTitle = new QLabel(this);
  QFont bold = mTitle->font();
  bold.setWeight(QFont::DemiBold);
  mTitle->setFont(bold);
  const auto arrow = [this](Qt::ArrowType type) {
    auto* button = new QToolButton(this);
    button->setArrowType(type);
    button->setAutoRaise(true);
    return button;
  };
  mUp = arrow(Qt::UpArrow);
  mDown = arrow(Qt::DownArrow);
  mRemove = new QToolButton(this);
  mRemove->setAutoRaise(true);
  mRemove->setText(QStringLiteral("✕"));
  connect(mUp, &QToolButton::clicked, this, [this] { Q_EMIT moveRequested(-1); });
  connect(mDown, &QToolButton::clicked, this, [this] { Q_EMIT moveRequested(1); });
  connect(mRemove, &QToolButton::clicked, this, &ControlUnitEditor::removeRequested);
  auto* header = new QHBoxLayout;
  header->setSpacing(2);
  header->addWidget(mExpand);
  header->addWidget(mEnabled);
  header->addWidget(mTitle, 1);
  header->addWidget(mUp);
  header->addWidget(mDown);
  header->addWidget(mRemove);

  mPreview = new QLabel(this);
  mPreview->setObjectName(QStringLiteral("controlPreview"));
  mPreview->setFixedSize(kPreviewSide, kPreviewSide);
  mPreview->setAlignment(Qt::AlignCenter);
  mPreview->setFrameShape(QFrame::StyledPanel);
  mPreview->setWordWrap(true);
  mPreview->setForegroundRole(QPalette::PlaceholderText);

  mSourceCombo = new QComboBox(this);
  mSourceCombo->setObjectName(QStringLiteral("controlSource"));
  for (int i = 0; i < 6; ++i) mSourceCombo->addItem(QString(), i);
  connect(mSourceCombo, &QComboBox::activated, this,
          [this](int index) { setSource(static_cast<Source>(mSourceCombo->itemData(index).toInt())); });
  mEdit = new QPushButton(this);
  mEdit->setObjectName(QStringLiteral("controlSourceButton"));
  connect(mEdit, &QPushButton::clicked, this, [this] {
    switch (mSource) {
      case Source::File:
        chooseFile();
        break;
      case Source::Scribble:
        Q_EMIT drawRequested();
        break;
      case Source::Pose:
        Q_EMIT poseEditRequested();
        break;
      case Source::Canvas:
      case Source::LastImage:
      case Source::Clipboard:
        takeSource();
        break;
    }
  });
  mSourceLabel = new QLabel(this);
  mSourceLabel->setWordWrap(true);
  mSourceLabel->setForegroundRole(QPalette::PlaceholderText);
  mMessage = new QLabel(this);
  mMessage->setObjectName(QStringLiteral("controlMessage"));
  mMessage->setWordWrap(true);
  mMessage->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
  mMessage->setOpenExternalLinks(true);
  mMessage->hide();
  auto* side = new QVBoxLayout;
  side->setSpacing(4);
  side->addWidget(mSourceCombo);
  side->addWidget(mEdit);
  side->addWidget(mSourceLabel);
  side->addStretch(1);
  auto* top = new QHBoxLayout;
  top->addWidget(mPreview, 0, Qt::AlignTop);
  top->addLayout(side, 1);

  mModel = new QComboBox(this);
  mModel->setObjectName(QStringLiteral("controlModel"));
  mModel->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  mModel->setMinimumContentsLength(8);
  connect(mModel, &QComboBox::currentIndexChanged, this, [this] { Q_EMIT mapChanged(); });
  // The user's choice replaces a restored model that the library does not have.
  connect(mModel, &QComboBox::activated, this, [this] {
    if (mModel->currentData().toString().isEmpty()) return;
    mWantedModel.clear();
    mModelNote.clear();
    updateMessage();
  });
  mPreprocessor = new QComboBox(this);
  mPreprocessor->setObjectName(QStringLiteral("controlPreprocessor"));
  mPreprocessor->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  mPreprocessor->setMinimumContentsLength(8);
  for (const auto& p : control::preprocessors()) {
    mPreprocessor->addItem(QString::fromStdString(p->label.empty() ? p->name : p->label),
                           QString::fromStdString(p->name));
    if (!p->weights.file_names.empty())
      mPreprocessor->setItemData(mPreprocessor->count() - 1,
                                 tr("Needs %1 (%2)")
                                     .arg(QString::fromStdString(p->weights.file_names.front()),
                                          QString::fromStdString(p->weights.licence)),
                                 Qt::ToolTipRole);
  }
  connect(mPreprocessor, &QComboBox::currentIndexChanged, this, [this] {
    rebuildParams();
    updateResolutionView();
    schedule(0);
  });
  mParamBox = new QWidget(this);
  mParamForm = new QFormLayout(mParamBox);
  mParamForm->setContentsMargins(0, 0, 0, 0);
  mParamForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

  mResolution = new QSpinBox(this);
  mResolution->setObjectName(QStringLiteral("controlResolution"));
  mResolution->setRange(64, 2048);
  mResolution->setSingleStep(64);
  mResolution->setValue(512);
  connect(mResolution, &QSpinBox::valueChanged, this, [this] { schedule(); });
  mPixelPerfect = new QCheckBox(this);
  mPixelPerfect->setObjectName(QStringLiteral("controlPixelPerfect"));
  connect(mPixelPerfect, &QCheckBox::toggled, this, [this] {
    updateResolutionView();
    schedule(0);
  });
  auto* resolutionRow = new QHBoxLayout;
  resolutionRow->addWidget(mResolution, 1);
  resolutionRow->addWidget(mPixelPerfect);

  const auto unitSpin = [this](double value) {
    auto* spin = new QDoubleSpinBox(this);
    spin->setRange(0.0, 1.0);
    spin->setSingleStep(0.05);
    spin->setDecimals(2);
    spin->setValue(value);
    connect(spin, &QDoubleSpinBox::valueChanged, this, [this] { Q_EMIT mapChanged(); });
    return spin;
  };
  mWeight = unitSpin(1.0);
  mWeight->setObjectName(QStringLiteral("controlWeight"));
  mWeight->setRange(0.0, 2.0);
  mStart = unitSpin(0.0);
  mStart->setObjectName(QStringLiteral("controlStart"));
  mEnd = unitSpin(1.0);
  mEnd->setObjectName(QStringLiteral("controlEnd"));
  // Start never after end: the engine refuses it, so the fields do not offer it.
  connect(mStart, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (mEnd->value() < v) mEnd->setValue(v);
  });
  connect(mEnd, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (mStart->value() > v) mStart->setValue(v);
  });
  auto* rangeRow = new QHBoxLayout;
  rangeRow->addWidget(mStart, 1);
  rangeRow->addWidget(new QLabel(QStringLiteral("–"), this));
  rangeRow->addWidget(mEnd, 1);

  mControlMode = new QComboBox(this);
  mControlMode->setObjectName(QStringLiteral("controlMode"));
  mControlMode->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  mControlMode->setMinimumContentsLength(8);
  for (int i = 0; i < 3; ++i) mControlMode->addItem(QString(), i);
  connect(mControlMode, &QComboBox::currentIndexChanged, this, [this] { Q_EMIT mapChanged(); });
  mResizeMode = new QComboBox(this);
  mResizeMode->setObjectName(QStringLiteral("controlResizeMode"));
  for (int i = 0; i < 3; ++i) mResizeMode->addItem(QString(), i);
  mResizeMode->setCurrentIndex(static_cast<int>(control::ResizeMode::CropAndResize));
  connect(mResizeMode, &QComboBox::currentIndexChanged, this, [this] {
    if (mPixelPerfect->isChecked()) schedule(0);
    Q_EMIT mapChanged();
  });

  mDetails = new QWidget(this);
  mForm = new QFormLayout(mDetails);
  mForm->setContentsMargins(0, 0, 0, 0);
  mForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  mForm->addRow(QStringLiteral("-"), mModel);
  mForm->addRow(QStringLiteral("-"), mPreprocessor);
  mForm->addRow(mParamBox);
  mForm->addRow(QStringLiteral("-"), resolutionRow);
  mForm->addRow(QStringLiteral("-"), mWeight);
  mForm->addRow(QStringLiteral("-"), rangeRow);
  mForm->addRow(QStringLiteral("-"), mControlMode);
  mForm->addRow(QStringLiteral("-"), mResizeMode);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 6, 8, 8);
  layout->setSpacing(6);
  layout->addLayout(header);
  layout->addLayout(top);
  layout->addWidget(mMessage);
  layout->addWidget(mDetails);
}

bool ControlUnitEditor::isExpanded() const { return mExpand->isChecked(); }

void ControlUnitEditor::setExpanded(bool expanded) {
  mExpand->setChecked(expanded);
  mExpand->setArrowType(expanded ? Qt::DownArrow : Qt::RightArrow);
  mDetails->setVisible(expanded);
}

void ControlUnitEditor::retranslate() {
  mEnabled->setToolTip(tr("Use this unit when generating"));
  mExpand->setToolTip(tr("Show or hide the unit's settings"));
  mUp->setToolTip(tr("Move the unit up"));
  mDown->setToolTip(tr("Move the unit down"));
  mRemove->setToolTip(tr("Remove the unit"));
  const QStringList sources{tr("Image file"), tr("Input canvas"), tr("Last generated image"),
                            tr("Clipboard"),  tr("Scribble"),     tr("Pose")};
  for (int i = 0; i < sources.size(); ++i) mSourceCombo->setItemText(i, sources[i]);
  mSourceCombo->setToolTip(tr("Where the control map comes from"));
  mModel->setToolTip(tr("The ControlNet, from the Models page's folders (those made for the selected model's base)"));
  mPreprocessor->setToolTip(tr("What turns the picture into a control map (“none”: the picture is the map)"));
  mResolution->setToolTip(tr("The preprocessor's resolution (short side, in pixels)"));
  mPixelPerfect->setText(tr("Pixel Perfect"));
  mPixelPerfect->setToolTip(tr("Compute the resolution from the output size, as AUTOMATIC1111 does"));
  mWeight->setToolTip(tr("How strongly the unit guides (its residuals are multiplied by this)"));
  mStart->setToolTip(tr("Fraction of the steps where the unit starts guiding"));
  mEnd->setToolTip(tr("Fraction of the steps where the unit stops guiding"));
  mControlMode->setItemText(0, tr("Balanced"));
  mControlMode->setItemText(1, tr("My prompt is more important"));
  mControlMode->setItemText(2, tr("ControlNet is more important"));
  mControlMode->setToolTip(tr("How the unit weighs against the prompt"));
  mResizeMode->setItemText(0, tr("Just Resize"));
  mResizeMode->setItemText(1, tr("Crop and Resize"));
  mResizeMode->setItemText(2, tr("Resize and Fill"));
  mResizeMode->setToolTip(tr("How the map is fitted to the output size"));
  // Rows by position: model, preprocessor, parameters, resolution, weight, start/end, modes.
  const QStringList rows{tr("Model"),  tr("Preprocessor"), QString(),     tr("Resolution"),
                         tr("Weight"), tr("Start / end"),  tr("Control"), tr("Resize")};
  for (int row = 0; row < rows.size(); ++row) {
    if (auto* item = mForm->itemAt(row, QFormLayout::LabelRole))
      if (auto* l = qobject_cast<QLabel*>(item->widget())) l->setText(rows[row]);
  }
  updateSourceView();
}

void ControlUnitEditor::changeEvent(QEvent* event) {
  QFrame::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

void ControlUnitEditor::setPosition(int index, int count) {
  mTitle->setText(tr("Unit %1").arg(index + 1));
  mUp->setEnabled(index > 0);
  mDown->setEnabled(index + 1 < count);
}

bool ControlUnitEditor::isUnitEnabled() const { return mEnabled->isChecked(); }
void ControlUnitEditor::setUnitEnabled(bool enabled) { mEnabled->setChecked(enabled); }

void ControlUnitEditor::setModels(const QList<std::pair<QString, QString>>& models, const QString& none) {
  mModels = models;
  mNoModels = none;
  const QString current = mWantedModel.isEmpty() ? modelPath() : mWantedModel;
  const QSignalBlocker block(mModel);
  mModel->clear();
  for (const auto& [path, name] : models) {
    mModel->addItem(name, path);
    mModel->setItemData(mModel->count() - 1, path, Qt::ToolTipRole);
  }
  int keep = mModel->findData(current);
  if (keep >= 0) {
    mWantedModel.clear();
    mModelNote.clear();
  } else if (!mWantedModel.isEmpty()) {
    // A restored model the library does not list: named, never replaced by another one.
    mModel->insertItem(0, tr("%1 (not in the library)").arg(fileName(mWantedModel)), QString());
    mModel->setItemData(0, mWantedModel, Qt::ToolTipRole);
    keep = 0;
  } else if (models.isEmpty()) {
    mModel->addItem(none, QString());
  }
  mModel->setEnabled(!models.isEmpty());
  mModel->setCurrentIndex(keep >= 0 ? keep : 0);
  updateMessage();
  Q_EMIT mapChanged();
}

QString ControlUnitEditor::modelPath() const { return mModel->currentData().toString(); }

void ControlUnitEditor::selectModel(const QString& path) {
  const int index = mModel->findData(path);
  if (index >= 0) mModel->setCurrentIndex(index);
}

void ControlUnitEditor::setSource(Source source) {
  const bool changed = source != mSource;
  mSource = source;
  if (changed) {
    mSourceNote.clear();
    updateMessage();
  }
  mSourceCombo->setCurrentIndex(mSourceCombo->findData(static_cast<int>(source)));
  if (changed && (source == Source::Pose || source == Source::Scribble)) setPreprocessor(QStringLiteral("none"));
  if (source == Source::Pose && mPeople.isEmpty()) {
    mPoseCanvas = mContext.outputSize ? mContext.outputSize() : QSize(512, 512);
    mPeople = {widgets::PoseEditor::defaultPerson(mPoseCanvas)};
  }
  if (changed && (source == Source::Canvas || source == Source::LastImage || source == Source::Clipboard)) takeSource();
  updateSourceView();
  schedule(0);
}

void ControlUnitEditor::updateSourceView() {
  mPreprocessor->setEnabled(mSource != Source::Pose);
  switch (mSource) {
    case Source::File:
      mEdit->setText(tr("Open…"));
      mEdit->setToolTip(tr("Open the picture to make the map from"));
      break;
    case Source::Canvas:
    case Source::LastImage:
    case Source::Clipboard:
      mEdit->setText(tr("Take Again"));
      mEdit->setToolTip(tr("Take the picture again from its source"));
      break;
    case Source::Scribble:
      mEdit->setText(tr("Draw"));
      mEdit->setToolTip(tr("Draw the scribble on the input canvas (white lines on black are sent)"));
      break;
    case Source::Pose:
      mEdit->setText(tr("Edit Pose"));
      mEdit->setToolTip(tr("Edit the skeletons in the pose editor"));
      break;
  }
  QString text;
  if (mSource == Source::Pose)
    text = tr("%n person(s), %1×%2", nullptr, static_cast<int>(mPeople.size()))
               .arg(mPoseCanvas.width())
               .arg(mPoseCanvas.height());
  else if (mSource == Source::Scribble)
    text = mDrawnMap.isNull() ? tr("Nothing drawn yet") : tr("%1×%2").arg(mDrawnMap.width()).arg(mDrawnMap.height());
  else if (!mSourceImage.isNull())
    text = tr("%1 (%2×%3)").arg(mSourceName).arg(mSourceImage.width()).arg(mSourceImage.height());
  else
    text = tr("No picture yet");
  mSourceLabel->setText(text);
  mSourceLabel->setToolTip(text);
}

void ControlUnitEditor::setSourceImage(const QImage& image, const QString& name) {
  mSourceImage = image;
  mSourceName = name;
  updateSourceView();
  schedule(0);
}

bool ControlUnitEditor::openImageFile(const QString& path) {
  const bridge::OpenedImage opened = bridge::readImageFile(path);
  const QImage& image = opened.image;
  if (image.isNull()) {
    showMessage(tr("Kiln cannot read %1 as an image: %2").arg(QFileInfo(path).fileName(), opened.problem), true);
    return false;
  }
  setSource(Source::File);
  mSourcePath = QFileInfo(path).absoluteFilePath();
  mSourceNote.clear();
  updateMessage();
  setSourceImage(image, QFileInfo(path).fileName());
  return true;
}

void ControlUnitEditor::chooseFile() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open Control Image"), {}, tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"));
  if (!path.isEmpty()) openImageFile(path);
}

void ControlUnitEditor::takeSource() {
  QImage image;
  QString name;
  if (mSource == Source::Canvas && mContext.canvasImage) {
    image = mContext.canvasImage();
    name = tr("input canvas");
  } else if (mSource == Source::LastImage && mContext.lastImage) {
    image = mContext.lastImage();
    name = tr("last image");
  } else if (mSource == Source::Clipboard) {
    image = QApplication::clipboard()->image();
    name = tr("clipboard");
  }
  mSourceImage = image;
  mSourceName = name;
  mSourcePath.clear();
  mSourceNote.clear();
  updateMessage();
  updateSourceView();
  schedule(0);
}

QString ControlUnitEditor::preprocessor() const { return mPreprocessor->currentData().toString(); }

void ControlUnitEditor::setPreprocessor(const QString& name) {
  int index = mPreprocessor->findData(name);
  if (index < 0) {
    // An alias (A1111's legacy key, e.g. "hed") names the same entry.
    if (const auto p = control::find_preprocessor(name.toStdString()))
      index = mPreprocessor->findData(QString::fromStdString(p->name));
  }
  if (index >= 0) mPreprocessor->setCurrentIndex(index);
}

void ControlUnitEditor::rebuildParams() {
  while (mParamForm->rowCount() > 0) mParamForm->removeRow(0);
  mParamSpins.clear();
  const auto p = control::find_preprocessor(preprocessor().toStdString());
  mParamBox->setVisible(p && !p->params.empty());
  if (!p) return;
  for (const control::PreprocessorParam& param : p->params) {
    const double step = param.step > 0 ? param.step : 1.0;
    const int ticks = static_cast<int>(std::lround((param.maximum - param.minimum) / step));
    auto* slider = new QSlider(Qt::Horizontal, mParamBox);
    slider->setRange(0, ticks);
    auto* spin = new QDoubleSpinBox(mParamBox);
    spin->setObjectName(QStringLiteral("param_") + QString::fromStdString(param.key));
    spin->setDecimals(decimalsFor(step));
    spin->setRange(param.minimum, param.maximum);
    spin->setSingleStep(step);
    spin->setValue(param.default_value);
    slider->setValue(static_cast<int>(std::lround((param.default_value - param.minimum) / step)));
    const double minimum = param.minimum;
    connect(slider, &QSlider::valueChanged, spin, [spin, minimum, step](int v) { spin->setValue(minimum + v * step); });
    connect(spin, &QDoubleSpinBox::valueChanged, slider, [slider, minimum, step](double v) {
      const QSignalBlocker block(slider);
      slider->setValue(static_cast<int>(std::lround((v - minimum) / step)));
    });
    connect(spin, &QDoubleSpinBox::valueChanged, this, [this] { schedule(); });
    auto* row = new QHBoxLayout;
    row->addWidget(slider, 1);
    row->addWidget(spin);
    const QString label = QString::fromStdString(param.label);
    slider->setToolTip(label);
    spin->setToolTip(label);
    mParamForm->addRow(label, row);
    mParamSpins.emplace(param.key, spin);
  }
}

control::PreprocessorParams ControlUnitEditor::params() const {
  control::PreprocessorParams out;
  for (const auto& [key, spin] : mParamSpins) out[key] = spin->value();
  return out;
}

QDoubleSpinBox* ControlUnitEditor::paramSpin(const QString& key) const {
  const auto it = mParamSpins.find(key.toStdString());
  return it == mParamSpins.end() ? nullptr : it->second;
}

void ControlUnitEditor::setParam(const QString& key, double value) {
  if (QDoubleSpinBox* spin = paramSpin(key)) spin->setValue(value);
}

void ControlUnitEditor::setParamBySlot(int slot, double value) {
  const auto p = control::find_preprocessor(preprocessor().toStdString());
  if (!p) return;
  for (const control::PreprocessorParam& param : p->params) {
    // A1111 writes -1 (or its "none" default 0.5) in a slot its module does not use; a value
    // outside the slider leaves the slider as it is rather than pinned to an end.
    if (param.slot == slot && std::isfinite(value) && value >= param.minimum && value <= param.maximum)
      setParam(QString::fromStdString(param.key), value);
  }
}

int ControlUnitEditor::resolution() const { return mResolution->value(); }
void ControlUnitEditor::setResolution(int resolution) { mResolution->setValue(resolution); }
bool ControlUnitEditor::pixelPerfect() const { return mPixelPerfect->isChecked(); }
void ControlUnitEditor::setPixelPerfect(bool on) { mPixelPerfect->setChecked(on); }
double ControlUnitEditor::weight() const { return mWeight->value(); }
void ControlUnitEditor::setWeight(double weight) { mWeight->setValue(weight); }
double ControlUnitEditor::start() const { return mStart->value(); }
double ControlUnitEditor::end() const { return mEnd->value(); }

void ControlUnitEditor::setRange(double start, double end) {
  mEnd->setValue(1.0);
  mStart->setValue(start);
  mEnd->setValue(end);
}

pipelines::ControlMode ControlUnitEditor::controlMode() const {
  return static_cast<pipelines::ControlMode>(mControlMode->currentIndex());
}
void ControlUnitEditor::setControlMode(pipelines::ControlMode mode) { mControlMode->setCurrentIndex(static_cast<int>(mode)); }
control::ResizeMode ControlUnitEditor::resizeMode() const {
  return static_cast<control::ResizeMode>(mResizeMode->currentIndex());
}
void ControlUnitEditor::setResizeMode(control::ResizeMode mode) { mResizeMode->setCurrentIndex(static_cast<int>(mode)); }

void ControlUnitEditor::updateResolutionView() {
  const auto p = control::find_preprocessor(preprocessor().toStdString());
  const bool takes = p && p->takes_resolution;
  mResolution->setEnabled(takes && !mPixelPerfect->isChecked());
  mPixelPerfect->setEnabled(takes);
}

void ControlUnitEditor::setDrawnMap(const QImage& map) {
  mDrawnMap = map;
  if (!map.isNull() && !mSourceNote.isEmpty()) {
    mSourceNote.clear();
    updateMessage();
  }
  updateSourceView();
  schedule(60);
}

void ControlUnitEditor::setPeople(const QList<widgets::PoseEditor::Person>& people) {
  mPeople = people;
  if (!mSourceNote.isEmpty()) {
    mSourceNote.clear();
    updateMessage();
  }
  if (!mPoseCanvas.isValid()) mPoseCanvas = mContext.outputSize ? mContext.outputSize() : QSize(512, 512);
  updateSourceView();
  // Throttled while joints move: one render per quiet spell (a render at 512 takes milliseconds).
  schedule(60);
}

QImage ControlUnitEditor::inputImage() const {
  switch (mSource) {
    case Source::Scribble:
      return mDrawnMap;
    case Source::Pose:
      return {};  // rendered from mPeople
    default:
      return mSourceImage;
  }
}

void ControlUnitEditor::refresh() {
  // A pose made for another output size keeps its proportions: people scale with the canvas.
  if (mSource == Source::Pose && mContext.outputSize && mContext.outputSize() != mPoseCanvas && mPoseCanvas.isValid()) {
    const QSize size = mContext.outputSize();
    const double sx = size.width() / static_cast<double>(mPoseCanvas.width());
    const double sy = size.height() / static_cast<double>(mPoseCanvas.height());
    for (auto& person : mPeople)
      for (QPointF& point : person.body) point = QPointF(point.x() * sx, point.y() * sy);
    mPoseCanvas = size;
    updateSourceView();
  }
  schedule(0);
}

void ControlUnitEditor::schedule(int delayMs) { mDebounce->start(delayMs); }

bool ControlUnitEditor::isBusy() const { return mBusy || mDebounce->isActive(); }

void ControlUnitEditor::cancel() {
  if (!isBusy()) return;
  mDebounce->stop();
  mStop.request_stop();
  ++mRun;  // the run's result, should it still come, is dropped
  mCancelled = true;
  setBusy(false);
  updateMessage();
  Q_EMIT mapChanged();
}

void ControlUnitEditor::computeIfCancelled() {
  if (mCancelled && !isBusy()) schedule(0);
}

void ControlUnitEditor::startPreprocessing() {
  mCancelled = false;
  updateMessage();
  mStop.request_stop();
  mStop = std::stop_source();
  const quint64 run = ++mRun;
  const QString name = preprocessor();
  const control::PreprocessorParams values = params();
  const QSize output = mContext.outputSize ? mContext.outputSize() : QSize(512, 512);
  const bool pose = mSource == Source::Pose;
  const QImage input = inputImage();
  if (!pose && input.isNull()) {
    mMap = QImage();
    mError.clear();
    showMap({});
    setBusy(false);
    Q_EMIT mapChanged();
    return;
  }
  int res = resolution();
  const auto p = control::find_preprocessor(name.toStdString());
  if (p && p->takes_resolution && pixelPerfect() && !pose) {
    res = control::pixel_perfect_resolution(input.height(), input.width(), control::align_dim_latent(output.height()),
                                            control::align_dim_latent(output.width()), resizeMode());
    const QSignalBlocker block(mResolution);
    mResolution->setValue(std::clamp(res, mResolution->minimum(), mResolution->maximum()));
  }
  control::PreprocessorContext context;
  context.stop = mStop.get_token();
  if (mContext.annotatorDirs)
    for (const QString& dir : mContext.annotatorDirs()) context.annotator_dirs.emplace_back(dir.toStdString());
  const control::PoseScene scene = pose ? toPoseScene(mPeople, mPoseCanvas) : control::PoseScene{};
  setBusy(true);

  auto* watcher = new QFutureWatcher<PreprocessResult>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, run] {
    watcher->deleteLater();
    if (run != mRun) return;  // a newer run is on its way
    const PreprocessResult result = watcher->result();
    setBusy(false);
    if (result.cancelled) return;
    mError = result.error;
    mMap = result.map;
    showMap(mMap);
    updateMessage();
    Q_EMIT mapChanged();
  });
  watcher->setFuture(QtConcurrent::run([name, values, res, input, pose, scene, context]() -> PreprocessResult {
    PreprocessResult result;
    try {
      if (pose) {
        result.map = bridge::toQImage(control::render_pose(scene));
        return result;
      }
      // A1111's rule for pictures with alpha (a transparent drawing: its alpha is the picture).
      const control::ControlImage image = control::from_rgba_to_input(bridge::toControlImage(input));
      const control::ControlImage map = control::run_preprocessor(name.toStdString(), image, res, values, context);
      if (map.empty()) {
        result.cancelled = true;
        return result;
      }
      result.map = bridge::toQImage(map);
    } catch (const std::exception& e) {
      result.error = ErrorMessage::oneLine(e);  // a Kiln error in its own words (file, where, how to get it)
    }
    return result;
  }));
}

void ControlUnitEditor::showMap(const QImage& map) {
  if (map.isNull()) {
    mPreview->setPixmap({});
    mPreview->setText(mSource == Source::Scribble ? tr("Draw to make a map")
                      : mSource == Source::Pose   ? QString()
                                                  : tr("No map"));
  } else {
    mPreview->setPixmap(QPixmap::fromImage(
        map.scaled(mPreview->size() - QSize(4, 4), Qt::KeepAspectRatio, Qt::SmoothTransformation)));
  }
  mPreview->setToolTip(map.isNull() ? QString() : tr("Control map, %1×%2").arg(map.width()).arg(map.height()));
  updateMessage();
}

QString ControlUnitEditor::noteText() const {
  QStringList notes;
  if (!mModelNote.isEmpty()) notes << mModelNote;
  if (!mSourceNote.isEmpty()) notes << mSourceNote;
  if (mCancelled) notes << tr("Computing the map was cancelled; Generate computes it again.");
  return notes.join(QLatin1Char('\n'));
}

void ControlUnitEditor::updateMessage() {
  if (!mError.isEmpty())
    showMessage(mError, true);
  else if (const QString note = noteText(); !note.isEmpty())
    showMessage(note, true);
  else
    mMessage->hide();
}

void ControlUnitEditor::showMessage(const QString& text, bool error) {
  mMessage->setText(text);
  mMessage->setForegroundRole(error ? QPalette::BrightText : QPalette::WindowText);
  QPalette palette = mMessage->palette();
  palette.setColor(QPalette::WindowText, error ? QColor(0xd0, 0x40, 0x40) : palette.color(QPalette::WindowText));
  mMessage->setPalette(palette);
  mMessage->setForegroundRole(QPalette::WindowText);
  mMessage->show();
}

void ControlUnitEditor::setBusy(bool busy) {
  if (busy == mBusy) return;
  mBusy = busy;
  if (busy && mMap.isNull()) mPreview->setText(tr("Computing…"));
  Q_EMIT busyChanged(busy);
}

QString ControlUnitEditor::problem() const {
  if (modelPath().isEmpty() && !mWantedModel.isEmpty()) {
    return QFileInfo::exists(mWantedModel)
               ? tr("its ControlNet model “%1” is not in the library").arg(fileName(mWantedModel))
               : tr("its ControlNet model “%1” is gone (moved or deleted)").arg(fileName(mWantedModel));
  }
  if (modelPath().isEmpty()) return tr("it has no ControlNet model");
  if (isBusy()) return tr("its map is still being computed");
  if (mCancelled) return tr("computing its map was cancelled");
  if (!mSourceNote.isEmpty() && mMap.isNull()) return mSourceNote;
  if (!mError.isEmpty()) return mError;
  if (mMap.isNull()) return mSource == Source::Scribble ? tr("nothing is drawn") : tr("it has no picture");
  return {};
}

ControlUnitJob ControlUnitEditor::job() const {
  ControlUnitJob job;
  job.modelPath = modelPath();
  job.map = mMap;
  job.resizeMode = resizeMode();
  job.weight = weight();
  job.start = start();
  job.end = end();
  job.mode = controlMode();
  job.module = preprocessor();
  job.resolution = resolution();
  job.pixelPerfect = pixelPerfect();
  if (const auto p = control::find_preprocessor(preprocessor().toStdString())) {
    for (const control::PreprocessorParam& param : p->params) {
      const double value = params().at(param.key);
      (param.slot == 2 ? job.thresholdB : job.thresholdA) = value;
    }
  }
  return job;
}

}  // namespace kiln::app
