#pragma once
// The Generate page's ControlNet units (up to kMaxUnits): add, remove, enable, reorder; each a
// ControlUnitEditor with its map preview. The models offered are the library's ControlNets of
// the selected base model's family. At Generate the page takes jobs(): the enabled units, ready
// for the engine worker; reusing an image's parameters gives the units their recorded fields back.

#include <QList>
#include <QWidget>

#include "bridge/generation_parameters.h"
#include "jobs/engine_worker.h"
#include "pages/control_unit_editor.h"

class QLabel;
class QPushButton;
class QTimer;
class QVBoxLayout;

namespace kiln::app {

class GenerationSettings;
class ModelLibrary;

class ControlNetPanel : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kMaxUnits = 3;

  ControlNetPanel(ModelLibrary* library, ControlUnitEditor::Context context, QWidget* parent = nullptr);
  ~ControlNetPanel() override;

  // The generation model the units are for: its family picks the ControlNets offered.
  void setBaseModel(const QString& path);
  QList<ControlUnitEditor*> units() const { return mUnits; }
  // A new unit at the end (nullptr when kMaxUnits are there).
  ControlUnitEditor* addUnit();
  void removeUnit(ControlUnitEditor* unit);
  void moveUnit(ControlUnitEditor* unit, int delta);

  // The enabled units as the worker takes them. `problem` names the first unit that cannot run
  // and why (empty when all can).
  QList<ControlUnitJob> jobs(QString* problem) const;
  bool isBusy() const;
  // The output size changed: Pixel Perfect resolutions and poses follow it.
  void refreshMaps();
  // Gives the units the fields of an image's records (unit i gets record i; units are added as
  // needed, the others are disabled, pictures are kept). Returns the models that the library
  // does not have (their units keep their model).
  QStringList applyRecords(const QList<bridge::ControlNetUnitUse>& records);

  // The units of the last session come back from `settings` (replacing any units here), and
  // from now on the units are kept there a moment after each change and by saveUnits().
  void attachSettings(GenerationSettings* settings);
  // Keeps the units in the attached settings now (a problem writing a file goes to message()).
  void saveUnits();
  void removeAllUnits();

  // An enabled unit's map is being computed (or about to be).
  bool isComputing() const;
  // Stops every map being computed (ControlUnitEditor::cancel).
  void cancelMaps();
  // Enabled units whose computing was cancelled compute their maps again.
  void computeCancelledMaps();

  QPushButton* addButton() const { return mAdd; }

 Q_SIGNALS:
  void drawRequested(kiln::app::ControlUnitEditor* unit);
  void poseEditRequested(kiln::app::ControlUnitEditor* unit);
  // Emitted before the unit is deleted.
  void unitRemoved(kiln::app::ControlUnitEditor* unit);
  void busyChanged(bool busy);
  // Units were added, removed or enabled.
  void unitsChanged();
  // A short note for the status bar.
  void message(const QString& text);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void updateModels();
  void updateUnits();
  void retranslate();

  ModelLibrary* mLibrary;
  ControlUnitEditor::Context mContext;
  QString mBasePath;
  QList<ControlUnitEditor*> mUnits;
  QLabel* mTitle;
  QLabel* mEmpty;
  QPushButton* mAdd;
  QVBoxLayout* mList;
  GenerationSettings* mSettings = nullptr;
  QTimer* mSave;
};

}  // namespace kiln::app
