#pragma once
// Inspects models and hashes their weights off the GUI thread. One persistent instance lives
// in its own QThread; jobs arrive as queued calls of run() and results leave as signals that
// carry values. A job ends early, with cancelled(), once its stop token is requested.

#include <QObject>
#include <QString>

#include <stop_token>

#include "bridge/error_message.h"
#include "bridge/model_summary.h"

namespace kiln::app {

struct InspectJob {
  enum class Kind {
    Inspect,  // what the model is, from headers (fast: no tensor data is read)
    Hash,     // sha256 of `hashedFile` (reads every byte)
  };
  quint64 id = 0;
  Kind kind = Kind::Inspect;
  QString path;
  QString hashedFile;
  std::stop_token stop;
};

class InspectWorker : public QObject {
  Q_OBJECT

 public:
  explicit InspectWorker(QObject* parent = nullptr);

  // Runs `job` on this object's thread; call it through a queued invocation.
  void run(const kiln::app::InspectJob& job);

 Q_SIGNALS:
  void started(quint64 id);
  void inspected(quint64 id, const kiln::app::ModelSummary& summary);
  // Sent when the whole percentage changes, so at most ~100 times per file.
  void hashProgress(quint64 id, quint64 done, quint64 total);
  void hashed(quint64 id, const QString& sha256);
  void failed(quint64 id, const kiln::app::UserMessage& message);
  void cancelled(quint64 id);

 private:
  void inspect(const InspectJob& job);
  void hash(const InspectJob& job);
};

}  // namespace kiln::app
