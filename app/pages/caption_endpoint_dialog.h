#pragma once
// Where captions come from: the endpoint of a vision model (any OpenAI-compatible server). A preset
// fills the URL, model, key variable and concurrency and shows how to start that server; the API key
// is named by its environment variable (a live indicator says whether it is set, the key itself is
// never shown or stored). "Test Endpoint" runs the same check as kiln-cli endpoint check.

#include <QDialog>
#include <QPointer>

#include "captioning/endpoint_profile.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;
class QPushButton;
class QSpinBox;

namespace kiln::captioning {
class EndpointCheck;
}

namespace kiln::app {

class CaptionSettings;

class CaptionEndpointDialog : public QDialog {
  Q_OBJECT

 public:
  CaptionEndpointDialog(CaptionSettings* settings, QNetworkAccessManager* network, QWidget* parent = nullptr);

  captioning::EndpointProfile profile() const;
  void setProfile(const captioning::EndpointProfile& profile);
  // Fills the fields from a preset (its id, see endpointPresets()).
  void applyPreset(const QString& id);
  // Runs the check; the result line follows in resultLabel().
  void testEndpoint();
  bool isTesting() const { return mCheck != nullptr; }
  QLabel* resultLabel() const { return mResult; }
  QLabel* keyStatusLabel() const { return mKeyStatus; }

  // Saves into the settings (on OK).
  void accept() override;

 private:
  void updateKeyStatus();
  void updateHint();

  CaptionSettings* mSettings;
  QNetworkAccessManager* mNetwork;
  QPointer<captioning::EndpointCheck> mCheck;
  QComboBox* mPreset;
  QLabel* mHint;
  QLineEdit* mUrl;
  QLineEdit* mModel;
  QLineEdit* mKeyEnv;
  QLabel* mKeyStatus;
  QSpinBox* mTimeout;
  QSpinBox* mConcurrency;
  QSpinBox* mImageSide;
  QSpinBox* mMaxTokens;
  QDoubleSpinBox* mTemperature;
  QPushButton* mTest;
  QLabel* mResult;
};

}  // namespace kiln::app
