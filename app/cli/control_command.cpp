// kiln-cli control: ControlNet control maps without the GUI. Sub-commands: detect (an image ->
// a preprocessor's map), list (the registered preprocessors), render-pose (an OpenPose JSON /
// POSE_KEYPOINT file -> the pose map the reference draws). Each is one run_* function and one
// line in run_control's table.
#include <QCommandLineParser>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "control/control_image.h"
#include "control/control_map_fit.h"
#include "control/network_preprocessors.h"
#include "control/pose_json.h"
#include "control/pose_render.h"
#include "control/preprocessor.h"

namespace kiln::cli {

namespace {

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void print_control_usage(std::FILE* out) {
  std::fputs(
      "Usage: kiln-cli control <sub-command> [options]\n"
      "\n"
      "ControlNet control maps.\n"
      "\n"
      "Sub-commands:\n"
      "  detect --module NAME IMAGE --out MAP.png [--resolution N] [--param KEY=VALUE ...]\n"
      "         [--annotator-dir DIR ...] [--device cpu|cuda]\n"
      "                         Runs a preprocessor (canny, depth_anything_v2, dw_openpose_full, ...)\n"
      "                         on an image as AUTOMATIC1111's ControlNet extension does (see\n"
      "                         detect --help)\n"
      "  list [--json]          Every preprocessor with its parameters, defaults, ranges, whether it\n"
      "                         takes a resolution, and the weight files (with licence) it needs\n"
      "  render-pose POSE.json --out MAP.png [--width W --height H] [--renderer NAME]\n"
      "                         Draws an OpenPose JSON (AUTOMATIC1111 / openpose editor) or a\n"
      "                         ComfyUI POSE_KEYPOINT file as the pose map (see render-pose --help)\n"
      "\n"
      "`kiln-cli control <sub-command> --help` for its options.\n",
      out);
}

void print_detect_usage(std::FILE* out) {
  std::fputs(
      "Usage: kiln-cli control detect --module NAME IMAGE --out MAP.png [options]\n"
      "\n"
      "Runs the preprocessor NAME (AUTOMATIC1111's module name, e.g. canny, lineart_standard,\n"
      "softedge_hed, depth_anything_v2, dw_openpose_full; `kiln-cli control list` shows them all) on\n"
      "IMAGE (PNG or JPEG; grey, RGB, or RGBA composited over white) and writes the RGB control map as\n"
      "PNG, pixel for pixel what the extension's preprocessor returns: the image padded to the\n"
      "resolution, processed, the padding cropped off. The map keeps the proportions of IMAGE;\n"
      "`kiln-cli generate` fits it to the output size (--control-resize).\n"
      "\n"
      "Options:\n"
      "  --module NAME          The preprocessor (required)\n"
      "  --out MAP.png          The map to write (replaced atomically: never a half-written file)\n"
      "  --resolution N         Preprocessor resolution: the short side it works at (default: the\n"
      "                         preprocessor's, 512); ignored by those that take none\n"
      "  --param KEY=VALUE      A parameter, e.g. --param low_threshold=50 (repeatable; defaults and\n"
      "                         ranges: kiln-cli control list). Values outside the range are refused\n"
      "  --annotator-dir DIR    Where network weights (ControlNetHED.pth, sk_model.pth,\n"
      "                         depth_anything_v2_vits.pth, yolox_l.onnx + dw-ll_ucoco_384.onnx, ...)\n"
      "                         are looked for: DIR itself and its A1111 / Hugging Face subfolders\n"
      "                         (repeatable; first match wins)\n"
      "  --device DEVICE        Where networks run: cpu (default), cuda or cuda:N\n"
      "  --mask FILE            inpaint / inpaint_only: the mask (white = repaint), at IMAGE's size\n"
      "  -h, --help             This help\n"
      "\n"
      "Exit status: 0 written; 1 the work failed (unknown preprocessor or parameter, a value out of\n"
      "range, missing or broken weights, an unreadable image): one line on stderr, nothing written;\n"
      "2 usage; 130 cancelled with Ctrl-C (a network stops between its stages), nothing written.\n",
      out);
}

// Parameters and ranges as A1111's sliders show them: 100, 0.01, 6.5.
std::string number(double v) {
  std::ostringstream s;
  s.precision(15);
  s << v;
  return s.str();
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

const char* slot_name(int slot) { return slot == 1 ? "Threshold A" : slot == 2 ? "Threshold B" : "no A1111 slot"; }

void print_render_pose_usage(std::FILE* out) {
  std::fputs(
      "Usage: kiln-cli control render-pose POSE.json --out MAP.png [--width W --height H] [--renderer NAME]\n"
      "\n"
      "Draws the people of a pose file (18 body points, hands, face; or its AP10K animals when it has\n"
      "no people) on black, byte for byte as the reference implementation draws them, and writes the\n"
      "RGB PNG. POSE.json is AUTOMATIC1111's \"OpenPose JSON\" (one object with people, canvas_width,\n"
      "canvas_height) or ComfyUI's POSE_KEYPOINT (a list of such objects, one per frame). Each part\n"
      "(body, each hand, face) is in normalised (0..1) or pixel coordinates, decided as A1111 does:\n"
      "normalised when every shown point has |x|, |y| <= 1.\n"
      "\n"
      "Options:\n"
      "  --out MAP.png        The map to write (replaced atomically)\n"
      "  --width W            Map width in pixels (default: the file's canvas_width); normalised\n"
      "                       parts scale with it, pixel parts stay where they are\n"
      "  --height H           Map height in pixels (default: the file's canvas_height)\n"
      "  --renderer NAME      a1111 (default; = comfy): sd-webui-controlnet / ComfyUI RenderPeopleKps\n"
      "                       comfy_xinsr: ComfyUI with xinsr stick scaling (wider limbs from 500 px)\n"
      "                       controlnet_aux: huggingface controlnet_aux (always normalised)\n"
      "                       cn11: ControlNet 1.1 (all limbs, then all joints; always normalised)\n"
      "  --frame N            Which frame of a POSE_KEYPOINT list (default 0)\n"
      "  -h, --help           This help\n"
      "\n"
      "Exit status: 0 written, 1 the pose file is unreadable or broken (one line on stderr), 2 usage.\n",
      out);
}

// Positive pixel count from an option, or 0 when the option is absent. -1: not a size.
int size_option(const QCommandLineParser& parser, const QString& name) {
  if (!parser.isSet(name)) return 0;
  bool ok = false;
  const int v = parser.value(name).toInt(&ok);
  return ok && v >= 1 && v <= control::kMaxCanvasSide ? v : -1;
}

int run_render_pose(const QStringList& args) {
  QCommandLineParser parser;
  parser.addHelpOption();
  const QCommandLineOption out({QStringLiteral("out")}, QStringLiteral("The map."), QStringLiteral("MAP.png"));
  const QCommandLineOption width({QStringLiteral("width")}, QStringLiteral("Map width."), QStringLiteral("W"));
  const QCommandLineOption height({QStringLiteral("height")}, QStringLiteral("Map height."), QStringLiteral("H"));
  const QCommandLineOption renderer({QStringLiteral("renderer")}, QStringLiteral("Reference drawing."),
                                    QStringLiteral("NAME"), QStringLiteral("a1111"));
  const QCommandLineOption frame({QStringLiteral("frame")}, QStringLiteral("POSE_KEYPOINT frame."), QStringLiteral("N"),
                                 QStringLiteral("0"));
  for (const auto* o : {&out, &width, &height, &renderer, &frame}) parser.addOption(*o);
  const auto usage = [](const std::string& message) {
    std::fprintf(stderr, "kiln-cli control render-pose: %s\n", message.c_str());
    return 2;
  };
  if (!parser.parse(args)) return usage(parser.errorText().toStdString());
  if (parser.isSet(QStringLiteral("help"))) {
    print_render_pose_usage(stdout);
    return 0;
  }
  const QStringList positional = parser.positionalArguments();
  if (positional.size() != 1)
    return usage("expected one POSE.json, got " + std::to_string(positional.size()) + " argument(s) (see --help)");
  if (!parser.isSet(out)) return usage("--out MAP.png is required");

  control::PoseRenderOptions options;
  options.width = size_option(parser, QStringLiteral("width"));
  options.height = size_option(parser, QStringLiteral("height"));
  if (options.width < 0)
    return usage("--width needs a whole number from 1 to " + std::to_string(control::kMaxCanvasSide) + ", got '" +
                 parser.value(width).toStdString() + "'");
  if (options.height < 0)
    return usage("--height needs a whole number from 1 to " + std::to_string(control::kMaxCanvasSide) + ", got '" +
                 parser.value(height).toStdString() + "'");
  const auto chosen = control::parse_pose_renderer(parser.value(renderer).toStdString());
  if (!chosen)
    return usage("--renderer is a1111, comfy, comfy_xinsr, controlnet_aux or cn11, got '" +
                 parser.value(renderer).toStdString() + "'");
  options.renderer = *chosen;
  bool ok = false;
  const int frame_index = parser.value(frame).toInt(&ok);
  if (!ok || frame_index < 0)
    return usage("--frame needs a number >= 0, got '" + parser.value(frame).toStdString() + "'");

  const std::filesystem::path pose_path(positional.at(0).toStdString());
  const std::filesystem::path out_path(parser.value(out).toStdString());
  try {
    const control::PoseFile file = control::read_pose_file(pose_path);
    if (static_cast<std::size_t>(frame_index) >= file.frames.size())
      throw InvalidRequestError("--frame " + std::to_string(frame_index) + ": " + pose_path.string() + " has " +
                                std::to_string(file.frames.size()) + " frame(s)");
    const control::PoseScene& scene = file.frames[static_cast<std::size_t>(frame_index)];
    const control::ControlImage image = control::render_pose(scene, options);
    control::save_control_png(out_path, image);  // temporary file + rename
    std::printf("wrote %s (%dx%d, %s, %zu %s, %zu animal%s)\n", out_path.string().c_str(), image.width, image.height,
                control::to_string(options.renderer), scene.people.size(),
                scene.people.size() == 1 ? "person" : "people", scene.animals.size(),
                scene.animals.size() == 1 ? "" : "s");
    return 0;
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return 1;
}

// "cpu", "cuda", "cuda:N": what LibTorch accepts and the user may mean.
bool valid_device(const QString& device) {
  if (device == QLatin1String("cpu") || device == QLatin1String("cuda")) return true;
  if (!device.startsWith(QLatin1String("cuda:"))) return false;
  bool ok = false;
  return device.mid(5).toInt(&ok) >= 0 && ok;
}

int run_detect(const QStringList& args) {
  QCommandLineParser parser;
  parser.addHelpOption();
  const QCommandLineOption module({QStringLiteral("module")}, QStringLiteral("Preprocessor."), QStringLiteral("NAME"));
  const QCommandLineOption out({QStringLiteral("out")}, QStringLiteral("The map."), QStringLiteral("MAP.png"));
  const QCommandLineOption resolution({QStringLiteral("resolution")}, QStringLiteral("Resolution."),
                                      QStringLiteral("N"));
  const QCommandLineOption param({QStringLiteral("param")}, QStringLiteral("Parameter."), QStringLiteral("KEY=VALUE"));
  const QCommandLineOption annotatorDir({QStringLiteral("annotator-dir")}, QStringLiteral("Weights folder."),
                                        QStringLiteral("DIR"));
  const QCommandLineOption device({QStringLiteral("device")}, QStringLiteral("Device."), QStringLiteral("DEVICE"),
                                  QStringLiteral("cpu"));
  const QCommandLineOption mask({QStringLiteral("mask")}, QStringLiteral("Inpaint mask."), QStringLiteral("FILE"));
  for (const auto* o : {&module, &out, &resolution, &param, &annotatorDir, &device, &mask}) parser.addOption(*o);
  const auto usage = [](const std::string& message) {
    std::fprintf(stderr, "kiln-cli control detect: %s\n", message.c_str());
    return 2;
  };
  if (!parser.parse(args)) return usage(parser.errorText().toStdString());
  if (parser.isSet(QStringLiteral("help"))) {
    print_detect_usage(stdout);
    return 0;
  }
  const QStringList positional = parser.positionalArguments();
  if (positional.size() != 1)
    return usage("expected one IMAGE, got " + std::to_string(positional.size()) + " argument(s) (see --help)");
  if (!parser.isSet(module)) return usage("--module NAME is required (kiln-cli control list shows the names)");
  if (!parser.isSet(out)) return usage("--out MAP.png is required");
  std::optional<int> chosenResolution;
  if (parser.isSet(resolution)) {
    bool ok = false;
    chosenResolution = parser.value(resolution).toInt(&ok);
    if (!ok) return usage("--resolution takes a whole number, got '" + parser.value(resolution).toStdString() + "'");
  }
  control::PreprocessorParams params;
  for (const QString& value : parser.values(param)) {
    const qsizetype eq = value.indexOf(QLatin1Char('='));
    bool ok = false;
    const double v = eq > 0 ? value.mid(eq + 1).toDouble(&ok) : 0.0;
    if (eq <= 0 || !ok || !std::isfinite(v))
      return usage("--param takes KEY=VALUE with a number, e.g. low_threshold=50, got '" + value.toStdString() + "'");
    if (!params.emplace(value.left(eq).toStdString(), v).second)
      return usage("--param " + value.left(eq).toStdString() + " is given twice");
  }
  if (!valid_device(parser.value(device)))
    return usage("--device is cpu, cuda or cuda:N, got '" + parser.value(device).toStdString() + "'");

  const std::string name = parser.value(module).toStdString();
  const std::filesystem::path imagePath(positional.at(0).toStdString());
  const std::filesystem::path outPath(parser.value(out).toStdString());
  try {
    const std::shared_ptr<const control::Preprocessor> p = control::find_preprocessor(name);
    if (!p) {
      std::vector<std::string> names;
      for (const auto& known : control::preprocessors()) names.push_back(known->name);
      throw InvalidRequestError("unknown preprocessor '" + name + "'",
                                "known preprocessors: " + joined(names, ", ") + " (kiln-cli control list)");
    }
    if (p->takes_mask != parser.isSet(mask))
      return usage(p->takes_mask ? "'" + p->name + "' needs --mask FILE (white = repaint)"
                                 : "--mask is for the inpaint preprocessors, not '" + p->name + "'");
    if (chosenResolution && !p->takes_resolution)
      std::fprintf(stderr, "kiln-cli control detect: note: '%s' takes no resolution; --resolution is ignored\n",
                   p->name.c_str());
    const int res = chosenResolution.value_or(p->default_resolution);
    // Parameters and resolution are checked before the image is read or any weights are loaded.
    const control::PreprocessorParams resolved = control::resolve_params(*p, res, params);
    control::ControlImage image = control::load_control_image(imagePath);
    if (p->takes_mask)
      image = control::make_inpaint_input(image, control::load_control_image(parser.value(mask).toStdString()));
    control::PreprocessorContext context;
    for (const QString& dir : parser.values(annotatorDir)) context.annotator_dirs.emplace_back(dir.toStdString());
    context.device = parser.value(device).toStdString();
    // Ctrl-C stops a network between its stages: nothing is written.
    InterruptWatcher interrupt("kiln-cli control detect");
    context.stop = interrupt.token();
    if (!p->weights.file_names.empty()) {
      // A missing weight file is the one line an error gets; only then the note that it runs.
      control::find_annotator_weights(p->name, p->weights, context.annotator_dirs);
      std::fprintf(stderr, "kiln-cli control detect: running %s at resolution %d (Ctrl-C cancels)\n", p->name.c_str(),
                   res);
    }
    const control::ControlImage map = control::run_preprocessor(p->name, image, res, resolved, context);
    if (map.empty() || interrupt.stopRequested()) {
      std::fprintf(stderr, "kiln-cli control detect: cancelled; nothing written\n");
      return kCancelledExit;
    }
    control::save_control_png(outPath, map);  // temporary file + rename
    std::vector<std::string> settings;
    if (p->takes_resolution) settings.push_back("resolution " + std::to_string(res));
    for (const control::PreprocessorParam& param : p->params)  // in slider order
      settings.push_back(param.key + "=" + number(resolved.at(param.key)));
    std::printf("wrote %s (%s, %s%s%s)\n", outPath.string().c_str(), map.describe().c_str(), p->name.c_str(),
                settings.empty() ? "" : ", ", joined(settings, ", ").c_str());
    return 0;
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return 1;
}

nlohmann::json describe_json(const control::Preprocessor& p) {
  nlohmann::json params = nlohmann::json::array();
  for (const control::PreprocessorParam& param : p.params) {
    params.push_back({{"key", param.key},
                      {"label", param.label},
                      {"default", param.default_value},
                      {"minimum", param.minimum},
                      {"maximum", param.maximum},
                      {"step", param.step},
                      {"slot", param.slot}});
  }
  nlohmann::json entry{{"name", p.name},
                       {"label", p.label},
                       {"aliases", p.aliases},
                       {"takes_resolution", p.takes_resolution},
                       {"default_resolution", p.default_resolution},
                       {"takes_mask", p.takes_mask},
                       {"params", params},
                       {"weights", nullptr}};
  if (!p.weights.file_names.empty()) {
    entry["weights"] = {{"files", p.weights.file_names},
                        {"subfolders", p.weights.subfolders},
                        {"source", p.weights.source},
                        {"licence", p.weights.licence}};
  }
  // Further files (DWPose's detector), each as "weights" describes one.
  nlohmann::json more = nlohmann::json::array();
  for (const control::AnnotatorWeights& w : p.more_weights) {
    more.push_back(
        {{"files", w.file_names}, {"subfolders", w.subfolders}, {"source", w.source}, {"licence", w.licence}});
  }
  entry["more_weights"] = more;
  return entry;
}

void print_preprocessor(const control::Preprocessor& p) {
  std::printf("%s", p.name.c_str());
  if (p.label != p.name) std::printf("  \"%s\"", p.label.c_str());
  if (!p.aliases.empty()) std::printf("  (also: %s)", joined(p.aliases, ", ").c_str());
  std::printf("\n");
  if (p.takes_resolution)
    std::printf("  resolution: yes (default %d)\n", p.default_resolution);
  else
    std::printf("  resolution: no\n");
  if (p.takes_mask) std::printf("  input: RGBA whose alpha is the mask (detect --mask)\n");
  for (const control::PreprocessorParam& param : p.params) {
    std::printf("  --param %s=%s  %s, %s..%s step %s (%s)\n", param.key.c_str(), number(param.default_value).c_str(),
                param.label.c_str(), number(param.minimum).c_str(), number(param.maximum).c_str(),
                number(param.step).c_str(), slot_name(param.slot));
  }
  if (p.weights.file_names.empty()) {
    std::printf("  weights: none\n");
  } else {
    std::printf("  weights: %s\n", joined(p.weights.file_names, " or ").c_str());
    std::printf("  from: %s\n", p.weights.source.c_str());
    std::printf("  licence: %s\n", p.weights.licence.c_str());
  }
  for (const control::AnnotatorWeights& w : p.more_weights) {
    std::printf("  and: %s\n", joined(w.file_names, " or ").c_str());
    std::printf("  from: %s\n", w.source.c_str());
    std::printf("  licence: %s\n", w.licence.c_str());
  }
}

int run_list(const QStringList& args) {
  QCommandLineParser parser;
  parser.addHelpOption();
  parser.addOption({QStringLiteral("json"), QStringLiteral("Machine-readable output.")});
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli control list: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(
        "Usage: kiln-cli control list [--json]\n"
        "\n"
        "Every preprocessor kiln-cli control detect and kiln-cli generate --control-module run: its\n"
        "A1111 name, label and older names, whether it takes a resolution, its parameters (default,\n"
        "range, step, and A1111's slider slot: Threshold A or B in PNG parameters), and the weight\n"
        "files a network needs, where to get them and their licence.\n",
        stdout);
    return 0;
  }
  if (!parser.positionalArguments().isEmpty()) {
    std::fprintf(stderr, "kiln-cli control list: takes no arguments (see --help)\n");
    return 2;
  }
  const auto all = control::preprocessors();
  if (parser.isSet(QStringLiteral("json"))) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& p : all) doc.push_back(describe_json(*p));
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) std::printf("\n");
    print_preprocessor(*all[i]);
  }
  return 0;
}

struct SubCommand {
  const char* name;
  int (*run)(const QStringList& args);
};

constexpr SubCommand kSubCommands[] = {
    {"detect", run_detect},
    {"list", run_list},
    {"render-pose", run_render_pose},
};

}  // namespace

int run_control(const QStringList& args) {
  control::register_network_preprocessors();  // HED, lineart, Depth Anything V2 beside the OpenCV ones
  // args[0] is the program; the sub-command follows.
  if (args.size() < 2 || args.at(1) == QLatin1String("-h") || args.at(1) == QLatin1String("--help")) {
    print_control_usage(args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const QString sub = args.at(1);
  QStringList rest = args;
  rest.removeAt(1);
  std::string names;
  for (const SubCommand& c : kSubCommands) {
    if (sub == QLatin1String(c.name)) return c.run(rest);
    names += (names.empty() ? "" : ", ") + std::string(c.name);
  }
  std::fprintf(stderr, "kiln-cli control: unknown sub-command '%s' (sub-commands: %s; see kiln-cli control --help)\n",
               qPrintable(sub), names.c_str());
  return 2;
}

}  // namespace kiln::cli
