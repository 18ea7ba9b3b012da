#include "pages/caption_endpoint_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "captioning/vision_client.h"
#include "state/caption_settings.h"

namespace kiln::app {

using namespace kiln::captioning;

CaptionEndpointDialog::CaptionEndpointDialog(CaptionSettings* settings, QNetworkAccessManager* network, QWidget* parent)
    : QDialog(parent), mSettings(settings), mNetwork(network) {
  setWindowTitle(tr("Caption Endpoint"));
  setObjectName(QStringLiteral("captionEndpointDialog"));

  mPreset = new QComboBox(this);
  mPreset->setObjectName(QStringLiteral("endpointPreset"));
  mPreset->addItem(tr("Custom"), QString());
  for (const EndpointPreset& p : endpointPresets()) mPreset->addItem(p.label, p.id);
  mHint = new QLabel(this);
  mHint->setObjectName(QStringLiteral("endpointHint"));
  mHint->setWordWrap(true);
  mHint->setForegroundRole(QPalette::PlaceholderText);
  mHint->setTextInteractionFlags(Qt::TextSelectableByMouse);

  mUrl = new QLineEdit(this);
  mUrl->setObjectName(QStringLiteral("endpointUrl"));
  mUrl->setPlaceholderText(QStringLiteral("http://127.0.0.1:8080/v1"));
  mUrl->setToolTip(tr("The server's address up to and including /v1"));
  mModel = new QLineEdit(this);
  mModel->setObjectName(QStringLiteral("endpointModel"));
  mModel->setToolTip(tr("The model's id as the server lists it (Test Endpoint shows the list)"));
  mKeyEnv = new QLineEdit(this);
  mKeyEnv->setObjectName(QStringLiteral("endpointKeyEnv"));
  mKeyEnv->setPlaceholderText(tr("none"));
  mKeyEnv->setToolTip(tr("The name of the environment variable holding the API key. Kiln reads the key from the "
                         "environment for each request and never stores it."));
  mKeyStatus = new QLabel(this);
  mKeyStatus->setObjectName(QStringLiteral("endpointKeyStatus"));
  auto* keyRow = new QHBoxLayout;
  keyRow->addWidget(mKeyEnv, 1);
  keyRow->addWidget(mKeyStatus);

  auto spin = [this](const char* name, int lo, int hi, const QString& suffix, const QString& tip) {
    auto* s = new QSpinBox(this);
    s->setObjectName(QLatin1String(name));
    s->setRange(lo, hi);
    s->setSuffix(suffix);
    s->setToolTip(tip);
    return s;
  };
  mTimeout = spin("endpointTimeout", 5, 3600, tr(" s"), tr("How long one request may take, from sending to the last byte"));
  mConcurrency = spin("endpointConcurrency", 1, 64, {}, tr("Requests in flight at once (1 suits a server on this machine; "
                                                            "halved after the server says it is busy)"));
  mImageSide = spin("endpointImageSide", 256, 4096, tr(" px"), tr("The longest side of the JPEG sent (no metadata leaves the machine)"));
  mImageSide->setSingleStep(128);
  mMaxTokens = spin("endpointMaxTokens", 16, 4096, {}, tr("The longest answer asked for, in the model's tokens"));
  mTemperature = new QDoubleSpinBox(this);
  mTemperature->setObjectName(QStringLiteral("endpointTemperature"));
  mTemperature->setRange(0.0, 2.0);
  mTemperature->setSingleStep(0.1);
  mTemperature->setDecimals(2);

  mTest = new QPushButton(tr("Test Endpoint"), this);
  mTest->setObjectName(QStringLiteral("testEndpointButton"));
  mTest->setToolTip(tr("List the server's models and send one small probe image"));
  connect(mTest, &QPushButton::clicked, this, &CaptionEndpointDialog::testEndpoint);
  mResult = new QLabel(this);
  mResult->setObjectName(QStringLiteral("endpointResult"));
  mResult->setWordWrap(true);
  mResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
  mResult->setTextFormat(Qt::PlainText);
  auto* testRow = new QHBoxLayout;
  testRow->addWidget(mTest);
  testRow->addWidget(mResult, 1);

  auto* form = new QFormLayout;
  auto* presetBox = new QVBoxLayout;
  presetBox->setSpacing(2);
  presetBox->addWidget(mPreset);
  presetBox->addWidget(mHint);
  form->addRow(tr("Preset"), presetBox);
  form->addRow(tr("Base URL"), mUrl);
  form->addRow(tr("Model"), mModel);
  form->addRow(tr("API key variable"), keyRow);
  form->addRow(tr("Timeout"), mTimeout);
  form->addRow(tr("Requests at once"), mConcurrency);
  form->addRow(tr("Longest image side"), mImageSide);
  form->addRow(tr("Max tokens"), mMaxTokens);
  form->addRow(tr("Temperature"), mTemperature);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(testRow);
  layout->addStretch(1);
  layout->addWidget(buttons);

  setProfile(mSettings->profile());
  const int presetIndex = mPreset->findData(mSettings->presetId());
  mPreset->setCurrentIndex(std::max(0, presetIndex));
  updateHint();
  connect(mPreset, &QComboBox::activated, this, [this] { applyPreset(mPreset->currentData().toString()); });
  connect(mKeyEnv, &QLineEdit::textChanged, this, &CaptionEndpointDialog::updateKeyStatus);
  updateKeyStatus();
  setMinimumWidth(560);
}

EndpointProfile CaptionEndpointDialog::profile() const {
  EndpointProfile p;
  p.name = mPreset->currentIndex() > 0 ? mPreset->currentText() : QString();
  p.baseUrl = mUrl->text().trimmed();
  p.model = mModel->text().trimmed();
  p.apiKeyEnv = mKeyEnv->text().trimmed();
  p.timeoutSeconds = mTimeout->value();
  p.concurrency = mConcurrency->value();
  p.maxImageSide = mImageSide->value();
  p.maxTokens = mMaxTokens->value();
  p.temperature = mTemperature->value();
  return p;
}

void CaptionEndpointDialog::setProfile(const EndpointProfile& p) {
  mUrl->setText(p.baseUrl);
  mModel->setText(p.model);
  mKeyEnv->setText(p.apiKeyEnv);
  mTimeout->setValue(p.timeoutSeconds);
  mConcurrency->setValue(p.concurrency);
  mImageSide->setValue(p.maxImageSide);
  mMaxTokens->setValue(p.maxTokens);
  mTemperature->setValue(p.temperature);
  updateKeyStatus();
}

void CaptionEndpointDialog::applyPreset(const QString& id) {
  const int index = mPreset->findData(id);
  if (index >= 0) mPreset->setCurrentIndex(index);
  if (const EndpointPreset* preset = findPreset(id)) {
    // Presets fill hints: URL, model, key variable, concurrency; the rest stays as set.
    mUrl->setText(preset->profile.baseUrl);
    mModel->setText(preset->profile.model);
    mKeyEnv->setText(preset->profile.apiKeyEnv);
    mConcurrency->setValue(preset->profile.concurrency);
  }
  updateHint();
}

void CaptionEndpointDialog::updateHint() {
  const EndpointPreset* preset = findPreset(mPreset->currentData().toString());
  mHint->setText(preset ? preset->hint : tr("Any OpenAI-compatible chat-completions server with a vision model."));
}

void CaptionEndpointDialog::updateKeyStatus() {
  const QString name = mKeyEnv->text().trimmed();
  if (name.isEmpty()) {
    mKeyStatus->setText(tr("no key sent"));
    mKeyStatus->setStyleSheet({});
    return;
  }
  const bool set = !qEnvironmentVariable(name.toLocal8Bit().constData()).isEmpty();
  mKeyStatus->setText(set ? tr("● set") : tr("● not set"));
  mKeyStatus->setStyleSheet(set ? QStringLiteral("color: #2e8b57;") : QStringLiteral("color: #c8323c;"));
  mKeyStatus->setToolTip(set ? tr("%1 is set in Kiln's environment").arg(name)
                             : tr("%1 is not set: start Kiln from a shell where it is exported").arg(name));
}

void CaptionEndpointDialog::testEndpoint() {
  if (mCheck) return;
  const EndpointProfile p = profile();
  const QString invalid = p.validate();
  if (!invalid.isEmpty()) {
    mResult->setText(tr("Cannot test: %1").arg(invalid));
    return;
  }
  mCheck = new EndpointCheck(p, mNetwork, this);
  mTest->setEnabled(false);
  mResult->setText(tr("Testing…"));
  connect(mCheck, &EndpointCheck::progress, this, [this](const QString& step) { mResult->setText(step); });
  connect(mCheck, &EndpointCheck::finished, this, [this] {
    EndpointCheck* check = mCheck;
    QString line = check->message();
    if (check->result() == EndpointCheck::Result::Ok) {
      line = tr("OK · %1 ms · %n model(s) listed", nullptr, int(check->models().size())).arg(check->latencyMs());
      if (!check->models().isEmpty()) line += QStringLiteral(": ") + check->models().mid(0, 4).join(QStringLiteral(", "));
    }
    mResult->setText(line);
    mTest->setEnabled(true);
    check->deleteLater();
    mCheck = nullptr;
  });
  mCheck->start();
}

void CaptionEndpointDialog::accept() {
  const EndpointProfile p = profile();
  const QString invalid = p.validate();
  if (!invalid.isEmpty()) {
    mResult->setText(tr("Check the fields: %1").arg(invalid));
    return;
  }
  mSettings->setProfile(p);
  mSettings->setPresetId(mPreset->currentData().toString());
  QDialog::accept();
}

}  // namespace kiln::app
