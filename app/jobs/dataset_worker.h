#pragma once
// Runs the dataset engine off the GUI thread (DESIGN §3). The Dataset page keeps two of these,
// each in its own QThread: one imports (zip extraction, then prepare_dataset with progress,
// cancelled through its stop token), the other serves the crop editor (decoding originals to
// look at and regenerating outputs from moved crops, in the order asked). Signals carry values.

#include <QImage>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QRect>
#include <QString>
#include <QStringList>

#include <stop_token>

#include "bridge/error_message.h"

namespace kiln::app {

struct DatasetImportJob {
  quint64 id = 0;
  QStringList sources;  // image files, folders and .zip files
  QString outputFolder;
  int resolution = 512;
  QString instanceToken;
  bool filenameCaptions = false;
  std::stop_token stop;
};

struct DatasetImportItem {
  QString source;
  QString output;  // empty when skipped
  QString status;  // "ok", "warning", "skipped"
  QString reason;  // the engine's words (English)
};

struct DatasetImportResult {
  QList<DatasetImportItem> items;
  QStringList notes;  // about the run (ignored zip entries, an unreadable landmark model, ...)
  bool cancelled = false;

  int skipped() const;
};

class DatasetWorker : public QObject {
  Q_OBJECT

 public:
  explicit DatasetWorker(QObject* parent = nullptr);

  // On this object's thread (queued calls).
  void import(const kiln::app::DatasetImportJob& job);
  // A shrunk upright copy of an original (boxes refer to `displayed`), for the crop editor.
  void loadOriginal(quint64 id, const QString& source, int maxSide);
  void regenerate(quint64 id, const QString& output, const QRect& crop);

 Q_SIGNALS:
  void importProgress(quint64 id, int done, int total, const QString& name);
  void importFinished(quint64 id, const kiln::app::DatasetImportResult& result);
  void importFailed(quint64 id, const kiln::app::UserMessage& message);
  void originalLoaded(quint64 id, const QString& source, const QImage& image, const QSize& displayed);
  void originalFailed(quint64 id, const QString& source, const kiln::app::UserMessage& message);
  void regenerated(quint64 id, const QString& output, const QRect& crop);
  void regenerateFailed(quint64 id, const QString& output, const kiln::app::UserMessage& message);
};

}  // namespace kiln::app

Q_DECLARE_METATYPE(kiln::app::DatasetImportJob)
Q_DECLARE_METATYPE(kiln::app::DatasetImportResult)
