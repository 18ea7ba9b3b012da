// The memory savers against fp32 AdamW on the tiny SD 1.x UNet's real gradients: state sizes and
// the relative error of the accumulated update; bitsandbytes' dynamic maps; state round trips;
// sessions that train with them resume bit for bit.
#include <doctest/doctest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "base/error.h"
#include "io/safetensors.h"
#include "pipelines/model_loading.h"
#include "support/test_support.h"
#include "tiny_session.h"
#include "training/diffusion_loss.h"
#include "training/memory_optimizers.h"
#include "training/trainer.h"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::training;

namespace {

const fs::path kTiny = test::kTinySd1;

// The tiny UNet's parameters and `steps` gradients of the diffusion loss on random images and
// prompts (one batch of 2 per step), computed once at the starting weights.
struct GradientStream {
  NamedParameters start;                            // detached copies
  std::vector<std::vector<torch::Tensor>> grads;    // [step][parameter]
};

GradientStream gradient_stream(int steps) {
  pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(kTiny);
  model.unet->train();
  for (auto& p : model.text_encoder->parameters()) p.set_requires_grad(false);
  for (auto& p : model.vae->parameters()) p.set_requires_grad(false);
  const NoiseSchedule schedule = noise_schedule(model.scheduler_config);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  GradientStream out;
  for (const auto& p : model.unet->named_parameters()) out.start.emplace_back(p.key(), p.value().detach().clone());
  for (int k = 0; k < steps; ++k) {
    torch::Tensor latents, hidden;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor pixels = torch::rand({2, 3, 64, 64}, gen) * 2 - 1;
      latents = sample_latents(model.vae->encode_moments(pixels), 0.18215, gen);
      const torch::Tensor ids = torch::randint(1, 1000, {2, 77}, gen, torch::TensorOptions().dtype(torch::kLong));
      hidden = model.text_encoder->forward(ids).last_hidden_state;
    }
    diffusion_loss(model.unet, latents, hidden, schedule, gen, {}).loss.backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : model.unet->named_parameters()) {
      g.push_back(p.value().grad().clone());
      p.value().mutable_grad() = torch::Tensor();
    }
    out.grads.push_back(std::move(g));
  }
  return out;
}

NamedParameters fresh(const NamedParameters& start) {
  NamedParameters out;
  for (const auto& [name, t] : start) out.emplace_back(name, t.clone().set_requires_grad(true));
  return out;
}

// Runs `opt` over the stream from step `from` to `to` (exclusive).
void run(Optimizer& opt, const GradientStream& s, int from, int to, double lr) {
  for (int k = from; k < to; ++k) {
    for (std::size_t i = 0; i < opt.parameters().size(); ++i) {
      const_cast<torch::Tensor&>(opt.parameters()[i].second).mutable_grad() = s.grads[k][i].clone();
    }
    opt.step(lr);
    opt.zero_grad();
  }
}

// ||delta(opt) - delta(ref)|| / ||delta(ref)|| over the parameters `select` accepts.
template <typename Select>
double relative_update_error(const Optimizer& opt, const Optimizer& ref, const NamedParameters& start, Select select) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < start.size(); ++i) {
    if (!select(start[i].second)) continue;
    const torch::Tensor d_ref = (ref.parameters()[i].second.detach() - start[i].second).to(torch::kDouble);
    const torch::Tensor d_opt = (opt.parameters()[i].second.detach() - start[i].second).to(torch::kDouble);
    diff += (d_opt - d_ref).pow(2).sum().item<double>();
    norm += d_ref.pow(2).sum().item<double>();
  }
  return std::sqrt(diff / norm);
}

std::int64_t parameter_count(const NamedParameters& p) {
  std::int64_t n = 0;
  for (const auto& [name, t] : p) n += t.numel();
  return n;
}

}  // namespace

TEST_CASE("bitsandbytes' dynamic quantization maps") {
  const torch::Tensor s = AdamW8bit::dynamic_map(true);
  const torch::Tensor u = AdamW8bit::dynamic_map(false);
  REQUIRE(s.size(0) == 256);
  REQUIRE(u.size(0) == 256);
  CHECK(torch::equal(s, std::get<0>(s.sort())));
  CHECK(torch::equal(u, std::get<0>(u.sort())));
  CHECK(s[255].item<float>() == 1.0f);
  CHECK(u[255].item<float>() == 1.0f);
  CHECK(u[0].item<float>() == 0.0f);
  CHECK((s == 0).sum().item<int>() == 1);
  CHECK(s[0].item<float>() == doctest::Approx(-0.9929688).epsilon(1e-6));  // -(0.99296875) = -(mean of the last 64ths)
  // The smallest magnitudes: 1e-6 x 0.55 (signed: one fraction item), 1e-6 x 0.325 (unsigned: two).
  CHECK(s.abs().masked_select(s != 0).min().item<float>() == doctest::Approx(5.5e-7).epsilon(1e-5));
  CHECK(u[1].item<float>() == doctest::Approx(3.25e-7).epsilon(1e-5));
}

TEST_CASE("8-bit AdamW and Adafactor against fp32 AdamW on the tiny UNet") {
  constexpr int kSteps = 10;
  constexpr double kLr = 1e-4;
  const GradientStream stream = gradient_stream(kSteps);
  const std::int64_t n = parameter_count(stream.start);

  AdamW adam(fresh(stream.start));
  AdamW8bit eight(fresh(stream.start));
  Adafactor factor(fresh(stream.start), AdafactorOptions{1e-2});

  // The first step updates with the fp32 moments before they are quantized: AdamW's update.
  run(adam, stream, 0, 1, kLr);
  run(eight, stream, 0, 1, kLr);
  for (std::size_t i = 0; i < stream.start.size(); ++i) {
    CHECK_MESSAGE(torch::equal(eight.parameters()[i].second, adam.parameters()[i].second), stream.start[i].first);
  }
  run(adam, stream, 1, kSteps, kLr);
  run(eight, stream, 1, kSteps, kLr);
  run(factor, stream, 0, kSteps, kLr);

  const auto quantized = [](const torch::Tensor& t) { return t.numel() >= AdamW8bit::kMinQuantized; };
  const auto all = [](const torch::Tensor&) { return true; };
  std::int64_t quantized_values = 0;
  for (const auto& [name, t] : stream.start) quantized_values += quantized(t) ? t.numel() : 0;
  const double err8 = relative_update_error(eight, adam, stream.start, all);
  const double err8q = relative_update_error(eight, adam, stream.start, quantized);
  const double err_factor = relative_update_error(factor, adam, stream.start, all);
  MESSAGE(n << " parameters (" << quantized_values << " in tensors of 4096 or more); state bytes: AdamW "
            << adam.state_bytes() << ", 8-bit AdamW " << eight.state_bytes() << ", Adafactor " << factor.state_bytes());
  MESSAGE("relative update error after " << kSteps << " steps: 8-bit AdamW " << err8 << " (quantized tensors "
                                         << err8q << "), Adafactor " << err_factor);
  CHECK(adam.state_bytes() == 8 * n);
  // 2 bytes + 8/256 per quantized value (padded to whole blocks), 8 bytes per other value.
  CHECK(eight.state_bytes() < 2.1 * static_cast<double>(quantized_values) + 8.0 * static_cast<double>(n - quantized_values) + 4096);
  CHECK(eight.state_bytes() < adam.state_bytes() / 2);
  // Adafactor factors over the last two dimensions, as transformers does: a conv kernel
  // [out, in, 3, 3] keeps [out, in, 3] twice, two thirds of its size; a matrix rows + columns.
  CHECK(factor.state_bytes() < adam.state_bytes() / 3);
  CHECK(err8q < 0.02);
  CHECK(err8 < 0.02);
  // Adafactor is another algorithm (no first moment, factored second moment, RMS-clipped
  // updates): its updates point the same way as AdamW's but are not the same.
  CHECK(err_factor < 1.5);
  double dot = 0, na = 0, nf = 0;
  for (std::size_t i = 0; i < stream.start.size(); ++i) {
    const torch::Tensor da = (adam.parameters()[i].second.detach() - stream.start[i].second).to(torch::kDouble);
    const torch::Tensor df = (factor.parameters()[i].second.detach() - stream.start[i].second).to(torch::kDouble);
    dot += (da * df).sum().item<double>();
    na += da.pow(2).sum().item<double>();
    nf += df.pow(2).sum().item<double>();
  }
  MESSAGE("cosine(Adafactor update, AdamW update) = " << dot / std::sqrt(na * nf));
  CHECK(dot / std::sqrt(na * nf) > 0.3);
}

TEST_CASE("Adafactor clips each update's RMS to the learning rate") {
  const GradientStream stream = gradient_stream(1);
  Adafactor factor(fresh(stream.start));  // no weight decay
  run(factor, stream, 0, 1, 1e-3);
  for (std::size_t i = 0; i < stream.start.size(); ++i) {
    const torch::Tensor d = (factor.parameters()[i].second.detach() - stream.start[i].second).to(torch::kDouble);
    const double rms = d.pow(2).mean().sqrt().item<double>();
    CHECK_MESSAGE(rms <= 1e-3 * (1 + 1e-4), stream.start[i].first);
  }
  // Factored state: a matrix [r, c] keeps r + c numbers, a vector its own size.
  for (std::size_t i = 0; i < stream.start.size(); ++i) {
    const auto& [name, t] = stream.start[i];
    std::int64_t kept = 0;
    for (const auto& [state_name, s] : factor.state()) {
      if (state_name.ends_with("." + name)) kept += s.numel();
    }
    if (t.dim() == 2) CHECK_MESSAGE(kept == t.size(0) + t.size(1), name);
    if (t.dim() == 1) CHECK_MESSAGE(kept == t.size(0), name);
  }
}

TEST_CASE("the memory savers' state round-trips and refuses a mis-shaped one") {
  const GradientStream stream = gradient_stream(5);
  for (const OptimizerKind kind : {OptimizerKind::AdamW8bit, OptimizerKind::Adafactor}) {
    INFO(to_string(kind));
    auto a = make_optimizer(kind, fresh(stream.start), {});
    run(*a, stream, 0, 3, 1e-4);
    NamedParameters params_b;
    for (const auto& [name, t] : a->parameters()) params_b.emplace_back(name, t.detach().clone().set_requires_grad(true));
    auto b = make_optimizer(kind, params_b, {});
    NamedParameters saved;
    for (const auto& [name, t] : a->state()) saved.emplace_back(name, t.clone());
    b->load_state(saved, a->steps(), "test");
    run(*a, stream, 3, 5, 1e-4);
    run(*b, stream, 3, 5, 1e-4);
    for (std::size_t i = 0; i < stream.start.size(); ++i) {
      CHECK_MESSAGE(torch::equal(a->parameters()[i].second, b->parameters()[i].second), stream.start[i].first);
    }
    NamedParameters broken = saved;
    broken.back().second = broken.back().second.narrow(0, 0, 1);
    auto c = make_optimizer(kind, fresh(stream.start), {});
    CHECK_THROWS_AS(c->load_state(broken, 3, "test"), FormatError);
  }
}

TEST_CASE("sessions with the memory savers resume bit for bit") {
  test::ScratchDir scratch("kiln-opt");
  const fs::path images = test::make_images(scratch);
  for (const OptimizerKind kind : {OptimizerKind::AdamW8bit, OptimizerKind::Adafactor}) {
    INFO(to_string(kind));
    TrainingSettings s = test::tiny_settings(images);
    s.text_encoder = {0, 1e-4};
    s.optimizer = kind;
    CHECK(settings_from_json(to_json(s)).optimizer == kind);
    const fs::path straight = scratch / (std::string(to_string(kind)) + "-straight");
    create_session(straight, s);
    REQUIRE(run_training(straight).finished);
    const fs::path crashed = scratch / (std::string(to_string(kind)) + "-crashed");
    create_session(crashed, s);
    TrainingCallbacks crash;
    crash.on_step = [](const StepMetrics& m) {
      if (m.step == 3) throw std::runtime_error("simulated crash");
    };
    CHECK_THROWS(run_training(crashed, {}, crash));
    REQUIRE(run_training(crashed).finished);
    const auto a = io::SafetensorsFile::open(straight / "checkpoints/latest.safetensors");
    const auto b = io::SafetensorsFile::open(crashed / "checkpoints/latest.safetensors");
    std::size_t optimizer_entries = 0;
    for (const auto& e : a->index().entries()) {
      CHECK_MESSAGE(torch::equal(a->tensor(e.name), b->tensor(e.name)), e.name);
      optimizer_entries += e.name.starts_with("optimizer.") ? 1 : 0;
    }
    CHECK(optimizer_entries > 0);
  }
}
