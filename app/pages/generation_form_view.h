#pragma once
// The left side of the Generate page: the model, the prompts (with A1111 syntax highlighting
// and the "n/75" token counter), the LoRAs with their weights and the sampling settings, read
// and written as one GenerationForm.

#include <QWidget>

#include <memory>
#include <optional>

#include "base/precision.h"
#include "state/generation_settings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTimer;
class QToolButton;
class QVBoxLayout;

namespace kiln::text {
class CLIPTokenizer;
}

namespace kiln::widgets {
class PromptEdit;
}

namespace kiln::app {

class GenerationFormView : public QWidget {
  Q_OBJECT

 public:
  explicit GenerationFormView(QWidget* parent = nullptr);
  ~GenerationFormView() override;

  // Every field but the page's own (mode, brush), which keep `base`'s values.
  GenerationForm form(const GenerationForm& base = {}) const;
  void setForm(const GenerationForm& form);

  // (path, name) of the models to offer; keeps the selection when it is still there, else
  // `fallback`, else the first.
  void setModels(const QList<std::pair<QString, QString>>& models, const QString& fallback = {});
  QString selectedModelPath() const;
  QString selectedModelName() const;
  void selectModel(const QString& path);
  bool hasModel() const;

  // The denoising strength is shown for image-to-image and inpainting only.
  void setStrengthVisible(bool visible);
  // Hires fix is offered for text-to-image only.
  void setHiresAvailable(bool available);
  // Textual inversion embeddings offered by the Embeddings button above the prompt: (name, what
  // the menu shows, e.g. "style · 4 tokens"); an empty label marks a file that is not an embedding.
  void setEmbeddings(const QList<std::pair<QString, QString>>& embeddings);
  QToolButton* embeddingsButton() const { return mEmbeddings; }
  // ESRGAN-family model files offered as hires upscalers after the built-in ones (full paths).
  void setUpscalerModels(const QStringList& files);
  // TAESD files or folders offered for previews and Fast decode (full paths), after "Cheap".
  void setTaesdModels(const QStringList& paths);
  QComboBox* taesdCombo() const { return mTaesd; }
  QCheckBox* fastDecodeCheck() const { return mFastDecode; }
  // What "reuse the last seed" puts in the seed field.
  void setLastSeed(std::optional<quint64> seed) { mLastSeed = seed; }
  // The counter's tokenizer (counting stays off without one).
  void setTokenizer(std::shared_ptr<const text::CLIPTokenizer> tokenizer);
  void setBusy(bool busy);

  // The LoRAs "Add" offers, (path, name): the library's LoRAs of the model's base. Any file can
  // be chosen as well.
  void setLoRALibrary(const QList<std::pair<QString, QString>>& loras);
  // Appends a LoRA row (a path already listed takes the weight instead).
  void addLoRA(const QString& path, double weight = 1.0);
  QWidget* loraList() const { return mLoRAList; }
  QToolButton* addLoRAButton() const { return mAddLoRA; }

  // The precision the models compute in. Not part of GenerationForm: it belongs to the machine,
  // not to an image, and is saved on its own (GenerationSettings::precision). An item the
  // machine does not offer selects Automatic instead.
  Precision precision() const;
  void setPrecision(Precision precision);
  // What the precision combo offers: bf16 only on CUDA or a CPU that computes it natively (else
  // the item is disabled with the reason), fp16 only on CUDA; "Automatic (fp32)" names what
  // automatic resolves to. Default: this machine (EngineWorker::usesCuda(),
  // cpu_computes_bf16_natively()); tests set both answers.
  void setPrecisionSupport(bool cuda, bool cpuBf16);
  QComboBox* precisionCombo() const { return mPrecision; }
  QLabel* precisionNote() const { return mPrecisionNote; }

  QComboBox* modelCombo() const { return mModel; }
  widgets::PromptEdit* promptEdit() const { return mPrompt; }
  widgets::PromptEdit* negativePromptEdit() const { return mNegative; }
  QLineEdit* seedEdit() const { return mSeed; }

 Q_SIGNALS:
  void modelChanged();
  // The user added a LoRA (from the menu or a file), not a LoRA restored with the form.
  void loraChosen(const QString& path);
  // The output width or height changed.
  void sizeChanged();
  // The user chose another precision.
  void precisionChosen(kiln::Precision precision);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void updateIcons();
  void updateTokenCounts();
  void countTokens(widgets::PromptEdit* edit);
  QList<LoRAChoice> loras() const;
  void setLoRAs(const QList<LoRAChoice>& loras);
  void removeLoRA(QWidget* row);
  void chooseLoRA();
  void browseLoRA();
  void addPrecisionRows(QFormLayout* grid);
  void fillPrecisionItems();
  void updatePrecisionNote();

  std::shared_ptr<const text::CLIPTokenizer> mTokenizer;
  std::optional<quint64> mLastSeed;
  QString mWantedModel;  // a model to select once the library lists it
  QTimer* mCountTimer;
  QComboBox* mModel;
  widgets::PromptEdit* mPrompt;
  widgets::PromptEdit* mNegative;
  QComboBox* mSampler;
  QSpinBox* mSteps;
  QDoubleSpinBox* mCfg;
  QLineEdit* mSeed;
  QToolButton* mRandomSeed;
  QToolButton* mReuseSeed;
  QSpinBox* mWidth;
  QSpinBox* mHeight;
  QSpinBox* mBatchCount;
  QSpinBox* mBatchSize;
  QSpinBox* mClipSkip;
  QComboBox* mTiledVae;
  QComboBox* mTaesd;
  QToolButton* mTaesdChoose;
  QCheckBox* mFastDecode;
  QToolButton* mEmbeddings = nullptr;
  QFormLayout* mGrid = nullptr;
  int mHiresRow = -1;
  QCheckBox* mHires;
  QDoubleSpinBox* mHiresScale;
  QComboBox* mHiresUpscaler;
  QSpinBox* mHiresSteps;
  QDoubleSpinBox* mHiresDenoising;
  bool mHiresAvailable = true;
  void updateHiresRows();
  void chooseTaesd();
  void selectTaesd(const QString& path);
  QLabel* mStrengthLabel;
  QDoubleSpinBox* mStrength;
  QToolButton* mAddLoRA;
  QWidget* mLoRAList;      // one row per LoRA: name, weight, remove
  QVBoxLayout* mLoRARows;
  QList<std::pair<QString, QString>> mLoRALibrary;
  QString mLoRAFolder;     // where the file dialog opens
  QComboBox* mPrecision;
  QLabel* mPrecisionNote;  // what the chosen precision means here
  bool mCuda = false;
  bool mCpuBf16 = false;
};

}  // namespace kiln::app
