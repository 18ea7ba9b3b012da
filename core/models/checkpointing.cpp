#include "models/checkpointing.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace kiln::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct AutocastState {
  bool cuda = false;
  bool cpu = false;
  at::ScalarType cuda_dtype = at::kHalf;
  at::ScalarType cpu_dtype = at::kBFloat16;

  static AutocastState current() {
    return {at::autocast::is_autocast_enabled(at::kCUDA), at::autocast::is_autocast_enabled(at::kCPU),
            at::autocast::get_autocast_dtype(at::kCUDA), at::autocast::get_autocast_dtype(at::kCPU)};
  }
  void set() const {
    at::autocast::set_autocast_dtype(at::kCUDA, cuda_dtype);
    at::autocast::set_autocast_enabled(at::kCUDA, cuda);
    at::autocast::set_autocast_dtype(at::kCPU, cpu_dtype);
    at::autocast::set_autocast_enabled(at::kCPU, cpu);
  }
};

// The recomputation runs under the forward's autocast state, entered and left as torch.autocast
// does: the nesting count, and the cast cache cleared when the outermost scope ends.
class AutocastScope {
 public:
  explicit AutocastScope(const AutocastState& state) : previous_(AutocastState::current()) {
    state.set();
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    previous_.set();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  AutocastState previous_;
};

// What the backward needs besides the saved inputs; kept in the context as a capsule.
struct Recompute : torch::CustomClassHolder {
  CheckpointFn fn;
  std::vector<bool> defined;  // per input of fn; only the defined ones are inputs of the node
  std::size_t variables = 0;  // inputs of the node: the defined inputs, then the parameters
  AutocastState autocast;

  // fn's inputs from the defined ones, undefined where the caller passed undefined.
  std::vector<torch::Tensor> fn_inputs(at::TensorList defined_inputs) const {
    std::vector<torch::Tensor> all(defined.size());
    std::size_t k = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (defined[i]) all[i] = defined_inputs[k++];
    }
    return all;
  }
};

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  // `variables`: the defined inputs, then the parameters that require grad. Runs without grad
  // (Function::apply turns it off).
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList variables,
                               const c10::intrusive_ptr<Recompute>& recompute) {
    const std::size_t inputs =
        static_cast<std::size_t>(std::count(recompute->defined.begin(), recompute->defined.end(), true));
    const at::TensorList defined_inputs = variables.slice(0, inputs);
    ctx->save_for_backward(defined_inputs.vec());
    ctx->saved_data["recompute"] = c10::IValue::make_capsule(recompute);
    return recompute->fn(recompute->fn_inputs(defined_inputs));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto recompute = c10::static_intrusive_pointer_cast<Recompute>(ctx->saved_data.at("recompute").toCapsule());
    variable_list inputs;
    for (const torch::Tensor& saved : ctx->get_saved_variables()) {
      inputs.push_back(saved.detach().requires_grad_(saved.requires_grad()));
    }
    torch::Tensor output;
    {
      torch::AutoGradMode grad_mode(true);
      AutocastScope autocast(recompute->autocast);
      output = recompute->fn(recompute->fn_inputs(inputs));
    }
    if (output.requires_grad()) torch::autograd::backward({output}, {grad_outputs.at(0)});

    // One gradient per node input (the parameters' went to their .grad), and none for `recompute`.
    variable_list grads(recompute->variables + 1);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].requires_grad()) grads[i] = inputs[i].grad();
    }
    return grads;
  }
};

bool requires_grad(const torch::Tensor& t) { return t.defined() && t.requires_grad(); }

}  // namespace

torch::Tensor checkpointed(CheckpointFn fn, std::vector<torch::Tensor> inputs,
                           const std::vector<torch::Tensor>& parameters) {
  if (!torch::GradMode::is_enabled() || (std::none_of(inputs.begin(), inputs.end(), requires_grad) &&
                                         std::none_of(parameters.begin(), parameters.end(), requires_grad))) {
    return fn(inputs);
  }
  auto recompute = c10::make_intrusive<Recompute>();
  variable_list variables;
  for (const torch::Tensor& input : inputs) {
    recompute->defined.push_back(input.defined());
    if (input.defined()) variables.push_back(input);
  }
  for (const torch::Tensor& parameter : parameters) {
    if (requires_grad(parameter)) variables.push_back(parameter);
  }
  recompute->variables = variables.size();
  recompute->autocast = AutocastState::current();
  recompute->fn = std::move(fn);
  return CheckpointFunction::apply(at::TensorList(variables), recompute);
}

}  // namespace kiln::models
