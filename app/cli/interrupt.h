#pragma once
// Ctrl-C for kiln-cli commands that can stop part-way (generate, control detect). While an
// InterruptWatcher lives, SIGINT only sets a flag (all a signal handler may safely do); a watcher
// thread turns it into a stop request on token(), which the preprocessors
// (PreprocessorContext::stop) and the pipeline check between their stages and steps. The command
// then says what was cancelled and exits with kCancelledExit. A second Ctrl-C quits at once, for
// work that checks no token (loading a model). The default handler comes back on destruction.

#include <atomic>
#include <stop_token>
#include <string>
#include <thread>

namespace kiln::cli {

// The shell's code for "ended by SIGINT" (128 + 2); every cancelled kiln-cli command exits with it.
inline constexpr int kCancelledExit = 130;

class InterruptWatcher {
 public:
  // `command` ("kiln-cli generate") prefixes the note printed when Ctrl-C is seen.
  explicit InterruptWatcher(std::string command);
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  std::stop_token token() const { return mStop.get_token(); }
  bool stopRequested() const { return mStop.stop_requested(); }

 private:
  std::string mCommand;
  std::stop_source mStop;
  std::jthread mWatcher;
};

}  // namespace kiln::cli
