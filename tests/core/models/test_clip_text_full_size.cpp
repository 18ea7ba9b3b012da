#include <doctest/doctest.h>

#include <torch/torch.h>

#include "models/clip_text_model.h"
#include "support/test_support.h"

// SDXL's text_encoder_2 (OpenCLIP bigG, 695M parameters: 2.8 GB in fp32) at full size.
TEST_CASE("SDXL text_encoder_2 (bigG with projection): every name and shape, in state_dict order") {
  const auto expected =
      kiln::test::read_key_list(kiln::test::data_dir() / "golden/keys/sdxl_base/diffusers_text_encoder_2.txt");
  kiln::models::CLIPTextModel model(kiln::models::CLIPTextConfig::sdxl_bigg());
  const auto params = model->named_parameters(true);
  REQUIRE(params.size() == expected.size());
  std::int64_t count = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& e = expected.entries()[i];
    CHECK(params[i].key() == e.name);
    CHECK(params[i].value().sizes().vec() == e.shape);
    count += params[i].value().numel();
  }
  CHECK(count == 694659840);  // keys/sdxl_base/meta.json num_params
}
