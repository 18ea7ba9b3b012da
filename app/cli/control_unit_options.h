#pragma once
// kiln-cli generate's repeatable ControlNet units:
//
//   --controlnet MODEL --control-image IMG [--control-weight W] [--control-start S] [--control-end E]
//                      [--control-mode balanced|prompt|controlnet] [--control-resize just|crop|fill]
//                      [--control-module NAME [--control-resolution N | --control-pixel-perfect]
//                       [--control-param KEY=VALUE ...] [--control-mask MASK]]
//
// Each --controlnet starts a unit; the --control-* options after it (up to the next --controlnet)
// belong to it. With one --controlnet the --control-* options may stand anywhere (the single-unit
// form of earlier versions; --control-scale stays an alias of --control-weight). QCommandLineParser
// keeps no order between different options, so the units are taken out of the argument list
// before it parses the rest. A new per-unit option is one row of the table in
// control_unit_options.cpp and one field here.

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <stdexcept>
#include <string>

#include "control/geometry.h"
#include "control/preprocessor.h"

namespace kiln::cli {

struct ControlUnitOptions {
  QString model;  // --controlnet
  QString image;  // --control-image
  std::optional<double> weight, start, end;
  QString mode;  // --control-mode as given (balanced, prompt, controlnet); empty = balanced
  // --control-resize; A1111's default is Crop and Resize.
  std::optional<control::ResizeMode> resize;
  QString module;                      // --control-module; empty: the image is the map (A1111's "none")
  std::optional<int> resolution;       // --control-resolution
  bool pixelPerfect = false;           // --control-pixel-perfect
  control::PreprocessorParams params;  // --control-param KEY=VALUE, repeatable
  QString mask;  // --control-mask: the inpaint modules' mask (white = repaint)
};

struct ControlUnitArguments {
  QStringList rest;  // every other argument, in order, for QCommandLineParser
  QList<ControlUnitOptions> units;
};

// A usage mistake in the unit options (exit code 2); the message names the option and the unit.
class ControlUnitUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The per-unit option names, for --help: {name, value name, help}.
struct ControlUnitOptionHelp {
  const char* name;
  const char* value;  // null for a flag
  const char* help;
};
QList<ControlUnitOptionHelp> controlUnitOptionHelp();

// Takes the unit options out of `args` (both "--name value" and "--name=value"; flags take no
// value). Throws ControlUnitUsageError for an option before any --controlnet (with several units),
// an option (or a --control-param key) given twice for one unit, a value that is not a number,
// mode or KEY=VALUE, a unit without an image, --control-resolution with --control-pixel-perfect,
// preprocessor settings without --control-module, an inpaint module (inpaint, inpaint_only)
// without --control-mask, or --control-mask with a module that takes none.
ControlUnitArguments splitControlUnits(const QStringList& args);

}  // namespace kiln::cli
