#pragma once
// Runs the kiln-cli under test (KILN_CLI, set by CMake) and collects what it printed.

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

namespace kiln::test {

struct CliResult {
  int exitCode = -1;  // -1 when the process crashed or hung
  QByteArray out;
  QByteArray err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

inline CliResult runCli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(KILN_CLI), args);
  p.waitForFinished(120000);
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
          p.readAllStandardError()};
}

}  // namespace kiln::test
