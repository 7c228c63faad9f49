// Owns the rig's output lines and, on every exit path, puts P12 and RESET inactive before anything is released.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bootrig/core/signals.hpp"
#include "bootrig/hw/gpio.hpp"

namespace bootrig {

// Every output line bootrig drives is adopted here. Callers get a guarded handle; the real line stays owned by
// the SafeState so nothing above can release it early. On destruction (normal return or exception), and from
// the signal watcher on SIGINT/SIGTERM, every line is set inactive in adoption priority order (P12 and RESET
// first) and later set() calls are refused, so a half-finished step cannot re-assert a pin after the release.
class SafeState {
 public:
  SafeState();
  ~SafeState();
  SafeState(const SafeState&) = delete;
  SafeState& operator=(const SafeState&) = delete;

  // Lower priority numbers are released first; use 0 for safeboot and reset.
  DigitalOutput& adopt(std::string role, std::unique_ptr<DigitalOutput> line, int priority);

  // Thread-safe, idempotent, never throws. Each line is set inactive, errors are logged and skipped.
  void release_all() noexcept;
  bool released() const;

  // The signal watcher's release: it must never wait on a main thread stuck inside a line operation (an ioctl
  // that does not return holds the lock), or neither the release nor the watchdog's exit would happen. When
  // the lock does not come within `wait`, the release is left pending: the stuck operation releases every
  // line the moment it returns, and if it never does, the watchdog ends the process and the kernel frees the
  // line requests (docs/reliability.md says what the pins then do). Returns whether the lines were released
  // now.
  bool release_from_watcher(Duration wait) noexcept;

  // A GPIO line operation is one ioctl of microseconds; one still running after this is stuck.
  static constexpr milliseconds kStuckLineOperation{500};

 private:
  class Guarded;
  void release_locked() noexcept;
  mutable std::timed_mutex mutex_;
  std::atomic<bool> release_pending_{false};
  std::vector<std::unique_ptr<Guarded>> lines_;  // kept sorted by priority
  bool released_ = false;
  EmergencyHook hook_;
};

}  // namespace bootrig
