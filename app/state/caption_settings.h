#pragma once
// What the Dataset page remembers about captions from a vision model: the endpoint profile (URL,
// model, the *name* of the environment variable holding the API key, never a key), the prompt
// (preset, custom template, class word, prefix, suffix). Kept in the same settings file as
// AppSettings (its own "captioning/" group).

#include <QSettings>
#include <QString>

#include <memory>

#include "captioning/caption_text.h"
#include "captioning/endpoint_profile.h"

namespace kiln::app {

class AppSettings;

class CaptionSettings {
 public:
  // Shares `settings`' file.
  explicit CaptionSettings(const AppSettings* settings);
  ~CaptionSettings();

  // The endpoint preset the profile was started from ("" when none).
  QString presetId() const;
  void setPresetId(const QString& id);
  // The profile as saved; without one, the llama-server preset's.
  captioning::EndpointProfile profile() const;
  void setProfile(const captioning::EndpointProfile& profile);
  // The prompt (token left empty: the page's instance token is used).
  captioning::PromptSettings prompt() const;
  void setPrompt(const captioning::PromptSettings& prompt);

 private:
  std::unique_ptr<QSettings> mSettings;
};

}  // namespace kiln::app
