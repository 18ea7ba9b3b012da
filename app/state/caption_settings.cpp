#include "state/caption_settings.h"

#include <algorithm>

#include "state/app_settings.h"

namespace kiln::app {

namespace {

const QString kGroup = QStringLiteral("captioning");

}  // namespace

// The same file and format as AppSettings: the user's native settings, or a test's INI file.
CaptionSettings::CaptionSettings(const AppSettings* settings) {
  const QString file = settings->fileName();
  const bool ini = file.endsWith(QLatin1String(".ini"), Qt::CaseInsensitive);
  mSettings = std::make_unique<QSettings>(file, ini ? QSettings::IniFormat : QSettings::NativeFormat);
}

CaptionSettings::~CaptionSettings() { mSettings->sync(); }

QString CaptionSettings::presetId() const {
  return mSettings->value(kGroup + QStringLiteral("/preset"), QStringLiteral("llama-server")).toString();
}

void CaptionSettings::setPresetId(const QString& id) { mSettings->setValue(kGroup + QStringLiteral("/preset"), id); }

captioning::EndpointProfile CaptionSettings::profile() const {
  captioning::EndpointProfile p;
  if (const captioning::EndpointPreset* preset = captioning::findPreset(QStringLiteral("llama-server"))) p = preset->profile;
  mSettings->beginGroup(kGroup);
  p.name = mSettings->value(QStringLiteral("name"), p.name).toString();
  p.baseUrl = mSettings->value(QStringLiteral("baseUrl"), p.baseUrl).toString();
  p.model = mSettings->value(QStringLiteral("model"), p.model).toString();
  p.apiKeyEnv = mSettings->value(QStringLiteral("apiKeyEnv"), p.apiKeyEnv).toString();
  p.timeoutSeconds = std::clamp(mSettings->value(QStringLiteral("timeoutSeconds"), p.timeoutSeconds).toInt(), 5, 3600);
  p.concurrency = std::clamp(mSettings->value(QStringLiteral("concurrency"), p.concurrency).toInt(), 1, 64);
  p.maxImageSide = std::clamp(mSettings->value(QStringLiteral("maxImageSide"), p.maxImageSide).toInt(), 256, 4096);
  p.maxTokens = std::clamp(mSettings->value(QStringLiteral("maxTokens"), p.maxTokens).toInt(), 16, 4096);
  p.temperature = std::clamp(mSettings->value(QStringLiteral("temperature"), p.temperature).toDouble(), 0.0, 2.0);
  mSettings->endGroup();
  return p;
}

void CaptionSettings::setProfile(const captioning::EndpointProfile& p) {
  mSettings->beginGroup(kGroup);
  mSettings->setValue(QStringLiteral("name"), p.name);
  mSettings->setValue(QStringLiteral("baseUrl"), p.baseUrl);
  mSettings->setValue(QStringLiteral("model"), p.model);
  mSettings->setValue(QStringLiteral("apiKeyEnv"), p.apiKeyEnv);  // the variable's name only
  mSettings->setValue(QStringLiteral("timeoutSeconds"), p.timeoutSeconds);
  mSettings->setValue(QStringLiteral("concurrency"), p.concurrency);
  mSettings->setValue(QStringLiteral("maxImageSide"), p.maxImageSide);
  mSettings->setValue(QStringLiteral("maxTokens"), p.maxTokens);
  mSettings->setValue(QStringLiteral("temperature"), p.temperature);
  mSettings->endGroup();
}

captioning::PromptSettings CaptionSettings::prompt() const {
  captioning::PromptSettings p;
  mSettings->beginGroup(kGroup);
  p.preset = captioning::presetFromId(mSettings->value(QStringLiteral("promptPreset")).toString())
                 .value_or(captioning::PromptPreset::Subject);
  p.customTemplate = mSettings->value(QStringLiteral("customTemplate")).toString();
  p.className = mSettings->value(QStringLiteral("className")).toString();
  p.prefix = mSettings->value(QStringLiteral("prefix")).toString();
  p.suffix = mSettings->value(QStringLiteral("suffix")).toString();
  mSettings->endGroup();
  return p;
}

void CaptionSettings::setPrompt(const captioning::PromptSettings& p) {
  mSettings->beginGroup(kGroup);
  mSettings->setValue(QStringLiteral("promptPreset"), captioning::presetId(p.preset));
  mSettings->setValue(QStringLiteral("customTemplate"), p.customTemplate);
  mSettings->setValue(QStringLiteral("className"), p.className);
  mSettings->setValue(QStringLiteral("prefix"), p.prefix);
  mSettings->setValue(QStringLiteral("suffix"), p.suffix);
  mSettings->endGroup();
}

}  // namespace kiln::app
