// Monotonic time for the whole rig: one clock, explicit deadlines, no bare sleeps in logic.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace bootrig {

// steady_clock is CLOCK_MONOTONIC on Linux, the clock the kernel stamps GPIO edge events with, so pin
// changes, LED edges and serial bytes all land on one timeline without conversion.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

inline TimePoint now() { return Clock::now(); }

// Nanoseconds since the monotonic epoch (boot), the unit events are written in.
inline std::int64_t to_ns(TimePoint t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}
inline TimePoint from_ns(std::int64_t ns) { return TimePoint(std::chrono::duration_cast<Duration>(nanoseconds(ns))); }
inline TimePoint from_timespec(const timespec& ts) {
  return from_ns(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}
inline double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A point in time after which a wait gives up. Every blocking call in bootrig takes one.
class Deadline {
 public:
  static Deadline after(Duration d) { return Deadline(now() + d, false); }
  static Deadline at(TimePoint t) { return Deadline(t, false); }
  static Deadline never() { return Deadline(TimePoint::max(), true); }

  bool is_never() const { return never_; }
  TimePoint when() const { return when_; }
  bool expired(TimePoint t = now()) const { return !never_ && t >= when_; }
  Duration remaining(TimePoint t = now()) const {
    if (never_) return Duration::max();
    return t >= when_ ? Duration::zero() : when_ - t;
  }
  // The earlier of two deadlines: a step's own limit inside the caller's.
  Deadline min(const Deadline& other) const {
    if (never_) return other;
    if (other.never_) return *this;
    return when_ <= other.when_ ? *this : other;
  }
  // For ppoll(): nullptr-equivalent (never) is reported through is_never().
  timespec remaining_timespec(TimePoint t = now()) const {
    auto ns = std::chrono::duration_cast<nanoseconds>(remaining(t)).count();
    return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  }

 private:
  Deadline(TimePoint when, bool never) : when_(when), never_(never) {}
  TimePoint when_;
  bool never_;
};

// Waits until the deadline or until bootrig is interrupted (then throws Interrupted). The only way
// logic may pause: it wakes at once on Ctrl-C instead of finishing a sleep.
void wait_until(Deadline deadline);
inline void wait_for(Duration d) { wait_until(Deadline::after(d)); }

}  // namespace bootrig
