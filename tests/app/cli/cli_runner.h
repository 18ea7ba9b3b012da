#pragma once
// Runs the kiln-cli under test (KILN_CLI, set by CMake) and collects what it printed.

#include <QByteArray>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <filesystem>

namespace kiln::test {

struct CliResult {
  int exitCode = -1;  // -1 when the process crashed or hung
  QByteArray out;
  QByteArray err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

inline QString q(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

// The whole file, empty when it cannot be read.
inline QByteArray fileBytes(const std::filesystem::path& p) {
  QFile f(q(p));
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

inline CliResult runCli(const QStringList& args, int timeoutMs = 120000) {
  QProcess p;
  p.start(QStringLiteral(KILN_CLI), args);
  p.waitForFinished(timeoutMs);
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
          p.readAllStandardError()};
}

}  // namespace kiln::test
