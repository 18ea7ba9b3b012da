// Data-parallel training on c10d (Gloo on the CPU, a real TCPStore on loopback): two ranks with
// batch 1 train what one process with batch 2 trains, for a UNet stage, a text-encoder stage
// and LoRA; a rank that fails makes the other stop naming it; a two-rank run resumed after a
// crash ends where an uninterrupted one ends; the launchers' environment is read.
// The ranks are threads of this process, each with its own model, trainer and process group.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <thread>

#include "base/error.h"
#include "io/safetensors.h"
#include "support/test_support.h"
#include "tiny_session.h"
#include "training/distributed.h"
#include "training/trainer.h"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::training;
using test::checkpoint_tensors;
using test::CrashAt;
using test::make_images;
using test::metrics;

namespace {

// The shared tiny session as a data-parallel one: no text-encoder stage, 3 UNet steps.
TrainingSettings tiny_settings(const fs::path& images) {
  TrainingSettings s = test::tiny_settings(images);
  s.text_encoder = {0, 1e-4};
  s.unet = {3, 1e-4};
  s.data_parallel = true;
  return s;
}

// A port nobody listens on now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Set when rank 0's run_training of the last run_ranks() has returned or thrown.
std::atomic<bool> g_rank0_done{false};

struct RankResult {
  std::optional<TrainingOutcome> outcome;
  std::exception_ptr error;
  std::string error_text;
};

// Runs `world` ranks of `session` as threads; callbacks[r] (when given) are rank r's.
std::vector<RankResult> run_ranks(const fs::path& session, int world, bool resume = true,
                                  std::vector<TrainingCallbacks> callbacks = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  callbacks.resize(static_cast<std::size_t>(world));
  const int port = free_port();
  g_rank0_done = false;
  std::vector<RankResult> results(static_cast<std::size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      RunOptions options;
      options.resume = resume;
      options.distributed.rank = r;
      options.distributed.world_size = world;
      options.distributed.local_rank = r;
      options.distributed.master_addr = "127.0.0.1";
      options.distributed.master_port = port;
      options.distributed.timeout = timeout;
      auto& out = results[static_cast<std::size_t>(r)];
      try {
        out.outcome = run_training(session, {}, callbacks[static_cast<std::size_t>(r)], options);
      } catch (const std::exception& e) {
        out.error = std::current_exception();
        out.error_text = e.what();
      }
      if (r == 0) g_rank0_done = true;
    });
  }
  for (auto& t : threads) t.join();
  return results;
}

bool trained_weight(const std::string& name) {
  return name.starts_with("unet.") || name.starts_with("text_encoder") || name.starts_with("lora.");
}

// The largest difference between the trained weights of two checkpoints, and the largest change
// training made to any weight (`base`: the starting values of the same names, when known).
struct Comparison {
  double max_diff = 0;
  std::size_t tensors = 0;
};
Comparison compare_weights(const std::map<std::string, torch::Tensor>& want,
                           const std::map<std::string, torch::Tensor>& got) {
  Comparison c;
  for (const auto& [name, t] : want) {
    if (!trained_weight(name)) continue;
    REQUIRE_MESSAGE(got.count(name), name);
    c.max_diff = std::max(c.max_diff, (t - got.at(name)).abs().max().item<double>());
    ++c.tensors;
  }
  return c;
}

// Two ranks x batch 1 against one process x batch 2 on the same settings; returns the largest
// weight difference after the run. Losses agree per step as well.
double two_ranks_against_one_process(const test::ScratchDir& scratch, const TrainingSettings& base_settings,
                                     const std::string& name) {
  TrainingSettings one = base_settings;
  one.batch_size = 2;
  const fs::path single = scratch / (name + "-single");
  create_session(single, one);
  const TrainingOutcome a = run_training(single);
  REQUIRE(a.finished);

  TrainingSettings per_rank = base_settings;
  per_rank.batch_size = 1;
  const fs::path parallel = scratch / (name + "-parallel");
  create_session(parallel, per_rank);
  const auto results = run_ranks(parallel, 2);
  for (const auto& r : results) {
    REQUIRE_MESSAGE(!r.error, r.error_text);
    REQUIRE(r.outcome->finished);
  }

  const auto ma = metrics(single), mb = metrics(parallel);
  REQUIRE(ma.size() == mb.size());  // metrics written once, by rank 0
  for (std::size_t i = 0; i < ma.size(); ++i) {
    CHECK(mb[i]["loss"].get<double>() == doctest::Approx(ma[i]["loss"].get<double>()).epsilon(1e-4));
    CHECK(mb[i]["grad_norm"].get<double>() == doctest::Approx(ma[i]["grad_norm"].get<double>()).epsilon(1e-3));
  }
  const Comparison c = compare_weights(checkpoint_tensors(single), checkpoint_tensors(parallel));
  CHECK(c.tensors > 0);
  MESSAGE(name << ": " << c.tensors << " tensors, max |w(2 ranks x 1) - w(1 x 2)| = " << c.max_diff);
  return c.max_diff;
}

// Only the reduction order differs (one GEMM over a batch of 2 against two of 1 summed by the
// all-reduce): losses and gradient norms agree to float rounding. AdamW magnifies that rounding
// where a gradient element is near zero (m / (sqrt(v) + eps) with eps = 1e-8 turns a 1e-9
// rounding difference into a visible fraction of a step), so the weights after 3 steps are
// compared in two ways:
//   - Adam's eps raised to 1e-4, where it no longer magnifies: max |dw| <= 1e-6 (measured:
//     UNet 1.2e-7 (also with prior preservation and accumulation), text encoder 3.0e-8, LoRA
//     2.0e-8: an ulp or two of the weights);
//   - the default eps: max |dw| <= 0.25 x lr, a quarter of one step's largest update (measured:
//     UNet 0.10 lr, text encoder 0.11 lr, prior preservation + accumulation 0.03 lr, LoRA
//     0.0008 lr).
constexpr double kRoundingTolerance = 1e-6;
constexpr double kStepFraction = 0.25;

void check_two_ranks_against_one_process(const test::ScratchDir& scratch, TrainingSettings s, const std::string& name) {
  const double lr = std::max(s.text_encoder.steps > 0 ? s.text_encoder.learning_rate : 0.0,
                             s.unet.steps > 0 ? s.unet.learning_rate : 0.0);
  CHECK(two_ranks_against_one_process(scratch, s, name) <= kStepFraction * lr);
  s.adam_epsilon = 1e-4;
  CHECK(two_ranks_against_one_process(scratch, s, name + "-eps1e-4") <= kRoundingTolerance);
}

}  // namespace

TEST_CASE("two ranks with batch 1 train what one process with batch 2 trains: UNet stage") {
  test::ScratchDir scratch("kiln-dist");
  check_two_ranks_against_one_process(scratch, tiny_settings(make_images(scratch)), "unet");
}

TEST_CASE("two ranks with batch 1 train what one process with batch 2 trains: text-encoder stage") {
  test::ScratchDir scratch("kiln-dist");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.text_encoder = {3, 1e-4};
  s.unet = {0, 1e-4};
  check_two_ranks_against_one_process(scratch, s, "text-encoder");
}

TEST_CASE("two ranks with batch 1 train what one process with batch 2 trains: LoRA, both stages") {
  test::ScratchDir scratch("kiln-dist");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.method = TrainingMethod::LoRA;
  s.lora_rank = 2;
  s.lora_alpha = 1;
  s.lora_text_encoder = true;
  s.text_encoder = {2, 1e-3};
  s.unet = {3, 1e-3};
  check_two_ranks_against_one_process(scratch, s, "lora");
}

TEST_CASE("two ranks with batch 1 train what one process with batch 2 trains: prior preservation, accumulation") {
  test::ScratchDir scratch("kiln-dist");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.class_prompt = "a photo of a person";  // rank 0 generates the class images, the other waits
  s.num_class_images = 3;
  s.sample_steps = 2;
  s.gradient_accumulation = 2;
  s.unet = {2, 1e-4};
  check_two_ranks_against_one_process(scratch, s, "prior-accumulation");
}

TEST_CASE("a crashed two-rank run stops the other rank naming it, and resumes to the uninterrupted weights") {
  test::ScratchDir scratch("kiln-dist");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.text_encoder = {2, 1e-4};
  s.unet = {4, 1e-4};

  const fs::path straight = scratch / "straight";
  create_session(straight, s);
  for (const auto& r : run_ranks(straight, 2)) REQUIRE_MESSAGE(!r.error, r.error_text);

  // Rank 0 fails after step 5 (the last checkpoint is step 4): rank 1's next exchange finds it
  // gone and stops with a message naming it.
  const fs::path crashed = scratch / "crashed";
  create_session(crashed, s);
  std::vector<TrainingCallbacks> cb(2);
  cb[0].on_step = [](const StepMetrics& m) {
    if (m.step == 5) throw CrashAt();
  };
  const auto failed = run_ranks(crashed, 2, true, cb);
  REQUIRE(failed[0].error);
  CHECK_THROWS_AS(std::rethrow_exception(failed[0].error), CrashAt);
  REQUIRE(failed[1].error);
  CHECK_THROWS_AS(std::rethrow_exception(failed[1].error), DistributedError);
  CHECK_MESSAGE(failed[1].error_text.find("rank 0") != std::string::npos, failed[1].error_text);
  MESSAGE("rank 1 said: " << failed[1].error_text);
  REQUIRE(latest_checkpoint(crashed));
  CHECK(latest_checkpoint(crashed)->global_step == 4);

  const auto resumed = run_ranks(crashed, 2);
  for (const auto& r : resumed) REQUIRE_MESSAGE(!r.error, r.error_text);
  CHECK(metrics(crashed).size() == 6);
  const auto want = checkpoint_tensors(straight);
  const auto got = checkpoint_tensors(crashed);
  std::size_t compared = 0;
  for (const auto& [name, t] : want) {
    if (name == "rng.generator") continue;
    REQUIRE_MESSAGE(got.count(name), name);
    CHECK_MESSAGE(torch::equal(t, got.at(name)), name);
    ++compared;
  }
  CHECK(compared > 100);
}

TEST_CASE("a hung rank makes the other stop after the timeout, naming it") {
  test::ScratchDir scratch("kiln-dist");
  const TrainingSettings s = tiny_settings(make_images(scratch));
  const fs::path session = scratch / "session";
  create_session(session, s);
  // Rank 1 stalls (alive: its heartbeat goes on) before its first step until rank 0 has given up.
  std::vector<TrainingCallbacks> cb(2);
  cb[1].on_log = [](std::string_view m) {
    if (!m.starts_with("stage unet")) return;
    while (!g_rank0_done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  const auto results = run_ranks(session, 2, true, cb, std::chrono::seconds(10));
  REQUIRE(results[0].error);
  CHECK_THROWS_AS(std::rethrow_exception(results[0].error), DistributedError);
  CHECK_MESSAGE(results[0].error_text.find("rank 1 did not reach the gradient all-reduce within the timeout of 10 s") !=
                    std::string::npos,
                results[0].error_text);
  MESSAGE("rank 0 said: " << results[0].error_text);
  REQUIRE(results[1].error);  // it woke up to find rank 0 gone
  CHECK_THROWS_AS(std::rethrow_exception(results[1].error), DistributedError);
  CHECK_FALSE(latest_checkpoint(session));
}

TEST_CASE("a resumed run may change the number of ranks") {
  test::ScratchDir scratch("kiln-dist");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.unet = {4, 1e-4};
  s.save_every = 2;

  // Two ranks for the first two steps, then one process (batch 1: the global batch halves).
  const fs::path session = scratch / "session";
  TrainingSettings first = s;
  first.unet.steps = 2;
  create_session(session, first);
  for (const auto& r : run_ranks(session, 2)) REQUIRE_MESSAGE(!r.error, r.error_text);
  write_session_settings(session, s);
  std::vector<std::string> logged;
  TrainingCallbacks cb;
  cb.on_log = [&](std::string_view m) { logged.emplace_back(m); };
  const TrainingOutcome b = run_training(session, {}, cb);
  CHECK(b.finished);
  CHECK(metrics(session).size() == 4);
  CHECK(std::any_of(logged.begin(), logged.end(), [](const std::string& m) {
    return m.find("global batch changes from 2 to 1") != std::string::npos;
  }));

  // The same again gives the same weights: the re-sharding is deterministic.
  const fs::path again = scratch / "again";
  create_session(again, first);
  for (const auto& r : run_ranks(again, 2)) REQUIRE_MESSAGE(!r.error, r.error_text);
  write_session_settings(again, s);
  run_training(again);
  const auto want = checkpoint_tensors(session), got = checkpoint_tensors(again);
  for (const auto& [name, t] : want) {
    if (trained_weight(name)) CHECK_MESSAGE(torch::equal(t, got.at(name)), name);
  }
}

TEST_CASE("several ranks need a data-parallel session") {
  test::ScratchDir scratch("kiln-dist");
  TrainingSettings s = tiny_settings(make_images(scratch));
  s.data_parallel = false;
  const fs::path session = scratch / "session";
  create_session(session, s);
  const auto results = run_ranks(session, 2);
  for (const auto& r : results) {
    REQUIRE(r.error);
    CHECK_THROWS_AS(std::rethrow_exception(r.error), InvalidRequestError);
  }
}

TEST_CASE("the launchers' environment is read") {
  auto set = [](const char* name, const char* value) {
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  };
  for (const char* n : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE"}) {
    set(n, nullptr);
  }
  CHECK_FALSE(distributed_from_environment());
  set("WORLD_SIZE", "4");
  set("RANK", "3");
  set("LOCAL_RANK", "1");
  CHECK_THROWS_WITH_AS(distributed_from_environment(), doctest::Contains("MASTER_ADDR"), InvalidRequestError);
  set("MASTER_ADDR", "node-a");
  set("MASTER_PORT", "29400");
  auto d = distributed_from_environment();
  REQUIRE(d);
  CHECK(d->world_size == 4);
  CHECK(d->rank == 3);
  CHECK(d->local_rank == 1);
  CHECK(d->master_addr == "node-a");
  CHECK(d->master_port == 29400);
  CHECK(d->rank0_hosts_store);
  set("TORCHELASTIC_USE_AGENT_STORE", "True");
  CHECK_FALSE(distributed_from_environment()->rank0_hosts_store);
  set("RANK", "4");
  CHECK_THROWS_WITH_AS(distributed_from_environment(), doctest::Contains("rank"), InvalidRequestError);
  set("RANK", "x");
  CHECK_THROWS_WITH_AS(distributed_from_environment(), doctest::Contains("RANK"), InvalidRequestError);
  for (const char* n : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE"}) {
    set(n, nullptr);
  }
}
