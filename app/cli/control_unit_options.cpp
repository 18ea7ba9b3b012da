#include "cli/control_unit_options.h"

#include <cmath>
#include <functional>

#include "base/error.h"

namespace kiln::cli {

namespace {

std::string unitName(qsizetype index) { return "ControlNet unit " + std::to_string(index + 1); }

double number(const QString& option, const QString& value, qsizetype unit) {
  bool ok = false;
  const double v = value.toDouble(&ok);
  if (!ok || !std::isfinite(v))
    throw ControlUnitUsageError("--" + option.toStdString() + " of " + unitName(unit) + " takes a number, got '" +
                                value.toStdString() + "'");
  return v;
}

// One row per option a unit takes (besides --controlnet): how its value is stored, and whether
// the unit already has one (given twice = a mistake; repeatable options answer false and check
// their own duplicates). `value` is null for a flag, which takes none.
struct UnitOption {
  const char* name;
  const char* value;
  const char* help;
  std::function<bool(const ControlUnitOptions&)> isSet;
  std::function<void(ControlUnitOptions&, const QString& option, const QString& value, qsizetype unit)> set;
};

// --control-param KEY=VALUE: the preprocessor checks the key and range later (exit 1, naming
// the allowed keys); here only the form.
void addParam(ControlUnitOptions& u, const QString& option, const QString& value, qsizetype unit) {
  const qsizetype eq = value.indexOf(QLatin1Char('='));
  bool ok = false;
  const double v = eq > 0 ? value.mid(eq + 1).toDouble(&ok) : 0.0;
  if (eq <= 0 || !ok || !std::isfinite(v))
    throw ControlUnitUsageError("--" + option.toStdString() + " of " + unitName(unit) +
                                " takes KEY=VALUE with a number, e.g. low_threshold=50, got '" + value.toStdString() +
                                "'");
  const std::string key = value.left(eq).toStdString();
  if (!u.params.emplace(key, v).second)
    throw ControlUnitUsageError("--" + option.toStdString() + " " + key + " is given twice for " + unitName(unit));
}

const QList<UnitOption>& unitOptions() {
  static const QList<UnitOption> options{
      {"control-image", "FILE",
       "The unit's image: the control map itself (edges, pose, depth...), or with --control-module the "
       "picture to preprocess. Fitted to the output size (--control-resize).",
       [](const ControlUnitOptions& u) { return !u.image.isEmpty(); },
       [](ControlUnitOptions& u, const QString&, const QString& v, qsizetype) { u.image = v; }},
      {"control-weight", "W", "The unit's weight (conditioning scale, default 1).",
       [](const ControlUnitOptions& u) { return u.weight.has_value(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) { u.weight = number(o, v, i); }},
      {"control-scale", "W", "Same as --control-weight (earlier name).",
       [](const ControlUnitOptions& u) { return u.weight.has_value(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) { u.weight = number(o, v, i); }},
      {"control-start", "S", "Fraction of the steps where the unit starts guiding (default 0).",
       [](const ControlUnitOptions& u) { return u.start.has_value(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) { u.start = number(o, v, i); }},
      {"control-end", "E", "Fraction of the steps where it stops (default 1).",
       [](const ControlUnitOptions& u) { return u.end.has_value(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) { u.end = number(o, v, i); }},
      {"control-mode", "MODE",
       "balanced (default), prompt (\"My prompt is more important\") or controlnet (\"ControlNet is more important\").",
       [](const ControlUnitOptions& u) { return !u.mode.isEmpty(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) {
         if (v != QLatin1String("balanced") && v != QLatin1String("prompt") && v != QLatin1String("controlnet"))
           throw ControlUnitUsageError("--control-mode of " + unitName(i) +
                                       " must be balanced, prompt or controlnet, got '" + v.toStdString() + "'");
         u.mode = v;
       }},
      {"control-resize", "MODE",
       "How the map is fitted to the output size: just (stretch), crop (cover, crop the centre; default: "
       "A1111's \"Crop and Resize\") or fill (fit inside, fill the border: \"Resize and Fill\").",
       [](const ControlUnitOptions& u) { return u.resize.has_value(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) {
         try {
           u.resize = control::parse_resize_mode(v.toStdString());
         } catch (const Error&) {
           throw ControlUnitUsageError("--" + o.toStdString() + " of " + unitName(i) +
                                       " must be just, crop or fill, got '" + v.toStdString() + "'");
         }
       }},
      {"control-module", "NAME",
       "Preprocesses the unit's image first with this preprocessor (canny, depth_anything_v2, ...; "
       "kiln-cli control list shows them). Default none: the image is the map.",
       [](const ControlUnitOptions& u) { return !u.module.isEmpty(); },
       [](ControlUnitOptions& u, const QString&, const QString& v, qsizetype) { u.module = v; }},
      {"control-resolution", "N", "The preprocessor's resolution (default 512).",
       [](const ControlUnitOptions& u) { return u.resolution.has_value(); },
       [](ControlUnitOptions& u, const QString& o, const QString& v, qsizetype i) {
         bool ok = false;
         u.resolution = v.toInt(&ok);
         if (!ok)
           throw ControlUnitUsageError("--" + o.toStdString() + " of " + unitName(i) + " takes a whole number, got '" +
                                       v.toStdString() + "'");
       }},
      {"control-pixel-perfect", nullptr,
       "The preprocessor's resolution from the image and output sizes, as A1111's Pixel Perfect computes it.",
       [](const ControlUnitOptions& u) { return u.pixelPerfect; },
       [](ControlUnitOptions& u, const QString&, const QString&, qsizetype) { u.pixelPerfect = true; }},
      {"control-mask", "MASK",
       "With an inpaint module (inpaint, inpaint_only; required there): the mask of the unit's image, the same "
       "size, white (or opaque) = repaint, as the app's mask. The unit guides with the image outside the mask.",
       [](const ControlUnitOptions& u) { return !u.mask.isEmpty(); },
       [](ControlUnitOptions& u, const QString&, const QString& v, qsizetype) { u.mask = v; }},
      {"control-param", "KEY=VALUE",
       "A preprocessor parameter, e.g. low_threshold=50 (repeatable; kiln-cli control list shows them).",
       [](const ControlUnitOptions&) { return false; }, addParam},
  };
  return options;
}

}  // namespace

QList<ControlUnitOptionHelp> controlUnitOptionHelp() {
  QList<ControlUnitOptionHelp> help{{"controlnet", "PATH",
                                     "Starts a ControlNet unit (a folder or single file); repeat for several units. "
                                     "The --control-* options after it belong to it."}};
  for (const UnitOption& o : unitOptions()) help.push_back({o.name, o.value, o.help});
  return help;
}

ControlUnitArguments splitControlUnits(const QStringList& args) {
  struct Given {
    const UnitOption* option;
    QString value;
    qsizetype before;  // units started before it
  };
  ControlUnitArguments out;
  QList<Given> given;
  for (qsizetype i = 0; i < args.size(); ++i) {
    const QString& arg = args[i];
    if (!arg.startsWith(QLatin1String("--"))) {
      out.rest << arg;
      continue;
    }
    const qsizetype eq = arg.indexOf(QLatin1Char('='));
    const QString name = arg.mid(2, eq < 0 ? -1 : eq - 2);
    const UnitOption* option = nullptr;
    for (const UnitOption& o : unitOptions()) {
      if (name == QLatin1String(o.name)) option = &o;
    }
    if (!option && name != QLatin1String("controlnet")) {
      out.rest << arg;
      continue;
    }
    QString value;
    if (option && !option->value) {
      if (eq >= 0) throw ControlUnitUsageError("--" + name.toStdString() + " takes no value");
    } else if (eq >= 0) {
      value = arg.mid(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw ControlUnitUsageError("--" + name.toStdString() + " needs a value");
    }
    if (!option) {
      ControlUnitOptions unit;
      unit.model = value;
      out.units.push_back(unit);
      continue;
    }
    given.push_back({option, value, out.units.size()});
  }
  // One unit: its options may stand anywhere (the single-unit form of earlier versions).
  for (const Given& g : given) {
    const QString optionName = QLatin1String(g.option->name);
    if (out.units.isEmpty())
      throw ControlUnitUsageError("--" + optionName.toStdString() + " needs a --controlnet to belong to");
    if (g.before == 0 && out.units.size() > 1)
      throw ControlUnitUsageError("--" + optionName.toStdString() +
                                  " comes before the first --controlnet: with several units, each --controlnet "
                                  "starts one and the --control-* options after it belong to it");
    const qsizetype unit = out.units.size() == 1 ? 0 : g.before - 1;
    ControlUnitOptions& u = out.units[unit];
    if (g.option->isSet(u))
      throw ControlUnitUsageError(
          "--" + optionName.toStdString() + " is given twice for " + unitName(unit) +
          (optionName == QLatin1String("control-scale") || optionName == QLatin1String("control-weight")
               ? std::string(" (--control-scale and --control-weight are the same option)")
               : std::string()));
    g.option->set(u, optionName, g.value, unit);
  }
  for (qsizetype k = 0; k < out.units.size(); ++k) {
    const ControlUnitOptions& u = out.units[k];
    if (u.image.isEmpty())
      throw ControlUnitUsageError(unitName(k) + " (--controlnet " + u.model.toStdString() + ") has no --control-image");
    if (u.resolution && u.pixelPerfect)
      throw ControlUnitUsageError("--control-resolution and --control-pixel-perfect of " + unitName(k) +
                                  " exclude each other (Pixel Perfect computes the resolution)");
    // Without a module the image is the map: preprocessor settings would be silently unused.
    if (u.module.isEmpty()) {
      const char* orphan = u.resolution        ? "--control-resolution"
                           : u.pixelPerfect    ? "--control-pixel-perfect"
                           : !u.params.empty() ? "--control-param"
                           : !u.mask.isEmpty() ? "--control-mask"
                                               : nullptr;
      if (orphan)
        throw ControlUnitUsageError(std::string(orphan) + " of " + unitName(k) +
                                    " sets the preprocessor, but the unit has no --control-module");
    }
    // Inpaint modules take the mask; the others none (an unknown module is refused later, with
    // the list of names).
    if (const auto p = u.module.isEmpty() ? nullptr : control::find_preprocessor(u.module.toStdString())) {
      if (p->takes_mask && u.mask.isEmpty())
        throw ControlUnitUsageError(unitName(k) + " (--control-module " + u.module.toStdString() +
                                    ") needs --control-mask MASK.png: white = the part to repaint");
      if (!p->takes_mask && !u.mask.isEmpty())
        throw ControlUnitUsageError("--control-mask of " + unitName(k) +
                                    " is for the inpaint modules (inpaint, inpaint_only), not '" +
                                    u.module.toStdString() + "'");
    }
  }
  return out;
}

}  // namespace kiln::cli
