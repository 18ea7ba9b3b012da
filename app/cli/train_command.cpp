// kiln-cli train / export: DreamBooth (two stages) and LoRA sessions without the GUI.
#include <QCommandLineParser>
#include <QCoreApplication>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stop_token>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "base/engine.h"
#include "base/error.h"
#include "bridge/resource_paths.h"
#include "cli/commands.h"
#include "training/distributed_settings.h"
#include "training/session_export.h"
#include "training/trainer.h"

extern char** environ;

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;
using training::TrainingSettings;

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

// The launcher's count of signals to pass on to its ranks.
std::atomic<int> g_forward{0};
extern "C" void on_launcher_signal(int) { g_forward.fetch_add(1); }

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// One line on stderr; exit code 2 for an impossible request, 1 for failed work. A rank of a
// data-parallel run other than 0 says which it is.
int report_error(const std::exception& e, int rank = 0) {
  if (rank != 0) {
    std::fprintf(stderr, "kiln-cli (rank %d): error: %s\n", rank, one_line(e.what()).c_str());
  } else {
    std::fprintf(stderr, "kiln-cli: error: %s\n", one_line(e.what()).c_str());
  }
  return dynamic_cast<const kiln::InvalidRequestError*>(&e) != nullptr ? 2 : 1;
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

const char* kTrainHelp =
    "Usage: kiln-cli train --session DIR [--base MODEL --images DIR] [options]\n"
    "\n"
    "Fine-tunes a Stable Diffusion 1.x / 2.x model on a folder of images. A new session folder is\n"
    "created from the options (--base and --images are required then); an existing one is\n"
    "continued with --resume, exactly where its last checkpoint left it (also after a crash or\n"
    "kill -9). DreamBooth runs in two stages: the text encoder with the UNet frozen, then the UNet\n"
    "with the text encoder frozen; either may have 0 steps. --lora-rank trains LoRA adapters\n"
    "instead. Prompts: the .txt caption beside each image, else its file name\n"
    "(fast-stable-diffusion's rule), with the instance token added.\n"
    "Progress goes to stderr; Ctrl-C saves a checkpoint and stops (resume later with --resume).\n"
    "\n"
    "Options:\n"
    "  --session DIR              Session folder (settings.json, checkpoints/, samples/, metrics.jsonl)\n"
    "  --base MODEL               Base model: single file or diffusers folder\n"
    "  --images DIR               Instance images (e.g. from `kiln-cli dataset prepare`)\n"
    "  --token WORD               Instance token added to every prompt\n"
    "  --filename-captions        Prompts from file names even where a caption file exists\n"
    "  --class-prompt TEXT        Prior preservation with class images of TEXT (generated with\n"
    "                             the base model when the session has fewer than --num-class-images)\n"
    "  --num-class-images N       Class images (default 100)\n"
    "  --prior-loss-weight X      Weight of the class-image loss (default 1)\n"
    "  --text-encoder-steps N     Stage 1 steps (default 350; 0 skips it)\n"
    "  --unet-steps N             Stage 2 steps (default 1500; 0 skips it)\n"
    "  --lr-text X                Stage 1 learning rate (default 1e-6)\n"
    "  --lr-unet X                Stage 2 learning rate (default 2e-6)\n"
    "  --lr-schedule NAME         linear (default), constant, constant_with_warmup, cosine\n"
    "  --warmup-steps N           Warm-up steps (default 0)\n"
    "  --resolution N             Training resolution (default 512)\n"
    "  --batch-size N             Images per step (default 1)\n"
    "  --gradient-accumulation N  Batches per optimizer step (default 1)\n"
    "  --offset-noise X           Offset noise (0 = off; fast-stable-diffusion uses 0.1)\n"
    "  --min-snr-gamma X          min-SNR loss weighting (0 = off; 5 is usual)\n"
    "  --lora-rank N              Train LoRA adapters of rank N instead of the full model\n"
    "  --lora-alpha X             LoRA alpha (default: the rank)\n"
    "  --lora-text-encoder        Also adapt the text encoder (stage 1)\n"
    "  --save-every N             Checkpoint every N steps of a stage (default 500; 0: stage ends)\n"
    "  --keep-checkpoints N       Keep the newest N checkpoints as files to compare and use (default 4;\n"
    "                             0: none): SESSION/checkpoints/<session>-<step>.safetensors, the whole\n"
    "                             model (fp16) or the LoRA (kohya layout); compare them with kiln-cli\n"
    "                             generate --x checkpoint:A,B,... (LoRA: --x lora_file:A,B,...)\n"
    "  --sample-every N           Sample images every N steps (needs --sample-prompt)\n"
    "  --sample-prompt TEXT       A sample prompt (repeatable)\n"
    "  --seed N                   Seed (default 1337)\n"
    "  --device cpu|cuda          Device (default cpu)\n"
    "  --mixed-precision no|fp16|bf16  CUDA only (default no)\n"
    "  --optimizer NAME           adamw (default; 8 bytes of state a trained parameter), adamw8bit\n"
    "                             (bitsandbytes' block-wise 8-bit AdamW: about 2 bytes), adafactor\n"
    "                             (factored second moments, no first: rows + columns a matrix)\n"
    "  --gradient-checkpointing   Recompute UNet activations in the backward pass: less memory,\n"
    "                             about a third slower\n"
    "  --config DIR               Diffusers folder with configs for a single-file base that is\n"
    "                             not a reference size\n"
    "  --resume                   Continue an existing session (step options extend it). The options\n"
    "                             fixed at its creation (--base, --images, --token, --resolution,\n"
    "                             --seed, --lora-rank, ...) may be given again with the same values,\n"
    "                             so the original command line with --resume appended works; a\n"
    "                             changed value is refused, naming the old and the new one\n"
    "\n"
    "Data-parallel training (docs/distributed.md): one process per device, gradients averaged over\n"
    "them with PyTorch's c10d (Gloo on CPUs, NCCL between GPUs); the global batch is --batch-size x\n"
    "the number of ranks. kiln-cli train reads the launchers' environment (RANK, WORLD_SIZE,\n"
    "LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so torchrun, srun and training operators start it like\n"
    "any PyTorch job; all ranks need the session folder (a shared file system), rank 0 writes it.\n"
    "  --nproc-per-node N         Start N local ranks itself (a rendezvous on a free loopback port);\n"
    "                             with --device cuda each uses its own card (cuda:LOCAL_RANK)\n"
    "  --dist-timeout SECONDS     How long a rank waits for the others (rendezvous, each gradient\n"
    "                             exchange) before the run stops naming the rank that died or hung\n"
    "                             (default 1800; it must cover a checkpoint or samples on rank 0)\n"
    "  -h, --help                 This help\n";

const char* kExportHelp =
    "Usage: kiln-cli export --session DIR --out FILE [--half] [--format safetensors|ckpt|diffusers]\n"
    "\n"
    "Writes what a training session made from its latest checkpoint: a DreamBooth model as one\n"
    ".safetensors file (default; metadata: base model, steps, learning rates, token, resolution),\n"
    "a .ckpt or a diffusers folder; a LoRA as a kohya/AUTOMATIC1111 .safetensors. Verified by\n"
    "reloading it.\n"
    "\n"
    "Options:\n"
    "  --session DIR     The session folder\n"
    "  --out FILE        File or folder to create\n"
    "  --format NAME     safetensors (default), ckpt, diffusers\n"
    "  --half            fp16 weights (default fp32)\n"
    "  --overwrite       Replace an existing output\n"
    "  -h, --help        This help\n";

template <typename T>
bool number_option(const QCommandLineParser& p, const QString& name, T& out) {
  if (!p.isSet(name)) return true;
  bool ok = false;
  const QString text = p.value(name);
  if constexpr (std::is_floating_point_v<T>) {
    out = static_cast<T>(text.toDouble(&ok));
  } else if constexpr (std::is_unsigned_v<T>) {
    out = static_cast<T>(text.toULongLong(&ok));
  } else {
    out = static_cast<T>(text.toLongLong(&ok));
  }
  if (!ok) {
    std::fprintf(stderr, "kiln-cli train: --%s must be a number, got '%s'\n", qPrintable(name), qPrintable(text));
  }
  return ok;
}

bool same_path(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  return fs::weakly_canonical(a, ec).lexically_normal() == fs::weakly_canonical(b, ec).lexically_normal();
}

std::string number_text(double v) { return QString::number(v, 'g', 12).toStdString(); }

// On --resume, the options a session fixed at its creation may be given again with the same
// value (re-running the original command line with --resume appended); the first one given
// with another value is described ("--seed cannot change in an existing session (the session
// has 11, the command line 12)"). Also an option that is not a number. Empty: nothing changed.
std::string fixed_option_change(const QCommandLineParser& p, const TrainingSettings& s) {
  auto changed = [](const char* name, const std::string& before, const std::string& now) {
    return "--" + std::string(name) + " cannot change in an existing session (the session has '" + before +
           "', the command line '" + now + "')";
  };
  auto value = [&p](const char* name) { return p.value(QString::fromLatin1(name)).toStdString(); };
  auto set = [&p](const char* name) { return p.isSet(QString::fromLatin1(name)); };
  for (const auto& [name, path] : {std::pair<const char*, const fs::path*>{"base", &s.base_model},
                                   {"images", &s.images},
                                   {"config", &s.config_dir}}) {
    if (set(name) && !same_path(*path, value(name))) return changed(name, path->string(), value(name));
  }
  for (const auto& [name, text] :
       {std::pair<const char*, const std::string*>{"token", &s.token}, {"class-prompt", &s.class_prompt}}) {
    if (set(name) && *text != value(name)) return changed(name, *text, value(name));
  }
  if (set("lora-rank") && s.method != training::TrainingMethod::LoRA) {
    return changed("lora-rank", "DreamBooth, no LoRA", value("lora-rank"));
  }
  const std::pair<const char*, double> numbers[] = {{"resolution", s.resolution},
                                                    {"batch-size", s.batch_size},
                                                    {"lora-rank", s.lora_rank},
                                                    {"lora-alpha", s.lora_alpha},
                                                    {"num-class-images", s.num_class_images},
                                                    {"prior-loss-weight", s.prior_loss_weight}};
  for (const auto& [name, before] : numbers) {
    if (!set(name)) continue;
    bool ok = false;
    const double now = p.value(QString::fromLatin1(name)).toDouble(&ok);
    if (!ok) return "--" + std::string(name) + " must be a number, got '" + value(name) + "'";
    if (now != before) return changed(name, number_text(before), value(name));
  }
  if (set("seed")) {
    bool ok = false;
    const std::uint64_t seed = p.value(QStringLiteral("seed")).toULongLong(&ok);
    if (!ok) return "--seed must be a number, got '" + value("seed") + "'";
    if (seed != s.seed) return changed("seed", std::to_string(s.seed), value("seed"));
  }
  const std::tuple<const char*, bool, const char*> flags[] = {
      {"filename-captions", s.captions == training::CaptionSource::FileNames, "prompts from caption files"},
      {"lora-text-encoder", s.lora_text_encoder, "no text encoder LoRA"},
      {"gradient-checkpointing", s.gradient_checkpointing, "no gradient checkpointing"}};
  for (const auto& [name, on, off] : flags) {
    if (set(name) && !on) return changed(name, off, "--" + std::string(name));
  }
  if (set("optimizer") && value("optimizer") != training::to_string(s.optimizer)) {
    return changed("optimizer", std::string(training::to_string(s.optimizer)), value("optimizer"));
  }
  if (set("mixed-precision") && value("mixed-precision") != training::to_string(s.mixed_precision)) {
    return changed("mixed-precision", std::string(training::to_string(s.mixed_precision)), value("mixed-precision"));
  }
  return {};
}

// A loopback port nobody listens on now (the launcher's rendezvous).
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw FileError("cannot open a socket: " + system_error_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) throw FileError("cannot find a free loopback port: " + system_error_text(err));
  return ntohs(addr.sin_port);
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) + (name ? " (SIG" + std::string(name) + ")" : std::string());
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

// --nproc-per-node: runs `nproc` ranks of this kiln-cli on the prepared session, with the
// launchers' environment and a rendezvous on a free loopback port, as torchrun's standalone
// mode does. When one rank fails, the others stop on their own within the timeout (naming it);
// any still running `timeout` + 30 s later are killed. Ctrl-C / SIGTERM reach every rank (they
// save a checkpoint together and stop). Returns 0 when all finished, 130 when they stopped on a
// request, else the first failed rank's code (1 for a signal).
int launch_local_ranks(const fs::path& session, int nproc, double timeout_seconds) {
  const int port = free_loopback_port();
  const std::string exe = QCoreApplication::applicationFilePath().toStdString();
  std::vector<std::string> base_env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    const std::string name = var.substr(0, var.find('='));
    if (name == "RANK" || name == "WORLD_SIZE" || name == "LOCAL_RANK" || name == "LOCAL_WORLD_SIZE" ||
        name == "MASTER_ADDR" || name == "MASTER_PORT" || name == "TORCHELASTIC_USE_AGENT_STORE") {
      continue;
    }
    base_env.push_back(var);
  }
  std::fprintf(stderr, "kiln-cli train: starting %d ranks (c10d rendezvous on 127.0.0.1:%d)\n", nproc, port);
  std::signal(SIGINT, on_launcher_signal);
  std::signal(SIGTERM, on_launcher_signal);
  std::vector<pid_t> pids(static_cast<std::size_t>(nproc), -1);
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> env = base_env;
    for (const auto& [k, v] : {std::pair<const char*, std::string>{"RANK", std::to_string(r)},
                               {"LOCAL_RANK", std::to_string(r)},
                               {"WORLD_SIZE", std::to_string(nproc)},
                               {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
                               {"MASTER_ADDR", "127.0.0.1"},
                               {"MASTER_PORT", std::to_string(port)}}) {
      env.push_back(std::string(k) + "=" + v);
    }
    const std::vector<std::string> argv_text = {exe,         "train", "--session", session.string(), "--resume",
                                                "--dist-timeout", number_text(timeout_seconds)};
    std::vector<char*> argv, envp;
    for (const auto& a : argv_text) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data());
    if (rc != 0) {
      std::fprintf(stderr, "kiln-cli train: cannot start rank %d: %s\n", r, system_error_text(rc).c_str());
      for (pid_t p : pids) {
        if (p > 0) ::kill(p, SIGKILL);
      }
      for (pid_t p : pids) {
        if (p > 0) ::waitpid(p, nullptr, 0);
      }
      return 1;
    }
    pids[static_cast<std::size_t>(r)] = pid;
  }

  int running = nproc, forwarded = 0, result = 0, failed_rank = -1;
  bool all_stopped = true;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  while (running > 0) {
    for (; forwarded < g_forward.load(); ++forwarded) {
      for (pid_t p : pids) {
        if (p > 0) ::kill(p, SIGINT);
      }
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done <= 0) {
      if (deadline && std::chrono::steady_clock::now() > *deadline) {
        for (std::size_t r = 0; r < pids.size(); ++r) {
          if (pids[r] > 0) {
            std::fprintf(stderr, "kiln-cli train: rank %zu did not stop after rank %d failed; killing it\n", r,
                         failed_rank);
            ::kill(pids[r], SIGKILL);
          }
        }
        deadline.reset();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = std::find(pids.begin(), pids.end(), done);
    if (it == pids.end()) continue;
    const int rank = static_cast<int>(it - pids.begin());
    *it = -1;
    --running;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const bool stopped = WIFEXITED(status) && WEXITSTATUS(status) == 130;
    if (!stopped) all_stopped = false;
    if (!ok && !stopped && failed_rank < 0) {
      failed_rank = rank;
      result = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      std::fprintf(stderr, "kiln-cli train: rank %d %s; the other ranks stop within --dist-timeout (%s s)\n", rank,
                   exit_text(status).c_str(), number_text(timeout_seconds).c_str());
      deadline = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000.0) + 30000);
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (failed_rank >= 0) return result;
  return all_stopped ? 130 : 0;
}

}  // namespace

int run_train(const QStringList& args) {
  QCommandLineParser p;
  p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  p.addOption({{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Help.")});
  const QStringList valued = {"session", "base", "images", "token", "class-prompt", "num-class-images",
                              "prior-loss-weight", "text-encoder-steps", "unet-steps", "lr-text", "lr-unet",
                              "lr-schedule", "warmup-steps", "resolution", "batch-size", "gradient-accumulation",
                              "offset-noise", "min-snr-gamma", "lora-rank", "lora-alpha", "save-every", "keep-checkpoints",
                              "sample-every", "sample-prompt", "seed", "device", "mixed-precision", "config",
                              "nproc-per-node", "dist-timeout", "optimizer"};
  for (const QString& name : valued) p.addOption({name, name, QStringLiteral("VALUE")});
  for (const char* flag : {"filename-captions", "lora-text-encoder", "resume", "gradient-checkpointing"}) {
    p.addOption({QString::fromLatin1(flag), QString::fromLatin1(flag)});
  }
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli train: %s (see kiln-cli train --help)\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(kTrainHelp, stdout);
    return 0;
  }
  if (!p.positionalArguments().isEmpty()) {
    std::fprintf(stderr, "kiln-cli train: unexpected argument '%s' (see kiln-cli train --help)\n",
                 qPrintable(p.positionalArguments().first()));
    return 2;
  }
  if (!p.isSet(QStringLiteral("session"))) {
    std::fprintf(stderr, "kiln-cli train: --session DIR is required (see kiln-cli train --help)\n");
    return 2;
  }
  const fs::path session = p.value(QStringLiteral("session")).toStdString();
  const bool resume = p.isSet(QStringLiteral("resume"));

  // Data-parallel: the launchers' environment, or --nproc-per-node.
  training::DistributedSettings dist;
  int nproc = 1;
  double timeout_seconds = 1800;
  try {
    if (const auto from_env = training::distributed_from_environment()) dist = *from_env;
  } catch (const std::exception& e) {
    return report_error(e);
  }
  if (!number_option(p, QStringLiteral("nproc-per-node"), nproc) ||
      !number_option(p, QStringLiteral("dist-timeout"), timeout_seconds)) {
    return 2;
  }
  if (nproc < 1 || nproc > 64) {
    std::fprintf(stderr, "kiln-cli train: --nproc-per-node must be 1..64, got %d\n", nproc);
    return 2;
  }
  if (!(timeout_seconds > 0) || timeout_seconds > 7 * 24 * 3600) {
    std::fprintf(stderr, "kiln-cli train: --dist-timeout must be a positive number of seconds\n");
    return 2;
  }
  if (nproc > 1 && dist.active()) {
    std::fprintf(stderr,
                 "kiln-cli train: --nproc-per-node starts the ranks itself; under a launcher that sets WORLD_SIZE "
                 "(torchrun, srun) leave it out\n");
    return 2;
  }
  dist.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds * 1000.0));
  const int world = nproc > 1 ? nproc : dist.world_size;
  // Ranks sharing a machine share its cores: OMP_NUM_THREADS when the launcher set it (torchrun
  // sets 1), else the cores divided by LOCAL_WORLD_SIZE; KILN_THREADS overrides both.
  if (dist.active() && std::getenv("KILN_THREADS") == nullptr) {
    auto env_number = [](const char* name) {
      const char* v = std::getenv(name);
      return v != nullptr ? std::atoi(v) : 0;
    };
    int threads = env_number("OMP_NUM_THREADS");
    if (threads <= 0) {
      const int local = std::max(1, env_number("LOCAL_WORLD_SIZE"));
      threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local);
    }
    kiln::init_engine({threads});
  }

  // Ranks other than 0 train the session rank 0 prepared (they join it once rank 0 is there),
  // print only their errors, and write nothing of the session.
  if (dist.rank != 0) {
    try {
      training::TrainingCallbacks quiet;
      std::stop_source stop;
      std::signal(SIGINT, on_sigint);
      std::signal(SIGTERM, on_sigint);
      std::jthread watcher([&stop](std::stop_token done) {
        while (!done.stop_requested() && !g_interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (g_interrupted.load()) stop.request_stop();
      });
      training::RunOptions options;
      options.distributed = dist;
      const training::TrainingOutcome outcome = training::run_training(session, stop.get_token(), quiet, options);
      return outcome.stopped ? 130 : 0;
    } catch (const std::exception& e) {
      return report_error(e, dist.rank);
    }
  }

  const bool exists = fs::exists(session / "settings.json");
  try {
    TrainingSettings s;
    if (exists) {
      if (!resume) {
        std::fprintf(stderr, "kiln-cli train: %s is already a training session; continue it with --resume\n",
                     session.string().c_str());
        return 2;
      }
      s = training::read_session_settings(session);
      if (const std::string change = fixed_option_change(p, s); !change.empty()) {
        std::fprintf(stderr,
                     "kiln-cli train: %s; only step counts, learning rates, sampling, saving and the device can "
                     "change in an existing session: start a new session instead\n",
                     change.c_str());
        return 2;
      }
    } else {
      if (!p.isSet(QStringLiteral("base")) || !p.isSet(QStringLiteral("images"))) {
        std::fprintf(stderr, "kiln-cli train: a new session needs --base MODEL and --images DIR\n");
        return 2;
      }
      s.base_model = p.value(QStringLiteral("base")).toStdString();
      s.images = p.value(QStringLiteral("images")).toStdString();
      if (p.isSet(QStringLiteral("config"))) s.config_dir = p.value(QStringLiteral("config")).toStdString();
      if (!fs::is_directory(s.base_model)) s.tokenizer_dir = bridge::clipVocabularyDir();
      s.token = p.value(QStringLiteral("token")).toStdString();
      s.class_prompt = p.value(QStringLiteral("class-prompt")).toStdString();
      if (p.isSet(QStringLiteral("filename-captions"))) s.captions = training::CaptionSource::FileNames;
      if (p.isSet(QStringLiteral("lora-rank"))) {
        s.method = training::TrainingMethod::LoRA;
        if (!number_option(p, QStringLiteral("lora-rank"), s.lora_rank)) return 2;
        s.lora_alpha = s.lora_rank;
        // LoRA learns far faster than a full fine-tune: kohya's usual rate.
        if (!p.isSet(QStringLiteral("lr-unet"))) s.unet.learning_rate = 1e-4;
        if (!p.isSet(QStringLiteral("lr-text"))) s.text_encoder.learning_rate = 5e-5;
      }
      s.lora_text_encoder = p.isSet(QStringLiteral("lora-text-encoder"));
      if (p.isSet(QStringLiteral("optimizer"))) {
        const QString name = p.value(QStringLiteral("optimizer"));
        if (name == QLatin1String("adamw")) s.optimizer = training::OptimizerKind::AdamW;
        else if (name == QLatin1String("adamw8bit")) s.optimizer = training::OptimizerKind::AdamW8bit;
        else if (name == QLatin1String("adafactor")) s.optimizer = training::OptimizerKind::Adafactor;
        else {
          std::fprintf(stderr, "kiln-cli train: --optimizer must be adamw, adamw8bit or adafactor, got '%s'\n",
                       qPrintable(name));
          return 2;
        }
      }
      s.gradient_checkpointing = p.isSet(QStringLiteral("gradient-checkpointing"));
      if (!number_option(p, QStringLiteral("lora-alpha"), s.lora_alpha) ||
          !number_option(p, QStringLiteral("resolution"), s.resolution) ||
          !number_option(p, QStringLiteral("batch-size"), s.batch_size) ||
          !number_option(p, QStringLiteral("num-class-images"), s.num_class_images) ||
          !number_option(p, QStringLiteral("prior-loss-weight"), s.prior_loss_weight) ||
          !number_option(p, QStringLiteral("seed"), s.seed)) {
        return 2;
      }
    }
    if (!number_option(p, QStringLiteral("text-encoder-steps"), s.text_encoder.steps) ||
        !number_option(p, QStringLiteral("unet-steps"), s.unet.steps) ||
        !number_option(p, QStringLiteral("lr-text"), s.text_encoder.learning_rate) ||
        !number_option(p, QStringLiteral("lr-unet"), s.unet.learning_rate) ||
        !number_option(p, QStringLiteral("warmup-steps"), s.warmup_steps) ||
        !number_option(p, QStringLiteral("gradient-accumulation"), s.gradient_accumulation) ||
        !number_option(p, QStringLiteral("offset-noise"), s.offset_noise) ||
        !number_option(p, QStringLiteral("min-snr-gamma"), s.min_snr_gamma) ||
        !number_option(p, QStringLiteral("save-every"), s.save_every) ||
        !number_option(p, QStringLiteral("keep-checkpoints"), s.keep_checkpoints) ||
        !number_option(p, QStringLiteral("sample-every"), s.sample_every)) {
      return 2;
    }
    if (p.isSet(QStringLiteral("lr-schedule"))) {
      s.lr_schedule = training::parse_lr_schedule(p.value(QStringLiteral("lr-schedule")).toStdString());
    }
    if (p.isSet(QStringLiteral("sample-prompt"))) {
      s.sample_prompts.clear();
      for (const QString& prompt : p.values(QStringLiteral("sample-prompt"))) s.sample_prompts.push_back(prompt.toStdString());
    }
    if (p.isSet(QStringLiteral("device"))) s.device = p.value(QStringLiteral("device")).toStdString();
    if (p.isSet(QStringLiteral("mixed-precision"))) {
      const QString mp = p.value(QStringLiteral("mixed-precision"));
      if (mp == QLatin1String("fp16")) s.mixed_precision = training::MixedPrecision::F16;
      else if (mp == QLatin1String("bf16")) s.mixed_precision = training::MixedPrecision::BF16;
      else if (mp == QLatin1String("no")) s.mixed_precision = training::MixedPrecision::No;
      else {
        std::fprintf(stderr, "kiln-cli train: --mixed-precision must be no, fp16 or bf16\n");
        return 2;
      }
    }
    if (world > 1 && !exists) s.data_parallel = true;  // per-example random streams (docs/distributed.md)
    if (world > 1 && !s.data_parallel) {
      std::fprintf(stderr,
                   "kiln-cli train: %s was started for one process (its random draws follow diffusers' order); "
                   "data-parallel training needs a session started with several ranks\n",
                   session.string().c_str());
      return 2;
    }
    training::validate_settings(s);
    if (exists) {
      training::write_session_settings(session, s);
    } else {
      training::create_session(session, s);
    }
    if (nproc > 1) return launch_local_ranks(session, nproc, timeout_seconds);

    // Ctrl-C: the handler only sets a flag; a watcher turns it into a stop request.
    std::stop_source stop;
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
    std::jthread watcher([&stop](std::stop_token done) {
      while (!done.stop_requested()) {
        if (g_interrupted.load()) {
          std::fputs("kiln-cli train: interrupted; saving a checkpoint...\n", stderr);
          stop.request_stop();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });

    double ema = 0;
    training::TrainingCallbacks cb;
    cb.on_log = [](std::string_view m) { std::fprintf(stderr, "kiln-cli train: %s\n", std::string(m).c_str()); };
    cb.on_step = [&ema](const training::StepMetrics& m) {
      ema = ema == 0 ? m.seconds : 0.9 * ema + 0.1 * m.seconds;
      const double eta = ema * static_cast<double>(m.total_steps - m.step);
      std::fprintf(stderr, "[%s %lld/%lld] step %lld/%lld  loss %.5f  lr %.3g  %.2f s/step  %.0f MiB  ETA %s\n",
                   std::string(training::to_string(m.stage)).c_str(), static_cast<long long>(m.stage_step),
                   static_cast<long long>(m.stage_steps), static_cast<long long>(m.step),
                   static_cast<long long>(m.total_steps), m.loss, m.lr, m.seconds,
                   static_cast<double>(m.memory) / (1024.0 * 1024.0), clock_text(eta).c_str());
    };
    cb.on_sample = [](const fs::path& path, std::int64_t step, const std::string&) {
      std::fprintf(stderr, "kiln-cli train: sample at step %lld: %s\n", static_cast<long long>(step), path.string().c_str());
    };
    training::RunOptions run_options;
    run_options.distributed = dist;
    const training::TrainingOutcome outcome = training::run_training(session, stop.get_token(), cb, run_options);
    watcher.request_stop();
    if (outcome.stopped) {
      std::cout << "stopped at step " << outcome.global_step << " of " << outcome.total_steps
                << "; continue with: kiln-cli train --session " << session.string() << " --resume" << std::endl;
      return 130;
    }
    std::cout << "trained " << outcome.global_step << " steps; export with: kiln-cli export --session "
              << session.string() << " --out FILE" << std::endl;
    const auto kept = training::kept_checkpoints(session);
    if (!kept.empty()) {
      std::cout << "kept checkpoints (compare with kiln-cli generate --x "
                << (training::read_session_settings(session).method == training::TrainingMethod::LoRA ? "lora_file:" : "checkpoint:");
      for (std::size_t i = 0; i < kept.size(); ++i) std::cout << (i ? "," : "") << kept[i].path.string();
      std::cout << ")" << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    return report_error(e);
  }
}

int run_export(const QStringList& args) {
  QCommandLineParser p;
  p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  p.addOption({{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Help.")});
  for (const char* name : {"session", "out", "format"}) {
    p.addOption({QString::fromLatin1(name), QString::fromLatin1(name), QStringLiteral("VALUE")});
  }
  p.addOption({QStringLiteral("half"), QStringLiteral("fp16")});
  p.addOption({QStringLiteral("overwrite"), QStringLiteral("overwrite")});
  if (!p.parse(args)) {
    std::fprintf(stderr, "kiln-cli export: %s (see kiln-cli export --help)\n", qPrintable(p.errorText()));
    return 2;
  }
  if (p.isSet(QStringLiteral("help"))) {
    std::fputs(kExportHelp, stdout);
    return 0;
  }
  if (!p.isSet(QStringLiteral("session")) || !p.isSet(QStringLiteral("out"))) {
    std::fprintf(stderr, "kiln-cli export: --session DIR and --out FILE are required (see kiln-cli export --help)\n");
    return 2;
  }
  try {
    training::SessionExportRequest request;
    request.session = p.value(QStringLiteral("session")).toStdString();
    request.output = p.value(QStringLiteral("out")).toStdString();
    request.half = p.isSet(QStringLiteral("half"));
    request.overwrite = p.isSet(QStringLiteral("overwrite"));
    if (p.isSet(QStringLiteral("format"))) {
      request.format = training::parse_export_format(p.value(QStringLiteral("format")).toStdString());
    }
    const auto result = training::export_session(request, [](std::string_view m) {
      std::fprintf(stderr, "kiln-cli export: %s\n", std::string(m).c_str());
    });
    for (const auto& note : result.notes) std::fprintf(stderr, "kiln-cli export: note: %s\n", one_line(note).c_str());
    std::cout << "wrote " << result.output.string() << ": " << (result.lora ? "LoRA" : "model") << " after "
              << result.steps << " steps, " << result.tensors << " tensors, " << (request.half ? "fp16" : "fp32")
              << ", " << result.bytes << " bytes; verified" << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return report_error(e);
  }
}

}  // namespace kiln::cli
