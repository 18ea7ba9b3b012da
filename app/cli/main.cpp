// kiln-cli: Kiln's engine without the GUI, for servers and scripts.
#include <QCoreApplication>
#include <QGuiApplication>
#include <QStringList>

#include <cstdio>
#include <cstring>
#include <memory>

#include "base/engine.h"
#include "base/runtime_info.h"
#include "cli/commands.h"

namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "Usage: kiln-cli <command> [options]\n"
      "\n"
      "Kiln's engine without the GUI, for servers and scripts.\n"
      "\n"
      "Commands:\n"
      "  info PATH [--json] [--no-hash]   What a model is: family, layout, components,\n"
      "                                   prediction type, metadata, sha256 / A1111 hash\n"
      "  tokenize TEXT [--pad sd1|sd2] [--prompt-syntax a1111|plain] [--json]\n"
      "                                   The token ids and weights a prompt gives the text\n"
      "                                   encoder, and its token count (n/75)\n"
      "  generate --model PATH --prompt TEXT --out FILE.png [options]\n"
      "                                   txt2img, img2img, inpainting, ControlNet; PNGs carry\n"
      "                                   AUTOMATIC1111's parameters (see generate --help)\n"
      "  png-info FILE                    The generation parameters a PNG carries\n"
      "  upscale IN --model FILE.pth --out OUT.png [--scale X] [--tile N] [--device cuda]\n"
      "                                   An ESRGAN-family upscale (RealESRGAN, 4x-UltraSharp, ...)\n"
      "                                   in tiles, keeping the PNG's parameters\n"
      "  convert IN OUT [--to single-file|diffusers] [--half|--bf16] [--format safetensors|ckpt]\n"
      "                                   Diffusers folder <-> original single file (A1111 /\n"
      "                                   ComfyUI layout), verified by reading it back\n"
      "  dataset prepare SRC OUT_DIR --size N [--token WORD] [--filename-captions] [--json REPORT]\n"
      "                                   Square, face-aware training crops with captions from a\n"
      "                                   folder or .zip of photos\n"
      "  dataset caption DIR --endpoint URL --model NAME [--preset subject|style|tags] [--mode fill|replace|append]\n"
      "                                   Captions from a vision model behind an OpenAI-compatible\n"
      "                                   endpoint (see dataset caption --help)\n"
      "  endpoint check --endpoint URL --model NAME [--api-key-env VAR]\n"
      "                                   Whether an endpoint answers, knows the model and sees images\n"
      "  train --session DIR [--base MODEL --images DIR] [--token WORD] [--lora-rank N] [--resume]\n"
      "                                   DreamBooth (text encoder, then UNet) or LoRA training\n"
      "                                   with checkpoints and exact resume (see train --help)\n"
      "  export --session DIR --out FILE [--half] [--format safetensors|ckpt|diffusers]\n"
      "                                   The trained model or LoRA, verified by reloading\n"
      "  session export DIR --out FILE.zip [--with-checkpoints|--weights-only]\n"
      "  session import FILE.zip DIR [--models DIR...]\n"
      "                                   A training session as one archive, to carry it to another\n"
      "                                   machine; it resumes exactly there (see session --help)\n"
      "  control detect --module NAME IMAGE --out MAP.png [--resolution N] [--param KEY=VALUE]\n"
      "                                   A preprocessor's control map (canny, depth, HED, lineart,\n"
      "                                   ...) as AUTOMATIC1111's ControlNet extension computes it\n"
      "  control list [--json]            The preprocessors, their parameters and weight files\n"
      "  control render-pose POSE.json --out MAP.png [--width W --height H] [--renderer NAME]\n"
      "                                   The pose map of an OpenPose JSON / ComfyUI POSE_KEYPOINT\n"
      "                                   file, drawn as A1111, ComfyUI or ControlNet 1.1 draw it\n"
      "  serve [--host 127.0.0.1] [--port 7860] [--models DIR...] [--embeddings DIR]\n"
      "        [--api-auth USER:PASS[,...]] [--cors-allow-origins LIST]\n"
      "                                   AUTOMATIC1111's web API (/sdapi/v1) for A1111 clients\n"
      "                                   (see serve --help, docs/api.md)\n"
      "  models catalog [--json]          The models Kiln can download, with size, licence and sha256\n"
      "  models download ID|LINK|hf:OWNER/REPO/FILE[@REV]|civitai:VERSION --to DIR\n"
      "                                   A verified, resumable download (Ctrl-C keeps the part;\n"
      "                                   run it again to resume)\n"
      "\n"
      "Options:\n"
      "  -h, --help      This help; `kiln-cli <command> --help` for a command's options\n"
      "  -v, --version   Versions of Kiln and LibTorch (CUDA, cuDNN) and the devices it sees\n"
      "\n"
      "Environment: KILN_THREADS sets the number of CPU threads (default: all cores); HF_TOKEN,\n"
      "CIVITAI_TOKEN open gated downloads and HF_ENDPOINT picks a Hugging Face mirror.\n",
      out);
}

}  // namespace

// Drawing text (the X/Y/Z plot's labels) needs a QGuiApplication; kiln-cli then runs on Qt's
// offscreen platform, so no display is needed either.
static bool needsFonts(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "generate") != 0) return false;
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--x") || !std::strcmp(argv[i], "--y") || !std::strcmp(argv[i], "--z")) return true;
  return false;
}

int main(int argc, char** argv) {
  std::unique_ptr<QCoreApplication> application;
  if (needsFonts(argc, argv)) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    application = std::make_unique<QGuiApplication>(argc, argv);
  } else {
    application = std::make_unique<QCoreApplication>(argc, argv);
  }
  QCoreApplication::setApplicationName(QStringLiteral("kiln-cli"));
  QCoreApplication::setOrganizationName(QStringLiteral("Kiln"));
  QCoreApplication::setApplicationVersion(QStringLiteral(KILN_VERSION));
  kiln::init_engine();

  QStringList args = QCoreApplication::arguments();
  if (args.size() < 2) {
    print_usage(stderr);
    return 2;
  }
  const QString command = args.at(1);
  if (command == QLatin1String("-h") || command == QLatin1String("--help") || command == QLatin1String("help")) {
    print_usage(stdout);
    return 0;
  }
  if (command == QLatin1String("-v") || command == QLatin1String("--version")) {
    // Kiln's version, then LibTorch's, its CUDA/cuDNN and the devices this process sees.
    std::printf("kiln-cli %s\n%s", KILN_VERSION, kiln::describe(kiln::runtime_info()).c_str());
    return 0;
  }
  args.removeAt(1);  // the command's parser sees "kiln-cli <options...>"
  if (command == QLatin1String("info")) return kiln::cli::run_info(args);
  if (command == QLatin1String("tokenize")) return kiln::cli::run_tokenize(args);
  if (command == QLatin1String("generate")) return kiln::cli::run_generate(args);
  if (command == QLatin1String("png-info")) return kiln::cli::run_png_info(args);
  if (command == QLatin1String("convert")) return kiln::cli::run_convert(args);
  if (command == QLatin1String("dataset")) return kiln::cli::run_dataset(args);
  if (command == QLatin1String("train")) return kiln::cli::run_train(args);
  if (command == QLatin1String("export")) return kiln::cli::run_export(args);
  if (command == QLatin1String("control")) return kiln::cli::run_control(args);
  if (command == QLatin1String("models")) return kiln::cli::run_models(args);
  if (command == QLatin1String("endpoint")) return kiln::cli::run_endpoint(args);
  if (command == QLatin1String("upscale")) return kiln::cli::run_upscale(args);
  if (command == QLatin1String("serve")) return kiln::cli::run_serve(args);
  if (command == QLatin1String("session")) return kiln::cli::run_session(args);
  std::fprintf(stderr, "kiln-cli: unknown command '%s' (commands: info, tokenize, generate, png-info, upscale, convert, dataset, train, export, session, control, models, endpoint, serve; see kiln-cli --help)\n",
               qPrintable(command));
  return 2;
}
