// Kiln's leaf layers (models/layers.h) against torch::nn's: the same parameter names, order and
// shapes, the same random values from the same seed, the same forward; and SkipParameterInit
// leaves parameters unfilled without consuming random numbers.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/layers.h"

namespace km = kiln::models;

namespace {

std::vector<std::string> names(torch::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& p : m.named_parameters()) out.push_back(p.key());
  return out;
}

// Same names, shapes and values, parameter by parameter.
void check_same_parameters(torch::nn::Module& ours, torch::nn::Module& reference) {
  REQUIRE(names(ours) == names(reference));
  const auto a = ours.named_parameters(), b = reference.named_parameters();
  for (const auto& p : a) {
    const torch::Tensor& q = b[p.key()];
    CAPTURE(p.key());
    CHECK(p.value().sizes() == q.sizes());
    CHECK(torch::equal(p.value(), q));
  }
}

}  // namespace

TEST_CASE("Conv2d: torch::nn's names, initial values and forward") {
  for (const bool bias : {true, false}) {
    const auto options = torch::nn::Conv2dOptions(6, 8, 3).stride(2).padding(1).bias(bias);
    torch::manual_seed(7);
    km::Conv2d ours(options);
    torch::manual_seed(7);
    torch::nn::Conv2d reference(options);
    check_same_parameters(*ours, *reference);
    const torch::Tensor x = torch::randn({2, 6, 9, 11});
    CHECK(torch::equal(ours->forward(x), reference->forward(x)));
  }
  SUBCASE("grouped 1x1") {
    const auto options = torch::nn::Conv2dOptions(8, 4, 1).groups(2);
    torch::manual_seed(3);
    km::Conv2d ours(options);
    torch::manual_seed(3);
    torch::nn::Conv2d reference(options);
    check_same_parameters(*ours, *reference);
    const torch::Tensor x = torch::randn({1, 8, 5, 5});
    CHECK(torch::equal(ours->forward(x), reference->forward(x)));
  }
  CHECK_THROWS(km::Conv2d(torch::nn::Conv2dOptions(2, 2, 3).padding(torch::kSame)));
  CHECK_THROWS(km::Conv2d(torch::nn::Conv2dOptions(2, 2, 3).padding_mode(torch::kReflect)));
}

TEST_CASE("Linear, Embedding, GroupNorm, LayerNorm: torch::nn's names, initial values and forward") {
  for (const bool bias : {true, false}) {
    torch::manual_seed(11);
    km::Linear ours(torch::nn::LinearOptions(5, 7).bias(bias));
    torch::manual_seed(11);
    torch::nn::Linear reference(torch::nn::LinearOptions(5, 7).bias(bias));
    check_same_parameters(*ours, *reference);
    const torch::Tensor x = torch::randn({3, 4, 5});
    CHECK(torch::equal(ours->forward(x), reference->forward(x)));
  }
  {
    torch::manual_seed(5);
    km::Embedding ours(10, 4);
    torch::manual_seed(5);
    torch::nn::Embedding reference(10, 4);
    check_same_parameters(*ours, *reference);
    const torch::Tensor ids = torch::tensor({{1, 9, 0}}, torch::kLong);
    CHECK(torch::equal(ours->forward(ids), reference->forward(ids)));
  }
  {
    km::GroupNorm ours(torch::nn::GroupNormOptions(2, 6).eps(1e-6));
    torch::nn::GroupNorm reference(torch::nn::GroupNormOptions(2, 6).eps(1e-6));
    check_same_parameters(*ours, *reference);
    torch::NoGradGuard no_grad;
    ours->weight.normal_();
    ours->bias.normal_();
    reference->weight.copy_(ours->weight);
    reference->bias.copy_(ours->bias);
    const torch::Tensor x = torch::randn({2, 6, 3, 3});
    CHECK(torch::equal(ours->forward(x), reference->forward(x)));
  }
  {
    km::LayerNorm ours(torch::nn::LayerNormOptions({6}).eps(1e-5));
    torch::nn::LayerNorm reference(torch::nn::LayerNormOptions({6}).eps(1e-5));
    check_same_parameters(*ours, *reference);
    const torch::Tensor x = torch::randn({2, 3, 6});
    CHECK(torch::equal(ours->forward(x), reference->forward(x)));
  }
}

TEST_CASE("Linear forward uses the weight member, so LoRA can swap it") {
  km::Linear layer(3, 2);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3});
  layer->weight = torch::zeros({2, 3});
  CHECK(torch::equal(layer->forward(x), layer->bias.unsqueeze(0)));
}

TEST_CASE("SkipParameterInit: no random numbers drawn, parameters allocated, nesting, per thread") {
  CHECK_FALSE(km::parameter_init_skipped());
  torch::manual_seed(1);
  const torch::Tensor expected = torch::rand({4});
  torch::manual_seed(1);
  {
    km::SkipParameterInit skip;
    CHECK(km::parameter_init_skipped());
    {
      km::SkipParameterInit nested;
      CHECK(km::parameter_init_skipped());
    }
    CHECK(km::parameter_init_skipped());
    km::Conv2d conv(torch::nn::Conv2dOptions(64, 64, 3).padding(1));
    km::Linear linear(64, 64);
    km::Embedding embedding(100, 8);
    CHECK(conv->weight.sizes() == torch::IntArrayRef({64, 64, 3, 3}));
    CHECK(linear->bias.sizes() == torch::IntArrayRef({64}));
    CHECK(embedding->weight.sizes() == torch::IntArrayRef({100, 8}));
  }
  CHECK_FALSE(km::parameter_init_skipped());
  CHECK(torch::equal(torch::rand({4}), expected));  // the generator did not move

  const auto unfilled = km::make_unfilled<km::Linear>(8, 8);
  CHECK_FALSE(km::parameter_init_skipped());
  CHECK(unfilled->weight.sizes() == torch::IntArrayRef({8, 8}));
}
