#include "captioning/endpoint_profile.h"

#include <QHostAddress>
#include <QRegularExpression>

namespace kiln::captioning {

QByteArray EndpointProfile::apiKey() const {
  if (apiKeyEnv.trimmed().isEmpty()) return {};
  return qgetenv(apiKeyEnv.trimmed().toLatin1().constData()).trimmed();
}

bool EndpointProfile::isLocal() const {
  const QString host = QUrl(baseUrl).host();
  if (host == QLatin1String("localhost")) return true;
  const QHostAddress address(host);
  return !address.isNull() && address.isLoopback();
}

QUrl EndpointProfile::url(const QString& path) const {
  QString base = baseUrl.trimmed();
  while (base.endsWith(QLatin1Char('/'))) base.chop(1);
  return QUrl(base + QLatin1Char('/') + path);
}

QString EndpointProfile::validate() const {
  const QUrl u(baseUrl.trimmed(), QUrl::StrictMode);
  if (!u.isValid() || u.host().isEmpty() || (u.scheme() != QLatin1String("http") && u.scheme() != QLatin1String("https")))
    return QStringLiteral("the endpoint '%1' is not an http(s) URL (e.g. http://127.0.0.1:8080/v1)").arg(baseUrl);
  if (model.trimmed().isEmpty()) return QStringLiteral("no model name is given");
  if (timeoutSeconds < 5 || timeoutSeconds > 3600) return QStringLiteral("the timeout must be 5 to 3600 seconds");
  if (concurrency < 1 || concurrency > 64) return QStringLiteral("the concurrency must be 1 to 64");
  if (maxImageSide < 64 || maxImageSide > 4096) return QStringLiteral("the longest image side must be 64 to 4096 pixels");
  if (maxTokens < 16 || maxTokens > 8192) return QStringLiteral("max tokens must be 16 to 8192");
  if (temperature < 0 || temperature > 2) return QStringLiteral("the temperature must be 0 to 2");
  if (!apiKeyEnv.isEmpty() && !QRegularExpression(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$")).match(apiKeyEnv).hasMatch())
    return QStringLiteral("'%1' is not an environment variable name (the key itself is never entered here)").arg(apiKeyEnv);
  return {};
}

const QList<EndpointPreset>& endpointPresets() {
  static const QList<EndpointPreset> presets = [] {
    QList<EndpointPreset> p;
    auto add = [&p](const char* id, const char* label, const char* url, const char* model, const char* keyEnv,
                    int concurrency, const char* hint) {
      EndpointPreset e;
      e.id = QString::fromLatin1(id);
      e.label = QString::fromUtf8(label);
      e.profile.name = e.label;
      e.profile.baseUrl = QString::fromLatin1(url);
      e.profile.model = QString::fromLatin1(model);
      e.profile.apiKeyEnv = QString::fromLatin1(keyEnv);
      e.profile.concurrency = concurrency;
      e.hint = QString::fromUtf8(hint);
      p.push_back(e);
    };
    add("maverick-llama-api", "Llama 4 Maverick (Meta Llama API)", "https://api.llama.com/compat/v1",
        "Llama-4-Maverick-17B-128E-Instruct-FP8", "LLAMA_API_KEY", 4,
        "A key from llama.developer.meta.com in the LLAMA_API_KEY environment variable.");
    add("maverick-together", "Llama 4 Maverick (Together AI)", "https://api.together.xyz/v1",
        "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "TOGETHER_API_KEY", 4,
        "A key from api.together.ai in the TOGETHER_API_KEY environment variable.");
    add("maverick-openrouter", "Llama 4 Maverick (OpenRouter)", "https://openrouter.ai/api/v1",
        "meta-llama/llama-4-maverick", "OPENROUTER_API_KEY", 4,
        "A key from openrouter.ai in the OPENROUTER_API_KEY environment variable.");
    add("llama-server", "llama.cpp llama-server (this machine)", "http://127.0.0.1:8080/v1", "local-model", "", 1,
        "llama-server -m MODEL.gguf --mmproj MMPROJ.gguf --port 8080 (the projector gives it vision).");
    add("ollama", "Ollama (this machine)", "http://127.0.0.1:11434/v1", "llama4:maverick", "", 1,
        "ollama pull a vision model (llama4, gemma3, qwen2.5vl, llava) and use its name.");
    add("vllm", "vLLM (this machine)", "http://127.0.0.1:8000/v1", "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "",
        1, "vllm serve MODEL; the model name is the one it serves (GET /v1/models lists it).");
    add("lm-studio", "LM Studio (this machine)", "http://127.0.0.1:1234/v1", "local-model", "", 1,
        "Start LM Studio's server with a vision model loaded and use its identifier.");
    return p;
  }();
  return presets;
}

const EndpointPreset* findPreset(const QString& id) {
  for (const EndpointPreset& p : endpointPresets())
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace kiln::captioning
