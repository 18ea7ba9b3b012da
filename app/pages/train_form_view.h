#pragma once
// The Train page's settings form: base model, images, token and captions, class prompt, method
// (DreamBooth or LoRA with rank and alpha), the two stages' steps and learning rates, resolution,
// batch, checkpoint and sample intervals, seed and device. Emits changed() on every edit.

#include <QList>
#include <QPair>
#include <QWidget>

#include "pages/train_session.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QToolButton;

namespace kiln::app {

struct TrainModelChoice {
  QString path;
  QString label;
  QString family;  // "sd1", "sd2", ...; empty when not known
};

class TrainFormView : public QWidget {
  Q_OBJECT

 public:
  explicit TrainFormView(QWidget* parent = nullptr);

  TrainForm form() const;
  void setForm(const TrainForm& form);
  // The models the picker offers (from the library); the current choice stays.
  void setModels(const QList<TrainModelChoice>& models);
  // The family of the chosen model, empty when not known.
  QString modelFamily() const;

  // For tests.
  QComboBox* modelCombo() const { return mModel; }
  QLineEdit* imagesEdit() const { return mImages; }

 Q_SIGNALS:
  void changed();

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void chooseModelFile();
  void chooseModelFolder();
  void chooseImages();
  void selectModelPath(const QString& path);
  void updateMethod();

  QList<TrainModelChoice> mModels;
  QGroupBox* mDataGroup;
  QGroupBox* mMethodGroup;
  QGroupBox* mStagesGroup;
  QGroupBox* mRunGroup;
  QComboBox* mModel;
  QToolButton* mModelBrowse;
  QLineEdit* mImages;
  QToolButton* mImagesBrowse;
  QLineEdit* mToken;
  QComboBox* mCaptions;
  QLineEdit* mClassPrompt;
  QComboBox* mMethod;
  QSpinBox* mRank;
  QDoubleSpinBox* mAlpha;
  QSpinBox* mTextSteps;
  QLineEdit* mTextRate;
  QSpinBox* mUNetSteps;
  QLineEdit* mUNetRate;
  QSpinBox* mResolution;
  QSpinBox* mBatch;
  QSpinBox* mSaveEvery;
  QSpinBox* mKeep;
  QSpinBox* mSampleEvery;
  QLineEdit* mSamplePrompt;
  QLineEdit* mSeed;
  QComboBox* mDevice;
  QComboBox* mPrecision;
  QCheckBox* mCheckpointing;
  QComboBox* mOptimizer;
  QList<QPair<QLabel*, const char*>> mLabels;  // retranslated by their source text
};

}  // namespace kiln::app
