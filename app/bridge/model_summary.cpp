#include "bridge/model_summary.h"

#include <QHash>

#include <algorithm>

#include "convert/model_info.h"

namespace kiln::app {

namespace {

QString fromPath(const std::filesystem::path& p) { return p.empty() ? QString() : QString::fromStdString(p.string()); }

QString fromView(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

}  // namespace

qint64 ModelSummary::parameters() const {
  qint64 n = 0;
  for (const auto& c : components) n += c.parameters;
  return n;
}

QStringList ModelSummary::dtypes() const {
  QHash<QString, qint64> counts;
  for (const auto& c : components) {
    for (const auto& [dtype, n] : c.dtypes) counts[dtype] += n;
  }
  QStringList names = counts.keys();
  std::sort(names.begin(), names.end(), [&](const QString& a, const QString& b) {
    return counts[a] != counts[b] ? counts[a] > counts[b] : a < b;
  });
  return names;
}

ModelSummary ModelSummary::fromModelInfo(const convert::ModelInfo& info) {
  ModelSummary s;
  s.path = fromPath(info.path);
  s.isFolder = info.is_folder;
  s.format = QString::fromStdString(info.format);
  s.sizeBytes = info.size_bytes;
  s.family = fromView(convert::to_string(info.detection.family));
  s.layout = fromView(convert::to_string(info.detection.layout));
  for (const auto& e : info.detection.evidence) s.evidence << QString::fromStdString(e);
  s.prediction = fromView(convert::to_string(info.prediction.type));
  s.predictionSource = QString::fromStdString(info.prediction.source);
  for (const auto& c : info.components) {
    ComponentSummary cs;
    cs.name = QString::fromStdString(c.name);
    cs.className = QString::fromStdString(c.class_name);
    cs.parameters = c.parameters;
    cs.tensors = static_cast<qint64>(c.tensors);
    for (const auto& [dtype, n] : c.dtypes) cs.dtypes.append({QString::fromStdString(dtype), n});
    s.components.append(std::move(cs));
  }
  for (const auto& [key, value] : info.metadata) {
    s.metadata.append({QString::fromStdString(key), QString::fromStdString(value)});
  }
  s.hashedFile = fromPath(info.hashed_file);
  if (info.sha256) s.sha256 = QString::fromStdString(*info.sha256);
  for (const auto& w : info.warnings) s.warnings << QString::fromStdString(w);
  return s;
}

}  // namespace kiln::app
