// The bounded pickle machine of .ckpt / .pt files: any opcode stream, with torch's rebuild
// functions known as a checkpoint's reader declares them.
#include "fuzz_util.h"
#include "io/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::io::pickle::Options options;
  options.is_known = [](std::string_view name) {
    return name == "torch._utils._rebuild_tensor_v2" || name == "collections.OrderedDict" ||
           name == "torch.FloatStorage" || name == "torch.HalfStorage" || name == "torch.BFloat16Storage";
  };
  options.source = "archive/data.pkl";
  kiln::fuzz::expect_kiln_errors_only([&] {
    const auto pickle = kiln::io::pickle::unpickle(kiln::fuzz::bytes(data, size), options, "fuzz.ckpt");
    (void)kiln::io::pickle::describe(pickle.root());
  });
  return 0;
}
