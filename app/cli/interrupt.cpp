#include "cli/interrupt.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace kiln::cli {

namespace {

std::atomic<int> g_interrupts{0};

extern "C" void on_interrupt(int) {
  // Only async-signal-safe work here: count, and quit outright on the second Ctrl-C.
  if (g_interrupts.fetch_add(1) >= 1) _exit(kCancelledExit);
}

}  // namespace

InterruptWatcher::InterruptWatcher(std::string command) : mCommand(std::move(command)) {
  g_interrupts.store(0);
  std::signal(SIGINT, on_interrupt);
  mWatcher = std::jthread([this](std::stop_token done) {
    while (!done.stop_requested()) {
      if (g_interrupts.load() > 0) {
        std::fprintf(stderr, "\n%s: interrupted; stopping (Ctrl-C again quits at once)\n", mCommand.c_str());
        mStop.request_stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

InterruptWatcher::~InterruptWatcher() {
  mWatcher.request_stop();
  mWatcher.join();
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace kiln::cli
