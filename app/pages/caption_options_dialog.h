#pragma once
// What a captioning run asks the vision model and what it does with the answers: the prompt
// preset (subject, style, tags or a custom template), the instance token and class word, a prefix
// and suffix Kiln joins to each caption, and the mode (fill, replace, append). Opened by the
// Dataset page's "Caption Missing…" and "Caption Selected…"; the endpoint is edited from here too.

#include <QDialog>

#include "captioning/caption_run.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;
class QPlainTextEdit;

namespace kiln::app {

class CaptionSettings;

class CaptionOptionsDialog : public QDialog {
  Q_OBJECT

 public:
  CaptionOptionsDialog(CaptionSettings* settings, QNetworkAccessManager* network, const QString& token,
                       captioning::CaptionMode mode, int imageCount, QWidget* parent = nullptr);

  captioning::PromptSettings prompt() const;  // with the token typed here
  captioning::CaptionMode mode() const;

  // Checks the prompt and saves it (on OK).
  void accept() override;

 private:
  void updateEndpoint();
  void updateTemplate();

  CaptionSettings* mSettings;
  QNetworkAccessManager* mNetwork;
  QComboBox* mPreset;
  QPlainTextEdit* mTemplate;
  QLineEdit* mToken;
  QLineEdit* mClass;
  QLineEdit* mPrefix;
  QLineEdit* mSuffix;
  QComboBox* mMode;
  QLabel* mEndpoint;
  QLabel* mError;
};

}  // namespace kiln::app
