// A diffusers scheduler_config.json (Python's JSON: NaN, Infinity, trailing commas ...): parsed
// and validated into a SchedulerConfig.
#include "fuzz_util.h"
#include "schedulers/scheduler_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kiln::fuzz::expect_kiln_errors_only(
      [&] { (void)kiln::schedulers::SchedulerConfig::from_json_text(kiln::fuzz::text(data, size), "scheduler_config.json"); });
  return 0;
}
