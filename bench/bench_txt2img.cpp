// Full-size SD 1.5 txt2img on the CPU with random weights: the time to load the model from a
// single file (fp16 .safetensors, what users download), then one 512x512 generation split into
// text encoding, denoising and decoding.
// Usage: bench_txt2img [steps=20] [size=512] [cpu|cuda] [fp32|fp16|bf16] [sampler=dpmpp_2m_karras] [cfg=7]
//                      [--repeat=N] [--json]
// steps 0: only the load (and its peak memory). --json: also one JSON line per result (bench/compare).
// --repeat=N: N generations, the medians printed, plus the median of one batch-1 UNet forward and
// one VAE decode alone, and the run's overhead over (model calls x UNet + decode): what the
// few-step goals of issue 23 measure, e.g. `bench_txt2img 1 512 cpu fp32 euler_a_trailing 0
// --repeat=3` (SD-Turbo style, no CFG) and `bench_txt2img 4 512 cpu fp32 lcm 1 --repeat=3`.
// --taesd: a full-size TAESD with random weights attached: live TAESD previews after every step
// (within the pipeline's 5 % budget) and "Fast decode"; the parts alone then time a TAESD decode
// instead of the VAE's, e.g. `bench_txt2img 1 512 cpu fp32 euler_a_trailing 0 --repeat=3 --taesd`.
// On CUDA a short warm-up run comes first (cuDNN picks its algorithms on the first calls).
// The model is made once in $TMPDIR/kiln-bench-sd15 (a diffusers folder with random weights and
// the hub configs, converted to a single file by Kiln's own converter), and the single file is
// converted back to the diffusers folder $TMPDIR/kiln-bench-sd15/diffusers (fp16, the same
// weights): what bench/compare runs diffusers on.
#include <torch/torch.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/engine.h"
#include "convert/checkpoint_export.h"
#include "convert/reference_configs.h"
#include "io/safetensors.h"
#include "models/autoencoder_kl.h"
#include "models/autoencoder_tiny.h"
#include "models/clip_text_model.h"
#include "models/unet_2d_condition.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "schedulers/scheduler_kind.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
}

void write_json(const fs::path& path, const nlohmann::json& j) { std::ofstream(path) << j.dump(2); }

void save_module(torch::nn::Module& m, const fs::path& file) {
  kiln::io::NamedTensors tensors;
  for (const auto& p : m.named_parameters()) tensors.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers()) tensors.emplace_back(b.key(), b.value());
  kiln::io::write_safetensors(file, tensors);
}

// A diffusers folder of SD 1.5 with random weights, then Kiln's conversion to one fp16 file.
fs::path make_model(const fs::path& dir, const fs::path& clip) {
  const fs::path single = dir / "sd15-random-fp16.safetensors";
  if (fs::exists(single)) return single;
  using kiln::convert::ModelFamily;
  const fs::path folder = dir / "folder";
  fs::create_directories(folder);
  std::printf("making a random full-size SD 1.5 in %s (once)\n", dir.c_str());
  torch::NoGradGuard no_grad;
  for (const std::string c : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}) fs::create_directories(folder / c);
  write_json(folder / "model_index.json", kiln::convert::reference_config(ModelFamily::SD1, "model_index"));
  write_json(folder / "scheduler/scheduler_config.json", kiln::convert::reference_config(ModelFamily::SD1, "scheduler"));
  write_json(folder / "tokenizer/tokenizer_config.json", kiln::convert::reference_config(ModelFamily::SD1, "tokenizer"));
  fs::copy_file(clip / "vocab.json", folder / "tokenizer/vocab.json");
  fs::copy_file(clip / "merges.txt", folder / "tokenizer/merges.txt");
  {
    const auto config = kiln::convert::reference_config(ModelFamily::SD1, "unet");
    write_json(folder / "unet/config.json", config);
    kiln::models::UNet2DConditionModel unet(kiln::models::UNet2DConditionConfig::from_json(config));
    save_module(*unet, folder / "unet/diffusion_pytorch_model.safetensors");
  }
  {
    const auto config = kiln::convert::reference_config(ModelFamily::SD1, "vae");
    write_json(folder / "vae/config.json", config);
    kiln::models::AutoencoderKL vae(kiln::models::AutoencoderKLConfig::from_json(config));
    save_module(*vae, folder / "vae/diffusion_pytorch_model.safetensors");
  }
  {
    const auto config = kiln::convert::reference_config(ModelFamily::SD1, "text_encoder");
    write_json(folder / "text_encoder/config.json", config);
    kiln::models::CLIPTextModel te(kiln::models::CLIPTextConfig::from_json(config));
    save_module(*te, folder / "text_encoder/model.safetensors");
  }
  kiln::convert::ConvertRequest request;
  request.input = folder;
  request.output = single;
  request.dtype = kiln::convert::ExportDType::F16;
  kiln::convert::convert_model(request);
  fs::remove_all(folder);
  return single;
}

// The single file as a diffusers folder (hub configs, Kiln's CLIP tokenizer files), for diffusers.
void make_diffusers_folder(const fs::path& single, const fs::path& clip) {
  const fs::path folder = single.parent_path() / "diffusers";
  if (fs::exists(folder / "model_index.json")) return;
  std::printf("converting %s to the diffusers folder %s (once)\n", single.c_str(), folder.c_str());
  kiln::convert::ConvertRequest request;
  request.input = single;
  request.output = folder;
  request.family = kiln::convert::ModelFamily::SD1;
  request.clip_vocab_dir = clip;
  kiln::convert::convert_model(request);
}

}  // namespace

int main(int argc, char** argv) try {
  const int threads = kiln::init_engine();
  bool json = false;
  int repeat = 1;
  bool taesd = false;
  std::vector<std::string> args;  // positional arguments; flags may stand anywhere
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--json") {
      json = true;
    } else if (std::string(argv[i]) == "--taesd") {
      taesd = true;
    } else if (std::string(argv[i]).rfind("--repeat=", 0) == 0) {
      repeat = std::max(1, std::atoi(argv[i] + 9));
    } else {
      args.emplace_back(argv[i]);
    }
  }
  const auto arg = [&](std::size_t i, const char* fallback) {
    return i < args.size() ? args[i] : std::string(fallback);
  };
  const std::int64_t steps = std::atoll(arg(0, "20").c_str());
  const std::int64_t size = std::atoll(arg(1, "512").c_str());
  const auto sampler = kiln::schedulers::parse_scheduler_name(arg(4, "dpmpp_2m_karras"));
  const double cfg = std::atof(arg(5, "7").c_str());
  const char* tmp = std::getenv("TMPDIR");
  const fs::path dir = fs::path(tmp ? tmp : "/tmp") / "kiln-bench-sd15";
  const fs::path clip = fs::path(KILN_SOURCE_DIR) / "resources" / "clip";
  fs::create_directories(dir);
  const fs::path file = make_model(dir, clip);
  make_diffusers_folder(file, clip);
  std::printf("LibTorch %s, %d threads; model %s (%.2f GiB)\n", TORCH_VERSION, threads, file.c_str(),
              static_cast<double>(fs::file_size(file)) / (1 << 30));

  kiln::pipelines::ModelLoadOptions options;
  options.tokenizer_dir = clip;
  const std::string device = arg(2, "cpu");
  const std::string dtype = arg(3, "fp32");
  options.device = torch::Device(device);
  options.dtype = dtype == "fp16" ? torch::kHalf : dtype == "bf16" ? torch::kBFloat16 : torch::kFloat;
  std::printf("device %s, %s\n", device.c_str(), dtype.c_str());
  auto t0 = Clock::now();
  kiln::pipelines::StableDiffusionModel model = kiln::pipelines::load_stable_diffusion(file, options);
  if (taesd) {
    const fs::path tiny = dir / "taesd.safetensors";
    if (!fs::exists(tiny)) {
      torch::manual_seed(7);
      kiln::models::AutoencoderTiny random_taesd(kiln::models::AutoencoderTinyConfig{});
      kiln::io::NamedTensors tensors;
      for (const auto& p : random_taesd->named_parameters()) tensors.emplace_back(p.key(), p.value().detach());
      kiln::io::write_safetensors(tiny, tensors);
    }
    kiln::pipelines::attach_taesd(model, tiny);
    std::printf("TAESD attached (random weights): previews and Fast decode\n");
  }
  const double load = since(t0);
  std::printf("load from the single file (fp16 -> %s modules): %.2f s\n", dtype.c_str(), load);
  const auto emit = [&](nlohmann::json j) {
    if (!json) return;
    j["tool"] = "kiln";
    j["threads"] = threads;
    j["device"] = device;
    j["dtype"] = dtype;
    std::printf("%s\n", j.dump().c_str());
  };
  emit({{"what", "load"}, {"source", "single_file"}, {"seconds", load}, {"peak_rss_gib", peak_rss_gib()}});
  if (steps == 0) {
    std::printf("peak memory: %.2f GiB\n", peak_rss_gib());
    return 0;
  }

  kiln::pipelines::GenerationRequest r;
  r.prompt = "a photograph of an astronaut riding a horse, highly detailed";
  r.negative_prompt = "blurry, lowres";
  r.width = r.height = size;
  r.steps = steps;
  r.sampler = sampler;
  r.seed = 1;
  r.guidance_scale = cfg;
  r.fast_decode = taesd;
  std::vector<std::pair<std::string, Clock::time_point>> marks;
  std::int64_t model_calls = 0;
  kiln::pipelines::GenerationCallbacks callbacks;
  callbacks.on_stage = [&](std::string_view s) { marks.emplace_back(std::string(s), Clock::now()); };
  callbacks.on_step = [&](const kiln::pipelines::StepInfo& info) {
    std::fprintf(stderr, "\rstep %lld/%lld  %.1f s", static_cast<long long>(info.step), static_cast<long long>(info.total),
                 info.seconds);
    model_calls = info.total;
  };
  int previews = 0;
  if (taesd) {
    callbacks.preview_every = 1;
    callbacks.on_preview = [&](const torch::Tensor&, std::int64_t) { ++previews; };
  }
  if (options.device.is_cuda()) {
    kiln::pipelines::GenerationRequest warm = r;
    warm.steps = 2;
    kiln::pipelines::generate(model, warm);
    marks.clear();
  }
  std::vector<double> totals;
  std::map<std::string, std::vector<double>> stage_times;
  std::vector<std::string> stage_order;
  for (int run = 0; run < repeat; ++run) {
    marks.clear();
    t0 = Clock::now();
    kiln::pipelines::generate(model, r, {}, callbacks);
    const auto end = Clock::now();
    std::fputc('\n', stderr);
    totals.push_back(std::chrono::duration<double>(end - t0).count());
    stage_order.clear();
    for (std::size_t i = 0; i < marks.size(); ++i) {
      const auto next = i + 1 < marks.size() ? marks[i + 1].second : end;
      stage_times[marks[i].first].push_back(std::chrono::duration<double>(next - marks[i].second).count());
      stage_order.push_back(marks[i].first);
    }
  }
  const double total = median(totals);
  std::printf("txt2img %lldx%lld, %lld steps (%s, CFG %g%s, batch 1): %.2f s total%s\n", static_cast<long long>(size),
              static_cast<long long>(size), static_cast<long long>(steps),
              std::string(kiln::schedulers::display_name(sampler)).c_str(), cfg, cfg > 1 ? "" : " = off", total,
              repeat > 1 ? (" (median of " + std::to_string(repeat) + ")").c_str() : "");
  nlohmann::json result = {{"what", "txt2img"},
                           {"size", size},
                           {"steps", steps},
                           {"sampler", std::string(kiln::schedulers::id(sampler))},
                           {"cfg", r.guidance_scale},
                           {"repeat", repeat},
                           {"model_calls", model_calls},
                           {"total_s", total}};
  for (const std::string& name : stage_order) {
    const double s = median(stage_times[name]);
    result["stages"][name] = s;
    std::printf("  %-16s %8.2f s  (%4.1f%%)%s\n", name.c_str(), s, 100.0 * s / total,
                name == "sampling" ? (" = " + std::to_string(static_cast<double>(steps) / s) + " it/s").c_str() : "");
  }
  if (repeat > 1) {
    // The parts alone: one UNet forward on the batch the run used (2 with CFG), one VAE decode.
    c10::InferenceMode inference;
    const std::int64_t batch = cfg > 1 ? 2 : 1;
    const std::int64_t h = size / 8;
    const auto dev_dtype = torch::TensorOptions().device(options.device).dtype(options.dtype);
    const torch::Tensor latents = torch::randn({batch, 4, h, h}).to(dev_dtype);
    const torch::Tensor embeds = torch::randn({batch, 77, 768}).to(dev_dtype);
    kiln::models::UNet2DConditionModel unet_module = model.unet;  // handles: forward is not const
    kiln::models::AutoencoderKL vae_module = model.vae;
    kiln::models::AutoencoderTiny taesd_module = model.taesd;
    std::vector<double> unet_s, decode_s;
    for (int run = 0; run < repeat; ++run) {
      t0 = Clock::now();
      unet_module->forward(latents, 999.0, embeds);
      unet_s.push_back(since(t0));
      t0 = Clock::now();
      if (taesd)
        taesd_module->decode(latents.narrow(0, 0, 1));
      else
        vae_module->decode(latents.narrow(0, 0, 1));
      decode_s.push_back(since(t0));
    }
    const double unet = median(unet_s), decode = median(decode_s);
    const double parts = static_cast<double>(model_calls) * unet + decode;
    std::printf("  alone: UNet forward batch %lld %.2f s, %s decode %.2f s; %lld calls + decode = %.2f s, "
                "the run takes %+.1f%% more\n",
                static_cast<long long>(batch), unet, taesd ? "TAESD" : "VAE", decode, static_cast<long long>(model_calls),
                parts, 100.0 * (total - parts) / parts);
    if (taesd) std::printf("  TAESD previews made: %d in %d runs (budget 5 %% of sampling)\n", previews, repeat);
    result["unet_forward_s"] = unet;
    result[taesd ? "taesd_decode_s" : "vae_decode_s"] = decode;
    result["overhead_vs_parts"] = (total - parts) / parts;
  }
  std::printf("peak memory: %.2f GiB\n", peak_rss_gib());
  result["peak_rss_gib"] = peak_rss_gib();
  emit(result);
  return 0;
} catch (const std::exception& e) {  // a bad argument or model: one line, not an abort
  std::fprintf(stderr, "bench_txt2img: %s\n", e.what());
  return 1;
}
