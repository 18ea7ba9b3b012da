#include "downloads/source_spec.h"

#include <QRegularExpression>
#include <QUrlQuery>

namespace kiln::downloads {

namespace {

bool isHuggingFaceHost(const QString& host) {
  const QString endpointHost = QUrl(huggingFaceEndpoint()).host();
  return host == QLatin1String("huggingface.co") || host == QLatin1String("www.huggingface.co") ||
         host == QLatin1String("hf.co") || (!endpointHost.isEmpty() && host == endpointHost);
}

bool isCivitaiHost(const QString& host) {
  const QString endpointHost = QUrl(civitaiEndpoint()).host();
  return host == QLatin1String("civitai.com") || host == QLatin1String("www.civitai.com") ||
         (!endpointHost.isEmpty() && host == endpointHost);
}

bool validRepoPart(const QString& s) {
  static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]*$"));
  return re.match(s).hasMatch() && !s.contains(QLatin1String(".."));
}

// A file path inside a repo: relative, no "..", no empty parts.
bool validRepoFile(const QString& f) {
  if (f.isEmpty() || f.startsWith(QLatin1Char('/')) || f.contains(QLatin1Char('\\'))) return false;
  for (const QString& part : f.split(QLatin1Char('/')))
    if (part.isEmpty() || part == QLatin1String(".") || part == QLatin1String("..")) return false;
  return true;
}

std::optional<SourceSpec> fail(QString* error, const QString& message) {
  if (error) *error = message;
  return std::nullopt;
}

std::optional<SourceSpec> huggingFace(const QString& repo, const QString& file, const QString& revision,
                                      const QString& original, QString* error) {
  const QStringList parts = repo.split(QLatin1Char('/'));
  if (parts.size() != 2 || !validRepoPart(parts[0]) || !validRepoPart(parts[1]))
    return fail(error, QStringLiteral("'%1': a Hugging Face repo is written owner/name").arg(original));
  if (!validRepoFile(file))
    return fail(error, QStringLiteral("'%1' names the repo %2 but no file in it (e.g. hf:%2/model.safetensors)")
                           .arg(original, repo));
  if (revision.isEmpty())
    return fail(error, QStringLiteral("'%1': empty revision").arg(original));
  SourceSpec s;
  s.type = SourceSpec::Type::HuggingFace;
  s.repo = repo;
  s.file = file;
  s.revision = revision;
  return s;
}

std::optional<SourceSpec> civitai(const QString& id, const QString& original, QString* error) {
  bool ok = false;
  const qint64 v = id.toLongLong(&ok);
  if (!ok || v <= 0)
    return fail(error, QStringLiteral("'%1': a Civitai model version is a positive number").arg(original));
  SourceSpec s;
  s.type = SourceSpec::Type::Civitai;
  s.civitaiVersion = v;
  return s;
}

}  // namespace

QString huggingFaceEndpoint() {
  QString e = qEnvironmentVariable("HF_ENDPOINT").trimmed();
  if (e.isEmpty()) e = QStringLiteral("https://huggingface.co");
  while (e.endsWith(QLatin1Char('/'))) e.chop(1);
  return e;
}

QString civitaiEndpoint() {
  QString e = qEnvironmentVariable("KILN_CIVITAI_ENDPOINT").trimmed();
  if (e.isEmpty()) e = QStringLiteral("https://civitai.com");
  while (e.endsWith(QLatin1Char('/'))) e.chop(1);
  return e;
}

QUrl huggingFaceResolveUrl(const SourceSpec& source) {
  QString path = QLatin1Char('/') + source.repo + QStringLiteral("/resolve/") +
                 QString::fromLatin1(QUrl::toPercentEncoding(source.revision)) + QLatin1Char('/');
  QStringList fileParts;
  for (const QString& part : source.file.split(QLatin1Char('/')))
    fileParts << QString::fromLatin1(QUrl::toPercentEncoding(part));
  path += fileParts.join(QLatin1Char('/'));
  return QUrl(huggingFaceEndpoint() + path, QUrl::StrictMode);
}

QString redactedUrl(const QUrl& url) {
  return url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment).toString();
}

QString SourceSpec::toString() const {
  switch (type) {
    case Type::HuggingFace:
      return QStringLiteral("hf:%1/%2").arg(repo, file) +
             (revision == QLatin1String("main") ? QString() : QLatin1Char('@') + revision);
    case Type::Civitai:
      return QStringLiteral("civitai:%1").arg(civitaiVersion);
    case Type::Url:
      return url.toString();
  }
  return {};
}

QString SourceSpec::defaultFileName() const {
  switch (type) {
    case Type::HuggingFace:
      return file.section(QLatin1Char('/'), -1);
    case Type::Civitai:
      return {};
    case Type::Url:
      return url.path().section(QLatin1Char('/'), -1);
  }
  return {};
}

QString SourceSpec::pageUrl() const {
  switch (type) {
    case Type::HuggingFace:
      return huggingFaceEndpoint() + QLatin1Char('/') + repo;
    case Type::Civitai:
      return civitaiEndpoint() + QStringLiteral("/model-versions/%1").arg(civitaiVersion);
    case Type::Url:
      return redactedUrl(url);
  }
  return {};
}

std::optional<SourceSpec> parseSource(const QString& input, QString* error) {
  const QString text = input.trimmed();
  if (text.isEmpty()) return fail(error, QStringLiteral("no source given"));

  if (text.startsWith(QLatin1String("hf:"))) {
    QString rest = text.mid(3);
    QString revision = QStringLiteral("main");
    const int at = rest.lastIndexOf(QLatin1Char('@'));
    if (at >= 0) {
      revision = rest.mid(at + 1);
      rest = rest.left(at);
      if (revision.isEmpty()) return fail(error, QStringLiteral("'%1': nothing after @ (a branch, tag or commit)").arg(text));
    }
    const int first = rest.indexOf(QLatin1Char('/'));
    const int second = first < 0 ? -1 : rest.indexOf(QLatin1Char('/'), first + 1);
    if (second < 0) return huggingFace(rest, QString(), revision, text, error);
    return huggingFace(rest.left(second), rest.mid(second + 1), revision, text, error);
  }
  if (text.startsWith(QLatin1String("civitai:"))) return civitai(text.mid(8), text, error);

  const QUrl url(text, QUrl::StrictMode);
  if (!url.isValid() || url.host().isEmpty() ||
      (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http")))
    return fail(error, QStringLiteral("'%1' is not a catalog id, hf:OWNER/REPO/FILE[@REV], civitai:VERSION or an "
                                      "http(s) link")
                           .arg(text));

  const QStringList parts = url.path().split(QLatin1Char('/'), Qt::SkipEmptyParts);
  // On huggingface.co itself every link is a repo's; on a mirror ($HF_ENDPOINT) other paths are
  // plain files.
  const bool hfHost = isHuggingFaceHost(url.host());
  const bool hfItself = hfHost && url.host() != QUrl(huggingFaceEndpoint()).host();
  if (hfHost && parts.size() >= 2) {
    // owner/name/(resolve|blob)/REV/path...
    const QString repo = parts[0] + QLatin1Char('/') + parts[1];
    if (parts.size() >= 5 && (parts[2] == QLatin1String("resolve") || parts[2] == QLatin1String("blob")))
      return huggingFace(repo, parts.mid(4).join(QLatin1Char('/')), parts[3], text, error);
    if (parts.size() >= 3 && parts[2] == QLatin1String("tree"))
      return fail(error, QStringLiteral("'%1' is a folder of %2: link one file (its download button)").arg(text, repo));
    if (hfItself || url.host() == QLatin1String("huggingface.co") || url.host() == QLatin1String("hf.co"))
      return huggingFace(repo, QString(), QStringLiteral("main"), text, error);
  }
  if (isCivitaiHost(url.host())) {
    const QUrlQuery query(url);
    if (query.hasQueryItem(QStringLiteral("modelVersionId")))
      return civitai(query.queryItemValue(QStringLiteral("modelVersionId")), text, error);
    // api/download/models/VERSION, api/v1/model-versions/VERSION, model-versions/VERSION
    if (parts.size() >= 4 && parts[0] == QLatin1String("api") && parts[1] == QLatin1String("download") &&
        parts[2] == QLatin1String("models"))
      return civitai(parts[3], text, error);
    if (parts.size() >= 2 && parts[parts.size() - 2] == QLatin1String("model-versions"))
      return civitai(parts.last(), text, error);
    if (parts.size() >= 2 && parts[0] == QLatin1String("models") && parts[1].toLongLong() > 0)
      return fail(error, QStringLiteral("'%1' names a Civitai model, not one of its versions: open the version you "
                                        "want and copy that link (it has ?modelVersionId=...)")
                             .arg(text));
  }
  SourceSpec s;
  s.type = SourceSpec::Type::Url;
  s.url = url;
  return s;
}

}  // namespace kiln::downloads
