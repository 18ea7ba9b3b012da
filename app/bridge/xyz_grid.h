#pragma once
// AUTOMATIC1111's X/Y/Z plot: up to three axes, each a kind and its values, every combination made
// with the rest of the settings unchanged; one labelled grid image (A1111's layout: X values as
// column headers, Y values as row headers, one grid per Z value side by side under its header).
//
// Axis text: "KIND:V1,V2,..." with KIND one of seed, steps, cfg, sampler, checkpoint, lora (the
// weight of the first LoRA), lora_file (the first LoRA's file, or a LoRA at weight 1 when there is
// none: how a LoRA training's checkpoints are compared; Kiln's, A1111 has no such axis), prompt (search/replace: the first value is searched in the prompt and
// the negative prompt and replaced by each value in turn, the first cell keeping the prompt as is).
// Whole-number axes (seed, steps) also take ranges: "10-30" (step 1) and "10-30 (+10)".

#include <QImage>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace kiln::bridge {

struct GridAxis {
  QString kind;        // seed | steps | cfg | sampler | checkpoint | lora | lora_file | prompt
  QStringList values;  // as given (ranges expanded)
  // The header of value i as A1111 writes it ("Steps: 20", "CFG Scale: 7", "checkpoint-500").
  QString label(int i) const;
  // A1111's name of the axis ("Steps", "CFG Scale", "Prompt S/R", ...).
  QString title() const;
  // The values as the PNG's "X Values" records them: joined by ", ", files by their names.
  QString valuesText() const;
};

// Parses "KIND:VALUES". Nothing with `error` set (one line) on an unknown kind, an empty list, or a
// value that is not a number where one is needed.
std::optional<GridAxis> parseGridAxis(const QString& text, QString* error);

// The cells in the order they are made: x fastest, then y, then z. `count` = product of sizes.
struct GridCellIndex {
  int x = 0, y = 0, z = 0;
};
QList<GridCellIndex> gridCells(const GridAxis* x, const GridAxis* y, const GridAxis* z);

// The grid of `cells` (in gridCells order, all the same size; a missing axis counts as one value
// without a header). Needs a QGuiApplication (fonts).
QImage composeGrid(const QList<QImage>& cells, const GridAxis* x, const GridAxis* y, const GridAxis* z);

}  // namespace kiln::bridge
