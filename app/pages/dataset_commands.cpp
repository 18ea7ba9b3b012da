#include "pages/dataset_commands.h"

#include <utility>

namespace kiln::app {

CropCommand::CropCommand(DatasetEditing* editing, const QString& output, const QRect& before, const QRect& after)
    : mEditing(editing), mOutput(output), mBefore(before), mAfter(after) {}

void CropCommand::undo() { mEditing->applyCrop(mOutput, mBefore); }
void CropCommand::redo() { mEditing->applyCrop(mOutput, mAfter); }

CaptionCommand::CaptionCommand(DatasetEditing* editing, QList<CaptionChange> changes, const QString& text, bool typing)
    : QUndoCommand(text), mEditing(editing), mChanges(std::move(changes)), mTyping(typing) {}

void CaptionCommand::undo() {
  for (const CaptionChange& c : mChanges) mEditing->applyCaption(c.output, c.before);
}

void CaptionCommand::redo() {
  for (const CaptionChange& c : mChanges) mEditing->applyCaption(c.output, c.after);
}

bool CaptionCommand::mergeWith(const QUndoCommand* other) {
  const auto* next = static_cast<const CaptionCommand*>(other);
  if (!next->mTyping || mChanges.size() != 1 || next->mChanges.size() != 1 ||
      next->mChanges.front().output != mChanges.front().output)
    return false;
  mChanges.front().after = next->mChanges.front().after;
  return true;
}

RemoveCommand::RemoveCommand(DatasetEditing* editing, QStringList outputs, const QString& text)
    : mEditing(editing), mOutputs(std::move(outputs)) {
  setText(text);
}

void RemoveCommand::redo() { mEditing->setRemoved(mOutputs, true); }
void RemoveCommand::undo() { mEditing->setRemoved(mOutputs, false); }

}  // namespace kiln::app
