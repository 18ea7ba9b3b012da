#pragma once
// Small helpers the API server's files share (not part of the API's interface).

#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <filesystem>
#include <vector>

namespace kiln::api {

// The model folders as paths: where preprocessors' annotator weights are looked for.
std::vector<std::filesystem::path> annotatorDirs(const QStringList& folders);
// A string, or JSON null when it is empty (A1111 sends null for unknown hashes).
QJsonValue orNull(const QString& s);

}  // namespace kiln::api
