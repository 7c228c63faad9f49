// Owns the rig's output lines and, on every exit path, puts P12 and RESET inactive before anything is released.
#pragma once

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

 private:
  class Guarded;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Guarded>> lines_;  // kept sorted by priority
  bool released_ = false;
  EmergencyHook hook_;
};

}  // namespace bootrig
