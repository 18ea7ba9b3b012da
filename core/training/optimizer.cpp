#include "training/optimizer.h"

#include <cmath>
#include <map>

#include "base/error.h"

namespace kiln::training {

AdamW::AdamW(NamedParameters parameters, AdamWOptions options)
    : parameters_(std::move(parameters)), options_(options) {
  exp_avg_.resize(parameters_.size());
  exp_avg_sq_.resize(parameters_.size());
}

void Optimizer::zero_grad() {
  for (const auto& [name, p] : parameters()) {
    if (p.grad().defined()) const_cast<torch::Tensor&>(p).mutable_grad() = torch::Tensor();
  }
}

std::int64_t Optimizer::state_bytes() const {
  std::int64_t bytes = 0;
  for (const auto& [name, t] : state()) bytes += t.numel() * static_cast<std::int64_t>(t.element_size());
  return bytes;
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1;
  const double b2 = options_.beta2;
  const double bias_correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double bias_correction2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i].second;
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    if (!exp_avg_[i].defined()) {
      exp_avg_[i] = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      exp_avg_sq_[i] = torch::zeros_like(p, torch::MemoryFormat::Preserve);
    }
    p.mul_(1.0 - lr * options_.weight_decay);
    exp_avg_[i].mul_(b1).add_(grad, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(grad, grad, 1.0 - b2);
    const torch::Tensor denom = (exp_avg_sq_[i].sqrt() / bias_correction2_sqrt).add_(options_.eps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

NamedParameters AdamW::state() const {
  NamedParameters out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (!exp_avg_[i].defined()) continue;
    out.emplace_back("exp_avg." + parameters_[i].first, exp_avg_[i]);
    out.emplace_back("exp_avg_sq." + parameters_[i].first, exp_avg_sq_[i]);
  }
  return out;
}

void AdamW::load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) {
  std::map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, t] : state) by_name[name] = &t;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const auto& [name, p] = parameters_[i];
    const auto m = by_name.find("exp_avg." + name);
    const auto v = by_name.find("exp_avg_sq." + name);
    if (m == by_name.end() && v == by_name.end()) {
      if (steps > 0 && p.requires_grad()) {
        throw FormatError("the optimizer state has no entry for parameter '" + name + "'", source);
      }
      exp_avg_[i] = exp_avg_sq_[i] = torch::Tensor();
      continue;
    }
    if (m == by_name.end() || v == by_name.end() || m->second->sizes() != p.sizes() ||
        v->second->sizes() != p.sizes()) {
      throw FormatError("the optimizer state of parameter '" + name + "' is missing or has the wrong shape",
                        source);
    }
    exp_avg_[i] = m->second->to(p.device(), p.scalar_type()).clone();
    exp_avg_sq_[i] = v->second->to(p.device(), p.scalar_type()).clone();
  }
  steps_ = steps;
}

double clip_grad_norm(const NamedParameters& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& [name, p] : parameters) {
    if (p.grad().defined()) norms.push_back(at::linalg_vector_norm(p.grad(), 2, {}, false, {}));
  }
  if (norms.empty()) return 0.0;
  const torch::Tensor total = at::linalg_vector_norm(torch::stack(norms), 2, {}, false, {});
  if (max_norm > 0) {
    const torch::Tensor coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
    for (const auto& [name, p] : parameters) {
      if (p.grad().defined()) p.grad().mul_(coef.to(p.grad().device()));
    }
  }
  return total.item<double>();
}

}  // namespace kiln::training
