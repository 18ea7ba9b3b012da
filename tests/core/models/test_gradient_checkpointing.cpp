#include <doctest/doctest.h>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "models/checkpointing.h"
#include "models/unet_2d_condition.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::models::checkpointed;
using kiln::models::UNet2DConditionModel;

namespace {

const fs::path kGolden = kiln::test::data_dir() / "golden";

// Gradients are summed in another order with checkpointing, so they may differ in the last bits.
struct GradStats {
  int compared = 0;
  int identical = 0;
  double worst = 0;  // max |got - expected| / max |expected|
};

// max |got - expected| <= 1e-5 * max |expected|.
void check_grad(const std::string& what, const torch::Tensor& got, const torch::Tensor& expected, GradStats& stats) {
  REQUIRE_MESSAGE(expected.defined(), what << ": no reference gradient");
  REQUIRE_MESSAGE(got.defined(), what << ": no gradient with checkpointing");
  REQUIRE(got.sizes() == expected.sizes());
  ++stats.compared;
  if (torch::equal(got, expected)) {
    ++stats.identical;
    return;
  }
  const double diff = (got - expected).abs().max().item<double>();
  const double scale = expected.abs().max().item<double>();
  stats.worst = std::max(stats.worst, diff / scale);
  CHECK_MESSAGE(diff <= 1e-5 * scale, what << ": max abs diff " << diff << " vs max " << scale);
}

void report(const std::string& name, const GradStats& stats) {
  MESSAGE(name << ": " << stats.identical << " of " << stats.compared
               << " gradients bit-identical, worst relative difference " << stats.worst);
}

struct Inputs {
  torch::Tensor sample, timestep, context, target;
};

Inputs random_inputs(std::int64_t context_dim) {
  torch::manual_seed(1234);
  Inputs in;
  in.sample = torch::randn({2, 4, 8, 8});
  in.timestep = torch::tensor({17.0F, 803.0F});
  in.context = torch::randn({2, 7, context_dim});
  in.target = torch::randn({2, 4, 8, 8});
  return in;
}

void clear_grads(torch::nn::Module& model) {
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
}

struct Pass {
  torch::Tensor out;
  std::vector<torch::Tensor> grads;  // per parameter, in named_parameters() order
  torch::Tensor context_grad;
};

// One training-style step: forward, mse loss, backward; the gradients taken out of the model.
Pass train_pass(UNet2DConditionModel& model, const Inputs& in, bool checkpointing, bool context_requires_grad) {
  model->set_gradient_checkpointing(checkpointing);
  clear_grads(*model);
  const torch::Tensor context = in.context.clone().requires_grad_(context_requires_grad);
  Pass pass;
  pass.out = model->forward(in.sample, in.timestep, context);
  REQUIRE(pass.out.requires_grad());
  torch::mse_loss(pass.out, in.target).backward();
  for (const auto& p : model->parameters()) pass.grads.push_back(p.grad().defined() ? p.grad().clone() : p.grad());
  pass.context_grad = context.grad();
  clear_grads(*model);
  model->set_gradient_checkpointing(false);
  return pass;
}

void compare(const std::string& name, UNet2DConditionModel& model, const Pass& plain, const Pass& ckpt) {
  CHECK_MESSAGE(torch::equal(plain.out, ckpt.out), name << ": the output changed");
  const auto named = model->named_parameters();
  GradStats stats;
  for (std::size_t i = 0; i < named.size(); ++i) {
    CHECK_MESSAGE(plain.grads[i].defined() == ckpt.grads[i].defined(), name << " " << named[i].key());
    if (plain.grads[i].defined()) check_grad(name + " " + named[i].key(), ckpt.grads[i], plain.grads[i], stats);
  }
  if (plain.context_grad.defined()) {
    check_grad(name + " encoder_hidden_states", ckpt.context_grad, plain.context_grad, stats);
  }
  report(name, stats);
}

void check_unet(const std::string& name, const fs::path& dir) {
  UNet2DConditionModel model = kiln::models::load_unet_2d_condition(dir);
  for (auto& p : model->parameters()) p.requires_grad_(true);
  const Inputs in = random_inputs(model->config().cross_attention_dim);

  const Pass plain = train_pass(model, in, false, true);
  const Pass ckpt = train_pass(model, in, true, true);
  CHECK(plain.context_grad.defined());
  compare(name, model, plain, ckpt);

  // Without grad mode the switch changes nothing.
  torch::NoGradGuard no_grad;
  const torch::Tensor off = model->forward(in.sample, in.timestep, in.context);
  model->set_gradient_checkpointing(true);
  const torch::Tensor on = model->forward(in.sample, in.timestep, in.context);
  model->set_gradient_checkpointing(false);
  CHECK_FALSE(on.requires_grad());
  CHECK(torch::equal(on, off));
  CHECK(torch::equal(on, plain.out));
}

}  // namespace

TEST_CASE("checkpointed: same value and gradients as the plain call; undefined inputs pass through") {
  torch::manual_seed(0);
  const torch::Tensor w = torch::randn({5, 5}).requires_grad_(true);
  const torch::Tensor x0 = torch::randn({3, 5});
  const torch::Tensor b0 = torch::randn({5});
  kiln::models::CheckpointFn fn = [w](const std::vector<torch::Tensor>& in) {
    torch::Tensor h = torch::tanh(in[0].matmul(w));
    if (in[1].defined()) h = h * in[1];
    return torch::sigmoid(h + in[2]);
  };
  const torch::Tensor undefined;
  for (const bool x_requires_grad : {true, false}) {
    CAPTURE(x_requires_grad);
    const torch::Tensor x1 = x0.clone().requires_grad_(x_requires_grad);
    const torch::Tensor b1 = b0.clone().requires_grad_(true);
    const torch::Tensor plain = fn({x1, undefined, b1});
    plain.sum().backward();
    const torch::Tensor w_grad = w.grad().clone();
    w.mutable_grad() = torch::Tensor();

    const torch::Tensor x2 = x0.clone().requires_grad_(x_requires_grad);
    const torch::Tensor b2 = b0.clone().requires_grad_(true);
    const torch::Tensor ckpt = checkpointed(fn, {x2, undefined, b2}, {w});
    REQUIRE(ckpt.grad_fn());
    CHECK(ckpt.grad_fn()->name().find("CheckpointFunction") != std::string::npos);
    CHECK(torch::equal(ckpt, plain));
    ckpt.sum().backward();
    CHECK(torch::allclose(w.grad(), w_grad, 1e-6, 0));
    CHECK(torch::allclose(b2.grad(), b1.grad(), 1e-6, 0));
    CHECK(x2.grad().defined() == x_requires_grad);
    if (x_requires_grad) CHECK(torch::allclose(x2.grad(), x1.grad(), 1e-6, 0));
    w.mutable_grad() = torch::Tensor();
  }

  SUBCASE("only a parameter requires grad: the output still does") {
    const torch::Tensor out = checkpointed(fn, {x0, undefined, b0}, {w});
    REQUIRE(out.requires_grad());
    out.sum().backward();
    const torch::Tensor expected = torch::autograd::grad({fn({x0, undefined, b0}).sum()}, {w})[0];
    CHECK(torch::allclose(w.grad(), expected, 1e-6, 0));
    w.mutable_grad() = torch::Tensor();
  }
  SUBCASE("the recomputation runs under the forward's autocast state") {
    // Autocast is off again when backward() runs, as in the trainer.
    auto w_grad = [&](bool autocast, bool checkpoint) {
      at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
      at::autocast::set_autocast_enabled(at::kCPU, autocast);
      const torch::Tensor out = checkpoint ? checkpointed(fn, {x0, undefined, b0}, {w}) : fn({x0, undefined, b0});
      at::autocast::set_autocast_enabled(at::kCPU, false);
      at::autocast::clear_cache();
      out.sum().backward();
      const torch::Tensor grad = w.grad().clone();
      w.mutable_grad() = torch::Tensor();
      return grad;
    };
    const torch::Tensor plain = w_grad(true, false);
    CHECK_FALSE(torch::equal(plain, w_grad(false, false)));  // the matmul did run in bf16
    CHECK(torch::equal(w_grad(true, true), plain));
    CHECK_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  }
  SUBCASE("no grad mode, or nothing requiring grad: a plain call") {
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor out = checkpointed(fn, {x0.clone().requires_grad_(true), undefined, b0}, {w});
      CHECK_FALSE(out.requires_grad());
    }
    const torch::Tensor frozen = w.detach();
    const torch::Tensor out =
        checkpointed([frozen](const std::vector<torch::Tensor>& in) { return in[0].matmul(frozen); }, {x0}, {frozen});
    CHECK_FALSE(out.requires_grad());
    CHECK(torch::equal(out, x0.matmul(frozen)));
  }
}

TEST_CASE("gradient checkpointing: tiny SD1 UNet, same output and gradients") {
  check_unet("sd1", kGolden / "pipeline/tiny_sd1/unet");
}

TEST_CASE("gradient checkpointing: tiny SD2 UNet (linear projection), same output and gradients") {
  check_unet("sd2", kGolden / "unet/sd2/model");
}

TEST_CASE("gradient checkpointing: frozen stem, only the mid block trained") {
  // Nothing entering the mid block requires grad: its parameters alone must make it backpropagate.
  UNet2DConditionModel model = kiln::models::load_unet_2d_condition(kGolden / "pipeline/tiny_sd1/unet");
  for (auto& p : model->named_parameters()) p.value().requires_grad_(p.key().rfind("mid_block.", 0) == 0);
  const Inputs in = random_inputs(model->config().cross_attention_dim);
  const Pass plain = train_pass(model, in, false, false);
  const Pass ckpt = train_pass(model, in, true, false);
  compare("mid block only", model, plain, ckpt);
}

TEST_CASE("gradient checkpointing: re-parametrised (LoRA-style) weights on a frozen UNet") {
  // As training/lora_network does: attn2.to_k's weight set to W0 + up @ down, a tensor in the graph
  // of the trained factors and no parameter of the module; the text-encoder output requires grad.
  UNet2DConditionModel model = kiln::models::load_unet_2d_condition(kGolden / "pipeline/tiny_sd1/unet");
  for (auto& p : model->parameters()) p.requires_grad_(false);
  const Inputs in = random_inputs(model->config().cross_attention_dim);
  struct Adapter {
    kiln::models::Linear linear;
    torch::Tensor base, up, down;
  };
  std::vector<Adapter> adapters;
  torch::manual_seed(7);
  for (auto& m : model->named_modules()) {
    const std::string& key = m.key();
    if (key.size() < 10 || key.substr(key.size() - 10) != "attn2.to_k") continue;
    auto linear = std::dynamic_pointer_cast<kiln::models::LinearImpl>(m.value());
    REQUIRE(linear);
    const torch::Tensor base = linear->weight;
    adapters.push_back({kiln::models::Linear(linear), base, (torch::randn({base.size(0), 2}) * 0.1).requires_grad_(true),
                        (torch::randn({2, base.size(1)}) * 0.1).requires_grad_(true)});
  }
  REQUIRE(adapters.size() == 6);  // 2 in down_blocks.0, 1 in mid_block, 3 in up_blocks.1

  auto pass = [&](bool checkpointing) {
    for (auto& a : adapters) a.linear->weight = a.base + a.up.matmul(a.down);
    const Pass p = train_pass(model, in, checkpointing, true);
    std::vector<torch::Tensor> grads{p.context_grad};
    for (auto& a : adapters) {
      for (torch::Tensor* t : {&a.up, &a.down}) {
        grads.push_back(t->grad().clone());
        t->mutable_grad() = torch::Tensor();
      }
    }
    for (auto& a : adapters) a.linear->weight = a.base;
    return std::make_pair(p.out, grads);
  };
  const auto plain = pass(false);
  const auto ckpt = pass(true);
  CHECK(torch::equal(plain.first, ckpt.first));
  GradStats stats;
  for (std::size_t i = 0; i < plain.second.size(); ++i) {
    check_grad("LoRA-style gradient " + std::to_string(i), ckpt.second[i], plain.second[i], stats);
  }
  report("LoRA-style", stats);
}
