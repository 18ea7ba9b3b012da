#pragma once
// A kiln-cli generate unit's image turned into the control map its ControlNet receives, the way
// sd-webui-controlnet does it (controlnet.py: choose_input_image's RGBA rule, Pixel Perfect, the
// preprocessor, detectmap_proc's resize modes), and what the PNG parameters record about it.

#include <QList>

#include <vector>

#include "bridge/generation_parameters.h"
#include "cli/control_unit_options.h"
#include "control/control_image.h"
#include "control/preprocessor.h"

namespace kiln::cli {

struct ControlUnitMap {
  control::ControlImage map;  // RGB at the output size (empty for inpaint units: see `hint`)
  // Inpaint units: 1x3xHxW float, what the inpaint ControlNet receives (RGB / 255, -1 where the
  // mask is set; control_map_fit's InpaintControl::hint).
  std::vector<float> hint;
  bool cancelled = false;  // context.stop ended the preprocessor: nothing else is set
  // Module, Resize Mode, Processor Res, Threshold A/B and Pixel Perfect as used; the caller adds
  // model, weight, guidance and control mode.
  bridge::ControlNetUnitUse use;
};

// What can be refused before any model is loaded: an unknown module, an inpaint module without
// its --control-mask, an unknown parameter, a value or resolution out of range,
// a network's weight file in none of `context.annotator_dirs`. Throws kiln::Error naming the unit.
void checkControlUnitModules(const QList<ControlUnitOptions>& units, const control::PreprocessorContext& context);

// Reads unit `index`'s image (and mask), preprocesses it (when it has a module) and fits the map
// to width x height. Errors (kiln::Error) name the unit. Returns `cancelled` when `context.stop`
// was requested before or during a network preprocessor.
ControlUnitMap prepareControlUnitMap(const ControlUnitOptions& unit, qsizetype index, int width, int height,
                                     const control::PreprocessorContext& context);

}  // namespace kiln::cli
