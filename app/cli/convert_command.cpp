// kiln-cli convert: diffusers folder <-> original single file (AUTOMATIC1111 / ComfyUI layout),
// verified by reading the output back before success is reported.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>

#include "base/error.h"
#include "bridge/resource_paths.h"
#include "cli/commands.h"
#include "convert/checkpoint_export.h"

namespace kiln::cli {

namespace {

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string human_bytes(std::uint64_t n) {
  char buf[32];
  const double d = static_cast<double>(n);
  if (n >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", d / (1ull << 30));
  else if (n >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", d / (1ull << 20));
  else if (n >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", d / 1024);
  else
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  return buf;
}

// One stderr line per stage and per tenth of it: readable in logs, quiet on fast conversions.
class ProgressPrinter {
 public:
  void operator()(const convert::ConvertProgress& p) {
    static const char* kNames[] = {"reading", "writing", "verifying"};
    const int stage = static_cast<int>(p.stage);
    const int tenth = p.total ? static_cast<int>(10 * p.done / p.total) : 0;
    if (stage == stage_ && tenth == tenth_) return;
    stage_ = stage;
    tenth_ = tenth;
    std::fprintf(stderr, "kiln-cli convert: %s %zu/%zu\n", kNames[stage], p.done, p.total);
  }

 private:
  int stage_ = -1;
  int tenth_ = -1;
};

}  // namespace

int run_convert(const QStringList& args) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Converts a model between a diffusers folder and an original single file, in the layout AUTOMATIC1111\n"
      "and ComfyUI load (SD 1.x, 2.x, SDXL, ControlNet), or re-saves a single file (.ckpt <-> .safetensors,\n"
      "fp16). The output is read back and compared tensor by tensor with the input before success is\n"
      "reported; on any error nothing is left at OUT. Tensors keep their dtype unless --half, --bf16 or\n"
      "--float32 is given. Keys one layout has no place for (EMA copies, schedule buffers, position_ids,\n"
      "SD 2's unused last text layer) are left out and listed."));
  parser.addHelpOption();
  parser.addOption({QStringLiteral("to"),
                    QStringLiteral("Layout of OUT: single-file or diffusers. Default: the other layout of IN."),
                    QStringLiteral("single-file|diffusers")});
  parser.addOption({QStringLiteral("half"), QStringLiteral("Store floating tensors as float16.")});
  parser.addOption({QStringLiteral("bf16"), QStringLiteral("Store floating tensors as bfloat16.")});
  parser.addOption({QStringLiteral("float32"), QStringLiteral("Store floating tensors as float32.")});
  parser.addOption({QStringLiteral("format"),
                    QStringLiteral("Single-file format. Default: from OUT's name (.ckpt/.pt/.pth: ckpt, else\n"
                                   "safetensors)."),
                    QStringLiteral("safetensors|ckpt")});
  parser.addOption({QStringLiteral("config"),
                    QStringLiteral("A diffusers folder whose configs, tokenizers and scheduler a diffusers OUT\n"
                                   "takes. Default: the hub configs of the model family."),
                    QStringLiteral("DIR")});
  parser.addOption({QStringLiteral("prediction"),
                    QStringLiteral("Prediction type for the scheduler config of a diffusers OUT (SD 2.x: epsilon\n"
                                   "for 512 models, v_prediction for 768). Default: from a .yaml beside IN or\n"
                                   "its metadata."),
                    QStringLiteral("epsilon|v_prediction")});
  parser.addOption({QStringLiteral("overwrite"), QStringLiteral("Replace an existing OUT.")});
  parser.addPositionalArgument(QStringLiteral("IN"), QStringLiteral("Model file or diffusers folder."));
  parser.addPositionalArgument(QStringLiteral("OUT"), QStringLiteral("File or folder to create."));
  if (!parser.parse(args)) {
    std::fprintf(stderr, "kiln-cli convert: %s\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(parser.helpText()), stdout);
    return 0;
  }
  const QStringList paths = parser.positionalArguments();
  if (paths.size() != 2) {
    std::fprintf(stderr, "kiln-cli convert: expected IN and OUT, got %lld paths (see kiln-cli convert --help)\n",
                 static_cast<long long>(paths.size()));
    return 2;
  }

  convert::ConvertRequest request;
  request.input = paths.at(0).toStdString();
  request.output = paths.at(1).toStdString();
  request.overwrite = parser.isSet(QStringLiteral("overwrite"));
  request.clip_vocab_dir = bridge::clipVocabularyDir();
  if (parser.isSet(QStringLiteral("to"))) {
    const QString to = parser.value(QStringLiteral("to"));
    if (to == QLatin1String("single-file")) {
      request.to = convert::KeyLayout::SingleFile;
    } else if (to == QLatin1String("diffusers")) {
      request.to = convert::KeyLayout::Diffusers;
    } else {
      std::fprintf(stderr, "kiln-cli convert: --to must be single-file or diffusers, got '%s'\n", qPrintable(to));
      return 2;
    }
  }
  const int dtypes = int(parser.isSet(QStringLiteral("half"))) + int(parser.isSet(QStringLiteral("bf16"))) +
                     int(parser.isSet(QStringLiteral("float32")));
  if (dtypes > 1) {
    std::fprintf(stderr, "kiln-cli convert: give at most one of --half, --bf16 and --float32\n");
    return 2;
  }
  if (parser.isSet(QStringLiteral("half"))) request.dtype = convert::ExportDType::F16;
  if (parser.isSet(QStringLiteral("bf16"))) request.dtype = convert::ExportDType::BF16;
  if (parser.isSet(QStringLiteral("float32"))) request.dtype = convert::ExportDType::F32;
  if (parser.isSet(QStringLiteral("format"))) {
    const QString format = parser.value(QStringLiteral("format"));
    if (format == QLatin1String("safetensors")) {
      request.format = convert::SingleFileFormat::Safetensors;
    } else if (format == QLatin1String("ckpt")) {
      request.format = convert::SingleFileFormat::Ckpt;
    } else {
      std::fprintf(stderr, "kiln-cli convert: --format must be safetensors or ckpt, got '%s'\n", qPrintable(format));
      return 2;
    }
  }
  if (parser.isSet(QStringLiteral("config"))) request.config_dir = parser.value(QStringLiteral("config")).toStdString();
  if (parser.isSet(QStringLiteral("prediction"))) {
    const QString p = parser.value(QStringLiteral("prediction"));
    if (p == QLatin1String("epsilon")) {
      request.prediction = convert::PredictionType::Epsilon;
    } else if (p == QLatin1String("v_prediction") || p == QLatin1String("v")) {
      request.prediction = convert::PredictionType::VPrediction;
    } else {
      std::fprintf(stderr, "kiln-cli convert: --prediction must be epsilon or v_prediction, got '%s'\n", qPrintable(p));
      return 2;
    }
  }

  try {
    ProgressPrinter printer;
    const auto result = convert::convert_model(request, std::ref(printer));
    for (const auto& note : result.notes) std::fprintf(stderr, "kiln-cli convert: note: %s\n", one_line(note).c_str());
    const bool single = result.to == convert::KeyLayout::SingleFile;
    std::cout << "wrote " << result.output.string() << ": " << convert::display_name(result.family) << ", "
              << (single ? std::string(convert::to_string(result.format)) + " single file"
                         : std::string("diffusers folder"))
              << ", " << result.tensors << " tensors ("
              << (request.dtype == convert::ExportDType::Keep ? std::string("dtypes kept")
                                                              : "as " + std::string(convert::to_string(request.dtype)))
              << "), " << human_bytes(result.bytes) << "; verified" << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return 1;
}

}  // namespace kiln::cli
