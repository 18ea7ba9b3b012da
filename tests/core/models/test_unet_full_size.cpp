#include <doctest/doctest.h>

#include <torch/torch.h>

#include "models/unet_2d_condition.h"
#include "support/test_support.h"

// Full-size UNets built in fp16 (default dtype switched for the construction) to halve the
// allocation: SDXL is 2.6B parameters (5 GB in fp16). Only names and shapes are compared.

namespace {

struct DefaultDtypeGuard {
  caffe2::TypeMeta saved = torch::get_default_dtype();
  explicit DefaultDtypeGuard(caffe2::TypeMeta dtype) { torch::set_default_dtype(dtype); }
  ~DefaultDtypeGuard() { torch::set_default_dtype(saved); }
  DefaultDtypeGuard(const DefaultDtypeGuard&) = delete;
  DefaultDtypeGuard& operator=(const DefaultDtypeGuard&) = delete;
};

void check_keys(const kiln::models::UNet2DConditionConfig& config, const std::string& family,
                std::size_t expected_count) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> got;
  {
    DefaultDtypeGuard half(caffe2::TypeMeta::Make<at::Half>());
    kiln::models::UNet2DConditionModel model(config);
    for (const auto& p : model->named_parameters(true)) got.emplace_back(p.key(), p.value().sizes().vec());
  }
  const auto expected =
      kiln::test::read_key_list(kiln::test::data_dir() / "golden/keys" / family / "diffusers_unet.txt");
  REQUIRE(got.size() == expected.entries().size());
  CHECK(got.size() == expected_count);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& e = expected.entries()[i];
    if (got[i].first != e.name || got[i].second != e.shape) {
      if (++bad <= 5) MESSAGE("at " << i << ": got " << got[i].first << ", expected " << e.name);
    }
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("full-size SD 1.5 UNet names and shapes equal diffusers' state_dict, in order") {
  check_keys(kiln::models::UNet2DConditionConfig::sd15(), "sd15", 686);
}

TEST_CASE("full-size SD 2.1 UNet names and shapes equal diffusers' state_dict, in order") {
  check_keys(kiln::models::UNet2DConditionConfig::sd21(), "sd21", 686);
}

TEST_CASE("full-size SDXL base UNet names and shapes equal diffusers' state_dict, in order") {
  check_keys(kiln::models::UNet2DConditionConfig::sdxl_base(), "sdxl_base", 1680);
}
