#include "pages/controlnet_panel.h"

#include <QComboBox>
#include <QEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include "bridge/model_labels.h"
#include "control/network_preprocessors.h"
#include "services/model_library.h"
#include "state/generation_settings.h"

namespace kiln::app {

namespace {

// The ControlNet family made for a generation model's family ("sd1_inpaint" -> "controlnet_sd1").
QString controlNetFamilyFor(const QString& modelFamily) {
  if (modelFamily.startsWith(QLatin1String("sdxl"))) return QStringLiteral("controlnet_sdxl");
  if (modelFamily.startsWith(QLatin1String("sd2"))) return QStringLiteral("controlnet_sd2");
  return QStringLiteral("controlnet_sd1");
}

// How A1111's records name a model: the file name without extension, a folder by its name.
QString recordName(const QString& path) {
  const QFileInfo info(path);
  return info.isDir() ? info.fileName() : info.completeBaseName();
}

}  // namespace

ControlNetPanel::ControlNetPanel(ModelLibrary* library, ControlUnitEditor::Context context, QWidget* parent)
    : QWidget(parent), mLibrary(library), mContext(std::move(context)), mSave(new QTimer(this)) {
  // Kept a moment after the last change: a slider dragged or a scribble drawn writes once.
  mSave->setSingleShot(true);
  mSave->setInterval(1500);
  connect(mSave, &QTimer::timeout, this, &ControlNetPanel::saveUnits);
  connect(this, &ControlNetPanel::unitsChanged, this, [this] {
    if (mSettings) mSave->start();
  });
  // The networks (HED, lineart, Depth Anything) join the registry before the first unit lists
  // it; idempotent, so every panel (and test) may ask.
  control::register_network_preprocessors();
  mTitle = new QLabel(this);
  QFont bold = mTitle->font();
  bold.setWeight(QFont::DemiBold);
  mTitle->setFont(bold);
  mAdd = new QPushButton(this);
  mAdd->setObjectName(QStringLiteral("addControlUnit"));
  connect(mAdd, &QPushButton::clicked, this, [this] { addUnit(); });
  auto* header = new QHBoxLayout;
  header->addWidget(mTitle, 1);
  header->addWidget(mAdd);
  mEmpty = new QLabel(this);
  mEmpty->setWordWrap(true);
  mEmpty->setForegroundRole(QPalette::PlaceholderText);
  mList = new QVBoxLayout;
  mList->setSpacing(8);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(6);
  layout->addLayout(header);
  layout->addWidget(mEmpty);
  layout->addLayout(mList);
  connect(mLibrary, &ModelLibrary::entryAdded, this, &ControlNetPanel::updateModels);
  connect(mLibrary, &ModelLibrary::entryChanged, this, &ControlNetPanel::updateModels);
  connect(mLibrary, &ModelLibrary::entryRemoved, this, &ControlNetPanel::updateModels);
  retranslate();
  updateUnits();
}

ControlNetPanel::~ControlNetPanel() = default;

void ControlNetPanel::retranslate() {
  mTitle->setText(tr("ControlNet"));
  mAdd->setText(tr("Add Unit"));
  mAdd->setToolTip(tr("Add a ControlNet unit (up to %1): edges, depth, lines, a scribble or a pose guide the image")
                       .arg(kMaxUnits));
  mEmpty->setText(tr("No units. Add one to guide the image with a control map."));
  updateModels();
  updateUnits();
}

void ControlNetPanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::LanguageChange) retranslate();
}

void ControlNetPanel::setBaseModel(const QString& path) {
  mBasePath = path;
  updateModels();
}

void ControlNetPanel::updateModels() {
  const auto base = mLibrary->entry(mBasePath);
  const QString family = controlNetFamilyFor(base ? base->summary.family : QString());
  QList<ModelEntry> entries;
  for (const ModelEntry& e : mLibrary->entries()) {
    if (e.isKnown() && e.summary.family == family) entries << e;
  }
  std::sort(entries.begin(), entries.end(), [](const ModelEntry& a, const ModelEntry& b) {
    return QString::compare(a.name(), b.name(), Qt::CaseInsensitive) < 0;
  });
  QList<std::pair<QString, QString>> models;
  for (const ModelEntry& e : entries) models.emplace_back(e.path, e.name());
  const QString none = tr("No %1 in the library").arg(ModelLabels::family(family));
  for (ControlUnitEditor* unit : mUnits) unit->setModels(models, none);
}

ControlUnitEditor* ControlNetPanel::addUnit() {
  if (mUnits.size() >= kMaxUnits) return nullptr;
  // The new unit is the one being set up: the others fold to their header and preview.
  for (ControlUnitEditor* other : mUnits) other->setExpanded(false);
  auto* unit = new ControlUnitEditor(mContext, this);
  mUnits << unit;
  mList->addWidget(unit);
  connect(unit, &ControlUnitEditor::removeRequested, this, [this, unit] { removeUnit(unit); });
  connect(unit, &ControlUnitEditor::moveRequested, this, [this, unit](int delta) { moveUnit(unit, delta); });
  connect(unit, &ControlUnitEditor::drawRequested, this, [this, unit] { Q_EMIT drawRequested(unit); });
  connect(unit, &ControlUnitEditor::poseEditRequested, this, [this, unit] { Q_EMIT poseEditRequested(unit); });
  connect(unit, &ControlUnitEditor::busyChanged, this, [this] { Q_EMIT busyChanged(isBusy()); });
  connect(unit, &ControlUnitEditor::mapChanged, this, &ControlNetPanel::unitsChanged);
  updateModels();
  updateUnits();
  return unit;
}

void ControlNetPanel::removeUnit(ControlUnitEditor* unit) {
  if (!mUnits.removeOne(unit)) return;
  Q_EMIT unitRemoved(unit);
  mList->removeWidget(unit);
  unit->deleteLater();
  updateUnits();
  Q_EMIT busyChanged(isBusy());
}

void ControlNetPanel::moveUnit(ControlUnitEditor* unit, int delta) {
  const qsizetype from = mUnits.indexOf(unit);
  const qsizetype to = from + delta;
  if (from < 0 || to < 0 || to >= mUnits.size()) return;
  mUnits.move(from, to);
  mList->removeWidget(unit);
  mList->insertWidget(static_cast<int>(to), unit);
  updateUnits();
}

void ControlNetPanel::updateUnits() {
  for (qsizetype i = 0; i < mUnits.size(); ++i) mUnits[i]->setPosition(static_cast<int>(i), static_cast<int>(mUnits.size()));
  mEmpty->setVisible(mUnits.isEmpty());
  mAdd->setEnabled(mUnits.size() < kMaxUnits);
  Q_EMIT unitsChanged();
}

QList<ControlUnitJob> ControlNetPanel::jobs(QString* problem) const {
  QList<ControlUnitJob> out;
  if (problem) problem->clear();
  for (qsizetype i = 0; i < mUnits.size(); ++i) {
    const ControlUnitEditor* unit = mUnits[i];
    if (!unit->isUnitEnabled()) continue;
    const QString why = unit->problem();
    if (!why.isEmpty()) {
      if (problem && problem->isEmpty()) *problem = tr("ControlNet unit %1 cannot guide: %2").arg(i + 1).arg(why);
      continue;
    }
    out << unit->job();
  }
  return out;
}

bool ControlNetPanel::isBusy() const {
  return std::any_of(mUnits.begin(), mUnits.end(), [](const ControlUnitEditor* u) { return u->isBusy(); });
}

void ControlNetPanel::refreshMaps() {
  for (ControlUnitEditor* unit : mUnits) unit->refresh();
}

void ControlNetPanel::attachSettings(GenerationSettings* settings) {
  mSettings = nullptr;  // restoring is no change to keep
  removeAllUnits();
  for (const ControlUnitState& state : settings->controlUnits()) {
    ControlUnitEditor* unit = addUnit();
    if (!unit) break;
    unit->restoreState(state);
  }
  // As the user left them: the last unit open, the others folded (addUnit's rule).
  mSettings = settings;
  mSave->stop();
}

void ControlNetPanel::saveUnits() {
  mSave->stop();
  if (!mSettings) return;
  QList<ControlUnitState> states;
  for (const ControlUnitEditor* unit : mUnits) states << unit->state();
  const QString error = mSettings->setControlUnits(states);
  if (!error.isEmpty()) Q_EMIT message(tr("Could not keep the ControlNet units' pictures: %1").arg(error));
}

void ControlNetPanel::removeAllUnits() {
  while (!mUnits.isEmpty()) removeUnit(mUnits.last());
}

bool ControlNetPanel::isComputing() const {
  return std::any_of(mUnits.begin(), mUnits.end(),
                     [](const ControlUnitEditor* u) { return u->isUnitEnabled() && u->isBusy(); });
}

void ControlNetPanel::cancelMaps() {
  for (ControlUnitEditor* unit : mUnits) unit->cancel();
}

void ControlNetPanel::computeCancelledMaps() {
  for (ControlUnitEditor* unit : mUnits)
    if (unit->isUnitEnabled()) unit->computeIfCancelled();
}

QStringList ControlNetPanel::applyRecords(const QList<bridge::ControlNetUnitUse>& records) {
  QStringList missing;
  for (qsizetype i = 0; i < records.size() && i < kMaxUnits; ++i) {
    const bridge::ControlNetUnitUse& r = records[i];
    ControlUnitEditor* unit = i < mUnits.size() ? mUnits[i] : addUnit();
    unit->setUnitEnabled(true);
    // "control_v11p_sd15_canny [d14c016b]": the name before the hash.
    QString name = r.model;
    const qsizetype bracket = name.lastIndexOf(QStringLiteral(" ["));
    if (bracket >= 0) name = name.left(bracket);
    QString path;
    for (int m = 0; m < unit->modelCombo()->count(); ++m) {
      const QString candidate = unit->modelCombo()->itemData(m).toString();
      if (!candidate.isEmpty() && recordName(candidate) == name) path = candidate;
    }
    if (path.isEmpty() && !name.isEmpty() && name != QLatin1String("None"))
      missing << name;
    else
      unit->selectModel(path);
    unit->setPreprocessor(r.module);
    unit->setParamBySlot(1, r.thresholdA);
    unit->setParamBySlot(2, r.thresholdB);
    unit->setResolution(r.processorRes);
    unit->setPixelPerfect(r.pixelPerfect);
    unit->setWeight(r.weight);
    unit->setRange(r.guidanceStart, r.guidanceEnd);
    if (const auto mode = bridge::controlModeFromA1111(r.controlMode)) unit->setControlMode(*mode);
    try {
      unit->setResizeMode(control::parse_resize_mode(r.resizeMode.toStdString()));
    } catch (const std::exception&) {
      // An unknown resize mode keeps the unit's own.
    }
  }
  for (qsizetype i = records.size(); i < mUnits.size(); ++i) mUnits[i]->setUnitEnabled(false);
  return missing;
}

}  // namespace kiln::app
