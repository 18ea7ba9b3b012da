#include "training/memory_optimizers.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/error.h"

namespace kiln::training {

namespace {

std::map<std::string, const torch::Tensor*> by_name(const NamedParameters& state) {
  std::map<std::string, const torch::Tensor*> out;
  for (const auto& [name, t] : state) out[name] = &t;
  return out;
}

const torch::Tensor* find(const std::map<std::string, const torch::Tensor*>& m, const std::string& name) {
  const auto it = m.find(name);
  return it == m.end() ? nullptr : it->second;
}

[[noreturn]] void bad_state(const std::string& name, const std::string& source) {
  throw FormatError("the optimizer state of parameter '" + name + "' is missing or has the wrong shape", source);
}

std::int64_t blocks_of(std::int64_t n) { return (n + AdamW8bit::kBlock - 1) / AdamW8bit::kBlock; }

// x [blocks * 256] fp32 -> codes (uint8) of the nearest map value of x / absmax, and absmax.
std::pair<torch::Tensor, torch::Tensor> quantize(const torch::Tensor& x, const torch::Tensor& map) {
  const torch::Tensor blocks = x.view({-1, AdamW8bit::kBlock});
  const torch::Tensor absmax = blocks.abs().amax(1);
  const torch::Tensor scale = torch::where(absmax > 0, absmax, torch::ones_like(absmax));
  const torch::Tensor normed = (blocks / scale.unsqueeze(1)).reshape({-1}).clamp(-1.0, 1.0);
  const torch::Tensor hi = torch::searchsorted(map, normed).clamp(0, map.size(0) - 1);
  const torch::Tensor lo = (hi - 1).clamp_min(0);
  const torch::Tensor pick_lo = (normed - map.index_select(0, lo)).abs() <= (map.index_select(0, hi) - normed).abs();
  const torch::Tensor codes = torch::where(pick_lo, lo, hi).to(torch::kUInt8);
  return {codes, absmax};
}

torch::Tensor dequantize(const torch::Tensor& codes, const torch::Tensor& absmax, const torch::Tensor& map) {
  return (map.index_select(0, codes.to(torch::kLong)).view({-1, AdamW8bit::kBlock}) * absmax.unsqueeze(1)).reshape({-1});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// AdamW8bit

torch::Tensor AdamW8bit::dynamic_map(bool is_signed) {
  // bitsandbytes.functional.create_dynamic_map(signed, max_exponent_bits=7, total_bits=8).
  constexpr int max_exponent_bits = 7, total_bits = 8;
  const int non_sign_bits = total_bits - 1;
  std::vector<double> data;
  auto add = [&](int fraction_items, int i) {
    const torch::Tensor boundaries = torch::linspace(0.1, 1.0, fraction_items, torch::kFloat);
    const torch::Tensor means = (boundaries.slice(0, 0, -1) + boundaries.slice(0, 1)) / 2.0;
    // float32 products, as torch computes `10 ** e * means`
    const torch::Tensor values = means * std::pow(10.0, -(max_exponent_bits - 1) + i);
    for (std::int64_t k = 0; k < values.size(0); ++k) {
      const double v = static_cast<double>(values[k].item<float>());
      data.push_back(v);
      if (is_signed) data.push_back(-v);
    }
  };
  const int additional_items = (1 << (non_sign_bits - max_exponent_bits)) - 1;
  for (int i = 0; i < max_exponent_bits; ++i) {
    add(is_signed ? (1 << (i + non_sign_bits - max_exponent_bits)) + 1
                  : (1 << (i + non_sign_bits - max_exponent_bits + 1)) + 1,
        i);
  }
  if (additional_items > 0) add(additional_items + 1, max_exponent_bits - 1);
  data.push_back(0.0);
  data.push_back(1.0);
  while (data.size() < 256) data.push_back(0.0);
  std::sort(data.begin(), data.end());
  return torch::tensor(data, torch::kDouble).to(torch::kFloat);
}

AdamW8bit::AdamW8bit(NamedParameters parameters, AdamWOptions options)
    : parameters_(std::move(parameters)), options_(options), state_(parameters_.size()) {
  map_signed_ = dynamic_map(true);
  map_unsigned_ = dynamic_map(false);
}

void AdamW8bit::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double step_size = lr / (1.0 - std::pow(b1, static_cast<double>(steps_)));
  const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(steps_)));
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i].second;
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    Moments& s = state_[i];
    const std::int64_t n = p.numel();
    p.mul_(1.0 - lr * options_.weight_decay);
    if (n < kMinQuantized) {
      if (!s.m.defined()) {
        s.m = torch::zeros_like(p, torch::MemoryFormat::Preserve);
        s.v = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      }
      s.m.mul_(b1).add_(grad, 1.0 - b1);
      s.v.mul_(b2).addcmul_(grad, grad, 1.0 - b2);
      p.addcdiv_(s.m, (s.v.sqrt() / bias_correction2_sqrt).add_(options_.eps), -step_size);
      continue;
    }
    const std::int64_t padded = blocks_of(n) * kBlock;
    const auto fopts = torch::TensorOptions().dtype(torch::kFloat).device(p.device());
    if (map_signed_.device() != p.device()) {
      map_signed_ = map_signed_.to(p.device());
      map_unsigned_ = map_unsigned_.to(p.device());
    }
    torch::Tensor m, v;
    if (!s.m_q.defined()) {
      m = torch::zeros({padded}, fopts);
      v = torch::zeros({padded}, fopts);
    } else {
      m = dequantize(s.m_q, s.m_absmax, map_signed_);
      v = dequantize(s.v_q, s.v_absmax, map_unsigned_);
    }
    const torch::Tensor g = torch::constant_pad_nd(grad.reshape({-1}).to(torch::kFloat), {0, padded - n});
    m.mul_(b1).add_(g, 1.0 - b1);
    v.mul_(b2).addcmul_(g, g, 1.0 - b2);
    const torch::Tensor denom = (v.slice(0, 0, n).sqrt() / bias_correction2_sqrt).add_(options_.eps);
    p.addcdiv_(m.slice(0, 0, n).view_as(p), denom.view_as(p), -step_size);
    std::tie(s.m_q, s.m_absmax) = quantize(m, map_signed_);
    std::tie(s.v_q, s.v_absmax) = quantize(v, map_unsigned_);
  }
}

NamedParameters AdamW8bit::state() const {
  NamedParameters out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const std::string& name = parameters_[i].first;
    const Moments& s = state_[i];
    if (s.m.defined()) {
      out.emplace_back("exp_avg." + name, s.m);
      out.emplace_back("exp_avg_sq." + name, s.v);
    } else if (s.m_q.defined()) {
      out.emplace_back("exp_avg_q." + name, s.m_q);
      out.emplace_back("exp_avg_absmax." + name, s.m_absmax);
      out.emplace_back("exp_avg_sq_q." + name, s.v_q);
      out.emplace_back("exp_avg_sq_absmax." + name, s.v_absmax);
    }
  }
  return out;
}

void AdamW8bit::load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) {
  const auto named = by_name(state);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const auto& [name, p] = parameters_[i];
    Moments s;
    const torch::Tensor* m = find(named, "exp_avg." + name);
    const torch::Tensor* v = find(named, "exp_avg_sq." + name);
    const torch::Tensor* mq = find(named, "exp_avg_q." + name);
    const torch::Tensor* ma = find(named, "exp_avg_absmax." + name);
    const torch::Tensor* vq = find(named, "exp_avg_sq_q." + name);
    const torch::Tensor* va = find(named, "exp_avg_sq_absmax." + name);
    const std::int64_t n = p.numel();
    if (!m && !v && !mq && !ma && !vq && !va) {
      if (steps > 0 && p.requires_grad()) {
        throw FormatError("the optimizer state has no entry for parameter '" + name + "'", source);
      }
    } else if (n < kMinQuantized) {
      if (!m || !v || m->sizes() != p.sizes() || v->sizes() != p.sizes()) bad_state(name, source);
      s.m = m->to(p.device(), torch::kFloat).clone();
      s.v = v->to(p.device(), torch::kFloat).clone();
    } else {
      const std::int64_t blocks = blocks_of(n);
      auto fits = [](const torch::Tensor* t, std::int64_t size, torch::ScalarType type) {
        return t && t->dim() == 1 && t->size(0) == size && t->scalar_type() == type;
      };
      if (!fits(mq, blocks * kBlock, torch::kUInt8) || !fits(vq, blocks * kBlock, torch::kUInt8) ||
          !fits(ma, blocks, torch::kFloat) || !fits(va, blocks, torch::kFloat)) {
        bad_state(name, source);
      }
      s.m_q = mq->to(p.device()).clone();
      s.v_q = vq->to(p.device()).clone();
      s.m_absmax = ma->to(p.device()).clone();
      s.v_absmax = va->to(p.device()).clone();
    }
    state_[i] = std::move(s);
  }
  steps_ = steps;
}

// ---------------------------------------------------------------------------------------------
// Adafactor

Adafactor::Adafactor(NamedParameters parameters, AdafactorOptions options)
    : parameters_(std::move(parameters)), options_(options), state_(parameters_.size()) {}

void Adafactor::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double beta2t = 1.0 - std::pow(static_cast<double>(steps_), options_.decay_rate);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i].second;
    if (!p.grad().defined()) continue;
    const torch::Tensor grad = p.grad().to(torch::kFloat);
    Moments& s = state_[i];
    const bool factored = p.dim() >= 2;
    torch::Tensor update = grad * grad + options_.eps1;
    if (factored) {
      if (!s.row.defined()) {
        s.row = torch::zeros(grad.sizes().slice(0, grad.dim() - 1), grad.options());
        std::vector<std::int64_t> col_shape(grad.sizes().begin(), grad.sizes().end() - 2);
        col_shape.push_back(grad.size(-1));
        s.col = torch::zeros(col_shape, grad.options());
      }
      s.row.mul_(beta2t).add_(update.mean(-1), 1.0 - beta2t);
      s.col.mul_(beta2t).add_(update.mean(-2), 1.0 - beta2t);
      // transformers' _approx_sq_grad
      const torch::Tensor r = (s.row / s.row.mean(-1, true)).rsqrt_().unsqueeze(-1);
      const torch::Tensor c = s.col.unsqueeze(-2).rsqrt();
      update = r * c * grad;
    } else {
      if (!s.v.defined()) s.v = torch::zeros_like(grad);
      s.v.mul_(beta2t).add_(update, 1.0 - beta2t);
      update = s.v.rsqrt() * grad;
    }
    const double rms = update.norm(2).item<double>() / std::sqrt(static_cast<double>(update.numel()));
    update.div_(std::max(1.0, rms / options_.clip_threshold)).mul_(lr);
    if (options_.weight_decay != 0) p.mul_(1.0 - options_.weight_decay * lr);
    p.sub_(update.to(p.scalar_type()));
  }
}

NamedParameters Adafactor::state() const {
  NamedParameters out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const std::string& name = parameters_[i].first;
    const Moments& s = state_[i];
    if (s.row.defined()) {
      out.emplace_back("exp_avg_sq_row." + name, s.row);
      out.emplace_back("exp_avg_sq_col." + name, s.col);
    } else if (s.v.defined()) {
      out.emplace_back("exp_avg_sq." + name, s.v);
    }
  }
  return out;
}

void Adafactor::load_state(const NamedParameters& state, std::int64_t steps, const std::string& source) {
  const auto named = by_name(state);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const auto& [name, p] = parameters_[i];
    Moments s;
    const torch::Tensor* row = find(named, "exp_avg_sq_row." + name);
    const torch::Tensor* col = find(named, "exp_avg_sq_col." + name);
    const torch::Tensor* v = find(named, "exp_avg_sq." + name);
    if (!row && !col && !v) {
      if (steps > 0 && p.requires_grad()) {
        throw FormatError("the optimizer state has no entry for parameter '" + name + "'", source);
      }
    } else if (p.dim() >= 2) {
      std::vector<std::int64_t> col_shape(p.sizes().begin(), p.sizes().end() - 2);
      col_shape.push_back(p.size(-1));
      if (!row || !col || row->sizes() != p.sizes().slice(0, p.dim() - 1) || col->sizes() != at::IntArrayRef(col_shape)) {
        bad_state(name, source);
      }
      s.row = row->to(p.device(), torch::kFloat).clone();
      s.col = col->to(p.device(), torch::kFloat).clone();
    } else {
      if (!v || v->sizes() != p.sizes()) bad_state(name, source);
      s.v = v->to(p.device(), torch::kFloat).clone();
    }
    state_[i] = std::move(s);
  }
  steps_ = steps;
}

std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, NamedParameters parameters, const AdamWOptions& adam) {
  switch (kind) {
    case OptimizerKind::AdamW8bit: return std::make_unique<AdamW8bit>(std::move(parameters), adam);
    case OptimizerKind::Adafactor: {
      AdafactorOptions options;
      options.weight_decay = adam.weight_decay;
      return std::make_unique<Adafactor>(std::move(parameters), options);
    }
    case OptimizerKind::AdamW: break;
  }
  return std::make_unique<AdamW>(std::move(parameters), adam);
}

}  // namespace kiln::training
