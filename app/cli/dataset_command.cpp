// kiln-cli dataset prepare: a folder or zip of photos -> square, face-aware crops with captions.
#include <QCommandLineParser>
#include <QFileInfo>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/commands.h"
#include "dataset/prepare_dataset.h"
#include "io/atomic_file.h"
#include "services/zip_import.h"

namespace kiln::cli {

namespace {

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void print_dataset_usage(std::FILE* out) {
  std::fputs(
      "Usage: kiln-cli dataset prepare SRC OUT_DIR --size N [--token WORD] [--filename-captions] [--json REPORT]\n"
      "       kiln-cli dataset caption DIR --endpoint URL --model NAME ... (see dataset caption --help)\n"
      "\n"
      "Turns a folder or a .zip of photos into a training set in OUT_DIR: square crops of N x N\n"
      "(512 to 1024 in steps of 64) placed around the faces (dlib; the 68-point landmark model is\n"
      "used when /usr/share/dlib has it), else around the picture's focal point; EXIF orientation\n"
      "applied, transparency flattened, smaller images upscaled with a warning. Each output gets a\n"
      "caption .txt (the source's own .txt, else with --filename-captions its file name) and a\n"
      "<name>.crop.json sidecar with its crop box. A zip is extracted into OUT_DIR/.originals first.\n"
      "\n"
      "Options:\n"
      "  --size N             Output side in pixels (default 512)\n"
      "  --token WORD         Put the instance token first in every caption (unless already there)\n"
      "  --filename-captions  Caption images without a .txt by their file name (fast-stable-diffusion's\n"
      "                       rule: 'phtmejhn (1).jpg' -> 'phtmejhn')\n"
      "  --json REPORT        Write the report {\"images\": [{source, output, faces, crop, status, reason}]}\n"
      "                       (boxes in the source's displayed pixels; '-' for stdout)\n"
      "  --format png|jpg     Output format (default png)\n"
      "  --no-faces           Do not look for faces: every crop follows the focal point\n"
      "  --threads N          Images prepared at once (default: the cores, at most 4)\n"
      "  -h, --help           This help\n"
      "\n"
      "Exit status: 0 done (some images may be skipped: see the report), 1 nothing could be prepared\n"
      "or an error (e.g. a refused zip), 2 usage (including an impossible size).\n",
      out);
}

int run_prepare(const QStringList& args) {
  QCommandLineParser parser;
  parser.addHelpOption();
  const QCommandLineOption size({QStringLiteral("size")}, QStringLiteral("Output side."), QStringLiteral("N"),
                                QStringLiteral("512"));
  const QCommandLineOption token({QStringLiteral("token")}, QStringLiteral("Instance token."), QStringLiteral("WORD"));
  const QCommandLineOption filenames({QStringLiteral("filename-captions")}, QStringLiteral("Captions from names."));
  const QCommandLineOption json({QStringLiteral("json")}, QStringLiteral("Report file."), QStringLiteral("REPORT"));
  const QCommandLineOption format({QStringLiteral("format")}, QStringLiteral("png or jpg."), QStringLiteral("FORMAT"),
                                  QStringLiteral("png"));
  const QCommandLineOption noFaces({QStringLiteral("no-faces")}, QStringLiteral("No face detection."));
  const QCommandLineOption threads({QStringLiteral("threads")}, QStringLiteral("Parallel images."), QStringLiteral("N"),
                                   QStringLiteral("0"));
  for (const auto* o : {&size, &token, &filenames, &json, &format, &noFaces, &threads}) parser.addOption(*o);
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli dataset prepare: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    print_dataset_usage(stdout);
    return 0;
  }
  const QStringList positional = parser.positionalArguments();
  if (positional.size() != 2) {
    std::fprintf(stderr, "kiln-cli dataset prepare: expected SRC and OUT_DIR, got %lld argument(s) (see --help)\n",
                 static_cast<long long>(positional.size()));
    return 2;
  }
  bool ok = false;
  const int resolution = parser.value(size).toInt(&ok);
  if (!ok) {
    std::fprintf(stderr, "kiln-cli dataset prepare: --size needs a number, got '%s'\n", qPrintable(parser.value(size)));
    return 2;
  }
  const int threadCount = parser.value(threads).toInt(&ok);
  if (!ok || threadCount < 0) {
    std::fprintf(stderr, "kiln-cli dataset prepare: --threads needs a number >= 0, got '%s'\n",
                 qPrintable(parser.value(threads)));
    return 2;
  }
  const QString fmt = parser.value(format).toLower();
  if (fmt != QLatin1String("png") && fmt != QLatin1String("jpg") && fmt != QLatin1String("jpeg")) {
    std::fprintf(stderr, "kiln-cli dataset prepare: --format is png or jpg, got '%s'\n", qPrintable(fmt));
    return 2;
  }

  const QString src = positional.at(0);
  const QString outDir = positional.at(1);
  try {
    dataset::PrepareRequest request;
    request.output_dir = std::filesystem::path(outDir.toStdString());
    request.resolution = resolution;
    request.instance_token = parser.value(token).toStdString();
    request.filename_captions = parser.isSet(filenames);
    request.detect_faces = !parser.isSet(noFaces);
    request.format = fmt == QLatin1String("png") ? dataset::OutputFormat::Png : dataset::OutputFormat::Jpeg;
    request.threads = threadCount;
    // Refuse a bad request before extracting anything.
    request.sources = {std::filesystem::path(src.toStdString())};
    dataset::validate_request(request);

    if (QFileInfo(src).isFile() && src.endsWith(QLatin1String(".zip"), Qt::CaseInsensitive)) {
      const app::ZipImportResult zip = app::ZipImport::extract(src, outDir);
      std::fprintf(stderr, "zip: extracted %lld file(s) into %s\n", static_cast<long long>(zip.extracted.size()),
                   qPrintable(zip.stagingDir));
      for (const QString& name : zip.ignored)
        std::fprintf(stderr, "zip: ignored %s (not an image)\n", qPrintable(name));
      request.sources = {std::filesystem::path(zip.stagingDir.toStdString())};
    }

    const auto progress = [](const dataset::PrepareProgress& p) {
      const dataset::ImageResult& r = *p.last;
      std::fprintf(stderr, "[%zu/%zu] %-7s %s%s%s\n", p.done, p.total, dataset::to_string(r.status),
                   r.source.filename().string().c_str(), r.reasons.empty() ? "" : ": ", one_line(r.reason()).c_str());
    };
    const dataset::PrepareResult result = dataset::prepare_dataset(request, {}, progress);
    for (const auto& note : result.notes) std::fprintf(stderr, "note: %s\n", one_line(note).c_str());

    std::size_t skipped = 0, warnings = 0;
    for (const auto& r : result.images) {
      skipped += r.status == dataset::ImageStatus::Skipped;
      warnings += r.status == dataset::ImageStatus::Warning;
    }
    const std::size_t prepared = result.images.size() - skipped;
    std::fprintf(stderr, "prepared %zu of %zu image(s) into %s (%zu skipped, %zu with warnings; face landmarks: %s)\n",
                 prepared, result.images.size(), qPrintable(outDir), skipped, warnings,
                 result.landmarks_available ? "yes" : "no");

    if (parser.isSet(json)) {
      const std::string report = dataset::report_json(result).dump(2) + "\n";
      if (parser.value(json) == QLatin1String("-")) {
        std::cout << report << std::flush;
      } else {
        io::write_file_atomically(std::filesystem::path(parser.value(json).toStdString()), report);
      }
    }
    if (prepared == 0) {
      std::fprintf(stderr, "kiln-cli: error: no image could be prepared from %s\n", qPrintable(src));
      return 1;
    }
    return 0;
  } catch (const kiln::InvalidRequestError& e) {
    std::fprintf(stderr, "kiln-cli dataset prepare: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return 1;
}

}  // namespace

int run_dataset(const QStringList& args) {
  // args[0] is the program; the sub-command follows.
  if (args.size() < 2 || args.at(1) == QLatin1String("-h") || args.at(1) == QLatin1String("--help")) {
    print_dataset_usage(args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const QString sub = args.at(1);
  QStringList rest = args;
  rest.removeAt(1);
  if (sub == QLatin1String("prepare")) return run_prepare(rest);
  if (sub == QLatin1String("caption")) return run_dataset_caption(rest);
  std::fprintf(stderr,
               "kiln-cli dataset: unknown sub-command '%s' (sub-commands: prepare, caption; see kiln-cli dataset --help)\n",
               qPrintable(sub));
  return 2;
}

}  // namespace kiln::cli
