// Turns SIGINT, SIGTERM and SIGHUP into an interruption, and runs emergency hooks (releasing P12 and RESET)
// at once from a watcher thread, even if the main thread is stuck.
#pragma once

#include <functional>

#include "bootrig/core/time.hpp"

namespace bootrig {

// Lives for the whole command (created in main's call to run_cli). While it lives:
// - the first signal requests interruption: every wait throws Interrupted and the command unwinds;
// - the watcher thread runs the emergency hooks immediately, then gives the main thread `grace` to finish
//   unwinding before it ends the process with exit code 3;
// - a second signal ends the process at once (after the hooks).
class SignalHandling {
 public:
  explicit SignalHandling(Duration grace = seconds(5));
  ~SignalHandling();
  SignalHandling(const SignalHandling&) = delete;
  SignalHandling& operator=(const SignalHandling&) = delete;
};

// An emergency hook runs on the watcher thread when a signal arrives, and must be thread-safe and not throw.
// Registration is RAII: the hook is removed when the returned object dies.
class EmergencyHook {
 public:
  explicit EmergencyHook(std::function<void()> fn);
  ~EmergencyHook();
  EmergencyHook(const EmergencyHook&) = delete;
  EmergencyHook& operator=(const EmergencyHook&) = delete;

 private:
  int id_;
};

// Runs every registered hook (also used by the watcher); safe to call more than once.
void run_emergency_hooks() noexcept;

}  // namespace bootrig
