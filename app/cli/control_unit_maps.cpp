#include "cli/control_unit_maps.h"

#include <QString>

#include <memory>
#include <string>

#include "base/error.h"
#include "control/control_map_fit.h"
#include "control/geometry.h"

namespace kiln::cli {

namespace {

std::string unitName(qsizetype index) { return "ControlNet unit " + std::to_string(index + 1); }

// The same error with the unit in front ("ControlNet unit 2: /maps/a.png: corrupt PNG image"),
// so that with several units the user knows which one; the kind stays for the exit code.
[[noreturn]] void rethrowForUnit(const Error& e, qsizetype index) {
  const std::string where = e.path().empty() ? std::string() : e.path().string() + ": ";
  throw Error(e.kind(), unitName(index) + ": " + where + e.message(), {}, e.hint());
}

// The unit's preprocessor ("none" without --control-module), or InvalidRequestError.
std::shared_ptr<const control::Preprocessor> preprocessorOf(const ControlUnitOptions& unit) {
  const std::string name = unit.module.isEmpty() ? std::string("none") : unit.module.toStdString();
  std::shared_ptr<const control::Preprocessor> p = control::find_preprocessor(name);
  if (!p) throw InvalidRequestError("unknown preprocessor '" + name + "'", "kiln-cli control list shows them");
  if (p->takes_mask && unit.mask.isEmpty())
    throw InvalidRequestError("preprocessor '" + p->name + "' needs a mask", "add --control-mask MASK.png (white = repaint)");
  return p;
}

ControlUnitMap cancelledMap() {
  ControlUnitMap out;
  out.cancelled = true;
  return out;
}

}  // namespace

void checkControlUnitModules(const QList<ControlUnitOptions>& units, const control::PreprocessorContext& context) {
  for (qsizetype i = 0; i < units.size(); ++i) {
    try {
      const auto p = preprocessorOf(units[i]);
      // Pixel Perfect's resolution depends on the sizes, known later; the default stands in.
      control::resolve_params(*p, units[i].resolution.value_or(p->default_resolution), units[i].params);
      control::find_preprocessor_weights(*p, context.annotator_dirs);  // every file it needs
    } catch (const Error& e) {
      rethrowForUnit(e, i);
    }
  }
}

ControlUnitMap prepareControlUnitMap(const ControlUnitOptions& unit, qsizetype index, int width, int height,
                                     const control::PreprocessorContext& context) {
  try {
    const auto p = preprocessorOf(unit);
    const control::ResizeMode mode = unit.resize.value_or(control::ResizeMode::CropAndResize);
    // A1111 (choose_input_image): an RGBA unit image is not composited over white; mostly
    // transparent strokes ("canvas scribble") become their alpha.
    if (context.stop.stop_requested()) return cancelledMap();
    control::ControlImage input = control::from_rgba_to_input(control::load_control_image(unit.image.toStdString()));
    if (p->takes_mask) {
      // RGBA whose alpha is the mask (A1111's choose_input_image); sizes must agree.
      const control::ControlImage mask = control::load_control_image(unit.mask.toStdString());
      if (mask.width != input.width || mask.height != input.height)
        throw InvalidRequestError("the mask " + unit.mask.toStdString() + " is " + std::to_string(mask.width) + "x" +
                                      std::to_string(mask.height) + " but the image " + unit.image.toStdString() +
                                      " is " + std::to_string(input.width) + "x" + std::to_string(input.height),
                                  "give --control-mask a mask of the image's size");
      input = control::make_inpaint_input(input, mask);
    }
    int resolution = unit.resolution.value_or(p->default_resolution);
    if (unit.pixelPerfect) {
      resolution = control::pixel_perfect_resolution(input.height, input.width, control::align_dim_latent(height),
                                                     control::align_dim_latent(width), mode);
    }
    const control::PreprocessorParams params = control::resolve_params(*p, resolution, unit.params);
    const control::ControlImage map = control::run_preprocessor(p->name, input, resolution, params, context);
    if (map.empty() || context.stop.stop_requested()) return cancelledMap();

    ControlUnitMap out;
    if (p->takes_mask)
      out.hint = control::inpaint_control(map, mode, height, width).hint;
    else
      out.map = control::fit_control_map(map, mode, height, width);
    out.use.module = QString::fromStdString(p->name);
    out.use.resizeMode = QString::fromLatin1(control::to_string(mode));
    out.use.processorRes = resolution;
    out.use.pixelPerfect = unit.pixelPerfect;
    // A1111 records the preprocessor's sliders in the unit's threshold_a / threshold_b slots.
    for (const control::PreprocessorParam& param : p->params) {
      if (param.slot == 1) out.use.thresholdA = params.at(param.key);
      if (param.slot == 2) out.use.thresholdB = params.at(param.key);
    }
    return out;
  } catch (const Error& e) {
    rethrowForUnit(e, index);
  }
}

}  // namespace kiln::cli
