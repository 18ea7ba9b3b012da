#pragma once
// The Generate page's queue: jobs made while another runs wait here, in order; the person
// reorders, removes or repeats them. A job is complete when queued (its parameters, seed, input
// images, masks, ControlNet maps, LoRAs), so editing the form afterwards changes nothing queued.

#include <QAbstractListModel>
#include <QList>

#include "jobs/engine_worker.h"

namespace kiln::app {

class GenerationQueue : public QAbstractListModel {
  Q_OBJECT

 public:
  struct Entry {
    GenerationJob job;
    bool randomSeed = false;  // drawn when queued; Repeat draws another
    QString modelName;
  };

  explicit GenerationQueue(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

  bool isEmpty() const { return mEntries.isEmpty(); }
  int count() const { return static_cast<int>(mEntries.size()); }
  const Entry& entry(int row) const { return mEntries.at(row); }

  void append(const Entry& entry);
  // The next job to run (removed from the queue); the queue must not be empty.
  Entry takeFirst();
  void moveUp(int row);
  void moveDown(int row);
  void remove(int row);
  // A copy of the row's job after it, with `id`; a new random seed when its seed was random.
  void repeat(int row, quint64 id);
  void clear();

 Q_SIGNALS:
  void countChanged(int count);

 private:
  QList<Entry> mEntries;
};

}  // namespace kiln::app
