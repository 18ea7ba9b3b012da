#pragma once
// Gradient checkpointing (activation recomputation) for training. LibTorch's C++ API has no
// torch.utils.checkpoint; this is its reentrant variant (use_reentrant=True): the forward keeps only
// the inputs of a checkpointed function, and the backward runs the function again with grad enabled
// and backpropagates through that recomputation. Trades one extra forward of each checkpointed
// block for not holding the block's intermediate activations until the backward.

#include <functional>
#include <vector>

#include <torch/torch.h>

namespace kiln::models {

using CheckpointFn = std::function<torch::Tensor(const std::vector<torch::Tensor>& inputs)>;

// fn(inputs), without keeping fn's intermediate activations for the backward pass. The forward runs
// under NoGradGuard and saves `inputs`. The backward re-runs fn with grad enabled (and with the
// autocast state of the forward), calls torch::autograd::backward on the recomputed output - which
// accumulates .grad of every leaf fn reaches: its parameters, and LoRA factors behind re-parametrised
// weights - and hands the inputs' gradients on. As with use_reentrant=True, parameter gradients
// reach .grad through loss.backward(), not through torch::autograd::grad().
//
// `parameters`: the tensors fn reads that may require grad (e.g. module->parameters()). The ones that
// do become inputs of the autograd node, so the output requires grad even when no input does (a
// frozen stem before trained blocks); their gradients still arrive through .grad.
//
// Undefined inputs (an absent context) reach fn undefined. fn must compute the same thing twice: no
// dropout (the RNG state is not replayed), no in-place changes to its inputs, and it must own what it
// captures (capture module pointers by value; it lives as long as the graph).
//
// Without grad mode (NoGradGuard, InferenceMode), or when no input or parameter requires grad, this
// is just fn(inputs).
torch::Tensor checkpointed(CheckpointFn fn, std::vector<torch::Tensor> inputs,
                           const std::vector<torch::Tensor>& parameters = {});

}  // namespace kiln::models
