#include "cli/control_unit_options.h"

#include <cmath>
#include <functional>

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
// the unit already has one (given twice = a mistake).
struct UnitOption {
  const char* name;
  const char* value;
  const char* help;
  std::function<bool(const ControlUnitOptions&)> isSet;
  std::function<void(ControlUnitOptions&, const QString& option, const QString& value, qsizetype unit)> set;
};

const QList<UnitOption>& unitOptions() {
  static const QList<UnitOption> options{
      {"control-image", "FILE",
       "The unit's control map (already preprocessed: edges, pose, depth...), at the output size.",
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
    if (eq >= 0) {
      value = arg.mid(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw ControlUnitUsageError("--" + name.toStdString() + " needs a value");
    }
    if (!option) {
      out.units.push_back(ControlUnitOptions{value, {}, {}, {}, {}, {}});
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
    if (out.units[k].image.isEmpty())
      throw ControlUnitUsageError(unitName(k) + " (--controlnet " + out.units[k].model.toStdString() +
                                  ") has no --control-image");
  }
  return out;
}

}  // namespace kiln::cli
