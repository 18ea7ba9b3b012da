#pragma once
// Where a model file comes from, as a user writes it: a Hugging Face file, a Civitai model
// version, or a plain URL. Parsed from the short forms kiln-cli takes (hf:OWNER/REPO/FILE[@REV],
// civitai:VERSION) and from links pasted out of a browser (huggingface.co/.../blob|resolve/...,
// civitai.com/models/...?modelVersionId=..., civitai.com/api/download/models/...).
// Qt Core only; no network here.

#include <QString>
#include <QUrl>

#include <optional>

namespace kiln::downloads {

struct SourceSpec {
  enum class Type { HuggingFace, Civitai, Url };
  Type type = Type::Url;
  // Hugging Face: "owner/name", the file's path in the repo, a branch, tag or commit.
  QString repo;
  QString file;
  QString revision = QStringLiteral("main");
  // Civitai: the model version's id.
  qint64 civitaiVersion = 0;
  // Url: the address as given.
  QUrl url;

  // The short form: "hf:owner/name/path/file.safetensors@rev", "civitai:1234", or the URL.
  QString toString() const;
  // The file name the download gets when none is given: the Hugging Face file's last path
  // component, the URL path's; empty for Civitai (known once its file list is read).
  QString defaultFileName() const;
  // The page a person opens to read the licence or accept a gated repo's terms.
  QString pageUrl() const;

  bool operator==(const SourceSpec&) const = default;
};

// Parses a short form or a link. Returns nothing, with `error` set to one line, when the text is
// neither (or names a Civitai model without a version, or a Hugging Face repo without a file).
std::optional<SourceSpec> parseSource(const QString& text, QString* error);

// Hugging Face's address: $HF_ENDPOINT (huggingface_hub's variable, for mirrors) or
// https://huggingface.co, without a trailing slash.
QString huggingFaceEndpoint();
// Civitai's address: $KILN_CIVITAI_ENDPOINT (tests, mirrors) or https://civitai.com.
QString civitaiEndpoint();
// The resolve URL of a Hugging Face file: ENDPOINT/owner/name/resolve/REV/path (each part
// percent-encoded).
QUrl huggingFaceResolveUrl(const SourceSpec& source);
// A URL fit for a log or a message: no user info, no query (Civitai tokens travel there).
QString redactedUrl(const QUrl& url);

}  // namespace kiln::downloads
