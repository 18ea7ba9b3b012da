#pragma once
// What the Generate page remembers across runs: the last prompt and settings, the mode and the
// brush, and where generated images go. Kept in the same settings file as AppSettings (its own
// "generate/" group), read and written as one typed form.

#include <QList>
#include <QObject>
#include <QSettings>
#include <QString>

#include <memory>

#include "base/precision.h"
#include "state/control_unit_state.h"
#include "state/lora_choice.h"

namespace kiln::app {

class AppSettings;

struct GenerationForm {
  QString modelPath;
  QString prompt;
  QString negativePrompt;
  QString sampler = QStringLiteral("Euler a");  // A1111 display name
  int steps = 20;
  double cfgScale = 7.0;
  qint64 seed = -1;  // -1: a new random seed for every generation
  int width = 512;
  int height = 512;
  int batchCount = 1;
  int batchSize = 1;
  int clipSkip = 1;
  QString tiledVae = QStringLiteral("auto");  // "auto", "on", "off" (pipelines::VaeTilingMode)
  // TAESD (file or folder) decoding the live previews; empty: the cheap latent-colour previews.
  // fastDecode: the final image is decoded by it too.
  QString taesd;
  bool fastDecode = false;
  // Hires fix (txt2img only): scale, A1111 upscaler name, second pass steps (0 = same), denoising.
  bool hires = false;
  double hiresScale = 2.0;
  QString hiresUpscaler = QStringLiteral("Latent");
  int hiresSteps = 0;
  double hiresDenoising = 0.7;
  double denoisingStrength = 0.75;
  QString mode = QStringLiteral("txt2img");  // "txt2img", "img2img", "inpaint"
  int brushSize = 48;  // the inpaint mask's brush
  double brushHardness = 0.7;
  int scribbleBrushSize = 6;  // the ControlNet scribble's pen: its own size, remembered apart
  double scribbleBrushHardness = 1.0;
  QList<LoRAChoice> loras;

  bool operator==(const GenerationForm&) const = default;
};

class GenerationSettings : public QObject {
  Q_OBJECT
  Q_PROPERTY(QString outputFolder READ outputFolder WRITE setOutputFolder NOTIFY outputFolderChanged)

 public:
  // Shares `settings`' file.
  explicit GenerationSettings(AppSettings* settings, QObject* parent = nullptr);
  ~GenerationSettings() override;

  GenerationForm form() const;
  void setForm(const GenerationForm& form);

  // Where every generated image is written (default: Pictures/Kiln).
  QString outputFolder() const;
  void setOutputFolder(const QString& folder);
  // Whether images are written there at all (default true).
  bool saveAutomatically() const;
  void setSaveAutomatically(bool save);
  // What the models compute in (default Automatic); an unknown stored text reads as Automatic.
  Precision precision() const;
  void setPrecision(Precision precision);

  // The ControlNet units of the last session, in order.
  QList<ControlUnitState> controlUnits() const;
  // Keeps `units` (replacing those kept before): the settings, and each unit's `picture` or
  // `poseJson` as a file of dataFolder()/controlnet named by its content (written atomically,
  // only when not there yet); files there that no unit uses any more are removed. Returns what
  // went wrong writing a file, empty when all is kept (a unit whose file failed keeps no picture).
  QString setControlUnits(QList<ControlUnitState> units);
  // Where the page keeps files of its own: beside a test's INI file ("<ini>-data"), else the
  // platform's application data folder (~/.local/share/Kiln/kiln on Linux).
  QString dataFolder() const;

  void sync();

 Q_SIGNALS:
  void outputFolderChanged(const QString& folder);

 private:
  std::unique_ptr<QSettings> mSettings;
};

}  // namespace kiln::app
