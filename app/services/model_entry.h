#pragma once
// One model of the library as the pages show it: where it is, how far Kiln got with it, and
// what it found (or why it failed).

#include <QMetaType>
#include <QString>

#include "bridge/error_message.h"
#include "bridge/model_summary.h"

namespace kiln::app {

struct ModelEntry {
  enum class Status {
    Inspecting,  // reading the headers
    HashQueued,  // known; its sha256 waits for its turn
    Hashing,     // known; hashPercent of its weights hashed
    Ready,       // known and hashed (or nothing to hash)
    Failed,      // not a model Kiln can read: see `error`
  };

  QString path;
  bool isFolder = false;
  qint64 size = 0;  // bytes on disk, known from the scan before inspection ends
  Status status = Status::Inspecting;
  int hashPercent = 0;
  ModelSummary summary;  // filled from HashQueued on
  UserMessage error;     // filled when Failed

  // The file name, or the folder's name for a diffusers folder.
  QString name() const;
  bool isKnown() const { return status == Status::HashQueued || status == Status::Hashing || status == Status::Ready; }
  bool isWorking() const { return status == Status::Inspecting || status == Status::HashQueued || status == Status::Hashing; }
};

inline QString ModelEntry::name() const {
  const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
  return slash < 0 ? path : path.mid(slash + 1);
}

}  // namespace kiln::app

Q_DECLARE_METATYPE(kiln::app::ModelEntry)
