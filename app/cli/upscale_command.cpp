// kiln-cli upscale: an image through an ESRGAN-family model (RRDBNet), in tiles, as A1111's
// Extras tab does it; the PNG keeps its generation parameters and gains A1111's
// "postprocessing" chunk (Postprocess upscale by / Postprocess upscaler).
#include <QBuffer>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QImage>
#include <QImageWriter>
#include <QSaveFile>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "bridge/generation_parameters.h"
#include "bridge/image_file.h"
#include "bridge/image_tensor.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "models/rrdbnet.h"
#include "pipelines/upscale.h"

namespace kiln::cli {

namespace {

struct UsageError {
  std::string message;
};

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

quint32 crc32(const QByteArray& data) {
  static const std::array<quint32, 256> table = [] {
    std::array<quint32, 256> t{};
    for (quint32 n = 0; n < 256; ++n) {
      quint32 c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  quint32 c = 0xffffffffu;
  for (const char byte : data) c = table[(c ^ static_cast<quint8>(byte)) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

void append_u32(QByteArray& out, quint32 v) {
  for (int shift : {24, 16, 8, 0}) out.append(static_cast<char>((v >> shift) & 0xff));
}

// A tEXt chunk (Latin-1) or an uncompressed iTXt (UTF-8), as PIL's PngInfo.add_text writes them.
QByteArray text_chunk(const QString& key, const QString& text) {
  bool latin1 = true;
  for (const QChar c : text) latin1 = latin1 && c.unicode() < 256;
  QByteArray chunk = latin1 ? QByteArray("tEXt") : QByteArray("iTXt");
  chunk.append(key.toLatin1()).append('\0');
  if (latin1)
    chunk.append(text.toLatin1());
  else
    chunk.append(QByteArray(4, '\0')).append(text.toUtf8());
  QByteArray out;
  append_u32(out, static_cast<quint32>(chunk.size() - 4));
  out.append(chunk);
  append_u32(out, crc32(chunk));
  return out;
}

// The PNG with "parameters" (when not empty) and "postprocessing" text chunks, written atomically.
void write_png(const QString& path, const QImage& image, const QString& parameters, const QString& postprocessing) {
  QByteArray png;
  {
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "png");
    if (!writer.write(image))
      throw FileError("cannot encode the PNG: " + writer.errorString().toStdString(), path.toStdString());
  }
  QByteArray chunks;
  if (!parameters.isEmpty()) chunks.append(text_chunk(QStringLiteral("parameters"), parameters));
  chunks.append(text_chunk(QStringLiteral("postprocessing"), postprocessing));
  png.insert(png.size() - 12, chunks);  // before IEND
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(png) != png.size() || !file.commit())
    throw FileError("cannot write the image: " + file.errorString().toStdString(), path.toStdString());
}

// A1111's number formatting in infotexts: 4 for 4.0, 2.5 for 2.5.
QString number(double v) { return QString::number(v, 'g', 6); }

}  // namespace

int run_upscale(const QStringList& args) {
  QCommandLineParser p;
  p.setApplicationDescription(QStringLiteral(
      "Upscales an image with an ESRGAN-family model (RRDBNet: RealESRGAN x4plus / x2plus, 4x-UltraSharp "
      "and the like; .pth or .safetensors), in overlapping tiles. A PNG's generation parameters are kept and "
      "AUTOMATIC1111's \"Postprocess upscale by\" / \"Postprocess upscaler\" are added. Ctrl-C stops between "
      "tiles and writes nothing."));
  p.addHelpOption();
  p.addPositionalArgument(QStringLiteral("IN"), QStringLiteral("The image to upscale (PNG, JPEG, WebP, ...)."));
  auto opt = [&](const char* name, const char* help, const char* value) {
    p.addOption(QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help), QString::fromLatin1(value)));
  };
  opt("model", "The upscaler model file (.pth or .safetensors).", "FILE");
  opt("scale",
      "Upscale by this factor (default: the model's own, e.g. 4). Other factors: the model runs until "
      "the image is at least that large, then a Lanczos resize to the size rounded down to a multiple "
      "of 8, as A1111 does.",
      "X");
  opt("tile", "Tile size in input pixels (default 256; 0: the whole image at once). Lower it when memory runs out.",
      "N");
  opt("overlap", "Pixels neighbouring tiles share (default 32, or a quarter of a smaller tile).", "N");
  opt("device", "cpu (default) or cuda (fp16).", "DEVICE");
  opt("out", "The PNG to write.", "OUT.png");
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli upscale: %s\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(p.helpText()), stdout);
    return 0;
  }
  try {
    if (p.positionalArguments().size() != 1) throw UsageError{"expected one input image"};
    for (const char* required : {"model", "out"})
      if (!p.isSet(QLatin1String(required))) throw UsageError{std::string("--") + required + " is required"};
    auto number_option = [&](const char* name, double fallback) {
      if (!p.isSet(QLatin1String(name))) return fallback;
      bool ok = false;
      const double v = p.value(QLatin1String(name)).toDouble(&ok);
      if (!ok || !std::isfinite(v))
        throw UsageError{std::string("--") + name + " takes a number, got '" +
                         p.value(QLatin1String(name)).toStdString() + "'"};
      return v;
    };
    pipelines::UpscaleOptions options;
    options.scale = number_option("scale", 0.0);
    if (p.isSet(QStringLiteral("scale")) && options.scale <= 0) throw UsageError{"--scale must be between 1 and 16"};
    options.tile = static_cast<std::int64_t>(number_option("tile", 256));
    // The default overlap shrinks with a small tile (a quarter of it, at most 32).
    options.overlap =
        static_cast<std::int64_t>(number_option("overlap", double(std::min<std::int64_t>(32, options.tile / 4))));
    const QString device = p.value(QStringLiteral("device")).toLower();
    if (!device.isEmpty() && device != QLatin1String("cpu") && device != QLatin1String("cuda"))
      throw UsageError{"--device must be cpu or cuda"};
    const bool cuda = device == QLatin1String("cuda");
    if (cuda && !torch::cuda::is_available()) throw ComputeError("--device cuda: no CUDA device is available");

    const QString in = p.positionalArguments().front();
    const QString out = p.value(QStringLiteral("out"));
    const bridge::OpenedImage opened = bridge::readImageFile(in);
    if (opened.image.isNull())
      throw FileError("cannot read the image: " + opened.problem.toStdString(), in.toStdString());
    const QImage& image = opened.image;
    const std::filesystem::path model_path = p.value(QStringLiteral("model")).toStdString();
    std::fprintf(stderr, "loading %s\n", model_path.string().c_str());
    const models::LoadedUpscaler upscaler =
        models::load_upscaler(model_path, cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU),
                              cuda ? torch::kHalf : torch::kFloat);
    std::fprintf(stderr, "%s: %lldx RRDBNet (%s layout, %lld blocks, %lld features)\n", upscaler.name().c_str(),
                 static_cast<long long>(upscaler.config.scale()), models::to_string(upscaler.layout),
                 static_cast<long long>(upscaler.config.num_blocks),
                 static_cast<long long>(upscaler.config.num_features));
    pipelines::validate_upscale(upscaler, image.width(), image.height(), options);

    const torch::Tensor input =
        bridge::controlImageTensor(image, image.width(), image.height()).permute({0, 2, 3, 1}).contiguous();
    InterruptWatcher interrupt("kiln-cli upscale");
    const auto started = std::chrono::steady_clock::now();
    const pipelines::UpscaleResult result = pipelines::upscale_images(
        upscaler, input, options, interrupt.token(), [](const pipelines::UpscaleProgress& pr) {
          if (pr.passes > 1)
            std::fprintf(stderr, "\rpass %lld/%lld  tile %lld/%lld", static_cast<long long>(pr.pass),
                         static_cast<long long>(pr.passes), static_cast<long long>(pr.tile),
                         static_cast<long long>(pr.tiles));
          else
            std::fprintf(stderr, "\rtile %lld/%lld", static_cast<long long>(pr.tile), static_cast<long long>(pr.tiles));
          if (pr.tile == pr.tiles) std::fputc('\n', stderr);
        });
    if (result.cancelled || interrupt.stopRequested()) {
      std::fprintf(stderr, "\nkiln-cli upscale: cancelled; nothing written\n");
      return kCancelledExit;
    }
    const double factor = options.scale > 0 ? options.scale : double(upscaler.config.scale());
    const QString postprocessing = QStringLiteral("Postprocess upscale by: %1, Postprocess upscaler: %2")
                                       .arg(number(factor), QString::fromStdString(upscaler.name()));
    write_png(out, bridge::imageFromTensor(result.images[0]), bridge::readPngParameters(in), postprocessing);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("wrote %s (%lldx%lld)\n", qPrintable(out), static_cast<long long>(result.images.size(2)),
                static_cast<long long>(result.images.size(1)));
    std::fprintf(stderr, "done in %.1f s\n", seconds);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "kiln-cli upscale: %s (see kiln-cli upscale --help)\n", e.message.c_str());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "kiln-cli upscale: %s\n", one_line(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli upscale: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}

}  // namespace kiln::cli
