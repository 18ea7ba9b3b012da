// One DreamBooth training step against diffusers' train_dreambooth.py (golden/training): the VAE
// posterior sample, noise and timesteps drawn in the script's order from one seeded generator, the
// prior-preservation loss, the global gradient norm, clipping and one AdamW update.
#include <doctest/doctest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>

#include "base/error.h"
#include "io/safetensors.h"
#include "pipelines/model_loading.h"
#include "support/test_support.h"
#include "training/diffusion_loss.h"
#include "training/optimizer.h"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

const fs::path kGolden = test::data_dir() / "golden";

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

double rel(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-12); }

}  // namespace

TEST_CASE("one DreamBooth step with prior preservation matches diffusers") {
  const auto meta = nlohmann::json::parse(test::read_text(kGolden / "training/meta.json"));
  const auto golden = io::SafetensorsFile::open(kGolden / "training/step.safetensors");
  auto g = [&](const std::string& name) { return golden->tensor(name).to(torch::kFloat); };

  pipelines::StableDiffusionModel model = pipelines::load_stable_diffusion(kGolden / "pipeline/tiny_sd1");
  model.unet->train();
  model.text_encoder->eval();
  model.vae->eval();
  for (auto& p : model.text_encoder->parameters()) p.set_requires_grad(false);
  for (auto& p : model.vae->parameters()) p.set_requires_grad(false);

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(meta["seed"].get<std::uint64_t>());
  torch::Tensor latents;
  torch::Tensor hidden;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor moments = model.vae->encode_moments(g("pixel_values"));
    latents = training::sample_latents(moments, 0.18215, gen);
    hidden = model.text_encoder->forward(golden->tensor("input_ids").to(torch::kLong)).last_hidden_state;
  }
  CHECK(max_abs(latents, g("model_input")) < 1e-4);
  CHECK(max_abs(hidden, g("encoder_hidden_states")) < 1e-4);

  training::DiffusionLossOptions options;
  options.prior_preservation = true;
  options.prior_loss_weight = 1.0;
  const auto schedule = training::noise_schedule(model.scheduler_config);
  const training::DiffusionLoss loss = training::diffusion_loss(model.unet, latents, hidden, schedule, gen, options);

  CHECK(max_abs(loss.noise, g("noise")) == 0.0);
  CHECK(torch::equal(loss.timesteps, golden->tensor("timesteps").to(torch::kLong)));
  CHECK(max_abs(loss.noisy_latents, g("noisy_model_input")) < 1e-4);
  CHECK(max_abs(loss.model_pred, g("model_pred")) < 1e-4);
  CHECK(rel(loss.loss.item<double>(), meta["loss"].get<double>()) < 1e-4);
  CHECK(rel(loss.instance_loss.item<double>(), meta["instance_loss"].get<double>()) < 1e-4);
  CHECK(rel(loss.prior_loss.item<double>(), meta["prior_loss"].get<double>()) < 1e-4);

  training::NamedParameters params;
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : model.unet->named_parameters()) {
    params.emplace_back(p.key(), p.value());
    before[p.key()] = p.value().detach().clone();
  }
  loss.loss.backward();

  std::map<std::string, double> grad_l2;
  for (const auto& [name, p] : params) grad_l2[name] = p.grad().norm().item<double>();
  const double norm = training::clip_grad_norm(params, meta["max_grad_norm"].get<double>());
  CHECK(rel(norm, meta["grad_global_norm_preclip"].get<double>()) < 1e-4);
  // Every parameter's pre-clip gradient (meta.per_param): the norm is relative 1e-4 of the whole,
  // so tiny gradients get an absolute floor of 1e-4 of the global norm.
  const auto& per_param = meta["per_param"];
  CHECK(per_param.size() == params.size());
  for (const auto& [name, p] : params) {
    const double want = per_param.at(name)["grad_preclip_l2"].get<double>();
    CHECK_MESSAGE(std::abs(grad_l2[name] - want) < 1e-4 * std::max(want, norm * 1e-2), name);
  }

  training::AdamWOptions adam;
  adam.beta1 = meta["optimizer"]["betas"][0].get<double>();
  adam.beta2 = meta["optimizer"]["betas"][1].get<double>();
  adam.weight_decay = meta["optimizer"]["weight_decay"].get<double>();
  adam.eps = meta["optimizer"]["eps"].get<double>();
  const double lr = meta["optimizer"]["lr"].get<double>();
  training::AdamW optimizer(params, adam);
  optimizer.step(lr);
  CHECK(optimizer.steps() == 1);

  for (const auto& name : meta["selected_params"]) {
    const std::string key = name.get<std::string>();
    INFO(key);
    const torch::Tensor& after = model.unet->named_parameters()[key];
    CHECK(max_abs(before[key], g("param_before." + key)) == 0.0);
    const torch::Tensor got = (after.detach().to(torch::kDouble) - before[key].to(torch::kDouble)) / lr;
    const torch::Tensor want =
        (g("param_after." + key).to(torch::kDouble) - g("param_before." + key).to(torch::kDouble)) / lr;
    CHECK(max_abs(got, want) < 1e-2);
  }
  // Every parameter moved by about lr per element (Adam's first step is sign-like).
  for (const auto& [name, p] : params) {
    const double want = per_param.at(name)["delta_abs_sum"].get<double>();
    const double got = (p.detach() - before[name]).abs().sum().item<double>();
    CHECK_MESSAGE(std::abs(got - want) <= 1e-2 * lr * static_cast<double>(p.numel()) + 1e-3 * want, name);
  }
}

TEST_CASE("AdamW state round-trips and refuses mis-shaped state") {
  torch::manual_seed(3);
  torch::Tensor w = torch::randn({3, 4}).set_requires_grad(true);
  training::AdamW a({{"w", w}});
  w.mutable_grad() = torch::randn({3, 4});
  a.step(1e-3);
  const auto state = a.state();
  REQUIRE(state.size() == 2);
  torch::Tensor w2 = w.detach().clone().set_requires_grad(true);
  training::AdamW b({{"w", w2}});
  b.load_state(state, a.steps(), "state.safetensors");
  const torch::Tensor grad = torch::randn({3, 4});
  w.mutable_grad() = grad.clone();
  w2.mutable_grad() = grad.clone();
  a.step(1e-3);
  b.step(1e-3);
  CHECK(torch::equal(w, w2));

  training::AdamW c({{"w", torch::zeros({2, 2}, torch::requires_grad())}});
  CHECK_THROWS_AS(c.load_state(state, 1, "state.safetensors"), FormatError);
}
