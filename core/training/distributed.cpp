#include "training/distributed.h"

// c10d's Gloo process group is compiled into libtorch_cpu.so; its header needs gloo's headers
// (Debian's libgloo-dev: only declarations are used from them, the code is LibTorch's).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

#include "training/distributed_nccl.h"

namespace kiln::training {

namespace {

constexpr std::int64_t kBucketBytes = 25ll << 20;  // DDP's default bucket size
constexpr auto kHeartbeat = std::chrono::milliseconds(500);

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

int env_int(const char* name, int fallback) {
  const std::string text = env(name);
  if (text.empty()) return fallback;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || v < 0 || v > 1 << 30) {
    throw InvalidRequestError("the environment variable " + std::string(name) + " must be a number, got '" + text + "'");
  }
  return static_cast<int>(v);
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::string key_entered(int rank) { return "kiln/entered/" + std::to_string(rank); }
std::string key_alive(int rank) { return "kiln/alive/" + std::to_string(rank); }

std::vector<std::uint8_t> bytes_of(std::int64_t v) {
  const std::string s = std::to_string(v);
  return {s.begin(), s.end()};
}

std::int64_t number_of(const std::vector<std::uint8_t>& bytes) {
  return std::stoll(std::string(bytes.begin(), bytes.end()));
}

std::string seconds_text(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

}  // namespace

std::optional<DistributedSettings> distributed_from_environment() {
  if (env("WORLD_SIZE").empty()) return std::nullopt;
  DistributedSettings s;
  s.world_size = env_int("WORLD_SIZE", 1);
  s.rank = env_int("RANK", 0);
  s.local_rank = env_int("LOCAL_RANK", s.rank);
  if (s.world_size > 1) {
    if (env("MASTER_ADDR").empty() || env("MASTER_PORT").empty()) {
      throw InvalidRequestError("WORLD_SIZE is " + std::to_string(s.world_size) +
                                " but MASTER_ADDR or MASTER_PORT is not set",
                                "set both to the address and a free port of the rank 0 machine (torchrun does)");
    }
  }
  if (!env("MASTER_ADDR").empty()) s.master_addr = env("MASTER_ADDR");
  s.master_port = env_int("MASTER_PORT", s.master_port);
  const std::string agent = env("TORCHELASTIC_USE_AGENT_STORE");
  s.rank0_hosts_store = !(agent == "True" || agent == "true" || agent == "1");
  validate_distributed(s);
  return s;
}

void validate_distributed(const DistributedSettings& s) {
  if (s.world_size < 1) throw InvalidRequestError("the world size must be 1 or more, got " + std::to_string(s.world_size));
  if (s.rank < 0 || s.rank >= s.world_size) {
    throw InvalidRequestError("the rank must be 0.." + std::to_string(s.world_size - 1) + ", got " + std::to_string(s.rank));
  }
  if (s.local_rank < 0) throw InvalidRequestError("the local rank must be 0 or more");
  if (s.master_port < 1 || s.master_port > 65535) {
    throw InvalidRequestError("MASTER_PORT must be 1..65535, got " + std::to_string(s.master_port));
  }
  if (s.timeout.count() <= 0) throw InvalidRequestError("the distributed timeout must be positive");
}

struct ProcessGroup::Impl {
  DistributedSettings settings;
  torch::Device device{torch::kCPU};
  std::string backend_name;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  std::int64_t entered = 0;  // collectives this rank entered
  std::jthread heartbeat;

  // The rendezvous connection (`join`: counted in, and rank 0's store waits for all), or one
  // more connection of this rank (heartbeat, diagnosis).
  c10d::TCPStoreOptions store_options(bool server, bool join) const {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(settings.master_port);
    o.isServer = server;
    if (join) o.numWorkers = static_cast<std::size_t>(settings.world_size);
    o.waitWorkers = join;
    o.timeout = settings.timeout;
    return o;
  }

  void enter() {
    ++entered;
    store->set(key_entered(settings.rank), bytes_of(entered));
  }

  // Which rank made the collective `what` fail, asked of the store.
  [[noreturn]] void fail(const std::string& what, const std::string& cause) {
    const std::string where = "data-parallel training (rank " + std::to_string(settings.rank) + " of " +
                              std::to_string(settings.world_size) + "): ";
    std::string verdict;
    try {
      c10d::TCPStoreOptions o = store_options(false, false);
      o.timeout = std::chrono::seconds(2);
      auto probe = c10::make_intrusive<c10d::TCPStore>(settings.master_addr, o);
      auto read_all = [&](auto key_of) {
        std::map<int, std::int64_t> out;
        for (int r = 0; r < settings.world_size; ++r) {
          if (r == settings.rank) continue;
          out[r] = probe->check({key_of(r)}) ? number_of(probe->get(key_of(r))) : -1;
        }
        return out;
      };
      const auto beats = read_all(key_alive);
      std::this_thread::sleep_for(kHeartbeat * 3);
      const auto beats_later = read_all(key_alive);
      std::vector<int> dead;
      for (const auto& [r, beat] : beats) {
        if (beats_later.at(r) == beat) dead.push_back(r);
      }
      const auto entered_by = read_all(key_entered);
      std::vector<int> behind;
      for (const auto& [r, n] : entered_by) {
        if (n < entered && std::find(dead.begin(), dead.end(), r) == dead.end()) behind.push_back(r);
      }
      auto list = [](const std::vector<int>& ranks) {
        std::string s = ranks.size() == 1 ? "rank " : "ranks ";
        for (std::size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
        return s;
      };
      if (!dead.empty()) {
        verdict = list(dead) + " stopped responding (the process died, was killed or is frozen)";
      } else if (!behind.empty()) {
        verdict = list(behind) + " did not reach the " + what + " within the timeout of " +
                  seconds_text(settings.timeout) + " (hung or far slower)";
      } else {
        verdict = "the " + what + " failed on another rank";
      }
    } catch (const std::exception&) {
      verdict = settings.rank0_hosts_store
                    ? "rank 0, which hosts the rendezvous store at " + settings.master_addr + ":" +
                          std::to_string(settings.master_port) + ", is gone"
                    : "the rendezvous store at " + settings.master_addr + ":" + std::to_string(settings.master_port) +
                          " is gone (the launcher or rank 0 stopped)";
    }
    std::string detail = cause;
    if (const auto nl = detail.find('\n'); nl != std::string::npos) detail.resize(nl);
    throw DistributedError(where + verdict + "; training stopped (" + what + ": " + detail + ")",
                           "the last checkpoint, if any, is kept: continue with --resume (also with another number of ranks)");
  }

  void run(const std::string& what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
    try {
      enter();
      auto work = start();
      if (!work->wait(settings.timeout)) fail(what, "timed out");
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      fail(what, e.what());
    }
  }
};

ProcessGroup::ProcessGroup(const DistributedSettings& settings) : impl_(std::make_unique<Impl>()) {
  validate_distributed(settings);
  Impl& d = *impl_;
  d.settings = settings;
  const bool server = settings.rank == 0 && settings.rank0_hosts_store;
  try {
    d.store = c10::make_intrusive<c10d::TCPStore>(settings.master_addr, d.store_options(server, true));
    // The store is reached: those that fail from here on are ranks, not the rendezvous.
    d.store->set(key_alive(settings.rank), bytes_of(0));
    d.store->set(key_entered(settings.rank), bytes_of(0));
    // Rank 0 is here, so whatever it prepared before joining (the session) is there. (A store
    // of a launcher's agent is up before any rank: its join says nothing of rank 0.)
    if (settings.rank == 0) {
      d.store->set("kiln/rank0", bytes_of(1));
    } else {
      d.store->wait({"kiln/rank0"}, settings.timeout);
    }
  } catch (const std::exception& e) {
    std::string detail = e.what();
    if (const auto nl = detail.find('\n'); nl != std::string::npos) detail.resize(nl);
    throw DistributedError("data-parallel training: rank " + std::to_string(settings.rank) +
                               " could not join the rendezvous at " + settings.master_addr + ":" +
                               std::to_string(settings.master_port) + " within " + seconds_text(settings.timeout) +
                               " (" + detail + ")",
                           "start all " + std::to_string(settings.world_size) +
                               " ranks with the same MASTER_ADDR and MASTER_PORT (a free port on rank 0's machine)");
  }
}

void ProcessGroup::connect(torch::Device device) {
  Impl& d = *impl_;
  const DistributedSettings& settings = d.settings;
  d.device = device;
  try {
    if (device.is_cuda()) {
      d.backend = make_nccl_backend(d.store, settings.rank, settings.world_size, settings.timeout, device);
      d.backend_name = "nccl";
    } else {
      auto options = c10d::ProcessGroupGloo::Options::create(settings.timeout);
      const std::string ifname = env("GLOO_SOCKET_IFNAME");
      if (!ifname.empty()) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      } else if (is_loopback(settings.master_addr)) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      d.backend = c10::make_intrusive<c10d::ProcessGroupGloo>(d.store, settings.rank, settings.world_size, options);
      d.backend_name = "gloo";
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string detail = e.what();
    if (const auto nl = detail.find('\n'); nl != std::string::npos) detail.resize(nl);
    throw DistributedError("data-parallel training: rank " + std::to_string(settings.rank) +
                           " could not connect to the other ranks (" + detail + ")");
  }
  // The heartbeat that tells a dead rank from a hung one; its own connection to the store.
  d.heartbeat = std::jthread([settings, options = d.store_options(false, false)](std::stop_token stop) {
    try {
      auto client = c10::make_intrusive<c10d::TCPStore>(settings.master_addr, options);
      for (std::int64_t beat = 1; !stop.stop_requested(); ++beat) {
        client->set(key_alive(settings.rank), bytes_of(beat));
        for (int i = 0; i < 10 && !stop.stop_requested(); ++i) std::this_thread::sleep_for(kHeartbeat / 10);
      }
    } catch (const std::exception&) {
      // The store is gone (rank 0 ended): the next collective says so.
    }
  });
}

ProcessGroup::~ProcessGroup() {
  impl_->heartbeat.request_stop();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
}

int ProcessGroup::rank() const { return impl_->settings.rank; }
int ProcessGroup::world_size() const { return impl_->settings.world_size; }
const std::string& ProcessGroup::backend() const { return impl_->backend_name; }

void ProcessGroup::average_gradients(const NamedParameters& parameters) {
  Impl& d = *impl_;
  torch::NoGradGuard no_grad;
  // Buckets of same-typed gradients on one device, in the parameters' order (the same on every rank).
  std::vector<std::vector<torch::Tensor>> buckets;
  std::int64_t bucket_bytes = 0;
  for (const auto& [name, p] : parameters) {
    torch::Tensor g = p.grad();
    if (!g.defined()) continue;  // unused by the graph, which is the same on every rank
    const std::int64_t bytes = g.numel() * static_cast<std::int64_t>(g.element_size());
    const bool fits = !buckets.empty() && bucket_bytes + bytes <= kBucketBytes &&
                      buckets.back().front().scalar_type() == g.scalar_type() &&
                      buckets.back().front().device() == g.device();
    if (!fits) {
      buckets.emplace_back();
      bucket_bytes = 0;
    }
    buckets.back().push_back(g);
    bucket_bytes += bytes;
  }
  const double scale = 1.0 / d.settings.world_size;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    std::vector<torch::Tensor> flat_parts;
    flat_parts.reserve(buckets[b].size());
    for (const auto& g : buckets[b]) flat_parts.push_back(g.reshape({-1}));
    std::vector<torch::Tensor> flat{torch::cat(flat_parts)};
    d.run("gradient all-reduce", [&] { return d.backend->allreduce(flat); });
    flat[0].mul_(scale);
    std::int64_t offset = 0;
    for (auto& g : buckets[b]) {
      g.copy_(flat[0].slice(0, offset, offset + g.numel()).view_as(g));
      offset += g.numel();
    }
  }
}

std::vector<double> ProcessGroup::sum(const std::vector<double>& values) {
  Impl& d = *impl_;
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kDouble).to(d.device)};
  d.run("exchange of the step's loss", [&] { return d.backend->allreduce(t); });
  const torch::Tensor cpu = t[0].cpu();
  return {cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel()};
}

void ProcessGroup::barrier() {
  Impl& d = *impl_;
  // A barrier is an all-reduce of one number: the same failure handling, and NCCL's barrier
  // would guess a device.
  std::vector<torch::Tensor> t{torch::zeros({1}, torch::TensorOptions().dtype(torch::kFloat).device(d.device))};
  d.run("barrier", [&] { return d.backend->allreduce(t); });
}

}  // namespace kiln::training
