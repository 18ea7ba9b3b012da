// Seeds reproduce Python's images because LibTorch's CPU generator draws exactly what Python's
// torch draws from the same seed. Checked live against the torch of the tests' Python (the pinned
// LibTorch's own environment), bit for bit: normal draws below and above the 16-element
// vectorised threshold, a channels-last draw (train_dreambooth's randn_like on NHWC latents),
// uniform and integer draws, and a stream continued across calls as the samplers consume it.
#include <doctest/doctest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "support/test_support.h"

namespace {

std::vector<double> values(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kDouble).contiguous().flatten();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

}  // namespace

TEST_CASE("the CPU generator draws what Python's torch draws from the same seed") {
  kiln::test::ScratchDir dir;
  const auto script = dir / "draw.py";
  // float.hex keeps every bit of the float32 values (exact in a double).
  kiln::test::write_text(script, R"(import json, sys, torch
g = torch.Generator().manual_seed(1234)
out = {"torch": torch.__version__}
out["randn_7"] = torch.randn(7, generator=g).tolist()
out["randn_2x4x8x8"] = torch.randn(2, 4, 8, 8, generator=g).flatten().tolist()
x = torch.empty(2, 4, 8, 8).to(memory_format=torch.channels_last)
out["randn_like_nhwc"] = x.normal_(generator=g).flatten().tolist()
out["rand_33"] = torch.rand(33, generator=g).tolist()
out["randint_5"] = torch.randint(0, 1000, (5,), generator=g).tolist()
out["randn_after"] = torch.randn(3, 5, generator=g).flatten().tolist()
json.dump({k: ([float(v).hex() for v in vals] if isinstance(vals, list) else vals) for k, vals in out.items()},
          open(sys.argv[1], "w"))
)");
  const auto out = dir / "draws.json";
  const std::string cmd = std::string(KILN_PYTHON3) + " '" + script.string() + "' '" + out.string() + "'";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "Python with torch failed: " << cmd);
  const auto want = nlohmann::json::parse(kiln::test::read_text(out));
  MESSAGE("Python's torch " << want["torch"].get<std::string>() << ", LibTorch " << TORCH_VERSION);

  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(1234);
  std::map<std::string, std::vector<double>> got;
  got["randn_7"] = values(torch::randn({7}, g));
  got["randn_2x4x8x8"] = values(torch::randn({2, 4, 8, 8}, g));
  torch::Tensor nhwc = torch::empty({2, 4, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast);
  nhwc.normal_(0, 1, g);
  got["randn_like_nhwc"] = values(nhwc);
  got["rand_33"] = values(torch::rand({33}, g));
  got["randint_5"] = values(torch::randint(0, 1000, {5}, g));
  got["randn_after"] = values(torch::randn({3, 5}, g));
  for (const auto& [name, draws] : got) {
    CAPTURE(name);
    const auto& expected = want.at(name);
    REQUIRE(expected.size() == draws.size());
    int differing = 0;
    for (std::size_t i = 0; i < draws.size(); ++i) {
      if (std::strtod(expected[i].get<std::string>().c_str(), nullptr) != draws[i]) ++differing;
    }
    CHECK(differing == 0);
  }
}
