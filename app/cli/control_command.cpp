// kiln-cli control: ControlNet control maps without the GUI. Sub-commands: render-pose (an
// OpenPose JSON / POSE_KEYPOINT file -> the pose map the reference draws). `detect` (the
// preprocessors) slots in beside it: one run_* function and one line in run_control's table.
#include <QBuffer>
#include <QCommandLineParser>
#include <QImage>
#include <QImageWriter>

#include <cstdio>
#include <filesystem>
#include <string>

#include "base/error.h"
#include "cli/commands.h"
#include "control/pose_json.h"
#include "control/pose_render.h"
#include "io/atomic_file.h"

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
      "  render-pose POSE.json --out MAP.png [--width W --height H] [--renderer NAME]\n"
      "                         Draws an OpenPose JSON (AUTOMATIC1111 / openpose editor) or a\n"
      "                         ComfyUI POSE_KEYPOINT file as the pose map (see render-pose --help)\n"
      "\n"
      "`kiln-cli control <sub-command> --help` for its options.\n",
      out);
}

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

void write_png(const std::filesystem::path& path, const control::PoseImage& image) {
  const QImage view(image.rgb.data(), image.width, image.height, image.width * 3, QImage::Format_RGB888);
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  QImageWriter writer(&buffer, "png");
  if (!writer.write(view)) throw FileError("cannot encode the PNG: " + writer.errorString().toStdString(), path);
  io::write_file_atomically(path, std::string_view(png.constData(), static_cast<std::size_t>(png.size())));
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
    const control::PoseImage image = control::render_pose(scene, options);
    write_png(out_path, image);
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

struct SubCommand {
  const char* name;
  int (*run)(const QStringList& args);
};

// `detect` joins here.
constexpr SubCommand kSubCommands[] = {
    {"render-pose", run_render_pose},
};

}  // namespace

int run_control(const QStringList& args) {
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
