// Turns photodiode edges into LED patterns (heartbeat, safe-boot windows, ...) with measured timings.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/hw/gpio.hpp"
#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

enum class LedPattern : std::uint8_t {
  unknown,           // not (yet) recognisable: too few pulses, or between two patterns
  dark,              // off for longer than any pattern stays off
  steady_on,         // on for longer than any pattern stays on (solid red on a fatal error)
  heartbeat,         // 80 ms on / 3920 ms off
  safeboot_window1,  // 500 / 500: P12 held, current image
  safeboot_window2,  // 250 / 250: previous image
  safeboot_final,    // 100 / 100 for 1.5 s: factory image
  error_flash,       // 50 / 50: mperror_signal_error
};
const char* to_string(LedPattern p);

// A blinking pattern's nominal on and off times.
struct LedPatternSpec {
  LedPattern pattern;
  Duration on;
  Duration off;
};

// How the decoder judges; everything derives from the rig's TimingProfile by default.
struct LedDecoderSettings {
  std::vector<LedPatternSpec> patterns;
  double tolerance = 0.2;        // a measured half-period within nominal * (1 +- tolerance) matches
  Duration glitch{};             // an on or off pulse shorter than this is photodiode bounce: dropped
  Duration dark_after{};         // off this long with no pattern: dark
  Duration steady_after{};       // on this long with no pattern: steady on
  int confirm_half_periods = 2;  // matching on/off pulses in a row before a pattern is reported
  int max_missed_edges = 1;      // edges per pulse the photodiode may miss and still match
  // How late an edge may be handed over after its kernel timestamp: live decisions are made for
  // now() - edge_latency so an edge still on its way cannot be ruled out too early.
  Duration edge_latency = milliseconds(2);

  // patterns from the profile's heartbeat, window and error timings; tolerance from
  // led_tolerance_percent; glitch = tolerance * the shortest half-period; dark_after and steady_after
  // just beyond the longest off and on time any pattern has.
  static LedDecoderSettings from_profile(const TimingProfile& profile);
};

// One stretch of time showing one pattern, with what was measured during it.
struct LedMeasurement {
  LedPattern pattern = LedPattern::unknown;
  TimePoint start{};             // the LED edge the pattern began with (or when watching began)
  std::optional<TimePoint> end;  // the edge (or last edge) where it stopped; nullopt while it lasts
  TimePoint detected{};          // when the edges first proved it: start + the evidence needed
  int half_periods = 0;          // on and off pulses seen, including ones across missed edges
  int periods = 0;               // complete on+off cycles: half_periods / 2
  int missed_edges = 0;          // edges the photodiode must have missed (same direction twice)
  Duration period_mean{}, period_min{}, period_max{};  // rising edge to rising edge
  Duration on_mean{}, off_mean{};
  double duty_cycle = 0.0;       // on_mean / (on_mean + off_mean); 0 when not measured
  std::uint64_t generation = 0;  // its number in the order spans started (see LedDecoder::generation)

  Duration length(TimePoint now_or_end) const { return end.value_or(now_or_end) - start; }
};
nlohmann::json to_json(const LedMeasurement& m);

// What a waiter gets: the pattern showing now and the one before it.
struct LedObservation {
  LedMeasurement current;
  std::optional<LedMeasurement> previous;
  TimePoint reported{};  // clock time the decoder answered (for latency measurements)
};
// The deadline passed: what was showing then, and what was being waited for.
struct LedTimeout {
  std::string waited_for;  // "safeboot_window2", "a change from heartbeat"
  LedMeasurement current;
  std::string describe() const;
};
using LedResult = Result<LedObservation, LedTimeout>;

// Live decoder, thread-safe: one thread feeds edges (LedWatcher), others wait for patterns.
// Decisions depend only on the edges and the times passed to advance(), never on when the calls
// happen, so a synthetic edge train decodes the same way offline (feed + advance) as live.
//
// A pattern is reported once confirm_half_periods whole pulses in a row match it (a pulse in progress
// never confirms: it may yet turn out too long, and a report that has to be taken back would mislead a
// scenario timing a pin release on it). It ends at the start of the first pulse that does not match,
// or when a pulse lasts longer than the pattern allows. Two edges in the same direction mean the
// photodiode missed one in between; such a stretch still matches when it fits whole periods.
class LedDecoder {
 public:
  using Listener = std::function<void(const LedMeasurement& span, bool started)>;

  explicit LedDecoder(LedDecoderSettings settings);
  explicit LedDecoder(const TimingProfile& profile) : LedDecoder(LedDecoderSettings::from_profile(profile)) {}

  // Starts (or restarts) decoding at `origin` with the LED's level then, when known.
  void start(TimePoint origin, std::optional<Level> level);
  void feed(const LineEvent& edge);
  // Lets time pass without edges: patterns time out, dark and steady on are recognised.
  void advance(TimePoint t);
  // Tells waiters the edge source broke (they fail at once instead of at their deadline).
  void fail(std::string why);

  // Called (outside the decoder's lock) whenever a span starts or ends; for the timeline.
  void set_listener(Listener listener);

  // The pattern showing as of the last edge or advance() (waiters never move the clock themselves: only
  // the edge source knows that no edge is still on its way).
  LedMeasurement current() const;
  // When the next decision falls due if no edge comes (a pattern timing out, dark, steady on, a held
  // edge passing the glitch window): the edge source should call advance() by then.
  std::optional<TimePoint> next_decision() const;
  // Closed spans, oldest first (zero-length unknown gaps are left out).
  std::vector<LedMeasurement> history() const;
  // The edges committed (past the glitch window) at or after `t`, oldest first; the latest kRecentEdges at
  // most. For instants the patterns do not keep: when the bootloader stopped blinking after a release.
  std::vector<LineEvent> edges_since(TimePoint t) const;
  static constexpr std::size_t kRecentEdges = 256;
  // Counts span starts; a waiter can remember it and wait for the next change.
  std::uint64_t generation() const;

  // Returns once `p` is showing (at once if it already is).
  LedResult wait_for_pattern(LedPattern p, Deadline deadline);
  // Returns once something other than `from` is showing; with skip_unknown, the unknown gap between two
  // patterns does not count as a change.
  LedResult wait_for_change(LedPattern from, Deadline deadline, bool skip_unknown = true);
  // Returns once a span started after generation `since` and passes `accept`.
  LedResult wait_for(const std::function<bool(const LedMeasurement&)>& accept, std::uint64_t since,
                     std::string what, Deadline deadline);

  const LedDecoderSettings& settings() const { return s_; }

 private:
  struct Run {
    int half_periods = 0;
    TimePoint start{};
    double error = 0.0;
    int missed = 0;
    Duration on_sum{}, off_sum{};
    int on_n = 0, off_n = 0;
    Duration period_sum{}, period_min{}, period_max{};
    int period_n = 0;
    std::optional<TimePoint> last_rise;  // last real rising edge inside the run, for periods
  };
  struct Event {
    LedMeasurement span;
    bool started;
  };

  void advance_locked(TimePoint t);
  void timeouts_locked(TimePoint t);
  void commit_edge_locked(const LineEvent& e);
  void segment_locked(TimePoint start, TimePoint end, Level level, bool same_direction);
  void choose_locked(TimePoint decided);
  void begin_span_locked(LedPattern p, TimePoint start, TimePoint decided, int run_index);
  void end_span_locked(TimePoint end);
  void refresh_measurement_locked();
  std::optional<int> match(std::size_t i, Level level, Duration d, bool same_direction, double* error) const;
  Duration half(std::size_t i, Level level) const;
  std::optional<TimePoint> next_decision_locked() const;
  LedObservation observe_locked(const LedMeasurement& span) const;
  void flush_locked(std::unique_lock<std::mutex>& lock);

  LedDecoderSettings s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Listener listener_;
  std::vector<Event> events_;  // span starts and ends not yet handed to the listener

  bool started_ = false;
  TimePoint origin_{};
  TimePoint clock_{};  // latest time decisions were made for
  std::optional<Level> level_;
  std::optional<TimePoint> last_edge_;  // start of the pulse in progress
  std::optional<Edge> last_dir_;
  std::optional<LineEvent> pending_edge_;  // held back for `glitch` in case it is bounce
  std::deque<LineEvent> recent_edges_;     // committed edges, the latest kRecentEdges

  std::vector<Run> runs_;
  int current_run_ = -1;  // index into patterns while current_ is a blinking pattern
  LedMeasurement current_;
  std::vector<LedMeasurement> history_;
  std::uint64_t generation_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace bootrig
