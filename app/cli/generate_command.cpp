// kiln-cli generate / png-info: the generation pipeline headless, writing PNGs with
// AUTOMATIC1111's parameters chunk.
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QRandomGenerator>

#include <cmath>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <stop_token>

#include "base/error.h"
#include "base/precision.h"
#include "base/runtime_info.h"
#include "bridge/xyz_grid.h"
#include "bridge/generation_parameters.h"
#include "bridge/image_file.h"
#include "bridge/image_tensor.h"
#include "bridge/resource_paths.h"
#include "cli/commands.h"
#include "cli/control_unit_maps.h"
#include "cli/control_unit_options.h"
#include "cli/interrupt.h"
#include "control/network_preprocessors.h"
#include "convert/few_step.h"
#include "convert/model_info.h"
#include "io/sha256.h"
#include "io/weight_file.h"
#include "pipelines/hires_fix.h"
#include "pipelines/embeddings.h"
#include "pipelines/lora.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"

namespace kiln::cli {

namespace {

struct UsageError {
  std::string message;
};

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

long long integer(const QCommandLineParser& p, const char* name, long long fallback) {
  if (!p.isSet(QLatin1String(name))) return fallback;
  bool ok = false;
  const long long v = p.value(QLatin1String(name)).toLongLong(&ok);
  if (!ok) throw UsageError{std::string("--") + name + " takes a whole number, got '" + p.value(QLatin1String(name)).toStdString() + "'"};
  return v;
}

double real(const QCommandLineParser& p, const char* name, double fallback) {
  if (!p.isSet(QLatin1String(name))) return fallback;
  bool ok = false;
  const double v = p.value(QLatin1String(name)).toDouble(&ok);
  if (!ok) throw UsageError{std::string("--") + name + " takes a number, got '" + p.value(QLatin1String(name)).toStdString() + "'"};
  return v;
}

QImage read_image(const QString& path, const char* what) {
  const bridge::OpenedImage opened = bridge::readImageFile(path);
  if (opened.image.isNull())
    throw FileError(std::string("cannot read the ") + what + ": " + opened.problem.toStdString(), path.toStdString());
  return opened.image;
}

// FILE[:WEIGHT]: split at the last ':' only when a number follows, so Windows paths (C:/loras/x.safetensors)
// and "dir:with:colons/x.safetensors" stay whole.
pipelines::LoRASpec parse_lora(const QString& value) {
  pipelines::LoRASpec spec;
  QString path = value;
  if (const qsizetype colon = value.lastIndexOf(QLatin1Char(':')); colon >= 0) {
    bool ok = false;
    const double weight = value.mid(colon + 1).toDouble(&ok);
    if (ok) {
      if (!std::isfinite(weight)) throw UsageError{"--lora weight must be a finite number, got '" + value.toStdString() + "'"};
      path = value.left(colon);
      spec.weight = weight;
    }
  }
  if (path.isEmpty()) throw UsageError{"--lora takes FILE[:WEIGHT], got '" + value.toStdString() + "'"};
  spec.path = path.toStdString();
  return spec;
}

// FILE.png for one image, else FILE-<n>.png.
QString output_name(const QString& out, int index, int total) {
  if (total == 1) return out;
  const QFileInfo info(out);
  const QString base = info.completeBaseName(), suffix = info.suffix().isEmpty() ? QStringLiteral("png") : info.suffix();
  return info.dir().filePath(QStringLiteral("%1-%2.%3").arg(base).arg(index).arg(suffix));
}

pipelines::ControlMode controlMode(const QString& name) {
  if (name == QLatin1String("prompt")) return pipelines::ControlMode::PromptMoreImportant;
  if (name == QLatin1String("controlnet")) return pipelines::ControlMode::ControlNetMoreImportant;
  return pipelines::ControlMode::Balanced;
}

bool isControlNet(convert::ModelFamily f) {
  return f == convert::ModelFamily::ControlNetSD1 || f == convert::ModelFamily::ControlNetSD2 ||
         f == convert::ModelFamily::ControlNetSDXL;
}

// Each unit's ControlNet against the base model, from the files' headers only: a ControlNet of
// another family (an SD 1.x ControlNet on an SDXL model) is refused before any weights are read.
void checkControlNetFamilies(const std::filesystem::path& base, const QList<ControlUnitOptions>& units) {
  if (units.isEmpty()) return;
  convert::InspectOptions headers;
  headers.hash = false;
  const convert::ModelFamily family = convert::inspect_model(base, headers).detection.family;
  for (qsizetype i = 0; i < units.size(); ++i) {
    const std::filesystem::path path = units[i].model.toStdString();
    const convert::ModelFamily cn = convert::inspect_model(path, headers).detection.family;
    const std::string unit = "ControlNet unit " + std::to_string(i + 1) + " (\"" + path.filename().string() + "\")";
    if (!isControlNet(cn))
      throw InvalidRequestError(unit + " is not a ControlNet", "it holds a " + std::string(convert::display_name(cn)) + " model");
    if (!pipelines::controlnet_fits(cn, family))
      throw InvalidRequestError(unit + " is a " + std::string(convert::display_name(cn)) + " and cannot guide a " +
                                    std::string(convert::display_name(family)) + " model",
                                "choose a ControlNet made for the model's family");
  }
}

}  // namespace

int run_generate(const QStringList& args) {
  QCommandLineParser p;
  p.setApplicationDescription(QStringLiteral(
      "Generates images (txt2img, img2img, inpainting, ControlNet) and writes PNGs carrying AUTOMATIC1111's "
      "parameters. Defaults as AUTOMATIC1111's: 20 steps, Euler a, CFG 7, the model's native size, a random seed "
      "(printed). Ctrl-C stops a preprocessor or the sampling at its next step and exits with status 130."));
  p.addHelpOption();
  const auto opt = [&](const char* name, const char* help, const char* value = nullptr) {
    if (value) p.addOption({QLatin1String(name), QLatin1String(help), QLatin1String(value)});
    else p.addOption({QLatin1String(name), QLatin1String(help)});
  };
  opt("model", "A diffusers folder or a single .safetensors/.ckpt file.", "PATH");
  opt("prompt", "The prompt.", "TEXT");
  opt("negative", "The negative prompt.", "TEXT");
  opt("seed", "Seed of the first image (default: random, printed).", "N");
  opt("steps", "Sampling steps (default 20).", "N");
  opt("sampler", "ddim, pndm (PLMS), lms, euler, euler_a, dpmpp_2m, dpmpp_2m_karras, dpmpp_2m_sde(_karras), "
                 "dpmpp_2s(_karras), dpmpp_2s_sde, heun(_karras), dpm2(_karras), dpm2_a(_karras), deis(_karras), "
                 "unipc, ddpm; few-step: lcm, tcd, euler_a_trailing (Turbo), euler_trailing; or an AUTOMATIC1111 "
                 "name such as \"DPM++ 2M SDE Karras\" (default Euler a).", "NAME");
  opt("cfg", "Classifier-free guidance scale (default 7; <= 1 turns it off).", "X");
  opt("width", "Width in pixels, a multiple of 8 (default: the model's native size).", "W");
  opt("height", "Height in pixels, a multiple of 8 (default: the model's native size).", "H");
  opt("clip-skip", "CLIP skip in AUTOMATIC1111's numbering (1 = last layer, default).", "N");
  opt("prompt-syntax", "a1111 (weights, BREAK; default) or plain (diffusers: the text as is).", "SYNTAX");
  opt("prediction-type", "epsilon or v_prediction, when the model does not say.", "TYPE");
  opt("batch", "Images in one run (FILE-0.png ...; default 1).", "N");
  opt("count", "Runs, with seeds seed, seed+1, ... (AUTOMATIC1111's batch count; default 1).", "N");
  opt("init-image", "img2img / inpainting: the starting image (resized to the output size).", "FILE");
  opt("strength", "img2img / inpainting strength in [0, 1] (default 0.75).", "X");
  opt("mask", "Inpainting: white (or opaque) = repaint.", "FILE");
  // Listed for --help; splitControlUnits takes them out of the arguments before parsing.
  for (const ControlUnitOptionHelp& o : controlUnitOptionHelp()) opt(o.name, o.help, o.value);
  opt("annotator-dir",
      "Where the preprocessors' network weights are (ControlNetHED.pth, depth_anything_v2_vits.pth, "
      "...): the folder and its A1111 / Hugging Face subfolders. Repeat for several.",
      "DIR");
  opt("lora", "A LoRA to apply, with an optional weight (default 1; e.g. style.safetensors:0.7). Repeat for "
              "several; kohya/A1111 and diffusers/PEFT files of the model's base.", "FILE[:WEIGHT]");
  opt("embeddings",
      "A folder of textual inversion embeddings (.pt, .bin, .safetensors, searched with its subfolders): a "
      "file's name used in the prompt or negative prompt stands for its vectors. Repeat for several.",
      "DIR");
  opt("config", "Single files that are not a standard size: a diffusers folder holding their configs.", "DIR");
  opt("device", "cpu (default) or cuda.", "DEVICE");
  const std::string dtypeHelp =
      std::string("auto (default: fp16 on CUDA; on the CPU ") +
      (kCpuAutoUsesBf16 ? "bf16 where the CPU computes it natively, else fp32" : "fp32") +
      "), fp32, bf16 (CUDA, or a CPU that computes bf16 natively: AVX512-BF16 or AMX; refused on other CPUs, "
      "where LibTorch emulates it about 30x slower than fp32), or fp16 (CUDA only). kiln-cli --version says "
      "whether this CPU computes bf16 natively. The PNG records it as \"Kiln precision\".";
  opt("dtype", dtypeHelp.c_str(), "TYPE");
  opt("hires-scale", "Hires fix (txt2img): upscale by this factor (1 to 4) and run a second pass (default 2 when "
                     "another --hires-* option is given).", "X");
  opt("hires-resize", "Hires fix to this size instead of a scale (multiples of 8).", "WxH");
  opt("hires-upscaler", "Latent (default), \"Latent (antialiased)\", \"Latent (bicubic)\", \"Latent (bicubic "
                        "antialiased)\", \"Latent (nearest)\", \"Latent (nearest-exact)\", Lanczos, Nearest, or an ESRGAN-family "
                        "model file (.pth/.safetensors: RealESRGAN, 4x-UltraSharp, ...).", "NAME|FILE");
  opt("hires-steps", "Second pass steps (default 0: the first pass's; it runs steps x denoising).", "N");
  opt("hires-denoising", "Second pass denoising strength (default 0.7).", "X");
  opt("x", "X/Y/Z plot: an axis KIND:V1,V2,... with KIND seed, steps, cfg, sampler, checkpoint (model files), "
           "lora (the first --lora's weight), lora_file (LoRA files in place of the first --lora, or at weight 1: a "
           "LoRA training's kept checkpoints) or prompt (search/replace: the first value is replaced by each); "
           "seed and steps also take ranges (10-30, 10-30 (+10)). --out is then the grid; the cells go to "
           "OUT-cells/.", "AXIS");
  opt("y", "The grid's second axis (rows).", "AXIS");
  opt("z", "The grid's third axis (one grid per value, side by side).", "AXIS");
  opt("grid-limit", "Most images a grid may make (default 100): a bigger plot is refused before any work.", "N");
  opt("tiled-vae", "auto (default: tiled above 1536x1024 pixels, and again in tiles when one piece runs out of "
                   "memory), on or off: the VAE in overlapping tiles, memory bounded by the tile.", "MODE");
  opt("taesd", "TAESD (taesd_decoder.safetensors for SD 1.x/2.x, taesdxl_decoder for SDXL; also a diffusers "
               "AutoencoderTiny folder or ComfyUI's file): previews while sampling and, with --fast-decode, the final "
               "decode.", "FILE");
  opt("fast-decode", "Decode the image with --taesd instead of the model's VAE: a fraction of the time, a little less "
                     "detail. The PNG records \"VAE Decoder: TAESD\".");
  opt("out", "The PNG to write.", "FILE.png");
  ControlUnitArguments unitArgs;
  try {
    unitArgs = splitControlUnits(args);
  } catch (const ControlUnitUsageError& e) {
    std::fprintf(stderr, "kiln-cli generate: %s (see kiln-cli generate --help)\n", e.what());
    return 2;
  }
  if (!p.parse(unitArgs.rest)) {
    std::fprintf(stderr, "kiln-cli generate: %s\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(p.helpText()), stdout);
    return 0;
  }
  try {
    for (const char* required : {"model", "prompt", "out"}) {
      if (!p.isSet(QLatin1String(required))) throw UsageError{std::string("--") + required + " is required"};
    }
    const QString out = p.value(QStringLiteral("out"));
    pipelines::ModelLoadOptions load;
    const QString device = p.value(QStringLiteral("device")).toLower();
    if (!device.isEmpty() && device != QLatin1String("cpu") && device != QLatin1String("cuda"))
      throw UsageError{"--device must be cpu or cuda"};
    if (device == QLatin1String("cuda")) load.device = torch::Device(torch::kCUDA);
    const QString dtype = p.isSet(QStringLiteral("dtype")) ? p.value(QStringLiteral("dtype")) : QStringLiteral("auto");
    const std::optional<Precision> precision = precision_from_string(dtype.toStdString());
    if (!precision) throw UsageError{"--dtype must be auto, fp32, bf16 or fp16, got '" + dtype.toStdString() + "'"};
    const ResolvedPrecision resolved = resolve_precision(*precision, load.device, cpu_computes_bf16_natively());
    load.dtype = resolved.dtype;
    std::fprintf(stderr, "precision: %s\n", resolved.reason.c_str());
    load.config_dir = p.value(QStringLiteral("config")).toStdString();
    load.tokenizer_dir = bridge::clipVocabularyDir();
    const QString prediction = p.value(QStringLiteral("prediction-type"));
    if (prediction == QLatin1String("epsilon")) load.prediction_type = convert::PredictionType::Epsilon;
    else if (prediction == QLatin1String("v_prediction")) load.prediction_type = convert::PredictionType::VPrediction;
    else if (!prediction.isEmpty()) throw UsageError{"--prediction-type must be epsilon or v_prediction"};

    pipelines::GenerationRequest r;
    r.prompt = p.value(QStringLiteral("prompt")).toStdString();
    r.negative_prompt = p.value(QStringLiteral("negative")).toStdString();
    r.steps = integer(p, "steps", 20);
    r.guidance_scale = real(p, "cfg", 7.0);
    r.clip_skip = static_cast<int>(integer(p, "clip-skip", 1));
    r.batch_size = integer(p, "batch", 1);
    const long long count = integer(p, "count", 1);
    if (count < 1 || count > 1000) throw UsageError{"--count must be between 1 and 1000"};
    const QString syntax = p.value(QStringLiteral("prompt-syntax"));
    if (syntax == QLatin1String("plain")) r.prompt_syntax = text::PromptSyntax::Plain;
    else if (!syntax.isEmpty() && syntax != QLatin1String("a1111")) throw UsageError{"--prompt-syntax must be a1111 or plain"};
    std::optional<pipelines::HiresFix> hires;
    for (const char* name : {"hires-scale", "hires-resize", "hires-upscaler", "hires-steps", "hires-denoising"})
      if (p.isSet(QLatin1String(name))) hires = pipelines::HiresFix{};
    if (hires) {
      hires->scale = real(p, "hires-scale", 2.0);
      hires->steps = integer(p, "hires-steps", 0);
      hires->denoising = real(p, "hires-denoising", 0.7);
      if (p.isSet(QStringLiteral("hires-upscaler"))) {
        const QString upscaler = p.value(QStringLiteral("hires-upscaler"));
        hires->upscaler = upscaler.toStdString();
        if (QFileInfo(upscaler).isFile()) {  // an ESRGAN-family model file; A1111 records its name
          hires->upscaler_model = upscaler.toStdString();
          hires->upscaler = QFileInfo(upscaler).completeBaseName().toStdString();
        }
      }
      if (p.isSet(QStringLiteral("hires-resize"))) {
        const QStringList wh = p.value(QStringLiteral("hires-resize")).split(QLatin1Char('x'));
        bool okw = false, okh = false;
        if (wh.size() == 2) {
          hires->resize_x = wh[0].toLongLong(&okw);
          hires->resize_y = wh[1].toLongLong(&okh);
        }
        if (!okw || !okh) throw UsageError{"--hires-resize takes WxH, e.g. 1024x768"};
      }
      if (p.isSet(QStringLiteral("init-image"))) throw UsageError{"hires fix is for text to image: drop --init-image"};
    }
    if (p.isSet(QStringLiteral("tiled-vae"))) {
      const auto tiling = pipelines::parse_vae_tiling(p.value(QStringLiteral("tiled-vae")).toStdString());
      if (!tiling) throw UsageError{"--tiled-vae must be auto, on or off"};
      r.vae_tiling = *tiling;
    }
    if (p.isSet(QStringLiteral("sampler")))
      r.sampler = schedulers::parse_scheduler_name(p.value(QStringLiteral("sampler")).toStdString());
    std::vector<pipelines::LoRASpec> loras;
    for (const QString& value : p.values(QStringLiteral("lora"))) loras.push_back(parse_lora(value));
    for (const QString& dir : p.values(QStringLiteral("embeddings"))) r.embedding_folders.emplace_back(dir.toStdString());
    // A few-step model or LoRA (LCM, Turbo, Lightning, Hyper-SD, TCD) brings its publisher's sampler,
    // steps and CFG scale for what the command line does not set.
    {
      std::vector<std::filesystem::path> files{p.value(QStringLiteral("model")).toStdString()};
      for (const pipelines::LoRASpec& l : loras) files.push_back(l.path);
      for (const std::filesystem::path& file : files) {
        std::map<std::string, std::string> metadata;
        try {
          if (std::filesystem::is_regular_file(file)) metadata = io::open_weight_file(file)->metadata();
        } catch (const kiln::Error&) {
        }
        const auto few = convert::detect_few_step(file, metadata);
        if (!few) continue;
        std::string applied;
        if (!p.isSet(QStringLiteral("sampler"))) {
          r.sampler = schedulers::parse_scheduler_name(few->sampler);
          applied += " sampler " + few->sampler + ",";
        }
        if (!p.isSet(QStringLiteral("steps"))) {
          r.steps = few->steps;
          applied += " " + std::to_string(few->steps) + " steps,";
        }
        if (!p.isSet(QStringLiteral("cfg"))) {
          r.guidance_scale = few->cfg;
          applied += " CFG " + QString::number(few->cfg).toStdString() + ",";
        }
        if (!applied.empty()) applied.pop_back();
        std::fprintf(stderr, "few-step: %s (%s)%s\n", few->label.c_str(), few->reason.c_str(),
                     applied.empty() ? "; the command line sets sampler, steps and CFG" : (":" + applied).c_str());
        break;
      }
    }
    const bool seed_given = p.isSet(QStringLiteral("seed"));
    std::uint64_t seed = seed_given ? static_cast<std::uint64_t>(integer(p, "seed", 0))
                                    : QRandomGenerator::system()->generate();
    if (p.isSet(QStringLiteral("strength")) && !p.isSet(QStringLiteral("init-image")))
      throw UsageError{"--strength needs --init-image"};

    control::register_network_preprocessors();
    control::PreprocessorContext preprocessing;
    for (const QString& dir : p.values(QStringLiteral("annotator-dir")))
      preprocessing.annotator_dirs.emplace_back(dir.toStdString());
    if (device == QLatin1String("cuda")) preprocessing.device = "cuda";

    // Ctrl-C from here on: a network preprocessor or the sampling stops at its next check.
    InterruptWatcher interrupt("kiln-cli generate");
    preprocessing.stop = interrupt.token();
    const auto started = std::chrono::steady_clock::now();
    const std::filesystem::path model_path = p.value(QStringLiteral("model")).toStdString();
    checkControlUnitModules(unitArgs.units, preprocessing);  // modules, parameters, weights: before loading
    checkControlNetFamilies(model_path, unitArgs.units);
    std::fprintf(stderr, "loading %s\n", model_path.string().c_str());
    // The X/Y/Z plot's axes, checked before the model loads.
    std::optional<bridge::GridAxis> axes[3];
    const char* axisNames[3] = {"x", "y", "z"};
    for (int a = 0; a < 3; ++a) {
      if (!p.isSet(QLatin1String(axisNames[a]))) continue;
      QString error;
      axes[a] = bridge::parseGridAxis(p.value(QLatin1String(axisNames[a])), &error);
      if (!axes[a]) throw UsageError{"--" + std::string(axisNames[a]) + ": " + error.toStdString()};
      for (const QString& v : axes[a]->values) {
        if (axes[a]->kind == QLatin1String("checkpoint") && !QFileInfo::exists(v))
          throw UsageError{"--" + std::string(axisNames[a]) + ": no model at '" + v.toStdString() + "'"};
        if (axes[a]->kind == QLatin1String("lora_file") && !QFileInfo(v).isFile())
          throw UsageError{"--" + std::string(axisNames[a]) + ": no LoRA file at '" + v.toStdString() + "'"};
        if (axes[a]->kind == QLatin1String("sampler")) (void)schedulers::parse_scheduler_name(v.toStdString());
      }
      const bool loraFileAxis = std::any_of(std::begin(axes), std::end(axes), [](const auto& x) {
        return x && x->kind == QLatin1String("lora_file");
      });
      if (axes[a]->kind == QLatin1String("lora") && loras.empty() && !loraFileAxis)
        throw UsageError{"--" + std::string(axisNames[a]) +
                         ": a lora axis changes the weight of the first --lora (or of a lora_file axis); give one"};
      if (axes[a]->kind == QLatin1String("prompt") && !p.value(QStringLiteral("prompt")).contains(axes[a]->values.first()) &&
          !p.value(QStringLiteral("negative")).contains(axes[a]->values.first()))
        throw UsageError{"--" + std::string(axisNames[a]) + ": '" + axes[a]->values.first().toStdString() +
                         "' is not in the prompt or the negative prompt"};
    }
    const bool grid = axes[0] || axes[1] || axes[2];
    const bridge::GridAxis* gx = axes[0] ? &*axes[0] : nullptr;
    const bridge::GridAxis* gy = axes[1] ? &*axes[1] : nullptr;
    const bridge::GridAxis* gz = axes[2] ? &*axes[2] : nullptr;
    const QList<bridge::GridCellIndex> cells = bridge::gridCells(gx, gy, gz);
    if (grid) {
      if (count != 1 || r.batch_size != 1) throw UsageError{"a grid makes one image per cell: drop --count and --batch"};
      const long long limit = integer(p, "grid-limit", 100);
      if (cells.size() > limit)
        throw UsageError{"the grid makes " + std::to_string(cells.size()) + " images, more than --grid-limit " +
                         std::to_string(limit) + "; raise it if you mean it"};
    }

    const std::filesystem::path taesdPath = p.value(QStringLiteral("taesd")).toStdString();
    r.fast_decode = p.isSet(QStringLiteral("fast-decode"));
    if (r.fast_decode && taesdPath.empty()) throw UsageError{"--fast-decode needs --taesd FILE"};
    pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(model_path, load);
    if (!taesdPath.empty()) pipelines::attach_taesd(model, taesdPath);
    const std::int64_t native = pipelines::native_resolution(model);
    r.width = integer(p, "width", native);
    r.height = integer(p, "height", native);
    if (p.isSet(QStringLiteral("init-image"))) {
      const QImage init = read_image(p.value(QStringLiteral("init-image")), "init image");
      r.init_image = bridge::initImageTensor(init, static_cast<int>(r.width), static_cast<int>(r.height));
      r.strength = real(p, "strength", 0.75);
    }
    if (p.isSet(QStringLiteral("mask"))) {
      const QImage mask = read_image(p.value(QStringLiteral("mask")), "mask");
      r.mask = bridge::maskTensor(mask, static_cast<int>(r.width), static_cast<int>(r.height));
    }
    // One load per ControlNet file, however many units use it.
    std::map<QString, pipelines::LoadedControlNet> controlnets;
    QList<bridge::ControlNetUnitUse> unitUses;
    for (qsizetype i = 0; i < unitArgs.units.size(); ++i) {
      const ControlUnitOptions& u = unitArgs.units[i];
      if (!controlnets.count(u.model)) {
        pipelines::ModelLoadOptions cn_load = load;
        cn_load.config_dir.clear();
        std::fprintf(stderr, "loading %s\n", qPrintable(u.model));
        controlnets[u.model] = pipelines::load_controlnet_model(u.model.toStdString(), cn_load);
      }
      const pipelines::LoadedControlNet& cn = controlnets[u.model];
      const int w = static_cast<int>(r.width), h = static_cast<int>(r.height);
      if (!u.module.isEmpty())
        std::fprintf(stderr, "preprocessing ControlNet unit %lld: %s\n", i + 1LL, qPrintable(u.module));
      // The unit's image, preprocessed when it has a module, fitted to the output size.
      const ControlUnitMap prepared = prepareControlUnitMap(u, i, w, h, preprocessing);
      if (prepared.cancelled || interrupt.stopRequested()) {
        std::fprintf(stderr, "kiln-cli generate: cancelled while preparing ControlNet unit %lld; nothing written\n",
                     i + 1LL);
        return kCancelledExit;
      }
      pipelines::ControlNetUnit unit;
      unit.model = cn.model;
      unit.family = cn.family;
      if (!prepared.hint.empty()) {
        // Inpaint: the hint as A1111 hands it to the ControlNet (-1 where the mask is set).
        unit.image = torch::from_blob(const_cast<float*>(prepared.hint.data()), {1, 3, h, w}, torch::kFloat32).clone();
      } else {
        const QImage map(prepared.map.pixels.data(), w, h, w * 3, QImage::Format_RGB888);
        unit.image = bridge::controlImageTensor(map, w, h);
      }
      unit.weight = u.weight.value_or(1.0);
      unit.start = u.start.value_or(0.0);
      unit.end = u.end.value_or(1.0);
      unit.mode = controlMode(u.mode);
      r.control_units.push_back(unit);
      unitUses << prepared.use;
    }
    r.seed = seed;
    pipelines::validate_request(r, model);  // before hashing or sampling anything
    if (hires) pipelines::validate_hires(r, *hires);
    // The embeddings the prompts use, read and checked against the model before any sampling.
    std::vector<pipelines::TextualInversion> embeddings;
    if (!r.embedding_folders.empty()) {
      const pipelines::EmbeddingLibrary library = pipelines::EmbeddingLibrary::scan(r.embedding_folders);
      embeddings =
          pipelines::resolve_embeddings(model, library, {r.prompt, r.negative_prompt}, r.prompt_syntax).used;
      std::string used;
      for (const pipelines::TextualInversion& e : embeddings)
        used += (used.empty() ? "" : ", ") + e.name + " (" + std::to_string(e.count()) + " vector" +
                (e.count() == 1 ? "" : "s") + ")";
      std::fprintf(stderr, "embeddings: %s\n",
                   used.empty() ? ("none of the " + std::to_string(library.files().size()) + " found is in the prompts").c_str()
                                : used.c_str());
    }
    if (hires && !hires->upscaler_model.empty()) {  // loaded once for every run
      std::fprintf(stderr, "loading %s\n", hires->upscaler_model.string().c_str());
      hires->loaded_upscaler = std::make_shared<const models::LoadedUpscaler>(models::load_upscaler(
          hires->upscaler_model, load.device, load.device.is_cuda() ? torch::kHalf : torch::kFloat));
    }
    // Merged into the weights for the whole command (the process ends before anything else uses
    // the model, so nothing is restored).
    if (!loras.empty()) {
      std::fprintf(stderr, "applying %zu LoRA%s\n", loras.size(), loras.size() == 1 ? "" : "s");
      const pipelines::AppliedLoRAs applied = pipelines::apply_loras(model, loras);
      std::fprintf(stderr, "LoRAs changed %zu weights\n", applied.changed_weights());
    }

    bridge::GenerationParameters params;
    params.prompt = QString::fromStdString(r.prompt);
    params.negativePrompt = QString::fromStdString(r.negative_prompt);
    params.steps = static_cast<int>(r.steps);
    params.sampler = QString::fromUtf8(schedulers::display_name(r.sampler).data(),
                                       static_cast<qsizetype>(schedulers::display_name(r.sampler).size()));
    params.cfgScale = r.guidance_scale;
    params.width = static_cast<int>(r.width);
    params.height = static_cast<int>(r.height);
    params.clipSkip = r.clip_skip;
    params.modelName = QFileInfo(QString::fromStdString(model_path.string())).completeBaseName();
    if (r.init_image.defined()) params.denoisingStrength = r.strength;
    if (hires) {
      bridge::HiresUse use;
      use.scale = hires->scale;
      use.resizeX = static_cast<int>(hires->resize_x);
      use.resizeY = static_cast<int>(hires->resize_y);
      use.steps = static_cast<int>(hires->steps);
      use.upscaler = QString::fromStdString(hires->upscaler);
      params.hires = use;
      params.denoisingStrength = hires->denoising;
    }
    params.extra.insert(bridge::kPrecisionKey, QString::fromStdString(precision_name(resolved.dtype)));
    if (r.fast_decode) params.extra.insert(bridge::kVaeDecoderKey, QStringLiteral("TAESD"));
    if (std::filesystem::is_regular_file(model_path))
      params.modelHash = QString::fromStdString(io::sha256_file_cached(model_path).substr(0, 10));
    for (qsizetype i = 0; i < unitArgs.units.size(); ++i) {
      const ControlUnitOptions& u = unitArgs.units[i];
      const pipelines::ControlNetUnit& unit = r.control_units[static_cast<std::size_t>(i)];
      bridge::ControlNetUnitUse use = unitUses[i];  // module, resize mode, resolution, thresholds
      const QFileInfo file(u.model);
      use.model = (file.isDir() ? file.fileName() : file.completeBaseName()) + QStringLiteral(" [") +
                  bridge::legacyModelHash(u.model) + QLatin1Char(']');
      use.weight = unit.weight;
      use.guidanceStart = unit.start;
      use.guidanceEnd = unit.end;
      use.controlMode = bridge::a1111ControlModeName(unit.mode);
      params.controlNets << use;
    }
    for (const pipelines::TextualInversion& e : embeddings) {
      params.embeddings << bridge::EmbeddingUse{QString::fromStdString(e.name),
                                                QString::fromStdString(pipelines::textual_inversion_short_hash(e.file))};
    }
    for (const pipelines::LoRASpec& l : loras) {
      const QString file = QString::fromStdString(l.path.string());
      params.loras << bridge::LoRAUse{QFileInfo(file).completeBaseName(), l.weight,
                                      QString::fromStdString(pipelines::lora_file_hash(l.path).substr(0, 12))};
    }

    if (grid) {
      const QString cellsDir = QFileInfo(out).absolutePath() + QLatin1Char('/') + QFileInfo(out).completeBaseName() +
                               QStringLiteral("-cells");
      QDir().mkpath(cellsDir);
      const pipelines::GenerationRequest base = r;
      const bridge::GenerationParameters baseParams = params;
      std::filesystem::path loadedModel = model_path;
      std::optional<pipelines::AppliedLoRAs> cellLoRAs;
      std::vector<pipelines::LoRASpec> appliedSpecs = loras;  // merged above for the whole command
      QList<QImage> images;
      const auto valueOf = [&](const QString& kind, const bridge::GridCellIndex& c) -> std::optional<QString> {
        const bridge::GridAxis* list[3] = {gx, gy, gz};
        const int at[3] = {c.x, c.y, c.z};
        for (int a = 0; a < 3; ++a)
          if (list[a] && list[a]->kind == kind) return list[a]->values.at(at[a]);
        return std::nullopt;
      };
      for (qsizetype n = 0; n < cells.size(); ++n) {
        const bridge::GridCellIndex& c = cells[n];
        pipelines::GenerationRequest cr = base;
        bridge::GenerationParameters cp = baseParams;
        cr.seed = seed;
        if (const auto v = valueOf(QStringLiteral("seed"), c)) cr.seed = v->toULongLong();
        if (const auto v = valueOf(QStringLiteral("steps"), c)) cr.steps = v->toLongLong();
        if (const auto v = valueOf(QStringLiteral("cfg"), c)) cr.guidance_scale = v->toDouble();
        if (const auto v = valueOf(QStringLiteral("sampler"), c)) cr.sampler = schedulers::parse_scheduler_name(v->toStdString());
        if (const auto v = valueOf(QStringLiteral("prompt"), c)) {
          const QString find = (gx && gx->kind == QLatin1String("prompt")) ? gx->values.first()
                               : (gy && gy->kind == QLatin1String("prompt")) ? gy->values.first()
                                                                               : gz->values.first();
          cr.prompt = QString::fromStdString(base.prompt).replace(find, *v).toStdString();
          cr.negative_prompt = QString::fromStdString(base.negative_prompt).replace(find, *v).toStdString();
        }
        // Another checkpoint: load it (LoRAs come back on top of it below).
        const std::filesystem::path wanted =
            valueOf(QStringLiteral("checkpoint"), c) ? std::filesystem::path(valueOf(QStringLiteral("checkpoint"), c)->toStdString())
                                                     : model_path;
        std::vector<pipelines::LoRASpec> wantedLoRAs = loras;
        if (const auto v = valueOf(QStringLiteral("lora_file"), c)) {
          if (wantedLoRAs.empty()) wantedLoRAs.push_back({v->toStdString(), 1.0});
          else wantedLoRAs.front().path = v->toStdString();
        }
        if (const auto v = valueOf(QStringLiteral("lora"), c)) wantedLoRAs.front().weight = v->toDouble();
        if (wanted != loadedModel) {
          cellLoRAs.reset();
          std::fprintf(stderr, "loading %s\n", wanted.string().c_str());
          model = pipelines::load_stable_diffusion(wanted, load);
          if (!taesdPath.empty()) pipelines::attach_taesd(model, taesdPath);
          loadedModel = wanted;
          appliedSpecs.clear();
        }
        if (wantedLoRAs != appliedSpecs) {
          if (cellLoRAs) cellLoRAs->restore();
          cellLoRAs.reset();
          if (appliedSpecs == loras && !loras.empty() && loadedModel == model_path) {
            // The command-wide merge above: reload rather than guess its originals.
            model = pipelines::load_stable_diffusion(loadedModel, load);
            if (!taesdPath.empty()) pipelines::attach_taesd(model, taesdPath);
          }
          if (!wantedLoRAs.empty()) cellLoRAs = pipelines::apply_loras(model, wantedLoRAs);
          appliedSpecs = wantedLoRAs;
        }
        pipelines::validate_request(cr, model);
        cp.prompt = QString::fromStdString(cr.prompt);
        cp.negativePrompt = QString::fromStdString(cr.negative_prompt);
        cp.steps = static_cast<int>(cr.steps);
        cp.cfgScale = cr.guidance_scale;
        cp.sampler = QString::fromUtf8(schedulers::display_name(cr.sampler).data());
        cp.seed = cr.seed;
        if (loadedModel != model_path) {
          cp.modelName = QFileInfo(QString::fromStdString(loadedModel.string())).completeBaseName();
          cp.modelHash = std::filesystem::is_regular_file(loadedModel)
                             ? QString::fromStdString(io::sha256_file_cached(loadedModel).substr(0, 10))
                             : QString();
        }
        if (valueOf(QStringLiteral("lora_file"), c)) {
          cp.loras.clear();
          for (const pipelines::LoRASpec& l : wantedLoRAs)
            cp.loras << bridge::LoRAUse{QFileInfo(QString::fromStdString(l.path.string())).completeBaseName(), l.weight,
                                        QString::fromStdString(pipelines::lora_file_hash(l.path).substr(0, 12))};
        }
        for (qsizetype i = 0; i < cp.loras.size() && i < qsizetype(wantedLoRAs.size()); ++i) cp.loras[i].weight = wantedLoRAs[i].weight;
        pipelines::GenerationCallbacks callbacks;
        callbacks.on_step = [&](const pipelines::StepInfo& info) {
          std::fprintf(stderr, "\rcell %lld/%lld  step %lld/%lld", static_cast<long long>(n + 1),
                       static_cast<long long>(cells.size()), static_cast<long long>(info.step),
                       static_cast<long long>(info.total));
          if (info.step == info.total) std::fputc('\n', stderr);
        };
        const pipelines::GenerationResult result = hires ? pipelines::generate_hires(model, cr, *hires, interrupt.token(), callbacks)
                                                         : pipelines::generate(model, cr, interrupt.token(), callbacks);
        if (result.cancelled) {
          std::fprintf(stderr, "\nkiln-cli generate: cancelled; %lld of %lld cells written to %s, no grid\n",
                       static_cast<long long>(n), static_cast<long long>(cells.size()), qPrintable(cellsDir));
          return kCancelledExit;
        }
        for (const std::string& w : result.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
        const QImage image = bridge::imageFromTensor(result.images[0]);
        const QString file = cellsDir + QStringLiteral("/%1.png").arg(n, 3, 10, QLatin1Char('0'));
        QString error;
        if (!bridge::writePngWithParameters(file, image, cp.toText(), &error))
          throw FileError("cannot write the image: " + error.toStdString(), file.toStdString());
        images << image;
      }
      const QImage gridImage = bridge::composeGrid(images, gx, gy, gz);
      bridge::GenerationParameters gp = baseParams;
      gp.seed = seed;
      for (int a = 0; a < 3; ++a) {
        if (!axes[a]) continue;
        const QString axisName = QString(QLatin1Char(axisNames[a][0])).toUpper();
        gp.extra.insert(QStringLiteral("Script"), QStringLiteral("X/Y/Z plot"));
        gp.extra.insert(axisName + QStringLiteral(" Type"), axes[a]->title());
        gp.extra.insert(axisName + QStringLiteral(" Values"), axes[a]->valuesText());
      }
      QString error;
      if (!bridge::writePngWithParameters(out, gridImage, gp.toText(), &error))
        throw FileError("cannot write the grid: " + error.toStdString(), out.toStdString());
      std::printf("wrote %s (%lld cells in %s)\n", qPrintable(out), static_cast<long long>(cells.size()), qPrintable(cellsDir));
      return 0;
    }

    const int total_images = static_cast<int>(count * r.batch_size);
    int written = 0;
    for (long long run = 0; run < count; ++run) {
      r.seed = seed + static_cast<std::uint64_t>(run);
      std::printf("seed %llu\n", static_cast<unsigned long long>(r.seed));
      std::fflush(stdout);
      pipelines::GenerationCallbacks callbacks;
      callbacks.on_step = [&](const pipelines::StepInfo& info) {
        const double rate = info.seconds > 0 ? static_cast<double>(info.step) / info.seconds : 0.0;
        std::fprintf(stderr, "\rrun %lld/%lld  step %lld/%lld  %.2f it/s", run + 1, count,
                     static_cast<long long>(info.step), static_cast<long long>(info.total), rate);
        if (info.step == info.total) std::fputc('\n', stderr);
      };
      const pipelines::GenerationResult result = hires ? pipelines::generate_hires(model, r, *hires, interrupt.token(), callbacks)
                                                       : pipelines::generate(model, r, interrupt.token(), callbacks);
      if (result.cancelled) {
        std::fprintf(stderr, "\nkiln-cli generate: cancelled; %d of %d images written\n", written, total_images);
        return kCancelledExit;
      }
      for (const std::string& w : result.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
      params.seed = r.seed;
      for (std::int64_t i = 0; i < result.images.size(0); ++i) {
        const QString file = output_name(out, written, total_images);
        QString error;
        if (!bridge::writePngWithParameters(file, bridge::imageFromTensor(result.images[i]), params.toText(), &error))
          throw FileError("cannot write the image: " + error.toStdString(), file.toStdString());
        std::printf("wrote %s\n", qPrintable(file));
        ++written;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "done: %d image%s in %.1f s\n", written, written == 1 ? "" : "s", seconds);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "kiln-cli generate: %s (see kiln-cli generate --help)\n", e.message.c_str());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "kiln-cli generate: %s\n", one_line(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-cli generate: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}

int run_png_info(const QStringList& args) {
  QCommandLineParser p;
  p.setApplicationDescription(QStringLiteral("Prints the AUTOMATIC1111 parameters a PNG carries."));
  p.addHelpOption();
  p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("A PNG written by Kiln or AUTOMATIC1111."));
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli png-info: %s\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(qPrintable(p.helpText()), stdout);
    return 0;
  }
  if (p.positionalArguments().size() != 1) {
    std::fprintf(stderr, "kiln-cli png-info: expected one FILE (see kiln-cli png-info --help)\n");
    return 2;
  }
  const QString file = p.positionalArguments().front();
  if (!QFileInfo::exists(file)) {
    std::fprintf(stderr, "kiln-cli png-info: %s: no such file\n", qPrintable(file));
    return 1;
  }
  const QString text = bridge::readPngParameters(file);
  if (text.isEmpty()) {
    std::fprintf(stderr, "kiln-cli png-info: %s: no parameters (not a PNG from Kiln or AUTOMATIC1111)\n", qPrintable(file));
    return 1;
  }
  std::printf("%s\n", qPrintable(text));
  return 0;
}

}  // namespace kiln::cli
