// Where the time of one full-size SD 1.5 UNet step (512x512, CFG batch 2) or one 512x512 VAE decode
// goes, per ATen operator and per layer shape, measured with LibTorch's RecordFunction observers
// (outermost operators only, so nothing is counted twice). Random weights: speed does not depend
// on the values.
// Usage: bench_profile unet|vae [fp32|bf16] [contiguous|channels-last] [repeats=3]
#include <torch/torch.h>

#include <ATen/record_function.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/engine.h"
#include "bench_util.h"
#include "models/autoencoder_kl.h"
#include "models/unet_2d_condition.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Entry {
  double seconds = 0;
  long calls = 0;
};

thread_local int depth = 0;
std::map<std::string, Entry> by_op, by_layer;

struct Start : at::ObserverContext {
  Clock::time_point t;
  bool outer = false;
  std::string layer;
};

std::string shape_of(const c10::IValue& v) {
  if (!v.isTensor()) return {};
  const at::Tensor& t = v.toTensor();
  if (!t.defined()) return {};
  std::ostringstream s;
  s << t.sizes();
  if (t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast) && !t.is_contiguous()) s << "cl";
  return s.str();
}

// A layer key for the operators that carry the work: the op and its first two inputs' shapes.
std::string layer_key(const at::RecordFunction& fn) {
  const std::string name = fn.name();
  static const char* heavy[] = {"aten::conv2d", "aten::linear", "aten::scaled_dot_product_attention",
                                "aten::group_norm", "aten::layer_norm", "aten::upsample_nearest2d"};
  bool keep = false;
  for (const char* h : heavy) keep = keep || name == h;
  if (!keep) return {};
  const auto inputs = fn.inputs();
  std::string key = name.substr(6);
  for (std::size_t i = 0; i < std::min<std::size_t>(inputs.size(), 2); ++i) key += " " + shape_of(inputs[i]);
  return key;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  auto s = std::make_unique<Start>();
  s->outer = depth++ == 0;
  if (s->outer) s->layer = layer_key(fn);  // the inputs are only there at the start
  s->t = Clock::now();
  return s;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* ctx) {
  --depth;
  auto* s = static_cast<Start*>(ctx);
  if (!s || !s->outer) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - s->t).count();
  Entry& e = by_op[fn.name()];
  e.seconds += seconds;
  ++e.calls;
  if (!s->layer.empty()) {
    Entry& l = by_layer[s->layer];
    l.seconds += seconds;
    ++l.calls;
  }
}

void print_table(const char* title, const std::map<std::string, Entry>& table, double total, std::size_t rows) {
  std::vector<std::pair<std::string, Entry>> sorted(table.begin(), table.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  std::printf("\n%s\n", title);
  std::printf("  %8s %6s %6s  %s\n", "seconds", "share", "calls", "what");
  for (std::size_t i = 0; i < std::min(rows, sorted.size()); ++i) {
    std::printf("  %8.3f %5.1f%% %6ld  %s\n", sorted[i].second.seconds, 100.0 * sorted[i].second.seconds / total,
                sorted[i].second.calls, sorted[i].first.c_str());
  }
}

void to_channels_last(torch::nn::Module& m) {
  for (auto& p : m.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = kiln::init_engine();
  const std::string what = argc > 1 ? argv[1] : "unet";
  const bool bf16 = argc > 2 && std::strcmp(argv[2], "bf16") == 0;
  const bool cl = argc > 3 && std::strcmp(argv[3], "channels-last") == 0;
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
  const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat;
  const auto format = cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  std::printf("LibTorch %s, %d threads; %s, %s, %s\n", TORCH_VERSION, threads, what.c_str(), bf16 ? "bf16" : "fp32",
              cl ? "channels-last" : "contiguous");
  torch::manual_seed(0);
  c10::InferenceMode guard;

  std::function<void()> run;
  kiln::models::UNet2DConditionModel unet{nullptr};
  kiln::models::AutoencoderKL vae{nullptr};
  torch::Tensor sample, context, t, latents;
  if (what == "unet") {
    unet = kiln::models::UNet2DConditionModel(kiln::models::UNet2DConditionConfig::sd15());
    unet->eval();
    unet->to(dtype);
    if (cl) to_channels_last(*unet);
    sample = torch::randn({2, 4, 64, 64}).to(dtype).contiguous(format);
    context = torch::randn({2, 77, 768}).to(dtype);
    t = torch::tensor(500, torch::kLong);
    run = [&] { unet->forward(sample, t, context); };
  } else {
    vae = kiln::models::AutoencoderKL(kiln::models::AutoencoderKLConfig::sd());
    vae->eval();
    vae->to(dtype);
    if (cl) to_channels_last(*vae);
    latents = torch::randn({1, 4, 64, 64}).to(dtype).contiguous(format);
    run = [&] { vae->decode(latents); };
  }
  run();  // warm-up (oneDNN primitive creation)
  const double plain = kiln::bench::median_seconds(repeats, run);
  std::printf("median of %d without observers: %.3f s\n", repeats, plain);

  const auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(on_start, on_end).needsInputs(true).scopes({at::RecordScope::FUNCTION}));
  const auto t0 = Clock::now();
  run();
  const double total = std::chrono::duration<double>(Clock::now() - t0).count();
  at::removeCallback(handle);
  double ops = 0;
  for (const auto& [name, e] : by_op) ops += e.seconds;
  std::printf("profiled run: %.3f s, of which %.3f s in ATen operators (%.1f%%)\n", total, ops, 100.0 * ops / total);
  print_table("by operator", by_op, total, 16);
  print_table("by layer (operator and input shapes)", by_layer, total, 25);
  return 0;
}
