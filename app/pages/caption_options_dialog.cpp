#include "pages/caption_options_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

#include "pages/caption_endpoint_dialog.h"
#include "state/caption_settings.h"

namespace kiln::app {

using namespace kiln::captioning;

CaptionOptionsDialog::CaptionOptionsDialog(CaptionSettings* settings, QNetworkAccessManager* network, const QString& token,
                                           CaptionMode mode, int imageCount, QWidget* parent)
    : QDialog(parent), mSettings(settings), mNetwork(network) {
  setWindowTitle(tr("Captions from a Vision Model"));
  setObjectName(QStringLiteral("captionOptionsDialog"));
  const PromptSettings prompt = settings->prompt();

  mPreset = new QComboBox(this);
  mPreset->setObjectName(QStringLiteral("promptPreset"));
  mPreset->addItem(tr("Subject: “token class”, then everything but the identity"), presetId(PromptPreset::Subject));
  mPreset->addItem(tr("Style: the content, never the style"), presetId(PromptPreset::Style));
  mPreset->addItem(tr("Tags: short comma-separated tags"), presetId(PromptPreset::Tags));
  mPreset->addItem(tr("Custom template"), presetId(PromptPreset::Custom));
  mPreset->setCurrentIndex(std::max(0, mPreset->findData(presetId(prompt.preset))));
  mTemplate = new QPlainTextEdit(this);
  mTemplate->setObjectName(QStringLiteral("promptTemplate"));
  mTemplate->setToolTip(tr("Placeholders: {token} {class} {filename} {existing}"));
  mTemplate->setFixedHeight(fontMetrics().lineSpacing() * 5);
  mTemplate->setPlainText(prompt.preset == PromptPreset::Custom ? prompt.customTemplate : presetTemplate(prompt.preset));
  connect(mPreset, &QComboBox::activated, this, &CaptionOptionsDialog::updateTemplate);

  mToken = new QLineEdit(token, this);
  mToken->setObjectName(QStringLiteral("captionToken"));
  mToken->setToolTip(tr("The instance token (the page's), named first in subject captions"));
  mClass = new QLineEdit(prompt.className, this);
  mClass->setObjectName(QStringLiteral("captionClass"));
  mClass->setPlaceholderText(tr("e.g. man, woman, dog"));
  mPrefix = new QLineEdit(prompt.prefix, this);
  mPrefix->setObjectName(QStringLiteral("captionPrefix"));
  mPrefix->setPlaceholderText(tr("put before each caption"));
  mSuffix = new QLineEdit(prompt.suffix, this);
  mSuffix->setObjectName(QStringLiteral("captionSuffix"));
  mSuffix->setPlaceholderText(tr("put after each caption"));
  auto* words = new QHBoxLayout;
  words->addWidget(mToken);
  words->addWidget(new QLabel(tr("Class"), this));
  words->addWidget(mClass);

  mMode = new QComboBox(this);
  mMode->setObjectName(QStringLiteral("captionMode"));
  mMode->addItem(tr("Fill: only images without a caption"), modeId(CaptionMode::Fill));
  mMode->addItem(tr("Replace: new captions (yours are kept unless you agree)"), modeId(CaptionMode::Replace));
  mMode->addItem(tr("Append: the new text after the existing caption"), modeId(CaptionMode::Append));
  mMode->setCurrentIndex(std::max(0, mMode->findData(modeId(mode))));

  mEndpoint = new QLabel(this);
  mEndpoint->setObjectName(QStringLiteral("captionEndpointSummary"));
  mEndpoint->setTextFormat(Qt::PlainText);
  auto* endpointButton = new QPushButton(tr("Endpoint…"), this);
  endpointButton->setObjectName(QStringLiteral("captionEndpointButton"));
  connect(endpointButton, &QPushButton::clicked, this, [this] {
    CaptionEndpointDialog dialog(mSettings, mNetwork, this);
    if (dialog.exec() == QDialog::Accepted) updateEndpoint();
  });
  auto* endpointRow = new QHBoxLayout;
  endpointRow->addWidget(mEndpoint, 1);
  endpointRow->addWidget(endpointButton);
  updateEndpoint();

  mError = new QLabel(this);
  mError->setObjectName(QStringLiteral("captionOptionsError"));
  mError->setWordWrap(true);
  mError->setStyleSheet(QStringLiteral("color: #c8323c;"));
  mError->hide();

  auto* form = new QFormLayout;
  form->addRow(tr("Endpoint"), endpointRow);
  form->addRow(tr("Prompt"), mPreset);
  form->addRow(QString(), mTemplate);
  form->addRow(tr("Token"), words);
  form->addRow(tr("Prefix"), mPrefix);
  form->addRow(tr("Suffix"), mSuffix);
  form->addRow(tr("Mode"), mMode);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Caption %n Image(s)", nullptr, imageCount));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(mError);
  layout->addWidget(buttons);
  updateTemplate();
  setMinimumWidth(600);
}

void CaptionOptionsDialog::updateTemplate() {
  const auto preset = presetFromId(mPreset->currentData().toString()).value_or(PromptPreset::Subject);
  const bool custom = preset == PromptPreset::Custom;
  if (!custom) mTemplate->setPlainText(presetTemplate(preset));
  else if (mTemplate->toPlainText().isEmpty() || mTemplate->isReadOnly()) mTemplate->setPlainText(mSettings->prompt().customTemplate);
  mTemplate->setReadOnly(!custom);
  mTemplate->setBackgroundRole(custom ? QPalette::Base : QPalette::Window);
}

void CaptionOptionsDialog::updateEndpoint() {
  const EndpointProfile p = mSettings->profile();
  mEndpoint->setText(tr("%1 at %2").arg(p.model.isEmpty() ? tr("(no model)") : p.model, QUrl(p.baseUrl).host()));
  mEndpoint->setToolTip(p.baseUrl);
}

PromptSettings CaptionOptionsDialog::prompt() const {
  PromptSettings p;
  p.preset = presetFromId(mPreset->currentData().toString()).value_or(PromptPreset::Subject);
  if (p.preset == PromptPreset::Custom) p.customTemplate = mTemplate->toPlainText();
  p.token = mToken->text().trimmed();
  p.className = mClass->text().trimmed();
  p.prefix = mPrefix->text().trimmed();
  p.suffix = mSuffix->text().trimmed();
  return p;
}

CaptionMode CaptionOptionsDialog::mode() const { return modeFromId(mMode->currentData().toString()).value_or(CaptionMode::Fill); }

void CaptionOptionsDialog::accept() {
  const PromptSettings p = prompt();
  QString error;
  if (!buildPrompt(p, QStringLiteral("example.png"), {}, &error)) {
    mError->setText(error);
    mError->show();
    return;
  }
  const QString invalid = mSettings->profile().validate();
  if (!invalid.isEmpty()) {
    mError->setText(tr("Set up the endpoint first: %1").arg(invalid));
    mError->show();
    return;
  }
  mSettings->setPrompt(p);
  QDialog::accept();
}

}  // namespace kiln::app
