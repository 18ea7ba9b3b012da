#pragma once
// File > API Server…: AUTOMATIC1111's web API served by the desktop app (off by default), for
// the programs that drive A1111 (webuiapi scripts, SillyTavern, Krita and Photoshop plug-ins).
// Address, port, HTTP Basic credentials and CORS origins, checked as they are typed; a warning
// when it would listen beyond this machine without a password.

#include <QDialog>

#include "state/app_settings.h"

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace kiln::app {

class ApiServerDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ApiServerDialog(const ApiServerSettings& settings, QWidget* parent = nullptr);
  ApiServerSettings settings() const;
  // Why the settings cannot be used ("" when they can).
  QString problem() const;

 private:
  void update();

  QCheckBox* mEnabled;
  QLineEdit* mHost;
  QSpinBox* mPort;
  QLineEdit* mAuth;
  QLineEdit* mCors;
  QLabel* mNote;
  QDialogButtonBox* mButtons;
};

}  // namespace kiln::app
