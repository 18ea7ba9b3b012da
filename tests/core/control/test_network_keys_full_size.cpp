// Depth Anything V2 vitl and vitg at full size (335 M and 1.26 G parameters): their
// named_parameters() against the golden key lists. Built in fp16 to halve the memory (2.5 GB for
// vitg); only names and shapes are compared. Label `slow`.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "control/depth_anything_v2.h"
#include "control_test_util.h"

using namespace kiln::control;

namespace {

struct DefaultDtypeGuard {
  caffe2::TypeMeta saved = torch::get_default_dtype();
  explicit DefaultDtypeGuard(caffe2::TypeMeta dtype) { torch::set_default_dtype(dtype); }
  ~DefaultDtypeGuard() { torch::set_default_dtype(saved); }
  DefaultDtypeGuard(const DefaultDtypeGuard&) = delete;
  DefaultDtypeGuard& operator=(const DefaultDtypeGuard&) = delete;
};

}  // namespace

TEST_CASE("Depth Anything V2 vitl and vitg have the reference state_dict names and shapes") {
  for (const char* encoder : {"vitl", "vitg"}) {
    INFO(encoder);
    const nlohmann::json keys =
        test::read_json(test::golden_dir() / "nets" / "keys" / (std::string("depth_anything_v2_") + encoder + ".json"));
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> want;
    for (const auto& k : keys["keys"]) want.emplace_back(k[0], k[1].get<std::vector<std::int64_t>>());
    std::sort(want.begin(), want.end());
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> got;
    std::int64_t params = 0;
    {
      const DefaultDtypeGuard half(caffe2::TypeMeta::Make<c10::Half>());
      DepthAnythingV2 model(DepthAnythingV2Config::for_encoder(encoder));
      for (const auto& p : model->named_parameters()) {
        got.emplace_back(p.key(), p.value().sizes().vec());
        params += p.value().numel();
      }
    }
    std::sort(got.begin(), got.end());
    CHECK(got == want);
    CHECK(params == keys["num_params"].get<std::int64_t>());
  }
}
