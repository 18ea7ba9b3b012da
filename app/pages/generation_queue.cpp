#include "pages/generation_queue.h"

#include <QRandomGenerator>

namespace kiln::app {

GenerationQueue::GenerationQueue(QObject* parent) : QAbstractListModel(parent) {
  for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
    connect(this, signal, this, [this] { Q_EMIT countChanged(count()); });
  connect(this, &QAbstractItemModel::modelReset, this, [this] { Q_EMIT countChanged(count()); });
}

int GenerationQueue::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : count(); }

QVariant GenerationQueue::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= count()) return {};
  const Entry& e = mEntries.at(index.row());
  const bridge::GenerationParameters& p = e.job.parameters;
  if (role == Qt::DisplayRole) {
    QString prompt = p.prompt.simplified();
    if (prompt.size() > 48) prompt = prompt.left(47) + QStringLiteral("…");
    QString size = QStringLiteral("%1×%2").arg(p.width).arg(p.height);
    if (p.hires) size += QStringLiteral(" ↑%1").arg(p.hires->scale);
    const int images = e.job.batchCount * e.job.batchSize;
    return tr("%1 · %2 · %3 steps · seed %4%5")
        .arg(prompt.isEmpty() ? tr("(no prompt)") : prompt, size)
        .arg(p.steps)
        .arg(p.seed)
        .arg(images > 1 ? tr(" · %n images", nullptr, images) : QString());
  }
  if (role == Qt::ToolTipRole)
    return tr("%1\nModel: %2\n%3").arg(p.prompt, e.modelName, e.job.initImage.isNull() ? tr("Text to image")
                                                                                  : e.job.mask.isNull() ? tr("Image to image")
                                                                                                        : tr("Inpaint"));
  return {};
}

void GenerationQueue::append(const Entry& entry) {
  beginInsertRows({}, count(), count());
  mEntries.push_back(entry);
  endInsertRows();
}

GenerationQueue::Entry GenerationQueue::takeFirst() {
  beginRemoveRows({}, 0, 0);
  Entry e = mEntries.takeFirst();
  endRemoveRows();
  return e;
}

void GenerationQueue::moveUp(int row) {
  if (row <= 0 || row >= count()) return;
  beginMoveRows({}, row, row, {}, row - 1);
  mEntries.move(row, row - 1);
  endMoveRows();
}

void GenerationQueue::moveDown(int row) {
  if (row < 0 || row + 1 >= count()) return;
  beginMoveRows({}, row, row, {}, row + 2);
  mEntries.move(row, row + 1);
  endMoveRows();
}

void GenerationQueue::remove(int row) {
  if (row < 0 || row >= count()) return;
  beginRemoveRows({}, row, row);
  mEntries.removeAt(row);
  endRemoveRows();
}

void GenerationQueue::repeat(int row, quint64 id) {
  if (row < 0 || row >= count()) return;
  Entry copy = mEntries.at(row);
  copy.job.id = id;
  if (copy.randomSeed) copy.job.parameters.seed = QRandomGenerator::global()->generate();
  beginInsertRows({}, row + 1, row + 1);
  mEntries.insert(row + 1, copy);
  endInsertRows();
}

void GenerationQueue::clear() {
  if (mEntries.isEmpty()) return;
  beginResetModel();
  mEntries.clear();
  endResetModel();
}

}  // namespace kiln::app
