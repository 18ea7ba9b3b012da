#pragma once
// The Dataset page's undoable edits: moving a crop box (undo regenerates the output with the
// box before) and changing captions (one image typed, or a bulk operation over many; undo
// writes the texts before, removing caption files that did not exist).

#include <QList>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QUndoCommand>

#include <optional>

namespace kiln::app {

// What the commands act through (the page).
class DatasetEditing {
 public:
  virtual ~DatasetEditing() = default;
  // Regenerates `output` from its original with `crop` (asynchronously).
  virtual void applyCrop(const QString& output, const QRect& crop) = 0;
  // Writes the caption of `output`; nullopt removes its caption file.
  virtual void applyCaption(const QString& output, const std::optional<QString>& caption) = 0;
  // Moves images (output, caption, sidecar) to the dataset's `.removed` folder, or back.
  virtual void setRemoved(const QStringList& outputs, bool removed) = 0;
};

// Takes images out of the dataset; undo puts them back as they were.
class RemoveCommand : public QUndoCommand {
 public:
  RemoveCommand(DatasetEditing* editing, QStringList outputs, const QString& text);
  void undo() override;
  void redo() override;

 private:
  DatasetEditing* mEditing;
  QStringList mOutputs;
};

class CropCommand : public QUndoCommand {
 public:
  CropCommand(DatasetEditing* editing, const QString& output, const QRect& before, const QRect& after);
  void undo() override;
  void redo() override;

 private:
  DatasetEditing* mEditing;
  QString mOutput;
  QRect mBefore;
  QRect mAfter;
};

struct CaptionChange {
  QString output;
  std::optional<QString> before;
  std::optional<QString> after;
};

class CaptionCommand : public QUndoCommand {
 public:
  // `typing`: one image's caption as it is typed; consecutive typing on the same image merges
  // into one step.
  CaptionCommand(DatasetEditing* editing, QList<CaptionChange> changes, const QString& text, bool typing);
  void undo() override;
  void redo() override;
  int id() const override { return mTyping ? 1 : -1; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  DatasetEditing* mEditing;
  QList<CaptionChange> mChanges;
  bool mTyping;
};

}  // namespace kiln::app
