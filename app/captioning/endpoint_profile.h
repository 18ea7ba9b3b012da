#pragma once
// Where captions come from: an OpenAI-compatible chat-completions endpoint with a vision model
// (hosted Llama 4 Maverick, or llama.cpp's llama-server, Ollama, vLLM, LM Studio on this machine).
// A profile names the environment variable that holds the API key, never the key: keys are read
// from the environment when a request is made and are not stored in settings, project files or logs.

#include <QList>
#include <QString>
#include <QUrl>

namespace kiln::captioning {

struct EndpointProfile {
  QString name;                 // shown in lists ("llama-server on this machine")
  QString baseUrl;              // up to and including /v1, e.g. http://127.0.0.1:8080/v1
  QString model;                // the model id the server knows
  QString apiKeyEnv;            // e.g. "LLAMA_API_KEY"; empty: no key is sent
  int timeoutSeconds = 120;     // one request, from sending to the last byte
  int concurrency = 4;          // requests in flight (1 suits a local server)
  int maxImageSide = 1024;      // longest side of the JPEG sent
  int maxTokens = 300;
  double temperature = 0.2;

  // The key from the environment (empty when the variable is unset or not named).
  QByteArray apiKey() const;
  bool isLocal() const;  // localhost / 127.x / ::1
  QUrl url(const QString& path) const;  // baseUrl + "/" + path
  // Checks the fields; empty when usable, else one line naming the field.
  QString validate() const;
};

// Presets fill hints only (the user checks the model name and key variable).
struct EndpointPreset {
  QString id;           // "maverick-llama-api", "llama-server", "ollama", "vllm", "lm-studio"
  QString label;
  EndpointProfile profile;
  QString hint;         // one line: how to start or where to get a key
};
const QList<EndpointPreset>& endpointPresets();
const EndpointPreset* findPreset(const QString& id);

}  // namespace kiln::captioning
