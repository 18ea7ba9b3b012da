#include "training/lora_network.h"

#include <cmath>
#include <map>

#include "base/error.h"
#include "models/layers.h"

namespace kiln::training {

std::string kohya_module_name(std::string_view prefix, std::string_view module_path) {
  std::string out(prefix);
  out += '_';
  for (char c : module_path) out += (c == '.' ? '_' : c);
  return out;
}

const std::vector<std::string>& unet_lora_targets() {
  static const std::vector<std::string> targets = {"to_q", "to_k", "to_v", "to_out.0"};
  return targets;
}

const std::vector<std::string>& text_encoder_lora_targets() {
  static const std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "out_proj"};
  return targets;
}

struct LoRANetwork::Layer {
  std::string name;  // kohya module name
  std::shared_ptr<models::LinearImpl> linear;
  torch::Tensor base;  // the registered weight parameter
  torch::Tensor down;  // [rank, in]
  torch::Tensor up;    // [out, rank]
};

LoRANetwork::LoRANetwork() = default;
LoRANetwork::~LoRANetwork() = default;
LoRANetwork::LoRANetwork(LoRANetwork&&) noexcept = default;
LoRANetwork& LoRANetwork::operator=(LoRANetwork&&) noexcept = default;

LoRANetwork::LoRANetwork(torch::nn::Module& root, std::string prefix, const std::vector<std::string>& targets,
                         int rank, double alpha, at::Generator& generator)
    : rank_(rank), alpha_(alpha) {
  if (rank < 1) throw InvalidRequestError("LoRA rank must be at least 1");
  for (const auto& item : root.named_modules("", false)) {
    const std::string& path = item.key();
    bool wanted = false;
    for (const auto& t : targets) {
      wanted = wanted || path == t || (path.size() > t.size() && path.ends_with(t) && path[path.size() - t.size() - 1] == '.');
    }
    if (!wanted) continue;
    auto linear = std::dynamic_pointer_cast<models::LinearImpl>(item.value());
    if (!linear) continue;
    auto layer = std::make_unique<Layer>();
    layer->name = kohya_module_name(prefix, path);
    layer->linear = linear;
    layer->base = linear->weight;
    const std::int64_t out_features = layer->base.size(0);
    const std::int64_t in_features = layer->base.size(1);
    const auto options = torch::TensorOptions().dtype(torch::kFloat);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    torch::Tensor down = torch::rand({rank, in_features}, generator, options) * (2 * bound) - bound;
    layer->down = down.to(layer->base.device()).set_requires_grad(true);
    layer->up = torch::zeros({out_features, rank}, options.device(layer->base.device())).set_requires_grad(true);
    layers_.push_back(std::move(layer));
  }
  if (layers_.empty()) throw InvalidRequestError("LoRA: no layer of the model matches the targets (" + prefix + ")");
}

void LoRANetwork::apply() {
  const double scale = alpha_ / rank_;
  for (auto& l : layers_) {
    const torch::Tensor delta = torch::mm(l->up, l->down) * scale;
    l->linear->weight = l->base + delta.to(l->base.scalar_type());
  }
}

void LoRANetwork::detach() {
  for (auto& l : layers_) l->linear->weight = l->base;
}

NamedParameters LoRANetwork::parameters() const {
  NamedParameters out;
  for (const auto& l : layers_) {
    out.emplace_back(l->name + ".lora_down.weight", l->down);
    out.emplace_back(l->name + ".lora_up.weight", l->up);
  }
  return out;
}

void LoRANetwork::set_requires_grad(bool on) {
  for (auto& l : layers_) {
    l->down.set_requires_grad(on);
    l->up.set_requires_grad(on);
  }
}

io::NamedTensors LoRANetwork::export_tensors(torch::Dtype dtype) const {
  io::NamedTensors out;
  for (const auto& l : layers_) {
    out.emplace_back(l->name + ".lora_down.weight", l->down.detach().to(torch::kCPU, dtype).contiguous());
    out.emplace_back(l->name + ".lora_up.weight", l->up.detach().to(torch::kCPU, dtype).contiguous());
    out.emplace_back(l->name + ".alpha", torch::tensor(alpha_, torch::TensorOptions().dtype(dtype)).reshape({}));
  }
  return out;
}

void LoRANetwork::load(const io::NamedTensors& tensors, const std::string& source) {
  std::map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, t] : tensors) by_name[name] = &t;
  torch::NoGradGuard no_grad;
  for (auto& l : layers_) {
    for (auto* target : {&l->down, &l->up}) {
      const std::string name = l->name + (target == &l->down ? ".lora_down.weight" : ".lora_up.weight");
      const auto it = by_name.find(name);
      if (it == by_name.end()) throw FormatError("LoRA tensor '" + name + "' is missing", source);
      if (it->second->sizes() != target->sizes()) {
        throw FormatError("LoRA tensor '" + name + "' has the wrong shape", source);
      }
      target->copy_(*it->second);
    }
  }
}

}  // namespace kiln::training
